//! Bad files, bad settings and odd text give errors (naming the file and the cause) or defined
//! results — never a panic.

mod common;

use std::path::{Path, PathBuf};

use candle_core::Device;
use tvtts::core::Say;
use tvtts::core::{Error, SynthesisOptions, Voice};

/// A temporary voice made of `onnx` bytes and the real config.
fn fake_voice(dir: &Path, onnx: &[u8]) -> PathBuf {
    let real = common::voice_path();
    let path = dir.join("broken.onnx");
    std::fs::write(&path, onnx).unwrap();
    std::fs::copy(tvtts::core::voice::config_path(&real), tvtts::core::voice::config_path(&path)).unwrap();
    path
}

fn load_err(path: &Path) -> String {
    let err = Voice::load(path, &Device::Cpu).expect_err("loading must fail");
    let msg = err.to_string();
    assert!(msg.contains(&path.file_name().unwrap().to_string_lossy().to_string()), "error does not name the file: {msg}");
    msg
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    load_err(&dir.path().join("nope.onnx"));
    // Voice file present, config missing.
    let onnx = dir.path().join("lonely.onnx");
    std::fs::write(&onnx, b"x").unwrap();
    let msg = Voice::load(&onnx, &Device::Cpu).unwrap_err().to_string();
    assert!(msg.contains("lonely.onnx.json"), "{msg}");
}

#[test]
fn corrupt_truncated_empty_and_foreign_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read(common::voice_path()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage", (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("truncated", real[..real.len() / 3].to_vec()),
        ("text", b"this is not an onnx model at all\n".to_vec()),
    ];
    for (what, bytes) in cases {
        let path = fake_voice(dir.path(), &bytes);
        let msg = load_err(&path);
        eprintln!("{what}: {msg}");
        assert!(matches!(Voice::load(&path, &Device::Cpu), Err(Error::BadVoice { .. })), "{what}");
    }
}

#[test]
fn a_bad_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("v.onnx");
    std::fs::write(&onnx, b"unused").unwrap();
    for (what, json) in [("not json", "{"), ("no phoneme map", r#"{"audio": {"sample_rate": 22050}}"#)] {
        std::fs::write(tvtts::core::voice::config_path(&onnx), json).unwrap();
        let msg = Voice::load(&onnx, &Device::Cpu).unwrap_err().to_string();
        assert!(msg.contains("v.onnx.json"), "{what}: {msg}");
    }
}

#[test]
fn bad_scales_and_speakers_are_errors_and_odd_text_is_handled() {
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    let say = |input: Say, opts: SynthesisOptions| voice.synthesize(&input, &opts);
    let base = SynthesisOptions::quiet();
    for bad in [
        base.noise_scale(f32::NAN),
        base.noise_w(f32::INFINITY),
        base.length_scale(0.0),
        base.length_scale(-1.0),
        base.noise_scale(-0.5),
        base.speaker(1),
    ] {
        assert!(matches!(say(Say::text("Hi."), bad), Err(Error::Invalid { .. })), "{bad:?}");
    }
    // Empty and blank input: no sentences, no audio.
    for empty in ["", "   ", "\n\t"] {
        assert!(say(Say::text(empty), base).unwrap().is_empty());
        assert!(say(Say::phonemes(empty), base).unwrap().is_empty());
    }
    // Anything UTF-8: no panic, finite audio where there is something to say.
    for odd in ["🙂🔥 okay!", "ctrl\u{0}\u{7}\u{1b}[31m chars", "日本語のテキスト", "a\u{301}\u{302}", "...!?!", "\u{feff}BOM"] {
        let out = say(Say::text(odd), base).unwrap();
        assert!(out.iter().flat_map(|s| &s.audio).all(|v| v.is_finite()), "{odd:?}");
    }
    // A long text with no sentence end is cut into bounded pieces, not one huge sentence.
    let rambling = "and then the guard said nothing, ".repeat(40);
    let pieces = voice.phonemize(&Say::text(&rambling)).unwrap();
    assert!(pieces.len() > 1 && pieces.iter().all(|p| p.chars().count() <= tvtts::core::voice::MAX_SENTENCE_PHONEMES), "{}", pieces.len());
    // Unknown phonemes are skipped (Piper warns and goes on).
    let out = say(Say::phonemes("hə€lˈoʊ."), base).unwrap();
    assert_eq!(out.len(), 1);
    assert!(!out[0].audio.is_empty());
    assert_eq!(out[0].ids, voice.ids.ids("həlˈoʊ.").ids);
}
