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
use ringbuf::HeapProd;

use super::controls::ControlValues;
use super::handle::{Event, Shared, State};
use super::outlet::Outlet;
use super::speaking::{Current, Speaking};
use super::request::{Priority, Request};
use super::EngineShared;
use crate::error::{Error, Result};
use crate::model::stream::SentenceStream;
use crate::line::{pitch, Gain, Plan, Shifts};
use crate::model::{Noise, StyleState};
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
    /// When the consumer last made room (or the job was created).
    pub last_progress: Instant,
}

impl Job {
    pub fn new(id: u64, request: Request, shared: Arc<Shared>, events: Sender<Event>, producer: HeapProd<f32>) -> Self {
        Job {
            id,
            priority: request.priority,
            request,
            shared,
            out: Outlet::new(events, producer),
            speaking: None,
            computed_all: false,
            load: 1,
            last_progress: Instant::now(),
        }
    }

    /// What was asked.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Ends the job in `state` with `event`.
    /// The event goes out first: whoever sees the final state finds it among the events.
    pub fn end(&self, state: State, event: Event) {
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

    /// Moves pending audio into the ring buffer as far as it has room.
    pub fn flush(&mut self) {
        if self.out.flush(&self.shared) > 0 {
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

    /// Frames of audio the real-time listener of [`Self::deadline`] has left at `now`.
    fn lead_frames(&self, now: Instant, hop: usize) -> usize {
        let rate = self.shared.sample_rate.load(Ordering::Relaxed) as f64;
        let left = self.deadline(Duration::ZERO).saturating_duration_since(now).as_secs_f64();
        (left * rate / hop as f64) as usize
    }

    /// Computes the next piece of audio into the outlet.
    pub fn step(&mut self, engine: &EngineShared) -> Result<Step> {
        if self.speaking.is_none() {
            self.start(engine)?;
        }
        let sp = self.speaking.as_ref().expect("started");
        let hop = sp.palette.voice.model.samples_per_frame();
        let lead = self.lead_frames(Instant::now(), hop);
        let Job { speaking, out, shared, load, computed_all, .. } = self;
        let sp = speaking.as_mut().expect("started");
        loop {
            if let Some(mut cur) = sp.current.take() {
                if let Some(at) = cur.stream.as_ref().filter(|s| s.remaining() > 0).map(SentenceStream::position) {
                    // One window, in the style in force at its first frame, ending where the
                    // style changes next.
                    let (prosody, next_change) = cur.style_at(at);
                    let (style, values) = sp.style(&shared.controls, prosody)?;
                    let stream = cur.stream.as_mut().expect("checked");
                    let mut w = engine.config.windows.window(lead, *load, stream.remaining());
                    if let Some(f) = next_change {
                        w = w.min(f - at);
                    }
                    if let Some(f) = cur.shifts.next_edge(at) {
                        w = w.min(f - at);
                    }
                    let mut audio = stream.window(w, &style)?;
                    cur.gain.apply((at * hop) as u64, &mut audio);
                    scale(&mut audio, sp.palette.gain());
                    let audio = match cur.shifts.at(at).copied() {
                        None => audio,
                        Some(shift) => {
                            // A shifted span goes out whole, resampled, once computed.
                            cur.held.extend_from_slice(&audio);
                            if stream.position() < shift.end {
                                sp.current = Some(cur);
                                return Ok(Step::More);
                            }
                            let held = std::mem::take(&mut cur.held);
                            pitch::resample(&held, shift.ratio)
                        }
                    };
                    window_done(out, cur.index, &audio, values, 1);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                if cur.baked_at < cur.baked.len() {
                    let (_, values) = sp.style(&shared.controls, 0)?;
                    let end = (cur.baked_at + BAKED_CHUNK).min(cur.baked.len());
                    let chunk = cur.baked[cur.baked_at..end].to_vec();
                    cur.baked_at = end;
                    window_done(out, cur.index, &chunk, values, 1);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                if cur.silence > 0 {
                    let (_, values) = sp.style(&shared.controls, 0)?;
                    let silence = vec![0.0; cur.silence as usize];
                    cur.silence = 0;
                    window_done(out, cur.index, &silence, values, 1);
                    sp.current = Some(cur);
                    return Ok(Step::More);
                }
                out.emit(Event::SentenceFinished { index: cur.index, end_sample: out.produced() });
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
            let mut cur = Current::new(index, silence);
            let mut timings = if planned.speaks() {
                // The text side of the sentence, in the styles of this step.
                let (prepared, styles) = sp.text_side(&shared.controls, &planned)?;
                cur.gain = Gain::new(&planned.gain_db(&sp.plan), &prepared.frames, hop, voice.sample_rate());
                cur.styles = styles;
                cur.stream = Some(SentenceStream::new(voice.model.as_ref(), prepared.input)?);
                cur.shifts = Shifts::new(&planned.pitch_st(&sp.plan), &prepared.frames, hop);
                let timings = Timings::sentence(&planned.ids, &prepared.frames, hop, 0, planned.word_owners());
                timings.warped(|s| start_sample + cur.shifts.warp(s))
            } else {
                Timings::silence(start_sample, 0)
            };
            timings.add_silence(silence);
            out.emit(Event::SentenceStarted { index, phonemes: planned.phonemes, start_sample });
            out.emit(Event::Timings { index, timings });
            sp.current = Some(cur);
        }
    }

    /// The palette, when this job's next step is a window of a sentence under way in a style
    /// that runs the voice's own weights without adapters: such steps of several jobs can run
    /// as one batch.
    pub fn batchable_palette(&self) -> Option<&Arc<Palette>> {
        let sp = self.speaking.as_ref().filter(|sp| sp.mid_sentence())?;
        let plain_markup = sp.current.as_ref().is_some_and(Current::plain);
        let plain_weights = sp.styled.last().is_none_or(|s| s.state.runs_weights_of(&sp.palette.voice.model));
        (plain_markup && plain_weights).then_some(&sp.palette)
    }

    /// One window for each of `jobs`, computed as a batch where they share a palette and a
    /// sentence is under way ([`Self::batchable_palette`]); the others step alone. Every job
    /// gets the same style handling as [`Self::step`].
    pub fn step_batch(jobs: &mut [Box<Job>], engine: &EngineShared) -> Vec<Result<Step>> {
        let mut results: Vec<Option<Result<Step>>> = jobs.iter().map(|_| None).collect();
        // (job index, style, control values, window frames it wants)
        let mut members: Vec<(usize, Arc<StyleState>, ControlValues, usize)> = Vec::new();
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
            match job.speaking.as_mut().expect("batchable").style(&job.shared.controls, 0) {
                Ok((style, values)) => members.push((i, style, values, w)),
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
                    for ((i, _, values, _), mut audio) in members.into_iter().zip(windows) {
                        let job = &mut jobs[i];
                        scale(&mut audio, job.speaking.as_ref().map_or(1.0, |sp| sp.palette.gain()));
                        let sentence = job.speaking.as_ref().and_then(|sp| sp.current.as_ref()).expect("batchable").index;
                        window_done(&mut job.out, sentence, &audio, values, n);
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
                        crate::style::finite_alpha(&s.name, s.alpha).map_err(|e| s.at.error(e.to_string()))?;
                        Ok((id, Arc::from(s.name.as_str()), s.alpha))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let sentences = plan.sentences.clone().into();
        let rate = voice.sample_rate();
        self.shared.sample_rate.store(rate, Ordering::Relaxed);
        self.shared.set_state(State::Speaking);
        self.out.emit(Event::Started { sample_rate: rate });
        let (speaker, seed) = (self.request.options.speaker, self.request.options.seed);
        self.speaking = Some(Speaking {
            palette,
            controls,
            overrides,
            speaker,
            scales,
            noise: Noise::seeded(seed),
            plan,
            sentences,
            next_sentence: 0,
            current: None,
            styled: Vec::new(),
        });
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
        let current = Current { baked: baked.audio, ..Current::new(0, 0) };
        self.speaking = Some(Speaking {
            palette,
            controls,
            overrides: vec![Vec::new()],
            speaker: self.request.options.speaker,
            scales,
            noise: Noise::seeded(0),
            plan: Plan { sentences: Vec::new(), prosodies: vec![Default::default()] },
            sentences: VecDeque::new(),
            next_sentence: 1,
            current: Some(current),
            styled: Vec::new(),
        });
        Ok(())
    }
}

/// Multiplies `audio` by `gain` (nothing to do at 1).
fn scale(audio: &mut [f32], gain: f32) {
    if gain != 1.0 {
        audio.iter_mut().for_each(|x| *x *= gain);
    }
}

/// Samples of a baked line sent per step.
const BAKED_CHUNK: usize = 8192;

/// Takes a computed window of sentence `sentence` (made with `values`, in a batch of `batch` jobs).
fn window_done(out: &mut Outlet, sentence: usize, audio: &[f32], values: ControlValues, batch: usize) {
    let start_sample = out.produced();
    out.push(audio);
    out.emit(Event::Window { sentence, start_sample, samples: audio.len(), controls: values, batch });
}
