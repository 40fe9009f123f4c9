//! Choosing where the model runs.

use candle_core::Device;

use crate::error::{Error, Result};

/// `"cpu"`, `"cuda"` or `"cuda:N"` → a device. CUDA needs the `cuda` feature.
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

#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device> {
    Ok(Device::new_cuda(ordinal)?)
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_ordinal: usize) -> Result<Device> {
    Err(Error::invalid("device", "this build has no CUDA support (rebuild with `--features cuda`)"))
}
