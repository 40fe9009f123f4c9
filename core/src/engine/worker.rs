//! Worker threads: take a job, run one step of it, hand it back. A panic inside a step is caught
//! and becomes that job's error; the worker goes on.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{Receiver, Sender};

use super::job::{Job, Step};
use super::EngineShared;
use crate::error::{Error, Result};

/// A job back from a worker with what its step did.
pub(super) type Stepped = (Box<Job>, Result<Step>);

/// Serves jobs from `work` until the dispatcher hangs up.
pub(super) fn run(engine: &EngineShared, work: &Receiver<Box<Job>>, done: &Sender<Stepped>) {
    for mut job in work.iter() {
        let result = catch_unwind(AssertUnwindSafe(|| job.step(engine))).unwrap_or_else(|payload| {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::Panicked(msg))
        });
        if done.send((job, result)).is_err() {
            break;
        }
    }
}
