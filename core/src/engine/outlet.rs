//! Where a job's results go: its events and its ring buffer. Computed audio waits in `pending`
//! until the ring buffer has room; the worker never waits on the consumer.

use std::sync::atomic::Ordering;

use crossbeam_channel::Sender;
use ringbuf::traits::{Observer, Producer};
use ringbuf::HeapProd;

use super::handle::{Event, Shared};

/// See the module doc.
pub(crate) struct Outlet {
    events: Sender<Event>,
    producer: HeapProd<f32>,
    /// Computed samples not yet in the ring buffer, from `pending_pos` on.
    pending: Vec<f32>,
    pending_pos: usize,
    /// Samples computed so far (in the ring buffer or pending).
    produced: u64,
}

impl Outlet {
    pub fn new(events: Sender<Event>, producer: HeapProd<f32>) -> Self {
        Outlet { events, producer, pending: Vec::new(), pending_pos: 0, produced: 0 }
    }

    /// Sends an event; a handle that is gone no longer listens, which is fine.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Samples computed so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Takes computed audio (to the ring buffer at the next [`Self::flush`]).
    pub fn push(&mut self, audio: &[f32]) {
        self.produced += audio.len() as u64;
        self.pending.extend_from_slice(audio);
    }

    /// Samples computed but not yet read: in the ring buffer plus pending.
    pub fn buffered(&self) -> usize {
        self.producer.occupied_len() + self.pending.len() - self.pending_pos
    }

    /// Whether computed audio still waits for room in the ring buffer.
    pub fn has_pending(&self) -> bool {
        self.pending_pos < self.pending.len()
    }

    /// Whether the consumer's side of the ring buffer is gone.
    pub fn consumer_gone(&self) -> bool {
        !self.producer.read_is_held()
    }

    /// Moves pending samples into the ring buffer as far as it has room, and tells `shared`;
    /// returns how many.
    pub fn flush(&mut self, shared: &Shared) -> usize {
        let n = self.producer.push_slice(&self.pending[self.pending_pos..]);
        self.pending_pos += n;
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
        }
        if n > 0 {
            shared.audio_arrived();
            shared.written.fetch_add(n as u64, Ordering::AcqRel);
        }
        n
    }
}
