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

use super::controls::{ControlValues, Controls};
use super::handle::{Event, Shared, State};
use super::outlet::Outlet;
use super::request::{Priority, Request};
use super::EngineShared;
use crate::error::{Error, Result};
use crate::model::stream::SentenceStream;
use crate::model::{Noise, StyleState};
use crate::scales::Scales;
use crate::style::{ControlId, Palette};
use crate::timing::Timings;
use crate::voice::WordNamer;

/// What a step left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More windows to compute.
    More,
    /// Everything computed (it may still wait in the outlet).
    Done,
}

/// The sentence being streamed.
struct Current {
    index: usize,
    stream: SentenceStream,
}

/// The style a job speaks with now; rebuilt only when its control values change.
struct Styled {
    /// The request's control values after clamping, as reported with each window.
    values: ControlValues,
    state: Arc<StyleState>,
}

/// What a started job speaks, and how.
struct Speaking {
    palette: Arc<Palette>,
    /// The palette's control for each of the request's controls, in request order.
    controls: Vec<ControlId>,
    speaker: Option<usize>,
    scales: Scales,
    noise: Noise,
    sentences: VecDeque<String>,
    next_sentence: usize,
    /// Names the timing tracks' words by the text's.
    namer: WordNamer,
    current: Option<Current>,
    styled: Option<Styled>,
}

impl Speaking {
    /// The style for the request's control values now (read once per step: a change applies
    /// from the next window on). The style state is rebuilt only when a value changed.
    fn style(&mut self, live: &Controls) -> Result<(Arc<StyleState>, ControlValues)> {
        let specs = self.palette.controls();
        let values: Vec<f32> = self.controls.iter().enumerate().map(|(i, id)| specs[id.0].clamp(live.value(i))).collect::<Result<_>>()?;
        if let Some(s) = self.styled.as_ref().filter(|s| s.values.iter().map(|(_, v)| *v).eq(values.iter().copied())) {
            return Ok((s.state.clone(), s.values.clone()));
        }
        let mut alphas = vec![0.0; specs.len()];
        for (id, &v) in self.controls.iter().zip(&values) {
            alphas[id.0] = v;
        }
        let state = Arc::new(self.palette.state(&alphas, self.speaker)?);
        let values: ControlValues = live.names().cloned().zip(values).collect();
        self.styled = Some(Styled { values: values.clone(), state: state.clone() });
        Ok((state, values))
    }

    /// Whether the sentence under way has frames left.
    fn mid_sentence(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.stream.remaining() > 0)
    }
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
    pub fn end(&self, state: State, event: Event) {
        self.shared.set_state(state);
        self.out.emit(event);
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
        let lead = self.lead_frames(Instant::now(), sp.palette.voice.model.samples_per_frame());
        let Job { speaking, out, shared, load, computed_all, .. } = self;
        let sp = speaking.as_mut().expect("started");
        let (style, values) = sp.style(&shared.controls)?;
        loop {
            if let Some(cur) = &mut sp.current {
                if let Some(audio) = cur.stream.next_window(&engine.config.windows, lead, *load, &style)? {
                    window_done(out, cur.index, &audio, values, 1);
                    return Ok(Step::More);
                }
                out.emit(Event::SentenceFinished { index: cur.index, end_sample: out.produced() });
                sp.current = None;
            }
            let Some(phonemes) = sp.sentences.pop_front() else {
                *computed_all = true;
                return Ok(Step::Done);
            };
            // The text side of the sentence, in this step's style.
            let ids = sp.palette.voice.ids.ids(&phonemes);
            let model = style.backbone();
            let prepared = model.prepare(&ids.ids, &sp.scales, &mut sp.noise, &style)?;
            let index = sp.next_sentence;
            sp.next_sentence += 1;
            let start_sample = out.produced();
            let mut timings = Timings::sentence(&ids, &prepared.frames, model.samples_per_frame(), start_sample);
            sp.namer.name(&sp.palette.voice, &mut timings);
            out.emit(Event::SentenceStarted { index, phonemes, start_sample });
            out.emit(Event::Timings { index, timings });
            sp.current = Some(Current { index, stream: SentenceStream::new(model.as_ref(), prepared.input)? });
        }
    }

    /// The palette, when this job's next step is a window of a sentence under way in a style
    /// that runs the voice's own weights without adapters: such steps of several jobs can run
    /// as one batch.
    pub fn batchable_palette(&self) -> Option<&Arc<Palette>> {
        let sp = self.speaking.as_ref().filter(|sp| sp.mid_sentence())?;
        let plain_weights = sp.styled.as_ref().is_none_or(|s| s.state.runs_weights_of(&sp.palette.voice.model));
        plain_weights.then_some(&sp.palette)
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
            let remaining = sp.current.as_ref().expect("batchable").stream.remaining();
            let w = engine.config.windows.window(lead, job.load, remaining);
            match job.speaking.as_mut().expect("batchable").style(&job.shared.controls) {
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
                    .map(|(_, j)| &mut j.speaking.as_mut().expect("batchable").current.as_mut().expect("batchable").stream)
                    .collect();
                SentenceStream::window_batch(&mut streams, w, &styles)
            };
            match computed {
                Ok(windows) => {
                    let n = windows.len();
                    for ((i, _, values, _), audio) in members.into_iter().zip(windows) {
                        let job = &mut jobs[i];
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
        let sentences = voice.phonemize(&self.request.say)?.into();
        let rate = voice.sample_rate();
        self.shared.sample_rate.store(rate, Ordering::Relaxed);
        self.shared.set_state(State::Speaking);
        self.out.emit(Event::Started { sample_rate: rate });
        let (speaker, seed) = (self.request.options.speaker, self.request.options.seed);
        self.speaking = Some(Speaking {
            palette,
            controls,
            speaker,
            scales,
            noise: Noise::seeded(seed),
            sentences,
            next_sentence: 0,
            namer: WordNamer::new(&self.request.say),
            current: None,
            styled: None,
        });
        Ok(())
    }
}

/// Takes a computed window of sentence `sentence` (made with `values`, in a batch of `batch` jobs).
fn window_done(out: &mut Outlet, sentence: usize, audio: &[f32], values: ControlValues, batch: usize) {
    let start_sample = out.produced();
    out.push(audio);
    out.emit(Event::Window { sentence, start_sample, samples: audio.len(), controls: values, batch });
}
