//! The style a voice speaks with at one setting of its controls, as one explicit value: the
//! weights (with weight deltas merged in, or the voice's own), the LoRA adapters that run on the
//! fly, the steering offsets per stage input, the speaker embedding and the phoneme rewrites
//! blended into the text encoder's input. It is built once per α
//! change (see `style::Palette`) and passed to [`Backbone::prepare`] and
//! [`Backbone::run_stage`]; nothing else carries style.

use std::sync::Arc;

use candle_core::{DType, Tensor};

use super::backbone::Backbone;
use super::lora::Adapters;
use super::rewrite::Rewrite;
use crate::error::Result;

/// See the module doc.
#[derive(Debug, Clone)]
pub struct StyleState {
    backbone: Arc<dyn Backbone>,
    lora: Adapters,
    /// Per stage: the offset `[1, channels, 1]` added to its input at every frame.
    steering: Vec<Option<Tensor>>,
    /// Speaker embedding `[1, dims, 1]` (multi-speaker models).
    speaker: Option<Tensor>,
    /// Phoneme rewrites blended into the text encoder's input, each at its α.
    rewrites: Vec<(Arc<Rewrite>, f32)>,
}

/// What one forward pass is conditioned on besides its input: the speaker embedding and the
/// adapters. Cheap to copy; handed down through a backbone's modules.
#[derive(Debug, Clone, Copy)]
pub struct Cond<'a> {
    /// Speaker embedding `[1, dims, 1]`.
    pub g: Option<&'a Tensor>,
    pub lora: &'a Adapters,
    /// Phoneme rewrites and their α (see [`Rewrite`]).
    pub rewrites: &'a [(Arc<Rewrite>, f32)],
}

static NO_ADAPTERS: std::sync::LazyLock<Adapters> = std::sync::LazyLock::new(Adapters::default);

impl Cond<'static> {
    /// No speaker, no adapters.
    pub fn plain() -> Self {
        Cond { g: None, lora: &NO_ADAPTERS, rewrites: &[] }
    }
}

impl<'a> Cond<'a> {
    /// With speaker embedding `g`, no adapters.
    pub fn speaker(g: Option<&'a Tensor>) -> Self {
        Cond { g, lora: &NO_ADAPTERS, rewrites: &[] }
    }
}

impl StyleState {
    /// `backbone` as it is: no style, no speaker.
    pub fn plain(backbone: Arc<dyn Backbone>) -> Self {
        let stages = backbone.stages().len();
        StyleState { backbone, lora: Adapters::default(), steering: vec![None; stages + 1], speaker: None, rewrites: Vec::new() }
    }

    /// With these weights (e.g. a copy with weight deltas merged in).
    pub fn with_backbone(mut self, backbone: Arc<dyn Backbone>) -> Self {
        self.backbone = backbone;
        self
    }

    /// With these adapters.
    pub fn with_adapters(mut self, lora: Adapters) -> Self {
        self.lora = lora;
        self
    }

    /// With speaker embedding `g` `[1, dims, 1]`.
    pub fn with_speaker(mut self, g: Option<Tensor>) -> Self {
        self.speaker = g;
        self
    }

    /// Blends `rewrite` into the text encoder's input at `alpha` (nothing at 0).
    pub fn add_rewrite(&mut self, rewrite: Arc<Rewrite>, alpha: f32) {
        if alpha != 0.0 {
            self.rewrites.push((rewrite, alpha));
        }
    }

    /// Adds `alpha · v` (`v` `[channels]`) to the input of stage `stage`.
    pub fn add_steering(&mut self, stage: usize, v: &Tensor, alpha: f32) -> Result<()> {
        if alpha == 0.0 {
            return Ok(());
        }
        let c = v.dim(0)?;
        let term = (v.to_device(self.backbone.device())?.to_dtype(DType::F32)? * alpha as f64)?.reshape((1, c, 1))?;
        let slot = self.steering.get_mut(stage).ok_or_else(|| crate::error::Error::invalid("steering", format!("no stage {stage}")))?;
        *slot = Some(match slot.take() {
            Some(s) => (s + term)?,
            None => term,
        });
        Ok(())
    }

    /// The weights this style runs with.
    pub fn backbone(&self) -> &Arc<dyn Backbone> {
        &self.backbone
    }

    /// The adapters that run on the fly.
    pub fn adapters(&self) -> &Adapters {
        &self.lora
    }

    /// The speaker embedding.
    pub fn speaker(&self) -> Option<&Tensor> {
        self.speaker.as_ref()
    }

    /// The steering offset at stage `stage`'s input, if any.
    pub fn steering(&self, stage: usize) -> Option<&Tensor> {
        self.steering.get(stage).and_then(Option::as_ref)
    }

    /// `x` `[b, c, t]`, the input of stage `stage`, plus that stage's steering offset.
    pub fn steer(&self, stage: usize, x: Tensor) -> Result<Tensor> {
        Ok(match self.steering(stage) {
            Some(o) => x.broadcast_add(o)?,
            None => x,
        })
    }

    /// Whether this state runs `base`'s own weights with no adapters (steering and speaker
    /// aside): stage runs of such states batch with the voice's other plain-weight jobs.
    pub fn runs_weights_of(&self, base: &Arc<dyn Backbone>) -> bool {
        Arc::ptr_eq(&self.backbone, base) && self.lora.is_empty()
    }

    /// The conditioning of a forward pass under this style.
    pub fn cond(&self) -> Cond<'_> {
        Cond { g: self.speaker.as_ref(), lora: &self.lora, rewrites: &self.rewrites }
    }
}
