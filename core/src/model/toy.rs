//! A tiny second backbone with random weights, to prove that the engine, streaming and style
//! vectors work with something other than VITS. It speaks noise shaped by its input, not speech.
//!
//! Text side: `emb.weight` `[vocab, C]` looked up per phoneme id, each phoneme held for
//! ⌈2 · length_scale⌉ frames, plus `noise_scale`-scaled noise. Stages (C = 8 channels):
//! 0. `front` conv k3 + tanh `[1, C, t]` → `[1, C, t]` (reach 1 each side);
//! 1. ×4 upsampling by repetition, then `body` conv k3 + tanh → `[1, C, 4t]` (reach 1 input
//!    position each side);
//! 2. `out` conv k5 + tanh → audio `[1, 1, 4t]` (reach 2).
//!
//! Groups `front` (`emb`, `front`) and `body` (`body`, `out`); one steering point `h`, the input
//! of stage 1; dense conv weights take LoRA on the fly.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::backbone::{Backbone, Declared, GroupDef, Prepared, StageSpec, SteerPointDef};
use super::modules::{Conv1d, ConvSpec};
use super::noise::Noise;
use super::style_state::StyleState;
use crate::error::{Error, Result};
use crate::scales::Scales;

/// Channels of every hidden state.
pub const CHANNELS: usize = 8;
/// Audio samples per input frame.
pub const UP: usize = 4;

/// See the module doc.
#[derive(Debug, Clone)]
pub struct ToyBackbone {
    /// `emb.weight` `[vocab, C]`.
    emb: Tensor,
    front: Conv1d,
    body: Conv1d,
    out: Conv1d,
    declared: Declared,
}

impl ToyBackbone {
    /// Random weights (seeded) for phoneme ids `0..vocab`.
    pub fn random(vocab: usize, seed: u64, device: &Device) -> Result<Self> {
        let mut noise = Noise::seeded(seed);
        let c = CHANNELS;
        let mut params = HashMap::new();
        for (name, shape, std) in [
            ("emb.weight", vec![vocab, c], 1.0),
            ("front.weight", vec![c, c, 3], 0.4),
            ("front.bias", vec![c], 0.1),
            ("body.weight", vec![c, c, 3], 0.4),
            ("body.bias", vec![c], 0.1),
            ("out.weight", vec![1, c, 5], 0.3),
            ("out.bias", vec![1], 0.0),
        ] {
            params.insert(name.to_string(), noise.normal(&shape, std, device)?);
        }
        Self::from_parameters(params, Path::new("toy backbone"), device)
    }

    /// The backbone over `params` (the names and shapes of [`Self::random`]).
    fn from_parameters(params: HashMap<String, Tensor>, path: &Path, device: &Device) -> Result<Self> {
        let wrap = |e: candle_core::Error| Error::bad_voice(path, e.to_string());
        let vb = VarBuilder::from_tensors(params.clone(), DType::F32, device);
        let c = CHANNELS;
        let emb = params.get("emb.weight").ok_or_else(|| Error::bad_voice(path, "missing `emb.weight`"))?.clone();
        let group = |name: &str, about: &str, prefixes: &[&str]| GroupDef {
            name: name.into(),
            about: about.into(),
            params: params.keys().filter(|p| prefixes.iter().any(|x| p.starts_with(x))).cloned().collect::<BTreeSet<_>>(),
        };
        Ok(ToyBackbone {
            front: Conv1d::load(vb.pp("front"), c, c, 3, ConvSpec::same(3, 1), true).map_err(wrap)?,
            body: Conv1d::load(vb.pp("body"), c, c, 3, ConvSpec::same(3, 1), true).map_err(wrap)?,
            out: Conv1d::load(vb.pp("out"), c, 1, 5, ConvSpec::same(5, 1), true).map_err(wrap)?,
            declared: Declared {
                device: device.clone(),
                groups: vec![group("front", "embedding and first conv", &["emb.", "front."]), group("body", "upsampling conv and output", &["body.", "out."])].into(),
                steer_points: vec![SteerPointDef { name: "h".into(), about: "the first stage's output".into(), stage: 1, channels: c, groups: vec!["front".into()] }].into(),
                stages: vec![
                    StageSpec { module: "front", up: 1, left: 1, right: 1 },
                    StageSpec { module: "body", up: UP, left: 1, right: 1 },
                    StageSpec { module: "out", up: 1, left: 2, right: 2 },
                ]
                .into(),
                parameters: Arc::new(params),
            },
            emb,
        })
    }
}

impl Backbone for ToyBackbone {
    fn family(&self) -> &'static str {
        "toy"
    }

    fn declared(&self) -> &Declared {
        &self.declared
    }

    fn lora_on_the_fly(&self, path: &str, shape: &[usize]) -> bool {
        shape.len() == 3 && path.ends_with(".weight")
    }

    fn speaker_table(&self) -> Option<&Tensor> {
        None
    }

    fn speaker_embedding(&self, speaker: Option<usize>) -> Result<Option<Tensor>> {
        match speaker {
            Some(s) if s > 0 => Err(Error::invalid("speaker", format!("{s}: this voice has a single speaker"))),
            _ => Ok(None),
        }
    }

    fn with_parameters(&self, parameters: HashMap<String, Tensor>, path: &Path) -> Result<Arc<dyn Backbone>> {
        Ok(Arc::new(Self::from_parameters(parameters, path, self.device())?))
    }

    fn samples_per_frame(&self) -> usize {
        UP
    }

    fn prepare(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, _style: &StyleState) -> Result<Prepared> {
        let vocab = self.emb.dim(0)?;
        let hold = |i: usize| (2.0 * scales.length_scale * pace.get(i).copied().unwrap_or(1.0)).ceil().max(1.0) as usize;
        let index = ids
            .iter()
            .map(|&i| u32::try_from(i).ok().filter(|&i| (i as usize) < vocab))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| Error::invalid("phoneme ids", format!("ids must be in 0..{vocab}")))?;
        if index.is_empty() {
            return Err(Error::invalid("phoneme ids", "empty sequence"));
        }
        let frames: Vec<usize> = (0..index.len()).map(hold).collect();
        let index: Vec<u32> = index.iter().zip(&frames).flat_map(|(&i, &f)| std::iter::repeat_n(i, f)).collect();
        let t = index.len();
        let x = self.emb.index_select(&Tensor::from_vec(index, t, self.device())?, 0)?.t()?.unsqueeze(0)?; // [1, C, t]
        let eps = noise.normal(&[1, CHANNELS, t], scales.noise_scale, self.device())?;
        Ok(Prepared { input: (x + eps)?.contiguous()?, frames })
    }

    fn run_stage(&self, stage: usize, x: &Tensor, style: &StyleState) -> Result<Tensor> {
        let lora = style.adapters();
        Ok(match stage {
            0 => self.front.forward(x, lora)?.tanh()?,
            1 => {
                let t = x.dim(2)?;
                let index: Vec<u32> = (0..t as u32).flat_map(|i| std::iter::repeat_n(i, UP)).collect();
                let up = x.index_select(&Tensor::from_vec(index, t * UP, x.device())?, 2)?;
                self.body.forward(&up, lora)?.tanh()?
            }
            2 => self.out.forward(x, lora)?.tanh()?,
            s => return Err(Error::invalid("stage", format!("{s}: the toy backbone has 3"))),
        })
    }
}
