//! Log-mel spectra of audio, framed like the voice (one frame per `hop` samples, Piper's
//! 1024-point window): what [`super::spectral`] compares recordings and renderings with.

use rustfft::{num_complex::Complex, FftPlanner};

/// Mel bands.
pub const MELS: usize = 80;
/// FFT and window length (Piper's `filter_length` and `win_length`).
const NFFT: usize = 1024;

/// Triangular filters on the HTK mel scale from 0 Hz to Nyquist: `[MELS][NFFT/2 + 1]`.
fn filterbank(sample_rate: u32) -> Vec<Vec<f32>> {
    let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    let top = mel(sample_rate as f64 / 2.0);
    let edges: Vec<f64> = (0..MELS + 2).map(|i| hz(top * i as f64 / (MELS + 1) as f64)).collect();
    (0..MELS)
        .map(|m| {
            let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
            (0..=NFFT / 2)
                .map(|b| {
                    let f = b as f64 * sample_rate as f64 / NFFT as f64;
                    let w = if f <= lo || f >= hi { 0.0 } else if f <= mid { (f - lo) / (mid - lo) } else { (hi - f) / (hi - mid) };
                    w as f32
                })
                .collect()
        })
        .collect()
}

/// `frames` log-mel frames of `x` (natural log of the filtered magnitude, floored at 1e-5),
/// frame f centred on sample f·hop + hop/2 (the middle of the samples the voice makes for its
/// frame f), zero outside `x`: `[frames][MELS]`.
pub fn log_mel(x: &[f32], sample_rate: u32, hop: usize, frames: usize) -> Vec<Vec<f32>> {
    let bank = filterbank(sample_rate);
    let fft = FftPlanner::<f32>::new().plan_fft_forward(NFFT);
    let window: Vec<f32> = (0..NFFT).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / NFFT as f32).cos()).collect();
    let mut buf = vec![Complex::new(0f32, 0f32); NFFT];
    (0..frames)
        .map(|f| {
            let start = (f * hop + hop / 2) as isize - (NFFT / 2) as isize;
            for (i, b) in buf.iter_mut().enumerate() {
                let t = start + i as isize;
                let v = if t >= 0 && (t as usize) < x.len() { x[t as usize] } else { 0.0 };
                *b = Complex::new(v * window[i], 0.0);
            }
            fft.process(&mut buf);
            let mag: Vec<f32> = buf[..=NFFT / 2].iter().map(|c| c.norm()).collect();
            bank.iter().map(|w| w.iter().zip(&mag).map(|(a, m)| a * m).sum::<f32>().max(1e-5).ln()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_peaks_in_its_band_and_silence_is_the_floor() {
        let sr = 22_050;
        let x: Vec<f32> = (0..sr).map(|n| (std::f32::consts::TAU * 1000.0 * n as f32 / sr as f32).sin() * 0.5).collect();
        let frames = log_mel(&x, sr as u32, 256, 40);
        let f = &frames[20];
        let peak = (0..MELS).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
        // The band whose centre is nearest 1 kHz on the mel scale.
        let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
        let want = (mel(1000.0) / mel(sr as f64 / 2.0) * (MELS + 1) as f64).round() as usize - 1;
        assert!(peak.abs_diff(want) <= 1, "peak band {peak}, 1 kHz is band {want}");
        let silent = log_mel(&vec![0.0; 4096], sr as u32, 256, 4);
        assert!(silent.iter().flatten().all(|&v| v == 1e-5f32.ln()));
    }
}
