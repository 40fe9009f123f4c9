//! One line's audio as a kira `Sound`: pops the engine's PCM from its lock-free ring buffer on
//! the audio thread, resamples it to the output rate, and reports progress through atomics.
//! `process` never blocks and never allocates (its chunk buffer is allocated up front).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kira::info::Info;
use kira::sound::{Sound, SoundData};
use kira::{interpolate_frame, Frame};
use tvtts_core::engine::AudioReader;

/// Samples pulled from the ring buffer at a time (≈ 12 ms at 22.05 kHz: what the sound holds
/// adds to how late an α change is heard).
const CHUNK: usize = 256;
/// Output frames of the fade-out when a line is stopped (≈ 5 ms at 48 kHz), against clicks.
const FADE_FRAMES: u32 = 256;

/// What the game thread sees of a playing line (shared with its sound, lock-free).
#[derive(Debug)]
pub struct Playback {
    consumed: AtomicU64,
    underruns: AtomicU64,
    stop: AtomicBool,
    finished: AtomicBool,
    /// When the line was handed to the mixer.
    created: Instant,
    /// Nanoseconds from `created` to the audio callback that took the first sample (0: none yet).
    first_sample_ns: AtomicU64,
}

impl Default for Playback {
    fn default() -> Self {
        Playback {
            consumed: AtomicU64::new(0),
            underruns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            created: Instant::now(),
            first_sample_ns: AtomicU64::new(0),
        }
    }
}

impl Playback {
    /// Source samples the sound has taken from the engine so far.
    pub fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Acquire)
    }
    /// When the audio callback took the line's first sample (to the callback, not to the frame
    /// in which the game hears of it); `None` before.
    pub fn first_sample_at(&self) -> Option<Instant> {
        let ns = self.first_sample_ns.load(Ordering::Acquire);
        (ns > 0).then(|| self.created + Duration::from_nanos(ns))
    }
    /// Audio callbacks that found no audio after the line's first sample.
    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }
    /// The sound has played its last sample (or faded out after [`Playback::stop`]).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
    /// Fades the sound out and ends it.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// A line to play: hand it to a kira track's `play`.
pub struct LineSoundData {
    pub reader: AudioReader,
    pub playback: Arc<Playback>,
}

impl SoundData for LineSoundData {
    type Error = std::convert::Infallible;
    type Handle = ();

    fn into_sound(self) -> Result<(Box<dyn Sound>, ()), Self::Error> {
        let sound = LineSound {
            reader: self.reader,
            playback: self.playback,
            chunk: vec![0.0; CHUNK].into_boxed_slice(),
            chunk_len: 0,
            chunk_pos: 0,
            window: [Frame::ZERO; 4],
            // Three samples are shifted in before the first output: window = [0, s0, s1, s2].
            position: 3.0,
            consumed: 0,
            tail: 0,
            fade: None,
            done: false,
        };
        Ok((Box::new(sound), ()))
    }
}

/// The playing sound (audio thread only).
struct LineSound {
    reader: AudioReader,
    playback: Arc<Playback>,
    chunk: Box<[f32]>,
    chunk_len: usize,
    chunk_pos: usize,
    /// Source samples around the output position: previous, current, next, next-but-one.
    window: [Frame; 4],
    /// Output position between `window[1]` and `window[2]`, in source samples (≥ 1: shift first).
    position: f64,
    consumed: u64,
    /// Zeros shifted in after the last sample, to play it out of the interpolation window.
    tail: u8,
    fade: Option<u32>,
    done: bool,
}

enum Pull {
    Sample(f32),
    /// Nothing buffered yet, more to come.
    Empty,
    /// Everything was played.
    End,
}

impl LineSound {
    fn pull(&mut self) -> Pull {
        if self.chunk_pos == self.chunk_len {
            // Check "done" before reading: samples written just before it was set are then read.
            let done = self.reader.is_done();
            self.chunk_len = self.reader.read(&mut self.chunk);
            self.chunk_pos = 0;
            if self.chunk_len == 0 {
                return if done { Pull::End } else { Pull::Empty };
            }
        }
        self.chunk_pos += 1;
        Pull::Sample(self.chunk[self.chunk_pos - 1])
    }

    fn shift(&mut self, s: f32) {
        self.window = [self.window[1], self.window[2], self.window[3], Frame::from_mono(s)];
        self.position -= 1.0;
    }

    /// Moves the window up to the output position. False: no frame can be produced now.
    fn advance(&mut self) -> bool {
        while self.position >= 1.0 {
            match self.pull() {
                Pull::Sample(s) => {
                    self.consumed += 1;
                    self.shift(s);
                }
                Pull::Empty => {
                    if self.consumed > 0 {
                        self.playback.underruns.fetch_add(1, Ordering::Relaxed);
                    }
                    return false;
                }
                Pull::End if self.tail < 2 => {
                    self.tail += 1;
                    self.shift(0.0);
                }
                Pull::End => {
                    self.done = true;
                    return false;
                }
            }
        }
        true
    }
}

impl Sound for LineSound {
    fn process(&mut self, out: &mut [Frame], dt: f64, _info: &Info) {
        let rate = self.reader.sample_rate();
        if self.fade.is_none() && self.playback.stop.load(Ordering::Acquire) {
            self.fade = Some(FADE_FRAMES);
        }
        // A request that ended before a worker took it (refused, failed, cancelled), or a stop
        // before its first sample: nothing will ever play, so the sound ends now.
        if rate == 0 && (self.fade.is_some() || self.reader.is_done()) {
            self.done = true;
        }
        let (mut written, silent_so_far) = (0, self.consumed == 0);
        if rate > 0 && !self.done {
            let step = rate as f64 * dt;
            for frame in out.iter_mut() {
                if !self.advance() {
                    break;
                }
                let [p, c, n1, n2] = self.window;
                let mut v = interpolate_frame(p, c, n1, n2, self.position as f32);
                if let Some(left) = self.fade {
                    if left == 0 {
                        self.done = true;
                        break;
                    }
                    v *= left as f32 / FADE_FRAMES as f32;
                    self.fade = Some(left - 1);
                }
                *frame = v;
                self.position += step;
                written += 1;
            }
        }
        out[written..].fill(Frame::ZERO);
        if silent_so_far && self.consumed > 0 {
            // This callback took the first sample. A clock read (vDSO): neither blocks nor allocates.
            let ns = self.playback.created.elapsed().as_nanos().clamp(1, u64::MAX as u128) as u64;
            self.playback.first_sample_ns.store(ns, Ordering::Release);
        }
        self.playback.consumed.store(self.consumed, Ordering::Release);
        if self.done {
            self.playback.finished.store(true, Ordering::Release);
        }
    }

    fn finished(&self) -> bool {
        self.done
    }
}
