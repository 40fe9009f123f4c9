//! The timing track: the same streamed or whole, tiling the audio, words named from the text,
//! pauses in the word track quiet in the audio.

mod common;

use std::time::Duration;

use candle_core::Device;
use tvtts::core::engine::{Engine, EngineConfig, Event, Request};
use tvtts::core::timing::{Timings, Viseme};
use tvtts::core::{Say, SynthesisOptions, Voice};

const TEXT: &str = "Welcome to the Rusty Anchor, stranger. You look like you've been on the road for days. Sit down by the fire and warm yourself up.";

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn tracks_are_the_same_streamed_or_whole_and_tile_the_audio() {
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    // Default noise in prior and durations, fixed seed: durations are drawn, not fixed.
    let opts = SynthesisOptions::default().seed(7);
    let sentences = voice.synthesize(&Say::text(TEXT), &opts).unwrap();
    let mut whole = Timings::default();
    let mut audio_whole = Vec::new();
    for s in &sentences {
        assert_eq!(s.timings.end, s.audio.len() as u64, "a sentence's track ends with its audio");
        whole.append(s.timings.clone().shifted(audio_whole.len() as u64));
        audio_whole.extend_from_slice(&s.audio);
    }

    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("joe", voice, Vec::new()).unwrap();
    let mut h = engine.speak(Request::text("joe", TEXT).options(opts));
    let audio = h.read_to_end(Duration::from_secs(120)).unwrap();
    let mut streamed = Timings::default();
    let mut starts = Vec::new();
    for e in h.events() {
        match e {
            Event::SentenceStarted { start_sample, .. } => starts.push(start_sample),
            Event::Timings { timings, .. } => {
                assert_eq!(Some(&timings.start), starts.last(), "a track starts with its sentence");
                streamed.append(timings);
            }
            _ => {}
        }
    }
    assert_eq!(audio.len(), audio_whole.len());
    assert_eq!(streamed, whole, "streamed and whole synthesis give the same track");

    // Visemes tile the whole line; phonemes and words are in order inside it.
    let t = &streamed;
    assert_eq!((t.start, t.end), (0, audio.len() as u64));
    assert_eq!(t.visemes.first().unwrap().start, 0);
    assert!(t.visemes.windows(2).all(|w| w[0].end == w[1].start));
    assert_eq!(t.visemes.last().unwrap().end, audio.len() as u64);
    assert!(t.phonemes.windows(2).all(|w| w[0].end <= w[1].start));
    assert!(t.words.windows(2).all(|w| w[0].end <= w[1].start && w[0].start < w[0].end));

    // espeak-ng reads "on the" as one word: the text's 25 words are aligned by their
    // spellings, sentence by sentence as they stream.
    let names: Vec<&str> = t.words.iter().map(|w| w.item.as_str()).collect();
    assert_eq!(names.join(" "), TEXT.replace([',', '.'], ""), "every word, in order");

    // Where the word track pauses (≥ 100 ms), the audio is quiet; the words themselves are not.
    let rate = 22_050u64;
    let speech = rms(&audio);
    let mut pauses = 0;
    for w in t.words.windows(2) {
        let (a, b) = (w[0].end, w[1].start);
        if b - a >= rate / 10 {
            pauses += 1;
            // The middle of the pause (edges hold the decay and onset of the neighbours).
            let quarter = (b - a) / 4;
            let gap = rms(&audio[(a + quarter) as usize..(b - quarter) as usize]);
            assert!(gap < 0.1 * speech, "pause {a}..{b}: rms {gap} vs speech {speech}");
        }
    }
    assert!(pauses >= 2, "sentence ends pause ({pauses})");
    assert!(t.visemes.iter().any(|v| v.item.0 == Viseme::PP), "m and b close the lips somewhere");
}

