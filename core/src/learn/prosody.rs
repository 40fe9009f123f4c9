//! The prosody of one utterance, measured the way the vocal-expression literature describes
//! speech: pitch level and range, duration, level. The learner compares these between
//! recordings and the voice speaking the same lines.
//!
//! Definitions follow the repo's measuring scripts (Praat's pitch, `scripts/world_prosody.py`):
//! F0 in semitones re 100 Hz, its median and range over voiced frames (10th–90th percentile
//! here, where the scripts take 5th–95th: this tracker lacks some of Praat's refinements, and
//! its outer tails are less sure; ratios of ranges agree with Praat's within a few %); duration
//! from the first to the last 20 ms frame within 40 dB of the loudest; level as the energy mean
//! of the louder half of 20 ms frames, in dB.

/// Lowest and highest F0 the tracker looks for (Hz): Praat's defaults for speech.
pub const F0_FLOOR: f32 = 60.0;
pub const F0_CEILING: f32 = 400.0;
/// A frame is voiced when its normalised autocorrelation peak reaches this (Praat's 0.45).
const VOICING: f32 = 0.45;
/// … and its peak amplitude is at least this share of the utterance's (Praat's 0.03).
const SILENCE: f32 = 0.03;
/// Praat's octave cost per octave of lag, favouring the higher of two candidate F0s.
const OCTAVE_COST: f32 = 0.01;

/// Prosody of one utterance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prosody {
    /// Median F0 in semitones re 100 Hz (`None`: no voiced frame).
    pub f0_st: Option<f32>,
    /// 90th minus 10th percentile of F0, semitones (`None`: fewer than 10 voiced frames).
    pub range_st: Option<f32>,
    /// Speech duration, seconds.
    pub duration_s: f32,
    /// Level, dB re full scale.
    pub level_db: f32,
    /// Spectral tilt: energy 1–5 kHz over 50 Hz–1 kHz of the whole utterance, dB.
    pub tilt_db: f32,
    /// Voiced frames found.
    pub voiced: usize,
}

/// Praat's path costs: per octave jumped between voiced frames, and per voicing change.
const OCTAVE_JUMP_COST: f32 = 0.35;
const VOICED_UNVOICED_COST: f32 = 0.14;
/// Candidates kept per frame (Praat's default 15).
const CANDIDATES: usize = 15;

/// F0 (Hz) of the frames of `x` centred at `hop/2, hop/2 + hop, …`, `None` where unvoiced: the
/// normalised-autocorrelation method with Praat's candidate strengths and best-path search
/// (Boersma 1993), on the signal decimated to at most 11.025 kHz.
pub fn f0_track(x: &[f32], sample_rate: u32, hop: usize) -> Vec<Option<f32>> {
    let candidates = candidates(x, sample_rate, hop);
    // Viterbi over candidates: maximise Σ strength − Σ transition cost.
    let cost = |a: f32, b: f32| match (a > 0.0, b > 0.0) {
        (true, true) => OCTAVE_JUMP_COST * (a / b).log2().abs(),
        (false, false) => 0.0,
        _ => VOICED_UNVOICED_COST,
    };
    let mut score: Vec<f32> = Vec::new();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(candidates.len());
    for (t, cands) in candidates.iter().enumerate() {
        let next: Vec<(f32, usize)> = cands
            .iter()
            .map(|&(f, s)| {
                if t == 0 {
                    return (s, 0);
                }
                let prev = &candidates[t - 1];
                (0..prev.len()).map(|j| (score[j] - cost(prev[j].0, f) + s, j)).max_by(|a, b| a.0.total_cmp(&b.0)).unwrap_or((s, 0))
            })
            .collect();
        score = next.iter().map(|n| n.0).collect();
        back.push(next.iter().map(|n| n.1).collect());
    }
    let mut out = vec![None; candidates.len()];
    let Some(mut k) = (0..score.len()).max_by(|&a, &b| score[a].total_cmp(&score[b])) else {
        return out;
    };
    for t in (0..candidates.len()).rev() {
        let f = candidates[t][k].0;
        out[t] = (f > 0.0).then_some(f);
        k = back[t][k];
    }
    out
}

/// Per frame: the unvoiced candidate `(0, strength)` first, then up to [`CANDIDATES`] − 1
/// autocorrelation peaks `(F0 Hz, strength)`.
fn candidates(x: &[f32], sample_rate: u32, hop: usize) -> Vec<Vec<(f32, f32)>> {
    let frames = x.len() / hop.max(1);
    // Decimate by an integer factor to ≤ 11.025 kHz (a short low-pass first), enough for F0.
    let factor = ((sample_rate as f32 / 11_025.0).floor() as usize).max(1);
    let y: Vec<f32> = if factor == 1 {
        x.to_vec()
    } else {
        let lp: Vec<f32> = (0..x.len()).map(|i| (0..factor).map(|k| x[i.saturating_sub(k)]).sum::<f32>() / factor as f32).collect();
        lp.iter().step_by(factor).copied().collect()
    };
    let sr = sample_rate as f32 / factor as f32;
    let (lag_min, lag_max) = ((sr / F0_CEILING).floor() as usize, (sr / F0_FLOOR).ceil() as usize);
    let win = 3 * lag_max; // three periods of the lowest F0
    let hann: Vec<f32> = (0..win).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * (i as f32 + 0.5) / win as f32).cos()).collect();
    let r_win: Vec<f32> = (0..=lag_max + 1).map(|l| (0..win - l).map(|i| hann[i] * hann[i + l]).sum::<f32>()).collect();
    let peak_all = y.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut frame = vec![0f32; win];
    (0..frames)
        .map(|f| {
            let centre = (f * hop + hop / 2) / factor;
            let start = centre as isize - win as isize / 2;
            let mut peak = 0f32;
            for (i, v) in frame.iter_mut().enumerate() {
                let j = start + i as isize;
                let s = if j >= 0 && (j as usize) < y.len() { y[j as usize] } else { 0.0 };
                peak = peak.max(s.abs());
                *v = s;
            }
            let local = if peak_all > 0.0 { peak / peak_all } else { 0.0 };
            let unvoiced = VOICING + (2.0 - local / (SILENCE / (1.0 + VOICING))).max(0.0);
            let mut cands = vec![(0.0, unvoiced)];
            let mean = frame.iter().sum::<f32>() / win as f32;
            for (v, h) in frame.iter_mut().zip(&hann) {
                *v = (*v - mean) * h;
            }
            let r0: f32 = frame.iter().map(|v| v * v).sum();
            if r0 <= 0.0 {
                return cands;
            }
            let r = |l: usize| (0..win - l).map(|i| frame[i] * frame[i + l]).sum::<f32>() / r0 / (r_win[l] / r_win[0]);
            let rs: Vec<f32> = (lag_min - 1..=lag_max + 1).map(r).collect();
            let mut peaks: Vec<(f32, f32)> = Vec::new();
            for k in 1..rs.len() - 1 {
                let (a, b, c) = (rs[k - 1], rs[k], rs[k + 1]);
                if b < a || b < c || b <= 0.5 * VOICING {
                    continue;
                }
                // Parabolic interpolation of the peak.
                let denom = a - 2.0 * b + c;
                let off = if denom.abs() > 1e-9 { (0.5 * (a - c) / denom).clamp(-0.5, 0.5) } else { 0.0 };
                let lag = (lag_min - 1 + k) as f32 + off;
                let height = (b - 0.25 * (a - c) * off).min(1.0);
                let f0 = sr / lag;
                if (F0_FLOOR..=F0_CEILING).contains(&f0) {
                    peaks.push((f0, height - OCTAVE_COST * (F0_FLOOR / f0).log2()));
                }
            }
            peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
            cands.extend(peaks.into_iter().take(CANDIDATES - 1));
            cands
        })
        .collect()
}

/// Semitones re 100 Hz.
pub fn semitones(hz: f32) -> f32 {
    12.0 * (hz / 100.0).log2()
}

/// The `q`-quantile (0…1) of `v` (sorted in place), linearly interpolated.
pub(super) fn quantile(v: &mut [f32], q: f32) -> f32 {
    v.sort_by(f32::total_cmp);
    let pos = q * (v.len() - 1) as f32;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f32)
}

/// Energy of each 20 ms frame of `x`, dB (with a floor of 1e-12).
fn frame_db(x: &[f32], sample_rate: u32) -> Vec<f32> {
    let n = (sample_rate as usize / 50).max(1);
    x.chunks_exact(n).map(|c| 10.0 * (c.iter().map(|v| v * v).sum::<f32>() / n as f32 + 1e-12).log10()).collect()
}

/// Measures the prosody of `x` (mono, `sample_rate`).
pub fn measure(x: &[f32], sample_rate: u32) -> Prosody {
    let mut st: Vec<f32> = f0_track(x, sample_rate, (sample_rate / 100) as usize).into_iter().flatten().map(semitones).collect();
    let voiced = st.len();
    let f0_st = (!st.is_empty()).then(|| quantile(&mut st, 0.5));
    let range_st = (st.len() >= 10).then(|| quantile(&mut st, 0.9) - quantile(&mut st, 0.1));
    let db = frame_db(x, sample_rate);
    let frame_s = (sample_rate as usize / 50) as f32 / sample_rate as f32;
    let loudest = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let active: Vec<usize> = db.iter().enumerate().filter(|(_, &e)| e > loudest - 40.0).map(|(i, _)| i).collect();
    let duration_s = match (active.first(), active.last()) {
        (Some(a), Some(b)) => (b - a + 1) as f32 * frame_s,
        _ => x.len() as f32 / sample_rate as f32,
    };
    let level_db = if db.is_empty() {
        -120.0
    } else {
        let median = quantile(&mut db.clone(), 0.5);
        let loud: Vec<f32> = db.iter().copied().filter(|&e| e >= median).collect();
        10.0 * (loud.iter().map(|e| 10f32.powf(e / 10.0)).sum::<f32>() / loud.len() as f32).log10()
    };
    Prosody { f0_st, range_st, duration_s, level_db, tilt_db: tilt(x, sample_rate), voiced }
}

/// Energy 1–5 kHz over energy 50 Hz–1 kHz in the Hann-windowed spectrum of all of `x`, dB.
pub fn tilt(x: &[f32], sample_rate: u32) -> f32 {
    use rustfft::num_complex::Complex;
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let mut buf: Vec<Complex<f32>> = x
        .iter()
        .enumerate()
        .map(|(i, v)| Complex::new(v * (0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (n - 1) as f32).cos()), 0.0))
        .collect();
    rustfft::FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let (mut high, mut low) = (1e-12f64, 1e-12f64);
    for (k, c) in buf.iter().take(n / 2 + 1).enumerate() {
        let f = k as f32 * sample_rate as f32 / n as f32;
        let e = c.norm_sqr() as f64;
        if (1000.0..5000.0).contains(&f) {
            high += e;
        } else if f > 50.0 && f < 1000.0 {
            low += e;
        }
    }
    (10.0 * (high / low).log10()) as f32
}
