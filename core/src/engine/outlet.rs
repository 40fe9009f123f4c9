//! Where a job's results go: its events, and its audio on the way to the listener.
//!
//! Audio computed ahead of the listener waits in two places. The ring buffer the listener reads
//! is short ([`super::EngineConfig::ring_samples`]), so what it holds is played soon; the rest
//! of the look-ahead waits behind it in the [`Lookahead`], where the engine may still replace it:
//! when α changes, the job recomputes from the first sample not yet in the ring and
//! [`Outlet::splice`]s the new audio in with a short crossfade. The ring is topped up from the
//! look-ahead by the worker that computes, by the dispatcher, and by the reader itself when it
//! runs low (with `try_lock`: it never waits).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;
use ringbuf::traits::{Observer, Producer};
use ringbuf::HeapProd;

use super::handle::{Event, Shared};

/// Audio computed but not yet in the ring buffer, and the ring buffer's producer. Samples move
/// from the front of `pending` into the ring only under the lock, so `written` and `pending`
/// agree whenever it is held: `pending[0]` is sample `written`.
pub(crate) struct Lookahead {
    producer: HeapProd<f32>,
    pending: VecDeque<f32>,
}

impl std::fmt::Debug for Lookahead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookahead").field("ring", &self.producer.occupied_len()).field("pending", &self.pending.len()).finish()
    }
}

impl Lookahead {
    pub fn new(producer: HeapProd<f32>) -> Self {
        Lookahead { producer, pending: VecDeque::new() }
    }

    /// Moves pending samples into the ring buffer as far as it has room; returns how many.
    /// Never allocates.
    pub fn flush(&mut self) -> usize {
        let (a, b) = self.pending.as_slices();
        let mut n = self.producer.push_slice(a);
        if n == a.len() {
            n += self.producer.push_slice(b);
        }
        self.pending.drain(..n);
        n
    }

    /// Whether the reader's side of the ring buffer is gone.
    pub fn consumer_gone(&self) -> bool {
        !self.producer.read_is_held()
    }

    /// Drops the pending audio.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The ring buffer's capacity.
    pub fn ring_capacity(&self) -> usize {
        self.producer.capacity().get()
    }
}

/// A span of computed audio and the α values it was computed with.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// First sample (counted from the request's first).
    pub start: u64,
    pub len: u64,
    /// The request's α values (as set, in request order); `None` for audio that does not
    /// depend on them (silence) or cannot be computed again in other values (baked audio,
    /// pitch-shifted spans).
    pub alphas: Option<Arc<[f32]>>,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// The job's side: events out, audio into the [`Lookahead`], and what each pending span is.
pub(crate) struct Outlet {
    events: Sender<Event>,
    shared: Arc<Shared>,
    /// Samples computed so far (in the ring buffer, read, or pending).
    produced: u64,
    /// The spans of audio not yet in the ring buffer (and the one the ring's end falls in).
    segments: VecDeque<Segment>,
}

impl Outlet {
    pub fn new(events: Sender<Event>, shared: Arc<Shared>) -> Self {
        Outlet { events, shared, produced: 0, segments: VecDeque::new() }
    }

    /// Sends an event; a handle that is gone no longer listens, which is fine.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Samples computed so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Samples in the ring buffer so far (the first not there is the first a splice may change).
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Takes computed audio: into the look-ahead, and the ring buffer as far as it has room.
    pub fn push(&mut self, audio: &[f32], alphas: Option<Arc<[f32]>>) {
        if audio.is_empty() {
            return;
        }
        self.segments.push_back(Segment { start: self.produced, len: audio.len() as u64, alphas });
        self.produced += audio.len() as u64;
        let mut la = self.shared.lock_lookahead();
        la.pending.extend(audio);
        self.shared.flushed(la.flush());
        drop(la);
        // Only now that they wait in the look-ahead: a reader told of these samples earlier (an
        // offline mix renders up to `samples_computed`) would look for them before they were
        // there, come up short, and the mix would get a gap.
        self.shared.computed.store(self.produced, Ordering::Release);
        self.forget_written();
    }

    /// Replaces the audio from the first sample not yet in the ring buffer on with `new` (whose
    /// first sample is `new_start`), crossfading old into new over `fade` samples, and drops
    /// the old audio after it. `segments` describe `new`. Returns the first sample that changed,
    /// or `None` (nothing changed) when `new` does not cover it and `fade` samples more: the
    /// ring buffer took more audio while `new` was computed.
    pub fn splice(&mut self, new_start: u64, new: &[f32], fade: usize, segments: Vec<Segment>) -> Option<u64> {
        let new_end = new_start + new.len() as u64;
        let mut la = self.shared.lock_lookahead();
        let at = self.written();
        if at < new_start || at + fade as u64 > new_end {
            return None;
        }
        let from = (at - new_start) as usize;
        for i in 0..fade {
            // Raised cosine: the gains of old and new sum to 1 (both are the same voice).
            let t = 0.5 - 0.5 * (std::f32::consts::PI * (i as f32 + 0.5) / fade as f32).cos();
            let new = new[from + i];
            match la.pending.get_mut(i) {
                Some(old) => *old = *old * (1.0 - t) + new * t,
                None => la.pending.push_back(new),
            }
        }
        la.pending.truncate(fade);
        la.pending.extend(&new[from + fade..]);
        self.shared.flushed(la.flush());
        drop(la);
        self.produced = new_end;
        self.shared.computed.store(self.produced, Ordering::Release);
        self.segments.retain_mut(|s| {
            s.len = s.len.min(at.saturating_sub(s.start));
            s.len > 0
        });
        self.segments.extend(segments.into_iter().filter_map(|mut s| {
            let cut = at.saturating_sub(s.start).min(s.len);
            s.start += cut;
            s.len -= cut;
            (s.len > 0).then_some(s)
        }));
        self.forget_written();
        Some(at)
    }

    /// The span the first sample not yet in the ring buffer belongs to, and the spans after it.
    pub fn unwritten(&self) -> impl Iterator<Item = &Segment> {
        let at = self.written();
        self.segments.iter().filter(move |s| s.end() > at)
    }

    /// Forgets the spans wholly in the ring buffer.
    fn forget_written(&mut self) {
        let at = self.written();
        while self.segments.front().is_some_and(|s| s.end() <= at) {
            self.segments.pop_front();
        }
    }

    /// Samples computed but not yet read: in the ring buffer plus pending.
    pub fn buffered(&self) -> usize {
        self.produced.saturating_sub(self.shared.read.load(Ordering::Acquire)) as usize
    }

    /// Whether computed audio still waits for room in the ring buffer.
    pub fn has_pending(&self) -> bool {
        self.produced > self.written()
    }

    /// Whether the consumer's side of the ring buffer is gone.
    pub fn consumer_gone(&self) -> bool {
        self.shared.lock_lookahead().consumer_gone()
    }

    /// The ring buffer's capacity.
    pub fn ring_capacity(&self) -> usize {
        self.shared.lock_lookahead().ring_capacity()
    }

    /// Moves pending samples into the ring buffer as far as it has room; returns how many.
    pub fn flush(&mut self) -> usize {
        let n = self.shared.flush();
        self.forget_written();
        n
    }
}
