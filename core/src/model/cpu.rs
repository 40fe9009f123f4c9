//! Raw access to CPU tensors for the hand-written kernels (`cpu_conv`, `activations`), and how
//! they share candle's CPU worker pool.

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

/// `rows` rows of `l` values → rows of `left + l + right`, zero at both ends, the middle
/// `act(x)` (LeakyReLU with `slope`, or a copy): a conv's padded input. Split over the pool
/// when large.
pub fn padded_activation(x: &[f32], rows: usize, l: usize, (left, right): (usize, usize), slope: Option<f32>, threads: usize) -> Vec<f32> {
    let lp = left + l + right;
    let mut xa: Vec<f32> = Vec::with_capacity(rows * lp);
    let ptr = OutPtr(xa.as_mut_ptr());
    let fill = |row: usize| {
        // SAFETY: each row of xa (inside its capacity) is written whole by exactly one call.
        let row_all = unsafe { std::slice::from_raw_parts_mut(ptr.get().add(row * lp), lp) };
        row_all[..left].fill(0.0);
        row_all[left + l..].fill(0.0);
        let dst = &mut row_all[left..left + l];
        let src = &x[row * l..(row + 1) * l];
        match slope {
            Some(s) => dst.iter_mut().zip(src).for_each(|(d, &v)| *d = if v >= 0.0 { v } else { v * s }),
            None => dst.copy_from_slice(src),
        }
    };
    if threads > 1 && rows * l >= 1 << 16 {
        chunked(rows, |range| range.for_each(fill));
    } else {
        (0..rows).for_each(fill);
    }
    // SAFETY: every row was written whole above.
    unsafe { xa.set_len(rows * lp) };
    xa
}

thread_local! {
    /// Set while this thread runs one task of [`each_alone`]: its kernels stay on this thread.
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Threads the CPU kernels may fan out over from this thread: candle's CPU worker pool (its
/// "barrier pool", the one its element-wise ops use) and the caller, or 1 inside a task of
/// [`each_alone`].
pub fn threads() -> usize {
    if ALONE.get() {
        1
    } else {
        candle_core::utils::barrier_pool().n_workers() + 1
    }
}

/// `f` over ranges covering `0..n` on candle's CPU worker pool, or as one range here inside a
/// task of [`each_alone`] (the pool is busy with that task and its siblings).
pub fn chunked<F: Fn(std::ops::Range<usize>) + Sync>(n: usize, f: F) {
    if ALONE.get() {
        if n > 0 {
            f(0..n);
        }
    } else {
        candle_core::utils::barrier_pool().execute_chunked(n, f);
    }
}

/// `f(i)` for every i in `0..n`, spread over candle's CPU worker pool, each call with its
/// kernels on its own thread ([`threads`] is 1 inside): for independent pieces of work too
/// small to split well (one attention head), run side by side instead of one after another.
/// Inside `f`, use only kernels that share the pool through [`chunked`], not candle's tensor
/// ops: those may call into the pool, which is busy with `f`'s siblings (from the calling
/// thread, a deadlock). Returns the first error any call gave (the others still run).
pub fn each_alone<F: Fn(usize) -> Result<()> + Sync>(n: usize, f: F) -> Result<()> {
    /// Puts the thread's flag back when its task ends, even by a panic.
    struct Alone(bool);
    impl Drop for Alone {
        fn drop(&mut self) {
            ALONE.set(self.0);
        }
    }
    let failed = std::sync::Mutex::new(None);
    chunked(n, |range| {
        let _alone = Alone(ALONE.replace(true));
        for i in range {
            if let Err(e) = f(i) {
                failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
            }
        }
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu_conv::{conv1d_slice, PackedWeights};

    /// Kernels inside [`each_alone`] run on their own thread and compute what they compute
    /// outside it; an error of one call comes back, the others still run.
    #[test]
    fn each_alone_runs_kernels_alone() {
        let (c_in, c_out, l) = (24, 40, 300);
        let x: Vec<f32> = (0..4 * c_in * l).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        let w: Vec<f32> = (0..c_out * c_in * 3).map(|i| ((i * 13 % 29) as f32 - 14.0) / 40.0).collect();
        let packed = PackedWeights::from_slice(&w, c_out, c_in, 3, true);
        let piece = |i: usize| conv1d_slice(&x[i * c_in * l..][..c_in * l], 1, l, &packed, None, 1, 1, Some(0.1), None);
        let want: Vec<Vec<f32>> = (0..4).map(|i| piece(i).unwrap()).collect();
        let got = std::sync::Mutex::new(vec![Vec::new(); 4]);
        let ran = std::sync::atomic::AtomicUsize::new(0);
        let result = each_alone(5, |i| {
            ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(threads(), 1, "kernels inside stay on this thread");
            if i == 4 {
                candle_core::bail!("piece {i} fails");
            }
            let y = piece(i)?;
            got.lock().unwrap()[i] = y;
            Ok(())
        });
        assert!(result.is_err_and(|e| e.to_string().contains("piece 4 fails")));
        assert_eq!(ran.into_inner(), 5);
        assert_eq!(got.into_inner().unwrap(), want, "the same bits alone as on the pool");
        assert_eq!(threads(), candle_core::utils::barrier_pool().n_workers() + 1, "the calling thread fans out again afterwards");
    }
}
