//! One request in progress: the engine's side of a [`super::SpeechHandle`].
//!
//! A job advances in steps, each at most one window of audio (plus, at a sentence's start, the
//! text side of that sentence), so a worker is never tied to one request: between steps the
//! dispatcher may hand the job to any worker, park it while its consumer catches up, or drop it
//! when cancelled. Results go out through its [`Outlet`]; what it speaks, and in which style, is
//! its [`Speaking`] state, made by the first step.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::controls::ControlValues;
use super::handle::{Event, Shared, State};
use super::outlet::{Outlet, Segment};
use super::speaking::{scale, Begun, Current, Speaking};
use super::request::{Priority, Request};
use super::EngineShared;
use crate::error::{Error, Result};
use crate::model::stream::SentenceStream;
use crate::line::{pitch, Gain, Plan, Shifts};
use crate::model::StyleState;
use crate::scales::Scales;
use crate::style::{ControlId, Palette};
use crate::timing::Timings;
use crate::voice::{Baked, Say};

/// What a step left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More windows to compute.
    More,
    /// Everything computed (it may still wait in the outlet).
    Done,
}

/// A request being spoken.
pub(crate) struct Job {
    pub id: u64,
    pub priority: Priority,
    request: Request,
    pub shared: Arc<Shared>,
    out: Outlet,
    speaking: Option<Speaking>,
    pub computed_all: bool,
    /// Jobs per worker when this step was handed out (windows grow with it).
    pub load: usize,
    /// Since an α change recomputed the look-ahead, until the listener has as much ahead again
    /// as a shared worker's window: windows are sized by that lead alone (small first, then
    /// doubling), not made large to last through other jobs' turns.
    recovering: bool,
    /// When the consumer last made room (or the job was created), and the samples it had read.
    pub last_progress: Instant,
    progress_at: u64,
}

impl Job {
    pub fn new(id: u64, request: Request, shared: Arc<Shared>, events: Sender<Event>) -> Self {
        Job {
            id,
            priority: request.priority,
            request,
            out: Outlet::new(events, shared.clone()),
            shared,
            speaking: None,
            computed_all: false,
            load: 1,
            recovering: false,
            last_progress: Instant::now(),
            progress_at: 0,
        }
    }

    /// What was asked.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Ends the job in `state` with `event`.
    /// The event goes out first: whoever sees the final state finds it among the events.
    pub fn end(&self, state: State, event: Event) {
        if state != State::Finished {
            self.shared.drop_pending();
        }
        self.out.emit(event);
        self.shared.set_state(state);
    }

    /// Samples computed but not yet read.
    pub fn buffered(&self) -> usize {
        self.out.buffered()
    }

    /// Whether computed audio still waits for room in the ring buffer.
    pub fn has_pending(&self) -> bool {
        self.out.has_pending()
    }

    /// Whether the consumer's side of the ring buffer is gone.
    pub fn consumer_gone(&self) -> bool {
        self.out.consumer_gone()
    }

    /// Moves pending audio into the ring buffer as far as it has room, and notes whether the
    /// consumer made room since the last look (it read, or the ring buffer took more).
    pub fn flush(&mut self) {
        self.out.flush();
        let progress = self.shared.read.load(Ordering::Acquire) + self.out.written();
        if progress != self.progress_at {
            self.progress_at = progress;
            self.last_progress = Instant::now();
        }
    }

    /// When this job's listener runs out of audio, if it plays in real time from the first
    /// sample on: the first sample's time plus the audio produced. For a job with no audio yet,
    /// `first_audio_target` after its request. (A listener that started later has more left;
    /// one that reads faster than real time, like a file writer, is treated as a player.)
    pub fn deadline(&self, first_audio_target: Duration) -> Instant {
        let rate = self.shared.sample_rate.load(Ordering::Relaxed);
        match self.shared.first_audio_at() {
            Some(first) if rate > 0 => first + Duration::from_secs_f64(self.out.produced() as f64 / rate as f64),
            _ => self.shared.requested_at + first_audio_target,
        }
    }

    /// Audio the real-time listener of [`Self::deadline`] has left at `now`.
    fn lead(&self, now: Instant) -> Duration {
        self.deadline(Duration::ZERO).saturating_duration_since(now)
    }

    /// [`Self::lead`] in frames of `hop` samples.
    fn lead_frames(&self, now: Instant, hop: usize) -> usize {
        let rate = self.shared.sample_rate.load(Ordering::Relaxed) as f64;
        (self.lead(now).as_secs_f64() * rate / hop as f64) as usize
    }

    /// Computes the next piece of audio into the outlet: first, when α changed since the audio
    /// not yet in the ring buffer was computed, that audio again ([`Self::rewind`]).
    pub fn step(&mut self, engine: &EngineShared) -> Result<Step> {
        let step_started = Instant::now();
        if self.speaking.is_none() {
            self.start(engine)?;
        }
        // A sentence begun with its first frames' text side: the rest when the next window
        // needs frames past them (below), or now where α moved and the audio is to be computed
        // again. Not before the next window otherwise: the rest of a long sentence's text side
        // (the encoder's last layer and the durations of its other ids) could delay that window
        // past the end of the first one's audio.
        let rewind = self.wants_rewind(Instant::now());
        if let Some(sp) = self.speaking.as_mut().filter(|_| rewind) {
            finish_text_side(sp, &mut self.out)?;
        }
        if rewind {
            if self.rewind(engine)? {
                return Ok(Step::More);
            }
            if self.buffered() >= engine.config.ahead_samples {
                return Ok(Step::More);
            }
        }
        let sp = self.speaking.as_ref().expect("started");
        let hop = sp.palette.voice.model.samples_per_frame();
        let now = Instant::now();
        let (lead, lead_time) = (self.lead_frames(now, hop), self.lead(now));
        let set = self.shared.controls.values();
        let windows = engine.config.windows;
        if self.recovering && lead >= windows.least(self.load) {
            self.recovering = false;
        }
        let first_window = !self.recovering && self.out.produced() == 0;
        let mut load = if self.recovering { 1 } else if first_window { self.load.min(FIRST_WINDOW_LOAD) } else { self.load };
        let Job { speaking, out, computed_all, .. } = self;
        let sp = speaking.as_mut().expect("started");
        loop {
            if let Some(mut cur) = sp.current.take() {
                if let Some(at) = cur.stream.as_ref().filter(|s| s.remaining() > 0 || !s.is_complete()).map(SentenceStream::position) {
                    // One window, in the style in force at its first frame, ending where the
                    // style changes next.
                    let remaining = cur.stream.as_ref().map_or(0, SentenceStream::remaining);
                    if first_window {
                        // Requests that came while this one's text side ran share the workers
                        // now: a first window sized for a worker alone (`start`) would run dry
                        // before this job's next turn.
                        load = load.max(engine.load.load(Ordering::Relaxed).min(FIRST_WINDOW_LOAD));
                    }
                    let mut w = windows.window(lead, load, remaining);
                    if first_window {
                        let crowd = Crowd {
                            load: engine.load.load(Ordering::Relaxed),
                            text_side: step_started.elapsed(),
                            frame_cost: Duration::from_nanos(engine.frame_ns.load(Ordering::Relaxed)),
                            margin: engine.config.first_audio_target,
                        }
                        .first_frames(w, self.shared.sample_rate.load(Ordering::Relaxed), hop);
                        // At most 1.5× the crowd's usual first window: near capacity the bound
                        // diverges, and longer starts then cost more than their lead buys.
                        w = windows.at_least(w, crowd.min(windows.least(FIRST_WINDOW_LOAD + 1)), remaining);
                    }
                    if cur.stream.as_ref().is_some_and(|s| !s.fits(w)) {
                        // It needs frames whose text side is still to finish. Alone on its
                        // worker after the first window, with less audio left to its listener
                        // than beginning the text side took (twice what finishing takes), as
                        // much of it as the frames known allow goes first: finishing a long
                        // sentence takes its first window's audio or more (≈ 40 ms for 30 s of
                        // audio on 2 cores, against 46 ms), and the next step has this
                        // window's audio too.
                        let short = sp.pending.as_ref().is_some_and(|p| lead_time < p.begun_in);
                        let known = (short && !first_window && load <= 1).then(|| cur.stream.as_ref().and_then(|s| (1..w).rev().find(|&k| s.fits(k))));
                        match known.flatten() {
                            Some(k) => w = k,
                            None => {
                                sp.current = Some(cur);
                                finish_text_side(sp, out)?;
                                continue;
                            }
                        }
                    }
                    let computing = Instant::now();
                    let (audio, values) = sp.window(&mut cur, &set, w)?;
                    if first_window {
                        engine.note_window(computing.elapsed(), w);
                    }
                    let audio = match cur.shifts.at(at).copied() {
                        None => audio,
                        Some(shift) => {
                            // A shifted span goes out whole, resampled, once computed.
                            cur.held.extend_from_slice(&audio);
                            if cur.stream.as_ref().is_some_and(|s| s.position() < shift.end) {
                                sp.current = Some(cur);
                                return Ok(Step::More);
                            }
                            let held = std::mem::take(&mut cur.held);
                            pitch::resample(&held, shift.ratio)
                        }
                    };
                    window_done(out, cur.index, audio, values, 1, cur.recomputable(), &set);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                if cur.baked_at < cur.baked.len() {
                    let (_, values) = sp.style(&set, 0)?;
                    let end = (cur.baked_at + BAKED_CHUNK).min(cur.baked.len());
                    let chunk = cur.baked[cur.baked_at..end].to_vec();
                    cur.baked_at = end;
                    window_done(out, cur.index, chunk, values, 1, false, &set);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                if cur.silence > 0 {
                    let silence = vec![0.0; cur.silence as usize];
                    cur.silence = 0;
                    out.push(silence, None);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                if !cur.finished_sent {
                    out.emit(Event::SentenceFinished { index: cur.index, end_sample: out.produced() });
                    cur.finished_sent = true;
                }
                // Kept while its audio may be computed again; older ones are all in the ring.
                let written = out.written();
                sp.done.retain(|c| c.end(hop) > written);
                if cur.recomputable() {
                    sp.done.push_back(cur);
                }
                if let Some(mut next) = sp.resume.pop_front() {
                    // A sentence already started before an α change sent us back: from its
                    // first frame again, its events already out.
                    next.restart_at(0);
                    sp.current = Some(next);
                    continue;
                }
            }
            let Some(planned) = sp.sentences.pop_front() else {
                *computed_all = true;
                return Ok(Step::Done);
            };
            let index = sp.next_sentence;
            sp.next_sentence += 1;
            let start_sample = out.produced();
            let voice = sp.palette.voice.clone();
            let silence = voice.silence_samples(&planned);
            let mut cur = Current::new(index, start_sample, silence);
            let timings = if planned.speaks() {
                // The text side of the sentence, in the styles of this step: only as far as the
                // first window needs where it can be split (its timing track then comes when
                // the rest is done).
                let wanted = SentenceStream::frames_needed(voice.model.as_ref(), windows.window(lead, load, usize::MAX));
                match sp.begin_text_side(&set, &planned, index, start_sample, wanted)? {
                    Begun::Whole(prepared, styles) => {
                        cur.gain = Gain::new(&planned.gain_db(&sp.plan), &prepared.frames, hop, voice.sample_rate());
                        cur.styles = styles;
                        cur.stream = Some(SentenceStream::new(voice.model.as_ref(), prepared.input)?);
                        cur.shifts = Shifts::new(&planned.pitch_st(&sp.plan), &prepared.frames, hop);
                        let timings = Timings::sentence(&planned.ids, &prepared.frames, hop, 0, planned.word_owners());
                        Some(timings.warped(|s| start_sample + cur.shifts.warp(s)))
                    }
                    Begun::Head(head, styles) => {
                        cur.styles = styles;
                        cur.stream = Some(SentenceStream::begin(voice.model.as_ref(), head)?);
                        None
                    }
                }
            } else {
                Some(Timings::silence(start_sample, 0))
            };
            out.emit(Event::SentenceStarted { index, phonemes: planned.phonemes, start_sample });
            if let Some(mut timings) = timings {
                timings.add_silence(silence);
                out.emit(Event::Timings { index, timings });
            }
            sp.current = Some(cur);
        }
    }

    /// Whether audio not yet in the ring buffer was computed with α values other than those set
    /// now (by more than [`REWIND_MIN_CHANGE`]), enough of it to be worth recomputing, at least
    /// [`REWIND_INTERVAL`] after the last time, while workers are not crowded
    /// ([`REWIND_MAX_LOAD`]).
    pub fn wants_rewind(&self, now: Instant) -> bool {
        let Some(sp) = &self.speaking else { return false };
        if self.load > REWIND_MAX_LOAD {
            return false;
        }
        if sp.last_rewind.is_some_and(|t| now.duration_since(t) < REWIND_INTERVAL) || !self.out.has_pending() {
            return false;
        }
        let set = self.shared.controls.values();
        let differs = |a: &[f32]| a.iter().zip(&set).any(|(a, b)| (a - b).abs() > REWIND_MIN_CHANGE);
        let guard = self.out.written() + REWIND_MIN_SAMPLES;
        self.out.unwritten().any(|s| s.end() > guard && s.alphas.as_deref().is_some_and(differs))
    }

    /// Computes again, in the α values set now, the audio from the first sample not yet in the
    /// ring buffer on, far enough that the ring buffer cannot have taken it meanwhile, and
    /// splices it in with a crossfade ([`Outlet::splice`]); the audio after it is computed by
    /// the steps that follow. The sentence that sample belongs to (the current one, or an earlier
    /// one whose end still waits; the sentences after it then follow again from their start,
    /// their events already sent) is sought back to that frame ([`SentenceStream::seek`]): the
    /// same audio in the old style, new audio in the new one. A `Window` event reports the new
    /// values from the splice on. False when the audio there cannot be recomputed (baked audio,
    /// pitch-shifted spans) or the ring buffer took it first.
    fn rewind(&mut self, engine: &EngineShared) -> Result<bool> {
        let set = self.shared.controls.values();
        let alphas: Arc<[f32]> = set.clone().into();
        let now = Instant::now();
        let Job { speaking, out, computed_all, recovering, .. } = self;
        let sp = speaking.as_mut().expect("started");
        sp.last_rewind = Some(now);
        let hop = sp.palette.voice.model.samples_per_frame();
        let written = out.written();
        // The sentences whose audio may be recomputed, in order, copied: the job changes only
        // if the splice succeeds. A sentence that cannot be computed again ends the chain.
        let mut parts: Vec<Current> = sp.done.iter().chain(sp.current.iter()).cloned().collect();
        if let Some(k) = parts.iter().position(|c| !c.recomputable()) {
            parts.truncate(k);
        }
        // The first of them with audio at or after `written`, and the frame there.
        let Some(first) = parts.iter().position(|c| c.end(hop) > written) else {
            return Ok(false);
        };
        let kept = parts.drain(..first).count();
        let fade = REWIND_FADE.min(hop);
        let target = written + (out.ring_capacity() + REWIND_AHEAD + fade) as u64;
        let new_start = {
            let c = &mut parts[0];
            let frames = c.stream.as_ref().map_or(0, SentenceStream::frames);
            let frame = (written.saturating_sub(c.origin) / hop as u64).min(frames as u64) as usize;
            c.restart_at(frame);
            c.origin + (frame * hop) as u64
        };
        let (mut audio, mut segments, mut values) = (Vec::new(), Vec::new(), None);
        let mut last = 0;
        for (k, c) in parts.iter_mut().enumerate() {
            if k > 0 {
                c.restart_at(0);
            }
            last = k;
            let mut at = new_start + audio.len() as u64;
            while at < target && c.stream.as_ref().is_some_and(|s| s.remaining() > 0) {
                let want = ((target - at) as usize).div_ceil(hop).max(engine.config.windows.first);
                let remaining = c.stream.as_ref().map_or(0, SentenceStream::remaining);
                let w = if remaining.saturating_sub(want) < engine.config.windows.first { remaining } else { want };
                let (a, v) = sp.window(c, &set, w)?;
                segments.push(Segment { start: at, len: a.len() as u64, alphas: Some(alphas.clone()) });
                values.get_or_insert((c.index, v));
                audio.extend(a);
                at = new_start + audio.len() as u64;
            }
            if at < target && c.silence > 0 {
                segments.push(Segment { start: at, len: c.silence, alphas: None });
                audio.extend(std::iter::repeat_n(0.0, c.silence as usize));
                c.silence = 0;
            }
            if new_start + audio.len() as u64 >= target {
                break;
            }
        }
        let Some((sentence, controls)) = values else { return Ok(false) };
        let Some(at) = out.splice(new_start, audio, fade, segments) else { return Ok(false) };
        out.emit(Event::Window { sentence, start_sample: at, samples: (out.produced() - at) as usize, controls, batch: 1 });
        // The job goes on in the sentence where the new audio ends; the ones before it are
        // done, the ones after it follow again from their start (the current one too, when the
        // new audio ends before it, or when it could not be computed again).
        let current_index = sp.current.as_ref().map(|c| c.index);
        let mut parts = parts.into_iter();
        let mut done: VecDeque<Current> = sp.done.drain(..).take(kept).collect();
        done.extend(parts.by_ref().take(last));
        let now_current = parts.next().expect("the part where the new audio ends");
        // Not `parts.collect()`: std (at least to 1.95) turns an exhausted `vec::IntoIter` into a
        // deque whose head equals its capacity, and `pop_front` after a `push_back` into it then
        // reads past the buffer (rust-lang/rust#162452) — the sentence resumed after a rewind
        // was garbage, an intermittent segfault. Extending a new deque copies the elements.
        let mut resume: VecDeque<Current> = VecDeque::new();
        resume.extend(parts);
        if current_index != resume.back().or(Some(&now_current)).map(|c| c.index) {
            resume.extend(sp.current.take());
        }
        resume.extend(sp.resume.drain(..));
        sp.done = done;
        sp.resume = resume;
        sp.current = Some(now_current);
        *computed_all = false;
        *recovering = true;
        Ok(true)
    }

    /// The palette, when this job's next step is a window of a sentence under way in a style
    /// that runs the voice's own weights without adapters: such steps of several jobs can run
    /// as one batch.
    pub fn batchable_palette(&self) -> Option<&Arc<Palette>> {
        if self.wants_rewind(Instant::now()) {
            return None;
        }
        let sp = self.speaking.as_ref().filter(|sp| sp.mid_sentence() && sp.pending.is_none())?;
        let plain_markup = sp.current.as_ref().is_some_and(Current::plain);
        let plain_weights = sp.styled.last().is_none_or(|s| s.state.runs_weights_of(&sp.palette.voice.model));
        (plain_markup && plain_weights).then_some(&sp.palette)
    }

    /// One window for each of `jobs`, computed as a batch where they share a palette and a
    /// sentence is under way ([`Self::batchable_palette`]); the others step alone. Every job
    /// gets the same style handling as [`Self::step`].
    pub fn step_batch(jobs: &mut [Box<Job>], engine: &EngineShared) -> Vec<Result<Step>> {
        let mut results: Vec<Option<Result<Step>>> = jobs.iter().map(|_| None).collect();
        // (job index, style, control values, window frames it wants, α values as set)
        type Member = (usize, Arc<StyleState>, ControlValues, usize, Vec<f32>);
        let mut members: Vec<Member> = Vec::new();
        let palette = jobs[0].batchable_palette().cloned();
        for (i, job) in jobs.iter_mut().enumerate() {
            let fits = palette.as_ref().is_some_and(|p| job.batchable_palette().is_some_and(|q| Arc::ptr_eq(p, q)));
            if !fits {
                results[i] = Some(job.step(engine));
                continue;
            }
            let sp = job.speaking.as_ref().expect("batchable");
            let lead = job.lead_frames(Instant::now(), sp.palette.voice.model.samples_per_frame());
            let remaining = sp.current.as_ref().and_then(|c| c.stream.as_ref()).expect("batchable").remaining();
            let w = engine.config.windows.window(lead, job.load, remaining);
            let set = job.shared.controls.values();
            match job.speaking.as_mut().expect("batchable").style(&set, 0) {
                Ok((style, values)) => members.push((i, style, values, w, set)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if let Some(w) = members.iter().map(|m| m.3).min() {
            let styles: Vec<&StyleState> = members.iter().map(|m| &*m.1).collect();
            let computed = {
                let mut streams: Vec<&mut SentenceStream> = jobs
                    .iter_mut()
                    .enumerate()
                    .filter(|(i, _)| members.iter().any(|m| m.0 == *i))
                    .map(|(_, j)| j.speaking.as_mut().and_then(|sp| sp.current.as_mut()).and_then(|c| c.stream.as_mut()).expect("batchable"))
                    .collect();
                SentenceStream::window_batch(&mut streams, w, &styles)
            };
            match computed {
                Ok(windows) => {
                    let n = windows.len();
                    for ((i, _, values, _, set), mut audio) in members.into_iter().zip(windows) {
                        let job = &mut jobs[i];
                        scale(&mut audio, job.speaking.as_ref().map_or(1.0, |sp| sp.palette.gain()));
                        let sentence = job.speaking.as_ref().and_then(|sp| sp.current.as_ref()).expect("batchable").index;
                        window_done(&mut job.out, sentence, audio, values, n, true, &set);
                        results[i] = Some(Ok(Step::More));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for (i, ..) in members {
                        results[i] = Some(Err(Error::invalid("batched window", msg.clone())));
                    }
                }
            }
        }
        results.into_iter().map(|r| r.expect("every job stepped")).collect()
    }

    /// First step: finds the voice, checks the request against it, phonemizes.
    fn start(&mut self, engine: &EngineShared) -> Result<()> {
        let palette = engine.voices.get(&self.request.voice, &engine.config.device)?;
        let controls = self.shared.controls.names().map(|n| palette.id(n)).collect::<Result<Vec<_>>>()?;
        let voice = &palette.voice;
        let scales = voice.scales(&self.request.options)?;
        if let Say::Baked { audio, timings } = self.request.say.clone() {
            return self.start_baked(palette, controls, scales, &audio, timings.as_deref());
        }
        let plan = voice.plan_with(&self.request.say, palette.lexicon(), palette.phonemizer())?;
        // Controls the markup sets must be the palette's.
        let overrides = plan
            .prosodies
            .iter()
            .map(|p| {
                p.styles
                    .iter()
                    .map(|s| {
                        let id = palette.id(&s.name).map_err(|e| s.at.error(format!("<style name=\"{}\">: {e}", s.name)))?;
                        palette.controls()[id.0].check(s.alpha).map_err(|e| s.at.error(e.to_string()))?;
                        Ok((id, Arc::from(s.name.as_str()), s.alpha))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let rate = voice.sample_rate();
        self.shared.sample_rate.store(rate, Ordering::Relaxed);
        self.shared.set_state(State::Speaking);
        self.out.emit(Event::Started { sample_rate: rate });
        let (speaker, seed) = (self.request.options.speaker, self.request.options.seed);
        let names = self.shared.controls.names().cloned().collect();
        self.speaking = Some(Speaking::new(palette, controls, names, overrides, speaker, scales, seed, plan));
        Ok(())
    }
}

impl Job {
    /// First step of a baked line: reads its audio and track (on this worker), which then go
    /// out in chunks as if computed.
    fn start_baked(&mut self, palette: Arc<Palette>, controls: Vec<ControlId>, scales: Scales, audio: &std::path::Path, timings: Option<&std::path::Path>) -> Result<()> {
        let baked = Baked::read(audio, timings)?;
        self.shared.sample_rate.store(baked.sample_rate, Ordering::Relaxed);
        self.shared.set_state(State::Speaking);
        self.out.emit(Event::Started { sample_rate: baked.sample_rate });
        self.out.emit(Event::SentenceStarted { index: 0, phonemes: String::new(), start_sample: 0 });
        self.out.emit(Event::Timings { index: 0, timings: baked.timings });
        let current = Current { baked: baked.audio, ..Current::new(0, 0, 0) };
        let names = self.shared.controls.names().cloned().collect();
        let plan = Plan { sentences: Vec::new(), prosodies: vec![Default::default()] };
        let mut speaking = Speaking::new(palette, controls, names, vec![Vec::new()], self.request.options.speaker, scales, 0, plan);
        (speaking.current, speaking.next_sentence) = (Some(current), 1);
        self.speaking = Some(speaking);
        Ok(())
    }
}

/// Finishes the text side of `sp`'s sentence under way if it was begun in parts
/// ([`Speaking::begin_text_side`]): its stream learns the rest of its frames, and its timing
/// track goes out.
fn finish_text_side(sp: &mut Speaking, out: &mut Outlet) -> Result<()> {
    let Some((prepared, p)) = sp.finish_text_side()? else { return Ok(()) };
    let hop = sp.palette.voice.model.samples_per_frame();
    let gain = Gain::new(&p.planned.gain_db(&sp.plan), &prepared.frames, hop, sp.palette.voice.sample_rate());
    let shifts = Shifts::new(&p.planned.pitch_st(&sp.plan), &prepared.frames, hop);
    let silence = sp.palette.voice.silence_samples(&p.planned);
    let cur = sp.current.as_mut().filter(|c| c.index == p.index).ok_or_else(|| Error::invalid("stream", "a sentence begun in parts is no longer under way"))?;
    let stream = cur.stream.as_mut().ok_or_else(|| Error::invalid("stream", "a sentence begun in parts has no stream"))?;
    stream.complete_with(prepared.input)?;
    (cur.gain, cur.shifts) = (gain, shifts);
    let mut timings = Timings::sentence(&p.planned.ids, &prepared.frames, hop, 0, p.planned.word_owners()).warped(|s| p.start_sample + cur.shifts.warp(s));
    timings.add_silence(silence);
    out.emit(Event::Timings { index: p.index, timings });
    Ok(())
}

/// Samples of a baked line sent per step.
const BAKED_CHUNK: usize = 8192;

/// Takes a computed window of sentence `sentence` (made with `values`, from the α values `set`,
/// in a batch of `batch` jobs; `recomputable`: in other α values, see [`Segment::alphas`]).
fn window_done(out: &mut Outlet, sentence: usize, audio: Vec<f32>, values: ControlValues, batch: usize, recomputable: bool, set: &[f32]) {
    let (start_sample, samples) = (out.produced(), audio.len());
    out.push(audio, recomputable.then(|| set.into()));
    out.emit(Event::Window { sentence, start_sample, samples, controls: values, batch });
}

/// Audio recomputed after an α change goes this far (samples at the voice's rate) past the ring
/// buffer's end, to cover what the ring buffer takes while it is computed and until the job's
/// next window (≈ 93 ms at 22.05 kHz). More delays the change when many jobs change at once
/// (their recomputations queue); less risks underruns after it.
const REWIND_AHEAD: usize = 2048;
/// Crossfade from old to new audio at a splice (≈ 5.8 ms at 22.05 kHz; at most a frame).
const REWIND_FADE: usize = 128;
/// Changes of α smaller than this wait for the next window instead of recomputing.
const REWIND_MIN_CHANGE: f32 = 1e-3;
/// Old-style audio beyond the ring buffer worth recomputing (less is played before a
/// recomputation would be ready anyway).
const REWIND_MIN_SAMPLES: u64 = 1024;
/// Most jobs per worker at which α changes recompute the look-ahead. Recomputing costs
/// synthesis: with more, the look-ahead of every speaker changing α at once (a crowd reacting
/// together) cannot be made again before they run dry, so α applies from the next window
/// instead (heard after the look-ahead, `ahead_samples`). 4: 8 speakers on 2 workers.
const REWIND_MAX_LOAD: usize = 4;
/// Least time between two recomputations of one job: α moved every frame recomputes at most
/// this often (each costs about `REWIND_AHEAD` samples of synthesis).
const REWIND_INTERVAL: Duration = Duration::from_millis(40);

/// What sizes a line's first window while jobs outnumber workers ([`Crowd::first_frames`]).
struct Crowd {
    /// Jobs per worker now.
    load: usize,
    /// This job's text side, just computed.
    text_side: Duration,
    /// The recent compute time of one frame of a first window (zero before any was timed).
    frame_cost: Duration,
    /// The least lead the dispatcher leaves a listener before it counts as about to run dry
    /// (`first_audio_target`; two steps where that is longer, [`super::dispatcher`]).
    margin: Duration,
}

impl Crowd {
    /// Frames a first window of `w` frames needs (0 alone): audio that lasts while the other
    /// `load − 1` jobs per worker have their starts (a text side like this one's and a first
    /// window; this job's own start is over when its audio begins) and then the dispatcher's
    /// margin: f·frame ≥ (load − 1)·(text_side + f·cost) + margin. Shorter, the crowd's first
    /// listeners run dry before the last ones have started, and those then wait behind every
    /// refill; longer, every start costs more and the last one ends later. Near the workers'
    /// capacity this grows without bound (`usize::MAX` past it; the caller caps it). On the
    /// 2-core Zen 4 VM, 16 starts of L's first sentence took ≈ 48 ms each: 32-frame first
    /// windows gave the last first audio at ≈ 0.78 s, 48 frames at ≈ 0.54–0.62 s.
    fn first_frames(&self, w: usize, rate: u32, hop: usize) -> usize {
        if self.load <= 1 || rate == 0 || hop == 0 || w == 0 {
            return 0;
        }
        // Before any window was timed the cost of a frame is unknown: as much as the caller
        // allows. (Taken as the text side over `w` frames, the crowd's first two windows came
        // out short on the Zen 4 VM, and their refills then fell due before the last start.)
        if self.frame_cost.is_zero() {
            return usize::MAX;
        }
        let (load, frame, a) = (self.load as f64, hop as f64 / rate as f64, self.text_side.as_secs_f64());
        let cost = self.frame_cost.as_secs_f64();
        let margin = self.margin.as_secs_f64().max(2.0 * (a + cost * w as f64));
        let others = load - 1.0;
        let room = frame - others * cost;
        if room <= 0.0 {
            return usize::MAX;
        }
        ((others * a + margin) / room).ceil().min(1e9) as usize
    }
}

/// A line's first window is sized as if at most this many jobs shared its worker, so that a
/// crowd starting at once gets its first audio sooner; it then lasts until the job's next turn
/// as the windows grow with what the listener has left.
const FIRST_WINDOW_LOAD: usize = 2;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Crowd;

    fn crowd(load: usize, text_side_ms: f64, frame_cost_ms: f64) -> Crowd {
        Crowd {
            load,
            text_side: Duration::from_secs_f64(text_side_ms / 1e3),
            frame_cost: Duration::from_secs_f64(frame_cost_ms / 1e3),
            margin: Duration::from_millis(100),
        }
    }

    /// A crowd's first window lasts through the others' starts plus the margin (checked
    /// against its own inequality), alone it asks nothing, slow machines ask more, and past
    /// the workers' capacity or before any window was timed it asks for everything.
    #[test]
    fn crowd_first_windows_last_through_the_others_starts() {
        let (rate, hop) = (22_050, 256);
        let frame = hop as f64 / rate as f64;
        assert_eq!(crowd(1, 20.0, 0.8).first_frames(32, rate, hop), 0, "alone");
        for (load, a, cost) in [(8, 22.0, 0.8), (8, 10.0, 0.45), (4, 22.0, 0.8)] {
            let f = crowd(load, a, cost).first_frames(32, rate, hop);
            let lasts = |f: usize| f as f64 * frame;
            let needs = |f: usize| (load - 1) as f64 * (a + f as f64 * cost) / 1e3 + 0.1f64.max(2.0 * (a + 32.0 * cost) / 1e3);
            assert!(lasts(f) >= needs(f), "load {load}: {f} frames last {} s, need {} s", lasts(f), needs(f));
            assert!(lasts(f - 1) < needs(f - 1), "load {load}: {f} frames is not the least");
        }
        // The Zen 4 VM's 16 starts on 2 workers want more than the default 32 frames; the
        // Xeon's, and 8 starts, fewer.
        assert!(crowd(8, 22.0, 0.8).first_frames(32, rate, hop) > 32);
        assert!(crowd(8, 10.0, 0.45).first_frames(32, rate, hop) < 32);
        assert!(crowd(4, 22.0, 0.8).first_frames(32, rate, hop) < 32);
        assert_eq!(crowd(8, 22.0, 2.0).first_frames(32, rate, hop), usize::MAX, "past capacity");
        // No window timed yet: as long as the caller allows.
        assert_eq!(crowd(8, 22.0, 0.0).first_frames(32, rate, hop), usize::MAX);
    }
}
