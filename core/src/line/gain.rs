//! The gain markup asks of a sentence (`<prosody volume>`, `<emphasis>`), as a function of the
//! sample: constant over each phoneme's frames, ramping linearly over [`RAMP_S`] around each
//! change so a word's level changes without a click. A function of the sentence's sample
//! position only, so whole and streamed synthesis apply the same gain.

/// Length of the ramp at a change of gain, in seconds.
pub const RAMP_S: f32 = 0.010;

/// See the module doc.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gain {
    /// (first sample, linear gain) of each level, in order; the first starts at 0.
    levels: Vec<(u64, f32)>,
    /// Ramp length in samples.
    ramp: u64,
}

impl Gain {
    /// From the gain (dB) of each id, its frames, `hop` samples per frame and the sample rate.
    pub fn new(db_per_id: &[f32], frames: &[usize], hop: usize, sample_rate: u32) -> Self {
        let mut levels: Vec<(u64, f32)> = Vec::new();
        let mut at = 0u64;
        for (&db, &f) in db_per_id.iter().zip(frames) {
            let g = if db == f32::NEG_INFINITY { 0.0 } else { 10f32.powf(db / 20.0) };
            if levels.last().is_none_or(|l| l.1 != g) && (f > 0 || levels.is_empty()) {
                match levels.last_mut() {
                    Some(l) if l.0 == at => l.1 = g,
                    _ => levels.push((at, g)),
                }
            }
            at += (f * hop) as u64;
        }
        let ramp = ((RAMP_S * sample_rate as f32) as u64).max(1);
        Gain { levels, ramp }
    }

    /// Whether it changes nothing.
    pub fn is_unity(&self) -> bool {
        self.levels.iter().all(|l| l.1 == 1.0)
    }

    /// The gain at sample `s`.
    pub fn at(&self, s: u64) -> f32 {
        let i = self.levels.partition_point(|l| l.0 <= s).saturating_sub(1);
        let Some(&(_, g)) = self.levels.get(i) else { return 1.0 };
        let half = self.ramp / 2;
        // Ramping into the next level, or out of the one before.
        if let Some(&(b, next)) = self.levels.get(i + 1).filter(|l| l.0 < s + half) {
            let t = (s + half - b) as f32 / self.ramp as f32;
            return g + (next - g) * t;
        }
        if i > 0 && s < self.levels[i].0 + half {
            let prev = self.levels[i - 1].1;
            let t = (s + half - self.levels[i].0) as f32 / self.ramp as f32;
            return prev + (g - prev) * t;
        }
        g
    }

    /// Applies the gain to `audio`, whose first sample is the sentence's sample `offset`.
    pub fn apply(&self, offset: u64, audio: &mut [f32]) {
        if self.is_unity() {
            return;
        }
        for (k, x) in audio.iter_mut().enumerate() {
            *x *= self.at(offset + k as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_ramp_across_changes() {
        // Ids at 0, -6 dB, 0 dB, 2 frames each of 100 samples, 10 kHz: ramp 100 samples.
        let g = Gain::new(&[0.0, -6.0206, 0.0], &[2, 2, 2], 100, 10_000);
        assert!(!g.is_unity());
        assert!((g.at(0) - 1.0).abs() < 1e-6 && (g.at(149) - 1.0).abs() < 1e-6);
        assert!((g.at(200) - 0.75).abs() < 1e-3, "half-way through the ramp: {}", g.at(200));
        assert!((g.at(300) - 0.5).abs() < 1e-4);
        assert!((g.at(599) - 1.0).abs() < 1e-6);
        // Monotone through a ramp, steps no larger than the ramp's slope.
        let steps: Vec<f32> = (150..=250).map(|s| g.at(s)).collect();
        assert!(steps.windows(2).all(|w| w[1] <= w[0] && w[0] - w[1] <= 0.5 / 100.0 + 1e-6));
        assert!(Gain::new(&[0.0, 0.0], &[3, 4], 256, 22050).is_unity());
        let mut a = vec![1.0; 600];
        g.apply(0, &mut a);
        assert!((a[300] - 0.5).abs() < 1e-4);
    }
}
