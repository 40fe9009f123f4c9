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
use ringbuf::wrap::Wrap;
use ringbuf::{HeapProd, HeapRb};

use super::handle::{Event, Shared};

/// Audio computed but not yet in the ring buffer, and the ring buffer's producer.
///
/// The audio waits as the windows it was computed in, each one allocation the engine made, so
/// that whoever holds the lock does little: taking a window in or out moves a pointer, and only
/// [`Self::flush`] copies (at most the ring's room). A short hold matters because the reader on
/// the audio thread gives up when it finds the lock held (see `handle::TOP_UP_SPIN`): a worker
/// preempted while it held the lock for a whole window's copy made reads come up short. The
/// reader never frees either: windows it has emptied wait, as spent, for an engine thread to
/// take them ([`Self::take_spent`]) and drop them after the lock.
///
/// Samples move into the ring only under the lock, so `written` and the pending audio agree
/// whenever it is held: the first pending sample is sample `written`.
pub(crate) struct Lookahead {
    producer: HeapProd<f32>,
    /// Computed windows in order; the first `front` of them are spent.
    chunks: VecDeque<Vec<f32>>,
    front: usize,
    /// The first sample of `chunks[front]` not yet in the ring.
    cursor: usize,
    /// Samples not yet in the ring.
    pending: usize,
}

impl std::fmt::Debug for Lookahead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookahead").field("ring", &self.producer.occupied_len()).field("pending", &self.pending).finish()
    }
}

impl Lookahead {
    pub fn new(producer: HeapProd<f32>) -> Self {
        Lookahead { producer, chunks: VecDeque::new(), front: 0, cursor: 0, pending: 0 }
    }

    /// Moves pending samples into the ring buffer as far as it has room; returns how many.
    /// Never allocates, never frees.
    pub fn flush(&mut self) -> usize {
        let mut moved = 0;
        while let Some(chunk) = self.chunks.get(self.front) {
            let n = self.producer.push_slice(&chunk[self.cursor..]);
            moved += n;
            self.cursor += n;
            if self.cursor < chunk.len() {
                break;
            }
            (self.front, self.cursor) = (self.front + 1, 0);
        }
        self.pending -= moved;
        moved
    }

    /// Queues `chunk[from..]` behind the pending audio (`from` > 0 only when none is pending:
    /// a pending window is read from its start); false when that is empty (nothing queued).
    fn append(&mut self, chunk: Vec<f32>, from: usize) -> bool {
        debug_assert!(from == 0 || self.pending == 0, "a window queued behind pending audio is read whole");
        if from >= chunk.len() {
            return false;
        }
        if self.pending == 0 {
            (self.front, self.cursor) = (self.chunks.len(), from);
        }
        self.pending += chunk.len() - from;
        self.chunks.push_back(chunk);
        true
    }

    /// The pending samples, first to last.
    fn pending_samples(&self) -> impl Iterator<Item = &f32> {
        self.chunks.range(self.front..).enumerate().flat_map(|(k, c)| c[if k == 0 { self.cursor } else { 0 }..].iter())
    }

    /// Moves the spent windows (all in the ring) into `into`, to be dropped after the lock;
    /// returns how many.
    fn take_spent(&mut self, into: &mut Vec<Vec<f32>>) -> usize {
        let n = self.front;
        into.extend(self.chunks.drain(..n));
        self.front = 0;
        n
    }

    /// The ring buffer the producer fills.
    pub fn ring(&self) -> &Arc<HeapRb<f32>> {
        self.producer.rb_ref()
    }

    /// Drops the pending audio; returns it with the spent windows, to be dropped after the lock.
    pub fn clear(&mut self) -> VecDeque<Vec<f32>> {
        (self.front, self.cursor, self.pending) = (0, 0, 0);
        std::mem::take(&mut self.chunks)
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
    /// Where each window still in the look-ahead (spent or pending) ends, in order: the engine
    /// knows without the lock when the reader has emptied one.
    window_ends: VecDeque<u64>,
    /// Windows taken out of the look-ahead under its lock, dropped after it (kept for its
    /// capacity).
    spent: Vec<Vec<f32>>,
}

impl Outlet {
    pub fn new(events: Sender<Event>, shared: Arc<Shared>) -> Self {
        Outlet { events, shared, produced: 0, segments: VecDeque::new(), window_ends: VecDeque::new(), spent: Vec::with_capacity(8) }
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
    pub fn push(&mut self, audio: Vec<f32>, alphas: Option<Arc<[f32]>>) {
        if audio.is_empty() {
            return;
        }
        self.segments.push_back(Segment { start: self.produced, len: audio.len() as u64, alphas });
        self.produced += audio.len() as u64;
        self.window_ends.push_back(self.produced);
        let mut la = self.shared.lock_lookahead();
        la.append(audio, 0);
        self.shared.flushed(la.flush());
        let spent = la.take_spent(&mut self.spent);
        drop(la);
        self.window_ends.drain(..spent);
        self.spent.clear();
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
    pub fn splice(&mut self, new_start: u64, mut new: Vec<f32>, fade: usize, segments: Vec<Segment>) -> Option<u64> {
        let new_end = new_start + new.len() as u64;
        // Raised cosine: the gains of old and new sum to 1 (both are the same voice).
        let gains: Vec<f32> = (0..fade).map(|i| 0.5 - 0.5 * (std::f32::consts::PI * (i as f32 + 0.5) / fade as f32).cos()).collect();
        let mut la = self.shared.lock_lookahead();
        let at = self.written();
        if at < new_start || at + fade as u64 > new_end {
            return None;
        }
        let from = (at - new_start) as usize;
        for ((new, old), t) in new[from..].iter_mut().zip(la.pending_samples()).zip(&gains) {
            *new = *old * (1.0 - t) + *new * t;
        }
        let old = la.clear();
        let queued = la.append(new, from);
        self.shared.flushed(la.flush());
        drop(la);
        drop(old);
        self.window_ends.clear();
        self.window_ends.extend(queued.then_some(new_end));
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
        !self.shared.ring().read_is_held()
    }

    /// The ring buffer's capacity.
    pub fn ring_capacity(&self) -> usize {
        self.shared.ring().capacity().get()
    }

    /// Moves pending samples into the ring buffer as far as it has room, and frees the windows
    /// the reader has emptied; returns how many samples moved. Takes the look-ahead's lock only
    /// when there is something to do (the dispatcher calls this for every job every turn, and
    /// each hold is a chance for the reader to find the lock taken).
    pub fn flush(&mut self) -> usize {
        let room = self.has_pending() && !self.shared.ring().is_full();
        let spent = self.window_ends.front().is_some_and(|&end| end <= self.written());
        if !room && !spent {
            self.forget_written();
            return 0;
        }
        let mut la = self.shared.lock_lookahead();
        let n = la.flush();
        self.shared.flushed(n);
        let spent = la.take_spent(&mut self.spent);
        drop(la);
        self.window_ends.drain(..spent);
        self.spent.clear();
        self.forget_written();
        n
    }
}

#[cfg(test)]
mod tests {
    use ringbuf::traits::Split;
    use ringbuf::HeapRb;

    use super::*;
    use crate::engine::controls::Controls;
    use crate::engine::handle::{AudioReader, SpeechHandle};

    /// An outlet with a ring of `ring` samples, and its (real-time) reader.
    fn outlet(ring: usize) -> (Outlet, AudioReader, Arc<Shared>) {
        let (producer, consumer) = HeapRb::<f32>::new(ring).split();
        let shared = Arc::new(Shared::new(Controls::default(), Lookahead::new(producer)));
        let (tx, rx) = crossbeam_channel::unbounded();
        let reader = SpeechHandle::new(consumer, shared.clone(), rx).take_reader().expect("a reader");
        (Outlet::new(tx, shared.clone()), reader, shared)
    }

    fn ramp(from: usize, n: usize) -> Vec<f32> {
        (from..from + n).map(|i| i as f32).collect()
    }

    /// Reads up to `n` samples.
    fn read(reader: &mut AudioReader, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; n];
        let got = reader.read(&mut out);
        out.truncate(got);
        out
    }

    #[test]
    fn windows_reach_the_reader_in_order_across_their_boundaries() {
        let (mut out, mut reader, shared) = outlet(7);
        for (from, n) in [(0, 5), (5, 1), (6, 12), (18, 3)] {
            out.push(ramp(from, n), None);
        }
        assert_eq!(out.written(), 7, "the ring takes what it has room for");
        assert_eq!(format!("{:?}", shared.lock_lookahead()), "Lookahead { ring: 7, pending: 14 }");
        let mut all = Vec::new();
        for n in [3, 1, 9, 8] {
            all.extend(read(&mut reader, n));
        }
        assert_eq!(all, ramp(0, 21));
        assert!(!out.has_pending());
        assert!(read(&mut reader, 4).is_empty());
    }

    /// An engine thread that holds the look-ahead (preempted, say) makes a real-time read come up
    /// short instead of waiting for it; an offline reader waits and gets everything.
    #[test]
    fn a_real_time_reader_never_waits_for_the_look_ahead() {
        let (mut out, mut reader, shared) = outlet(4);
        out.push(ramp(0, 12), None);
        let (locked_tx, locked) = crossbeam_channel::bounded(0);
        let (release, release_rx) = crossbeam_channel::bounded::<()>(0);
        let holder = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let la = shared.lock_lookahead();
                locked_tx.send(()).unwrap();
                // Until the reader is done — or, if it waits for the lock, long enough to fail.
                let _ = release_rx.recv_timeout(std::time::Duration::from_secs(10));
                drop(la);
            })
        };
        locked.recv().unwrap();
        let mut buf = [0f32; 8];
        let n = reader.read(&mut buf);
        // (Gone if the holder gave up: the read waited for it.)
        let _ = release.send(());
        holder.join().unwrap();
        assert_eq!(&buf[..n], &ramp(0, 4)[..], "only the ring's samples while the look-ahead is held, at once");
        let n = reader.read(&mut buf);
        assert_eq!(&buf[..n], &ramp(4, 8)[..], "the rest once it is free");

        // Offline: the read waits for the holder and comes back whole.
        out.push(ramp(12, 12), None);
        reader.set_offline(true);
        let (locked_tx, locked) = crossbeam_channel::bounded(0);
        let holder = std::thread::spawn(move || {
            let la = shared.lock_lookahead();
            locked_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(la);
        });
        locked.recv().unwrap();
        let mut all = Vec::new();
        while all.len() < 12 {
            let n = reader.read(&mut buf);
            assert!(n > 0, "an offline read comes up short only where nothing is computed");
            all.extend_from_slice(&buf[..n]);
        }
        holder.join().unwrap();
        assert_eq!(all, ramp(12, 12));
    }

    #[test]
    fn spent_windows_are_freed_by_the_engine_not_the_reader() {
        let (mut out, mut reader, shared) = outlet(4);
        out.push(ramp(0, 5), None);
        out.push(ramp(5, 3), None);
        assert_eq!(read(&mut reader, 8), ramp(0, 8));
        // The reader emptied both windows; they stay until an engine thread takes them.
        assert_eq!(shared.lock_lookahead().chunks.len(), 2);
        out.flush();
        assert_eq!(shared.lock_lookahead().chunks.len(), 0);
        out.push(ramp(8, 2), None);
        assert_eq!(read(&mut reader, 2), ramp(8, 2));
    }

    #[test]
    fn a_splice_crossfades_at_the_rings_end_and_replaces_the_rest() {
        let (mut out, mut reader, _) = outlet(4);
        out.push(vec![1.0; 6], None);
        out.push(vec![1.0; 6], None);
        assert_eq!(read(&mut reader, 2), [1.0; 2]);
        out.flush();
        // The ring holds samples 2..6; the new audio starts at 3 (one sample before the first
        // the splice may change).
        let fade = 4;
        let at = out.splice(3, vec![-1.0; 9], fade, vec![Segment { start: 3, len: 9, alphas: None }]).expect("covers the ring's end");
        assert_eq!(at, 6);
        assert_eq!(out.produced(), 12);
        let heard = read(&mut reader, 20);
        assert_eq!(heard.len(), 10, "samples 2..12");
        assert_eq!(&heard[..4], [1.0; 4], "the ring's audio is kept");
        let faded = &heard[4..4 + fade];
        assert!(faded.windows(2).all(|w| w[1] < w[0]), "old fades into new: {faded:?}");
        assert!(faded[0] < 1.0 && faded[fade - 1] > -1.0);
        for (i, x) in faded.iter().enumerate() {
            let t = 0.5 - 0.5 * (std::f32::consts::PI * (i as f32 + 0.5) / fade as f32).cos();
            // old · (1 − t) + new · t with old = 1, new = −1.
            assert_eq!(*x, (1.0 - t) - t);
        }
        assert_eq!(&heard[4 + fade..], [-1.0; 2]);
        assert_eq!(out.unwritten().count(), 0);
        // New audio that no longer reaches past the ring's end changes nothing.
        out.push(vec![1.0; 3], None);
        assert_eq!(out.splice(0, vec![0.0; 13], fade, Vec::new()), None);
    }
}
