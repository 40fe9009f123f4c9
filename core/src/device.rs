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
