//! Loudness of a line and its normalisation to a target (EBU R128 / ITU-R BS.1770 integrated
//! loudness and true peak, measured by the `ebur128` crate).
//!
//! Integrated loudness needs at least one 400 ms gating block: a shorter line ("Halt!") is
//! measured repeated to 400 ms, which gives the loudness of the line itself rather than of the
//! line diluted by silence.

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

/// Scales `audio` to `target_lufs`, or less where the true peak would pass `ceiling_dbtp`.
/// Silence is left as it is (gain 0).
pub fn normalize(audio: &mut [f32], rate: u32, target_lufs: f64, ceiling_dbtp: f64) -> Result<Normalized> {
    if !target_lufs.is_finite() || !ceiling_dbtp.is_finite() {
        return Err(Error::invalid("loudness target", format!("{target_lufs} LUFS, ceiling {ceiling_dbtp} dBTP: need finite values")));
    }
    let before = measure(audio, rate)?;
    if !before.lufs.is_finite() {
        return Ok(Normalized { gain_db: 0.0, after: before });
    }
    let gain_db = (target_lufs - before.lufs).min(ceiling_dbtp - before.true_peak_db);
    let g = 10f64.powf(gain_db / 20.0) as f32;
    for x in audio.iter_mut() {
        *x *= g;
    }
    Ok(Normalized { gain_db, after: measure(audio, rate)? })
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
        // A target above the ceiling: the peak wins.
        let mut y = tone(2.0, 0.1);
        let n = normalize(&mut y, 48_000, 0.0, -1.0).unwrap();
        assert!(n.after.true_peak_db <= -0.9 && n.after.lufs < -3.0, "{n:?}");
        // Short lines are measured as themselves; silence is untouched.
        let short = measure(&tone(0.2, 0.1), 48_000).unwrap();
        assert!((short.lufs - measure(&tone(2.0, 0.1), 48_000).unwrap().lufs).abs() < 0.5, "{short:?}");
        let mut z = vec![0.0; 48_000];
        assert_eq!(normalize(&mut z, 48_000, -23.0, -1.0).unwrap().gain_db, 0.0);
        assert!(normalize(&mut tone(1.0, 0.1), 48_000, f64::NAN, -1.0).is_err());
    }
}
