//! The inner loop of the CPU convolution ([`super::cpu_conv`]), once per instruction-set level.
//!
//! A tile of the output — a few output channels × a run of time steps — is accumulated in
//! registers over every input channel and tap:
//!
//!   y[o + r, t] = (residual[o + r, t] + bias[o + r]) + Σ_i Σ_tap W[o + r, i, tap] · xa[i, t + tap·dilation]
//!
//! where `xa` is the activated, zero-padded input (the residual is optional). Time is
//! the vectorised axis (it is contiguous in `xa` and `y`): each step loads a few vectors of one
//! input row and multiplies them by one broadcast weight per output channel. Nothing is gathered or repacked
//! but the weights, once per conv, as `[o/B][i][tap][B]` ([`pack_weights`]), B being the rows of
//! the level's register tile ([`block_rows`]), so one pointer and constant offsets reach them.
//! At AVX-512 the 1–12 steps a run's whole vectors leave go 4 output channels × 4 steps per
//! vector instead (`avx512::few_steps`: a short window's few Winograd tiles fill its lanes), at
//! AVX2 the 1–6 left go 6 output channels per vector, one step broadcast (`avx2::few_steps`),
//! with every sum the same chain as here.
//!
//! Sums run over input channels in chunks of about [`CHUNK_TERMS`] products: each chunk starts
//! from zero and is then added to the output (as a blocked GEMM adds its k-blocks), which keeps
//! the rounding error of long sums (768 channels × 3 taps) near that of short ones. Every output
//! element is the same chain of fused multiply-adds in the same order (chunk, channel, tap) at the
//! AVX2 and AVX-512 levels (tails are masked vectors, not scalar loops), so the two give identical
//! bits; the portable level rounds each product and each sum separately.

use super::cpu_level::CpuLevel;

/// Output channels per block of the packed weights at `level`: the rows of its register tile.
pub fn block_rows(level: CpuLevel) -> usize {
    match level {
        #[cfg(target_arch = "x86_64")]
        CpuLevel::Avx512 | CpuLevel::Amx => <avx512::Avx512 as Lanes>::G,
        #[cfg(target_arch = "x86_64")]
        CpuLevel::Avx2 => <avx2::Avx2 as Lanes>::G,
        _ => portable::ROWS,
    }
}

/// About how many products one chunk of a sum holds (whole input channels of k taps each).
pub const CHUNK_TERMS: usize = 256;

/// Input channels per chunk: chunks of at most max(k, CHUNK_TERMS) products, equal in size but
/// the last.
fn chunk_channels(c_in: usize, k: usize) -> usize {
    let most = (CHUNK_TERMS / k).max(1);
    c_in.div_ceil(c_in.div_ceil(most).max(1)).max(1)
}

/// The shapes and strides one [`tile`] call works on (all in elements).
#[derive(Debug, Clone, Copy)]
pub struct Tile {
    /// Input channels.
    pub c_in: usize,
    /// Kernel taps.
    pub k: usize,
    pub dilation: usize,
    /// Distance between input rows of `xa`.
    pub xa_row: usize,
    /// Distance between output rows of `y`.
    pub y_row: usize,
    /// Rows per block of the packed weights ([`block_rows`] of the level the call runs).
    pub block: usize,
}

/// `W` `[c_out, c_in, k]` → `[⌈c_out/B⌉][c_in][k][B]` for blocks of `b` rows, zero past `c_out`.
pub fn pack_weights(w: &[f32], c_out: usize, c_in: usize, k: usize, b: usize) -> Vec<f32> {
    let blocks = c_out.div_ceil(b);
    let mut p = vec![0f32; blocks * c_in * k * b];
    for o in 0..c_out {
        let (blk, r) = (o / b, o % b);
        for i in 0..c_in {
            for tap in 0..k {
                p[((blk * c_in + i) * k + tap) * b + r] = w[(o * c_in + i) * k + tap];
            }
        }
    }
    p
}

/// [`pack_weights`] of a 1×1 weight given as its transpose `wt` `[c_in, c_out]`: each block's
/// rows for one input channel are `b` consecutive values of `wt`'s row.
pub fn pack_weights_transposed(wt: &[f32], c_out: usize, c_in: usize, b: usize) -> Vec<f32> {
    let blocks = c_out.div_ceil(b);
    let mut p = vec![0f32; blocks * c_in * b];
    for blk in 0..blocks {
        let (o0, n) = (blk * b, b.min(c_out - blk * b));
        for i in 0..c_in {
            p[(blk * c_in + i) * b..][..n].copy_from_slice(&wt[i * c_out + o0..][..n]);
        }
    }
    p
}

/// Where a tile's sums start: `bias[r]` (+ `res[r·y_row + t]` when `res` is not null).
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    pub bias: *const f32,
    pub res: *const f32,
}

impl Seed {
    /// The same seed for the tile `rows` rows and `cols` columns further on.
    #[inline(always)]
    unsafe fn at(self, s: Tile, rows: usize, cols: usize) -> Seed {
        Seed { bias: self.bias.add(rows), res: if self.res.is_null() { self.res } else { self.res.add(rows * s.y_row + cols) } }
    }
}

/// Writes `rows` output rows × `n` time steps, `y[r·y_row + t]` for r < rows, t < n, from the
/// seed, `xa[i·xa_row + t + tap·dilation]` and the packed weights `wp` of these rows (starting
/// at a row block: `[⌈rows/B⌉][c_in][k][B]`, B = `s.block` = [`block_rows`] of `level`).
///
/// # Safety
/// `y` must be valid for writes of that region, the seed's `bias` for reads of `rows` values and
/// its `res` (unless null) for reads of the region, `xa` for reads of `c_in` rows of
/// `n + (k − 1)·dilation` values, `wp` for the packed blocks of `rows` rows.
#[allow(clippy::too_many_arguments)]
pub unsafe fn tile(level: CpuLevel, s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
    match level {
        #[cfg(target_arch = "x86_64")]
        CpuLevel::Avx512 | CpuLevel::Amx => avx512::tile(s, rows, n, y, seed, xa, wp),
        #[cfg(target_arch = "x86_64")]
        CpuLevel::Avx2 => avx2::tile(s, rows, n, y, seed, xa, wp),
        _ => portable::tile(s, rows, n, y, seed, xa, wp),
    }
}

/// Row `r`'s weights in the packed blocks `wp`: entry (i, tap) is at `(i·k + tap)·s.block`.
#[inline(always)]
unsafe fn weight_row(s: Tile, wp: *const f32, r: usize) -> *const f32 {
    wp.add((r / s.block) * s.c_in * s.k * s.block + r % s.block)
}

/// One output element's chain with the portable level's rounding (used for every element there).
#[inline(always)]
unsafe fn chain_separate(s: Tile, y: *mut f32, start: f32, xa: *const f32, w: *const f32) {
    let mut total = start;
    let per = chunk_channels(s.c_in, s.k);
    for i0 in (0..s.c_in).step_by(per) {
        let mut acc = 0.0f32;
        for i in i0..(i0 + per).min(s.c_in) {
            let x = xa.add(i * s.xa_row);
            for tap in 0..s.k {
                acc += *w.add((i * s.k + tap) * s.block) * *x.add(tap * s.dilation);
            }
        }
        total += acc;
    }
    *y = total;
}

mod portable {
    use super::*;

    /// Time steps per register tile: arrays the compiler keeps in whatever vector registers the
    /// target has (two of SSE2's or NEON's four lanes), so the portable level is vectorised too.
    const STEPS: usize = 8;
    /// Rows per register tile: one block of the packed weights ([`block_rows`]).
    pub const ROWS: usize = 4;

    /// Register tiles of [`ROWS`] × [`STEPS`] where whole, [`chain_separate`] for the steps
    /// after the last whole tile: the same chain per element either way (start, then per chunk
    /// a sum from zero over channels and taps in order, added to it), so the same bits.
    pub unsafe fn tile(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        debug_assert_eq!(s.block, ROWS);
        let whole = n - n % STEPS;
        for r0 in (0..rows).step_by(ROWS) {
            let (w, nr) = (weight_row(s, wp, r0), ROWS.min(rows - r0));
            for t0 in (0..whole).step_by(STEPS) {
                register_tile(s, nr, y.add(r0 * s.y_row + t0), seed.at(s, r0, t0), xa.add(t0), w);
            }
            for r in r0..r0 + nr {
                for t in whole..n {
                    chain_separate(s, y.add(r * s.y_row + t), start(s, seed, r, t), xa.add(t), weight_row(s, wp, r));
                }
            }
        }
    }

    /// Where row `r`, step `t`'s sum starts.
    #[inline(always)]
    unsafe fn start(s: Tile, seed: Seed, r: usize, t: usize) -> f32 {
        match seed.res.is_null() {
            true => *seed.bias.add(r),
            false => *seed.res.add(r * s.y_row + t) + *seed.bias.add(r),
        }
    }

    /// Rows `0..nr` (≤ [`ROWS`]) × [`STEPS`] steps; `w` is the start of their packed block
    /// (its rows past `nr` are the packing's zeros: computed, not written).
    #[inline(always)]
    unsafe fn register_tile(s: Tile, nr: usize, y: *mut f32, seed: Seed, xa: *const f32, w: *const f32) {
        let mut total = [[0f32; STEPS]; ROWS];
        for (r, row) in total.iter_mut().enumerate().take(nr) {
            for (t, v) in row.iter_mut().enumerate() {
                *v = start(s, seed, r, t);
            }
        }
        let per = chunk_channels(s.c_in, s.k);
        for i0 in (0..s.c_in).step_by(per) {
            let mut acc = [[0f32; STEPS]; ROWS];
            for i in i0..(i0 + per).min(s.c_in) {
                let (x, wi) = (xa.add(i * s.xa_row), w.add(i * s.k * ROWS));
                for tap in 0..s.k {
                    let xv = std::ptr::read_unaligned(x.add(tap * s.dilation) as *const [f32; STEPS]);
                    let wv = std::ptr::read_unaligned(wi.add(tap * ROWS) as *const [f32; ROWS]);
                    for (row, wr) in acc.iter_mut().zip(wv) {
                        for (a, xt) in row.iter_mut().zip(xv) {
                            *a += wr * xt;
                        }
                    }
                }
            }
            for (trow, arow) in total.iter_mut().zip(&acc) {
                for (t, a) in trow.iter_mut().zip(arow) {
                    *t += a;
                }
            }
        }
        for (r, row) in total.iter().enumerate().take(nr) {
            std::ptr::copy_nonoverlapping(row.as_ptr(), y.add(r * s.y_row), STEPS);
        }
    }
}

/// The vector operations the kernel needs, per instruction set. Every method assumes the CPU
/// has that set (the caller is a `#[target_feature]` function of it, into which these inline).
trait Lanes {
    type V: Copy;
    type Mask: Copy;
    /// f32 per vector.
    const WIDTH: usize;
    /// Rows and time vectors per register tile: G·NV accumulators + NV inputs + 1 weight fit the
    /// register file.
    const G: usize;
    const NV: usize;
    /// Rows per register tile for runs of 1, 2, 3 vectors (a short window's few time steps;
    /// index 0 unused): more rows read each loaded input vector, so a tile still has enough
    /// independent sums in flight. Multiples of G (whole blocks of the packed weights), at
    /// most 12, rows × vectors accumulators + vectors + 1 within the register file.
    const G_SHORT: [usize; 4];
    /// The first `left` lanes (all for `left` ≥ WIDTH).
    unsafe fn mask(left: usize) -> Self::Mask;
    /// Whether `m` holds every lane.
    fn is_full(m: Self::Mask) -> bool;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: f32) -> Self::V;
    /// The masked lanes of `p`, zero elsewhere.
    unsafe fn load(p: *const f32, m: Self::Mask) -> Self::V;
    /// Writes the masked lanes.
    unsafe fn store(p: *mut f32, m: Self::Mask, v: Self::V);
    /// a · b + c, rounded once.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// Asks for the cache line at `p` to be brought into L1 (a hint: no fault, no effect on
    /// results).
    unsafe fn prefetch(p: *const f32);
}

/// [`tile`] for one instruction set: time in runs of NV vectors (the last run as many as are
/// left, its last vector masked), rows in groups of G (G_SHORT for runs of 1 to 3 vectors).
/// The group sizes change only which sums share a register tile, not any sum.
#[inline(always)]
unsafe fn tile_with<L: Lanes>(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
    // The vector counts instantiated below (a const generic cannot be L::NV itself).
    const {
        assert!(L::NV <= 6 && L::G <= 6);
        let mut nv = 1;
        while nv < 4 {
            assert!(L::G_SHORT[nv] <= 12 && L::G_SHORT[nv] % L::G == 0);
            nv += 1;
        }
    };
    debug_assert_eq!(s.block, L::G, "weights packed for another level");
    let per = chunk_channels(s.c_in, s.k);
    let mut t = 0;
    while t < n {
        // Runs of NV vectors; the last run as many as are left, its last vector masked.
        let left = n - t;
        let nv = left.div_ceil(L::WIDTH).min(L::NV);
        let mask = L::mask(left - (nv - 1) * L::WIDTH);
        let group = if nv <= 3 { L::G_SHORT[nv] } else { L::G };
        // One chunk of input channels for every row group before the next chunk: the chunk's
        // input (≈ CHUNK_TERMS / k rows of the run) stays in L1 while all rows read it. Each
        // output still adds its chunks in order.
        for i0 in (0..s.c_in).step_by(per) {
            let chunk = (i0, (i0 + per).min(s.c_in));
            for g in (0..rows).step_by(group) {
                let (yg, seed_g, rows_g) = (y.add(g * s.y_row + t), seed.at(s, g, t), group.min(rows - g));
                // On the first run of time steps, the weights the run after this one reads
                // first (the next row group's in this chunk, or the first group's in the next
                // chunk) are fetched while this one runs: each run's weights are a short
                // stretch of the packed array away from the last one's, too short for the
                // hardware's stream detection when they come from memory (a short window of the
                // flow: 1.5 MB per conv, 16 convs, cold; measured 20–25 % faster). Later runs
                // find them in L2, where the extra instructions only cost.
                let next = if t > 0 {
                    None
                } else if g + group < rows {
                    Some(weights_at::<L>(s, wp, g + group, i0))
                } else if chunk.1 < s.c_in {
                    Some(weights_at::<L>(s, wp, 0, chunk.1))
                } else {
                    None
                };
                // Const-generic instances for every row count of a group and vector count of a run
                // (7 to 12 rows only in runs of 1 to 3 vectors).
                macro_rules! rows {
                    ($nv:expr) => {
                        match rows_g {
                            1 => run::<L, 1, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            2 => run::<L, 2, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            3 => run::<L, 3, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            4 => run::<L, 4, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            5 => run::<L, 5, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            6 => run::<L, 6, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            _ => unreachable!("groups of more than 6 rows only in short runs"),
                        }
                    };
                    (short $nv:expr) => {
                        match rows_g {
                            7 => run::<L, 7, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            8 => run::<L, 8, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            9 => run::<L, 9, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            10 => run::<L, 10, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            11 => run::<L, 11, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            12 => run::<L, 12, { $nv }>(s, yg, seed_g, xa.add(t), wp, g, chunk, mask, next),
                            _ => rows!($nv),
                        }
                    };
                }
                match nv {
                    1 => rows!(short 1),
                    2 => rows!(short 2),
                    3 if L::NV >= 3 => rows!(short 3),
                    4 if L::NV >= 4 => rows!(4),
                    5 if L::NV >= 5 => rows!(5),
                    _ if L::NV >= 6 => rows!(6),
                    _ => unreachable!("runs hold at most L::NV vectors"),
                }
            }
        }
        t += L::WIDTH * nv;
    }
}

/// [`tile_with`] over the whole vectors of steps, and the 1 to `few_most` steps they leave (if
/// that many) through `few` (a level's few-steps path, called as [`tile`] is, on those steps).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn whole_then_few<L: Lanes>(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32, few_most: usize, few: impl FnOnce(Tile, usize, usize, *mut f32, Seed, *const f32, *const f32)) {
    let left = n % L::WIDTH;
    if s.block != L::G || !(1..=few_most).contains(&left) {
        return tile_with::<L>(s, rows, n, y, seed, xa, wp);
    }
    let whole = n - left;
    if whole > 0 {
        tile_with::<L>(s, rows, whole, y, seed, xa, wp);
    }
    few(s, rows, left, y.add(whole), seed.at(s, 0, whole), xa.add(whole), wp)
}

/// The packed weights of row group `g` (a multiple of G) from input channel `i` on.
#[inline(always)]
unsafe fn weights_at<L: Lanes>(s: Tile, wp: *const f32, g: usize, i: usize) -> *const f32 {
    wp.add((g / L::G) * s.c_in * s.k * L::G + i * s.k * L::G)
}

/// R rows (from row `g`, a multiple of G; R ≤ 12, over one or more blocks of the packed weights)
/// × NV vectors, the sum over input channels `chunk` = [i0, i1) added to them; `mask` selects
/// the time steps of the last vector (all of them but at a tail). While it runs, the first
/// `i1 − i0` channels' weights from `next` on are prefetched (of as many blocks as R spans).
// Index loops over the register tile: the compiler keeps acc[r][v] in registers.
#[allow(clippy::needless_range_loop, clippy::too_many_arguments)]
#[inline(always)]
unsafe fn run<L: Lanes, const R: usize, const NV: usize>(s: Tile, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32, g: usize, chunk: (usize, usize), mask: L::Mask, next: Option<*const f32>) {
    // Rows g.. are rows 0.. of packed block g / G (the caller checked s.block == G).
    let w = wp.add((g / L::G) * s.c_in * s.k * L::G);
    let full = L::mask(L::WIDTH);
    let i0 = chunk.0;
    {
        // A run whose last vector is whole loads without its mask: the loop then keeps no mask
        // in a register (AVX2's 6 × 2 tile uses all 16 and spilled it) and tests nothing.
        let acc = if L::is_full(mask) {
            sums::<L, R, NV>(s, w, xa, chunk, full, next)
        } else {
            sums::<L, R, NV>(s, w, xa, chunk, mask, next)
        };
        // y = (first chunk ? residual + bias : y) + this chunk's sum.
        for r in 0..R {
            for v in 0..NV {
                let at = r * s.y_row + L::WIDTH * v;
                let mask = if v + 1 == NV { mask } else { full };
                let before = if i0 > 0 {
                    L::load(y.add(at), mask)
                } else {
                    let bias = L::splat(*seed.bias.add(r));
                    match seed.res.is_null() {
                        true => bias,
                        false => L::add(L::load(seed.res.add(at), mask), bias),
                    }
                };
                L::store(y.add(at), mask, L::add(before, acc[r][v]));
            }
        }
    }
}

/// [`run`]'s sums over the input channels `chunk` (`w`: its rows' packed weights), the last
/// vector's loads under `last`. The runs that prefetch (a conv's first) and those that do not
/// are instances of their own, and the loop walks its input and weight pointers: with the
/// prefetch test and the index arithmetic in every channel's loop, AVX2's (12 multiply-adds a
/// tap) ran a Winograd contraction, one tap per channel, 2–14 % slower. Both instances add the
/// same products in the same order.
#[inline(always)]
unsafe fn sums<L: Lanes, const R: usize, const NV: usize>(s: Tile, w: *const f32, xa: *const f32, chunk: (usize, usize), last: L::Mask, next: Option<*const f32>) -> [[L::V; NV]; R] {
    match next {
        Some(next) => sums_taps::<L, R, NV, true>(s, w, xa, chunk, last, next),
        None => sums_taps::<L, R, NV, false>(s, w, xa, chunk, last, std::ptr::null()),
    }
}

/// [`sums`] over every tap, prefetching the next run's weights from `next` when `PREFETCH`.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn sums_taps<L: Lanes, const R: usize, const NV: usize, const PREFETCH: bool>(s: Tile, w: *const f32, xa: *const f32, chunk: (usize, usize), last: L::Mask, next: *const f32) -> [[L::V; NV]; R] {
    // Row r's weights lie in block r / G, a block's length on for each block.
    let block_len = s.c_in * s.k * L::G;
    let blocks = R.div_ceil(L::G);
    let full = L::mask(L::WIDTH);
    let (i0, i1) = chunk;
    let mut acc = [[L::zero(); NV]; R];
    let per_channel = s.k * L::G;
    for i in i0..i1 {
        if PREFETCH {
            // One channel's worth of the next run's weights per channel of this one: a hint
            // every 16 f32 (a line) from the channel's first weight. A line may be asked for
            // more than once; working out each line once cost more (at `avx2` S's first
            // window 7.1 → 6.7 ms without it). The next run may hold fewer channels: its end
            // may pass the packed array's (wrapping: only an address, never read).
            let off = (i - i0) * per_channel;
            for blk in 0..blocks {
                let at = next.wrapping_add(blk * block_len + off);
                let mut line = 0;
                while line < per_channel {
                    L::prefetch(at.wrapping_add(line));
                    line += 16;
                }
            }
        }
        // Channel i's taps: its weights are the next k·G of each block, its inputs a row on.
        let (mut x, mut wt) = (xa.add(i * s.xa_row), w.add(i * per_channel));
        for _ in 0..s.k {
            let mut xv = [L::zero(); NV];
            for v in 0..NV {
                xv[v] = L::load(x.add(L::WIDTH * v), if v + 1 == NV { last } else { full });
            }
            for r in 0..R {
                let wv = L::splat(*wt.add((r / L::G) * block_len + r % L::G));
                for v in 0..NV {
                    acc[r][v] = L::fma(wv, xv[v], acc[r][v]);
                }
            }
            x = x.add(s.dilation);
            wt = wt.add(L::G);
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::*;

    pub struct Avx512;

    impl Lanes for Avx512 {
        type V = __m512;
        type Mask = __mmask16;
        const WIDTH: usize = 16;
        const G: usize = 4;
        const NV: usize = 6;
        const G_SHORT: [usize; 4] = [0, 12, 12, 8];
        #[inline(always)]
        unsafe fn mask(left: usize) -> __mmask16 {
            if left >= 16 { 0xffff } else { ((1u32 << left) - 1) as __mmask16 }
        }
        #[inline(always)]
        fn is_full(m: __mmask16) -> bool {
            m == 0xffff
        }
        #[inline(always)]
        unsafe fn zero() -> __m512 {
            _mm512_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m512 {
            _mm512_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32, m: __mmask16) -> __m512 {
            _mm512_maskz_loadu_ps(m, p)
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, m: __mmask16, v: __m512) {
            _mm512_mask_storeu_ps(p, m, v)
        }
        #[inline(always)]
        unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
            _mm512_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            _mm512_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn prefetch(p: *const f32) {
            _mm_prefetch::<_MM_HINT_T0>(p.cast())
        }
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn tile(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        // Whole vectors of steps as lanes, the few steps left 4 rows × 4 steps per vector.
        whole_then_few::<Avx512>(s, rows, n, y, seed, xa, wp, FEW_STEPS, |s, rows, n, y, seed, xa, wp| few_steps(s, rows, n, y, seed, xa, wp))
    }

    /// Most steps [`few_steps`] takes: 3 vectors of 4 steps.
    const FEW_STEPS: usize = 12;

    /// Row blocks (of 4 rows) per register tile of [`few_steps`]: 8 blocks × 3 vectors = 24
    /// accumulators, plus 3 inputs and a weight, within the 32 registers.
    const FEW_BLOCKS: usize = 8;

    /// [`tile`] over at most [`FEW_STEPS`] steps (a Winograd contraction over few tiles, a first
    /// window's; the steps a run's whole vectors leave). Steps as lanes would fill n of a
    /// vector's 16 lanes and cost a multiply-add per weight; here a vector holds 4 rows × 4 steps
    /// (lane 4·j + r: row r of the block, step j of the vector's four), the block's 4 weights of
    /// a channel and tap broadcast to every quarter and each of 4 inputs spread over its quarter.
    /// Each output is the same chain of multiply-adds in the same order as in [`tile_with`]
    /// (chunks, channels, taps), so the same bits.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn few_steps(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        let blocks = rows.div_ceil(4);
        let quads = n.div_ceil(4);
        for b0 in (0..blocks).step_by(FEW_BLOCKS) {
            let nb = FEW_BLOCKS.min(blocks - b0);
            let (rows_here, y, seed, wp) = ((rows - 4 * b0).min(4 * nb), y.add(4 * b0 * s.y_row), seed.at(s, 4 * b0, 0), wp.add(b0 * s.c_in * s.k * 4));
            macro_rules! blocks {
                ($q:literal) => {
                    match nb {
                        1 => few::<1, $q>(s, rows_here, n, y, seed, xa, wp),
                        2 => few::<2, $q>(s, rows_here, n, y, seed, xa, wp),
                        3 => few::<3, $q>(s, rows_here, n, y, seed, xa, wp),
                        4 => few::<4, $q>(s, rows_here, n, y, seed, xa, wp),
                        5 => few::<5, $q>(s, rows_here, n, y, seed, xa, wp),
                        6 => few::<6, $q>(s, rows_here, n, y, seed, xa, wp),
                        7 => few::<7, $q>(s, rows_here, n, y, seed, xa, wp),
                        _ => few::<8, $q>(s, rows_here, n, y, seed, xa, wp),
                    }
                };
            }
            match quads {
                1 => blocks!(1),
                2 => blocks!(2),
                _ => blocks!(3),
            }
        }
    }

    /// [`few_steps`] for `NB` row blocks (`rows` ≤ 4·NB of them exist) × `Q` vectors of 4 steps.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn few<const NB: usize, const Q: usize>(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        // Input j of a vector's four to lanes 4j..4j+4; then lane 4j + r (row r, step j) to
        // lane 4r + j, so that quarter r holds row r's steps in order.
        let spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        let by_row = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
        let steps = |q: usize| (n - 4 * q).min(4);
        let block_len = s.c_in * s.k * 4;
        let per = chunk_channels(s.c_in, s.k);
        for i0 in (0..s.c_in).step_by(per) {
            let mut acc = [[_mm512_setzero_ps(); Q]; NB];
            for i in i0..(i0 + per).min(s.c_in) {
                for tap in 0..s.k {
                    let x = xa.add(i * s.xa_row + tap * s.dilation);
                    let mut xv = [_mm512_setzero_ps(); Q];
                    for q in 0..Q {
                        let four = _mm512_maskz_loadu_ps(((1u32 << steps(q)) - 1) as __mmask16, x.add(4 * q));
                        xv[q] = _mm512_permutexvar_ps(spread, four);
                    }
                    for b in 0..NB {
                        let wv = _mm512_broadcast_f32x4(_mm_loadu_ps(wp.add(b * block_len + (i * s.k + tap) * 4)));
                        for q in 0..Q {
                            acc[b][q] = _mm512_fmadd_ps(wv, xv[q], acc[b][q]);
                        }
                    }
                }
            }
            // y = (first chunk ? residual + bias : y) + this chunk's sum, row by row: row r's
            // steps are lanes 4r.., so its vector is addressed 4r values before the row's
            // first step and only those lanes are read and written.
            for b in 0..NB {
                for q in 0..Q {
                    let sums = _mm512_permutexvar_ps(by_row, acc[b][q]);
                    for r in 0..4 {
                        let row = 4 * b + r;
                        if row >= rows {
                            break;
                        }
                        let mask = (((1u32 << steps(q)) - 1) << (4 * r)) as __mmask16;
                        let at = row * s.y_row + 4 * q;
                        let yp = y.add(at).wrapping_sub(4 * r);
                        let before = if i0 > 0 {
                            _mm512_maskz_loadu_ps(mask, yp)
                        } else {
                            let bias = _mm512_set1_ps(*seed.bias.add(row));
                            match seed.res.is_null() {
                                true => bias,
                                false => _mm512_add_ps(_mm512_maskz_loadu_ps(mask, seed.res.add(at).wrapping_sub(4 * r)), bias),
                            }
                        };
                        _mm512_mask_storeu_ps(yp, mask, _mm512_add_ps(before, sums));
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::*;

    pub struct Avx2;

    /// AVX2's masked moves are slower than plain ones: a full mask takes the plain path.
    #[derive(Clone, Copy)]
    pub struct Mask {
        lanes: __m256i,
        full: bool,
    }

    impl Lanes for Avx2 {
        type V = __m256;
        type Mask = Mask;
        const WIDTH: usize = 8;
        const G: usize = 6;
        const NV: usize = 2;
        // Runs of one vector: 12 rows (12 sums + an input + a weight; whole runs keep no mask
        // in a register), so enough independent sums are in flight. Two or more: no room.
        const G_SHORT: [usize; 4] = [0, 12, 6, 6];
        #[inline(always)]
        unsafe fn mask(left: usize) -> Mask {
            // Lane j on (all bits set) where j < left.
            let lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(left.min(8) as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            Mask { lanes, full: left >= 8 }
        }
        #[inline(always)]
        fn is_full(m: Mask) -> bool {
            m.full
        }
        #[inline(always)]
        unsafe fn zero() -> __m256 {
            _mm256_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            _mm256_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32, m: Mask) -> __m256 {
            if m.full { _mm256_loadu_ps(p) } else { _mm256_maskload_ps(p, m.lanes) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, m: Mask, v: __m256) {
            if m.full { _mm256_storeu_ps(p, v) } else { _mm256_maskstore_ps(p, m.lanes, v) }
        }
        #[inline(always)]
        unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn prefetch(p: *const f32) {
            _mm_prefetch::<_MM_HINT_T0>(p.cast())
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        // Whole vectors of steps as lanes, the few steps left rows as lanes.
        whole_then_few::<Avx2>(s, rows, n, y, seed, xa, wp, FEW_STEPS, |s, rows, n, y, seed, xa, wp| few_steps(s, rows, n, y, seed, xa, wp))
    }

    /// Most steps [`few_steps`] takes.
    const FEW_STEPS: usize = 6;

    /// Row blocks (of G = 6 rows) per register tile of [`few_steps`]: 2 blocks × 6 steps = 12
    /// accumulators, plus 2 weights and an input, within the 16 registers.
    const FEW_BLOCKS: usize = 2;

    /// [`tile`] over at most [`FEW_STEPS`] steps (a Winograd contraction over few tiles, a first
    /// window's; the steps a run's whole vectors leave). Steps as lanes would fill n of a
    /// vector's 8 lanes; here a vector holds one packed block's 6 rows (lanes 6 and 7 unused),
    /// loaded as they are packed, times one input step broadcast. Each output is the same chain
    /// of multiply-adds in the same order as in [`tile_with`] (chunks, channels, taps), so the
    /// same bits.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn few_steps(s: Tile, rows: usize, n: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        const G: usize = Avx2::G;
        let blocks = rows.div_ceil(G);
        for b0 in (0..blocks).step_by(FEW_BLOCKS) {
            let nb = FEW_BLOCKS.min(blocks - b0);
            let (rows_here, y, seed, wp) = ((rows - G * b0).min(G * nb), y.add(G * b0 * s.y_row), seed.at(s, G * b0, 0), wp.add(b0 * s.c_in * s.k * G));
            macro_rules! steps {
                ($nb:literal) => {
                    match n {
                        1 => few::<$nb, 1>(s, rows_here, y, seed, xa, wp),
                        2 => few::<$nb, 2>(s, rows_here, y, seed, xa, wp),
                        3 => few::<$nb, 3>(s, rows_here, y, seed, xa, wp),
                        4 => few::<$nb, 4>(s, rows_here, y, seed, xa, wp),
                        5 => few::<$nb, 5>(s, rows_here, y, seed, xa, wp),
                        _ => few::<$nb, 6>(s, rows_here, y, seed, xa, wp),
                    }
                };
            }
            match nb {
                1 => steps!(1),
                _ => steps!(2),
            }
        }
    }

    /// [`few_steps`] for `NB` row blocks (`rows` ≤ 6·NB of them exist) × `N` steps.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn few<const NB: usize, const N: usize>(s: Tile, rows: usize, y: *mut f32, seed: Seed, xa: *const f32, wp: *const f32) {
        const G: usize = Avx2::G;
        // A block's 6 rows of one channel and tap, loaded with the next entry's first two
        // (lanes 6 and 7, never stored); the block's last entry under a mask, since past the
        // last block those two would lie past the packed weights.
        let six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
        let block_len = s.c_in * s.k * G;
        let per = chunk_channels(s.c_in, s.k);
        for i0 in (0..s.c_in).step_by(per) {
            let mut acc = [[_mm256_setzero_ps(); N]; NB];
            for i in i0..(i0 + per).min(s.c_in) {
                for tap in 0..s.k {
                    let x = xa.add(i * s.xa_row + tap * s.dilation);
                    let mut wv = [_mm256_setzero_ps(); NB];
                    let last = i + 1 == s.c_in && tap + 1 == s.k;
                    for b in 0..NB {
                        let w = wp.add(b * block_len + (i * s.k + tap) * G);
                        wv[b] = if last { _mm256_maskload_ps(w, six) } else { _mm256_loadu_ps(w) };
                    }
                    for j in 0..N {
                        let xv = _mm256_broadcast_ss(&*x.add(j));
                        for b in 0..NB {
                            acc[b][j] = _mm256_fmadd_ps(wv[b], xv, acc[b][j]);
                        }
                    }
                }
            }
            // y = (first chunk ? residual + bias : y) + this chunk's sum, one element at a time:
            // the same two roundings as the vector path's.
            for b in 0..NB {
                for j in 0..N {
                    let mut sums = [0f32; 8];
                    _mm256_storeu_ps(sums.as_mut_ptr(), acc[b][j]);
                    for r in 0..G {
                        let row = G * b + r;
                        if row >= rows {
                            break;
                        }
                        let at = row * s.y_row + j;
                        let before = if i0 > 0 {
                            *y.add(at)
                        } else {
                            match seed.res.is_null() {
                                true => *seed.bias.add(row),
                                false => *seed.res.add(at) + *seed.bias.add(row),
                            }
                        };
                        *y.add(at) = before + sums[r];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packing a 1×1 weight from its transpose gives what packing the weight gives.
    #[test]
    fn packing_from_the_transpose_is_packing() {
        for &(c_out, c_in, b) in &[(267, 96, 4), (13, 5, 6), (4, 3, 4), (1, 7, 4)] {
            let w: Vec<f32> = (0..c_out * c_in).map(|i| (i as f32 * 0.37).sin()).collect();
            let wt: Vec<f32> = (0..c_in * c_out).map(|j| w[(j % c_out) * c_in + j / c_out]).collect();
            assert_eq!(pack_weights_transposed(&wt, c_out, c_in, b), pack_weights(&w, c_out, c_in, 1, b), "{c_out} × {c_in}, blocks of {b}");
        }
    }

    /// The definition, in f64.
    #[allow(clippy::too_many_arguments)]
    fn reference(w: &[f32], c_out: usize, c_in: usize, k: usize, dil: usize, xa: &[f32], lp: usize, n: usize, bias: &[f32], res: &[f32]) -> Vec<f64> {
        let mut y = vec![0f64; c_out * n];
        for o in 0..c_out {
            for t in 0..n {
                let mut acc = res[o * n + t] as f64 + bias[o] as f64;
                for i in 0..c_in {
                    for tap in 0..k {
                        acc += w[(o * c_in + i) * k + tap] as f64 * xa[i * lp + t + tap * dil] as f64;
                    }
                }
                y[o * n + t] = acc;
            }
        }
        y
    }

    /// Every level this CPU has computes the definition, for row counts and lengths that leave
    /// every kind of remainder (rows per register tile, vectors per tile, lanes of a vector), and
    /// the AVX2 and AVX-512 levels give the same bits.
    #[test]
    fn every_level_matches_the_definition_and_fma_levels_agree() {
        let levels = CpuLevel::supported();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        };
        for &(c_out, c_in, k, dil, n) in &[(13, 7, 3, 2, 203), (4, 16, 5, 1, 96), (6, 3, 1, 1, 17), (1, 2, 7, 3, 5), (9, 5, 3, 9, 130), (7, 9, 3, 1, 83), (5, 4, 3, 2, 60), (9, 200, 3, 1, 100), (5, 300, 1, 1, 40), (19, 40, 5, 1, 24), (23, 30, 5, 2, 47), (384, 192, 1, 1, 6), (37, 280, 1, 1, 12), (13, 300, 1, 1, 5), (4, 3, 1, 1, 1), (6, 9, 1, 1, 11), (70, 20, 1, 1, 8), (3, 5, 1, 1, 3), (41, 70, 1, 1, 19), (9, 30, 1, 1, 44), (5, 12, 1, 1, 32), (11, 20, 3, 1, 20), (7, 9, 5, 2, 6), (13, 100, 3, 3, 37), (4, 2, 7, 1, 2)] {
            let lp = n + (k - 1) * dil;
            let w: Vec<f32> = (0..c_out * c_in * k).map(|_| rand()).collect();
            let xa: Vec<f32> = (0..c_in * lp).map(|_| rand()).collect();
            let bias: Vec<f32> = (0..c_out).map(|_| rand()).collect();
            let res: Vec<f32> = (0..c_out * n).map(|_| rand()).collect();
            let want = reference(&w, c_out, c_in, k, dil, &xa, lp, n, &bias, &res);
            let mut outputs = Vec::new();
            for &level in &levels {
                let wp = pack_weights(&w, c_out, c_in, k, block_rows(level));
                let tile_shape = Tile { c_in, k, dilation: dil, xa_row: lp, y_row: n, block: block_rows(level) };
                let mut y = vec![f32::NAN; c_out * n];
                let seed = Seed { bias: bias.as_ptr(), res: res.as_ptr() };
                // SAFETY: every buffer has the shape the call names.
                unsafe { tile(level, tile_shape, c_out, n, y.as_mut_ptr(), seed, xa.as_ptr(), wp.as_ptr()) };
                let err = y.iter().zip(&want).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
                assert!(err < 1e-5, "{}: c_out {c_out} c_in {c_in} k {k} n {n}: max err {err}", level.name());
                outputs.push((level, y));
            }
            let fma: Vec<_> = outputs.iter().filter(|(l, _)| *l >= CpuLevel::Avx2).collect();
            for pair in fma.windows(2) {
                let same = pair[0].1.iter().zip(&pair[1].1).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{} and {} differ for c_out {c_out} n {n}", pair[0].0.name(), pair[1].0.name());
            }
        }
    }
}
