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
/// One sentence of 90 words (≈ 24 s of audio).
const VERY_LONG: &str = "When the caravan finally reached the edge of the frozen valley, the old guide stopped beside the broken signpost, pointed toward the distant lights of the monastery, and told the weary travelers that they would have to cross the narrow bridge one at a time, keep their lanterns low so the wolves in the pines would not see them, and never look down at the black river below, because the last merchant who did so had dropped his pack, his map and his courage into the water all at once.";
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

/// One plain sentence, `text`, alone on a one-worker engine: checks its streamed audio and
/// timing track are whole synthesis' (seed `seed`: noise in durations and prior included) and
/// returns how many of its windows came before its timing track (the end of its text side).
fn windows_before_the_track(text: &str, seed: u64) -> usize {
    let e = engine(EngineConfig::with_workers(1));
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let opts = SynthesisOptions::default().seed(seed);
    let whole = voice.synthesize(&Say::text(text), &opts).unwrap();
    assert_eq!(whole.len(), 1);
    let mut h = e.speak(Request::text("joe", text).options(opts));
    let (audio, events) = read_all(&mut h);
    assert_eq!(audio.len(), whole[0].audio.len());
    let diff = common::max_abs_diff(&audio, &whole[0].audio);
    assert!(diff <= 1e-4, "streamed vs whole: max abs diff {diff:e}");
    let track = events.iter().position(|e| matches!(e, Event::Timings { index: 0, .. })).unwrap();
    let Event::Timings { timings, .. } = &events[track] else { unreachable!() };
    assert_eq!(timings, &whole[0].timings, "the same track as whole synthesis");
    events[..track].iter().filter(|e| matches!(e, Event::Window { sentence: 0, .. })).count()
}

/// A long plain sentence starts streaming before its text side is done (its first window's
/// event comes before its timing track: the durations of its first ids first, the rest after),
/// and still gives whole synthesis' audio and track.
#[test]
fn a_long_sentence_streams_before_its_text_side_ends() {
    assert!(windows_before_the_track(M, 11) >= 1, "the first window ran before the rest of the text side");
}

/// A sentence of ≈ 24 s alone on its worker: finishing its text side (the encoder's last layer
/// and the durations of its other ids, ≈ 40 ms on 2 cores) takes about as long as its first
/// window's audio (46 ms) lasts, and beginning it twice that, so its second window is computed
/// from the frames already known, before the rest (its timing track).
#[test]
fn a_very_long_sentences_second_window_comes_before_the_rest_of_its_text_side() {
    let before = windows_before_the_track(VERY_LONG, 12);
    assert!(before >= 2, "{before} window(s) before the rest of the text side; want the first two");
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
    assert!(idle.samples_written() <= e.config().ring_samples as u64);
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

/// Three requests of one voice on one worker: their windows are computed in batches and each
/// stream still equals its whole synthesis. A batch needs two jobs mid-sentence with work to do
/// at the same dispatch, and the dispatcher serves a listener running dry before a new request,
/// so on a machine slower than real time the first request would take every step. Hence nothing
/// is read until all three have their first audio (each parks at a 1 s look-ahead, which lets
/// the others start), and then the three are read together, so all have room at once; the
/// whole syntheses come after.
#[test]
fn windows_of_one_voice_batch_and_stay_exact() {
    let e = engine(EngineConfig { max_batch: 4, ahead_samples: 22_050, ..EngineConfig::with_workers(1) });
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let texts = [M, L, "Nobody who went down there last week has come back yet, so bring a good torch."];
    let mut handles: Vec<SpeechHandle> = texts.iter().map(|t| e.speak(Request::text("joe", *t).options(quiet()))).collect();
    let mut read: Vec<(Vec<f32>, Vec<Event>)> = texts.iter().map(|_| Default::default()).collect();
    let (start, mut buf) = (Instant::now(), vec![0f32; 4096]);
    while !handles.iter().all(|h| h.available() > 0 || h.state().is_over()) {
        assert!(start.elapsed() < LONG, "no first audio");
        std::thread::sleep(Duration::from_millis(1));
    }
    while !handles.iter().all(|h| h.state().is_over() && h.available() == 0) {
        let mut got = 0;
        for (h, (audio, events)) in handles.iter_mut().zip(&mut read) {
            let n = h.read(&mut buf);
            audio.extend_from_slice(&buf[..n]);
            events.extend(h.events());
            got += n;
        }
        assert!(start.elapsed() < LONG, "requests did not end");
        if got == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let mut batched = 0;
    for ((h, (audio, events)), text) in handles.iter().zip(&mut read).zip(texts) {
        events.extend(h.events());
        assert_eq!(h.state(), State::Finished, "{text}: {events:?}");
        let whole: Vec<f32> = voice.synthesize(&Say::text(text), &quiet()).unwrap().into_iter().flat_map(|s| s.audio).collect();
        let diff = common::max_abs_diff(audio, &whole);
        assert!(diff <= 1e-4, "batched stream vs whole: {diff:e}");
        batched += events.iter().filter(|e| matches!(e, Event::Window { batch, .. } if *batch > 1)).count();
    }
    assert!(batched > 0, "some windows were computed in a batch");
}

/// An engine whose voice `joe` has the shipped `angry` vector as a live control, α 0 to 1, and
/// synthesis running up to 4 s ahead of the listener. Mid-sentence only a style's decoder side
/// can change (the text side is fixed per sentence), and how much the shipped vector's decoder
/// part (level, tilt) changes is whatever learning found; so the control also carries a known
/// one: the decoder's output before its tanh halved (≈ −6 dB) at α 1.
fn angry_engine() -> Engine {
    use tvtts::core::learn::knobs::CONV_POST;
    use tvtts::core::style::{Group, Kind, StyleVector};
    let engine = Engine::new(EngineConfig { ahead_samples: 88_200, ..EngineConfig::with_workers(1) }).unwrap();
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vectors/emotions/angry.safetensors");
    let vector = std::sync::Arc::new(StyleVector::load(&path).unwrap());
    let half = (voice.model.parameters()[CONV_POST].clone() * -0.5).unwrap();
    let quieter = StyleVector::new(Kind::Weights, voice.weights_hash(), vec![Group::new("dec")], (0.0, 1.0), "the decoder's output at half its amplitude", [(CONV_POST.to_string(), half)].into_iter().collect());
    let angry = ControlSpec::new("angry", 0.0, 1.0).unwrap().with_style(vector, None).with_style(std::sync::Arc::new(quieter), None);
    engine.add_voice("joe", voice, vec![angry]).unwrap();
    engine
}

/// Reads exactly `n` samples (waiting for synthesis).
fn read_exactly(h: &mut SpeechHandle, n: usize) -> Vec<f32> {
    let (mut audio, start) = (vec![0f32; n], Instant::now());
    let mut got = 0;
    while got < n {
        got += h.read(&mut audio[got..]);
        assert!(start.elapsed() < LONG, "only {got} of {n} samples came");
        std::thread::sleep(Duration::from_millis(1));
    }
    audio
}

/// Largest sample-to-sample step of `x`.
fn max_step(x: &[f32]) -> f32 {
    x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max)
}

/// Takes the events until a window computed with `angry` = `alpha` is reported; returns its
/// first sample and the events before it.
fn window_with(h: &SpeechHandle, alpha: f32) -> (u64, Vec<Event>) {
    let mut before = Vec::new();
    let deadline = Instant::now() + LONG;
    loop {
        let event = h.event_receiver().recv_deadline(deadline);
        let Ok(event) = event else { panic!("the change was not reported; events: {before:?}") };
        match event {
            Event::Window { start_sample, controls, .. } if controls[0].1 == alpha => return (start_sample, before),
            e => before.push(e),
        }
    }
}

/// An α change is heard from the ring buffer's end: the audio computed ahead but not yet handed
/// to the reader is computed again in the new style and spliced in, the same as before the
/// splice, changed after it, as long as before, and without a jump at the splice. `skip`: how
/// far into the line the listener is when α changes, `ahead`: how much the engine must have
/// computed by then (past a sentence's end: the sentence before the one being computed is
/// recomputed, and the one after it follows again in the new style).
fn alpha_change_is_spliced(text: &str, skip: impl Fn(&[Event]) -> (usize, u64)) {
    let e = angry_engine();
    let request = || Request::text("joe", text).options(quiet()).control("angry", 0.0);
    let (old, _) = read_all(&mut e.speak(request()));
    let mut h = e.speak(request());
    let mut seen: Vec<Event> = Vec::new();
    let (listened, ahead) = loop {
        seen.extend(h.events());
        if let Some(at) = Some(skip(&seen)).filter(|a| a.0 > 0) {
            break at;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut audio = read_exactly(&mut h, listened);
    let start = Instant::now();
    while h.samples_computed() < ahead {
        assert!(start.elapsed() < LONG, "the engine did not run ahead");
        std::thread::sleep(Duration::from_millis(1));
    }
    // The ring buffer is full again (the engine tops it up as the reader makes room).
    let ring = e.config().ring_samples;
    while h.samples_written() < (listened + ring) as u64 {
        assert!(start.elapsed() < LONG, "the ring buffer was not topped up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let written = h.samples_written();
    assert!(h.samples_computed() > written + 8192, "audio waits behind the ring buffer");
    h.set_control("angry", 1.0).unwrap();
    let (at, before) = window_with(&h, 1.0);
    let (rest, after) = read_all(&mut h);
    // A sentence started after the change has its text side (durations too) in the new style.
    let changed_from = after.iter().find_map(|e| if let Event::SentenceStarted { start_sample, .. } = e { Some(*start_sample as usize) } else { None });
    let events: Vec<Event> = seen.into_iter().chain(before).chain(after).collect();
    audio.extend(rest);
    let at = at as usize;
    eprintln!("listened to {listened}, ring buffer's end {written}, computed {ahead}+, change from {at}");
    assert_eq!(at as u64, written, "the change starts at the ring buffer's end");
    assert!(at <= listened + e.config().ring_samples, "heard within the ring buffer");
    let same = changed_from.unwrap_or(old.len());
    assert!(same <= old.len() && same <= audio.len() && same >= at + 4096, "sentences started before the change keep their durations");
    if changed_from.is_none() {
        assert_eq!(audio.len(), old.len(), "the change keeps every duration");
    }
    // Untouched: the run without a change, within the rounding by which streams of other
    // windows differ (a splice would move it by far more).
    assert!(common::max_abs_diff(&audio[..at], &old[..at]) <= common::STREAM_ROUNDING, "audio before the splice is untouched");
    // After the crossfade, the new style's audio (computed the same way, it would be equal).
    let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
    let span = at + 256..(at + 22_050).min(same);
    let change: Vec<f32> = audio[span.clone()].iter().zip(&old[span.clone()]).map(|(a, b)| a - b).collect();
    let (change_e, old_e) = (energy(&change), energy(&old[span]));
    eprintln!("energy of the change {change_e:.2}, of the old audio {old_e:.2}");
    assert!(change_e > 0.01 * old_e, "the audio after the change is the old one: energy of the change {change_e}, of the audio {old_e}");
    // No jump at the splice beyond the signal's own steps around it.
    let splice = max_step(&audio[at - 1..at + 130]);
    let own = max_step(&old[at.saturating_sub(512)..at + 512]).max(max_step(&audio[at + 130..at + 1024]));
    eprintln!("largest step across the splice {splice:.4}, around it {own:.4}");
    assert!(splice <= own, "the splice jumps by {splice}, the signal itself by at most {own}");
    // Each sentence starts and finishes once, in order, even the one computed twice.
    let started: Vec<usize> = events.iter().filter_map(|e| if let Event::SentenceStarted { index, .. } = e { Some(*index) } else { None }).collect();
    let finished: Vec<usize> = events.iter().filter_map(|e| if let Event::SentenceFinished { index, .. } = e { Some(*index) } else { None }).collect();
    let sentences: Vec<usize> = (0..started.len()).collect();
    assert_eq!((&started, &finished), (&sentences, &sentences), "sentence events");
}

#[test]
fn an_alpha_change_recomputes_what_was_not_yet_handed_over() {
    // Mid-sentence: 0.2 s heard, 1.2 s computed.
    alpha_change_is_spliced(M, |_| (4410, 4410 + 22_050));
}

#[test]
fn an_alpha_change_near_a_sentence_end_recomputes_the_sentence_before() {
    // The listener is 0.3 s before the end of the first sentence while the second one is being
    // computed: the first is recomputed from there, then its silence, then the second again.
    alpha_change_is_spliced(L, |events| {
        let second = events.iter().find_map(|e| match e {
            Event::SentenceStarted { index: 1, start_sample, .. } => Some(*start_sample),
            _ => None,
        });
        match second {
            Some(s) => ((s as usize).saturating_sub(6615 + 4410).max(1), s + 8192),
            None => (0, 0),
        }
    });
}
