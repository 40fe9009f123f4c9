//! Worker threads: take a job, run one step of it, hand it back. A panic inside a step is caught
//! and becomes that job's error; the worker goes on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::job::{Job, Step};
use super::EngineShared;
use crate::error::{Error, Result};

/// Jobs a worker steps together (boxed: they move between threads by pointer).
#[allow(clippy::vec_box)]
pub(super) type Batch = Vec<Box<Job>>;

/// A job back from a worker with what its step did.
pub(super) type Stepped = (Box<Job>, Result<Step>);

/// A batch back from a worker, with how long its step took.
pub(super) type Returned = (Vec<Stepped>, Duration);

/// Serves batches of jobs from `work` (one step each; several jobs of one voice together, see
/// [`Job::step_batch`]) until the dispatcher hangs up.
pub(super) fn run(engine: &EngineShared, work: &Receiver<Batch>, done: &Sender<Returned>) {
    for mut jobs in work.iter() {
        let started = Instant::now();
        let results = catch_unwind(AssertUnwindSafe(|| match jobs.as_mut_slice() {
            [job] => vec![job.step(engine)],
            jobs => Job::step_batch(jobs, engine),
        }))
        .unwrap_or_else(|payload| {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            jobs.iter().map(|_| Err(Error::Panicked(msg.clone()))).collect()
        });
        if done.send((jobs.into_iter().zip(results).collect(), started.elapsed())).is_err() {
            break;
        }
    }
}
