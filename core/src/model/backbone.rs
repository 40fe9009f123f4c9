//! The interface a model family implements. The engine, the streaming pipeline, style vectors and
//! the CLI talk to a voice's model only through [`Backbone`]; VITS ([`super::Vits`]) is one, the
//! tiny [`super::toy::ToyBackbone`] another.
//!
//! A backbone declares, as data, what style vectors may touch ([`GroupDef`]: named sets of its
//! parameters; [`SteerPointDef`]: hidden states that steering adds to), turns a sentence's
//! phoneme ids into the input of its first streaming stage ([`Backbone::prepare`]: the part that
//! needs the whole sentence), and runs its streaming stages ([`Backbone::stages`], each with its
//! reach, [`Backbone::run_stage`]). Everything a style changes arrives in one explicit value, the
//! [`StyleState`], passed to both.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use candle_core::{Device, Tensor};

use super::noise::Noise;
use super::style_state::StyleState;
use crate::error::Result;
use crate::scales::Scales;

/// One streaming stage: `up` output positions per input position; an output at input position
/// i reads inputs i − left … i + right. `module` names the part of the model it runs (`flow`,
/// `dec`), for timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpec {
    pub module: &'static str,
    pub up: usize,
    pub left: usize,
    pub right: usize,
}

/// A named part of a model that a style vector may touch (`dec`, `enc_p.late`): the parameter
/// paths in it.
#[derive(Debug, Clone)]
pub struct GroupDef {
    pub name: String,
    /// What the part does, for listings (`decoder: timbre`).
    pub about: String,
    pub params: BTreeSet<String>,
}

/// A hidden state steering vectors are added to at every frame: the input of stage `stage`,
/// `channels` wide. Steering there counts as touching the groups `groups`.
#[derive(Debug, Clone)]
pub struct SteerPointDef {
    pub name: String,
    pub about: String,
    pub stage: usize,
    pub channels: usize,
    pub groups: Vec<String>,
}

/// The text side's result for one sentence.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The first stage's input `[1, channels, frames]`.
    pub input: Tensor,
    /// Frames each phoneme id lasts, in id order: the timing track of the sentence. They sum to
    /// `frames`, except when every id lasts 0 frames (the model then speaks one silent frame).
    pub frames: Vec<usize>,
}

/// The text side begun ([`Backbone::prepare_start`]).
pub enum TextStart {
    /// All of it.
    Done(Prepared),
    /// The first stage's input `[1, channels, frames]` for the sentence's first frames (at least
    /// the frames asked for); [`Backbone::prepare_finish`] with `pending` gives the rest.
    Begun { input: Tensor, pending: Box<dyn std::any::Any + Send> },
}

/// What a backbone declares about itself as data, held once by each implementation (cheap to
/// clone: shared).
#[derive(Debug, Clone)]
pub struct Declared {
    /// The device the weights live on.
    pub device: Device,
    /// Every parameter used at inference, by checkpoint path (the tensors the modules hold).
    pub parameters: Arc<HashMap<String, Tensor>>,
    /// The groups a style vector may touch, coarse ones first.
    pub groups: Arc<[GroupDef]>,
    /// The hidden states steering may add to.
    pub steer_points: Arc<[SteerPointDef]>,
    /// The streaming stages, in order, with their reach. The last one gives audio.
    pub stages: Arc<[StageSpec]>,
}

/// A model family's side of a voice: parameters, style vocabulary, text side, streaming stages.
pub trait Backbone: Send + Sync + fmt::Debug {
    /// The family's name (`vits`).
    fn family(&self) -> &'static str;

    /// Its parameters, groups, steering points and stages.
    fn declared(&self) -> &Declared;

    /// The device the weights live on.
    fn device(&self) -> &Device {
        &self.declared().device
    }

    /// Every parameter used at inference, by checkpoint path (shared tensors).
    fn parameters(&self) -> &HashMap<String, Tensor> {
        &self.declared().parameters
    }

    /// The groups a style vector may touch, coarse ones first.
    fn groups(&self) -> &[GroupDef] {
        &self.declared().groups
    }

    /// The hidden states steering may add to.
    fn steer_points(&self) -> &[SteerPointDef] {
        &self.declared().steer_points
    }

    /// The streaming stages, in order, with their reach. The last one gives audio.
    fn stages(&self) -> &[StageSpec] {
        &self.declared().stages
    }

    /// Whether a low-rank delta of parameter `path` (shape `shape`) can run on the fly as an
    /// [`super::lora::Adapter`]; others are merged into a copy of the weights.
    fn lora_on_the_fly(&self, path: &str, shape: &[usize]) -> bool;

    /// The speaker table `[n_speakers, dims]` of a multi-speaker model.
    fn speaker_table(&self) -> Option<&Tensor>;

    /// The speaker embedding `[1, dims, 1]` of `speaker` (0 when not given), or `None` for a
    /// single-speaker model, where any speaker but 0 is an error.
    fn speaker_embedding(&self, speaker: Option<usize>) -> Result<Option<Tensor>>;

    /// The same model with these parameters (same names and shapes; `path` names them in errors).
    fn with_parameters(&self, parameters: HashMap<String, Tensor>, path: &Path) -> Result<Arc<dyn Backbone>>;

    /// Audio samples per frame of the first stage's input.
    fn samples_per_frame(&self) -> usize;

    /// The text side of one sentence: phoneme ids → the first stage's input `[1, channels,
    /// frames]` and how many frames each id lasts, drawing noise from `noise` as `scales` ask.
    /// `pace` multiplies each id's duration on top of `scales.length_scale` (markup's rate;
    /// empty: 1 for every id).
    fn prepare(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, style: &StyleState) -> Result<Prepared>;

    /// [`Self::prepare`] in two parts, so that the first window can start sooner: at least the
    /// first `frames_wanted` frames' input now, the rest from [`Self::prepare_finish`] (with the
    /// same `noise`, drawn from nowhere else in between). Together they give what `prepare`
    /// gives. A backbone that cannot split its text side (the default) does it all now.
    fn prepare_start(&self, ids: &[i64], pace: &[f32], scales: &Scales, noise: &mut Noise, style: &StyleState, frames_wanted: usize) -> Result<TextStart> {
        let _ = frames_wanted;
        Ok(TextStart::Done(self.prepare(ids, pace, scales, noise, style)?))
    }

    /// The rest of a text side that [`Self::prepare_start`] began: the whole sentence's
    /// [`Prepared`].
    fn prepare_finish(&self, pending: Box<dyn std::any::Any + Send>, noise: &mut Noise, style: &StyleState) -> Result<Prepared> {
        let _ = (pending, noise, style);
        Err(crate::error::Error::invalid("text side", "this model does not begin text sides in parts"))
    }

    /// Runs stage `stage` on `x` `[b, channels, positions]` (rows are independent sequences);
    /// the last stage gives audio `[b, 1, samples]`.
    fn run_stage(&self, stage: usize, x: &Tensor, style: &StyleState) -> Result<Tensor>;
}

impl<'a> dyn Backbone + 'a {
    /// The group named `name`.
    pub fn group(&self, name: &str) -> Option<&GroupDef> {
        self.groups().iter().find(|g| g.name == name)
    }

    /// The steering point named `name`.
    pub fn steer_point(&self, name: &str) -> Option<&SteerPointDef> {
        self.steer_points().iter().find(|p| p.name == name)
    }

    /// The shape of parameter `path`, if the model has it.
    pub fn parameter_shape(&self, path: &str) -> Option<&[usize]> {
        self.parameters().get(path).map(|t| t.dims())
    }

    /// Every stage over the whole of `x` (the first stage's input): the sentence's audio
    /// `[samples]`. Streaming gives the same, window by window.
    pub fn run_all(&self, x: &Tensor, style: &StyleState) -> Result<Tensor> {
        self.run_until(self.stages().len(), x, style)?.flatten_all().map_err(Into::into)
    }

    /// Stages `0..stage` over the whole of `x` (with the style's steering at each stage's
    /// input): the input of stage `stage`.
    pub fn run_until(&self, stage: usize, x: &Tensor, style: &StyleState) -> Result<Tensor> {
        let mut x = style.steer(0, x.clone())?;
        for s in 0..stage {
            x = self.run_stage(s, &x, style)?;
            x = style.steer(s + 1, x)?;
        }
        Ok(x)
    }
}
