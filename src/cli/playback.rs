//! A model of a real-time audio device reading a stream, to count underruns.
//!
//! The device starts when the first sample arrives and then asks for [`PERIOD`] samples every
//! `PERIOD / sample_rate` seconds, as an audio callback does. A callback that finds fewer
//! samples than it needs while the line is still being computed is an underrun (a real device
//! plays silence there).

use std::time::{Duration, Instant};

use tvtts::core::engine::{AudioReader, Event, SpeechHandle, State};

/// Samples per device callback (23 ms at 22.05 kHz, a common game-audio buffer).
pub const PERIOD: usize = 512;

/// When audio arrived: `(seconds since the request, samples available in all)`.
pub type Arrivals = Vec<(f64, u64)>;

/// Reads `handle` until it is over, noting when audio arrived; returns all samples and the
/// request's events. Until the first audio it sleeps on the event channel (the worker's first
/// window wakes it), so that the time to first audio is not shared with a polling loop; then it
/// looks every millisecond, so an arrival is noted at most 1 ms late (a 23 ms period is what
/// counts). Looking every 200 µs woke this thread 5,000 times a second, taking time from
/// synthesis; every millisecond before the first audio still cost ≈ 0.5 ms of it.
pub fn drain(handle: &mut SpeechHandle, arrivals: &mut Arrivals) -> (Vec<f32>, Vec<Event>) {
    let t0 = Instant::now();
    let mut audio = Vec::new();
    let mut events = Vec::new();
    let mut buf = vec![0f32; 1 << 14];
    loop {
        let over = handle.state().is_over();
        let n = handle.read(&mut buf);
        if n > 0 {
            audio.extend_from_slice(&buf[..n]);
            arrivals.push((t0.elapsed().as_secs_f64(), audio.len() as u64));
        } else if over {
            events.extend(handle.events());
            return (audio, events);
        } else if audio.is_empty() {
            // Any event wakes it (the first window's comes with its audio); the timeout covers
            // a request that ends without one.
            if let Ok(e) = handle.event_receiver().recv_timeout(FIRST_AUDIO_WAIT) {
                events.push(e);
            }
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Longest sleep on the event channel before the first audio.
const FIRST_AUDIO_WAIT: Duration = Duration::from_millis(20);

/// Underruns a device would have had playing audio that arrived as `arrivals` (total `total`
/// samples at `sample_rate`): each callback after the first sample takes up to [`PERIOD`]
/// samples; one that finds fewer before all `total` have arrived counts.
pub fn underruns(arrivals: &[(f64, u64)], total: u64, sample_rate: u32) -> usize {
    let Some(&(start, _)) = arrivals.first() else { return 0 };
    let period_s = PERIOD as f64 / sample_rate as f64;
    let (mut played, mut count, mut next) = (0u64, 0usize, 0usize);
    let mut tick = 0u64;
    while played < total {
        let t = start + tick as f64 * period_s;
        while next < arrivals.len() && arrivals[next].0 <= t {
            next += 1;
        }
        let available = if next == 0 { 0 } else { arrivals[next - 1].1 };
        let take = (available - played).min(PERIOD as u64);
        if take < PERIOD as u64 && available < total {
            count += 1;
        }
        played += take;
        tick += 1;
    }
    count
}

/// A device playing one request in real time (for live measurements with back-pressure).
pub struct Device {
    reader: AudioReader,
    buf: Vec<f32>,
    next_due: Option<Instant>,
    pub underruns: usize,
    pub played: u64,
}

impl Device {
    pub fn new(reader: AudioReader) -> Self {
        Device { reader, buf: vec![0.0; PERIOD], next_due: None, underruns: 0, played: 0 }
    }

    /// Runs the callbacks due by `now`; returns when the next one is due (None: not started).
    pub fn tick(&mut self, now: Instant, state: State) -> Option<Instant> {
        if self.next_due.is_none() && self.reader.available() > 0 {
            self.next_due = Some(now);
        }
        let period = Duration::from_secs_f64(PERIOD as f64 / self.reader.sample_rate().max(1) as f64);
        while let Some(due) = self.next_due.filter(|&d| d <= now) {
            let over = state.is_over();
            let n = self.reader.read(&mut self.buf);
            self.played += n as u64;
            if n < PERIOD && !over {
                self.underruns += 1;
            }
            self.next_due = Some(due + period);
        }
        self.next_due
    }

    /// Everything was played.
    pub fn is_done(&self) -> bool {
        self.reader.is_done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underruns_count_callbacks_that_find_too_little() {
        let sr = 22050;
        let p = PERIOD as f64 / sr as f64;
        // Everything at once: none.
        assert_eq!(underruns(&[(0.1, 10 * PERIOD as u64)], 10 * PERIOD as u64, sr), 0);
        // Two periods, then a gap of 3 periods before the rest: the 3rd..5th callbacks starve.
        let a = [(0.0, 2 * PERIOD as u64), (4.5 * p, 6 * PERIOD as u64)];
        assert_eq!(underruns(&a, 6 * PERIOD as u64, sr), 3);
    }
}
