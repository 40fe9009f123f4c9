//! Raw access to CPU tensors for the hand-written kernels (`cpu_conv`, `activations`).

use candle_core::{DType, Layout, Result, Storage, Tensor};

/// Whether `x` can take a CPU f32 fast path.
pub fn is_cpu_f32(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// The values of a contiguous f32 CPU tensor's storage (from `Tensor::storage_and_layout`).
pub fn cpu_slice<'a>(storage: &'a Storage, layout: &Layout) -> Result<&'a [f32]> {
    match storage {
        Storage::Cpu(cpu) => {
            let start = layout.start_offset();
            Ok(&cpu.as_slice::<f32>()?[start..start + layout.shape().elem_count()])
        }
        _ => candle_core::bail!("expected a tensor on the CPU"),
    }
}

/// An output buffer's pointer, shared by parallel tasks that each write a disjoint part of it.
#[derive(Clone, Copy)]
pub struct OutPtr(pub *mut f32);
// SAFETY: only used to write disjoint parts of one output buffer; every user says which part.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}
impl OutPtr {
    /// (A method, so closures capture the whole `Send + Sync` wrapper, not the raw field.)
    pub fn get(self) -> *mut f32 {
        self.0
    }
}
