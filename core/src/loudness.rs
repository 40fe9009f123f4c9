//! Loudness of a line and its normalisation to a target (EBU R128 / ITU-R BS.1770 integrated
//! loudness and true peak, measured by the `ebur128` crate).
//!
//! Integrated loudness needs at least one 400 ms gating block: a shorter line ("Halt!") is
//! measured repeated to 400 ms, which gives the loudness of the line itself rather than of the
//! line diluted by silence.
//!
//! Speech has a high crest factor (the bundled voice's lines peak at −1 to −4 dBFS when brought
//! to −23 LUFS), so a line's peaks can pass the ceiling at its target. Rather than turning the
//! whole line down (missing the target), [`normalize`] limits those peaks: a gain envelope that
//! dips only around them (5 ms look-ahead and release each side), which costs the loudness
//! almost nothing; the gain is then corrected once for what the limiting took.

use ebur128::{EbuR128, Mode};

use crate::error::{Error, Result};

/// Dialogue loudness most games and broadcast mix to (EBU R128), in LUFS.
pub const DEFAULT_TARGET_LUFS: f64 = -23.0;
/// True-peak ceiling after normalisation, in dBTP.
pub const DEFAULT_CEILING_DBTP: f64 = -1.0;

/// Shortest audio measured as it is, in seconds (one gating block).
const BLOCK_S: f64 = 0.4;

/// A measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Integrated loudness, LUFS (−∞ for silence).
    pub lufs: f64,
    /// True peak, dBTP.
    pub true_peak_db: f64,
}

/// Measures mono `audio` at `rate`.
pub fn measure(audio: &[f32], rate: u32) -> Result<Loudness> {
    let meter_err = |e: ebur128::Error| Error::invalid("loudness", e.to_string());
    let mut m = EbuR128::new(1, rate, Mode::I | Mode::TRUE_PEAK).map_err(meter_err)?;
    let min = (BLOCK_S * rate as f64).ceil() as usize;
    if audio.is_empty() {
        return Ok(Loudness { lufs: f64::NEG_INFINITY, true_peak_db: f64::NEG_INFINITY });
    }
    if audio.len() >= min {
        m.add_frames_f32(audio).map_err(meter_err)?;
    } else {
        let mut fed = 0;
        while fed < min {
            m.add_frames_f32(audio).map_err(meter_err)?;
            fed += audio.len();
        }
    }
    let lufs = m.loudness_global().map_err(meter_err)?;
    let peak = m.true_peak(0).map_err(meter_err)?;
    Ok(Loudness { lufs, true_peak_db: 20.0 * peak.max(1e-12).log10() })
}

/// What [`normalize`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalized {
    /// Gain applied, dB.
    pub gain_db: f64,
    /// Measured after the gain.
    pub after: Loudness,
}

/// Scales `audio` to `target_lufs`, limiting the peaks that would pass `ceiling_dbtp` (see the
/// module doc). Silence is left as it is (gain 0).
pub fn normalize(audio: &mut [f32], rate: u32, target_lufs: f64, ceiling_dbtp: f64) -> Result<Normalized> {
    if !target_lufs.is_finite() || !ceiling_dbtp.is_finite() {
        return Err(Error::invalid("loudness target", format!("{target_lufs} LUFS, ceiling {ceiling_dbtp} dBTP: need finite values")));
    }
    let before = measure(audio, rate)?;
    if !before.lufs.is_finite() {
        return Ok(Normalized { gain_db: 0.0, after: before });
    }
    let original = audio.to_vec();
    let mut gain_db = target_lufs - before.lufs;
    // Headroom of the sample-peak limiter under the ceiling, widened while inter-sample peaks
    // still pass it.
    let mut margin = LIMIT_MARGIN_DB;
    for _ in 0..LIMIT_ROUNDS {
        apply_gain(&original, audio, gain_db);
        limit(audio, rate, 10f64.powf((ceiling_dbtp - margin) / 20.0) as f32);
        let now = measure(audio, rate)?;
        let (over, off) = (now.true_peak_db - ceiling_dbtp, target_lufs - now.lufs);
        if !now.lufs.is_finite() || (over <= 0.0 && off.abs() < 0.05) {
            break;
        }
        if over > 0.0 {
            margin += over + 0.05;
        }
        gain_db += off;
    }
    // Inter-sample peaks the sample-peak limiter left above the ceiling: turn the line down by
    // that little.
    let after = measure(audio, rate)?;
    if after.true_peak_db > ceiling_dbtp {
        let g = 10f64.powf((ceiling_dbtp - after.true_peak_db) / 20.0) as f32;
        audio.iter_mut().for_each(|x| *x *= g);
    }
    let after = measure(audio, rate)?;
    Ok(Normalized { gain_db, after })
}

/// Rounds of gain correction after limiting (each brings the loudness closer to the target).
const LIMIT_ROUNDS: usize = 8;
/// Headroom the sample-peak limiter keeps below the true-peak ceiling, for inter-sample peaks.
const LIMIT_MARGIN_DB: f64 = 0.5;
/// Look-ahead and release of the limiter, each side of a peak, in seconds.
const LIMIT_REACH_S: f64 = 0.005;

/// `out` = `x` · 10^(db/20).
fn apply_gain(x: &[f32], out: &mut [f32], db: f64) {
    let g = 10f64.powf(db / 20.0) as f32;
    for (o, v) in out.iter_mut().zip(x) {
        *o = v * g;
    }
}

/// Keeps every sample of `audio` within ±`limit` by a smooth gain: the gain each sample needs,
/// its minimum over ±reach (so the gain is down before a peak arrives), then averaged over
/// ±reach/2 (so it moves without clicks; an average of minima that all include the peak never
/// exceeds the peak's own need).
fn limit(audio: &mut [f32], rate: u32, limit: f32) {
    if audio.iter().all(|x| x.abs() <= limit) {
        return;
    }
    let need: Vec<f32> = audio.iter().map(|x| if x.abs() > limit { limit / x.abs() } else { 1.0 }).collect();
    let reach = ((LIMIT_REACH_S * rate as f64) as usize).max(1);
    let n = need.len();
    let mins = sliding(&need, reach, f32::min, 1.0);
    let half = (reach / 2).max(1);
    // Moving average of `mins` over ±half by prefix sums.
    let mut prefix = vec![0.0f64; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + mins[i] as f64;
    }
    for i in 0..n {
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
        let g = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
        audio[i] *= g.min(need[i]);
    }
}

/// For each i, `f` folded over `x[i − r ..= i + r]` (clipped), starting from `init`.
fn sliding(x: &[f32], r: usize, f: fn(f32, f32) -> f32, init: f32) -> Vec<f32> {
    // Blocks of 2r+1: prefix folds from each block's start, suffix folds from its end.
    let w = 2 * r + 1;
    let n = x.len();
    let mut pre = vec![init; n];
    let mut suf = vec![init; n];
    for i in 0..n {
        pre[i] = if i % w == 0 { x[i] } else { f(pre[i - 1], x[i]) };
    }
    for i in (0..n).rev() {
        suf[i] = if i % w == w - 1 || i == n - 1 { x[i] } else { f(suf[i + 1], x[i]) };
    }
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(r), (i + r).min(n - 1));
            // Clipped at the start, the window lies in the first block.
            if a == 0 {
                pre[b]
            } else {
                f(suf[a], pre[b])
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f64, amp: f32) -> Vec<f32> {
        (0..(secs * 48_000.0) as usize).map(|i| amp * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 48_000.0).sin()).collect()
    }

    #[test]
    fn a_full_scale_sine_and_normalising_to_targets() {
        // BS.1770: a 1 kHz sine at 0 dBFS peak reads −3.01 LUFS (mono).
        let l = measure(&tone(2.0, 1.0), 48_000).unwrap();
        assert!((l.lufs + 3.01).abs() < 0.1, "{l:?}");
        let mut x = tone(2.0, 0.1);
        let n = normalize(&mut x, 48_000, -23.0, -1.0).unwrap();
        assert!((n.after.lufs + 23.0).abs() < 0.1, "{n:?}");
        // A steady tone above the ceiling at its target: the peaks win, the ceiling holds.
        let mut y = tone(2.0, 0.1);
        let n = normalize(&mut y, 48_000, 0.0, -1.0).unwrap();
        assert!(n.after.true_peak_db <= -1.0 + 1e-6 && n.after.lufs < -3.0, "{n:?}");
        // Speech-like: short loud clicks over a quiet tone reach the target under the ceiling.
        let mut z = tone(2.0, 0.05);
        for k in 0..20 {
            for i in 0..48 {
                z[k * 4800 + i] += 0.8 * (i as f32 / 48.0 * std::f32::consts::PI).sin();
            }
        }
        let n = normalize(&mut z, 48_000, -14.0, -1.0).unwrap();
        assert!((n.after.lufs + 14.0).abs() < 0.5 && n.after.true_peak_db <= -1.0 + 1e-6, "{n:?}");
        // Short lines are measured as themselves; silence is untouched.
        let short = measure(&tone(0.2, 0.1), 48_000).unwrap();
        assert!((short.lufs - measure(&tone(2.0, 0.1), 48_000).unwrap().lufs).abs() < 0.5, "{short:?}");
        let x: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 101) as f32 / 100.0).collect();
        let mins = sliding(&x, 13, f32::min, 1.0);
        for (i, m) in mins.iter().enumerate() {
            let want = x[i.saturating_sub(13)..(i + 14).min(1000)].iter().copied().fold(1.0, f32::min);
            assert_eq!(*m, want, "sliding minimum at {i}");
        }
        let mut z = vec![0.0; 48_000];
        assert_eq!(normalize(&mut z, 48_000, -23.0, -1.0).unwrap().gain_db, 0.0);
        assert!(normalize(&mut tone(1.0, 0.1), 48_000, f64::NAN, -1.0).is_err());
    }
}
