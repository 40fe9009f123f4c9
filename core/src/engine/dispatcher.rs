//! The dispatcher thread: admits requests, decides which job a free worker computes next, moves
//! finished audio into ring buffers, and ends jobs (finished, cancelled, failed, stalled).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};

use super::handle::{Event, State};
use super::job::Job;
use super::worker::{Batch, Returned, Stepped};
use super::EngineShared;
use crate::error::Error;

/// How often parked jobs are looked at while their consumers drain the ring buffers (and α
/// changes are noticed). The ring buffer (≈ 46 ms by default) outlasts this, and readers top
/// it up themselves.
const POLL: Duration = Duration::from_millis(2);

/// How much of the longest recent step [`Dispatcher::step_time`] keeps per batch returned
/// (a half-life of about 35 batches: a second or so of a busy engine).
const STEP_TIME_DECAY: f64 = 0.98;

pub(super) struct Dispatcher {
    engine: Arc<EngineShared>,
    /// Waiting requests, one queue per priority (most urgent first).
    intake: Vec<Receiver<Job>>,
    shutdown: Receiver<()>,
    /// Jobs to workers, one batch per message (taken on shutdown, which ends the workers).
    work: Option<Sender<Batch>>,
    done: Receiver<Returned>,
    /// Admitted jobs not at a worker now (boxed: they move to and from workers by pointer).
    #[allow(clippy::vec_box)]
    active: Vec<Box<Job>>,
    /// Batches at a worker now (at most one per worker).
    running: usize,
    /// Jobs in those batches.
    running_jobs: usize,
    /// The longest step of late, decaying ([`STEP_TIME_DECAY`]): a listener is about to run
    /// dry when it could not wait for a busy worker and then have its own step computed.
    step_time: Duration,
}

impl Dispatcher {
    pub fn new(
        engine: Arc<EngineShared>,
        intake: Vec<Receiver<Job>>,
        shutdown: Receiver<()>,
        work: Sender<Batch>,
        done: Receiver<Returned>,
    ) -> Self {
        Dispatcher { engine, intake, shutdown, work: Some(work), done, active: Vec::new(), running: 0, running_jobs: 0, step_time: Duration::ZERO }
    }

    pub fn run(mut self) {
        while !matches!(self.shutdown.try_recv(), Err(TryRecvError::Disconnected)) {
            while let Ok((stepped, took)) = self.done.try_recv() {
                self.returned(stepped, took);
            }
            self.admit();
            self.tend();
            let jobs = self.active.len() + self.running_jobs;
            self.engine.load.store(jobs.div_ceil(self.engine.config.workers), Ordering::Relaxed);
            self.dispatch();
            self.wait();
        }
        self.stop();
    }

    /// Jobs back from a worker after a step of `took`: keep them, or end those that failed.
    fn returned(&mut self, batch: Vec<Stepped>, took: Duration) {
        self.step_time = took.max(self.step_time.mul_f64(STEP_TIME_DECAY));
        self.running -= 1;
        self.running_jobs -= batch.len();
        for (job, result) in batch {
            match result {
                Ok(_) => self.active.push(job),
                Err(e) => job.end(State::Failed, Event::Failed(e)),
            }
        }
    }

    /// Moves waiting requests in, most urgent queue first, up to `max_active` jobs.
    fn admit(&mut self) {
        'admit: while self.active.len() + self.running_jobs < self.engine.config.max_active {
            for queue in &self.intake {
                if let Ok(job) = queue.try_recv() {
                    self.active.push(Box::new(job));
                    continue 'admit;
                }
            }
            break;
        }
    }

    /// Flushes audio into ring buffers and ends jobs that are over.
    fn tend(&mut self) {
        let (timeout, ahead) = (self.engine.config.stall_timeout, self.engine.config.ahead_samples);
        self.active.retain_mut(|job| {
            if job.shared.cancel.load(Ordering::Acquire) || job.consumer_gone() {
                let samples = job.shared.written.load(Ordering::Acquire);
                job.end(State::Cancelled, Event::Cancelled { samples });
                return false;
            }
            job.flush();
            if job.computed_all && !job.has_pending() {
                let samples = job.shared.written.load(Ordering::Acquire);
                job.end(State::Finished, Event::Finished { samples });
                return false;
            }
            let full = job.has_pending() || job.buffered() >= ahead;
            if full && job.last_progress.elapsed() > timeout {
                job.end(State::Failed, Event::Failed(Error::Stalled(timeout.as_secs_f64())));
                return false;
            }
            true
        });
    }

    /// Whether a job should be computed now: work left and less than `ahead_samples` unread, or
    /// audio not yet in its ring buffer made with α values other than those set now.
    fn runnable(&self, job: &Job) -> bool {
        (!job.computed_all && job.buffered() < self.engine.config.ahead_samples) || job.wants_rewind(Instant::now())
    }

    /// Gives free workers the most urgent runnable jobs: highest priority, then those whose α
    /// changed (heard as soon as recomputed), then listeners about to run dry (an underrun is
    /// worse than a late start), then earliest deadline (the listener closest to running out
    /// of audio, or a new request's first audio; see [`Job::deadline`]). About to run dry:
    /// within `first_audio_target`, or within two of the longest recent steps if that is
    /// longer — the wait for a worker busy with another step, then its own step. (With one
    /// kernel thread per worker on a slow 2-core machine, 16 speakers' steps take ≈ 55 ms;
    /// 100 ms was then too little, and some of the crowd's first refills came late.)
    fn dispatch(&mut self) {
        let target = self.engine.config.first_audio_target;
        let dry_within = target.max(self.step_time * 2);
        while self.running < self.engine.config.workers {
            let next = (0..self.active.len())
                .filter(|&i| self.runnable(&self.active[i]))
                .min_by_key(|&i| {
                    let job = &self.active[i];
                    let now = Instant::now();
                    // A listener about to run dry comes before a new request's first audio.
                    let running_dry = job.shared.first_audio_at().is_some() && job.deadline(target) < now + dry_within;
                    (job.priority, !job.wants_rewind(now), !running_dry, job.deadline(target), job.id)
                });
            let Some(i) = next else { break };
            let workers = self.engine.config.workers;
            let load = (self.active.len() + self.running_jobs).div_ceil(workers);
            let first = self.active.swap_remove(i);
            let mut batch = vec![first];
            // Windows of other jobs of the same voice go along, most urgent first.
            if let Some(voice) = batch[0].batchable_palette().cloned().filter(|_| self.engine.config.max_batch > 1) {
                let mut others: Vec<usize> = (0..self.active.len())
                    .filter(|&j| self.runnable(&self.active[j]) && self.active[j].batchable_palette().is_some_and(|v| Arc::ptr_eq(v, &voice)))
                    .collect();
                others.sort_by_key(|&j| (self.active[j].priority, self.active[j].deadline(target), self.active[j].id));
                others.truncate(self.engine.config.max_batch - 1);
                others.sort_unstable_by(|a, b| b.cmp(a)); // remove from the back first
                batch.extend(others.into_iter().map(|j| self.active.swap_remove(j)));
            }
            for job in &mut batch {
                job.load = load;
            }
            let n = batch.len();
            let Some(work) = &self.work else { return };
            if let Err(e) = work.send(batch) {
                for job in e.0 {
                    job.end(State::Failed, Event::Failed(Error::ShutDown));
                }
                return;
            }
            self.running += 1;
            self.running_jobs += n;
        }
    }

    /// Sleeps until something can change: a worker returns, a request or shutdown arrives, or
    /// (while jobs wait on their consumers) the next poll.
    fn wait(&self) {
        let mut sel = Select::new();
        sel.recv(&self.done);
        sel.recv(&self.shutdown);
        if self.active.len() + self.running_jobs < self.engine.config.max_active {
            for queue in &self.intake {
                sel.recv(queue);
            }
        }
        let idle = self.running < self.engine.config.workers;
        // A consumer may have made room since `dispatch` looked: such a job must not wait for an
        // event that may never come (nothing running, no new request).
        if idle && self.active.iter().any(|j| self.runnable(j)) {
            return;
        }
        let waiting = self.active.iter().any(|j| j.has_pending() || (idle && !self.runnable(j)));
        if waiting {
            let _ = sel.ready_timeout(POLL);
        } else {
            sel.ready();
        }
    }

    /// Ends every job: the engine is going away.
    fn stop(&mut self) {
        for job in self.active.drain(..) {
            job.end(State::Failed, Event::Failed(Error::ShutDown));
        }
        self.work = None;
        while self.running > 0 {
            match self.done.recv() {
                Ok((batch, _)) => {
                    self.running -= 1;
                    for (job, _) in batch {
                        job.end(State::Failed, Event::Failed(Error::ShutDown));
                    }
                }
                Err(_) => break,
            }
        }
        for queue in &self.intake {
            for job in queue.try_iter() {
                job.end(State::Failed, Event::Failed(Error::ShutDown));
            }
        }
    }
}
