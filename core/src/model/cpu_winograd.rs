//! Winograd's minimal filtering F(4, 3) for 3-tap convolutions on the FMA kernels: four outputs
//! of a 3-tap conv from six products per input channel instead of twelve.
//!
//! For each tile of four output steps, `j`, the six padded inputs `d = x[4j − 1 .. 4j + 5]`
//! are transformed (`Bᵀd`, per input channel), the taps `g` once per weight (`G·g`); each of
//! the six points is then an ordinary channel contraction, `M_p = U_p · V_p`
//! (`[c_out, c_in] · [c_in, tiles]`, the 1×1 case of [`super::cpu_microkernel`]), and the
//! outputs are `Aᵀ·M` (Lavin & Gray 2016, points 0, ±1, ±2, ∞):
//!
//!   y[4j + r] = bias + Σ_p Aᵀ[r][p] · Σ_i U_p[o, i] · V_p[i, j]
//!
//! Half the multiply-adds of the direct kernel, with a little more rounding (the transforms'
//! factors up to 8; `tests` bound it against f64). The bits of an output depend on the other
//! inputs of its tile: a conv over a prefix of a sequence equals the conv over the whole only
//! where whole tiles of the prefix read the same inputs, so the text encoder uses this only for
//! layers it always computes over the whole sentence (`text_encoder`). The transforms are the
//! same source at every level, so AVX2 and AVX-512 give the same bits.

use super::cpu::{self, OutPtr};
use super::cpu_level::{self, at_cpu_level};
use super::cpu_microkernel::{self as micro, Seed, Tile};

/// Output steps per tile.
pub const STEPS: usize = 4;
/// Inputs per tile, and products per input channel and tile (the points).
const POINTS: usize = STEPS + 2;
/// Columns of one kernel call (its input span stays in cache while all rows read it).
const SPAN: usize = 192;

/// A 3-tap weight `[c_out, c_in, 3]` transformed to the six points `U_p = G·g` and packed per
/// point as a 1×1 weight for [`cpu_level::level`]'s microkernel.
#[derive(Debug, Clone)]
pub struct WinogradWeights {
    /// `[POINTS][⌈c_out/block⌉][c_in][block]`
    packed: Vec<f32>,
    /// Values per point in `packed`.
    per_point: usize,
    block: usize,
    pub c_out: usize,
    pub c_in: usize,
}

impl WinogradWeights {
    /// From a weight `[c_out, c_in, 3]`, row-major. The transform is computed in f64 and
    /// rounded once.
    pub fn new(w: &[f32], c_out: usize, c_in: usize) -> Self {
        assert_eq!(w.len(), c_out * c_in * 3, "winograd: weight is not [{c_out}, {c_in}, 3]");
        let block = micro::block_rows(cpu_level::level());
        let mut points = vec![vec![0f32; c_out * c_in]; POINTS];
        for (oi, g) in w.chunks_exact(3).enumerate() {
            let (g0, g1, g2) = (g[0] as f64, g[1] as f64, g[2] as f64);
            let u = [g0 / 4.0, -(g0 + g1 + g2) / 6.0, -(g0 - g1 + g2) / 6.0, g0 / 24.0 + g1 / 12.0 + g2 / 6.0, g0 / 24.0 - g1 / 12.0 + g2 / 6.0, g2];
            for (p, v) in u.into_iter().enumerate() {
                points[p][oi] = v as f32;
            }
        }
        let packed: Vec<f32> = points.iter().flat_map(|u| micro::pack_weights(u, c_out, c_in, 1, block)).collect();
        WinogradWeights { per_point: packed.len() / POINTS, packed, block, c_out, c_in }
    }
}

/// The transformed inputs `Bᵀd` of every tile of one channel: `x` the channel's `l` values
/// (LeakyReLU with `slope` applied first when given), zero-padded by one step each side;
/// `v` `[POINTS][tiles]`, one point's row every `point_stride` values; `d` scratch of
/// `4·tiles + 2`.
fn input_transform_portable(x: &[f32], slope: Option<f32>, tiles: usize, v: &mut [f32], point_stride: usize, d: &mut [f32]) {
    let l = x.len();
    // d[1 + t] = act(x[t]), zero at d[0] and past l.
    d[0] = 0.0;
    for (dst, &s) in d[1..1 + l].iter_mut().zip(x) {
        *dst = match slope {
            Some(k) if s < 0.0 => s * k,
            _ => s,
        };
    }
    d[1 + l..].fill(0.0);
    let (v0, rest) = v.split_at_mut(point_stride);
    let (v1, rest) = rest.split_at_mut(point_stride);
    let (v2, rest) = rest.split_at_mut(point_stride);
    let (v3, rest) = rest.split_at_mut(point_stride);
    let (v4, v5) = rest.split_at_mut(point_stride);
    for j in 0..tiles {
        let t = &d[STEPS * j..STEPS * j + POINTS];
        let (d0, d1, d2, d3, d4, d5) = (t[0], t[1], t[2], t[3], t[4], t[5]);
        v0[j] = 4.0 * d0 - 5.0 * d2 + d4;
        v1[j] = (d3 + d4) - 4.0 * (d1 + d2);
        v2[j] = 4.0 * (d1 - d2) + (d4 - d3);
        v3[j] = 2.0 * (d3 - d1) + (d4 - d2);
        v4[j] = 2.0 * (d1 - d3) + (d4 - d2);
        v5[j] = 4.0 * d1 - 5.0 * d3 + d5;
    }
}
at_cpu_level!(fn input_transform(x: &[f32], slope: Option<f32>, tiles: usize, v: &mut [f32], point_stride: usize, d: &mut [f32]) => input_transform_portable);

/// One output row from its six point rows `m` `[POINTS][tiles]` (stride `point_stride`):
/// `y[4j + r] = Σ_p Aᵀ[r][p]·m_p[j] + bias (+ res)`, for the `y.len()` steps that exist.
fn output_transform_portable(m: &[f32], point_stride: usize, bias: f32, res: &[f32], y: &mut [f32]) {
    let l = y.len();
    let full = l / STEPS;
    for (j, out) in y[..full * STEPS].chunks_exact_mut(STEPS).enumerate() {
        out.copy_from_slice(&output_tile(m, point_stride, j, bias));
    }
    if full * STEPS < l {
        let last = output_tile(m, point_stride, full, bias);
        y[full * STEPS..].copy_from_slice(&last[..l - full * STEPS]);
    }
    if !res.is_empty() {
        y.iter_mut().zip(res).for_each(|(v, r)| *v += r);
    }
}

/// Tile `j`'s four outputs `Aᵀ·m + bias` (inlined into each level's [`output_transform`]).
#[inline(always)]
fn output_tile(m: &[f32], point_stride: usize, j: usize, bias: f32) -> [f32; STEPS] {
    let point = |p: usize| m[p * point_stride + j];
    let (m0, m1, m2, m3, m4, m5) = (point(0), point(1), point(2), point(3), point(4), point(5));
    let (a, b) = (m1 + m2, m1 - m2);
    let (c, e) = (m3 + m4, m3 - m4);
    [(m0 + a + c) + bias, (b + 2.0 * e) + bias, (a + 4.0 * c) + bias, (b + 8.0 * e + m5) + bias]
}
at_cpu_level!(fn output_transform(m: &[f32], point_stride: usize, bias: f32, res: &[f32], y: &mut [f32]) => output_transform_portable);

/// `x` `[b, c_in, l]` → `[b, c_out, l]`: the 3-tap conv with one step of zero padding each side
/// (dilation 1) of `w`, plus `bias` `[c_out]`, `res` (the output's shape) when given, LeakyReLU
/// with `pre_slope` on the input when given.
pub fn conv3(x: &[f32], b: usize, l: usize, w: &WinogradWeights, bias: &[f32], pre_slope: Option<f32>, res: Option<&[f32]>) -> Vec<f32> {
    let (c_in, c_out) = (w.c_in, w.c_out);
    let level = cpu_level::level();
    assert_eq!(w.block, micro::block_rows(level), "winograd: weights packed for another kernel level");
    let tiles = l.div_ceil(STEPS);
    let threads = cpu::threads();
    let mut out: Vec<f32> = Vec::with_capacity(b * c_out * l);
    let zeros = vec![0f32; c_out];
    for bi in 0..b {
        let x = &x[bi * c_in * l..][..c_in * l];
        // V: [c_in][POINTS][tiles] (point p's input rows every POINTS·tiles values).
        let per_channel = POINTS * tiles;
        let mut v: Vec<f32> = Vec::with_capacity(c_in * per_channel);
        let vp = OutPtr(v.as_mut_ptr());
        let transform = |rows: std::ops::Range<usize>| {
            let mut d = vec![0f32; STEPS * tiles + 2];
            // SAFETY: the rows of channels `rows`, written by this call alone.
            let v = unsafe { std::slice::from_raw_parts_mut(vp.get().add(rows.start * per_channel), rows.len() * per_channel) };
            for (i, v) in rows.zip(v.chunks_exact_mut(per_channel)) {
                input_transform(&x[i * l..(i + 1) * l], pre_slope, tiles, v, tiles, &mut d);
            }
        };
        if threads > 1 && c_in * l >= 1 << 14 {
            cpu::chunked(c_in, transform);
        } else {
            transform(0..c_in);
        }

        // Tasks: blocks of output rows, each the six contractions of its rows and their outputs.
        let rows = c_out.div_ceil(2 * threads).clamp(1, 64).next_multiple_of(w.block);
        let tasks = c_out.div_ceil(rows);
        // SAFETY: the transforms above wrote every channel's POINTS rows of `tiles` values.
        unsafe { v.set_len(c_in * per_channel) };
        // SAFETY (of the writes below): batch item bi's rows, inside `out`'s capacity.
        let yp = OutPtr(unsafe { out.as_mut_ptr().add(bi * c_out * l) });
        let res = res.map(|r| &r[bi * c_out * l..][..c_out * l]);
        let tile = Tile { c_in, k: 1, dilation: 1, xa_row: per_channel, y_row: tiles, block: w.block };
        let run = |task: usize| {
            let (r0, r1) = (task * rows, ((task + 1) * rows).min(c_out));
            let n = r1 - r0;
            // M: [POINTS][n][tiles].
            let mut m: Vec<f32> = Vec::with_capacity(POINTS * n * tiles);
            for p in 0..POINTS {
                for s0 in (0..tiles).step_by(SPAN) {
                    let len = SPAN.min(tiles - s0);
                    // SAFETY: rows r0..r1 of point p's [c_out, tiles] product, columns s0..s0+len,
                    // into this task's own buffer; the input V_p (c_in rows of `tiles`) and the packed
                    // block r0 / block of point p (r0 a multiple of the block) lie inside theirs.
                    unsafe {
                        let seed = Seed { bias: zeros.as_ptr().add(r0), res: std::ptr::null() };
                        let wp = w.packed.as_ptr().add(p * w.per_point + r0 * c_in);
                        micro::tile(level, tile, n, len, m.as_mut_ptr().add(p * n * tiles + s0), seed, v.as_ptr().add(p * tiles + s0), wp);
                    }
                }
            }
            // SAFETY: the contractions above wrote all n rows of `tiles` values of every point.
            unsafe { m.set_len(POINTS * n * tiles) };
            for (k, o) in (r0..r1).enumerate() {
                // SAFETY: output row o, written by this task alone.
                let y = unsafe { std::slice::from_raw_parts_mut(yp.get().add(o * l), l) };
                let r = res.map_or(&[][..], |r| &r[o * l..(o + 1) * l]);
                output_transform(&m[k * tiles..], n * tiles, bias[o], r, y);
            }
        };
        if tasks > 1 && threads > 1 {
            cpu::chunked(tasks, |range| range.for_each(run));
        } else {
            (0..tasks).for_each(run);
        }
    }
    // SAFETY: every batch item's output rows were written whole above.
    unsafe { out.set_len(b * c_out * l) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct 3-tap conv in f64 (padding 1), with the LeakyReLU.
    fn direct(x: &[f32], c_in: usize, l: usize, w: &[f32], c_out: usize, bias: &[f32], slope: Option<f32>) -> Vec<f64> {
        let act = |v: f32| match slope {
            Some(k) if v < 0.0 => (v * k) as f64,
            _ => v as f64,
        };
        let mut y = vec![0f64; c_out * l];
        for o in 0..c_out {
            for t in 0..l {
                let mut s = bias[o] as f64;
                for i in 0..c_in {
                    for tap in 0..3 {
                        let at = t as isize + tap as isize - 1;
                        if (0..l as isize).contains(&at) {
                            s += w[(o * c_in + i) * 3 + tap] as f64 * act(x[i * l + at as usize]);
                        }
                    }
                }
                y[o * l + t] = s;
            }
        }
        y
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 * 12.9898 + seed as f32 * 78.233).sin() * 43758.547).fract() - 0.5).collect()
    }

    /// Every length's tail (0–3 steps past the last whole tile), row counts off the block,
    /// the fused ReLU and residual: within a few times an f32 direct sum's rounding of f64.
    #[test]
    fn equals_the_direct_conv() {
        for (c_in, c_out, l, slope) in [(192, 768, 267, None), (768, 192, 53, Some(0.0)), (5, 7, 1, None), (16, 30, 6, Some(0.1)), (40, 13, 130, None), (3, 9, 3, None)] {
            let (x, w, bias) = (noise(c_in * l, 1), noise(c_out * c_in * 3, 2), noise(c_out, 3));
            let res = noise(c_out * l, 4);
            let want = direct(&x, c_in, l, &w, c_out, &bias, slope);
            let ww = WinogradWeights::new(&w, c_out, c_in);
            let got = conv3(&x, 1, l, &ww, &bias, slope, Some(&res));
            let scale = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1.0);
            let worst = got.iter().zip(&want).zip(&res).map(|((g, w), r)| (*g as f64 - (w + *r as f64)).abs()).fold(0f64, f64::max);
            // An f32 sum of 3·c_in products errs by up to ≈ √(3·c_in)·2⁻²⁴ of its scale; the
            // transforms' factors (≤ 8) and their own roundings add a few times that.
            let bound = 16.0 * ((3 * c_in) as f64).sqrt() * f32::EPSILON as f64 * scale;
            assert!(worst <= bound, "{c_in}→{c_out}, {l} steps: off by {worst:e} (bound {bound:e})");
        }
    }

    /// Two batch items give each its own conv.
    #[test]
    fn batch_items_are_independent() {
        let (c_in, c_out, l) = (8, 12, 21);
        let (x, w, bias) = (noise(2 * c_in * l, 5), noise(c_out * c_in * 3, 6), noise(c_out, 7));
        let ww = WinogradWeights::new(&w, c_out, c_in);
        let both = conv3(&x, 2, l, &ww, &bias, None, None);
        for bi in 0..2 {
            let one = conv3(&x[bi * c_in * l..(bi + 1) * c_in * l], 1, l, &ww, &bias, None, None);
            assert_eq!(&both[bi * c_out * l..(bi + 1) * c_out * l], &one[..]);
        }
    }
}
