//! One request in progress: the engine's side of a [`super::SpeechHandle`].
//!
//! A job advances in steps, each at most one window of audio (plus, at a sentence's start, the
//! text side of that sentence), so a worker is never tied to one request: between steps the
//! dispatcher may hand the job to any worker, park it while its consumer catches up, or drop it
//! when cancelled. Computed audio waits in `pending` until the ring buffer has room; the worker
//! never waits on the consumer.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use ringbuf::traits::{Observer, Producer};
use ringbuf::HeapProd;

use super::handle::{Event, Shared, State};
use super::request::{Priority, Request, Say};
use super::voices::VoiceEntry;
use super::EngineShared;
use crate::error::{Error, Result};
use crate::model::stream::SentenceStream;
use crate::model::{Noise, Scales, Vits};
use crate::style::{lora, Steering};
use crate::voice::Input;

/// What a step left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More windows to compute.
    More,
    /// Everything computed (it may still wait in `pending`).
    Done,
}

/// The sentence being streamed.
struct Current {
    index: usize,
    stream: SentenceStream,
}

/// A request being spoken.
pub(crate) struct Job {
    pub id: u64,
    pub priority: Priority,
    request: Request,
    pub shared: Arc<Shared>,
    events: Sender<Event>,
    producer: HeapProd<f32>,
    /// Computed samples not yet in the ring buffer, from `pending_pos` on.
    pending: Vec<f32>,
    pending_pos: usize,
    /// Samples computed so far (in the ring buffer or pending).
    produced: u64,
    voice: Option<Arc<VoiceEntry>>,
    scales: Option<Scales>,
    noise: Noise,
    sentences: VecDeque<String>,
    next_sentence: usize,
    current: Option<Current>,
    pub computed_all: bool,
    /// The model with this job's weight-vector α merged in, and those α (None: the base).
    tuned: Option<(Vec<f32>, Vits)>,
    /// Jobs per worker when this step was handed out (windows grow with it).
    pub load: usize,
    /// When the consumer last made room (or the job was created).
    pub last_progress: Instant,
}

impl Job {
    pub fn new(id: u64, request: Request, shared: Arc<Shared>, events: Sender<Event>, producer: HeapProd<f32>) -> Self {
        let noise = Noise::seeded(request.options.seed);
        Job {
            id,
            priority: request.priority,
            request,
            shared,
            events,
            producer,
            pending: Vec::new(),
            pending_pos: 0,
            produced: 0,
            voice: None,
            scales: None,
            noise,
            sentences: VecDeque::new(),
            next_sentence: 0,
            current: None,
            computed_all: false,
            tuned: None,
            load: 1,
            last_progress: Instant::now(),
        }
    }

    /// What was asked.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Sends an event; a handle that is gone no longer listens, which is fine.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Ends the job in `state` with `event`.
    pub fn end(&self, state: State, event: Event) {
        self.shared.set_state(state);
        self.emit(event);
    }

    /// Samples computed but not yet read: in the ring buffer plus pending.
    pub fn buffered(&self) -> usize {
        self.producer.occupied_len() + self.pending.len() - self.pending_pos
    }

    /// When this job's listener runs out of audio, if it plays in real time from the first
    /// sample on: the first sample's time plus the audio produced. For a job with no audio yet,
    /// `first_audio_target` after its request. (A listener that started later has more left;
    /// one that reads faster than real time, like a file writer, is treated as a player.)
    pub fn deadline(&self, first_audio_target: Duration) -> Instant {
        let rate = self.shared.sample_rate.load(Ordering::Relaxed);
        match self.shared.first_audio_at() {
            Some(first) if rate > 0 => first + Duration::from_secs_f64(self.produced as f64 / rate as f64),
            _ => self.shared.requested_at + first_audio_target,
        }
    }

    /// Frames of audio the real-time listener of [`Self::deadline`] has left at `now`.
    fn lead_frames(&self, now: Instant, hop: usize) -> usize {
        let rate = self.shared.sample_rate.load(Ordering::Relaxed) as f64;
        let left = self.deadline(Duration::ZERO).saturating_duration_since(now).as_secs_f64();
        (left * rate / hop as f64) as usize
    }

    /// Whether computed audio still waits for room in the ring buffer.
    pub fn has_pending(&self) -> bool {
        self.pending_pos < self.pending.len()
    }

    /// Whether the consumer's side of the ring buffer is gone.
    pub fn consumer_gone(&self) -> bool {
        !self.producer.read_is_held()
    }

    /// Moves pending samples into the ring buffer as far as it has room; returns how many.
    pub fn flush(&mut self) -> usize {
        let n = self.producer.push_slice(&self.pending[self.pending_pos..]);
        self.pending_pos += n;
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
        }
        if n > 0 {
            self.shared.audio_arrived();
            self.shared.written.fetch_add(n as u64, Ordering::AcqRel);
            self.last_progress = Instant::now();
        }
        n
    }

    /// Computes the next piece of audio into `pending`.
    pub fn step(&mut self, engine: &EngineShared) -> Result<Step> {
        let voice = match &self.voice {
            Some(v) => v.clone(),
            None => self.start(engine)?,
        };
        let scales = self.scales.expect("set by start");
        let lead = self.lead_frames(Instant::now(), voice.voice.model.config.hop_length());
        // Controls are read once per step, at the start of a window: a change applies from here on.
        let controls = voice.applied_controls(&self.shared.controls)?;
        let steering = voice.steering(&controls)?;
        let alphas = voice.weight_alphas(&controls);
        if alphas.iter().all(|&a| a == 0.0) {
            self.tuned = None;
        } else if self.tuned.as_ref().is_none_or(|(cached, _)| *cached != alphas) {
            // Weight deltas are merged into this job's own copy only when their α change.
            self.tuned = Some((alphas, voice.model_for(&controls)?));
        }
        let model = self.tuned.as_ref().map_or(&voice.voice.model, |(_, m)| m);
        // LoRA on dense convs runs on the fly, for this step, on this thread.
        let _lora = lora::activate(voice.adapters(&controls));
        // The speaker embedding, moved by any `speaker` vectors.
        let g = match (model.speaker_embedding(self.request.options.speaker)?, voice.speaker_offset(&controls)?) {
            (Some(g), Some(offset)) => Some((g + offset)?),
            (g, _) => g,
        };
        loop {
            if let Some(cur) = &mut self.current {
                cur.stream.set_speaker(g.clone());
                let windows = &engine.config.windows;
                if let Some(audio) = cur.stream.next_window(model, windows, lead, self.load, &steering)? {
                    let sentence = cur.index;
                    self.window_done(sentence, audio, controls, 1);
                    return Ok(Step::More);
                }
                let index = cur.index;
                self.current = None;
                self.emit(Event::SentenceFinished { index, end_sample: self.produced });
            }
            let Some(phonemes) = self.sentences.pop_front() else {
                self.computed_all = true;
                return Ok(Step::Done);
            };
            // The text side of the sentence: encoder, durations, prior.
            let ids = voice.voice.ids.ids(&phonemes).ids;
            let enc = model.encode_with(&ids, g.clone())?;
            let durations = model.durations(&enc, scales.length_scale, scales.noise_w, &mut self.noise)?;
            let z_p = model.prior(&enc, &durations, scales.noise_scale, &mut self.noise)?;
            let index = self.next_sentence;
            self.next_sentence += 1;
            self.emit(Event::SentenceStarted { index, phonemes, start_sample: self.produced });
            self.current = Some(Current { index, stream: SentenceStream::new(model, z_p, enc.g)? });
        }
    }

    /// Takes a computed window of sentence `sentence` (made with `controls`, in a batch of
    /// `batch` jobs).
    fn window_done(&mut self, sentence: usize, audio: Vec<f32>, controls: Vec<(String, f32)>, batch: usize) {
        let (start_sample, samples) = (self.produced, audio.len());
        self.produced += samples as u64;
        self.pending.extend_from_slice(&audio);
        self.emit(Event::Window { sentence, start_sample, samples, controls, batch });
    }

    /// The voice, when this job's next step is a window of a sentence under way with the base
    /// model (no weight vector active): such steps of several jobs can run as one batch.
    pub fn batchable_voice(&self) -> Option<&Arc<VoiceEntry>> {
        let mid_sentence = self.current.as_ref().is_some_and(|c| c.stream.remaining() > 0);
        (mid_sentence && self.tuned.is_none()).then_some(self.voice.as_ref()).flatten()
    }

    /// One window for each of `jobs` (same voice, see [`Self::batchable_voice`]), computed as a
    /// batch; jobs that turn out not to fit (a weight vector became active) step alone.
    pub fn step_batch(jobs: &mut [Box<Job>], engine: &EngineShared) -> Vec<Result<Step>> {
        let mut results: Vec<Option<Result<Step>>> = jobs.iter().map(|_| None).collect();
        // (job index, control values, steering, window frames it wants)
        type Member = (usize, Vec<(String, f32)>, Steering, usize);
        let mut batch: Vec<Member> = Vec::new();
        let voice = jobs[0].voice.clone();
        for (i, job) in jobs.iter_mut().enumerate() {
            let prepared = (|| -> Result<Option<Member>> {
                let Some(voice) = voice.as_ref().filter(|v| job.batchable_voice().is_some_and(|jv| Arc::ptr_eq(jv, v))) else {
                    return Ok(None);
                };
                let controls = voice.applied_controls(&job.shared.controls)?;
                let alone = voice.weight_alphas(&controls).iter().any(|&a| a != 0.0)
                    || voice.adapters(&controls).is_some()
                    || voice.speaker_offset(&controls)?.is_some();
                if alone {
                    return Ok(None);
                }
                let steering = voice.steering(&controls)?;
                let hop = voice.voice.model.config.hop_length();
                let cur = job.current.as_ref().expect("batchable");
                let w = engine.config.windows.window(job.lead_frames(Instant::now(), hop), job.load, cur.stream.remaining());
                Ok(Some((i, controls, steering, w)))
            })();
            match prepared {
                Ok(Some(member)) => batch.push(member),
                Ok(None) => results[i] = Some(job.step(engine)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if let (Some(voice), false) = (voice, batch.is_empty()) {
            let w = batch.iter().map(|b| b.3).min().expect("non-empty");
            let members: Vec<usize> = batch.iter().map(|b| b.0).collect();
            let steerings: Vec<&Steering> = batch.iter().map(|b| &b.2).collect();
            let computed = {
                let mut streams: Vec<&mut SentenceStream> = jobs
                    .iter_mut()
                    .enumerate()
                    .filter(|(i, _)| members.contains(i))
                    .map(|(_, j)| {
                        // Checked when the job started.
                        let g = voice.voice.model.speaker_embedding(j.request.options.speaker).ok().flatten();
                        let cur = j.current.as_mut().expect("batchable");
                        cur.stream.set_speaker(g);
                        &mut cur.stream
                    })
                    .collect();
                SentenceStream::window_batch(&mut streams, &voice.voice.model, w, &steerings)
            };
            match computed {
                Ok(windows) => {
                    let n = windows.len();
                    for ((i, controls, _, _), audio) in batch.into_iter().zip(windows) {
                        let sentence = jobs[i].current.as_ref().expect("batchable").index;
                        jobs[i].window_done(sentence, audio, controls, n);
                        results[i] = Some(Ok(Step::More));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for &i in &members {
                        results[i] = Some(Err(Error::invalid("batched window", msg.clone())));
                    }
                }
            }
        }
        results.into_iter().map(|r| r.expect("every job stepped")).collect()
    }

    /// First step: finds the voice, checks the request against it, phonemizes.
    fn start(&mut self, engine: &EngineShared) -> Result<Arc<VoiceEntry>> {
        let voice = engine.voices.get(&self.request.voice, &engine.config.device)?;
        voice.check_controls(&self.shared.controls)?;
        let scales = voice.voice.scales(&self.request.options)?;
        let input = match &self.request.say {
            Say::Text(t) => Input::Text(t),
            Say::Phonemes(p) => Input::Phonemes(p),
        };
        self.sentences = voice.voice.phonemize(input)?.into();
        let rate = voice.voice.sample_rate();
        self.shared.sample_rate.store(rate, Ordering::Relaxed);
        self.shared.set_state(State::Speaking);
        self.emit(Event::Started { sample_rate: rate });
        self.scales = Some(scales);
        self.voice = Some(voice.clone());
        Ok(voice)
    }
}
