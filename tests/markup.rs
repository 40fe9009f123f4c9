//! Inline markup on the bundled voice: a style switching mid-line at a word, breaks as exact
//! silence, rate and volume on the words inside their tags, lexicon entries, errors with line and
//! column, and the same audio and timings streamed or whole.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use candle_core::Device;
use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Request};
use tvtts::core::markup::Lexicon;
use tvtts::core::style::StyleVector;
use tvtts::core::timing::Timings;
use tvtts::core::{Error, Say, SynthesisOptions, Voice};

fn voice() -> Voice {
    Voice::load(common::voice_path(), &Device::Cpu).unwrap()
}

/// A line through the engine: its audio and timing track.
fn speak(engine: &Engine, text: &str, opts: SynthesisOptions, controls: Vec<(String, f32)>) -> (Vec<f32>, Timings) {
    let request = Request { controls, ..Request::text("joe", text).options(opts) };
    let mut h = engine.speak(request);
    let audio = h.read_to_end(Duration::from_secs(120)).unwrap();
    let mut t = Timings::default();
    for e in h.events() {
        match e {
            Event::Timings { timings, .. } => t.append(timings),
            Event::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    (audio, t)
}

/// A line spoken whole: audio and track.
fn whole(voice: &Voice, text: &str, opts: &SynthesisOptions) -> (Vec<f32>, Timings) {
    let mut audio = Vec::new();
    let mut t = Timings::default();
    for s in voice.synthesize(&Say::text(text), opts).unwrap() {
        t.append(s.timings.clone().shifted(audio.len() as u64));
        audio.extend_from_slice(&s.audio);
    }
    (audio, t)
}

fn word<'a>(t: &'a Timings, name: &str) -> &'a tvtts::core::timing::Span<String> {
    t.words.iter().find(|w| w.item == name).unwrap_or_else(|| panic!("no word `{name}` in {:?}", t.words))
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

fn excited() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vectors/excited.safetensors")
}

#[test]
fn a_style_switches_at_its_word_and_the_audio_before_is_the_unmarked_lines() {
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    let vector = StyleVector::load(excited()).unwrap();
    let (min, max) = vector.alpha_range;
    let spec = ControlSpec::new("excited", min, max).unwrap().with_style(Arc::new(vector), None);
    engine.add_voice("joe", voice(), vec![spec]).unwrap();
    // Noise on (seeded): the text side is drawn, and must be drawn the same before the switch.
    let opts = SynthesisOptions::default().seed(11);
    let plain = "We waited by the gate all night, and then the riders finally came home.";
    let marked = r#"We waited by the gate all night, and then <style name="excited" alpha="3">the riders finally came home</style>."#;
    let (a, ta) = speak(&engine, plain, opts, Vec::new());
    let (b, tb) = speak(&engine, marked, opts, Vec::new());
    let names = |t: &Timings| t.words.iter().map(|w| w.item.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ta), names(&tb), "the same words");
    // The switch lands on the second "the" (the one inside the tag).
    let switch = tb.words.iter().filter(|w| w.item == "the").nth(1).unwrap().start as usize;
    assert!(switch > 0 && switch < b.len());
    // Both are streamed, in windows that end at other frames (the marked line's at the
    // switch): equal within the streams' rounding before it.
    let first_diff = a.iter().zip(&b).position(|(x, y)| (x - y).abs() > common::STREAM_ROUNDING);
    assert!(first_diff.is_some_and(|d| d >= switch), "before the styled word (sample {switch}) the unmarked line; first difference at {first_diff:?}");
    let after = |x: &[f32]| x[switch..].to_vec();
    let n = a.len().min(b.len());
    assert!(n > switch);
    let diff = rms(&a[switch..n].iter().zip(&b[switch..n]).map(|(x, y)| x - y).collect::<Vec<_>>());
    assert!(diff > 0.1 * rms(&after(&a)), "the styled words sound different: rms diff {diff}");
    // A control the preset lacks is an error naming the tag's position.
    let mut h = engine.speak(Request::text("joe", r#"Go <style name="angry">now</style>."#));
    let _ = h.read_to_end(Duration::from_secs(60));
    let failed = h.events().into_iter().find_map(|e| if let Event::Failed(e) = e { Some(e.to_string()) } else { None });
    let failed = failed.expect("an unknown control fails the request");
    assert!(failed.contains("line 1, column 4") && failed.contains("angry"), "{failed}");
    // An α outside the control's range written in a line is an error, not silently clamped.
    let mut h = engine.speak(Request::text("joe", format!(r#"Go <style name="excited" alpha="{}">now</style>."#, max + 1.0)));
    let _ = h.read_to_end(Duration::from_secs(60));
    let failed = h.events().into_iter().find_map(|e| if let Event::Failed(e) = e { Some(e.to_string()) } else { None });
    let failed = failed.expect("an α outside the range fails the request");
    assert!(failed.contains("line 1, column 4") && failed.contains(&format!("[{min}, {max}]")), "{failed}");
}

#[test]
fn breaks_are_exact_silence_and_prosody_lands_on_its_words() {
    let voice = voice();
    let quiet = SynthesisOptions::quiet();
    let hop = voice.model.samples_per_frame() as u64;
    let rate = voice.sample_rate() as f64;
    let (plain, tp) = whole(&voice, "Take the left road, then walk north.", &quiet);
    let (first, _) = whole(&voice, "Take the left road,", &quiet);
    let (second, _) = whole(&voice, "then walk north.", &quiet);
    let (broken, tb) = whole(&voice, r#"Take the left road, <break time="700ms"/> then walk north."#, &quiet);
    // Two sentences and the silence between them.
    let silence = broken.len() as i64 - first.len() as i64 - second.len() as i64;
    assert!((silence - (0.7 * rate) as i64).abs() <= hop as i64, "break of {silence} samples");
    let gap = &broken[first.len()..first.len() + silence as usize];
    assert!(gap.iter().all(|&x| x == 0.0), "a break is silence");
    let pause = word(&tb, "then").start - word(&tb, "road").end;
    assert!(pause as f64 / rate >= 0.7, "the word track has the pause: {pause}");
    assert_eq!(tb.end, broken.len() as u64);

    // Slower and quieter inside the tag; the words around it as in the plain line.
    let (slow, ts) = whole(&voice, r#"Take the <prosody rate="50%" volume="-6dB">left road</prosody>, then walk north."#, &quiet);
    let len = |t: &Timings, w: &str| (word(t, w).end - word(t, w).start) as f64;
    for w in ["left", "road"] {
        let r = len(&ts, w) / len(&tp, w);
        assert!((1.8..=2.2).contains(&r), "`{w}` at half speed lasts {r}× as long");
    }
    for w in ["Take", "walk", "north"] {
        assert_eq!(len(&ts, w), len(&tp, w), "`{w}` is outside the tag");
    }
    let level = |x: &[f32], t: &Timings, w: &str| {
        let s = word(t, w);
        // Away from the ramps at the word's edges.
        rms(&x[s.start as usize + 300..s.end as usize - 300])
    };
    let ratio = level(&slow, &ts, "road") / level(&plain, &tp, "road");
    assert!((0.3..0.75).contains(&ratio), "-6 dB on a word spoken more slowly: level ratio {ratio}");

    // Pitch: the shifted words keep their length (±15 %: durations are whole frames) and the
    // line its words.
    let (high, th) = whole(&voice, r#"Take the <prosody pitch="+3st">left road</prosody>, then walk north."#, &quiet);
    for w in ["left", "road"] {
        let r = len(&th, w) / len(&tp, w);
        assert!((0.85..=1.15).contains(&r), "`{w}` a little higher lasts {r}× as long");
    }
    assert_eq!(th.end, high.len() as u64);
    assert_eq!(len(&th, "Take"), len(&tp, "Take"));
}

#[test]
fn lexicon_entries_and_phoneme_tags_are_spoken_and_named() {
    let mut voice = voice();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.lex");
    std::fs::write(&path, "# invented names\nZyxthar  zˈɪksθɑːɹ\n").unwrap();
    voice.set_lexicon(Lexicon::load(&path).unwrap()).unwrap();
    let plan = voice.plan(&Say::text("Beware of Zyxthar, the <phoneme ph=\"dɹˈæɡən\">wyrm</phoneme>.")).unwrap();
    let s = &plan.sentences[0];
    assert!(s.phonemes.contains("zˈɪksθɑːɹ") && s.phonemes.contains("dɹˈæɡən"), "{}", s.phonemes);
    let (audio, t) = whole(&voice, "Beware of Zyxthar, the <phoneme ph=\"dɹˈæɡən\">wyrm</phoneme>.", &SynthesisOptions::quiet());
    assert!(word(&t, "Zyxthar").end > word(&t, "Zyxthar").start);
    assert!(word(&t, "wyrm").end <= audio.len() as u64);
    // A symbol the voice has no id for: the error names the file and line.
    std::fs::write(&path, "ok  oʊkˈeɪ\nbad  b☃d\n").unwrap();
    let err = voice.set_lexicon(Lexicon::load(&path).unwrap()).unwrap_err().to_string();
    assert!(err.contains("names.lex:2:"), "{err}");
    // A symbol it has an id for but never learned (British LOT `ɒ`, trilled `r`): an error
    // naming the line and what to write instead.
    std::fs::write(&path, "ok  oʊkˈeɪ
brock  bɹˈɒk
rob  rˈɑːb
").unwrap();
    let err = voice.set_lexicon(Lexicon::load(&path).unwrap()).unwrap_err().to_string();
    assert!(err.contains("names.lex:2:") && err.contains("never learned") && err.contains("`ɔ`"), "{err}");
    std::fs::write(&path, "rob  rˈɑːb
").unwrap();
    let err = voice.set_lexicon(Lexicon::load(&path).unwrap()).unwrap_err().to_string();
    assert!(err.contains("names.lex:1:") && err.contains("`ɹ`"), "{err}");
    // The same symbol in markup's `<phoneme ph>`: an error at its line and column.
    match voice.plan(&Say::text("Meet\nmy friend <phoneme ph=\"bɹˈɒk\">Brock</phoneme>.")) {
        Err(Error::Markup { line, column, reason }) => {
            assert_eq!((line, column), (2, 27), "the column of `ɒ`: {reason}");
            assert!(reason.contains("never learned") && reason.contains("`ɔ`"), "{reason}");
        }
        other => panic!("expected a markup error, got {other:?}"),
    }
}

#[test]
fn markup_errors_name_line_and_column_and_plain_text_stays_plain() {
    let voice = voice();
    match voice.synthesize(&Say::text("Fine.\nNow <prosody rate=\"fast\" tone=\"x\">go</prosody>."), &SynthesisOptions::quiet()) {
        Err(Error::Markup { line, column, reason }) => {
            assert_eq!((line, column), (2, 26), "{reason}");
            assert!(reason.contains("tone"), "{reason}");
        }
        other => panic!("expected a markup error, got {other:?}"),
    }
    // `<` and `&` in a line without tags are text.
    let plan = voice.plan(&Say::text("Five < six & seven.")).unwrap();
    assert_eq!(plan.sentences[0].names, ["Five", "six", "seven"]);
}

#[test]
fn markup_streams_as_it_speaks_whole() {
    let voice = voice();
    let text = r#"Hello <emphasis>traveller</emphasis>. <break time="250ms"/>The <prosody rate="fast" volume="+3dB">road is <prosody pitch="-2st">long</prosody></prosody>, <sub alias="doctor">Dr.</sub> Smith."#;
    let opts = SynthesisOptions::default().seed(5);
    let (a, ta) = whole(&voice, text, &opts);
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("joe", voice, Vec::new()).unwrap();
    let (b, tb) = speak(&engine, text, opts, Vec::new());
    assert_eq!(ta, tb, "the same timing track");
    assert_eq!(a.len(), b.len());
    assert!(common::max_abs_diff(&a, &b) <= 1e-4, "streamed equals whole");
    assert!(tb.words.iter().any(|w| w.item == "Dr."), "{:?}", tb.words);
}
