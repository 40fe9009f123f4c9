//! A CPU kernel for the 1-D convolutions that dominate synthesis (decoder resblocks, flow WN).
//!
//! candle's CPU conv1d copies the whole input into an im2col buffer `[t, k·c_in]` (28 MB for one
//! conv of the decoder's last stage on 1.5 s of audio), multiplies, then transposes the result back.
//! Here the output is computed in blocks of time steps: each block gathers its shifted input rows
//! into a small, cache-resident `[c_in·k, block]` buffer whose row order matches the weight's own
//! `[c_out, c_in·k]` layout, seeds its output columns with bias and residual, and one matrix
//! product accumulates into them in place:
//!
//!   y[:, t] = bias + residual[:, t] + Σ_tap W[:, :, tap] · act(x)[:, t + tap·dilation − padding]
//!
//! The optional pre-activation (LeakyReLU) is applied while gathering, so a HiFi-GAN resblock step
//! is one pass instead of four tensor ops. Blocks run on candle's own CPU worker pool (the
//! "barrier pool" its element-wise ops use), with `Parallelism::None` inside each product, so the
//! model's parallel work shares one set of threads and nothing is oversubscribed; a sequence too
//! short for one block per thread is split by output rows instead.

use candle_core::{Device, Result, Tensor};
use gemm::Parallelism;

use super::cpu::{cpu_slice, OutPtr};

/// What to fuse around the convolution.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fused<'a> {
    /// LeakyReLU slope applied to the input first.
    pub pre_slope: Option<f32>,
    /// Added to the output (same shape as the output).
    pub residual: Option<&'a Tensor>,
}

/// Output columns per block: the block's column buffer `[c_in·k, block]` stays near 512 KB.
fn block_len(rows: usize) -> usize {
    ((128 * 1024) / rows).clamp(64, 4096) / 16 * 16
}

thread_local! {
    /// Each thread's column buffer, kept between calls so blocks do not allocate (and fault in
    /// fresh pages) every time.
    static COLS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `x` `[b, c_in, l]`, `weight` `[c_out, c_in, k]`, `bias` `[c_out]` → `[b, c_out, l_out]`,
/// stride 1, symmetric `padding`, `dilation`, one group.
pub fn conv1d(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, padding: usize, dilation: usize, fused: Fused<'_>) -> Result<Tensor> {
    let (b, c_in, l) = x.dims3()?;
    let (c_out, c_in_w, k) = weight.dims3()?;
    if c_in != c_in_w {
        candle_core::bail!("cpu_conv: input has {c_in} channels, weight expects {c_in_w}");
    }
    let span = dilation * (k - 1);
    if l + 2 * padding <= span {
        candle_core::bail!("cpu_conv: input of {l} frames is shorter than the kernel span");
    }
    let l_out = l + 2 * padding - span;
    if let Some(r) = fused.residual {
        if r.dims() != [b, c_out, l_out] {
            candle_core::bail!("cpu_conv: residual {:?} does not match output {:?}", r.dims(), [b, c_out, l_out]);
        }
    }

    let (x, weight) = (x.contiguous()?, weight.contiguous()?);
    let residual = fused.residual.map(Tensor::contiguous).transpose()?;
    let bias = match bias {
        Some(t) => t.to_vec1::<f32>()?,
        None => vec![0.0; c_out],
    };
    let (x_storage, x_layout) = x.storage_and_layout();
    let x = cpu_slice(&x_storage, x_layout)?;
    let (w_storage, w_layout) = weight.storage_and_layout();
    let w = cpu_slice(&w_storage, w_layout)?;
    let r_guard = residual.as_ref().map(|r| r.storage_and_layout());
    let res = r_guard.as_ref().map(|(s, l)| cpu_slice(s, l)).transpose()?;

    let mut out: Vec<f32> = Vec::with_capacity(b * c_out * l_out);
    let y = OutPtr(out.as_mut_ptr());
    // Tasks: (batch item, block of output columns, block of output rows). Column blocks are near
    // the cache-friendly size, their count a multiple of the thread count so no thread idles at
    // the end; a sequence too short for that is split by output rows instead.
    let pool = candle_core::utils::barrier_pool();
    let threads = pool.n_workers() + 1;
    let n_blocks = match l_out.div_ceil(block_len(c_in * k)) {
        1 => 1,
        n => n.next_multiple_of(threads),
    };
    let block = l_out.div_ceil(n_blocks);
    let n_blocks = l_out.div_ceil(block);
    let n_row_blocks = if b * n_blocks < threads { threads.min(c_out.div_ceil(16)) } else { 1 };
    let rows = c_out.div_ceil(n_row_blocks);

    let run = |task: usize, cols: &mut Vec<f32>| {
        let (bi, blk, rb) = (task / (n_blocks * n_row_blocks), (task / n_row_blocks) % n_blocks, task % n_row_blocks);
        let t0 = blk * block;
        let n = block.min(l_out - t0);
        let (r0, r1) = (rb * rows, ((rb + 1) * rows).min(c_out));
        let x = &x[bi * c_in * l..(bi + 1) * c_in * l];
        // cols[(i, tap), t] = act(x[i, t0 + t + tap·dilation − padding]), zero outside the input.
        cols.resize(c_in * k * n, 0.0);
        for i in 0..c_in {
            for tap in 0..k {
                let start = (t0 + tap * dilation) as isize - padding as isize;
                fill_shifted(&mut cols[(i * k + tap) * n..][..n], &x[i * l..(i + 1) * l], start, fused.pre_slope);
            }
        }
        let base = bi * c_out * l_out + t0;
        // SAFETY: this task alone writes rows r0..r1, columns t0..t0+n of batch item bi's
        // [c_out, l_out] output, inside `out`'s capacity; lhs is rows r0..r1 of the contiguous
        // [c_out, c_in·k] weight and rhs the [c_in·k, n] `cols`.
        unsafe {
            for o in r0..r1 {
                let dst = std::slice::from_raw_parts_mut(y.get().add(base + o * l_out), n);
                match res {
                    Some(r) => dst.iter_mut().zip(&r[base + o * l_out..][..n]).for_each(|(d, &r)| *d = r + bias[o]),
                    None => dst.fill(bias[o]),
                }
            }
            gemm::gemm(
                r1 - r0,
                n,
                c_in * k,
                y.get().add(base + r0 * l_out),
                1,
                l_out as isize,
                true,
                w.as_ptr().add(r0 * c_in * k),
                1,
                (c_in * k) as isize,
                cols.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    };
    let tasks = b * n_blocks * n_row_blocks;
    let run_range = |range: std::ops::Range<usize>| COLS.with(|cols| range.for_each(|t| run(t, &mut cols.borrow_mut())));
    if tasks > 1 && threads > 1 {
        pool.execute_chunked(tasks, run_range);
    } else {
        run_range(0..tasks);
    }
    // SAFETY: the tasks above initialised all b·c_out·l_out elements.
    unsafe { out.set_len(b * c_out * l_out) };
    Tensor::from_vec(out, (b, c_out, l_out), &Device::Cpu)
}

/// A transposed conv's weights rearranged for the CPU: output phase r of stride s is an ordinary
/// conv over the input, so all phases are one [`conv1d`] with `c_out·s` output rows.
///
/// With n = q·s + r, `y[o, n] = Σ_i Σ_j x[i, q − j] · W[i, o, j·s + r]` (0 ≤ j·s + r < k), which is
/// a correlation with taps `J = ⌈k/s⌉`: `W'[(o, r), i, tap] = W[i, o, (J − 1 − tap)·s + r]` (zero
/// past k), over the input padded by J − 1 on both sides.
#[derive(Debug, Clone)]
pub struct Polyphase {
    /// `[c_out·s, c_in, J]`
    weight: Tensor,
    /// `[c_out·s]`
    bias: Tensor,
    c_out: usize,
    stride: usize,
    kernel: usize,
    taps: usize,
}

impl Polyphase {
    /// From a ConvTranspose1d weight `[c_in, c_out, k]`, bias `[c_out]` and stride.
    pub fn new(weight: &Tensor, bias: &Tensor, stride: usize) -> Result<Self> {
        let (c_in, c_out, k) = weight.dims3()?;
        let taps = k.div_ceil(stride);
        let w = weight.flatten_all()?.to_vec1::<f32>()?;
        let mut wp = vec![0f32; c_out * stride * c_in * taps];
        for o in 0..c_out {
            for r in 0..stride {
                for i in 0..c_in {
                    for tap in 0..taps {
                        let kk = (taps - 1 - tap) * stride + r;
                        if kk < k {
                            wp[((o * stride + r) * c_in + i) * taps + tap] = w[(i * c_out + o) * k + kk];
                        }
                    }
                }
            }
        }
        let b = bias.to_vec1::<f32>()?;
        let bp: Vec<f32> = (0..c_out * stride).map(|row| b[row / stride]).collect();
        Ok(Polyphase {
            weight: Tensor::from_vec(wp, (c_out * stride, c_in, taps), &Device::Cpu)?,
            bias: Tensor::from_vec(bp, c_out * stride, &Device::Cpu)?,
            c_out,
            stride,
            kernel: k,
            taps,
        })
    }

    /// `x` `[b, c_in, l]` → `[b, c_out, (l − 1)·s + k − 2·padding]`, with an optional LeakyReLU
    /// on the input.
    pub fn forward(&self, x: &Tensor, padding: usize, pre_slope: Option<f32>) -> Result<Tensor> {
        let (b, _, l) = x.dims3()?;
        let (s, c_out) = (self.stride, self.c_out);
        let full = (l - 1) * s + self.kernel;
        if full <= 2 * padding {
            candle_core::bail!("conv_transpose1d: padding {padding} removes the whole output");
        }
        let len = full - 2 * padding;
        // phases[b, (o, r), q] = y_full[b, o, q·s + r], q = 0 .. l + J − 2.
        let pre = Fused { pre_slope, residual: None };
        let phases = conv1d(x, &self.weight, Some(&self.bias), self.taps - 1, 1, pre)?;
        let q_len = phases.dim(2)?;
        let (p_storage, p_layout) = phases.storage_and_layout();
        let ph = cpu_slice(&p_storage, p_layout)?;
        let mut out = vec![0f32; b * c_out * len];
        let out_ptr = OutPtr(out.as_mut_ptr());
        candle_core::utils::barrier_pool().execute_chunked(b * c_out, |rows| {
            for row in rows {
                let (bi, o) = (row / c_out, row % c_out);
                // SAFETY: each output row is written by exactly one task.
                let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(row * len), len) };
                let src = &ph[(bi * c_out + o) * s * q_len..][..s * q_len];
                for (m, d) in dst.iter_mut().enumerate() {
                    let n = m + padding;
                    *d = src[(n % s) * q_len + n / s];
                }
            }
        });
        Tensor::from_vec(out, (b, c_out, len), &Device::Cpu)
    }
}

/// Depthwise conv (groups = channels): `x` `[b, c, l]`, `weight` `[c, 1, k]`, `bias` `[c]` →
/// `[b, c, l_out]`. candle runs grouped convs as one conv per group, which is slow for 192 groups.
pub fn depthwise_conv1d(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, padding: usize, dilation: usize) -> Result<Tensor> {
    let (b, c, l) = x.dims3()?;
    let (c_w, one, k) = weight.dims3()?;
    if c_w != c || one != 1 {
        candle_core::bail!("depthwise_conv1d: weight {:?} does not fit {c} channels", weight.dims());
    }
    let span = dilation * (k - 1);
    if l + 2 * padding <= span {
        candle_core::bail!("depthwise_conv1d: input of {l} frames is shorter than the kernel span");
    }
    let l_out = l + 2 * padding - span;
    let x = x.flatten_all()?.to_vec1::<f32>()?;
    let w = weight.flatten_all()?.to_vec1::<f32>()?;
    let bias = match bias {
        Some(t) => t.to_vec1::<f32>()?,
        None => vec![0.0; c],
    };
    let mut out = vec![0f32; b * c * l_out];
    for (row, (y, x)) in out.chunks_exact_mut(l_out).zip(x.chunks_exact(l)).enumerate() {
        let ch = row % c;
        y.fill(bias[ch]);
        for tap in 0..k {
            let wv = w[ch * k + tap];
            // y[t] += w · x[t + tap·dilation − padding] where that index is inside x.
            let shift = (tap * dilation) as isize - padding as isize;
            let t_lo = (-shift).max(0) as usize;
            let t_hi = (l as isize - shift).min(l_out as isize);
            if t_hi <= t_lo as isize {
                continue; // the whole tap window lies in the padding
            }
            let src = &x[(t_lo as isize + shift) as usize..];
            for (yv, &xv) in y[t_lo..t_hi as usize].iter_mut().zip(src) {
                *yv += wv * xv;
            }
        }
    }
    Tensor::from_vec(out, (b, c, l_out), &Device::Cpu)
}

/// `dst[t] = act(row[start + t])`, zero where `start + t` falls outside `row`.
fn fill_shifted(dst: &mut [f32], row: &[f32], start: isize, slope: Option<f32>) {
    let n = dst.len() as isize;
    let lo = (-start).clamp(0, n) as usize;
    let hi = ((row.len() as isize - start).clamp(0, n) as usize).max(lo);
    dst[..lo].fill(0.0);
    if hi > lo {
        let src = &row[(start + lo as isize) as usize..(start + hi as isize) as usize];
        match slope {
            Some(s) => dst[lo..hi].iter_mut().zip(src).for_each(|(d, &v)| *d = if v >= 0.0 { v } else { v * s }),
            None => dst[lo..hi].copy_from_slice(src),
        }
    }
    dst[hi..].fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition, for comparison.
    #[allow(clippy::too_many_arguments)]
    fn naive(x: &[f32], c_in: usize, l: usize, w: &[f32], c_out: usize, k: usize, pad: usize, dil: usize, slope: Option<f32>) -> Vec<f32> {
        let l_out = l + 2 * pad - dil * (k - 1);
        let act = |v: f32| match slope {
            Some(s) if v < 0.0 => v * s,
            _ => v,
        };
        let mut y = vec![0f32; c_out * l_out];
        for o in 0..c_out {
            for t in 0..l_out {
                let mut acc = 0f32;
                for i in 0..c_in {
                    for tap in 0..k {
                        let src = (t + tap * dil) as isize - pad as isize;
                        if src >= 0 && (src as usize) < l {
                            acc += w[(o * c_in + i) * k + tap] * act(x[i * l + src as usize]);
                        }
                    }
                }
                y[o * l_out + t] = acc;
            }
        }
        y
    }

    #[test]
    fn polyphase_matches_candle_conv_transpose() {
        let dev = Device::Cpu;
        // (c_in, c_out, l, k, stride, padding): Piper's kernel = 2·stride, and an odd one.
        for &(c_in, c_out, l, k, s, p) in &[(6, 4, 30, 16, 8, 4), (5, 3, 7, 8, 4, 2), (3, 2, 9, 7, 3, 1), (2, 2, 1, 4, 2, 1)] {
            let x = Tensor::randn(0f32, 1.0, (1, c_in, l), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (c_in, c_out, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, c_out, &dev).unwrap();
            let act = candle_nn::ops::leaky_relu(&x, 0.1).unwrap();
            let full = act.conv_transpose1d(&w, 0, 0, s, 1, 1).unwrap();
            let len = full.dim(2).unwrap() - 2 * p;
            let want = full.narrow(2, p, len).unwrap().broadcast_add(&b.reshape((1, c_out, 1)).unwrap()).unwrap();
            let got = Polyphase::new(&w, &b, s).unwrap().forward(&x, p, Some(0.1)).unwrap();
            assert_eq!(got.dims(), want.dims());
            let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(err < 1e-4, "k {k} s {s} p {p}: {err}");
        }
    }

    #[test]
    fn depthwise_matches_candle() {
        let dev = Device::Cpu;
        for &(c, l, k, dil) in &[(6, 50, 3, 1), (6, 50, 3, 9), (4, 3, 3, 9), (3, 1, 3, 9), (2, 2, 3, 3)] {
            let pad = (k * dil - dil) / 2;
            let x = Tensor::randn(0f32, 1.0, (1, c, l), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (c, 1, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, c, &dev).unwrap();
            let want = x.conv1d(&w, pad, 1, dil, c).unwrap().broadcast_add(&b.reshape((1, c, 1)).unwrap()).unwrap();
            let got = depthwise_conv1d(&x, &w, Some(&b), pad, dil).unwrap();
            let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(err < 1e-5, "c {c} l {l} dil {dil}: {err}");
        }
    }

    #[test]
    fn matches_the_definition_including_inputs_shorter_than_the_dilated_kernel() {
        let dev = Device::Cpu;
        // (c_in, c_out, l, k, dilation): long inputs span several blocks, short ones leave whole
        // tap windows outside the input.
        for &(c_in, c_out, l, k, dil) in &[(3, 4, 5000, 3, 1), (8, 8, 10, 7, 12), (2, 3, 1, 5, 6), (5, 2, 37, 1, 1)] {
            let pad = (k * dil - dil) / 2;
            let x = Tensor::randn(0f32, 1.0, (1, c_in, l), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (c_out, c_in, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, c_out, &dev).unwrap();
            let r = Tensor::randn(0f32, 1.0, (1, c_out, l), &dev).unwrap();
            let y = conv1d(&x, &w, Some(&b), pad, dil, Fused { pre_slope: Some(0.1), residual: Some(&r) }).unwrap();
            let mut want = naive(&x.flatten_all().unwrap().to_vec1().unwrap(), c_in, l, &w.flatten_all().unwrap().to_vec1().unwrap(), c_out, k, pad, dil, Some(0.1));
            let (bv, rv) = (b.to_vec1::<f32>().unwrap(), r.flatten_all().unwrap().to_vec1::<f32>().unwrap());
            for (i, v) in want.iter_mut().enumerate() {
                *v += bv[i / l] + rv[i];
            }
            let got = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let err = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(err < 1e-3, "c_in {c_in} k {k} dil {dil} l {l}: max err {err}");
        }
    }
}
