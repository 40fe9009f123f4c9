//! Winograd's minimal filtering F(4, k) for 3- and 5-tap convolutions on the FMA kernels: four
//! outputs of a `k`-tap conv per tile from `n = k + 3` products per input channel instead of
//! `4·k` — F(4, 3) (6 points, half the products) and F(4, 5) (8 points, 2.5× fewer).
//!
//! For each tile of `M` (4) output steps, its `n` inputs `d` are transformed (`Bᵀd`, per input
//! channel), the taps `g` once per weight (`G·g`); each point `p` is then an ordinary channel
//! contraction, `M_p = U_p · V_p` (`[c_out, c_in] · [c_in, tiles]`, the 1×1 case of
//! [`super::cpu_microkernel`]), and the outputs are `Aᵀ·M` (Lavin & Gray 2016):
//!
//!   y\[tile step s\] = bias + Σ_p Aᵀ\[s\]\[p\] · Σ_i U_p\[o, i\] · V_p\[i, tile\]
//!
//! The matrices are Toom–Cook's at the points 0, ±1, ±2 (and ±½ for 8 points) and ∞, made in
//! f64 from the points ([`Transform`]): a correlation is the transpose of a linear
//! convolution, so `Bᵀ = V⁻ᵀ` (V: the points' Vandermonde matrix), `G` and `Aᵀ` evaluate the
//! taps and the outputs at the points. Dilated convs tile each residue class of the output
//! steps modulo the dilation: a tile's `m` outputs lie `dilation` apart and read inputs
//! `dilation` apart, which is an undilated conv of that class.
//!
//! Rounding grows a few times over the direct sum's (the transforms' factors; `tests` bound it
//! against f64; F(6, 3) or F(4, 7) would be 7× and 40×, so they are not used), and an output's
//! bits depend on the other inputs of its tile, so a conv over part of a sequence equals the
//! whole's within rounding, not bit for bit. The transforms are the same source at every level,
//! so AVX2 and AVX-512 give the same bits.

use std::sync::OnceLock;

use super::cpu::{self, OutPtr};
use super::cpu_level::{self, at_cpu_level};
use super::cpu_microkernel::{self as micro, Seed, Tile};

/// Columns of one kernel call (its input span stays in cache while all rows read it).
const SPAN: usize = 192;

/// Output steps per tile of every transform used: F(4, k).
pub const M: usize = 4;

/// F(M, k): points and the three transforms.
#[derive(Debug)]
pub struct Transform {
    /// Taps.
    pub k: usize,
    /// Points: inputs per tile and products per input channel and tile (`M + k − 1`).
    pub n: usize,
    /// `Bᵀ` `[n][n]`: row p is point p's combination of a tile's inputs.
    bt: Vec<f32>,
    /// `Aᵀ` `[M][n]`: row s is output step s's combination of the points.
    at: Vec<f32>,
    /// `G` `[n][k]` (f64: weights are transformed once, rounded once).
    g: Vec<f64>,
}

impl Transform {
    /// The transform for `k` taps, where one is used: F(4, 3), F(4, 5). (F(2, 7), the 7-tap
    /// one as accurate, has 8 points for 2 outputs: its transformed values, 4× the input, made
    /// the decoder's 7-tap convs no faster than the direct kernel.)
    pub fn for_taps(k: usize) -> Option<&'static Transform> {
        static T: [OnceLock<Transform>; 2] = [OnceLock::new(), OnceLock::new()];
        Some(match k {
            3 => T[0].get_or_init(|| Transform::new(3, &[0.0, 1.0, -1.0, 2.0, -2.0])),
            5 => T[1].get_or_init(|| Transform::new(5, &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5])),
            _ => return None,
        })
    }

    /// Toom–Cook's F(M, k) at the finite `points` and ∞ (`M + k − 2` finite points).
    fn new(k: usize, points: &[f64]) -> Self {
        let n = M + k - 1;
        assert_eq!(points.len() + 1, n, "winograd: F({M}, {k}) needs {} finite points", n - 1);
        // Row p of the evaluation at point p of a polynomial's `deg` coefficients (∞: the
        // leading one).
        let eval = |p: usize, deg: usize| -> Vec<f64> {
            match points.get(p) {
                Some(&a) => (0..deg).map(|e| a.powi(e as i32)).collect(),
                None => (0..deg).map(|e| f64::from(u8::from(e + 1 == deg))).collect(),
            }
        };
        let v: Vec<Vec<f64>> = (0..n).map(|p| eval(p, n)).collect();
        let v_inv = invert(v);
        let mut bt: Vec<Vec<f64>> = (0..n).map(|p| (0..n).map(|u| v_inv[u][p]).collect()).collect();
        let mut g: Vec<Vec<f64>> = (0..n).map(|p| eval(p, k)).collect();
        // Each point's factor moves to G (transformed once, in f64) so its Bᵀ row's largest
        // entry lies in [1, 2): a power of two, so Bᵀ's dyadic entries stay exact.
        for (b, g) in bt.iter_mut().zip(&mut g) {
            let largest = b.iter().fold(0f64, |a, v| a.max(v.abs()));
            let scale = 2f64.powi(largest.log2().floor() as i32);
            b.iter_mut().for_each(|v| *v = if v.abs() < 1e-12 { 0.0 } else { *v / scale });
            g.iter_mut().for_each(|v| *v *= scale);
        }
        let at = (0..M).flat_map(|s| (0..n).map(move |p| (p, s))).map(|(p, s)| eval(p, M)[s] as f32).collect();
        Transform { k, n, bt: bt.concat().into_iter().map(|v| v as f32).collect(), at, g: g.concat() }
    }
}

/// The inverse of a small well-conditioned square matrix (Gauss–Jordan, partial pivoting).
fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for c in 0..n {
        let pivot = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).expect("rows left");
        a.swap(c, pivot);
        inv.swap(c, pivot);
        let d = a[c][c];
        a[c].iter_mut().for_each(|v| *v /= d);
        inv[c].iter_mut().for_each(|v| *v /= d);
        for i in (0..n).filter(|&i| i != c) {
            let f = a[i][c];
            if f != 0.0 {
                for j in 0..n {
                    a[i][j] -= f * a[c][j];
                    inv[i][j] -= f * inv[c][j];
                }
            }
        }
    }
    inv
}

/// A weight `[c_out, c_in, k]` transformed to the points `U_p = G·g` and packed per point as a
/// 1×1 weight for [`cpu_level::level`]'s microkernel.
#[derive(Debug, Clone)]
pub struct WinogradWeights {
    t: &'static Transform,
    /// `[n][⌈c_out/block⌉][c_in][block]`
    packed: Vec<f32>,
    /// Values per point in `packed`.
    per_point: usize,
    block: usize,
    pub c_out: usize,
    pub c_in: usize,
}

impl WinogradWeights {
    /// From a weight `[c_out, c_in, k]`, row-major, for a `k` [`Transform::for_taps`] has.
    pub fn new(w: &[f32], c_out: usize, c_in: usize, k: usize) -> Option<Self> {
        let t = Transform::for_taps(k)?;
        assert_eq!(w.len(), c_out * c_in * k, "winograd: weight is not [{c_out}, {c_in}, {k}]");
        let block = micro::block_rows(cpu_level::level());
        let mut points = vec![vec![0f32; c_out * c_in]; t.n];
        for (oi, taps) in w.chunks_exact(k).enumerate() {
            for (p, point) in points.iter_mut().enumerate() {
                point[oi] = t.g[p * k..(p + 1) * k].iter().zip(taps).map(|(g, &w)| g * w as f64).sum::<f64>() as f32;
            }
        }
        let packed: Vec<f32> = points.iter().flat_map(|u| micro::pack_weights(u, c_out, c_in, 1, block)).collect();
        Some(WinogradWeights { t, per_point: packed.len() / t.n, packed, block, c_out, c_in })
    }

    /// Output steps per residue class of the dilation below which the direct kernel is
    /// faster (0: none). A contraction runs over a class's tiles, a quarter of its steps, in
    /// 16-lane vectors: a short sequence fills them poorly (19 tiles: 32 lanes for 19), which
    /// costs F(4, 3) its 2× below ≈ 64 steps (encoder FFN, 1 thread, Zen 4: 0.85–0.95× at 40
    /// steps, 0.98–1.07× at 75, 1.5× at 267; `examples/winograd_bench.rs`), while F(4, 5)'s
    /// 2.5× still wins at 60 (1.3×).
    pub fn direct_below(&self) -> usize {
        match self.t.k {
            3 => 64,
            _ => 0,
        }
    }
}

/// Where a conv's tiles lie: `tiles = dilation · per_class` tiles, tile `j·dilation + r` being
/// the `j`-th of residue class `r`, whose output step `s` is `r + dilation·(M·j + s)` and whose
/// input `u` is the padded input's `r + dilation·(M·j + u)`.
///
/// The transforms read and write whole rows of tiles at once (vectorised over tiles) through
/// `M` phase rows: phase `q` holds input `q` of every tile, `Q_q[j·dilation + r] = xa[r +
/// dilation·(M·j + q)]`, so tile input `u = M·a + q` is `Q_q[tile + a·dilation]`.
#[derive(Debug, Clone, Copy)]
struct Tiling {
    t: &'static Transform,
    dilation: usize,
    per_class: usize,
    tiles: usize,
    /// Length of a phase row: `dilation · (per_class + (n − 1)/M)`.
    phase: usize,
}

impl Tiling {
    /// The tiling of `l_out` output steps (`per_class` tiles per residue class).
    fn new(t: &'static Transform, l_out: usize, dilation: usize) -> Self {
        Self::of_classes(t, l_out.div_ceil(dilation).div_ceil(M), dilation)
    }

    /// `per_class` tiles per residue class of `dilation`.
    fn of_classes(t: &'static Transform, per_class: usize, dilation: usize) -> Self {
        Tiling { t, dilation, per_class, tiles: dilation * per_class, phase: dilation * (per_class + (t.n - 1) / M) }
    }

    /// Values of the padded input row the phase rows read: `M · phase`.
    fn padded(&self) -> usize {
        M * self.phase
    }
}

/// `dst[q][i] = src[i·M + q]`: the `M` phase rows of `len` of an undilated conv, in one pass.
#[inline(always)]
fn deinterleave(src: &[f32], dst: &mut [f32], len: usize) {
    let (r0, rest) = dst.split_at_mut(len);
    let (r1, rest) = rest.split_at_mut(len);
    let (r2, r3) = rest.split_at_mut(len);
    for ((((a, b), c), e), s) in r0.iter_mut().zip(r1.iter_mut()).zip(r2.iter_mut()).zip(r3[..len].iter_mut()).zip(src[..M * len].chunks_exact(M)) {
        (*a, *b, *c, *e) = (s[0], s[1], s[2], s[3]);
    }
}

/// [`deinterleave`] at dilation `d`, in runs of `d` values: `dst[q][j·d + r] = src[d·(M·j + q)
/// + r]`. Called with a literal `d` it inlines to a few moves per run.
#[inline(always)]
fn deinterleave_runs(src: &[f32], d: usize, dst: &mut [f32], len: usize) {
    for (q, row) in dst.chunks_exact_mut(len).take(M).enumerate() {
        for (j, run) in row.chunks_exact_mut(d).enumerate() {
            run.copy_from_slice(&src[d * (M * j + q)..][..d]);
        }
    }
}

/// The inverse of [`deinterleave_runs`] at dilation `d`, plus `bias`: `dst[d·(M·j + s) + r] =
/// src[s·len + j·d + r] + bias` for the `dst.len()` values. Called with a literal `d` it inlines
/// to a few moves per run.
#[inline(always)]
fn interleave_runs(src: &[f32], d: usize, len: usize, bias: f32, dst: &mut [f32]) {
    for (j, group) in dst.chunks_mut(d * M).enumerate() {
        for (s, run) in group.chunks_mut(d).enumerate() {
            let from = &src[s * len + j * d..][..run.len()];
            run.iter_mut().zip(from).for_each(|(o, &v)| *o = v + bias);
        }
    }
}

/// The transformed inputs `Bᵀd` of every tile of one channel, from its zero-padded, activated
/// row `xa` ([`Tiling::padded`] values): `v` `[n][tiles]`; `phases` scratch of `M·phase` (the
/// phase rows).
#[inline(always)]
fn input_transform_portable(xa: &[f32], g: &Tiling, v: &mut [f32], phases: &mut [f32]) {
    let (t, d, tiles, len) = (g.t, g.dilation, g.tiles, g.phase);
    // The decoders' dilations as literals (each inlined for its own), any other at run time.
    match d {
        1 => deinterleave(xa, phases, len),
        2 => deinterleave_runs(xa, 2, phases, len),
        3 => deinterleave_runs(xa, 3, phases, len),
        6 => deinterleave_runs(xa, 6, phases, len),
        12 => deinterleave_runs(xa, 12, phases, len),
        d => deinterleave_runs(xa, d, phases, len),
    }
    let phases = &*phases;
    let inputs = |u: usize| {
        let at = (u % M) * len + d * (u / M);
        &phases[at..at + tiles]
    };
    combine(&t.bt, t.n, inputs, &mut v[..t.n * tiles]);
}

/// `out[q][j] = Σ_u coef[q][u]·rows(u)[j]` for the `K` rows of `out` (`[K][len]`) from the
/// `N` input rows (each at least `len` long), in one pass over `j`: each column's inputs are
/// loaded once and its `K` sums stay in registers (`N`, `K` const: 6 or 8 points; 4 steps or
/// as many as the points).
#[inline(always)]
fn combine<'a>(coef: &[f32], n: usize, rows: impl Fn(usize) -> &'a [f32], out: &mut [f32]) {
    #[inline(always)]
    fn fixed<'a, const N: usize, const K: usize>(coef: &[f32], rows: impl Fn(usize) -> &'a [f32], out: &mut [f32]) {
        let len = out.len() / K;
        let coef: [[f32; N]; K] = std::array::from_fn(|q| coef[q * N..(q + 1) * N].try_into().expect("N coefficients"));
        let rows: [&[f32]; N] = std::array::from_fn(|u| &rows(u)[..len]);
        let mut chunks = out.chunks_exact_mut(len);
        let outs: [&mut [f32]; K] = std::array::from_fn(|_| chunks.next().expect("K rows"));
        for j in 0..len {
            let x: [f32; N] = std::array::from_fn(|u| rows[u][j]);
            for q in 0..K {
                let mut acc = 0.0;
                for u in 0..N {
                    acc += coef[q][u] * x[u];
                }
                outs[q][j] = acc;
            }
        }
    }
    match (n, coef.len() / n) {
        (6, 6) => fixed::<6, 6>(coef, rows, out),
        (6, 4) => fixed::<6, 4>(coef, rows, out),
        (8, 8) => fixed::<8, 8>(coef, rows, out),
        (8, 4) => fixed::<8, 4>(coef, rows, out),
        (n, k) => unreachable!("{k} sums of {n} points"),
    }
}
at_cpu_level!(fn input_transform(xa: &[f32], g: &Tiling, v: &mut [f32], phases: &mut [f32]) => input_transform_portable);

/// `dst[i·M + s] = src[s·len + i] + bias` for the `dst.len()` values (the inverse of
/// [`deinterleave`]).
#[inline(always)]
fn interleave(src: &[f32], len: usize, bias: f32, dst: &mut [f32]) {
    let whole = dst.len() / M;
    let (body, tail) = dst.split_at_mut(whole * M);
    let (r0, rest) = src.split_at(len);
    let (r1, rest) = rest.split_at(len);
    let (r2, r3) = rest.split_at(len);
    for ((((a, b), c), e), d) in r0.iter().zip(r1).zip(r2).zip(&r3[..len]).zip(body.chunks_exact_mut(M)) {
        (d[0], d[1], d[2], d[3]) = (a + bias, b + bias, c + bias, e + bias);
    }
    for (s, o) in tail.iter_mut().enumerate() {
        *o = src[s * len + whole] + bias;
    }
}

/// One output row from its point rows `m` `[n][tiles]` (stride `point_stride`):
/// `y[step] = Σ_p Aᵀ[s][p]·m_p[tile] + bias (+ res)` for the `y.len()` steps that exist; `ys`
/// scratch of `m·tiles` (the tiles' outputs, step by step).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn output_transform_portable(mp: &[f32], point_stride: usize, g: &Tiling, bias: f32, res: &[f32], y: &mut [f32], ys: &mut [f32]) {
    let (t, d, tiles) = (g.t, g.dilation, g.tiles);
    combine(&t.at, t.n, |p| &mp[p * point_stride..p * point_stride + tiles], &mut ys[..M * tiles]);
    // As in the input transform: the decoders' dilations as literals.
    match d {
        1 => interleave(ys, tiles, bias, y),
        2 => interleave_runs(ys, 2, tiles, bias, y),
        3 => interleave_runs(ys, 3, tiles, bias, y),
        6 => interleave_runs(ys, 6, tiles, bias, y),
        12 => interleave_runs(ys, 12, tiles, bias, y),
        d => interleave_runs(ys, d, tiles, bias, y),
    }
    if !res.is_empty() {
        y.iter_mut().zip(res).for_each(|(v, r)| *v += r);
    }
}
at_cpu_level!(fn output_transform(mp: &[f32], point_stride: usize, g: &Tiling, bias: f32, res: &[f32], y: &mut [f32], ys: &mut [f32]) => output_transform_portable);

/// `x` `[b, c_in, l]` → `[b, c_out, l_out]`, `l_out = l + 2·padding − dilation·(k − 1)`: the conv
/// of `w` with `padding` zeros each side at `dilation`, plus `bias` `[c_out]`, `res` (the
/// output's shape) when given, LeakyReLU with `pre_slope` on the input when given.
///
/// The tiles go in spans small enough that a span's transformed inputs and products stay in L2
/// from the input transform to the output transform (else the points' 1.5–4× more values than
/// the input make a narrow conv wait on memory); long sequences run their spans in parallel,
/// short ones split each span's channels and output rows over the threads.
#[allow(clippy::too_many_arguments)]
pub fn conv(x: &[f32], b: usize, l: usize, w: &WinogradWeights, bias: &[f32], padding: usize, dilation: usize, pre_slope: Option<f32>, res: Option<&[f32]>) -> Vec<f32> {
    let (c_in, c_out, t) = (w.c_in, w.c_out, w.t);
    assert_eq!(w.block, micro::block_rows(cpu_level::level()), "winograd: weights packed for another kernel level");
    let d = dilation.max(1);
    let l_out = (l + 2 * padding).checked_sub(d * (t.k - 1)).expect("winograd: input shorter than the kernel span");
    let whole = Tiling::new(t, l_out, d);
    // Spans of equal size, each at most SPAN_VALUES transformed values but at least 256 tiles.
    let most = ((SPAN_VALUES / (c_in * t.n)).max(256) / d).max(1);
    let spans = whole.per_class.div_ceil(most);
    let span_classes = whole.per_class.div_ceil(spans);
    let threads = cpu::threads();
    let mut out: Vec<f32> = Vec::with_capacity(b * c_out * l_out);
    for bi in 0..b {
        let x = &x[bi * c_in * l..][..c_in * l];
        // xa: [c_in][lp], each row `padding` zeros, the activated input, zeros to the last phase
        // row's end.
        let lp = whole.padded();
        let xa = cpu::padded_activation(x, c_in, l, (padding, lp - padding - l), pre_slope, threads);
        // SAFETY (of the writes below): batch item bi's rows, inside `out`'s capacity.
        let y = OutPtr(unsafe { out.as_mut_ptr().add(bi * c_out * l_out) });
        let res = res.map(|r| &r[bi * c_out * l_out..][..c_out * l_out]);
        let span = |s: usize, inner: usize| {
            let j0 = s * span_classes;
            let sc = span_classes.min(whole.per_class - j0);
            let g = Tiling::of_classes(t, sc, d);
            let steps = (d * M * j0)..(d * M * (j0 + sc)).min(l_out);
            let job = Span { w, bias, xa: &xa, lp, from: d * M * j0, g, steps, y, l_out, res };
            job.run(inner);
        };
        if threads > 1 && spans >= 2 * threads {
            cpu::chunked(spans, |range| range.for_each(|s| span(s, 1)));
        } else {
            (0..spans).for_each(|s| span(s, threads));
        }
    }
    // SAFETY: every batch item's output rows were written whole above.
    unsafe { out.set_len(b * c_out * l_out) };
    out
}

/// Whether a `k`-tap conv over `c_in` channels is faster as Winograd's than on the direct
/// kernel: with a transform for `k`, and at least 64 input channels, so that each transformed
/// value feeds enough products to pay for the transforms (single-thread, Zen 4, 2026-12-04: a
/// 5-tap conv 1.2–1.65× faster at 64–384 channels, a 3-tap one 1.1–1.2× at 64–192; at 32
/// channels both were slower, 0.74× and 0.95×).
pub fn pays(c_in: usize, k: usize) -> bool {
    Transform::for_taps(k).is_some() && c_in >= 64
}

/// Values of one span's transformed inputs (`c_in · n · tiles`) aimed at: a few hundred KB,
/// inside L2 with its products.
const SPAN_VALUES: usize = 1 << 17;

/// One span of a conv's tiles: its output steps of every row.
struct Span<'a> {
    w: &'a WinogradWeights,
    bias: &'a [f32],
    /// The padded, activated input `[c_in][lp]`; the span's tiles start at `from` in each row.
    xa: &'a [f32],
    lp: usize,
    from: usize,
    /// The span's own tiling (tile 0 its first).
    g: Tiling,
    /// Output steps the span writes.
    steps: std::ops::Range<usize>,
    /// The output `[c_out][l_out]`, and the residual added to it.
    y: OutPtr,
    l_out: usize,
    res: Option<&'a [f32]>,
}

impl Span<'_> {
    /// The span's input transforms, contractions and output transforms, on up to `threads`
    /// threads.
    fn run(&self, threads: usize) {
        let (w, t, g) = (self.w, self.w.t, self.g);
        let (c_in, c_out, tiles) = (w.c_in, w.c_out, g.tiles);
        let level = cpu_level::level();
        // V: [c_in][n][tiles] (point p's input rows every n·tiles values).
        let per_channel = t.n * tiles;
        let mut v: Vec<f32> = Vec::with_capacity(c_in * per_channel);
        let vp = OutPtr(v.as_mut_ptr());
        let transform = |rows: std::ops::Range<usize>| {
            let mut phases = vec![0f32; M * g.phase];
            // SAFETY: the rows of channels `rows`, written by this call alone.
            let v = unsafe { std::slice::from_raw_parts_mut(vp.get().add(rows.start * per_channel), rows.len() * per_channel) };
            for (i, v) in rows.zip(v.chunks_exact_mut(per_channel)) {
                input_transform(&self.xa[i * self.lp + self.from..(i + 1) * self.lp], &g, v, &mut phases);
            }
        };
        if threads > 1 && c_in * tiles >= 1 << 12 {
            cpu::chunked(c_in, transform);
        } else {
            transform(0..c_in);
        }
        // SAFETY: the transforms above wrote every channel's n rows of `tiles` values.
        unsafe { v.set_len(c_in * per_channel) };

        // Tasks: blocks of output rows, each the n contractions of its rows and their outputs.
        let rows = c_out.div_ceil(2 * threads).clamp(1, 64).next_multiple_of(w.block);
        let tasks = c_out.div_ceil(rows);
        let zeros = vec![0f32; rows];
        let tile = Tile { c_in, k: 1, dilation: 1, xa_row: per_channel, y_row: tiles, block: w.block };
        let run = |task: usize| {
            let (r0, r1) = (task * rows, ((task + 1) * rows).min(c_out));
            let n = r1 - r0;
            // M: [n points][n rows][tiles].
            let mut m: Vec<f32> = Vec::with_capacity(t.n * n * tiles);
            for p in 0..t.n {
                for s0 in (0..tiles).step_by(SPAN) {
                    let len = SPAN.min(tiles - s0);
                    // SAFETY: rows r0..r1 of point p's [c_out, tiles] product, columns s0..s0+len,
                    // into this task's own buffer; the input V_p (c_in rows of `tiles`) and the packed
                    // block r0 / block of point p (r0 a multiple of the block) lie inside theirs.
                    unsafe {
                        let seed = Seed { bias: zeros.as_ptr(), res: std::ptr::null() };
                        let wp = w.packed.as_ptr().add(p * w.per_point + r0 * c_in);
                        micro::tile(level, tile, n, len, m.as_mut_ptr().add(p * n * tiles + s0), seed, v.as_ptr().add(p * tiles + s0), wp);
                    }
                }
            }
            // SAFETY: the contractions above wrote all n rows of `tiles` values of every point.
            unsafe { m.set_len(t.n * n * tiles) };
            let mut ys = vec![0f32; M * tiles];
            let steps = self.steps.clone();
            for (k, o) in (r0..r1).enumerate() {
                // SAFETY: the span's steps of output row o, written by this task alone.
                let y = unsafe { std::slice::from_raw_parts_mut(self.y.get().add(o * self.l_out + steps.start), steps.len()) };
                let r = self.res.map_or(&[][..], |r| &r[o * self.l_out..][steps.clone()]);
                output_transform(&m[k * tiles..], n * tiles, &g, self.bias[o], r, y, &mut ys);
            }
        };
        if tasks > 1 && threads > 1 {
            cpu::chunked(tasks, |range| range.for_each(run));
        } else {
            (0..tasks).for_each(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct conv in f64 (`padding` zeros each side, `dilation`), with the LeakyReLU.
    #[allow(clippy::too_many_arguments)]
    fn direct(x: &[f32], c_in: usize, l: usize, w: &[f32], c_out: usize, k: usize, bias: &[f32], padding: usize, dilation: usize, slope: Option<f32>) -> Vec<f64> {
        let act = |v: f32| match slope {
            Some(s) if v < 0.0 => (v * s) as f64,
            _ => v as f64,
        };
        let l_out = l + 2 * padding - dilation * (k - 1);
        let mut y = vec![0f64; c_out * l_out];
        for o in 0..c_out {
            for t in 0..l_out {
                let mut s = bias[o] as f64;
                for i in 0..c_in {
                    for tap in 0..k {
                        let at = t as isize + (tap * dilation) as isize - padding as isize;
                        if (0..l as isize).contains(&at) {
                            s += w[(o * c_in + i) * k + tap] as f64 * act(x[i * l + at as usize]);
                        }
                    }
                }
                y[o * l_out + t] = s;
            }
        }
        y
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 * 12.9898 + seed as f32 * 78.233).sin() * 43758.547).fract() - 0.5).collect()
    }

    /// The transforms are exact on small integers: F(m, k) of integer inputs and taps gives
    /// the integer correlation, every tap and every tile step.
    #[test]
    fn transforms_compute_the_correlation() {
        for k in [3, 5] {
            let t = Transform::for_taps(k).expect("a transform");
            let d: Vec<f64> = (0..t.n).map(|u| (u as f64 * 3.0 + 1.0) % 7.0 - 3.0).collect();
            let g: Vec<f64> = (0..k).map(|j| (j as f64 * 5.0 + 2.0) % 5.0 - 2.0).collect();
            let u: Vec<f64> = (0..t.n).map(|p| (0..k).map(|j| t.g[p * k + j] * g[j]).sum()).collect();
            let v: Vec<f64> = (0..t.n).map(|p| (0..t.n).map(|i| t.bt[p * t.n + i] as f64 * d[i]).sum()).collect();
            for s in 0..M {
                let got: f64 = (0..t.n).map(|p| t.at[s * t.n + p] as f64 * u[p] * v[p]).sum();
                let want: f64 = (0..k).map(|j| g[j] * d[s + j]).sum();
                assert!((got - want).abs() < 1e-6, "F({M}, {k}) step {s}: {got} vs {want}");
            }
        }
    }

    /// Every tap count, dilations with tiles of several residue classes, lengths with partial
    /// tiles, sequences of several spans, "same" and other paddings, row counts off the block, the fused ReLU and residual:
    /// within a few times an f32 direct sum's rounding of f64.
    #[test]
    fn equals_the_direct_conv() {
        let cases = [
            (192, 768, 3, 1, 1, 267, None),
            (768, 192, 3, 1, 1, 53, Some(0.0)),
            (5, 7, 3, 1, 1, 1, None),
            (16, 30, 3, 1, 1, 6, Some(0.1)),
            (40, 13, 3, 2, 2, 130, None),
            (3, 9, 3, 1, 1, 3, None),
            (64, 64, 5, 2, 4, 77, Some(0.1)),
            (96, 192, 5, 1, 2, 45, None),
            (24, 40, 5, 6, 12, 200, Some(0.1)),
            (64, 64, 5, 3, 6, 61, Some(0.1)),
            (33, 17, 5, 12, 24, 300, None),
            (16, 16, 5, 5, 10, 90, None),
            (16, 16, 3, 6, 6, 41, Some(0.1)),
            (20, 8, 3, 1, 0, 11, None),
            (8, 8, 5, 1, 0, 5, None),
            (64, 64, 3, 1, 1, 4000, None),
            (64, 32, 5, 2, 4, 3000, Some(0.1)),
        ];
        for (c_in, c_out, k, dilation, padding, l, slope) in cases {
            let (x, w, bias) = (noise(c_in * l, 1), noise(c_out * c_in * k, 2), noise(c_out, 3));
            let l_out = l + 2 * padding - dilation * (k - 1);
            let res = noise(c_out * l_out, 4);
            let want = direct(&x, c_in, l, &w, c_out, k, &bias, padding, dilation, slope);
            let ww = WinogradWeights::new(&w, c_out, c_in, k).expect("a transform");
            let got = conv(&x, 1, l, &ww, &bias, padding, dilation, slope, Some(&res));
            assert_eq!(got.len(), c_out * l_out);
            let scale = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1.0);
            let worst = got.iter().zip(&want).zip(&res).map(|((g, w), r)| (*g as f64 - (w + *r as f64)).abs()).fold(0f64, f64::max);
            // An f32 sum of k·c_in products errs by up to ≈ √(k·c_in)·2⁻²⁴ of its scale; the
            // transforms' factors and their own roundings add a few times that.
            let bound = 16.0 * ((k * c_in) as f64).sqrt() * f32::EPSILON as f64 * scale;
            assert!(worst <= bound, "{c_in}→{c_out}, k {k}, dilation {dilation}, {l} steps: off by {worst:e} (bound {bound:e})");
        }
    }

    /// Two batch items give each its own conv.
    #[test]
    fn batch_items_are_independent() {
        let (c_in, c_out, l, k) = (8, 12, 21, 5);
        let (x, w, bias) = (noise(2 * c_in * l, 5), noise(c_out * c_in * k, 6), noise(c_out, 7));
        let ww = WinogradWeights::new(&w, c_out, c_in, k).expect("a transform");
        let both = conv(&x, 2, l, &ww, &bias, 4, 2, None, None);
        for bi in 0..2 {
            let one = conv(&x[bi * c_in * l..(bi + 1) * c_in * l], 1, l, &ww, &bias, 4, 2, None, None);
            assert_eq!(&both[bi * c_out * l..(bi + 1) * c_out * l], &one[..]);
        }
    }
}
