//! The convolution of [`super::cpu_conv`] on Intel AMX tiles (4th-generation Xeon, "Sapphire
//! Rapids", and later): the [`super::cpu_level::CpuLevel::Amx`] level.
//!
//! One AMX tile multiply (`tdpbf16ps`) adds a 16 × 32 bf16 matrix times a 32 × 16 one into a
//! 16 × 16 f32 tile: 8,192 multiply-adds per instruction, some 40 times what one core's 512-bit
//! FMAs do in the same time. bf16 keeps 8 of an f32's 24 significant bits, so to stay an f32
//! computation every value is split into three bf16 parts, x = hi + mid + lo (exact: each part
//! takes the next 8 bits), and each product becomes the six part products that reach down to
//! 2⁻²⁴ of it (hi·hi, hi·mid, mid·mid, mid·hi, lo·hi, hi·lo; the three dropped are below f32's
//! own rounding). A product of two bf16 is exact in f32 and is summed in f32, so the result is
//! the f32 convolution summed in another order: it differs from the FMA levels by rounding only
//! (`tests/parity.rs` holds it to the same bounds), and each output element is the same sum in
//! the same order wherever it lies in the sequence, so streamed windows still equal the whole
//! sentence bit for bit.
//!
//! Layouts (M = time, K = input channels, N = output channels; a "word" is two bf16, the even
//! channel in its low half):
//! - input, once per call: `[b][⌈c_in/32⌉][part 3][width][16 words]`, activated and zero-padded:
//!   one 64-byte row per time step, so the A tile for outputs t… and tap j is the 16 rows from
//!   t + j·dilation on, 1 KiB in a row, always on cache lines;
//! - weights, once per conv ([`AmxWeights`]): `[⌈c_out/32⌉][k][⌈c_in/32⌉][part 3][2][16][16 words]`:
//!   for each block of 32 output channels, tap and block of 32 input channels, the six B tiles
//!   one step reads (row r: input channels 2r, 2r + 1 for each of 16 output channels), 1 KiB each,
//!   side by side, zero past `c_out` and `c_in`;
//! - output: 2 × 2 f32 tiles (32 time steps × 32 channels) held in tile registers over the whole
//!   sum, then transposed into the output with bias and residual added.

#[cfg(target_arch = "x86_64")]
use std::arch::asm;
use std::sync::OnceLock;

use super::cpu::{self, OutPtr};

/// Parts a value is split into.
const PARTS: usize = 3;
/// Input channels per block: the K of one tile multiply.
const KB: usize = 32;
/// Output channels per block: two tiles of 16 columns.
const MB: usize = 32;
/// Time steps per block: two tiles of 16 rows.
const NB: usize = 32;
/// bf16 values of the six B tiles of one (channel block out, tap, channel block in) step.
const STEP: usize = PARTS * 2 * 16 * KB;
/// Time blocks one unit runs at most: its partial sums (4 KiB per block) stay in L2.
const MAX_GROUP: usize = 32;

/// Whether this CPU has AMX with bf16 and the OS lets this process use the tiles. Linux keeps
/// the 8 KiB tile state off until a process asks for it (`arch_prctl(ARCH_REQ_XCOMP_PERM,
/// XTILEDATA)`), which this does once; the permission then holds for every thread.
pub fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            // CPUID leaf 7: EDX bit 24 AMX-TILE, bit 22 AMX-BF16 (every AMX CPU has AVX-512,
            // which the caller has checked, so leaf 7 exists).
            #[allow(unused_unsafe)]
            let edx = unsafe { std::arch::x86_64::__cpuid_count(7, 0) }.edx;
            if edx >> 24 & 1 == 0 || edx >> 22 & 1 == 0 {
                return false;
            }
            const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
            const XFEATURE_XTILEDATA: libc::c_long = 18;
            // SAFETY: a syscall with integer arguments; it changes only this process's permission.
            unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        false
    })
}

/// Whether the convs of the module at `path` (a checkpoint path: `enc_p.…`, `dp.…`, `flow.…`,
/// `dec.…`) may run on tiles. The text side (`enc_p`, `dp`: the time to first audio) does; the
/// streaming stages (`flow`, `dec`: the sustained load while NPCs talk) do only with
/// `TVTTS_AMX=all`, because keeping both cores on AMX for seconds raised a game's main-thread p99
/// frame time at 8 talking NPCs from ≈ 2.8 to ≈ 4.1 ms (medians over 11 and 19 runs, 2-core
/// Xeon VM; the text side alone: ≈ 2.9), though it makes whole synthesis ≈ 1.5× faster
/// (baking, offline `say`).
pub fn tiles_for(path: &str) -> bool {
    static ALL: OnceLock<bool> = OnceLock::new();
    let all = *ALL.get_or_init(|| std::env::var("TVTTS_AMX").is_ok_and(|v| v.trim().eq_ignore_ascii_case("all")));
    all || !(path.starts_with("flow") || path.starts_with("dec"))
}

/// Whether a conv of this shape runs on tiles: a block of 32 output channels must not be mostly
/// padding (the decoder's last conv, one channel, stays on the FMA kernel), and each output must
/// sum enough products to pay for packing and writing out (an attention head's scores, 96 × 1
/// per output, ran 15 % slower on tiles).
pub fn suits(c_out: usize, c_in: usize, k: usize) -> bool {
    c_out >= 16 && c_in * k >= 128
}

/// `x` = hi + mid + lo, each the upper half of an f32's bits (a bf16): exact for normal `x`.
#[inline(always)]
fn split(x: f32) -> [u16; PARTS] {
    let hi = x.to_bits() & 0xFFFF_0000;
    let rest = x - f32::from_bits(hi);
    let mid = rest.to_bits() & 0xFFFF_0000;
    let lo = (rest - f32::from_bits(mid)).to_bits();
    [(hi >> 16) as u16, (mid >> 16) as u16, (lo >> 16) as u16]
}

/// 64 bytes on a cache line: buffers of these keep every tile row on one line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([u32; 16]);

/// A zeroed, cache-line-aligned buffer of at least `n` 32-bit words.
fn lines(n: usize) -> Vec<Line> {
    vec![Line::default(); n.div_ceil(16)]
}

/// The words of `lines`.
fn words(lines: &mut [Line]) -> &mut [u32] {
    // SAFETY: a Line is 16 u32 with no padding.
    unsafe { std::slice::from_raw_parts_mut(lines.as_mut_ptr().cast(), lines.len() * 16) }
}

/// A conv weight `[c_out, c_in, k]` split and laid out for the tiles (see the module docs).
#[derive(Debug, Clone)]
pub struct AmxWeights {
    data: Vec<Line>,
    c_out: usize,
    c_in: usize,
    k: usize,
}

impl AmxWeights {
    /// From the values of a weight `[c_out, c_in, k]`, row-major.
    pub fn new(w: &[f32], c_out: usize, c_in: usize, k: usize) -> Self {
        let (m_blocks, k_blocks) = (c_out.div_ceil(MB), c_in.div_ceil(KB));
        let mut data = lines(m_blocks * k * k_blocks * STEP / 2);
        // SAFETY: u32 words viewed as twice as many u16 values.
        let bf16 = unsafe { std::slice::from_raw_parts_mut(words(&mut data).as_mut_ptr().cast::<u16>(), m_blocks * k * k_blocks * STEP) };
        for o in 0..c_out {
            // Output channel o is column o % 16 of tile (o % 32) / 16 of its block; input channel
            // i is half i % 2 of word o % 16 in row (i % 32) / 2 of its block's tile.
            let col = (o % MB) / 16 * 16 * KB + 2 * (o % 16);
            for i in 0..c_in {
                let at_i = (i % KB) / 2 * KB + i % 2;
                for tap in 0..k {
                    let at = ((o / MB * k + tap) * k_blocks + i / KB) * STEP + col + at_i;
                    for (q, v) in split(w[(o * c_in + i) * k + tap]).into_iter().enumerate() {
                        bf16[at + q * 2 * 16 * KB] = v;
                    }
                }
            }
        }
        AmxWeights { data, c_out, c_in, k }
    }
}

/// `x` `[b, c_in, l]` → `[b][⌈c_in/32⌉][part][width][16 words]`: row c holds act(x[.., c − padding])
/// for the block's 32 channels (zero outside `x` and past `c_in`), act = LeakyReLU with `slope`
/// when given.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn pack_input(x: &[f32], b: usize, c_in: usize, l: usize, padding: usize, slope: Option<f32>, width: usize, threads: usize) -> Vec<Line> {
    let k_blocks = c_in.div_ceil(KB);
    let n_lines = b * k_blocks * PARTS * width;
    let mut out: Vec<Line> = Vec::with_capacity(n_lines);
    let ptr = OutPtr(out.as_mut_ptr().cast());
    // Tasks: (batch item, channel block, run of 16 time steps).
    let runs = l.div_ceil(16);
    let fill = |task: usize| {
        let (bi, blk, run) = (task / (k_blocks * runs), task / runs % k_blocks, task % runs);
        let rows = (0..PARTS).map(|q| ((bi * k_blocks + blk) * PARTS + q) * width);
        // SAFETY: this task alone writes rows padding + 16·run .. + 16 (clipped to l) of its
        // (item, block) and, first and last, the zero rows before and after x, all inside `out`'s
        // capacity; it reads channels < c_in of item bi, times < l.
        unsafe {
            let lines = ptr.get().cast::<Line>();
            for row in rows {
                if run == 0 {
                    std::ptr::write_bytes(lines.add(row), 0, padding);
                }
                if run + 1 == runs {
                    std::ptr::write_bytes(lines.add(row + padding + l), 0, width - padding - l);
                }
            }
            let first = (bi * k_blocks + blk) * PARTS * width + padding + run * 16;
            pack_run(x, (bi * c_in) * l, c_in - blk * KB, blk * KB, l, run * 16, slope, lines.add(first).cast(), width * 16);
        }
    };
    let tasks = b * k_blocks * runs;
    if threads > 1 && tasks > 1 && b * c_in * l >= 1 << 14 {
        cpu::chunked(tasks, |range| range.for_each(fill));
    } else {
        (0..tasks).for_each(fill);
    }
    // SAFETY: the tasks wrote every line: each (item, block, part) has its padding rows, its
    // runs' rows and the rows after x.
    unsafe { out.set_len(n_lines) };
    out
}

/// One run of [`pack_input`]: time steps `t0 .. t0 + 16` (clipped to `l`) of channels
/// `c0 .. c0 + 32` (those below `c0 + left` exist) of the item whose values start at `x[item]`,
/// activated and split, as rows of 16 words at `dst` (part q's rows `part_words` further on).
///
/// # Safety
/// The CPU has AVX-512 F; `dst` is valid for 64-byte-aligned writes of those rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_run(x: &[f32], item: usize, left: usize, c0: usize, l: usize, t0: usize, slope: Option<f32>, dst: *mut u32, part_words: usize) {
    use std::arch::x86_64::*;
    let n = 16.min(l - t0);
    let mask: __mmask16 = if n == 16 { 0xFFFF } else { (1u16 << n) - 1 };
    let upper = _mm512_set1_epi32(0xFFFF_0000u32 as i32);
    let load = |c: usize| -> __m512 {
        if c >= left {
            return _mm512_setzero_ps();
        }
        let v = _mm512_maskz_loadu_ps(mask, x.as_ptr().add(item + (c0 + c) * l + t0));
        match slope {
            Some(s) => _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_setzero_ps()), v, _mm512_set1_ps(s)),
            None => v,
        }
    };
    // The three parts of 16 values, each in the upper half of its lane.
    let split = |v: __m512| -> [__m512i; PARTS] {
        let hi = _mm512_and_si512(_mm512_castps_si512(v), upper);
        let rest = _mm512_sub_ps(v, _mm512_castsi512_ps(hi));
        let mid = _mm512_and_si512(_mm512_castps_si512(rest), upper);
        let lo = _mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(rest, _mm512_castsi512_ps(mid))), upper);
        [hi, mid, lo]
    };
    // words[q][pair] = the pair's words over the 16 steps; transposed to rows of 16 pairs.
    let mut words = [[_mm512_setzero_si512(); 16]; PARTS];
    for pair in 0..16 {
        let (even, odd) = (split(load(2 * pair)), split(load(2 * pair + 1)));
        for (q, part) in words.iter_mut().enumerate() {
            part[pair] = _mm512_or_si512(_mm512_srli_epi32::<16>(even[q]), odd[q]);
        }
    }
    for (q, w) in words.iter().enumerate() {
        let rows = transpose16(w);
        for (t, row) in rows.iter().enumerate().take(n) {
            _mm512_store_si512(dst.add(q * part_words + t * 16).cast(), *row);
        }
    }
}

/// The transpose of a 16 × 16 matrix of 32-bit words held as 16 rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn transpose16(a: &[std::arch::x86_64::__m512i; 16]) -> [std::arch::x86_64::__m512i; 16] {
    use std::arch::x86_64::*;
    // Within each 128-bit lane j: b = 2 × 2 interleaves, then c[4i + m] = column 4j + m of rows
    // 4i .. 4i + 4.
    let b: [__m512i; 16] = std::array::from_fn(|r| if r % 2 == 0 { _mm512_unpacklo_epi32(a[r], a[r + 1]) } else { _mm512_unpackhi_epi32(a[r - 1], a[r]) });
    let c: [__m512i; 16] = std::array::from_fn(|r| {
        let (i, m) = (r / 4 * 4, r % 4);
        let (p, q) = if m < 2 { (b[i], b[i + 2]) } else { (b[i + 1], b[i + 3]) };
        if m % 2 == 0 { _mm512_unpacklo_epi64(p, q) } else { _mm512_unpackhi_epi64(p, q) }
    });
    // Row 4j + m of the result: lane j of c[m], c[4 + m], c[8 + m], c[12 + m].
    std::array::from_fn(|r| {
        let (j, m) = (r / 4, r % 4);
        let (d, e) = if j < 2 {
            (_mm512_shuffle_i32x4::<0x44>(c[m], c[4 + m]), _mm512_shuffle_i32x4::<0x44>(c[8 + m], c[12 + m]))
        } else {
            (_mm512_shuffle_i32x4::<0xEE>(c[m], c[4 + m]), _mm512_shuffle_i32x4::<0xEE>(c[8 + m], c[12 + m]))
        };
        if j % 2 == 0 { _mm512_shuffle_i32x4::<0x88>(d, e) } else { _mm512_shuffle_i32x4::<0xDD>(d, e) }
    })
}

#[cfg(target_arch = "x86_64")]
/// The tile configuration: palette 1, all eight tiles 16 rows × 64 bytes.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    colsb: [u16; 16],
    rows: [u8; 16],
}

#[cfg(target_arch = "x86_64")]
const CONFIG: TileConfig = TileConfig {
    palette: 1,
    start_row: 0,
    reserved: [0; 14],
    colsb: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
    rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
};

/// The four tile products of one part pair: A tiles tmm4, tmm5 (two time blocks) × B tiles tmm6,
/// tmm7 (two channel blocks) into the accumulators tmm0–tmm3.
#[cfg(target_arch = "x86_64")]
macro_rules! products_2x2 {
    () => {
        "tdpbf16ps tmm0, tmm4, tmm6\ntdpbf16ps tmm1, tmm4, tmm7\ntdpbf16ps tmm2, tmm5, tmm6\ntdpbf16ps tmm3, tmm5, tmm7"
    };
}

#[cfg(target_arch = "x86_64")]
/// The six part products of one (tap, channel block) step into the 2 × 2 accumulators
/// tmm0 (steps 0–15, channels 0–15), tmm1 (steps 0–15, channels 16–31), tmm2, tmm3 (steps 16–31).
///
/// # Safety
/// Tiles configured by [`CONFIG`]; `a[q]` points at part q's rows for the block's first time
/// step (32 rows of 64 bytes readable), `w` at the step's six B tiles (`STEP` bf16).
#[inline(always)]
unsafe fn step(a: [*const u32; PARTS], w: *const u16) {
    asm!(
        // hi × hi
        "tileloadd tmm4, [{ah} + {s}*1]",
        "tileloadd tmm5, [{ah} + {s}*1 + 1024]",
        "tileloadd tmm6, [{w} + {s}*1]",
        "tileloadd tmm7, [{w} + {s}*1 + 1024]",
        products_2x2!(),
        // hi × mid
        "tileloadd tmm6, [{w} + {s}*1 + 2048]",
        "tileloadd tmm7, [{w} + {s}*1 + 3072]",
        products_2x2!(),
        // mid × mid
        "tileloadd tmm4, [{am} + {s}*1]",
        "tileloadd tmm5, [{am} + {s}*1 + 1024]",
        products_2x2!(),
        // mid × hi
        "tileloadd tmm6, [{w} + {s}*1]",
        "tileloadd tmm7, [{w} + {s}*1 + 1024]",
        products_2x2!(),
        // lo × hi
        "tileloadd tmm4, [{al} + {s}*1]",
        "tileloadd tmm5, [{al} + {s}*1 + 1024]",
        products_2x2!(),
        // hi × lo
        "tileloadd tmm4, [{ah} + {s}*1]",
        "tileloadd tmm5, [{ah} + {s}*1 + 1024]",
        "tileloadd tmm6, [{w} + {s}*1 + 4096]",
        "tileloadd tmm7, [{w} + {s}*1 + 5120]",
        products_2x2!(),
        ah = in(reg) a[0],
        am = in(reg) a[1],
        al = in(reg) a[2],
        w = in(reg) w,
        s = in(reg) 64usize,
        options(nostack, readonly, preserves_flags),
    );
}

/// [`super::cpu_conv::conv1d_slice`] on tiles: `x` `[b, c_in, l]` → `[b, c_out, l_out]`, stride 1,
/// symmetric `padding`, `dilation`, plus `bias` (length `c_out`) and `res` (the output's shape)
/// when given, LeakyReLU with `pre_slope` on the input first. The caller has checked the shapes
/// and that [`available`] holds.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub fn conv1d(x: &[f32], b: usize, l: usize, w: &AmxWeights, bias: &[f32], padding: usize, dilation: usize, pre_slope: Option<f32>, res: Option<&[f32]>) -> Vec<f32> {
    let (c_out, c_in, k) = (w.c_out, w.c_in, w.k);
    let span = dilation * (k - 1);
    let l_out = l + 2 * padding - span;
    let (m_blocks, n_blocks, k_blocks) = (c_out.div_ceil(MB), l_out.div_ceil(NB), c_in.div_ceil(KB));
    let width = (n_blocks * NB + span).next_multiple_of(16);
    let threads = cpu::threads();
    let xp = pack_input(x, b, c_in, l, padding, pre_slope, width, threads);
    let xp: &[u32] = {
        let n = xp.len() * 16;
        // SAFETY: the lines' words (borrowed for the rest of this function).
        unsafe { std::slice::from_raw_parts(xp.as_ptr().cast(), n) }
    };
    // Words between the parts of a channel block.
    let part_len = 16 * width;

    let mut out: Vec<f32> = Vec::with_capacity(b * c_out * l_out);
    let y = OutPtr(out.as_mut_ptr());
    // Units: (batch item, row block, group of time blocks); a sequence with too few row blocks
    // for the threads is also split in time.
    let rows_units = b * m_blocks;
    let wanted = if rows_units >= 2 * threads { 1 } else { (2 * threads).div_ceil(rows_units).min(n_blocks) };
    let per_group = n_blocks.div_ceil(wanted).min(MAX_GROUP);
    let groups = n_blocks.div_ceil(per_group); // none empty
    let steps = k * k_blocks;
    let run = |range: std::ops::Range<usize>| {
        // Sums [per_group·32 steps][32 channels] of the unit's outputs, before the transpose.
        let mut acc = lines(per_group * NB * MB);
        let acc: *mut f32 = words(&mut acc).as_mut_ptr().cast();
        // SAFETY: `available` holds (the caller checked), so the tiles may be configured here;
        // a unit's loads stay inside `w.data` (its row block's steps) and `xp` (columns up to
        // n_blocks·32 + span ≤ width of its rows), its tile stores inside `acc`, and it alone
        // writes its rows × time blocks of the output.
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly, preserves_flags));
            for unit in range {
                let (bi, mb, g) = (unit / (m_blocks * groups), unit / groups % m_blocks, unit % groups);
                let (nb0, nb1) = (g * per_group, ((g + 1) * per_group).min(n_blocks));
                for nb in nb0..nb1 {
                    asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nomem, nostack, preserves_flags));
                    // Step s: tap s / k_blocks, input channel block s % k_blocks.
                    for st in 0..steps {
                        let (tap, kb) = (st / k_blocks, st % k_blocks);
                        let wt = w.data.as_ptr().cast::<u16>().add((mb * steps + st) * STEP);
                        let a = xp.as_ptr().add((bi * k_blocks + kb) * PARTS * part_len + (nb * NB + tap * dilation) * 16);
                        step([a, a.add(part_len), a.add(2 * part_len)], wt);
                    }
                    let c = acc.add((nb - nb0) * NB * MB);
                    asm!(
                        "tilestored [{c} + {s}*1], tmm0",
                        "tilestored [{c} + {s}*1 + 64], tmm1",
                        "tilestored [{c1} + {s}*1], tmm2",
                        "tilestored [{c1} + {s}*1 + 64], tmm3",
                        c = in(reg) c,
                        c1 = in(reg) c.add(16 * MB),
                        s = in(reg) MB * 4,
                        options(nostack, preserves_flags),
                    );
                }
                // Out: transposed, bias and residual added, clipped to the output.
                let (o0, t0) = (mb * MB, nb0 * NB);
                let (rows, cols) = (MB.min(c_out - o0), (nb1 * NB).min(l_out) - t0);
                for r in 0..rows {
                    let at = (bi * c_out + o0 + r) * l_out + t0;
                    let dst = std::slice::from_raw_parts_mut(y.get().add(at), cols);
                    let bv = bias[o0 + r];
                    let sum = |t: usize| *acc.add(t * MB + r);
                    match res {
                        Some(res) => {
                            for (t, (d, &rv)) in dst.iter_mut().zip(&res[at..at + cols]).enumerate() {
                                *d = rv + bv + sum(t);
                            }
                        }
                        None => {
                            for (t, d) in dst.iter_mut().enumerate() {
                                *d = bv + sum(t);
                            }
                        }
                    }
                }
            }
            asm!("tilerelease", options(nomem, nostack, preserves_flags));
        }
    };
    let units = rows_units * groups;
    if threads > 1 && units > 1 {
        cpu::chunked(units, run);
    } else {
        run(0..units);
    }
    // SAFETY: the units above wrote every element of all b·c_out·l_out.
    unsafe { out.set_len(b * c_out * l_out) };
    out
}

/// No tiles off x86-64: [`available`] is false there, so no weights are packed for them.
#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
pub fn conv1d(_: &[f32], _: usize, _: usize, _: &AmxWeights, _: &[f32], _: usize, _: usize, _: Option<f32>, _: Option<&[f32]>) -> Vec<f32> {
    unreachable!("AMX weights exist only where cpu_amx::available() holds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu_conv::{conv1d_slice, PackedWeights};
    use crate::model::cpu_level::{level, CpuLevel};
    use rand::{Rng, SeedableRng};

    #[test]
    fn split_is_exact() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..10_000 {
            let x: f32 = rng.random_range(-1.0f32..1.0) * 10f32.powi(rng.random_range(-20..20));
            let [h, m, l] = split(x).map(|p| f32::from_bits(u32::from(p) << 16));
            assert_eq!(h + m + l, x, "{x:e}");
            assert_eq!((h + m) + l, x);
        }
    }

    /// At this process's level (the tiles where the CPU has them), convolutions of shapes that
    /// cross every edge of the blocks (channels and steps not multiples of 32, inputs shorter
    /// than the kernel, dilation, batch, LeakyReLU, bias, residual) are the definition computed in
    /// f64 within an f32 computation's error: every element within 1e-6 of its Σ|products| (a
    /// wrong tile index moves elements by their whole size), and the RMS error of each shape at
    /// most 4 times that of a plain f32 loop over the same products (the six part products are
    /// six additions each, so ≈ √6 times; keeping three, 16 bits of each value, is ≈ 100 times).
    #[test]
    fn tiles_compute_the_f32_convolution() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        // (b, c_in, c_out, l, k, dilation)
        for &(b, c_in, c_out, l, k, dil) in &[(1, 192, 768, 67, 3, 1), (2, 40, 48, 100, 3, 1), (1, 33, 17, 5, 7, 3), (1, 96, 192, 45, 5, 2), (2, 64, 32, 3, 11, 5), (1, 9, 96, 40, 1, 1), (1, 40, 16, 150, 3, 1), (1, 9, 96, 40, 15, 1)] {
            let pad = dil * (k - 1) / 2;
            let l_out = l + 2 * pad - dil * (k - 1);
            let x: Vec<f32> = (0..b * c_in * l).map(|_| rng.random_range(-2.0f32..2.0)).collect();
            let w: Vec<f32> = (0..c_out * c_in * k).map(|_| rng.random_range(-0.3f32..0.3)).collect();
            let bias: Vec<f32> = (0..c_out).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let res: Vec<f32> = (0..b * c_out * l_out).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let pw = PackedWeights::from_slice(&w, c_out, c_in, k, true);
            if level() == CpuLevel::Amx {
                assert_eq!(pw.on_tiles(), suits(c_out, c_in, k));
            }
            let got = conv1d_slice(&x, b, l, &pw, Some(&bias), pad, dil, Some(0.1), Some(&res)).unwrap();
            let act = |v: f32| if v < 0.0 { v * 0.1 } else { v };
            let (mut sq, mut f32_sq) = (0f64, 0f64);
            for bi in 0..b {
                for o in 0..c_out {
                    for t in 0..l_out {
                        let at = (bi * c_out + o) * l_out + t;
                        let (mut exact, mut plain, mut size) = (f64::from(res[at]) + f64::from(bias[o]), res[at] + bias[o], 0f64);
                        for i in 0..c_in {
                            for tap in 0..k {
                                let src = (t + tap * dil) as isize - pad as isize;
                                if src >= 0 && (src as usize) < l {
                                    let (wv, xv) = (w[(o * c_in + i) * k + tap], act(x[(bi * c_in + i) * l + src as usize]));
                                    exact += f64::from(wv) * f64::from(xv);
                                    plain += wv * xv;
                                    size += (f64::from(wv) * f64::from(xv)).abs();
                                }
                            }
                        }
                        let err = (f64::from(got[at]) - exact).abs();
                        assert!(err <= 1e-6 * size.max(1.0), "b {bi} o {o} t {t} (shape {c_in}→{c_out} k {k} l {l}): {} vs {exact}", got[at]);
                        sq += err * err;
                        f32_sq += (f64::from(plain) - exact).powi(2);
                    }
                }
            }
            assert!(sq <= 16.0 * f32_sq, "shape {c_in}→{c_out} k {k} l {l}: RMS error {:.2e} vs an f32 loop's {:.2e}", sq.sqrt(), f32_sq.sqrt());
        }
    }
}
