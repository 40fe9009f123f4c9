//! The real-time engine: many voices speaking at once, audio streamed while it is computed.
//!
//! ```text
//!  speak(Request) ──► intake queue (bounded, one per Priority) ──► dispatcher thread
//!        │                                                          │ picks the most urgent job
//!        ▼                                                          ▼
//!  SpeechHandle ◄── ring buffer (SPSC, lock-free) ◄── job.step() on one of N worker threads
//!   read(), set_control(), cancel(), events()                       (one window per step)
//! ```
//!
//! A request becomes a `job` that advances one window at a time. The dispatcher alone
//! decides which job runs next: among jobs whose ring buffer is below [`EngineConfig::ahead_samples`],
//! the highest [`Priority`] first, then the earliest deadline: when a speaking job's listener runs
//! out of audio, or for a new job, [`EngineConfig::first_audio_target`] after its request. A job whose consumer is slow is parked, not waited on (back-pressure costs no
//! worker); one whose consumer reads nothing for [`EngineConfig::stall_timeout`] fails.
//!
//! Outcomes of bad input, all as events on the handle, never a panic in the caller:
//! - empty or whitespace text: [`Event::Finished`] with 0 samples;
//! - text longer than [`EngineConfig::max_text_bytes`]: [`Event::Failed`] (sentences of long
//!   text are spoken one after another, each split below [`crate::voice::MAX_SENTENCE_PHONEMES`]);
//! - a voice that is neither added nor an existing file, or a corrupt one: `Failed`, naming the file;
//! - NaN, infinite or negative scales, unknown control names in the request: `Failed`;
//! - control values: NaN/∞ are refused by [`SpeechHandle::set_control`], finite ones are clamped
//!   to the voice's [`ControlSpec`] range when applied; a markup `<style>` α outside that range
//!   is `Failed`, naming its line and column;
//! - a full queue: [`Event::Dropped`]; a panic inside a request: `Failed` ([`Error::Panicked`]);
//! - a consumer that never reads: `Failed` ([`Error::Stalled`]) after `stall_timeout`.

pub mod controls;
mod dispatcher;
pub mod handle;
mod job;
mod outlet;
pub mod request;
mod speaking;
mod voices;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use candle_core::Device;
use crossbeam_channel::{bounded, unbounded, Sender, TrySendError};
use ringbuf::traits::Split;
use ringbuf::HeapRb;

pub use controls::{ControlValues, Controls};
pub use handle::{AudioReader, Event, SpeechHandle, State, Timing};
use job::Job;
pub use request::{Priority, Request};
pub use crate::style::{BoundStyle, ControlSpec, Palette};
pub use crate::voice::Say;
use voices::Voices;

use crate::error::{Error, Result};
use crate::model::stream::WindowSchedule;
use crate::voice::Voice;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where voices loaded by path are put (added voices keep their own device).
    pub device: Device,
    /// Worker threads (default: physical cores).
    pub workers: usize,
    /// Threads each kernel may use (default: physical cores / workers, at least 1). See
    /// [`crate::threads`] for the policy. Only the first engine of a process sets it.
    pub kernel_threads: usize,
    /// Requests waiting per priority before new ones are dropped.
    pub queue_limit: usize,
    /// Requests computed at once; more wait in the queue.
    pub max_active: usize,
    /// Window sizes of streaming.
    pub windows: WindowSchedule,
    /// Most jobs of one voice whose windows a worker computes as one batch (1: no batching).
    /// Batching pays on a GPU (one kernel launch for many speakers); on the CPU the kernels
    /// loop over the batch anyway, so the default is 1 there and 8 on CUDA.
    pub max_batch: usize,
    /// Capacity of the ring buffer each request's reader (an audio thread) takes samples from,
    /// in samples. What it holds is played before an α change can be heard; the rest of the
    /// look-ahead waits behind it, where an α change recomputes it (see `outlet.rs`).
    pub ring_samples: usize,
    /// A job is not given more work while this many samples wait unread (ring buffer and
    /// look-ahead): what protects a listener from underruns while other jobs compute.
    pub ahead_samples: usize,
    /// Time to first audio aimed at: a new request's deadline when choosing what to compute next.
    /// Speakers already talking whose audio would run out sooner go first, so a crowd starting
    /// at once does not starve those already speaking.
    pub first_audio_target: Duration,
    /// A consumer that makes no room for this long fails its request.
    pub stall_timeout: Duration,
    /// Longest text (bytes) a request may carry.
    pub max_text_bytes: usize,
    /// Nice value of the worker threads (and the kernel threads they start), 0–19 (Linux; 0, the
    /// default: unchanged). Above the game's, its frames come first when both want every core —
    /// but synthesis then gets little CPU while the game's threads are busy, and underruns.
    pub worker_nice: i32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let cores = crate::threads::physical_cores();
        EngineConfig {
            device: Device::Cpu,
            workers: cores,
            kernel_threads: 1,
            queue_limit: 64,
            max_active: 32,
            windows: WindowSchedule::default(),
            max_batch: 1,
            // ≈ 23 ms at 22.05 kHz: refilled by the reader itself as it runs low.
            ring_samples: 512,
            ahead_samples: 44_100,
            first_audio_target: Duration::from_millis(100),
            stall_timeout: Duration::from_secs(30),
            max_text_bytes: 1 << 20,
            worker_nice: 0,
        }
    }
}

impl EngineConfig {
    /// The defaults for `device`: on CUDA one worker batching up to 8 jobs; on the CPU one
    /// worker per physical core, unbatched.
    pub fn for_device(device: Device) -> Self {
        if device.is_cuda() {
            EngineConfig { device, workers: 1, max_batch: 8, ..Default::default() }
        } else {
            EngineConfig { device, ..Default::default() }
        }
    }

    /// `workers` workers, each with `physical cores / workers` kernel threads.
    pub fn with_workers(workers: usize) -> Self {
        let workers = workers.max(1);
        EngineConfig { workers, kernel_threads: (crate::threads::physical_cores() / workers).max(1), ..Default::default() }
    }

    fn validate(&self) -> Result<()> {
        self.windows.validate()?;
        if !(0..=19).contains(&self.worker_nice) {
            return Err(Error::invalid("engine config", format!("worker_nice {} (must be 0..=19)", self.worker_nice)));
        }
        for (what, v) in [
            ("workers", self.workers),
            ("kernel_threads", self.kernel_threads),
            ("queue_limit", self.queue_limit),
            ("max_active", self.max_active),
            ("max_batch", self.max_batch),
            ("ring_samples", self.ring_samples),
        ] {
            if v == 0 {
                return Err(Error::invalid("engine config", format!("{what} must be at least 1")));
            }
        }
        Ok(())
    }
}

/// What the dispatcher and workers share.
pub(crate) struct EngineShared {
    pub config: EngineConfig,
    pub voices: Voices,
    /// Jobs per worker as the dispatcher last counted them (admitted, waiting or at a worker):
    /// a step reads it to size a line's first window by the crowd now, not the one it was
    /// handed out in.
    pub load: std::sync::atomic::AtomicUsize,
    /// The recent compute time of one frame of a line's first window, in nanoseconds (0 before
    /// any; [`Self::note_window`]): a crowd's first windows are sized by it. Only first windows
    /// count: a frame of a long refill costs less (its stages' fixed costs and halos spread
    /// over more frames: 0.66 ms in a 256-frame window on the Zen 4 VM, 0.77 ms in a 32-frame
    /// first window), and sized by that, 16 first windows after a busy spell came out short.
    pub frame_ns: std::sync::atomic::AtomicU64,
}

impl EngineShared {
    /// A line's first window of `frames` took `took`: folds its time per frame into
    /// `frame_ns`, an average over the last ten or so (two workers storing at once may drop
    /// one; it is a sizing hint).
    pub fn note_window(&self, took: std::time::Duration, frames: usize) {
        if frames == 0 {
            return;
        }
        let ns = u64::try_from(took.as_nanos() / frames as u128).unwrap_or(u64::MAX);
        let old = self.frame_ns.load(std::sync::atomic::Ordering::Relaxed);
        let new = if old == 0 { ns } else { old.saturating_mul(9).saturating_add(ns) / 10 };
        self.frame_ns.store(new, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The streaming engine. Dropping it stops its threads; requests still running end with
/// [`Error::ShutDown`].
pub struct Engine {
    shared: Arc<EngineShared>,
    intake: Vec<Sender<Job>>,
    shutdown: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    next_id: AtomicU64,
}

impl Engine {
    /// Starts the dispatcher and `config.workers` workers (and makes the process keep freed
    /// memory for reuse: [`crate::memory::keep_freed_memory`]; each worker maps some heap in
    /// before its first job: [`crate::memory::warm_thread_heap`]).
    pub fn new(config: EngineConfig) -> Result<Self> {
        config.validate()?;
        crate::threads::set_kernel_threads(config.kernel_threads);
        crate::memory::keep_freed_memory();
        let shared = Arc::new(EngineShared { config, voices: Voices::default(), load: Default::default(), frame_ns: Default::default() });
        let (intake, intake_rx): (Vec<_>, Vec<_>) = Priority::ALL.iter().map(|_| bounded(shared.config.queue_limit)).unzip();
        let (shutdown, shutdown_rx) = bounded(0);
        let (work_tx, work_rx) = unbounded();
        let (done_tx, done_rx) = unbounded();
        let mut threads = Vec::new();
        for i in 0..shared.config.workers {
            let (shared, work_rx, done_tx) = (shared.clone(), work_rx.clone(), done_tx.clone());
            threads.push(spawn(format!("tvtts-worker-{i}"), move || {
                crate::device::bind_to_this_thread(&shared.config.device);
                crate::threads::lower_this_thread(shared.config.worker_nice);
                crate::memory::warm_thread_heap(crate::memory::WORKER_HEAP_WARMUP);
                worker::run(&shared, &work_rx, &done_tx)
            })?);
        }
        let d = dispatcher::Dispatcher::new(shared.clone(), intake_rx, shutdown_rx, work_tx, done_rx);
        let device = shared.config.device.clone();
        threads.push(spawn("tvtts-dispatcher".into(), move || {
            // It drops ended jobs' tensors: see `bind_to_this_thread`.
            crate::device::bind_to_this_thread(&device);
            d.run()
        })?);
        Ok(Engine { shared, intake, shutdown: Some(shutdown), threads, next_id: AtomicU64::new(0) })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Adds a loaded voice under `name`, accepting the live `controls` (their style vectors
    /// must have been made for this voice).
    pub fn add_voice(&self, name: &str, voice: impl Into<Arc<Voice>>, controls: Vec<ControlSpec>) -> Result<()> {
        self.shared.voices.add(name, voice, controls)
    }

    /// Adds (or replaces) `name` as a palette built by the caller (e.g. with a lexicon:
    /// [`Palette::with_lexicon`]).
    pub fn add_palette(&self, name: &str, palette: Palette) {
        self.shared.voices.insert(name, palette);
    }

    /// Forgets the voice added as `name`; requests already using it finish with it. True if it was there.
    pub fn remove_voice(&self, name: &str) -> bool {
        self.shared.voices.remove(name)
    }

    /// The voice `key` (an added name or a `.onnx` path, loaded now if needed) with its controls.
    pub fn voice(&self, key: &str) -> Result<Arc<Palette>> {
        self.shared.voices.get(key, &self.shared.config.device)
    }

    /// Queues `request` and returns its handle at once. Whatever happens next (including
    /// refusal) is reported through the handle's state and events.
    pub fn speak(&self, request: Request) -> SpeechHandle {
        let (events_tx, events_rx) = unbounded();
        let controls = Controls::new(&request.controls);
        let (producer, consumer) = HeapRb::<f32>::new(self.shared.config.ring_samples).split();
        let lookahead = outlet::Lookahead::new(producer);
        let shared = Arc::new(handle::Shared::new(controls.as_ref().cloned().unwrap_or_default(), lookahead));
        let handle = SpeechHandle::new(consumer, shared.clone(), events_rx);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let priority = request.priority;
        let job = Job::new(id, request, shared, events_tx);
        if let Err(e) = controls.and_then(|_| self.check(&job)) {
            job.end(State::Failed, Event::Failed(e));
            return handle;
        }
        match self.intake[priority as usize].try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => job.end(State::Dropped, Event::Dropped { limit: self.shared.config.queue_limit }),
            Err(TrySendError::Disconnected(job)) => job.end(State::Failed, Event::Failed(Error::ShutDown)),
        }
        handle
    }

    /// Checks of a request that need no voice.
    fn check(&self, job: &Job) -> Result<()> {
        let req = job.request();
        if req.say.len() > self.shared.config.max_text_bytes {
            return Err(Error::invalid("text", format!("{} bytes (at most {})", req.say.len(), self.shared.config.max_text_bytes)));
        }
        req.options.scales.validate()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown.take();
        self.intake.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(f)
        .map_err(|e| Error::invalid("engine", format!("cannot start thread {name}: {e}")))
}
