//! The caller's side of one request: audio out of a lock-free ring buffer, live controls,
//! cancellation, progress and events.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryIter};
use ringbuf::traits::{Consumer, Observer};
use ringbuf::{HeapCons, HeapRb};

use super::controls::{ControlValues, Controls};
use super::outlet::Lookahead;
use crate::timing::Timings;
use crate::error::{Error, Result};

/// What happened to a request, in order. Sample positions count from the request's first sample.
#[derive(Debug)]
pub enum Event {
    /// A worker took the request; `sample_rate` is its voice's.
    Started { sample_rate: u32 },
    /// Sentence `index` begins at `start_sample`.
    SentenceStarted { index: usize, phonemes: String, start_sample: u64 },
    /// The timing track of sentence `index` (phonemes, words, visemes; samples counted from
    /// the request's first sample), sent with `SentenceStarted`, before its audio.
    Timings { index: usize, timings: Timings },
    /// A window of `samples` samples from `start_sample` was computed with these control values
    /// (after clamping to the voice's ranges), in a batch of `batch` requests.
    Window { sentence: usize, start_sample: u64, samples: usize, controls: ControlValues, batch: usize },
    /// Sentence `index` ends before `end_sample`.
    SentenceFinished { index: usize, end_sample: u64 },
    /// All audio is in the ring buffer: `samples` in all.
    Finished { samples: u64 },
    /// Cancelled (by the handle, or by dropping it) after `samples` samples.
    Cancelled { samples: u64 },
    /// Not admitted: the queue for its priority held `limit` requests already. Nothing was computed.
    Dropped { limit: usize },
    /// The request ended with an error (bad input, missing voice, a panic, a stalled consumer).
    Failed(Error),
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Queued = 0,
    Speaking = 1,
    Finished = 2,
    Cancelled = 3,
    Dropped = 4,
    Failed = 5,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Queued,
            1 => State::Speaking,
            2 => State::Finished,
            3 => State::Cancelled,
            4 => State::Dropped,
            _ => State::Failed,
        }
    }

    /// No more audio will be produced.
    pub fn is_over(self) -> bool {
        !matches!(self, State::Queued | State::Speaking)
    }
}

/// When things happened to a request, measured from [`super::Engine::speak`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Until the first sample was in the ring buffer (time to first audio).
    pub first_audio: Option<Duration>,
    /// Until the request was over (for a finished one: all audio in the ring buffer).
    pub ended: Option<Duration>,
}

/// State shared by a request's handle and the engine.
pub(crate) struct Shared {
    pub cancel: AtomicBool,
    state: AtomicU8,
    pub controls: Controls,
    pub sample_rate: AtomicU32,
    /// Samples pushed into the ring buffer so far (changes only under the `lookahead` lock).
    pub written: AtomicU64,
    /// Samples the reader took out of the ring buffer so far.
    pub read: AtomicU64,
    /// Samples computed so far (written plus pending; see [`SpeechHandle::samples_computed`]).
    pub computed: AtomicU64,
    /// The audio computed ahead, behind the ring buffer (see [`super::outlet`]).
    lookahead: Mutex<Lookahead>,
    /// The ring buffer, to observe without the look-ahead's lock (its room, its reader).
    ring: Arc<HeapRb<f32>>,
    pub requested_at: Instant,
    first_audio_at: OnceLock<Instant>,
    ended_at: OnceLock<Instant>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.state())
            .field("written", &self.written)
            .field("read", &self.read)
            .field("computed", &self.computed)
            .field("lookahead", &self.lookahead)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new(controls: Controls, lookahead: Lookahead) -> Self {
        Shared {
            ring: lookahead.ring().clone(),
            cancel: AtomicBool::new(false),
            state: AtomicU8::new(State::Queued as u8),
            controls,
            sample_rate: AtomicU32::new(0),
            written: AtomicU64::new(0),
            read: AtomicU64::new(0),
            computed: AtomicU64::new(0),
            lookahead: Mutex::new(lookahead),
            requested_at: Instant::now(),
            first_audio_at: OnceLock::new(),
            ended_at: OnceLock::new(),
        }
    }

    /// The ring buffer, observed: its room and whether its reader is still there.
    pub fn ring(&self) -> &HeapRb<f32> {
        &self.ring
    }

    /// The look-ahead, locked (engine threads only: this may wait for another of them).
    pub fn lock_lookahead(&self) -> MutexGuard<'_, Lookahead> {
        self.lookahead.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that `n` samples (under the lookahead lock) reached the ring buffer.
    pub fn flushed(&self, n: usize) {
        if n > 0 {
            self.first_audio_at.get_or_init(Instant::now);
            self.written.fetch_add(n as u64, Ordering::AcqRel);
        }
    }

    /// Tops the ring buffer up from the look-ahead; returns how many samples moved.
    pub fn flush(&self) -> usize {
        let mut la = self.lock_lookahead();
        let n = la.flush();
        // Under the lock: a splice reads `written` as the first sample still pending.
        self.flushed(n);
        n
    }

    /// [`Self::flush`] if nobody holds the look-ahead now, else `None`: never waits, never
    /// allocates (for the reader on an audio thread).
    fn try_flush(&self) -> Option<usize> {
        let mut la = match self.lookahead.try_lock() {
            Ok(la) => la,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let n = la.flush();
        self.flushed(n);
        Some(n)
    }

    /// When the first sample reached the ring buffer.
    pub fn first_audio_at(&self) -> Option<Instant> {
        self.first_audio_at.get().copied()
    }

    pub fn timing(&self) -> Timing {
        let since = |t: &OnceLock<Instant>| t.get().map(|t| t.duration_since(self.requested_at));
        Timing { first_audio: since(&self.first_audio_at), ended: since(&self.ended_at) }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Drops the audio not yet in the ring buffer (the request ends without it).
    pub fn drop_pending(&self) {
        let dropped = self.lock_lookahead().clear();
        drop(dropped);
    }

    pub fn set_state(&self, s: State) {
        if s.is_over() {
            self.ended_at.get_or_init(Instant::now);
        }
        self.state.store(s as u8, Ordering::Release);
    }
}

/// How long a real-time reader that finds the look-ahead held tries again before it gives up
/// this read: far longer than an engine thread holds it while running (it moves a window's
/// pointer and at most the ring's room of samples: under 1 µs on average, 25–70 µs at most in
/// a run of 16 speakers), far shorter than an audio callback's period. A holder the OS has
/// preempted is not waited for. Measured with 16 speakers on 2 cores (`speech_load`, a 2-core Intel Xeon
/// VM): without it, 0–5 reads per run came up short while the audio was computed.
const TOP_UP_SPIN: Duration = Duration::from_micros(200);

/// The audio end of a request: pops samples from the ring buffer. Never blocks on a lock
/// (unless made [`AudioReader::set_offline`]), never allocates: safe to move into an audio
/// callback (see [`SpeechHandle::take_reader`]).
pub struct AudioReader {
    consumer: HeapCons<f32>,
    shared: Arc<Shared>,
    read: u64,
    /// Tops the ring buffer up even when that means waiting for the look-ahead's lock
    /// ([`Self::set_offline`]).
    offline: bool,
}

impl AudioReader {
    /// Moves up to `out.len()` samples into `out`; returns how many. Fewer than asked while the
    /// request is speaking means the engine fell behind (an underrun, for a real-time consumer).
    /// The ring buffer is topped up from the engine's look-ahead as it runs low (without
    /// waiting on the lock: if an engine thread holds the look-ahead, the reader tries again
    /// for at most `TOP_UP_SPIN` (200 µs), then leaves it to that thread — unless
    /// [`Self::set_offline`]).
    pub fn read(&mut self, out: &mut [f32]) -> usize {
        let mut n = self.consumer.pop_slice(out);
        while n < out.len() {
            let moved = self.top_up();
            // Look at the ring even when this moved nothing: an engine thread that held the
            // look-ahead may have filled it meanwhile (and left nothing to move, or no room).
            let got = self.consumer.pop_slice(&mut out[n..]);
            n += got;
            if moved == 0 && got == 0 {
                break;
            }
        }
        self.read += n as u64;
        self.shared.read.store(self.read, Ordering::Release);
        n
    }

    /// For a reader that is not on a real-time thread, such as an offline mix that renders as
    /// much as [`SpeechHandle::samples_computed`] says there is: [`Self::read`] then tops the
    /// ring buffer up even while an engine thread holds the look-ahead (waiting for it a
    /// moment), so it comes up short only where the engine has not computed the audio. By
    /// default it never waits — right for an audio callback, but a worker or the dispatcher
    /// holding the look-ahead at that instant (or preempted while holding it) then makes a read
    /// short although the audio is computed: to a mixer that is an underrun, in an offline mix
    /// a gap that shifts everything after it.
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    /// Moves audio from the look-ahead into the ring buffer; how many samples moved.
    fn top_up(&self) -> usize {
        if self.offline {
            return self.shared.flush();
        }
        if let Some(n) = self.shared.try_flush() {
            return n;
        }
        // An engine thread holds the look-ahead, for a microsecond or so (it moves at most the
        // ring's room): try again for a moment rather than come up short (an underrun).
        let since = Instant::now();
        while since.elapsed() < TOP_UP_SPIN {
            std::hint::spin_loop();
            if let Some(n) = self.shared.try_flush() {
                return n;
            }
        }
        0
    }

    /// Samples ready to read now in the ring buffer (more may wait behind it: [`Self::read`]).
    pub fn available(&self) -> usize {
        self.consumer.occupied_len()
    }

    /// Samples read so far.
    pub fn samples_read(&self) -> u64 {
        self.read
    }

    /// The request is over and every sample has been read.
    pub fn is_done(&self) -> bool {
        self.shared.state().is_over() && self.consumer.is_empty()
    }

    /// The voice's sample rate, once a worker has started the request (0 before).
    pub fn sample_rate(&self) -> u32 {
        self.shared.sample_rate.load(Ordering::Relaxed)
    }
}

/// The caller's handle on one request. Dropping it cancels the request. `Send + Sync`, so it
/// can live in a game engine's components.
pub struct SpeechHandle {
    /// In a `Mutex` only to make the handle `Sync` (the ring buffer's consumer is not); reads
    /// take `&mut self` and never lock.
    reader: Mutex<Option<AudioReader>>,
    shared: Arc<Shared>,
    events: Receiver<Event>,
}

impl SpeechHandle {
    pub(crate) fn new(consumer: HeapCons<f32>, shared: Arc<Shared>, events: Receiver<Event>) -> Self {
        let reader = AudioReader { consumer, shared: shared.clone(), read: 0, offline: false };
        SpeechHandle { reader: Mutex::new(Some(reader)), shared, events }
    }

    fn reader_mut(&mut self) -> &mut Option<AudioReader> {
        self.reader.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads audio (see [`AudioReader::read`]); 0 once the reader was taken.
    pub fn read(&mut self, out: &mut [f32]) -> usize {
        self.reader_mut().as_mut().map_or(0, |r| r.read(out))
    }

    /// Samples ready to read now (0 once the reader was taken).
    pub fn available(&self) -> usize {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map_or(0, AudioReader::available)
    }

    /// Waits for the whole request (polling every millisecond) and returns its audio, or
    /// [`Error::TimedOut`] after `timeout`. For offline use (files, tests), not audio callbacks.
    /// Events are left in the channel; `state()` says how the request ended.
    pub fn read_to_end(&mut self, timeout: Duration) -> Result<Vec<f32>> {
        let (mut audio, mut buf, t0) = (Vec::new(), vec![0f32; 1 << 14], Instant::now());
        loop {
            let over = self.state().is_over();
            let n = self.read(&mut buf);
            audio.extend_from_slice(&buf[..n]);
            if n == 0 && over {
                return Ok(audio);
            }
            if t0.elapsed() > timeout {
                return Err(Error::TimedOut(timeout));
            }
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Takes the audio end, to read it on another thread (an audio callback).
    pub fn take_reader(&mut self) -> Option<AudioReader> {
        self.reader_mut().take()
    }

    /// Sets a live control; applies from the next window. Unknown names and NaN/∞ are errors.
    pub fn set_control(&self, name: &str, alpha: f32) -> Result<()> {
        self.shared.controls.set(name, alpha)
    }

    /// The current value of a live control.
    pub fn control(&self, name: &str) -> Option<f32> {
        self.shared.controls.get(name)
    }

    /// Stops the request: no new window is started after this (the one in progress finishes
    /// and is discarded). A [`Event::Cancelled`] follows.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Release);
    }

    /// Where the request is.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Samples the engine has put into the ring buffer so far.
    pub fn samples_written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Samples computed so far: in the ring buffer and the look-ahead behind it (which an α
    /// change may recompute, so this can go down). A reader can take this many without waiting.
    pub fn samples_computed(&self) -> u64 {
        self.shared.computed.load(Ordering::Acquire)
    }

    /// The voice's sample rate, once started (0 before).
    pub fn sample_rate(&self) -> u32 {
        self.shared.sample_rate.load(Ordering::Relaxed)
    }

    /// Time to first audio and to the end, so far.
    pub fn timing(&self) -> Timing {
        self.shared.timing()
    }

    /// Events so far, without waiting.
    pub fn events(&self) -> TryIter<'_, Event> {
        self.events.try_iter()
    }

    /// The event channel, to wait on (`recv`, `recv_timeout`) or `select` over.
    pub fn event_receiver(&self) -> &Receiver<Event> {
        &self.events
    }
}

impl Drop for SpeechHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

// A game engine keeps handles in its components (Bevy requires `Send + Sync`) and moves readers
// to its audio thread (`Send`).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<SpeechHandle>();
    send::<AudioReader>();
};
