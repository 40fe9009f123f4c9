//! The audio callback never allocates: a counting global allocator watches every `process` call
//! of a line's sound on the thread that makes them, over whole lines (including the fade-out of
//! a stopped one, and α changes that splice recomputed audio in), and counts zero allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kira::info::MockInfoBuilder;
use kira::sound::{Sound, SoundData};
use kira::Frame;
use tvtts_core::engine::{ControlSpec, Engine, EngineConfig, Event, Request};
use tvtts_core::style::StyleVector;
use tvtts_core::{SynthesisOptions, Voice};
use tvtts_plugin::audio::{LineSoundData, Playback};

/// Counts allocations made on threads that turned counting on.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn note() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Plays `sound` to its end in 512-frame callbacks at 48 kHz (waiting on synthesis when it runs
/// dry, as a real device would underrun), `stop` after `stop_after` callbacks, calling `between`
/// with the callback count between callbacks; returns the allocations made inside `process` and
/// the callbacks made.
fn play(sound: &mut dyn Sound, playback: &Playback, stop_after: Option<usize>, mut between: impl FnMut(usize)) -> (usize, usize) {
    let info = MockInfoBuilder::new().build();
    let mut out = vec![Frame::ZERO; 512];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut calls = 0;
    while !sound.finished() {
        assert!(start.elapsed() < Duration::from_secs(120), "the line did not end ({} consumed, {calls} calls)", playback.consumed());
        if stop_after == Some(calls) {
            playback.stop();
        }
        COUNTING.with(|c| c.set(true));
        sound.process(&mut out, 1.0 / 48_000.0, &info);
        COUNTING.with(|c| c.set(false));
        calls += 1;
        between(calls);
        std::thread::sleep(Duration::from_micros(200));
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before, calls)
}

#[test]
fn processing_a_line_allocates_nothing() {
    // The counter sees an allocation on this thread.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let probe = std::hint::black_box(vec![1u8; 64]);
    COUNTING.with(|c| c.set(false));
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > before, "the counting allocator counts");
    drop(probe);
    let voice = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/voices/en_US-joe-medium.onnx");
    let voice = Voice::load(voice, &EngineConfig::default().device).unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("joe", voice, Vec::new()).unwrap();
    // Phonemes: this crate's tests may run without espeak-ng.
    let phonemes = "hˈɔːlt! nˈoʊbədi ˈɛntɚz ðə vˈɪlɪdʒ ˈæftɚ dˈɑːɹk. ʃˈoʊ mˌiː ðə sˈiːl, ðˈɛn.";
    for stop_after in [None, Some(20)] {
        let mut handle = engine.speak(Request::phonemes("joe", phonemes).options(SynthesisOptions::quiet()));
        let reader = handle.take_reader().unwrap();
        let playback = Arc::new(Playback::default());
        let (mut sound, ()) = LineSoundData { reader, playback: playback.clone() }.into_sound().unwrap();
        let (allocations, calls) = play(sound.as_mut(), &playback, stop_after, |_| {});
        assert_eq!(allocations, 0, "allocations in {calls} process calls (stop after {stop_after:?})");
        if stop_after.is_none() {
            assert_eq!(playback.consumed(), handle.samples_written(), "the whole line was played");
            assert!(calls > 100, "{calls} calls");
        }
    }
}

#[test]
fn a_line_that_never_starts_ends_its_sound() {
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    let mut handle = engine.speak(Request::text("/nowhere/missing.onnx", "Hello."));
    let reader = handle.take_reader().unwrap();
    let playback = Arc::new(Playback::default());
    let (mut sound, ()) = LineSoundData { reader, playback: playback.clone() }.into_sound().unwrap();
    let (allocations, _) = play(sound.as_mut(), &playback, None, |_| {});
    assert_eq!(allocations, 0);
    assert!(playback.is_finished() && playback.consumed() == 0);
}

#[test]
fn alpha_changes_splice_in_without_allocating() {
    let voice = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/voices/en_US-joe-medium.onnx");
    let voice = Voice::load(voice, &EngineConfig::default().device).unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let vector = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/vectors/emotions/angry.safetensors");
    let vector = Arc::new(StyleVector::load(vector).unwrap());
    // Synthesis runs up to 2 s ahead, so each change recomputes audio already computed.
    let engine = Engine::new(EngineConfig { ahead_samples: 44_100, ..EngineConfig::with_workers(1) }).unwrap();
    engine.add_voice("joe", voice, vec![ControlSpec::new("angry", 0.0, 1.0).unwrap().with_style(vector, None)]).unwrap();
    let phonemes = "hˈɔːlt! nˈoʊbədi ˈɛntɚz ðə vˈɪlɪdʒ ˈæftɚ dˈɑːɹk. ʃˈoʊ mˌiː ðə sˈiːl, ðˈɛn.";
    let request = Request::phonemes("joe", phonemes).options(SynthesisOptions::quiet()).control("angry", 0.0);
    let mut handle = engine.speak(request);
    let reader = handle.take_reader().unwrap();
    let playback = Arc::new(Playback::default());
    let (mut sound, ()) = LineSoundData { reader, playback: playback.clone() }.into_sound().unwrap();
    // Every 20 callbacks (≈ 0.2 s of audio), between the sound's calls as a game would, α flips
    // once at least 8,192 samples wait behind the ring buffer (the sound waits for synthesis to
    // get that far ahead, however loaded the machine), and the sound waits until the engine has
    // spliced the recomputed audio in (a window reported from before the end of the window
    // reported before it). Once the last sentence is computed and less than that is left, α
    // stays.
    let last = phonemes.matches(['.', '!', '?']).count() - 1;
    let (mut seen, mut splices, mut alpha) = (Seen { end: 0, last, computed_all: false }, 0usize, 0.0);
    let (allocations, calls) = play(sound.as_mut(), &playback, None, |calls| {
        if calls % 20 != 0 {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let next = || handle.event_receiver().recv_deadline(deadline).expect("synthesis goes on within a minute");
        while handle.samples_computed() < handle.samples_written() + 8192 {
            if seen.computed_all {
                return;
            }
            splices += usize::from(seen.splice(next()));
        }
        alpha = 1.0 - alpha;
        handle.set_control("angry", alpha).unwrap();
        while !seen.splice(next()) {}
        splices += 1;
    });
    for e in handle.events() {
        splices += usize::from(seen.splice(e));
    }
    eprintln!("{splices} splices in {calls} callbacks");
    assert!(splices >= 2, "{splices} splices");
    assert_eq!(allocations, 0, "allocations in {calls} process calls with {splices} α changes");
    assert_eq!(playback.consumed(), handle.samples_written(), "the whole line was played");
}

/// What a line's events said so far: where the last window ended, and whether its last
/// sentence was computed.
struct Seen {
    end: u64,
    last: usize,
    computed_all: bool,
}

impl Seen {
    /// Notes `e`; whether it is a window that replaces audio after its own start (a splice): a
    /// window starts where the one before it ended, unless it replaces audio.
    fn splice(&mut self, e: Event) -> bool {
        match e {
            Event::Window { start_sample, samples, .. } => {
                let splice = start_sample < self.end;
                self.end = start_sample + samples as u64;
                splice
            }
            Event::SentenceFinished { index, .. } => {
                self.computed_all |= index == self.last;
                false
            }
            _ => false,
        }
    }
}
