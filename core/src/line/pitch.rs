//! Markup's pitch (`<prosody pitch="+2st">`). A VITS voice has no pitch input, so a shifted run
//! of phonemes is spoken `r` = 2^(st/12) times as long (its durations scaled by `r`, see
//! [`super::Planned::length`]) and its audio then played `r` times as fast: resampled to 1/r of
//! its length, which raises every frequency by `r` and brings the duration back. Formants move
//! with the pitch (by 12 % at ±2 st), the price of a shift the model was not trained to make.
//!
//! The resampler is a windowed sinc evaluated once per output sample over one span (the spans
//! are short and their lengths exact, so a streaming resampler's chunking would only get in the
//! way). Whole and streamed synthesis resample the same span audio the same way.

use std::f64::consts::PI;

/// Zero crossings of the sinc kept on each side.
const TAPS: f64 = 16.0;

/// A run of frames spoken at another pitch: frames `[start, end)` of the sentence, shifted by
/// `ratio` (> 1: higher).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    pub start: usize,
    pub end: usize,
    pub ratio: f64,
}

/// The pitch shifts of one sentence and where they move its samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shifts {
    pub spans: Vec<Shift>,
    hop: usize,
}

impl Shifts {
    /// The runs of ids with a pitch shift (`st_per_id`, semitones), over the frames each id
    /// lasts; `hop` samples per frame.
    pub fn new(st_per_id: &[f32], frames: &[usize], hop: usize) -> Self {
        let mut spans: Vec<Shift> = Vec::new();
        let mut at = 0;
        for (&st, &f) in st_per_id.iter().zip(frames) {
            if st != 0.0 && f > 0 {
                let ratio = 2f64.powf(st as f64 / 12.0);
                match spans.last_mut() {
                    Some(s) if s.end == at && s.ratio == ratio => s.end += f,
                    _ => spans.push(Shift { start: at, end: at + f, ratio }),
                }
            }
            at += f;
        }
        Shifts { spans, hop }
    }

    /// Whether nothing is shifted.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Samples a shifted span of `len` model samples becomes.
    pub fn out_len(len: usize, ratio: f64) -> usize {
        (len as f64 / ratio).round() as usize
    }

    /// The span containing frame `f`, if any.
    pub fn at(&self, f: usize) -> Option<&Shift> {
        self.spans.iter().find(|s| s.start <= f && f < s.end)
    }

    /// The first frame after `f` where a span starts or ends.
    pub fn next_edge(&self, f: usize) -> Option<usize> {
        self.spans.iter().flat_map(|s| [s.start, s.end]).filter(|&e| e > f).min()
    }

    /// Where model sample `s` of the sentence lands in its output.
    pub fn warp(&self, s: u64) -> u64 {
        let mut delta: i64 = 0;
        for sp in &self.spans {
            let (a, b) = ((sp.start * self.hop) as u64, (sp.end * self.hop) as u64);
            let len = (b - a) as usize;
            let out = Self::out_len(len, sp.ratio);
            if s >= b {
                delta += out as i64 - len as i64;
            } else if s > a {
                let inside = ((s - a) as f64 * out as f64 / len as f64).round() as i64;
                return (a as i64 + delta + inside) as u64;
            }
        }
        (s as i64 + delta) as u64
    }

    /// The sentence's whole model audio with every span resampled.
    pub fn apply(&self, audio: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(audio.len());
        let mut cursor = 0;
        for sp in &self.spans {
            let (a, b) = ((sp.start * self.hop).min(audio.len()), (sp.end * self.hop).min(audio.len()));
            out.extend_from_slice(&audio[cursor..a]);
            out.extend(resample(&audio[a..b], sp.ratio));
            cursor = b;
        }
        out.extend_from_slice(&audio[cursor..]);
        out
    }
}

/// `x` played `ratio` times as fast: [`Shifts::out_len`] samples, band-limited below the
/// new Nyquist frequency when it drops (ratio > 1). Edges continue the first and last sample.
pub fn resample(x: &[f32], ratio: f64) -> Vec<f32> {
    let n = Shifts::out_len(x.len(), ratio);
    if x.is_empty() || n == 0 {
        return Vec::new();
    }
    // Cutoff relative to the input's Nyquist frequency.
    let fc = (1.0 / ratio).min(1.0);
    let half = (TAPS / fc).ceil() as i64;
    let last = x.len() as i64 - 1;
    (0..n)
        .map(|m| {
            let t = m as f64 * ratio;
            let c = t.floor() as i64;
            let mut acc = 0.0;
            let mut norm = 0.0;
            for k in c - half + 1..=c + half {
                let u = t - k as f64;
                let w = 0.5 + 0.5 * (PI * u / half as f64).cos(); // Hann
                let h = fc * sinc(fc * u) * w;
                acc += h * x[k.clamp(0, last) as usize] as f64;
                norm += h;
            }
            (acc / norm) as f32
        })
        .collect()
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dominant frequency of `x` (Hz at `rate`), by zero crossings.
    fn freq(x: &[f32], rate: f64) -> f64 {
        let crossings = x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        crossings as f64 * rate / x.len() as f64
    }

    #[test]
    fn resampling_raises_the_frequency_by_the_ratio() {
        let rate = 22050.0;
        let tone: Vec<f32> = (0..22050).map(|i| (2.0 * PI * 200.0 * i as f64 / rate).sin() as f32 * 0.5).collect();
        let r = 2f64.powf(3.0 / 12.0);
        let up = resample(&tone, r);
        assert_eq!(up.len(), (22050.0 / r).round() as usize);
        let f = freq(&up, rate);
        assert!((f / 200.0 - r).abs() < 0.01, "200 Hz × {r:.3} → {f:.1} Hz");
        let peak = up[500..up.len() - 500].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.5).abs() < 0.01, "level kept: {peak}");
        let down = resample(&tone, 1.0 / r);
        assert!((freq(&down, rate) / 200.0 - 1.0 / r).abs() < 0.01);
        assert!(resample(&tone, 1.0).iter().zip(&tone).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max) < 1e-5);
    }

    #[test]
    fn spans_warp_the_samples_after_them() {
        // Ids: 2 frames plain, 4 frames +12 st (twice as fast), 2 plain; hop 10.
        let s = Shifts::new(&[0.0, 12.0, 12.0, 0.0], &[2, 2, 2, 2], 10);
        assert_eq!(s.spans, [Shift { start: 2, end: 6, ratio: 2.0 }]);
        assert_eq!(s.warp(20), 20);
        assert_eq!(s.warp(40), 30);
        assert_eq!(s.warp(60), 40);
        assert_eq!(s.warp(80), 60);
        assert_eq!(s.apply(&vec![0.1; 80]).len(), 60);
        assert_eq!((s.next_edge(0), s.next_edge(2), s.next_edge(6)), (Some(2), Some(6), None));
    }
}
