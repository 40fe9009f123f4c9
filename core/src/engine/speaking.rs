//! What a started job speaks and how: its sentences, its styles (cached by control values, with
//! markup's settings over the request's), and the sentence under way ([`Current`]), including
//! the text side of a sentence whose markup switches style ([`Speaking::text_side`]).

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::Tensor;

use super::controls::ControlValues;
use crate::error::Result;
use crate::line::{Gain, Plan, Planned, Shifts};
use crate::model::stream::SentenceStream;
use crate::model::{Noise, Prepared, StyleState, TextStart};
use crate::scales::Scales;
use crate::style::{ControlId, Palette};

/// The sentence being streamed.
#[derive(Clone)]
pub(super) struct Current {
    pub(super) index: usize,
    /// The request's sample where this sentence's audio (its frame 0) begins.
    pub(super) origin: u64,
    /// `None` for a sentence that is only a break's silence.
    pub(super) stream: Option<SentenceStream>,
    /// Markup's gain over the sentence's samples.
    pub(super) gain: Gain,
    /// Where the style changes: (first frame, prosody), in order, the first at frame 0.
    pub(super) styles: Vec<(usize, usize)>,
    /// Markup's pitch shifts; the audio of a shifted span is held until the span is complete.
    pub(super) shifts: Shifts,
    pub(super) held: Vec<f32>,
    /// Samples of silence still to give after the model's audio, of `silence_total`.
    pub(super) silence: u64,
    pub(super) silence_total: u64,
    /// `SentenceFinished` went out (a sentence computed again after an α change ends once).
    pub(super) finished_sent: bool,
    /// A baked line's audio, and how much of it went out.
    pub(super) baked: Vec<f32>,
    pub(super) baked_at: usize,
}

impl Current {
    /// Sentence `index`, beginning at sample `origin`, with nothing computed yet, `silence`
    /// samples after it.
    pub(super) fn new(index: usize, origin: u64, silence: u64) -> Self {
        Current {
            index,
            origin,
            stream: None,
            gain: Gain::default(),
            styles: vec![(0, 0)],
            shifts: Shifts::default(),
            held: Vec::new(),
            silence,
            silence_total: silence,
            finished_sent: false,
            baked: Vec::new(),
            baked_at: 0,
        }
    }

    /// The prosody whose style is in force at frame `f`, and the frame where the next begins.
    pub(super) fn style_at(&self, f: usize) -> (usize, Option<usize>) {
        let k = self.styles.partition_point(|s| s.0 <= f).saturating_sub(1);
        (self.styles.get(k).map_or(0, |s| s.1), self.styles.get(k + 1).map(|s| s.0))
    }

    /// Whether a window may run in a batch with other jobs': one style and no gain.
    pub(super) fn plain(&self) -> bool {
        self.styles.len() <= 1 && self.gain.is_unity() && self.shifts.is_empty()
    }

    /// Whether its audio can be computed again from any frame (the model's, not pitch-shifted).
    pub(super) fn recomputable(&self) -> bool {
        self.stream.is_some() && self.shifts.is_empty() && self.baked.is_empty()
    }

    /// Makes `frame` the next frame to compute, its silence still to come after it: to compute
    /// the sentence again from there ([`SentenceStream::seek`]).
    pub(super) fn restart_at(&mut self, frame: usize) {
        if let Some(stream) = self.stream.as_mut() {
            stream.seek(frame);
        }
        self.held.clear();
        self.silence = self.silence_total;
    }

    /// The sample after its audio and silence (for a recomputable sentence).
    pub(super) fn end(&self, hop: usize) -> u64 {
        let frames = self.stream.as_ref().map_or(0, SentenceStream::frames);
        self.origin + (frames * hop) as u64 + self.silence_total
    }
}

/// A style the job spoke with, kept while its control values stay the same.
pub(super) struct Styled {
    /// Every control of the palette, clamped: the key.
    pub(super) alphas: Vec<f32>,
    /// The request's control values (and markup's), as reported with each window.
    pub(super) values: ControlValues,
    pub(super) state: Arc<StyleState>,
}

/// What a started job speaks, and how.
pub(super) struct Speaking {
    pub(super) palette: Arc<Palette>,
    /// The palette's control for each of the request's controls, in request order, and their names.
    pub(super) controls: Vec<ControlId>,
    pub(super) names: Vec<Arc<str>>,
    /// Per prosody of the plan: the controls its markup sets (id, name, α).
    pub(super) overrides: Vec<Vec<(ControlId, Arc<str>, f32)>>,
    pub(super) speaker: Option<usize>,
    pub(super) scales: Scales,
    pub(super) noise: Noise,
    pub(super) plan: Plan,
    pub(super) sentences: VecDeque<Planned>,
    pub(super) next_sentence: usize,
    pub(super) current: Option<Current>,
    /// Sentences before `current` whose audio is not all in the ring buffer yet (and can be
    /// computed again), oldest first.
    pub(super) done: VecDeque<Current>,
    /// Sentences already started, to go on with (from frame 0, their events already sent) once
    /// `current` ends: `current` is then one before them, computed again after an α change.
    pub(super) resume: VecDeque<Current>,
    /// When audio was last recomputed after an α change.
    pub(super) last_rewind: Option<Instant>,
    /// Styles in use, the most recent last (a line with markup switches between a few).
    pub(super) styled: Vec<Styled>,
    /// The sentence under way when its text side was begun in parts and not yet finished.
    pub(super) pending: Option<PendingSentence>,
}

/// A sentence whose text side was begun in parts ([`Speaking::begin_text_side`]): its first
/// frames stream while the rest waits for [`Speaking::finish_text_side`].
pub(super) struct PendingSentence {
    /// The backbone's state of the text side.
    state: Box<dyn Any + Send>,
    /// The style it was begun in.
    style: Arc<StyleState>,
    pub(super) planned: Planned,
    /// The sentence's index and first sample.
    pub(super) index: usize,
    pub(super) start_sample: u64,
    /// How long beginning took. Finishing takes about half as long (the encoder's last layer
    /// and the durations of the other ids, against every earlier layer over all ids: M 6.4
    /// against 14 ms on 2 cores).
    pub(super) begun_in: Duration,
}

/// The start of a sentence's text side ([`Speaking::begin_text_side`]).
pub(super) enum Begun {
    /// All of it: the first stage's input, frames per id and the style changes by frame (as
    /// [`Speaking::text_side`] gives them).
    Whole(Prepared, Vec<(usize, usize)>),
    /// The first frames' input only (the rest is in [`Speaking::pending`]), and the style
    /// changes by frame (one).
    Head(Tensor, Vec<(usize, usize)>),
}

/// Styles kept for reuse.
const STYLES_KEPT: usize = 4;

impl Speaking {
    /// A request's state before its first step computes: `plan`'s sentences to speak, in the
    /// palette's `controls` (named `names`, request order) and the markup's `overrides` (per
    /// prosody of the plan), the noise seeded with `seed`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(palette: Arc<Palette>, controls: Vec<ControlId>, names: Vec<Arc<str>>, overrides: Vec<Vec<(ControlId, Arc<str>, f32)>>, speaker: Option<usize>, scales: Scales, seed: u64, plan: Plan) -> Self {
        Speaking {
            palette,
            controls,
            names,
            overrides,
            speaker,
            scales,
            noise: Noise::seeded(seed),
            sentences: plan.sentences.clone().into(),
            plan,
            next_sentence: 0,
            current: None,
            done: VecDeque::new(),
            resume: VecDeque::new(),
            last_rewind: None,
            styled: Vec::new(),
            pending: None,
        }
    }

    /// The style for the request's control values `set` (request order, as set: read once per
    /// step) with prosody `prosody`'s markup over them. A style state is built only for values
    /// not seen recently.
    pub(super) fn style(&mut self, set: &[f32], prosody: usize) -> Result<(Arc<StyleState>, ControlValues)> {
        let specs = self.palette.controls();
        let mut alphas = vec![0.0; specs.len()];
        for (id, &alpha) in self.controls.iter().zip(set) {
            alphas[id.0] = specs[id.0].clamp(alpha)?;
        }
        let overrides = &self.overrides[prosody];
        for (id, _, v) in overrides {
            alphas[id.0] = specs[id.0].clamp(*v)?;
        }
        if let Some(k) = self.styled.iter().position(|s| s.alphas == alphas) {
            let s = self.styled.remove(k);
            let out = (s.state.clone(), s.values.clone());
            self.styled.push(s);
            return Ok(out);
        }
        let state = self.palette.shared_state(&alphas, self.speaker)?;
        let mut values: Vec<(Arc<str>, f32)> = self.names.iter().cloned().zip(self.controls.iter().map(|id| alphas[id.0])).collect();
        for (id, name, _) in overrides {
            if !self.controls.contains(id) {
                values.push((name.clone(), alphas[id.0]));
            }
        }
        let values: ControlValues = values.into();
        if self.styled.len() >= STYLES_KEPT {
            self.styled.remove(0);
        }
        self.styled.push(Styled { alphas, values: values.clone(), state: state.clone() });
        Ok((state, values))
    }

    /// Up to `w` frames of `cur` (taken out of `self.current`) from its stream's position, in
    /// the style of the request's α values `set` with the markup in force at that frame, ending
    /// where the style changes next or a pitch shift begins or ends; with markup's gain and the
    /// palette's. Returns the audio and the control values it was made with.
    pub(super) fn window(&mut self, cur: &mut Current, set: &[f32], w: usize) -> Result<(Vec<f32>, ControlValues)> {
        let hop = self.palette.voice.model.samples_per_frame();
        let at = cur.stream.as_ref().map_or(0, SentenceStream::position);
        let (prosody, next_change) = cur.style_at(at);
        let (style, values) = self.style(set, prosody)?;
        let mut w = w;
        if let Some(f) = next_change {
            w = w.min(f - at);
        }
        if let Some(f) = cur.shifts.next_edge(at) {
            w = w.min(f - at);
        }
        let stream = cur.stream.as_mut().ok_or_else(|| crate::error::Error::invalid("stream", "no sentence under way"))?;
        let mut audio = stream.window(w, &style)?;
        cur.gain.apply((at * hop) as u64, &mut audio);
        scale(&mut audio, self.palette.gain());
        Ok((audio, values))
    }

    /// Whether the sentence under way has frames left.
    pub(super) fn mid_sentence(&self) -> bool {
        self.current.as_ref().and_then(|c| c.stream.as_ref()).is_some_and(|s| s.remaining() > 0)
    }

    /// The text side of `planned` (sentence `index`, from sample `start_sample`), begun: for a
    /// sentence in one style without markup's gain or pitch, only the durations and first
    /// stage's input of its first frames (at least `frames_wanted`) when the backbone can split
    /// it ([`crate::model::Backbone::prepare_start`]), so that its first window need not wait
    /// for the rest; otherwise all of it ([`Self::text_side`]).
    pub(super) fn begin_text_side(&mut self, set: &[f32], planned: &Planned, index: usize, start_sample: u64, frames_wanted: usize) -> Result<Begun> {
        let changes = planned.style_changes(&self.plan);
        let neutral = |v: Vec<f32>| v.iter().all(|&x| x == 0.0);
        if changes.len() != 1 || !neutral(planned.gain_db(&self.plan)) || !neutral(planned.pitch_st(&self.plan)) {
            let (prepared, styles) = self.text_side(set, planned)?;
            return Ok(Begun::Whole(prepared, styles));
        }
        let prosody = changes[0].1;
        let (style, _) = self.style(set, prosody)?;
        let pace = planned.length(&self.plan);
        let begun = Instant::now();
        match style.backbone().prepare_start(&planned.ids.ids, &pace, &self.scales, &mut self.noise, &style, frames_wanted)? {
            TextStart::Done(prepared) => Ok(Begun::Whole(prepared, vec![(0, prosody)])),
            TextStart::Begun { input, pending } => {
                let begun_in = begun.elapsed();
                self.pending = Some(PendingSentence { state: pending, style, planned: planned.clone(), index, start_sample, begun_in });
                Ok(Begun::Head(input, vec![(0, prosody)]))
            }
        }
    }

    /// Finishes the text side [`Self::begin_text_side`] left pending, if any: the whole
    /// sentence's input and frames per id, and what it was begun for.
    pub(super) fn finish_text_side(&mut self) -> Result<Option<(Prepared, PendingSentence)>> {
        let Some(mut p) = self.pending.take() else { return Ok(None) };
        let state = std::mem::replace(&mut p.state, Box::new(()));
        let prepared = p.style.backbone().prepare_finish(state, &mut self.noise, &p.style)?;
        Ok(Some((prepared, p)))
    }

    /// The text side of `planned`: one pass per style its markup switches between, each
    /// phoneme's frames and prior from the pass in its own style (so the frames before a switch
    /// are those of the unmarked line). Returns the first stage's input, frames per id and the
    /// style changes by frame.
    pub(super) fn text_side(&mut self, set: &[f32], planned: &Planned) -> Result<(Prepared, Vec<(usize, usize)>)> {
        let changes = planned.style_changes(&self.plan);
        let pace = planned.length(&self.plan);
        let start_noise = self.noise.clone();
        let mut passes: Vec<(usize, Prepared)> = Vec::new();
        for &(_, p) in &changes {
            if passes.iter().any(|(q, _)| self.plan.prosodies[*q].styles == self.plan.prosodies[p].styles) {
                continue;
            }
            let (style, _) = self.style(set, p)?;
            let mut noise = start_noise.clone();
            let prepared = style.backbone().prepare(&planned.ids.ids, &pace, &self.scales, &mut noise, &style)?;
            if passes.is_empty() {
                self.noise = noise;
            }
            passes.push((p, prepared));
        }
        let pass_of = |p: usize| passes.iter().position(|(q, _)| self.plan.prosodies[*q].styles == self.plan.prosodies[p].styles).expect("a pass per style");
        if passes.len() == 1 {
            let prepared = passes.pop().expect("one").1;
            return Ok((prepared, changes.first().map(|&(_, p)| vec![(0, p)]).unwrap_or_default()));
        }
        // Splice: ids [a, b) of change k from its style's pass.
        let n = planned.ids.ids.len();
        let mut frames = Vec::with_capacity(n);
        let mut pieces = Vec::new();
        let mut switches = Vec::new();
        for (k, &(a, p)) in changes.iter().enumerate() {
            let b = changes.get(k + 1).map_or(n, |c| c.0);
            let pass = &passes[pass_of(p)].1;
            let from: usize = pass.frames[..a].iter().sum();
            let len: usize = pass.frames[a..b].iter().sum();
            switches.push((frames.iter().sum::<usize>(), p));
            frames.extend_from_slice(&pass.frames[a..b]);
            if len > 0 {
                pieces.push(pass.input.narrow(2, from, len)?);
            }
        }
        if pieces.is_empty() {
            // Every id lasts 0 frames: the model's one silent frame, as in any pass.
            return Ok((passes.swap_remove(0).1, vec![(0, changes[0].1)]));
        }
        let input = candle_core::Tensor::cat(&pieces, 2)?;
        Ok((Prepared { input, frames }, switches))
    }
}

/// Multiplies `audio` by `gain` (nothing to do at 1).
pub(super) fn scale(audio: &mut [f32], gain: f32) {
    if gain != 1.0 {
        audio.iter_mut().for_each(|x| *x *= gain);
    }
}
