//! VITS (Piper's voices) as a [`Backbone`]: the text side `enc_p` → `dp` → prior, then the
//! streaming stages of `flow` (reverse) and `dec`, named after the checkpoint's modules.

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::activations;
use super::backbone::{Backbone, Declared, Prepared, StageSpec, TextStart};
use super::cpu::is_cpu_f32;
use super::config::VitsConfig;
use super::duration::DurationPredictor;
use super::flow::Flow;
use super::generator::Generator;
use super::modules::Trim;
use super::noise::Noise;
use super::style_state::{Cond, StyleState};
use super::text_encoder::{EncoderRest, TextEncoder, TextEncoding};
use super::vits_vocab;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::scales::Scales;

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
    declared: Declared,
}

/// The whole receptive field of flow and decoder, in frames each side: what a window would need
/// if it were recomputed from the prior frames alone. Streaming needs only each stage's own
/// reach ([`StageSpec`]); this is the figure the tests check the stages against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halo {
    /// Flow: each side.
    pub flow: usize,
    /// Decoder: before and after the window.
    pub dec_left: usize,
    pub dec_right: usize,
}

impl Halo {
    /// The receptive fields of `vits`'s flow and decoder.
    pub fn of(vits: &Vits) -> Self {
        let (dec_left, dec_right) = Generator::receptive_halo(&vits.config);
        Halo { flow: Flow::receptive_halo(&vits.config), dec_left, dec_right }
    }
}

impl Vits {
    /// Builds the model from `ckpt` with the architecture `config`, weights moved to `device`.
    pub fn load(ckpt: &Checkpoint, config: VitsConfig, device: &Device) -> Result<Self> {
        config.check_shapes(ckpt)?;
        let names: Vec<String> = config.parameter_shapes().into_iter().map(|(n, _)| n).collect();
        let params: HashMap<String, Tensor> = names
            .iter()
            .map(|n| Ok((n.clone(), ckpt.tensors[n].to_device(device)?)))
            .collect::<Result<_>>()?;
        let vb = VarBuilder::from_tensors(params.clone(), DType::F32, device);
        let wrap = |e: candle_core::Error| Error::bad_voice(&ckpt.path, e.to_string());
        let flow = Flow::load(vb.pp("flow"), &config).map_err(wrap)?;
        let reach = Flow::step_reach(&config);
        let stages: Vec<StageSpec> = (0..flow.steps())
            .map(|_| StageSpec { module: "flow", up: 1, left: reach, right: reach })
            .chain(Generator::stage_specs(&config))
            .collect();
        Ok(Vits {
            enc_p: TextEncoder::load(vb.pp("enc_p"), &config).map_err(wrap)?,
            dp: DurationPredictor::load(vb.pp("dp"), &config).map_err(wrap)?,
            dec: Generator::load(vb.pp("dec"), &config).map_err(wrap)?,
            emb_g: (config.n_speakers > 0)
                .then(|| vb.get((config.n_speakers, config.gin_channels), "emb_g.weight"))
                .transpose()
                .map_err(wrap)?,
            declared: Declared {
                device: device.clone(),
                groups: vits_vocab::groups(&config, &names).into(),
                steer_points: vits_vocab::steer_points(&config, flow.steps()).into(),
                stages: stages.into(),
                parameters: Arc::new(params),
            },
            flow,
            config,
        })
    }

    /// Runs the text encoder on one sentence's phoneme ids.
    pub fn encode(&self, ids: &[i64], cx: Cond<'_>) -> Result<TextEncoding> {
        self.encode_head(ids, cx, usize::MAX).map(|(text, _)| text)
    }

    /// [`Self::encode`]'s outputs for the first `n` ids (all where fewer, or off the CPU), and
    /// what [`TextEncoder::finish`] completes them from ([`TextEncoder::forward_head`]).
    fn encode_head(&self, ids: &[i64], cx: Cond<'_>, n: usize) -> Result<(TextEncoding, Option<EncoderRest>)> {
        let ids_tensor = |ids: &[i64]| -> Result<Tensor> {
            let n_vocab = self.config.n_vocab;
            let ids_u32 = ids
                .iter()
                .map(|&i| u32::try_from(i).ok().filter(|&i| (i as usize) < n_vocab))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| Error::invalid("phoneme ids", format!("ids must be in 0..{n_vocab}")))?;
            Ok(Tensor::from_vec(ids_u32, (1, ids.len()), self.device())?)
        };
        if ids.is_empty() {
            return Err(Error::invalid("phoneme ids", "empty sequence"));
        }
        let blends = cx.rewrites.iter().map(|(r, alpha)| Ok((ids_tensor(&r.apply(ids))?, *alpha))).collect::<Result<Vec<_>>>()?;
        if n >= ids.len() {
            return Ok((self.enc_p.forward(&ids_tensor(ids)?, cx.lora, &blends)?, None));
        }
        let (text, rest) = self.enc_p.forward_head(&ids_tensor(ids)?, cx.lora, &blends, n)?;
        let complete = text.x.dim(2)? == ids.len();
        Ok((text, (!complete).then_some(rest)))
    }

    /// Frames per phoneme: ceil(exp(logw) · length_scale · pace), with `noise_w`-scaled noise
    /// from `noise` (`pace`: per id, empty for 1).
    pub fn durations(&self, text: &TextEncoding, length_scale: f32, pace: &[f32], noise_w: f32, noise: &mut Noise, cx: Cond<'_>) -> Result<Vec<usize>> {
        let t = text.x.dim(2)?;
        let eps = noise.normal(&[1, 2, t], noise_w, self.device())?;
        let logw = self.log_durations(text, &eps, 0, t, cx)?;
        Ok(frames_of(&logw, 0, length_scale, pace))
    }

    /// Log-durations of ids `[a, b)` from the encoding and the duration noise `eps` `[1, 2, t]`,
    /// computed over those ids and the predictor's reach each side ([`DurationPredictor::reach`]):
    /// the same values as over the whole sentence (every step of the predictor treats each
    /// position alike), for less work when `[a, b)` is a part of it.
    pub fn log_durations(&self, text: &TextEncoding, eps: &Tensor, a: usize, b: usize, cx: Cond<'_>) -> Result<Vec<f32>> {
        let t = text.x.dim(2)?;
        let reach = DurationPredictor::reach(&self.config);
        let (from, to) = (a.saturating_sub(reach), (b + reach).min(t));
        let (x, eps) = if (from, to) == (0, t) { (text.x.clone(), eps.clone()) } else { (text.x.narrow(2, from, to - from)?.contiguous()?, eps.narrow(2, from, to - from)?.contiguous()?) };
        let trim = Trim { left: a - from, right: to - b };
        Ok(self.dp.log_durations(&x, cx, &eps, trim)?.flatten_all()?.to_vec1()?)
    }

    /// A prior sample z_p `[1, inter, frames]`: each phoneme's m_p repeated for its duration, plus
    /// `noise_scale`-scaled noise times exp(logs_p). At least one frame, as in VITS.
    pub fn prior(&self, text: &TextEncoding, durations: &[usize], noise_scale: f32, noise: &mut Noise) -> Result<Tensor> {
        let index = frame_ids(durations, 0);
        if index.is_empty() {
            // VITS clamps the length to 1 frame whose prior mean is all zeros.
            return Ok(Tensor::zeros((1, self.config.inter_channels, 1), DType::F32, self.device())?);
        }
        self.prior_frames(text, &index, noise_scale, noise)
    }

    /// z_p `[1, inter, n]` for frames whose ids are `index`. The noise is drawn frame by frame
    /// (all channels of a frame, then the next frame), so a sentence's frames can be drawn in
    /// pieces, in order, and get the same values as drawn at once.
    fn prior_frames(&self, text: &TextEncoding, index: &[u32], noise_scale: f32, noise: &mut Noise) -> Result<Tensor> {
        let (inter, frames) = (self.config.inter_channels, index.len());
        if noise_scale != 0.0 && is_cpu_f32(&text.m_p) {
            let eps = noise.normal_values(frames * inter, noise_scale);
            return Ok(prior_cpu(&text.m_p, &text.logs_p, index, &eps)?);
        }
        let index = Tensor::from_vec(index.to_vec(), frames, self.device())?;
        let m = text.m_p.index_select(&index, 2)?;
        if noise_scale == 0.0 {
            return Ok(m);
        }
        let logs = text.logs_p.index_select(&index, 2)?;
        let eps = noise.normal(&[1, frames, inter], noise_scale, self.device())?.transpose(1, 2)?;
        Ok((m + (eps * logs.exp()?)?)?)
    }

    /// The text side of one sentence: encoder, durations (frames per id), prior sample z_p
    /// `[1, inter, frames]`.
    pub fn text_side(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, cx: Cond<'_>) -> Result<Prepared> {
        let text = self.encode(ids, cx)?;
        let frames = self.durations(&text, scales.length_scale, pace, scales.noise_w, noise, cx)?;
        let input = self.prior(&text, &frames, scales.noise_scale, noise)?;
        Ok(Prepared { input, frames })
    }

    /// [`Self::text_side`] begun: the encoder (its last layer only where the first ids'
    /// durations read it, [`TextEncoder::forward_head`]), then durations of the first ids only (doubling
    /// from [`FIRST_IDS`] until their frames reach `frames_wanted`) and z_p of their frames, so
    /// that the first window can start before the rest of the sentence's durations are known
    /// ([`Self::finish_text_side`] gives the rest). The same values as [`Self::text_side`]:
    /// the same noise in the same order, durations computed over each part and the predictor's
    /// reach. A sentence too short to gain is done whole ([`TextStart::Done`]).
    pub fn start_text_side(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, cx: Cond<'_>, frames_wanted: usize) -> Result<TextStart> {
        let t = ids.len();
        let reach = DurationPredictor::reach(&self.config);
        // The encoder's outputs for the first ids' durations (the ids and the predictor's reach),
        // the rest when they are needed: first, where the first ids are too few (below), or
        // when the text side finishes.
        let (mut text, mut rest) = self.encode_head(ids, cx, FIRST_IDS + reach)?;
        let eps = noise.normal(&[1, 2, t], scales.noise_w, self.device())?;
        let mut first = FIRST_IDS;
        let (first, frames) = loop {
            if (first + 2 * reach >= t || first + reach > text.x.dim(2)?) && rest.is_some() {
                text = self.enc_p.finish(rest.as_ref().expect("checked"), cx.lora)?;
                rest = None;
            }
            if first + 2 * reach >= t {
                // Done whole (the parts would cost more than the sentence).
                let frames = frames_of(&self.log_durations(&text, &eps, 0, t, cx)?, 0, scales.length_scale, pace);
                let input = self.prior(&text, &frames, scales.noise_scale, noise)?;
                return Ok(TextStart::Done(Prepared { input, frames }));
            }
            let frames = frames_of(&self.log_durations(&text, &eps, 0, first, cx)?, 0, scales.length_scale, pace);
            if frames.iter().sum::<usize>() >= frames_wanted.max(1) {
                break (first, frames);
            }
            first *= 2;
        };
        let input = self.prior_frames(&text, &frame_ids(&frames, 0), scales.noise_scale, noise)?;
        let pending = PendingText { text, rest, eps, first, frames, head: input.clone(), length_scale: scales.length_scale, pace: pace.to_vec(), noise_scale: scales.noise_scale };
        Ok(TextStart::Begun { input, pending: Box::new(pending) })
    }

    /// The rest of a text side begun with [`Self::start_text_side`] (the noise stream where that
    /// left it): the whole sentence's z_p and frames, as [`Self::text_side`] gives them.
    pub fn finish_text_side(&self, pending: Box<dyn Any + Send>, noise: &mut Noise, cx: Cond<'_>) -> Result<Prepared> {
        let mut p = pending.downcast::<PendingText>().map_err(|_| Error::invalid("text side", "finished with another model's state"))?;
        if let Some(rest) = p.rest.take() {
            p.text = self.enc_p.finish(&rest, cx.lora)?;
        }
        let t = p.text.x.dim(2)?;
        let rest = frames_of(&self.log_durations(&p.text, &p.eps, p.first, t, cx)?, p.first, p.length_scale, &p.pace);
        let mut frames = p.frames;
        let done: usize = frames.len();
        frames.extend_from_slice(&rest);
        let tail = frame_ids(&rest, done);
        let input = if tail.is_empty() { p.head } else { Tensor::cat(&[&p.head, &self.prior_frames(&p.text, &tail, p.noise_scale, noise)?], 2)? };
        Ok(Prepared { input, frames })
    }

    /// The flow in reverse: prior frames z_p `[1, inter, t]` → latent z `[1, inter, t]`.
    pub fn flow_reverse(&self, z_p: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        Ok(self.flow.reverse(z_p, cx)?)
    }

    /// The decoder: latent z `[1, inter, t]` → audio `[t · hop]`.
    pub fn decode(&self, z: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        Ok(self.dec.forward(z, cx)?.flatten_all()?)
    }

    /// Flow (reverse) and decoder on a span of prior frames `[1, inter, t]` → audio `[t · hop]`.
    pub fn flow_decode(&self, z_p: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        self.decode(&self.flow_reverse(z_p, cx)?, cx)
    }

    /// Stages that belong to the flow (the decoder's come after).
    pub fn flow_stages(&self) -> usize {
        self.flow.steps()
    }

    /// One sentence's ids → raw model audio (Piper's `output`) with the voice's own weights,
    /// deterministic for a given `noise`.
    pub fn synthesize(&self, ids: &[i64], scales: Scales, speaker: Option<usize>, noise: &mut Noise) -> Result<Vec<f32>> {
        let g = self.speaker_embedding(speaker)?;
        let cx = Cond::speaker(g.as_ref());
        let z_p = self.text_side(ids, &[], &scales, noise, cx)?.input;
        Ok(self.flow_decode(&z_p, cx)?.to_vec1()?)
    }
}

/// Ids whose durations [`Vits::start_text_side`] computes first (doubled until their frames
/// cover the first window): few enough that the duration predictor's reach each side costs
/// about as much again.
pub const FIRST_IDS: usize = 32;

/// A text side begun by [`Vits::start_text_side`]: what finishing it needs.
#[derive(Debug)]
struct PendingText {
    /// The encoder's outputs: all, or the first ids' with `rest` to complete them.
    text: TextEncoding,
    rest: Option<EncoderRest>,
    /// The duration noise `[1, 2, t]` (drawn whole at the start).
    eps: Tensor,
    /// Ids whose frames are known: `[0, first)`.
    first: usize,
    frames: Vec<usize>,
    /// z_p of their frames.
    head: Tensor,
    length_scale: f32,
    pace: Vec<f32>,
    noise_scale: f32,
}

/// Frames of ids `first..` from their log-durations: ceil(exp(logw) · length_scale · pace), NaN
/// → 0, absurd values capped at [`MAX_FRAMES_PER_PHONEME`] (`as` saturates). `pace`: per id of
/// the sentence, empty for 1.
fn frames_of(logw: &[f32], first: usize, length_scale: f32, pace: &[f32]) -> Vec<usize> {
    let pace = |i: usize| pace.get(first + i).copied().unwrap_or(1.0);
    logw.iter().enumerate().map(|(i, &l)| ((l.exp() * (length_scale * pace(i))).ceil() as usize).min(MAX_FRAMES_PER_PHONEME)).collect()
}

/// The id of each frame: id `first + i` repeated `durations[i]` times.
fn frame_ids(durations: &[usize], first: usize) -> Vec<u32> {
    durations.iter().enumerate().flat_map(|(i, &d)| std::iter::repeat_n((first + i) as u32, d)).collect()
}

/// [`Vits::prior_frames`] on the CPU in one pass: `m_p`, `logs_p` `[1, inter, t]`, `index` the
/// id of each frame, `eps` `[frames, inter]` (frame by frame, already scaled) → `m + eps ·
/// exp(logs)` `[1, inter, frames]`, exp(logs) taken once per id.
fn prior_cpu(m_p: &Tensor, logs_p: &Tensor, index: &[u32], eps: &[f32]) -> candle_core::Result<Tensor> {
    let (_, inter, t) = m_p.dims3()?;
    let frames = index.len();
    let m: Vec<f32> = m_p.flatten_all()?.to_vec1()?;
    let mut scale: Vec<f32> = logs_p.flatten_all()?.to_vec1()?;
    activations::exp_in_place(&mut scale);
    let mut out = vec![0f32; inter * frames];
    for (c, row) in out.chunks_exact_mut(frames).enumerate() {
        let (m, s) = (&m[c * t..][..t], &scale[c * t..][..t]);
        for (f, (o, &i)) in row.iter_mut().zip(index).enumerate() {
            *o = m[i as usize] + eps[f * inter + c] * s[i as usize];
        }
    }
    Tensor::from_vec(out, (1, inter, frames), m_p.device())
}

impl Backbone for Vits {
    fn family(&self) -> &'static str {
        "vits"
    }

    fn declared(&self) -> &Declared {
        &self.declared
    }

    fn lora_on_the_fly(&self, path: &str, shape: &[usize]) -> bool {
        vits_vocab::lora_on_the_fly(path, shape)
    }

    fn speaker_table(&self) -> Option<&Tensor> {
        self.emb_g.as_ref()
    }

    fn speaker_embedding(&self, speaker: Option<usize>) -> Result<Option<Tensor>> {
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

    fn with_parameters(&self, parameters: HashMap<String, Tensor>, path: &Path) -> Result<Arc<dyn Backbone>> {
        let ckpt = Checkpoint { tensors: parameters, path: path.to_path_buf(), ..Default::default() };
        Ok(Arc::new(Vits::load(&ckpt, self.config.clone(), self.device())?))
    }

    fn samples_per_frame(&self) -> usize {
        self.config.hop_length()
    }

    fn prepare(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, style: &StyleState) -> Result<Prepared> {
        self.text_side(ids, pace, scales, noise, style.cond())
    }

    fn prepare_start(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, style: &StyleState, frames_wanted: usize) -> Result<TextStart> {
        self.start_text_side(ids, pace, scales, noise, style.cond(), frames_wanted)
    }

    fn prepare_finish(&self, pending: Box<dyn Any + Send>, noise: &mut Noise, style: &StyleState) -> Result<Prepared> {
        self.finish_text_side(pending, noise, style.cond())
    }

    fn run_stage(&self, stage: usize, x: &Tensor, style: &StyleState) -> Result<Tensor> {
        let n = self.flow.steps();
        let cx = style.cond();
        Ok(if stage < n { self.flow.reverse_step(stage, x, cx)? } else { self.dec.stage(stage - n, x, cx)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass prior is m + ε·exp(logs) gathered by frame, as the tensor ops compute it
    /// (ε frame by frame).
    #[test]
    fn prior_cpu_matches_the_tensor_ops() {
        let dev = Device::Cpu;
        let (inter, t) = (6, 5);
        let m_p = Tensor::randn(0f32, 1.0, (1, inter, t), &dev).unwrap();
        let logs_p = Tensor::randn(0f32, 0.5, (1, inter, t), &dev).unwrap();
        let index: Vec<u32> = vec![0, 0, 1, 3, 3, 3, 4];
        let frames = index.len();
        // Frame by frame: [frames, inter].
        let eps: Vec<f32> = (0..frames * inter).map(|i| (i as f32 * 0.37).sin()).collect();
        let got = prior_cpu(&m_p, &logs_p, &index, &eps).unwrap();
        let idx = Tensor::from_vec(index.clone(), frames, &dev).unwrap();
        let eps = Tensor::from_vec(eps, (1, frames, inter), &dev).unwrap().transpose(1, 2).unwrap();
        let want = (m_p.index_select(&idx, 2).unwrap() + (eps * logs_p.index_select(&idx, 2).unwrap().exp().unwrap()).unwrap()).unwrap();
        assert_eq!(got.dims(), &[1, inter, frames]);
        let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(err < 1e-5, "{err}");
    }
}
