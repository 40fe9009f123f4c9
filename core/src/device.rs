//! Choosing where the model runs.

use candle_core::Device;

use crate::error::{Error, Result};

/// `"cpu"`, `"cuda"` or `"cuda:N"` → a device (the same one for the same GPU every time). CUDA
/// needs the `cuda` feature.
pub fn parse(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        cuda if cuda == "cuda" || cuda.starts_with("cuda:") => {
            let ordinal = match cuda.strip_prefix("cuda:") {
                Some(n) => n.parse::<usize>().map_err(|_| Error::invalid("device", format!("`{name}`: bad GPU index")))?,
                None => 0,
            };
            cuda_device(ordinal)
        }
        other => Err(Error::invalid("device", format!("`{other}` (expected cpu, cuda or cuda:N)"))),
    }
}

/// Makes `device`'s GPU context current on the calling thread (nothing on the CPU). cudarc
/// 0.19 frees a GPU tensor's memory on whatever thread drops it without making the context
/// current there; where none is, the free fails and the error is kept and returned by the
/// next GPU call on any thread. So a thread that drops GPU tensors without having computed on
/// that GPU calls this first: the engine's dispatcher, which ends jobs (and drops their
/// streams' caches) but never computes. On an H200, `bench-stream --device cuda` failed with
/// CUDA_ERROR_INVALID_CONTEXT at the first upload after a finished request, which fits this
/// (not yet re-run on a GPU).
pub fn bind_to_this_thread(device: &Device) {
    if !device.is_cpu() {
        // A stream synchronisation binds the context (and waits for nothing on a new thread).
        if let Err(e) = device.synchronize() {
            log::warn!("could not make the GPU's context current on this thread: {e}");
        }
    }
}

/// One candle device per GPU for the whole process, made on first use. candle treats two
/// `Device::new_cuda(0)` as different devices (an op mixing their tensors fails with a device
/// mismatch), and each makes its own cuBLAS and cuRAND handles and kernel cache: the engine's
/// device and a voice loaded with `parse` must be the same one.
#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static DEVICES: OnceLock<Mutex<HashMap<usize, Device>>> = OnceLock::new();
    let mut devices = DEVICES.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(device) = devices.get(&ordinal) {
        return Ok(device.clone());
    }
    let device = Device::new_cuda(ordinal)?;
    devices.insert(ordinal, device.clone());
    Ok(device)
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_ordinal: usize) -> Result<Device> {
    Err(Error::invalid("device", "this build has no CUDA support (rebuild with `--features cuda`)"))
}
