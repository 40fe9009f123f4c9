//! The streaming engine: streamed audio equals whole-sentence synthesis, controls reach the
//! worker, priorities, queue limits, cancellation, back-pressure, stalls, panics and bad input
//! all end in defined events.

mod common;

use std::time::{Duration, Instant};

use candle_core::Device;
use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Priority, Request, SpeechHandle, State};
use tvtts::core::phonemize::Phonemizer;
use tvtts::core::voice::config_path;
use tvtts::core::{Error, Say, SynthesisOptions, Voice};

const LONG: Duration = Duration::from_secs(120);
const M: &str = "The old bridge collapsed last winter, so you'll have to take the mountain pass if you want to reach the village before nightfall.";
const L: &str = "Welcome to the Rusty Anchor, stranger. You look like you've been on the road for days. Sit down by the fire and warm yourself up.";

fn quiet() -> SynthesisOptions {
    SynthesisOptions::quiet()
}

fn engine(config: EngineConfig) -> Engine {
    let engine = Engine::new(config).unwrap();
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    engine.add_voice("joe", voice, vec![ControlSpec::new("angry", -1.0, 3.0).unwrap()]).unwrap();
    engine
}

/// Reads until the request is over; returns the audio and every event.
fn read_all(h: &mut SpeechHandle) -> (Vec<f32>, Vec<Event>) {
    let start = Instant::now();
    let (mut audio, mut events, mut buf) = (Vec::new(), Vec::new(), vec![0f32; 4096]);
    loop {
        let n = h.read(&mut buf);
        audio.extend_from_slice(&buf[..n]);
        events.extend(h.events());
        if h.state().is_over() && h.available() == 0 {
            events.extend(h.events());
            return (audio, events);
        }
        assert!(start.elapsed() < LONG, "request did not end");
        if n == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Waits for the first event matching `pred`, collecting the others.
fn wait_for(h: &SpeechHandle, pred: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + LONG;
    loop {
        let e = h.event_receiver().recv_deadline(deadline).expect("event in time");
        if pred(&e) {
            return e;
        }
    }
}

fn wait_state(h: &SpeechHandle, pred: impl Fn(State) -> bool) {
    let start = Instant::now();
    while !pred(h.state()) {
        assert!(start.elapsed() < LONG, "state {:?} did not change", h.state());
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn streamed_audio_equals_whole_synthesis_with_marks() {
    let e = engine(EngineConfig::default());
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let text = format!("{M} {L}");
    let whole = voice.synthesize(&Say::text(&text), &quiet()).unwrap();
    let expected: Vec<f32> = whole.iter().flat_map(|s| s.audio.iter().copied()).collect();

    let mut h = e.speak(Request::text("joe", &text).options(quiet()));
    let (audio, events) = read_all(&mut h);
    assert_eq!(h.state(), State::Finished);
    assert_eq!(audio.len(), expected.len());
    let diff = common::max_abs_diff(&audio, &expected);
    assert!(diff <= 1e-4, "streamed vs whole: max abs diff {diff:e}");

    assert!(matches!(events[0], Event::Started { sample_rate: 22050 }), "{:?}", events[0]);
    let starts: Vec<u64> = events.iter().filter_map(|e| match e {
        Event::SentenceStarted { start_sample, .. } => Some(*start_sample),
        _ => None,
    }).collect();
    let mut at = 0u64;
    let expected_starts: Vec<u64> = whole.iter().map(|s| { let a = at; at += s.audio.len() as u64; a }).collect();
    assert_eq!(starts, expected_starts, "sentence marks");
    let windows = events.iter().filter(|e| matches!(e, Event::Window { .. })).count();
    assert!(windows > whole.len(), "sentences stream in several windows ({windows})");
    assert!(matches!(events.last(), Some(Event::Finished { samples }) if *samples == expected.len() as u64), "{:?}", events.last());
    assert_eq!(h.samples_written(), expected.len() as u64);
}

#[test]
fn live_controls_reach_the_next_window() {
    // Little is computed ahead, so the windows after the change are computed after it.
    let e = engine(EngineConfig { ahead_samples: 1, ..EngineConfig::with_workers(1) });
    let mut h = e.speak(Request::text("joe", M).options(quiet()).control("angry", 0.0));
    assert!(matches!(wait_for(&h, |e| matches!(e, Event::Window { .. })), Event::Window { ref controls, .. } if controls.iter().map(|(n, a)| (&**n, *a)).eq([("angry", 0.0)])));
    h.set_control("angry", 9.0).unwrap(); // clamped to the voice's range [−1, 3]
    assert_eq!(h.control("angry"), Some(9.0));
    assert!(h.set_control("sad", 1.0).is_err(), "unknown control");
    assert!(h.set_control("angry", f32::NAN).is_err());
    let (_, events) = read_all(&mut h);
    let after: Vec<f32> = events.iter().filter_map(|e| match e {
        Event::Window { controls, .. } => Some(controls[0].1),
        _ => None,
    }).collect();
    assert!(!after.is_empty() && after.iter().all(|&a| a == 3.0), "windows after the change: {after:?}");

    let h = e.speak(Request::text("joe", "Hi.").control("sad", 1.0));
    assert!(matches!(wait_for(&h, |e| matches!(e, Event::Failed(_))), Event::Failed(Error::Invalid { .. })));
}

#[test]
fn priorities_queue_limits_and_cancellation() {
    let e = engine(EngineConfig { queue_limit: 1, max_active: 1, ..EngineConfig::with_workers(1) });
    // A, unread, keeps the only active slot.
    let a = e.speak(Request::text("joe", M).priority(Priority::Ambient));
    wait_state(&a, |s| s == State::Speaking);
    let b = e.speak(Request::text("joe", "Ambient chatter.").priority(Priority::Ambient));
    let c = e.speak(Request::text("joe", "More chatter.").priority(Priority::Ambient));
    assert!(matches!(wait_for(&c, |_| true), Event::Dropped { limit: 1 }));
    assert_eq!(c.state(), State::Dropped);
    let mut u = e.speak(Request::text("joe", "Watch out!").priority(Priority::Urgent));
    assert_eq!(b.state(), State::Queued);
    // Cancelling A frees the slot: the urgent line goes before the ambient one queued earlier.
    let written = a.samples_written();
    a.cancel();
    assert!(matches!(wait_for(&a, |e| matches!(e, Event::Cancelled { .. })), Event::Cancelled { .. }));
    assert!(a.samples_written() <= written + 256 * 256, "at most one more window after cancel");
    wait_state(&u, |s| s != State::Queued);
    assert_eq!(b.state(), State::Queued, "urgent line admitted first");
    let (audio, _) = read_all(&mut u);
    assert_eq!(u.state(), State::Finished);
    assert!(audio.iter().any(|&s| s.abs() > 0.01));
    wait_state(&b, |s| s != State::Queued);
}

#[test]
fn slow_consumers_park_and_stalled_ones_fail() {
    let e = engine(EngineConfig { stall_timeout: Duration::from_millis(500), ..EngineConfig::with_workers(1) });
    // Nobody reads `idle`: it fills its buffer, then parks without holding the one worker...
    let idle = e.speak(Request::text("joe", format!("{M} {M} {M} {M}")));
    // ...so another request still gets served meanwhile.
    let mut other = e.speak(Request::text("joe", "Meanwhile, I still talk."));
    let (audio, _) = read_all(&mut other);
    assert_eq!(other.state(), State::Finished);
    assert!(!audio.is_empty());
    assert!(idle.samples_written() <= e.config().buffer_samples as u64);
    match wait_for(&idle, |e| matches!(e, Event::Failed(_))) {
        Event::Failed(Error::Stalled(s)) => assert!((s - 0.5).abs() < 1e-9),
        other => panic!("expected a stall, got {other:?}"),
    }
}

/// Panics on a given text, like a broken third-party phonemizer might.
struct Exploding;
impl Phonemizer for Exploding {
    fn phonemize(&self, text: &str) -> tvtts::core::Result<Vec<String>> {
        if text.contains("boom") {
            panic!("phonemizer exploded");
        }
        Ok(vec!["hˈaɪ.".into()])
    }
}

#[test]
fn a_panicking_request_fails_alone() {
    let e = engine(EngineConfig::with_workers(1));
    let path = common::voice_path();
    let config = tvtts::core::config::VoiceConfig::from_file(config_path(&path)).unwrap();
    e.add_voice("fragile", Voice::load_with(&path, config, Box::new(Exploding), &Device::Cpu).unwrap(), vec![]).unwrap();
    let bad = e.speak(Request::text("fragile", "boom"));
    match wait_for(&bad, |e| matches!(e, Event::Failed(_))) {
        Event::Failed(Error::Panicked(msg)) => assert!(msg.contains("exploded")),
        other => panic!("expected a panic error, got {other:?}"),
    }
    for voice in ["fragile", "joe"] {
        let mut ok = e.speak(Request::text(voice, "Still here."));
        let (audio, _) = read_all(&mut ok);
        assert_eq!(ok.state(), State::Finished, "{voice}");
        assert!(!audio.is_empty());
    }
}

#[test]
fn bad_input_gives_defined_events() {
    let e = engine(EngineConfig { max_text_bytes: 200_000, ..EngineConfig::default() });
    let failed = |req: Request| -> String {
        let h = e.speak(req);
        match wait_for(&h, |e| matches!(e, Event::Failed(_) | Event::Finished { .. })) {
            Event::Failed(err) => err.to_string(),
            other => panic!("expected a failure, got {other:?}"),
        }
    };
    // Empty text: finished, no audio.
    let mut h = e.speak(Request::text("joe", "  \n "));
    let (audio, events) = read_all(&mut h);
    assert!(audio.is_empty());
    assert!(matches!(events.last(), Some(Event::Finished { samples: 0 })));
    // A voice file missing at request time is named.
    let msg = failed(Request::text("/nowhere/missing-voice.onnx", "Hello."));
    assert!(msg.contains("missing-voice.onnx"), "{msg}");
    // NaN, infinite and negative scales.
    for (opts, what) in [
        (SynthesisOptions::default().noise_scale(f32::NAN), "noise_scale"),
        (SynthesisOptions::default().length_scale(f32::INFINITY), "length_scale"),
        (SynthesisOptions::default().noise_w(-1.0), "noise_w"),
    ] {
        let msg = failed(Request::text("joe", "Hello.").options(opts));
        assert!(msg.contains(what), "{msg}");
    }
    // A NaN initial control value.
    assert!(failed(Request::text("joe", "Hello.").control("angry", f32::NAN)).contains("angry"));
    // Text over the limit.
    assert!(failed(Request::text("joe", "a".repeat(300_000))).contains("bytes"));
    // 100 kB of text streams from its first sentence on, and cancels cleanly.
    let big = "The road is long, and the night is cold. ".repeat(2500);
    assert!(big.len() >= 100_000);
    let mut h = e.speak(Request::text("joe", big));
    let start = Instant::now();
    let mut buf = vec![0f32; 1024];
    while h.read(&mut buf) == 0 {
        assert!(start.elapsed() < LONG && !h.state().is_over(), "{:?}", h.events().collect::<Vec<_>>());
        std::thread::sleep(Duration::from_millis(1));
    }
    h.cancel();
    assert!(matches!(wait_for(&h, |e| matches!(e, Event::Cancelled { .. })), Event::Cancelled { .. }));
}

#[test]
fn windows_of_one_voice_batch_and_stay_exact() {
    let e = engine(EngineConfig { max_batch: 4, ..EngineConfig::with_workers(1) });
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let texts = [M, L, "Nobody who went down there last week has come back yet, so bring a good torch."];
    let mut handles: Vec<SpeechHandle> = texts.iter().map(|t| e.speak(Request::text("joe", *t).options(quiet()))).collect();
    let mut batched = 0;
    for (h, text) in handles.iter_mut().zip(texts) {
        let (audio, events) = read_all(h);
        let whole: Vec<f32> = voice.synthesize(&Say::text(text), &quiet()).unwrap().into_iter().flat_map(|s| s.audio).collect();
        assert_eq!(h.state(), State::Finished);
        let diff = common::max_abs_diff(&audio, &whole);
        assert!(diff <= 1e-4, "batched stream vs whole: {diff:e}");
        batched += events.iter().filter(|e| matches!(e, Event::Window { batch, .. } if *batch > 1)).count();
    }
    assert!(batched > 0, "some windows were computed in a batch");
}
