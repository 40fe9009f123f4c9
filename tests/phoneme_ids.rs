//! Our phonemes and ids equal the reference's (piper-tts 1.8.0) for the fixture texts.
#![cfg(feature = "espeak")]

mod common;

use candle_core::Device;
use tvtts::core::Say;
use tvtts::core::Voice;

#[test]
fn phonemes_and_ids_equal_piper() {
    let voice = Voice::load(common::voice_path(), &Device::Cpu).unwrap();
    for text in common::reference().texts {
        let ours = voice.phonemize(&Say::text(&text.text)).unwrap();
        let theirs: Vec<&str> = text.sentences.iter().map(|s| s.phonemes.as_str()).collect();
        assert_eq!(ours, theirs, "{}: phonemes differ", text.name);
        for (p, s) in ours.iter().zip(&text.sentences) {
            let ids = voice.ids.ids(p);
            assert!(ids.skipped.is_empty(), "{}: unknown phonemes {:?}", text.name, ids.skipped);
            assert_eq!(ids.ids, s.ids, "{}: ids differ", text.name);
        }
    }
}
