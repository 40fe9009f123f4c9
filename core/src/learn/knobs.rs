//! The four prosodic dimensions the learner moves, each as a weight delta of a VITS voice that
//! is linear in α (so α = 0 is the voice, α = 1 the learned style, and α between lies between):
//!
//! | knob | parameter | change |
//! |---|---|---|
//! | pitch level | `enc_p.proj.bias` (m half) | m_p += a·d |
//! | pitch range | `enc_p.proj.weight`, `.bias` (m half) | m_p += β/(1 + λ)·(I + λ·d dᵀ)(m_p − c) widening (β > 0), β·(m_p − c) narrowing |
//! | tempo | `dp.flows.0.m` (channel 0) | log-durations += δ |
//! | level | `dec.conv_post.weight` | decoder output (before tanh) × 10^(g/20) |
//! | tilt | `dec.conv_post.weight` | + γ·(y\[n\] − (y\[n−1\] + y\[n+1\])/2) before tanh: gain 1 + γ(1 − cos ω), zero-phase, raising high frequencies (γ > 0) or lowering them (γ < 0); its kernel truncated to conv_post's own taps |
//!
//! d is the voice's own pitch direction in prior-mean space and c the mean prior of its voiced
//! frames, both found by [`super::direction`]. The range knob scales the prior's deviations
//! from c along d by 1 + β. Widening, it scales the other directions by only 1 + β/(1 + λ)
//! ([`RANGE_ALONG_PITCH`]): scaling along d alone widened the range by at most ×1.3 (measured on
//! WORLD targets of ×1.5), as the other directions carry the contour too, but scaling all of
//! them alike carries the phonemes' own contrasts with them, which costs intelligibility.
//! Narrowing, it scales every direction alike: squeezing d five times more than the rest gave
//! pitch breaks Praat reads as octave jumps (7–11 frames 9 st above the median) on 4 of 24
//! unseen lines of the WORLD target F0 −2 st, range ×0.8. It is a knob of prosodic contrast,
//! mostly pitch, which also moves the level a little; the level knob compensates in the fit.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::Backbone;

/// λ of the range knob: widening, how much more it scales the prior's deviations along the
/// pitch direction than along the others. On the WORLD target F0 +3 st, range ×1.5, 20 % faster,
/// +3 dB (40 lines, 24 unseen sentences at α 1) Whisper tiny.en misheard 18 words at λ 0, 15 at
/// 2, 12 at 4 (the plain voice 9), every cue within the learning issue's bounds at 4.
pub const RANGE_ALONG_PITCH: f64 = 4.0;

/// The parameters a knob writes (VITS checkpoint paths).
pub const PROJ_WEIGHT: &str = "enc_p.proj.weight";
pub const PROJ_BIAS: &str = "enc_p.proj.bias";
pub const DP_AFFINE_M: &str = "dp.flows.0.m";
pub const DP_AFFINE_LOGS: &str = "dp.flows.0.logs";
pub const CONV_POST: &str = "dec.conv_post.weight";

/// One value per knob.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Knobs {
    /// Pitch level: offset along d, in units of the voice's own spread along d.
    pub pitch: f32,
    /// Pitch range (prosodic contrast): β, the prior's deviations from c along d are scaled by
    /// 1 + β (the others alike when narrowing, by 1 + β/(1 + λ) when widening).
    pub range: f32,
    /// Tempo: δ, natural log of the duration factor (> 0 slower).
    pub tempo: f32,
    /// Level: g, dB.
    pub gain: f32,
    /// Spectral tilt: γ, the weight of the (negated) second difference added to the decoder's output.
    pub tilt: f32,
}

impl Knobs {
    pub const COUNT: usize = 5;

    pub fn to_array(self) -> [f32; Self::COUNT] {
        [self.pitch, self.range, self.tempo, self.gain, self.tilt]
    }

    pub fn from_array(a: [f32; Self::COUNT]) -> Self {
        Knobs { pitch: a[0], range: a[1], tempo: a[2], gain: a[3], tilt: a[4] }
    }
}

/// The voice's pitch direction and what the knobs need of its weights (for `steer` vectors,
/// the spectral direction of [`super::spectral`], over all frames).
#[derive(Debug, Clone)]
pub struct Basis {
    /// Unit pitch direction d in prior-mean space `[inter]`.
    pub direction: Vec<f32>,
    /// Mean prior c over voiced frames `[inter]`.
    pub centre: Vec<f32>,
    /// Standard deviation of dᵀ(m_p − c) over voiced frames: the pitch knob's unit.
    pub spread: f32,
}

/// The parameters of `model` the knobs write, checked to be there with the shapes VITS has.
fn param<'a>(model: &'a dyn Backbone, name: &str) -> Result<&'a Tensor> {
    model.parameters().get(name).ok_or_else(|| Error::invalid("vector learn", format!("the voice has no `{name}`: learning knows VITS (Piper) voices")))
}

impl Basis {
    /// Per-parameter deltas for `knobs` (only the non-zero knobs' parameters).
    pub fn deltas(&self, model: &dyn Backbone, k: Knobs) -> Result<BTreeMap<String, Tensor>> {
        let mut out = BTreeMap::new();
        let dev = Device::Cpu;
        if k.pitch != 0.0 || k.range != 0.0 {
            let w = param(model, PROJ_WEIGHT)?.to_device(&dev)?; // [2·inter, hidden, 1]
            let b = param(model, PROJ_BIAS)?.to_device(&dev)?; // [2·inter]
            let inter = self.direction.len();
            let (out_ch, hidden) = (w.dim(0)?, w.dim(1)?);
            if out_ch != 2 * inter || b.dim(0)? != out_ch {
                return Err(Error::invalid("vector learn", format!("`{PROJ_WEIGHT}` is {:?}, expected [{}, …]", w.dims(), 2 * inter)));
            }
            let d = Tensor::from_vec(self.direction.clone(), (inter, 1), &dev)?;
            let c = Tensor::from_vec(self.centre.clone(), (inter, 1), &dev)?;
            let wm = w.narrow(0, 0, inter)?.reshape((inter, hidden))?;
            let bm = b.narrow(0, 0, inter)?.reshape((inter, 1))?;
            // m' = m + R(W x + b − c) + a·spread·d, R = β/(1 + λ)·(I + λ·d dᵀ) for β > 0, else β·I
            let (beta, lambda) = if k.range > 0.0 { (k.range as f64 / (1.0 + RANGE_ALONG_PITCH), RANGE_ALONG_PITCH) } else { (k.range as f64, 0.0) };
            let r = |x: &Tensor| -> Result<Tensor> { Ok(((x + (d.matmul(&d.t()?.matmul(x)?)? * lambda)?)? * beta)?) };
            let dw = r(&wm)?; // [inter, hidden]
            let db = (r(&(bm - &c)?)? + (&d * (k.pitch * self.spread) as f64)?)?; // [inter, 1]
            let zeros_w = Tensor::zeros((inter, hidden), candle_core::DType::F32, &dev)?;
            let zeros_b = Tensor::zeros((inter, 1), candle_core::DType::F32, &dev)?;
            if k.range != 0.0 {
                out.insert(PROJ_WEIGHT.to_string(), Tensor::cat(&[dw, zeros_w], 0)?.reshape((out_ch, hidden, 1))?);
            }
            out.insert(PROJ_BIAS.to_string(), Tensor::cat(&[db, zeros_b], 0)?.reshape(out_ch)?);
        }
        if k.tempo != 0.0 {
            // Reverse affine: logw = (z − m)·e^(−logs), so m += −δ·e^(logs) adds δ to logw.
            let logs: Vec<f32> = param(model, DP_AFFINE_LOGS)?.flatten_all()?.to_vec1()?;
            let m = param(model, DP_AFFINE_M)?;
            let mut dm = vec![0f32; logs.len()];
            dm[0] = -k.tempo * logs[0].exp();
            out.insert(DP_AFFINE_M.to_string(), Tensor::from_vec(dm, m.dims(), &dev)?);
        }
        if k.gain != 0.0 || k.tilt != 0.0 {
            let w = param(model, CONV_POST)?.to_device(&dev)?; // [1, ch, taps]; y[n] = Σ w[k]·x[n + k − pad]
            let taps = w.dim(2)?;
            // y[n ∓ 1] is the kernel moved one tap: w[k ± 1] (the tap moved out falls off).
            let zero = w.narrow(2, 0, 1)?.zeros_like()?;
            let before = Tensor::cat(&[w.narrow(2, 1, taps - 1)?, zero.clone()], 2)?;
            let after = Tensor::cat(&[zero, w.narrow(2, 0, taps - 1)?], 2)?;
            let gain = (&w * (10f64.powf(k.gain as f64 / 20.0) - 1.0))?;
            let tilt = ((&w - ((before + after)? * 0.5)?)? * k.tilt as f64)?;
            out.insert(CONV_POST.to_string(), (gain + tilt)?);
        }
        Ok(out)
    }

    /// The `steer` form of the pitch knob alone: a·spread·d added to `m_p` (for `steer` vectors
    /// d is the spectral direction of [`super::spectral`]).
    pub fn steer(&self, k: Knobs) -> Result<Tensor> {
        let v: Vec<f32> = self.direction.iter().map(|d| d * k.pitch * self.spread).collect();
        Ok(Tensor::from_vec(v, self.direction.len(), &Device::Cpu)?)
    }
}
