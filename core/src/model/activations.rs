//! Fused element-wise activations and normalisation for the hot paths (CPU fast paths).

use candle_core::{Device, Result, Tensor};

use super::cpu::{self, chunked, cpu_slice, is_cpu_f32, OutPtr};
use super::cpu_level::at_cpu_level;

/// WaveNet's gated activation: `x` `[b, 2h, t]` → `tanh(x[:, :h]) · sigmoid(x[:, h:])` `[b, h, t]`
/// (VITS `fused_add_tanh_sigmoid_multiply`). On the CPU it is one parallel pass instead of four
/// tensor ops; tanh(a) is computed as 1 − 2/(e^{2a} + 1) with [`exp_in_place`], within 1e-7 of
/// libm's tanhf.
pub fn gated_tanh_sigmoid(x: &Tensor, h: usize) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    if c != 2 * h {
        candle_core::bail!("gated_tanh_sigmoid: {c} channels, expected 2·{h}");
    }
    if !is_cpu_f32(x) {
        let a = x.narrow(1, 0, h)?.tanh()?;
        return a * candle_nn::ops::sigmoid(&x.narrow(1, h, h)?)?;
    }
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let xs = cpu_slice(&storage, layout)?;
    let mut out = vec![0f32; b * h * t];
    let out_ptr = OutPtr(out.as_mut_ptr());
    // Rows in parallel on candle's CPU worker pool (the one its element-wise ops use).
    chunked(b * h, |rows| {
        let mut gate = vec![0f32; t];
        for row in rows {
            let (bi, ch) = (row / h, row % h);
            let a = &xs[(bi * c + ch) * t..][..t];
            let g = &xs[(bi * c + h + ch) * t..][..t];
            // SAFETY: each row of the [b·h, t] output is written by exactly one task.
            let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(row * t), t) };
            gate_row(a, g, dst, &mut gate);
        }
    });
    Tensor::from_vec(out, (b, h, t), &Device::Cpu)
}

at_cpu_level!(fn gate_row(a: &[f32], g: &[f32], dst: &mut [f32], tmp: &mut [f32]) => gate_portable);

/// One row of [`gated_tanh_sigmoid`]: `dst` = tanh(a) · sigmoid(g), `tmp` as long (the same
/// bits at every level: nothing is fused).
#[inline(always)]
fn gate_portable(a: &[f32], g: &[f32], dst: &mut [f32], tmp: &mut [f32]) {
    dst.iter_mut().zip(a).for_each(|(d, &a)| *d = 2.0 * a);
    tmp.iter_mut().zip(g).for_each(|(d, &g)| *d = -g);
    exp_portable(dst);
    exp_portable(tmp);
    for (d, &e) in dst.iter_mut().zip(tmp.iter()) {
        let tanh = 1.0 - 2.0 / (*d + 1.0);
        let sigmoid = 1.0 / (1.0 + e);
        *d = tanh * sigmoid;
    }
}

/// What [`layer_norm_channels`] fuses around the norm: `after + act(norm(x + before))`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NormFused<'a> {
    /// Added to the input first (a residual branch: the encoder's `norm(x + y)`), `x`'s shape.
    pub before: Option<&'a Tensor>,
    /// GELU (erf form, [`gelu_erf`]) on the normed values.
    pub gelu: bool,
    /// Added to the result last (DDSConv's residual), `x`'s shape.
    pub after: Option<&'a Tensor>,
}

/// Most time steps per task of [`layer_norm_channels`].
const NORM_BLOCK: usize = 128;

/// Layer norm over the channel axis of `x` `[b, c, t]` with `gamma`, `beta` `[1, c, 1]` (VITS'
/// channels-first `LayerNorm`, eps `eps`), on the CPU, with the adds and GELU of `fused` in the
/// same pass. candle's reduction over a non-last axis walks the tensor with strides; here each
/// block of time steps accumulates its means and variances row by row over contiguous memory,
/// then normalises; blocks run in parallel on candle's CPU worker pool.
pub fn layer_norm_channels(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32, fused: NormFused<'_>) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    let same = |y: Option<&Tensor>| -> Result<Option<Tensor>> {
        match y {
            Some(y) if y.dims() != x.dims() => candle_core::bail!("layer_norm_channels: {:?} added to {:?}", y.dims(), x.dims()),
            y => y.map(Tensor::contiguous).transpose(),
        }
    };
    let (x, before, after) = (x.contiguous()?, same(fused.before)?, same(fused.after)?);
    let (storage, layout) = x.storage_and_layout();
    let xs = cpu_slice(&storage, layout)?;
    let (before_guard, after_guard) = (before.as_ref().map(Tensor::storage_and_layout), after.as_ref().map(Tensor::storage_and_layout));
    let add_before = before_guard.as_ref().map(|(s, l)| cpu_slice(s, l)).transpose()?;
    let add_after = after_guard.as_ref().map(|(s, l)| cpu_slice(s, l)).transpose()?;
    let (g, be) = (gamma.flatten_all()?.to_vec1::<f32>()?, beta.flatten_all()?.to_vec1::<f32>()?);
    if g.len() != c || be.len() != c {
        candle_core::bail!("layer_norm_channels: {} / {} parameters for {c} channels", g.len(), be.len());
    }
    let mut out: Vec<f32> = Vec::with_capacity(b * c * t);
    let out_ptr = OutPtr(out.as_mut_ptr());
    // Blocks of equal length, as many as a multiple of the threads (none idles at the end).
    let threads = if b * c * t >= 1 << 14 { cpu::threads() } else { 1 };
    let blocks = t.div_ceil(NORM_BLOCK).next_multiple_of(threads).min(t);
    let block = t.div_ceil(blocks);
    let blocks = t.div_ceil(block);
    let unit = |u: usize| {
        let (bi, t0) = (u / blocks, (u % blocks) * block);
        let n = block.min(t - t0);
        let at = |ch: usize| (bi * c + ch) * t + t0;
        // The block's input [c, n]: x, plus `before` when given.
        let mut v = Vec::with_capacity(c * n);
        for ch in 0..c {
            let row = &xs[at(ch)..][..n];
            match add_before {
                Some(y) => v.extend(row.iter().zip(&y[at(ch)..][..n]).map(|(&x, &y)| x + y)),
                None => v.extend_from_slice(row),
            }
        }
        norm_block(&mut v, n, &g, &be, eps, fused.gelu);
        for (ch, row) in v.chunks_exact(n).enumerate() {
            // SAFETY: this unit alone writes columns t0..t0+n of row (bi, ch).
            let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(at(ch)), n) };
            match add_after {
                Some(y) => dst.iter_mut().zip(row).zip(&y[at(ch)..][..n]).for_each(|((d, &v), &y)| *d = v + y),
                None => dst.copy_from_slice(row),
            }
        }
    };
    let units = b * blocks;
    if threads > 1 {
        chunked(units, |range| range.for_each(unit));
    } else {
        (0..units).for_each(unit);
    }
    // SAFETY: the units wrote every column block of every row.
    unsafe { out.set_len(b * c * t) };
    Tensor::from_vec(out, (b, c, t), &Device::Cpu)
}

at_cpu_level!(fn norm_block(v: &mut [f32], n: usize, g: &[f32], be: &[f32], eps: f32, gelu: bool) => norm_block_portable);

/// In place on a block `v` `[c, n]` (c = `g.len()` channels × n time steps): each column
/// normalised over the channels, scaled by `g` and shifted by `be` per channel, then GELU when
/// `gelu`. Mean and variance are sums down the columns in channel order, so the same bits at
/// every level (vectors run across columns; nothing is fused).
#[inline(always)]
fn norm_block_portable(v: &mut [f32], n: usize, g: &[f32], be: &[f32], eps: f32, gelu: bool) {
    let c = g.len();
    let (mut mean, mut inv) = ([0f32; NORM_BLOCK], [0f32; NORM_BLOCK]);
    let (mean, inv) = (&mut mean[..n], &mut inv[..n]);
    for row in v.chunks_exact(n) {
        mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x);
    }
    mean.iter_mut().for_each(|m| *m /= c as f32);
    for row in v.chunks_exact(n) {
        inv.iter_mut().zip(row).zip(mean.iter()).for_each(|((s, &x), &m)| *s += (x - m) * (x - m));
    }
    inv.iter_mut().for_each(|s| *s = 1.0 / (*s / c as f32 + eps).sqrt());
    for (row, (&gc, &bc)) in v.chunks_exact_mut(n).zip(g.iter().zip(be)) {
        for ((x, &m), &inv) in row.iter_mut().zip(mean.iter()).zip(inv.iter()) {
            *x = (*x - m) * inv * gc + bc;
        }
    }
    // GELU over the whole block, not row by row: a row of n steps leaves n mod (vector width)
    // values to the loop's scalar remainder, which cost most of the time at a sentence's few ids.
    if gelu {
        let mut normed = [0f32; GELU_CHUNK];
        for chunk in v.chunks_mut(GELU_CHUNK) {
            let normed = &mut normed[..chunk.len()];
            normed.copy_from_slice(chunk);
            gelu_portable(normed, chunk);
        }
    }
}

/// Values [`norm_block_portable`] passes to GELU at once.
const GELU_CHUNK: usize = 1024;

/// GELU with the exact (erf) form, x · Φ(x) = x/2 · erfc(−x/√2), as one pass over a CPU f32
/// tensor (candle's `gelu_erf` elsewhere). erfc is Numerical Recipes' Chebyshev fit (relative
/// error < 1.2e-7 for every x, so the tail where Φ(x) is tiny stays accurate; in f32 the value
/// is within 1e-6 + x²·1e-7 of it, relative) on
/// [`exp_in_place`]: branch-free, it vectorises; candle's goes through a scalar f64 erf.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if !is_cpu_f32(x) {
        return x.gelu_erf();
    }
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let xs = cpu_slice(&storage, layout)?;
    let mut out = vec![0f32; xs.len()];
    gelu_slice(xs, &mut out);
    Tensor::from_vec(out, x.shape(), &Device::Cpu)
}

at_cpu_level!(fn gelu_slice(xs: &[f32], out: &mut [f32]) => gelu_portable);

/// [`gelu_erf`]'s arithmetic on values (the same bits at every level: nothing is fused).
#[inline(always)]
#[allow(clippy::excessive_precision)] // the fit's published coefficients
fn gelu_portable(xs: &[f32], out: &mut [f32]) {
    const BLOCK: usize = 256;
    let mut t = [0f32; BLOCK];
    for (xs, out) in xs.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
        let t = &mut t[..xs.len()];
        // t = 1 / (1 + |u|/2) with u = −x/√2; out = exponent of the fit, then e^that.
        for ((o, t), &x) in out.iter_mut().zip(t.iter_mut()).zip(xs) {
            let z = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
            let tt = 1.0 / (1.0 + 0.5 * z);
            let poly = -1.265_512_2
                + tt * (1.000_023_7
                    + tt * (0.374_091_96
                        + tt * (0.096_784_18
                            + tt * (-0.186_288_06 + tt * (0.278_868_07 + tt * (-1.135_203_98 + tt * (1.488_515_87 + tt * (-0.822_152_23 + tt * 0.170_872_77))))))));
            *o = -z * z + poly;
            *t = tt;
        }
        exp_portable(out);
        for ((o, &t), &x) in out.iter_mut().zip(t.iter()).zip(xs) {
            // erfc(|u|) = t·e^(…); erfc(u) for u = −x/√2 is that for x ≤ 0, 2 − that for x > 0.
            let tail = t * *o;
            let erfc = if x > 0.0 { 2.0 - tail } else { tail };
            *o = 0.5 * x * erfc;
        }
    }
}

at_cpu_level!(
    /// e^x for every value, within 2 ulp of libm's `expf` for x ≥ −87 (below that, a value
    /// under 1e-37 instead of the subnormal or zero). Branch-free (Cephes' range reduction and
    /// polynomial), so the loop vectorises (compiled for the CPU's widest vectors,
    /// [`super::cpu_level`]; the same bits at every level: nothing is fused); libm's scalar
    /// call dominated softmax.
    pub fn exp_in_place(xs: &mut [f32]) => exp_portable
);

#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' published coefficients
fn exp_portable(xs: &mut [f32]) {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer (for |v| < 2^22).
    const ROUND: f32 = 12_582_912.0;
    for v in xs {
        let x = v.clamp(-87.0, 88.0);
        let k = x * LOG2E + ROUND;
        let n = k - ROUND;
        let r = x - n * LN2_HI - n * LN2_LO;
        let mut p = 1.987_569_1e-4f32;
        p = p * r + 1.398_199_9e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 5.000_000_1e-1;
        let y = p * r * r + r + 1.0;
        // k's low mantissa bits hold n + 2^22 (k = 1.5·2^23 + n): 2^n from integer bits alone.
        let pow2 = (k.to_bits() as i32 - ROUND.to_bits() as i32 + 127) << 23;
        *v = y * f32::from_bits(pow2 as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_matches_candle_ops() {
        let dev = Device::Cpu;
        // Short (one block, no threads) and long enough to split over the pool; two sequences.
        for t in [31, 300] {
            let x = (Tensor::randn(0f32, 2.0, (2, 70, t), &dev).unwrap() + 3.0).unwrap();
            let before = Tensor::randn(0f32, 1.0, (2, 70, t), &dev).unwrap();
            let after = Tensor::randn(0f32, 1.0, (2, 70, t), &dev).unwrap();
            let g = Tensor::randn(0f32, 1.0, (1, 70, 1), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, (1, 70, 1), &dev).unwrap();
            let norm = |x: &Tensor| {
                let mean = x.mean_keepdim(1).unwrap();
                let centered = x.broadcast_sub(&mean).unwrap();
                let var = centered.sqr().unwrap().mean_keepdim(1).unwrap();
                centered.broadcast_div(&(var + 1e-5).unwrap().sqrt().unwrap()).unwrap().broadcast_mul(&g).unwrap().broadcast_add(&b).unwrap()
            };
            let plain = norm(&x);
            let fused = (norm(&(&x + &before).unwrap()).gelu_erf().unwrap() + &after).unwrap();
            let cases = [
                (NormFused::default(), plain),
                (NormFused { before: Some(&before), gelu: true, after: Some(&after) }, fused),
            ];
            for (how, want) in cases {
                let got = layer_norm_channels(&x, &g, &b, 1e-5, how).unwrap();
                let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
                assert!(err < 2e-5, "t {t}, {how:?}: {err}");
            }
        }
        let wrong = Tensor::zeros((2, 70, 5), candle_core::DType::F32, &dev).unwrap();
        let x = Tensor::zeros((2, 70, 6), candle_core::DType::F32, &dev).unwrap();
        let g = Tensor::ones((1, 70, 1), candle_core::DType::F32, &dev).unwrap();
        assert!(layer_norm_channels(&x, &g, &g, 1e-5, NormFused { after: Some(&wrong), ..Default::default() }).is_err());
    }

    #[test]
    fn gate_matches_candle_ops() {
        let x = (Tensor::randn(0f32, 3.0, (2, 8, 50), &Device::Cpu).unwrap()).contiguous().unwrap();
        let want = (x.narrow(1, 0, 4).unwrap().tanh().unwrap() * candle_nn::ops::sigmoid(&x.narrow(1, 4, 4).unwrap()).unwrap()).unwrap();
        let got = gated_tanh_sigmoid(&x, 4).unwrap();
        let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(err < 1e-6, "{err}");
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        let xs: Vec<f32> = (0..200_000).map(|k| -87.0 + 175.0 * k as f32 / 200_000.0).chain([0.0, -0.0, 1e-8, -1e-8, 88.0]).collect();
        let mut got = xs.clone();
        exp_in_place(&mut got);
        for (&x, &e) in xs.iter().zip(&got) {
            let want = (x as f64).exp();
            let ulp = (want as f32).to_bits().abs_diff(e.to_bits());
            worst = worst.max(ulp as f64);
        }
        assert!(worst <= 2.0, "{worst} ulp");
        let mut low = [-100.0f32, f32::NEG_INFINITY];
        exp_in_place(&mut low);
        assert!(low.iter().all(|&v| (0.0..1e-37).contains(&v)), "{low:?}");
    }

    #[test]
    fn gelu_matches_the_erf_form() {
        let x = (Tensor::randn(0f32, 3.0, (2, 5, 30_001), &Device::Cpu).unwrap()).contiguous().unwrap();
        let candle = x.gelu_erf().unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = gelu_erf(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let xs = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for ((&g, &c), &x) in got.iter().zip(&candle).zip(&xs) {
            let x64 = x as f64;
            let want = 0.5 * x64 * candle_core::cpu::erf::erfc_f64(-x64 * std::f64::consts::FRAC_1_SQRT_2);
            // Relative error: a few f32 roundings, plus the f32 rounding of e^(−x²/2 + …)'s
            // argument (≈ x²/2 · 2⁻²⁴).
            assert!((g as f64 - want).abs() <= (1e-6 + 1e-7 * x64 * x64) * want.abs() + 1e-12, "x {x}: {g} vs {want}");
            // Against candle's, the two error budgets added: ours the relative one above (at
            // small x up to 5.3 ulp as measured), candle's x/2 · (1 + erf) up to x/2 · 2 ulp(1)
            // (erf's rounding and 1 + erf's; it cancels in the tail).
            let ours = (1e-6 + 1e-7 * x * x) * c.abs();
            assert!((g - c).abs() <= ours + f32::EPSILON * x.abs(), "x {x}: {g} vs candle {c}");
        }
        let far = Tensor::new(&[-12.0f32, -6.0, 0.0, 6.0, 12.0], &Device::Cpu).unwrap();
        let far = gelu_erf(&far).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(far[2], 0.0);
        assert!((far[3] - 6.0).abs() < 1e-6 && (far[4] - 12.0).abs() < 1e-6, "{far:?}");
        assert!(far[0] <= 0.0 && far[0] > -1e-30 && far[1] < 0.0 && far[1] > -1e-7, "{far:?}");
    }
}
