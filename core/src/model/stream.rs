//! A backbone's stages over windows of one sentence's frames, equal to the whole-sentence output.
//!
//! The text side ([`Backbone::prepare`]) needs the whole sentence, but the stages after it are
//! stacks of convolutions: an output depends only on a bounded neighbourhood of inputs, its
//! receptive field. Streaming runs them as a pipeline of stages ([`Backbone::stages`]; for VITS
//! each flow coupling step, `conv_pre`, each upsampling with its resblocks, `conv_post`), each with a cache
//! of its input. To produce a window, every stage computes just the new outputs the next stage
//! needs, from its cached input plus its own reach on each side ([`StageSpec`]). At the
//! sentence's ends the spans are clipped, where the whole-sentence pass zero-pads just the same.
//! So streaming computes the whole pass's arithmetic by construction, for any window size; in
//! floating point it equals it bit for bit on the direct kernels, and within rounding where a
//! conv runs as Winograd's F(4, k) (`cpu_winograd`: an output's rounding depends on the other
//! steps of its tile, which a window's edge moves). `tests/streaming.rs` checks it, and checks
//! the receptive field by perturbing one frame.
//!
//! Choice of halo: per stage, its own reach, not the whole network's receptive field. For
//! Piper's medium voices the whole flow reaches 32 frames each side (4 couplings × 4 WN layers ×
//! 2 frames) and the decoder 12 left / 11 right ([`super::Halo`]); recomputing that much around every
//! window would cost an 8-frame window 5–10× its own work. Per stage the recomputed context is 8
//! frames per coupling and, in the decoder, mostly the first upsampling's few positions, where
//! channels are many but positions few: a fraction of that. Windows start small (first audio
//! fast) and grow with the audio buffered (fewer windows): see [`WindowSchedule`].

use candle_core::{Tensor, D};

use super::backbone::{Backbone, StageSpec};
use super::style_state::StyleState;
use crate::error::{Error, Result};

/// How many frames each window covers, from how much audio the listener has left: the next
/// window may take about as long to compute as that audio takes to play, so it is `growth` times
/// the buffered frames, at least `first` (2 × `first` × the load when jobs outnumber workers)
/// and at most `max`; a job alone on its worker whose listener has nothing buffered (its first
/// window) takes `start`. A remainder shorter than `first` is merged into the window before it,
/// so no window is a sliver.
///
/// Defaults: 4 frames to start (46 ms of audio at 22.05 kHz: the time to first audio is the text
/// side plus this window; the flow still runs on the window's 44 frames of context, so halving
/// it from 8 saves ≈ 1 ms of M's 5.7 ms first window, not half), 8 frames least after that, then
/// twice what is buffered (so windows roughly double while the listener has little, and a new
/// sentence starts with a large window when the previous one left plenty), at most 256 frames
/// (3 s). Keeping up needs RTF × load < 1 / growth per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSchedule {
    /// Frames of a lone job's window while its listener has nothing (its first).
    pub start: usize,
    /// Least frames of a window otherwise (times 2 × load when jobs share a worker).
    pub first: usize,
    /// Window ÷ frames buffered.
    pub growth: usize,
    /// Most frames of a window.
    pub max: usize,
}

impl Default for WindowSchedule {
    fn default() -> Self {
        WindowSchedule { start: 4, first: 8, growth: 2, max: 256 }
    }
}

impl WindowSchedule {
    /// Every window the same size (for tests).
    pub fn fixed(frames: usize) -> Self {
        WindowSchedule { start: frames, first: frames, growth: 0, max: frames }
    }

    /// For rendering to a file (`bake`, `say` without `--stream`): fixed windows of 128 frames
    /// (1.5 s), so the audio does not depend on how fast it is computed or read. The adaptive
    /// schedule sizes windows from timing, and where a conv runs as Winograd the rounding of an
    /// output depends on its window's edges (≈ 3e-5 between runs).
    pub fn offline() -> Self {
        Self::fixed(128)
    }

    /// Checks that windows are non-empty.
    pub fn validate(&self) -> Result<()> {
        if self.start == 0 || self.first < self.start || self.max < self.first {
            return Err(Error::invalid("window schedule", format!("{self:?}: need 0 < start ≤ first ≤ max")));
        }
        Ok(())
    }

    /// The next window's frames with `buffered` frames left to play, `load` jobs per worker and
    /// `remaining` frames left in the sentence.
    pub fn window(&self, buffered: usize, load: usize, remaining: usize) -> usize {
        // Alone on a worker with nothing buffered: `start`, for the fastest first audio (the
        // next window then has this one's audio to be computed in).
        let least = if load <= 1 && buffered == 0 { self.start } else { self.least(load) };
        let w = buffered.saturating_mul(self.growth).clamp(least, self.max);
        if remaining.saturating_sub(w) < self.first {
            remaining
        } else {
            w
        }
    }

    /// `w` (a [`Self::window`]) widened to `frames` where that is more, at most `max`, still
    /// leaving no remainder shorter than `first`.
    pub fn at_least(&self, w: usize, frames: usize, remaining: usize) -> usize {
        let want = frames.min(self.max);
        if want <= w {
            w
        } else if remaining.saturating_sub(want) < self.first {
            remaining
        } else {
            want
        }
    }

    /// The least window with `load` jobs per worker once the listener has audio: alone, `first`;
    /// sharing a worker, enough to last until this job's next turn, which comes after ~`load`
    /// other steps.
    pub fn least(&self, load: usize) -> usize {
        if load <= 1 {
            self.first
        } else {
            self.first.saturating_mul(2 * load).min(self.max)
        }
    }
}

/// A stage's cached input and progress.
#[derive(Debug, Clone)]
struct Stage {
    spec: StageSpec,
    /// Input positions in the whole sentence at this stage.
    total: usize,
    /// Cached input `[1, ch, end − start]` for positions `[start, end)`.
    input: Option<Tensor>,
    start: usize,
    end: usize,
    /// Input positions whose outputs were produced.
    done: usize,
}

impl Stage {
    fn append(&mut self, x: Tensor) -> Result<()> {
        self.end += x.dim(D::Minus1)?;
        self.input = Some(match self.input.take() {
            Some(old) => Tensor::cat(&[&old, &x], 2)?,
            None => x,
        });
        Ok(())
    }

    /// The input `[1, ch, b − a]` for outputs at input positions `[done, upto)`: those plus the
    /// stage's reach each side, clipped to the sentence.
    fn input_for(&self, index: usize, upto: usize) -> Result<Tensor> {
        let (a, b) = (self.done.saturating_sub(self.spec.left), (upto + self.spec.right).min(self.total));
        let input = self.input.as_ref().ok_or_else(|| Error::invalid("stream", "stage has no input"))?;
        if a < self.start || b > self.end {
            return Err(Error::invalid("stream", format!("stage {index} needs [{a}, {b}) but holds [{}, {})", self.start, self.end)));
        }
        Ok(input.narrow(2, a - self.start, b - a)?.contiguous()?)
    }

    /// Takes the stage's output `y` over [`Self::input_for`]'s span: keeps the outputs for
    /// `[done, upto)` and forgets inputs the next run will not read.
    fn finish(&mut self, y: &Tensor, upto: usize) -> Result<Tensor> {
        let StageSpec { up, left, .. } = self.spec;
        let a = self.done.saturating_sub(left);
        let y = y.narrow(2, (self.done - a) * up, (upto - self.done) * up)?;
        self.done = upto;
        let keep = self.done.saturating_sub(left).max(self.start);
        if keep > self.start {
            let input = self.input.take().expect("input_for checked it");
            self.input = Some(input.narrow(2, keep - self.start, self.end - keep)?);
            self.start = keep;
        }
        Ok(y)
    }
}

/// One sentence's prior frames on their way through flow and decoder, window by window.
/// Cloning is cheap (tensors are shared): a clone is a snapshot to go back to.
#[derive(Debug, Clone)]
pub struct SentenceStream {
    /// Prior frames `[1, inter, frames]`, fed to the first stage as windows need them.
    z_p: Tensor,
    fed: usize,
    stages: Vec<Stage>,
    frames: usize,
    hop: usize,
    /// Next output frame.
    next: usize,
    /// Windows produced so far.
    windows: usize,
    /// Audio computed beyond the last window (a stage may run a little past it).
    spare: Vec<f32>,
    /// Stage runs this stream shared with other streams (batched).
    shared_runs: usize,
    /// Whether `z_p` holds all the sentence's frames ([`Self::begin`] starts without).
    complete: bool,
}

impl SentenceStream {
    /// Starts streaming `z_p` `[1, channels, frames]`, the input of `backbone`'s first stage.
    pub fn new(backbone: &dyn Backbone, z_p: Tensor) -> Result<Self> {
        let mut stream = Self::begin(backbone, z_p)?;
        stream.complete_with(stream.z_p.clone())?;
        Ok(stream)
    }

    /// Starts streaming a sentence of which only the first frames' input `head` `[1, channels,
    /// frames]` is known yet ([`Backbone::prepare_start`]): windows that need no more
    /// ([`Self::fits`]) run as in a whole sentence; [`Self::complete_with`] gives the rest.
    pub fn begin(backbone: &dyn Backbone, head: Tensor) -> Result<Self> {
        let frames = head.dim(D::Minus1)?;
        let stages: Vec<Stage> = backbone
            .stages()
            .iter()
            // Until the sentence's length is known, no stage is clipped at its end.
            .map(|&spec| Stage { spec, total: usize::MAX, input: None, start: 0, end: 0, done: 0 })
            .collect();
        Ok(SentenceStream {
            z_p: head,
            fed: 0,
            stages,
            frames,
            hop: backbone.samples_per_frame(),
            next: 0,
            windows: 0,
            spare: Vec::new(),
            shared_runs: 0,
            complete: false,
        })
    }

    /// The whole sentence's input `z_p` (its first frames those the stream began with): from
    /// now on the stream knows where the sentence ends.
    pub fn complete_with(&mut self, z_p: Tensor) -> Result<()> {
        let frames = z_p.dim(D::Minus1)?;
        if frames < self.z_p.dim(D::Minus1)? || frames < self.fed {
            return Err(Error::invalid("stream", format!("a sentence of {frames} frames is shorter than its first part")));
        }
        let mut total = frames;
        for stage in &mut self.stages {
            stage.total = total;
            total *= stage.spec.up;
        }
        (self.z_p, self.frames, self.complete) = (z_p, frames, true);
        Ok(())
    }

    /// Input frames of `backbone`'s first stage that a sentence's first window of `w` frames
    /// needs (its frames and every stage's reach after them).
    pub fn frames_needed(backbone: &dyn Backbone, w: usize) -> usize {
        let mut need = w.max(1) * backbone.samples_per_frame();
        for spec in backbone.stages().iter().rev() {
            need = need.div_ceil(spec.up) + spec.right;
        }
        need
    }

    /// Whether the stream knows all its sentence's frames.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether the next window of `w` frames needs only frames already known (always, once
    /// complete).
    pub fn fits(&self, w: usize) -> bool {
        // The input it needs reaches at least to its own last frame.
        self.complete || self.reach_back(self.next + w.max(1)).1 <= self.frames
    }

    /// Stage runs this stream shared with others in [`Self::window_batch`].
    pub fn shared_runs(&self) -> usize {
        self.shared_runs
    }

    /// Frames in the sentence.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The next frame to produce.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Frames not yet produced.
    pub fn remaining(&self) -> usize {
        self.frames - self.next
    }

    /// Windows produced so far.
    pub fn windows_done(&self) -> usize {
        self.windows
    }

    /// Makes `frame` the next frame to produce, as if every window so far had ended there: each
    /// stage forgets its cache and will start its outputs where the stage after it needs them,
    /// its inputs from its own reach before that (what the stage before it then computes
    /// first). So the audio from `frame` on is the same as without the seek (each output is
    /// computed from the same inputs, the first window after it just recomputes each stage's
    /// reach), and it takes the steering of the style of the windows that follow. Used to
    /// recompute audio already computed but not yet played, in a new style.
    pub fn seek(&mut self, frame: usize) {
        let frame = frame.min(self.frames);
        // Input position of stage s where its outputs must start, from the last stage back:
        // the last starts at the frame's first sample; a stage before it must produce the
        // inputs its successor reads from `done − left` on.
        let mut start = frame * self.hop;
        for stage in self.stages.iter_mut().rev() {
            // Floor: the input position whose outputs include position `start`.
            stage.done = (start / stage.spec.up).min(stage.total);
            let first_input = stage.done.saturating_sub(stage.spec.left);
            stage.input = None;
            stage.start = first_input;
            stage.end = first_input;
            start = first_input;
        }
        // Stage s's input begins where stage s − 1's outputs will: align each start to the
        // outputs the stage before produces (whole input positions of that stage).
        for s in 1..self.stages.len() {
            let up = self.stages[s - 1].spec.up;
            let from = self.stages[s - 1].done * up;
            self.stages[s].start = from;
            self.stages[s].end = from;
        }
        self.fed = self.stages.first().map_or(0, |st| st.start);
        self.next = frame;
        self.spare.clear();
    }

    /// Produces the next window by `schedule` (see [`WindowSchedule::window`]): audio for frames
    /// `[next, next + w)`, or `None` at the end of the sentence.
    pub fn next_window(&mut self, schedule: &WindowSchedule, buffered: usize, load: usize, style: &StyleState) -> Result<Option<Vec<f32>>> {
        if self.remaining() == 0 {
            return Ok(None);
        }
        let w = schedule.window(buffered, load, self.remaining());
        self.window(w, style).map(Some)
    }

    /// Produces audio `[w · hop]` for the next `w` frames (fewer at the end) in `style`. Its
    /// steering is added to the stage inputs this window computes first (inputs already
    /// computed for an earlier window's context keep the steering they had).
    pub fn window(&mut self, w: usize, style: &StyleState) -> Result<Vec<f32>> {
        let mut out = Self::window_batch(&mut [self], w, &[style])?;
        Ok(out.pop().expect("one stream, one window"))
    }

    /// Produces the next `w` frames of every stream at once, each in its own style. Each stage
    /// runs once over all streams whose inputs have the same length and whose styles run the
    /// same weights for the same speaker without adapters ([`batchable`]; steering differs
    /// freely: it is added to each row's input), stacked as a batch (rows are independent
    /// sequences, so the result is each stream's own); other streams run alone. On a GPU this
    /// turns many small kernels into one; on the CPU it is no faster.
    pub fn window_batch(streams: &mut [&mut SentenceStream], w: usize, styles: &[&StyleState]) -> Result<Vec<Vec<f32>>> {
        let plans: Vec<(usize, Vec<usize>)> = streams
            .iter_mut()
            .zip(styles)
            .map(|(st, style)| st.plan(w, style))
            .collect::<Result<_>>()?;
        let n_stages = streams.first().map_or(0, |s| s.stages.len());
        for s in 0..n_stages {
            // Streams with work at this stage, grouped by input length.
            let mut groups: Vec<(usize, Vec<usize>, Vec<Tensor>)> = Vec::new();
            for (i, st) in streams.iter().enumerate() {
                let upto = plans[i].1[s];
                if upto == st.stages[s].done {
                    continue;
                }
                let x = st.stages[s].input_for(s, upto)?;
                let len = x.dim(D::Minus1)?;
                match groups.iter_mut().find(|(l, members, _)| *l == len && batchable(styles[members[0]], styles[i])) {
                    Some((_, members, xs)) => {
                        members.push(i);
                        xs.push(x);
                    }
                    None => groups.push((len, vec![i], vec![x])),
                }
            }
            for (_, members, xs) in groups {
                let x = if xs.len() == 1 { xs[0].clone() } else { Tensor::cat(&xs, 0)? };
                let style = styles[members[0]];
                let y = style.backbone().run_stage(s, &x, style)?;
                let shared = members.len() > 1;
                for (row, &i) in members.iter().enumerate() {
                    let st = &mut *streams[i];
                    st.shared_runs += usize::from(shared);
                    let y = st.stages[s].finish(&y.narrow(0, row, 1)?, plans[i].1[s])?;
                    match st.stages.get_mut(s + 1) {
                        Some(next) => next.append(styles[i].steer(s + 1, y)?)?,
                        None => st.spare.extend(y.flatten_all()?.to_vec1::<f32>()?),
                    }
                }
            }
        }
        streams.iter_mut().zip(plans).map(|(st, (b, _))| st.take_window(b)).collect()
    }

    /// For a window ending at frame `b` (returned with the plan): how far each stage's outputs
    /// must reach. Walking back from the audio wanted, a stage's outputs must reach `upto` input
    /// positions, which needs its input (the stage before's output) up to `upto + right`. Feeds
    /// the first stage the input frames that needs, with `style`'s steering.
    fn plan(&mut self, w: usize, style: &StyleState) -> Result<(usize, Vec<usize>)> {
        let b = (self.next + w.max(1)).min(self.frames);
        let (upto, need) = self.reach_back(b);
        if need > self.fed {
            if need > self.z_p.dim(D::Minus1)? {
                return Err(Error::invalid("stream", format!("a window to frame {b} needs input frames up to {need}, not known yet")));
            }
            let z_p = self.z_p.narrow(2, self.fed, need - self.fed)?;
            self.stages[0].append(style.steer(0, z_p)?)?;
            self.fed = need;
        }
        Ok((b, upto))
    }

    /// For a window ending at frame `b`: how far each stage's outputs must reach, and the input
    /// frames that needs.
    fn reach_back(&self, b: usize) -> (Vec<usize>, usize) {
        let n = self.stages.len();
        let mut upto = vec![0; n];
        let mut need = b * self.hop; // outputs of the last stage
        for s in (0..n).rev() {
            let st = &self.stages[s];
            upto[s] = need.div_ceil(st.spec.up).min(st.total).max(st.done);
            need = (upto[s] + st.spec.right).min(st.total);
        }
        (upto, need)
    }

    /// The audio of frames `[next, b)`, now computed.
    fn take_window(&mut self, b: usize) -> Result<Vec<f32>> {
        let len = (b - self.next) * self.hop;
        if self.spare.len() < len {
            return Err(Error::invalid("stream", format!("window needs {len} samples, pipeline gave {}", self.spare.len())));
        }
        let audio: Vec<f32> = self.spare.drain(..len).collect();
        self.next = b;
        self.windows += 1;
        Ok(audio)
    }
}

/// Whether one stage run can serve rows of styles `a` and `b`: the same weights, no adapters,
/// the same speaker.
pub fn batchable(a: &StyleState, b: &StyleState) -> bool {
    let same_speaker = match (a.speaker(), b.speaker()) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).and_then(|d| d.abs()?.max_all()?.to_scalar::<f32>()).is_ok_and(|m| m == 0.0),
        _ => false,
    };
    a.runs_weights_of(b.backbone()) && b.adapters().is_empty() && same_speaker
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lone job's first window is `start`; once the listener has audio, or when jobs share a
    /// worker, the windows are what they were (`first`, `2 × first × load`, `growth` × buffered);
    /// a sentence's remainder is never left as a sliver.
    #[test]
    fn windows_start_small_only_for_a_lone_listener_with_nothing() {
        let s = WindowSchedule::default();
        assert!(s.start < s.first);
        assert_eq!(s.window(0, 1, 1000), s.start);
        assert_eq!(s.window(0, 0, 1000), s.start);
        assert_eq!(s.window(1, 1, 1000), s.first);
        assert_eq!(s.window(0, 2, 1000), 4 * s.first);
        assert_eq!(s.window(0, 3, 1000), 6 * s.first);
        assert_eq!(s.window(40, 1, 1000), 80);
        assert_eq!(s.window(1000, 1, 5000), s.max);
        // The remainder after the start would be shorter than `first`: all of it at once.
        assert_eq!(s.window(0, 1, s.start + s.first - 1), s.start + s.first - 1);
        assert_eq!(s.window(0, 1, s.start + s.first), s.start);
        assert_eq!(s.least(1), s.first);
        assert_eq!(s.least(4), 8 * s.first);
        assert!(s.validate().is_ok());
        assert!(WindowSchedule { start: 9, ..s }.validate().is_err(), "start above first");
        assert!(WindowSchedule { start: 0, ..s }.validate().is_err());
        assert!(WindowSchedule::fixed(24).validate().is_ok());
        assert_eq!(WindowSchedule::fixed(24).window(0, 1, 1000), 24);
    }

    /// Widening a window: never narrower, never past `max`, and no sliver left at the end.
    #[test]
    fn at_least_widens_within_max_without_slivers() {
        let s = WindowSchedule::default();
        assert_eq!(s.at_least(32, 20, 1000), 32, "already wide enough");
        assert_eq!(s.at_least(32, 48, 1000), 48);
        assert_eq!(s.at_least(32, 10_000, 1000), s.max);
        assert_eq!(s.at_least(32, 48, 48 + s.first - 1), 48 + s.first - 1, "the remainder goes along");
        assert_eq!(s.at_least(32, 48, 40), 40, "the sentence ends first");
        assert_eq!(WindowSchedule::fixed(24).at_least(24, 48, 1000), 24);
    }
}
