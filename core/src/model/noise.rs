//! Seeded Gaussian noise for the duration predictor and the prior: same seed, same audio.

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::Result;

/// A seeded stream of N(0, 1) samples (ChaCha8), drawn in a fixed order by the model.
#[derive(Debug, Clone)]
pub struct Noise {
    rng: ChaCha8Rng,
}

impl Noise {
    /// A stream that gives the same samples for the same `seed`.
    pub fn seeded(seed: u64) -> Self {
        Noise { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// A tensor of `shape` with N(0, scale²) entries; all zeros (and no draw) when `scale` is 0.
    pub fn normal(&mut self, shape: &[usize], scale: f32, device: &Device) -> Result<Tensor> {
        if scale == 0.0 {
            return Ok(Tensor::zeros(shape, candle_core::DType::F32, device)?);
        }
        let n: usize = shape.iter().product();
        Ok(Tensor::from_vec(self.normal_values(n, scale), shape, device)?)
    }

    /// The next `n` samples of the stream times `scale` (what [`Self::normal`] draws for `n`
    /// values, `scale` ≠ 0).
    pub fn normal_values(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let v: f32 = StandardNormal.sample(&mut self.rng);
                scale * v
            })
            .collect()
    }
}
