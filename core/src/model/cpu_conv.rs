//! A CPU kernel for the 1-D convolutions that dominate synthesis (decoder resblocks, flow WN).
//!
//! candle's CPU conv1d copies the whole input into an im2col buffer `[t, k·c_in]` (28 MB for one
//! conv of the decoder's last stage on 1.5 s of audio), multiplies, then transposes the result back.
//! Here nothing is gathered: the input is activated (LeakyReLU, when fused) into one zero-padded
//! copy `[c_in, l + 2·padding]`, and [`super::cpu_microkernel`] accumulates every tap straight from
//! shifted rows of that copy onto bias and residual:
//!
//!   y[:, t] = bias + residual[:, t] + Σ_tap W[:, :, tap] · act(x)[:, t + tap·dilation − padding]
//!
//! Output columns are cut into blocks, each block into spans whose input stays in cache while
//! every block of output rows reads it. Blocks run on candle's own CPU worker pool (the "barrier
//! pool" its element-wise ops use), so the model's parallel work shares one set of threads and
//! nothing is oversubscribed; a sequence too short for one block per thread is split by output
//! rows instead. The instruction set is [`cpu_level::level`]'s; at its AMX level the convolution
//! runs on matrix tiles instead ([`super::cpu_amx`]).

use candle_core::{Device, Result, Tensor};

use super::cpu::{self, cpu_slice, OutPtr};
use super::cpu_amx as amx;
use super::cpu_level::{self, CpuLevel};
use super::cpu_microkernel::{self as micro, Seed, Tile};
use super::cpu_winograd as winograd;

/// What to fuse around the convolution.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fused<'a> {
    /// LeakyReLU slope applied to the input first.
    pub pre_slope: Option<f32>,
    /// Added to the output (same shape as the output).
    pub residual: Option<&'a Tensor>,
}

/// Output columns per block (a task): a multiple of [`SPAN`], at least one.
fn block_len(c_in: usize) -> usize {
    ((256 * 1024) / c_in).clamp(SPAN, 16 * 1024) / SPAN * SPAN
}

/// Output columns every row block computes before the next span: the span's input
/// `[c_in, SPAN + span]` stays in L1/L2 while all output rows read it.
const SPAN: usize = 192;

/// A conv weight `[c_out, c_in, k]` in the layout this process's kernels read, made once per
/// weight: split into bf16 parts for the tiles ([`amx::AmxWeights`]) at the AMX level when the
/// shape suits them, else [`micro::pack_weights`] for [`cpu_level::level`]'s microkernel.
#[derive(Debug, Clone)]
pub struct PackedWeights {
    packed: Packed,
    c_out: usize,
    c_in: usize,
    k: usize,
}

#[derive(Debug, Clone)]
enum Packed {
    /// `[⌈c_out/block⌉][c_in][k][block]` for the FMA microkernels.
    Fma { data: Vec<f32>, block: usize },
    Amx(amx::AmxWeights),
    /// A 3- or 5-tap weight for Winograd's F(4, k) on the FMA microkernels, and, where short
    /// sequences run faster direct ([`winograd::WinogradWeights::direct_below`]), for those.
    Winograd { weights: winograd::WinogradWeights, direct: Option<(Vec<f32>, usize)> },
}

impl PackedWeights {
    /// From a CPU f32 weight `[c_out, c_in, k]`; on AMX tiles where the level and shape allow it
    /// and `tiles` (see [`amx::tiles_for`]).
    pub fn new(weight: &Tensor, tiles: bool) -> Result<Self> {
        let (c_out, c_in, k) = weight.dims3()?;
        Ok(Self::from_values(&weight.flatten_all()?.to_vec1::<f32>()?, c_out, c_in, k, tiles, false))
    }

    /// From the values of a weight `[c_out, c_in, k]`, row-major; on tiles as for [`Self::new`].
    pub fn from_slice(w: &[f32], c_out: usize, c_in: usize, k: usize, tiles: bool) -> Self {
        Self::from_values(w, c_out, c_in, k, tiles, false)
    }

    /// From the values of a 1×1 weight's transpose `[c_in, c_out]`, row-major (keys `[kc, t]` as
    /// the weights `[t, kc]` of attention scores), for the FMA kernel: the same as
    /// [`Self::from_slice`] of the transpose, without making it.
    pub fn from_transposed(wt: &[f32], c_in: usize, c_out: usize) -> Self {
        let block = micro::block_rows(cpu_level::level());
        PackedWeights { packed: Packed::Fma { data: micro::pack_weights_transposed(wt, c_out, c_in, block), block }, c_out, c_in, k: 1 }
    }

    /// [`Self::new`] for a conv whose outputs may differ from the direct kernel's within
    /// rounding: where it would not be on AMX tiles, Winograd's F(4, k) for 3 or 5 taps
    /// ([`winograd`]: 2–2.5× fewer products, a little more rounding, and an output's bits depend
    /// on the rest of its tile of four steps, so a conv over part of a sequence differs from one
    /// over the whole within rounding).
    pub fn winograd(weight: &Tensor, tiles: bool) -> Result<Self> {
        let (c_out, c_in, k) = weight.dims3()?;
        Ok(Self::from_values(&weight.flatten_all()?.to_vec1::<f32>()?, c_out, c_in, k, tiles, true))
    }

    /// On AMX tiles where the level and shape allow it and `tiles`; else, for a 3- or 5-tap
    /// weight and `winograd`, Winograd's F(4, k); else for the FMA microkernel.
    fn from_values(w: &[f32], c_out: usize, c_in: usize, k: usize, tiles: bool, winograd: bool) -> Self {
        let level = cpu_level::level();
        let packed = if tiles && level == CpuLevel::Amx && amx::suits(c_out, c_in, k) {
            Packed::Amx(amx::AmxWeights::new(w, c_out, c_in, k))
        } else if let Some(weights) = winograd.then(|| winograd::WinogradWeights::new(w, c_out, c_in, k)).flatten() {
            let block = micro::block_rows(level);
            let direct = (weights.direct_below() > 0).then(|| (micro::pack_weights(w, c_out, c_in, k, block), block));
            Packed::Winograd { weights, direct }
        } else {
            let block = micro::block_rows(level);
            Packed::Fma { data: micro::pack_weights(w, c_out, c_in, k, block), block }
        };
        PackedWeights { packed, c_out, c_in, k }
    }

    /// Whether this conv runs on AMX tiles.
    pub fn on_tiles(&self) -> bool {
        matches!(self.packed, Packed::Amx(_))
    }
}

/// `x` `[b, c_in, l]`, `weight` `[c_out, c_in, k]` (packed), `bias` `[c_out]` →
/// `[b, c_out, l_out]`, stride 1, symmetric `padding`, `dilation`, one group.
pub fn conv1d(x: &Tensor, weight: &PackedWeights, bias: Option<&Tensor>, padding: usize, dilation: usize, fused: Fused<'_>) -> Result<Tensor> {
    let (b, c_in, l) = x.dims3()?;
    if c_in != weight.c_in {
        candle_core::bail!("cpu_conv: input has {c_in} channels, weight expects {}", weight.c_in);
    }
    if let Some(r) = fused.residual {
        // Its length is checked against the output's with the values.
        if r.dims().len() != 3 || r.dims()[..2] != [b, weight.c_out] {
            candle_core::bail!("cpu_conv: residual {:?} does not match output [{b}, {}, _]", r.dims(), weight.c_out);
        }
    }
    let x = x.contiguous()?;
    let residual = fused.residual.map(Tensor::contiguous).transpose()?;
    let bias = bias.map(|t| t.to_vec1::<f32>()).transpose()?;
    let (x_storage, x_layout) = x.storage_and_layout();
    let x = cpu_slice(&x_storage, x_layout)?;
    let r_guard = residual.as_ref().map(|r| r.storage_and_layout());
    let res = r_guard.as_ref().map(|(s, l)| cpu_slice(s, l)).transpose()?;
    let out = conv1d_slice(x, b, l, weight, bias.as_deref(), padding, dilation, fused.pre_slope, res)?;
    let l_out = out.len() / (b * weight.c_out);
    Tensor::from_vec(out, (b, weight.c_out, l_out), &Device::Cpu)
}

/// [`conv1d`] on raw values: `x` `[b, c_in, l]` (row-major) → `[b, c_out, l_out]`, plus
/// `residual` (that shape) when given, LeakyReLU with `pre_slope` on the input when given.
#[allow(clippy::too_many_arguments)]
pub fn conv1d_slice(
    x: &[f32],
    b: usize,
    l: usize,
    weight: &PackedWeights,
    bias: Option<&[f32]>,
    padding: usize,
    dilation: usize,
    pre_slope: Option<f32>,
    res: Option<&[f32]>,
) -> Result<Vec<f32>> {
    let (c_out, c_in, k) = (weight.c_out, weight.c_in, weight.k);
    if x.len() != b * c_in * l {
        candle_core::bail!("cpu_conv: input of {} values is not [{b}, {c_in}, {l}]", x.len());
    }
    let span = dilation * (k - 1);
    if l + 2 * padding <= span {
        candle_core::bail!("cpu_conv: input of {l} frames is shorter than the kernel span");
    }
    let l_out = l + 2 * padding - span;
    if res.is_some_and(|r| r.len() != b * c_out * l_out) {
        candle_core::bail!("cpu_conv: residual does not match output [{b}, {c_out}, {l_out}]");
    }
    let zeros;
    let bias = match bias {
        Some(b) if b.len() == c_out => b,
        Some(b) => candle_core::bail!("cpu_conv: {} bias values for {c_out} outputs", b.len()),
        None => {
            zeros = vec![0.0; c_out];
            &zeros
        }
    };

    let (wp, block_rows) = match &weight.packed {
        Packed::Amx(w) => return Ok(amx::conv1d(x, b, l, w, bias, padding, dilation, pre_slope, res)),
        Packed::Winograd { weights, direct } => match direct {
            Some((data, block)) if l_out.div_ceil(dilation) < weights.direct_below() => (data, *block),
            _ => return Ok(winograd::conv(x, b, l, weights, bias, padding, dilation, pre_slope, res)),
        },
        Packed::Fma { data, block } => (data, *block),
    };
    let threads = cpu::threads();
    // xa[b, i, padding + t] = act(x[b, i, t]), zero in the padding: [b, c_in, lp].
    let lp = l + 2 * padding;
    let xa = cpu::padded_activation(x, b * c_in, l, (padding, padding), pre_slope, threads);

    let level = cpu_level::level();
    if block_rows != micro::block_rows(level) {
        candle_core::bail!("cpu_conv: weights packed for another kernel level");
    }
    let tile = Tile { c_in, k, dilation, xa_row: lp, y_row: l_out, block: block_rows };

    let mut out: Vec<f32> = Vec::with_capacity(b * c_out * l_out);
    let y = OutPtr(out.as_mut_ptr());
    // Tasks: (batch item, block of output columns, block of output rows). Column blocks are near
    // the cache-friendly size, their count a multiple of the thread count so no thread idles at
    // the end; a sequence too short for that is split by output rows (whole tiles) instead.
    let n_blocks = match l_out.div_ceil(block_len(c_in)) {
        1 => 1,
        n => n.next_multiple_of(threads),
    };
    let block = l_out.div_ceil(n_blocks).next_multiple_of(16);
    let n_blocks = l_out.div_ceil(block);
    let n_row_blocks = if b * n_blocks < threads { threads.min(c_out.div_ceil(block_rows)) } else { 1 };
    let rows = c_out.div_ceil(n_row_blocks).next_multiple_of(block_rows);

    let run = |task: usize| {
        let (bi, blk, rb) = (task / (n_blocks * n_row_blocks), (task / n_row_blocks) % n_blocks, task % n_row_blocks);
        let t0 = blk * block;
        let n = block.min(l_out - t0);
        let (r0, r1) = (rb * rows, ((rb + 1) * rows).min(c_out));
        if r0 >= r1 {
            return;
        }
        let base = bi * c_out * l_out + t0;
        // SAFETY: this task alone writes rows r0..r1, columns t0..t0+n of batch item bi's
        // [c_out, l_out] output, inside `out`'s capacity, reading the residual (same shape) at
        // the same places. Output column t reads xa[bi, i, t .. t + span] with
        // t + span < l_out + span = lp, inside xa; r0 is a multiple of the packed block, so
        // block r0 / block_rows of the packed weights starts at r0·c_in·k.
        unsafe {
            let xa = xa.as_ptr().add(bi * c_in * lp + t0);
            let res = res.map_or(std::ptr::null(), |r| r.as_ptr().add(base + r0 * l_out));
            for s0 in (0..n).step_by(SPAN) {
                let len = SPAN.min(n - s0);
                let dst = y.get().add(base + r0 * l_out + s0);
                let seed = Seed { bias: bias.as_ptr().add(r0), res: if res.is_null() { res } else { res.add(s0) } };
                micro::tile(level, tile, r1 - r0, len, dst, seed, xa.add(s0), wp.as_ptr().add(r0 * c_in * k));
            }
        }
    };
    let tasks = b * n_blocks * n_row_blocks;
    if tasks > 1 && threads > 1 {
        cpu::chunked(tasks, |range| range.for_each(run));
    } else {
        (0..tasks).for_each(run);
    }
    // SAFETY: the tasks above initialised all b·c_out·l_out elements.
    unsafe { out.set_len(b * c_out * l_out) };
    Ok(out)
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
    weight: PackedWeights,
    /// `[c_out·s]`
    bias: Tensor,
    c_out: usize,
    stride: usize,
    kernel: usize,
    taps: usize,
}

impl Polyphase {
    /// From a ConvTranspose1d weight `[c_in, c_out, k]`, bias `[c_out]` and stride; `tiles` as
    /// for [`PackedWeights::new`].
    pub fn new(weight: &Tensor, bias: &Tensor, stride: usize, tiles: bool) -> Result<Self> {
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
            weight: PackedWeights::new(&Tensor::from_vec(wp, (c_out * stride, c_in, taps), &Device::Cpu)?, tiles)?,
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
        let mut out: Vec<f32> = Vec::with_capacity(b * c_out * len);
        let out_ptr = OutPtr(out.as_mut_ptr());
        cpu::chunked(b * c_out, |rows| {
            for row in rows {
                let (bi, o) = (row / c_out, row % c_out);
                // SAFETY: each output row is written by exactly one task.
                let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(row * len), len) };
                let src = &ph[(bi * c_out + o) * s * q_len..][..s * q_len];
                // dst[m] = y_full[n] for n = m + padding: phase n % s, position n / s.
                let (mut q, mut r) = (padding / s, padding % s);
                for d in dst.iter_mut() {
                    *d = src[r * q_len + q];
                    r += 1;
                    if r == s {
                        (q, r) = (q + 1, 0);
                    }
                }
            }
        });
        // SAFETY: the rows above wrote all b·c_out·len elements.
        unsafe { out.set_len(b * c_out * len) };
        Tensor::from_vec(out, (b, c_out, len), &Device::Cpu)
    }
}

/// Depthwise conv (groups = channels): `x` `[b, c, l]`, `weight` `[c, 1, k]`, `bias` `[c]` →
/// `[b, c, l_out]`, rows in parallel. candle runs grouped convs as one conv per group, which is
/// slow for 192 groups.
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
    let x = x.contiguous()?;
    let (x_storage, x_layout) = x.storage_and_layout();
    let x = cpu_slice(&x_storage, x_layout)?;
    let w = weight.flatten_all()?.to_vec1::<f32>()?;
    let bias = match bias {
        Some(t) => t.to_vec1::<f32>()?,
        None => vec![0.0; c],
    };
    let mut out: Vec<f32> = Vec::with_capacity(b * c * l_out);
    let out_ptr = OutPtr(out.as_mut_ptr());
    let run = |row: usize| {
        let ch = row % c;
        // SAFETY: each output row (inside `out`'s capacity) is written whole by exactly one call.
        let y = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(row * l_out), l_out) };
        let x = &x[row * l..][..l];
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
    };
    if b * c * l >= 1 << 14 {
        cpu::chunked(b * c, |rows| rows.for_each(run));
    } else {
        (0..b * c).for_each(run);
    }
    // SAFETY: every row was written whole above.
    unsafe { out.set_len(b * c * l_out) };
    Tensor::from_vec(out, (b, c, l_out), &Device::Cpu)
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
            let got = Polyphase::new(&w, &b, s, true).unwrap().forward(&x, p, Some(0.1)).unwrap();
            assert_eq!(got.dims(), want.dims());
            let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(err < 1e-4, "k {k} s {s} p {p}: {err}");
        }
    }

    #[test]
    fn depthwise_matches_candle() {
        let dev = Device::Cpu;
        // The last is large enough to split its rows over the pool.
        for &(c, l, k, dil) in &[(6, 50, 3, 1), (6, 50, 3, 9), (4, 3, 3, 9), (3, 1, 3, 9), (2, 2, 3, 3), (96, 300, 3, 3)] {
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
            let y = conv1d(&x, &PackedWeights::new(&w, true).unwrap(), Some(&b), pad, dil, Fused { pre_slope: Some(0.1), residual: Some(&r) }).unwrap();
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
