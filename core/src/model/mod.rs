//! VITS inference in candle, one file per network part, named after the checkpoint's modules:
//! `enc_p` ([`text_encoder`]), `dp` ([`duration`]), `flow` ([`flow`]), `dec` ([`generator`]).
//!
//! The parts are callable separately so that a streaming engine can run the text side once per
//! sentence ([`Vits::encode`], [`Vits::durations`], [`Vits::prior`]) and then flow + decoder over
//! spans of frames ([`Vits::flow_decode`]).

pub mod activations;
pub mod attention;
pub mod config;
pub mod cpu;
pub mod cpu_conv;
pub mod cpu_level;
pub mod cpu_microkernel;
pub mod duration;
pub mod flow;
pub mod generator;
pub mod modules;
pub mod noise;
pub mod spline;
pub mod stream;
pub mod text_encoder;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
pub use config::VitsConfig;
use duration::DurationPredictor;
use flow::Flow;
use generator::Generator;
pub use noise::Noise;
use text_encoder::{TextEncoder, TextEncoding};

/// Longest a phoneme may last, in frames (≈ 12 s at Piper's 256-sample hop and 22.05 kHz), so a
/// broken voice or an extreme `length_scale` cannot ask for unbounded memory.
pub const MAX_FRAMES_PER_PHONEME: usize = 1024;

/// A loaded VITS model on one device.
#[derive(Debug, Clone)]
pub struct Vits {
    pub config: VitsConfig,
    enc_p: TextEncoder,
    dp: DurationPredictor,
    flow: Flow,
    dec: Generator,
    /// `emb_g.weight` `[n_speakers, gin]` for multi-speaker voices.
    emb_g: Option<Tensor>,
    device: Device,
}

/// The text side of one sentence: encoder output, prior statistics, speaker embedding.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub text: TextEncoding,
    /// Speaker embedding `[1, gin, 1]`, multi-speaker voices only.
    pub g: Option<Tensor>,
}

/// Scales of one synthesis (Piper's `scales` input) and the speaker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// Std of the prior sample (0 = deterministic).
    pub noise_scale: f32,
    /// Duration multiplier (> 1 speaks slower).
    pub length_scale: f32,
    /// Std of the duration predictor's noise (0 = deterministic).
    pub noise_w: f32,
}

impl Vits {
    /// Builds the model from `ckpt` with the architecture `config`, weights moved to `device`.
    pub fn load(ckpt: &Checkpoint, config: VitsConfig, device: &Device) -> Result<Self> {
        config.check_shapes(ckpt)?;
        let vb = VarBuilder::from_tensors(ckpt.tensors.clone(), DType::F32, device);
        let wrap = |e: candle_core::Error| Error::bad_voice(&ckpt.path, e.to_string());
        Ok(Vits {
            enc_p: TextEncoder::load(vb.pp("enc_p"), &config).map_err(wrap)?,
            dp: DurationPredictor::load(vb.pp("dp"), &config).map_err(wrap)?,
            flow: Flow::load(vb.pp("flow"), &config).map_err(wrap)?,
            dec: Generator::load(vb.pp("dec"), &config).map_err(wrap)?,
            emb_g: (config.n_speakers > 0)
                .then(|| vb.get((config.n_speakers, config.gin_channels), "emb_g.weight"))
                .transpose()
                .map_err(wrap)?,
            config,
            device: device.clone(),
        })
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the text encoder on one sentence's phoneme ids (and looks up the speaker).
    pub fn encode(&self, ids: &[i64], speaker: Option<usize>) -> Result<Encoded> {
        self.encode_with(ids, self.speaker_embedding(speaker)?)
    }

    /// The speaker embedding `[1, gin, 1]` of `speaker` (row of `emb_g`; speaker 0 when not
    /// given), or `None` for single-speaker voices, where any speaker but 0 is an error.
    pub fn speaker_embedding(&self, speaker: Option<usize>) -> Result<Option<Tensor>> {
        match (&self.emb_g, speaker) {
            (Some(emb), s) => {
                let s = s.unwrap_or(0);
                if s >= self.config.n_speakers {
                    return Err(Error::invalid("speaker", format!("{s} is not in 0..{}", self.config.n_speakers)));
                }
                Ok(Some(emb.narrow(0, s, 1)?.unsqueeze(2)?)) // [1, gin, 1]
            }
            (None, Some(s)) if s > 0 => Err(Error::invalid("speaker", format!("{s}: this voice has a single speaker"))),
            (None, _) => Ok(None),
        }
    }

    /// `emb_g.weight` `[n_speakers, gin]` of multi-speaker voices.
    pub fn speaker_table(&self) -> Option<&Tensor> {
        self.emb_g.as_ref()
    }

    /// Runs the text encoder with the speaker embedding `g` `[1, gin, 1]` given directly.
    pub fn encode_with(&self, ids: &[i64], g: Option<Tensor>) -> Result<Encoded> {
        if ids.is_empty() {
            return Err(Error::invalid("phoneme ids", "empty sequence"));
        }
        let n_vocab = self.config.n_vocab;
        let ids_u32 = ids
            .iter()
            .map(|&i| u32::try_from(i).ok().filter(|&i| (i as usize) < n_vocab))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| Error::invalid("phoneme ids", format!("ids must be in 0..{n_vocab}")))?;
        let t = ids_u32.len();
        let ids = Tensor::from_vec(ids_u32, (1, t), &self.device)?;
        Ok(Encoded { text: self.enc_p.forward(&ids)?, g })
    }

    /// Frames per phoneme: ceil(exp(logw) · length_scale), with `noise_w`-scaled noise from `noise`.
    pub fn durations(&self, enc: &Encoded, length_scale: f32, noise_w: f32, noise: &mut Noise) -> Result<Vec<usize>> {
        let t = enc.text.x.dim(2)?;
        let eps = noise.normal(&[1, 2, t], noise_w, &self.device)?;
        let logw = self.dp.log_durations(&enc.text.x, enc.g.as_ref(), &eps)?;
        let logw: Vec<f32> = logw.flatten_all()?.to_vec1()?;
        // NaN → 0 frames; absurd values are capped at MAX_FRAMES_PER_PHONEME (`as` saturates).
        Ok(logw.iter().map(|&l| ((l.exp() * length_scale).ceil() as usize).min(MAX_FRAMES_PER_PHONEME)).collect())
    }

    /// A prior sample z_p `[1, inter, frames]`: each phoneme's m_p repeated for its duration, plus
    /// `noise_scale`-scaled noise times exp(logs_p). At least one frame, as in VITS.
    pub fn prior(&self, enc: &Encoded, durations: &[usize], noise_scale: f32, noise: &mut Noise) -> Result<Tensor> {
        let index: Vec<u32> = durations
            .iter()
            .enumerate()
            .flat_map(|(i, &d)| std::iter::repeat_n(i as u32, d))
            .collect();
        let inter = self.config.inter_channels;
        if index.is_empty() {
            // VITS clamps the length to 1 frame whose prior mean is all zeros.
            return Ok(Tensor::zeros((1, inter, 1), DType::F32, &self.device)?);
        }
        let frames = index.len();
        let index = Tensor::from_vec(index, frames, &self.device)?;
        let m = enc.text.m_p.index_select(&index, 2)?;
        if noise_scale == 0.0 {
            return Ok(m);
        }
        let logs = enc.text.logs_p.index_select(&index, 2)?;
        let eps = noise.normal(&[1, inter, frames], noise_scale, &self.device)?;
        Ok((m + (eps * logs.exp()?)?)?)
    }

    /// The flow in reverse: prior frames z_p `[1, inter, t]` → latent z `[1, inter, t]`.
    pub fn flow_reverse(&self, z_p: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        Ok(self.flow.reverse(z_p, g)?)
    }

    /// The decoder: latent z `[1, inter, t]` → audio `[t · hop]`.
    pub fn decode(&self, z: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        Ok(self.dec.forward(z, g)?.flatten_all()?)
    }

    /// The streaming stages of flow (reverse) and decoder, in order, with their reach.
    pub fn stages(&self) -> Vec<stream::StageSpec> {
        let reach = Flow::step_reach(&self.config);
        let flow = (0..self.flow.steps()).map(|_| stream::StageSpec { up: 1, left: reach, right: reach });
        flow.chain(Generator::stage_specs(&self.config)).collect()
    }

    /// Stages of [`Self::stages`] that belong to the flow (the decoder's come after).
    pub fn flow_stages(&self) -> usize {
        self.flow.steps()
    }

    /// Runs stage `stage` of [`Self::stages`] on `x` (prior frames for stage 0; the decoder's
    /// last stage gives audio `[1, 1, samples]`).
    pub fn run_stage(&self, stage: usize, x: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let n = self.flow.steps();
        Ok(if stage < n { self.flow.reverse_step(stage, x, g)? } else { self.dec.stage(stage - n, x, g)? })
    }

    /// Flow (reverse) and decoder on a span of prior frames `[1, inter, t]` → audio `[t · hop]`.
    pub fn flow_decode(&self, z_p: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        self.decode(&self.flow_reverse(z_p, g)?, g)
    }

    /// One sentence's ids → raw model audio (Piper's `output`), deterministic for a given `noise`.
    pub fn synthesize(&self, ids: &[i64], scales: Scales, speaker: Option<usize>, noise: &mut Noise) -> Result<Vec<f32>> {
        let enc = self.encode(ids, speaker)?;
        let durations = self.durations(&enc, scales.length_scale, scales.noise_w, noise)?;
        let z_p = self.prior(&enc, &durations, scales.noise_scale, noise)?;
        Ok(self.flow_decode(&z_p, enc.g.as_ref())?.to_vec1()?)
    }
}
