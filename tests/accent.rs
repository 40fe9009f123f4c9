#![cfg(feature = "espeak")]
//! Accents: espeak-ng's English accent voices, mapped onto the symbols the voice learned.

mod common;

use tvtts::core::phonemize::accent::ACCENTS;
use tvtts::core::{Say, SynthesisOptions, Voice};

const TEXT: &str = "Bath time on the farm. What a lovely morning, the water was cold and the hour was late. \
Which car did you park near the church? Thirty-three girls heard the bird. Go home now, the loch is dark. \
Where are the three brothers? Tell them it's time to eat their dinner.";

fn voice() -> Voice {
    Voice::load(common::voice_path(), &candle_core::Device::Cpu).unwrap()
}

/// The embedding tells learned symbols from untrained ones: the symbols en-us text uses are
/// learned, the ones only other accents use (measured in shared/README: ɒ, r, ʉ, ʍ, ̪) are not.
#[test]
fn learned_symbols_come_from_the_embedding() {
    let v = voice();
    let learned = v.learned_symbols().unwrap();
    for c in "həlˈoʊðɛɹtɹævɚæθaɪmɑːkɪŋ,.?ˌ ".chars() {
        assert!(learned.contains(&c), "`{c}` is used by en-us text and must count as learned");
    }
    for c in ['ɒ', 'r', 'ʉ', 'ʍ', '\u{32a}'] {
        assert!(!learned.contains(&c), "`{c}` is not used by en-us and kept its initial embedding");
    }
}

/// Every accent reads text into learned symbols only (nothing the voice would speak as noise),
/// differs from the voice's own reading where the accent differs, and speaks.
#[test]
fn every_accent_speaks_in_learned_symbols() {
    let mut v = voice();
    let learned = v.learned_symbols().unwrap();
    let plain = v.phonemize(&Say::text(TEXT)).unwrap().join(" ");
    for (name, _, _) in ACCENTS {
        v.set_accent(name).unwrap();
        let got = v.phonemize(&Say::text(TEXT)).unwrap().join(" ");
        let strange: Vec<char> = got.chars().filter(|c| !learned.contains(c)).collect();
        assert!(strange.is_empty(), "accent {name}: unlearned symbols {strange:?} in {got}");
        if *name != "us" {
            assert_ne!(got, plain, "accent {name} reads like the plain voice");
        }
    }
    v.set_accent("scottish").unwrap();
    let ph = v.phonemize(&Say::text("Bath time on the farm.")).unwrap().join(" ");
    assert!(ph.contains("aːθ") && ph.contains("ɔn"), "Scottish length mark and lot vowel mapped: {ph}");
    // Scottish is rhotic: "her" and "were" keep an r that espeak-ng's IPA leaves out.
    let ph = v.phonemize(&Say::text("Her brother heard that we were late.")).unwrap().join(" ");
    assert!(ph.starts_with("heɹ") && ph.contains("hˈeɹd") && ph.contains("weɹ"), "Scottish r-coloured vowels: {ph}");
    let audio = v.synthesize(&Say::text("Bath time on the farm."), &SynthesisOptions::quiet()).unwrap();
    assert!(audio[0].audio.iter().fold(0f32, |m, x| m.max(x.abs())) > 0.05, "speaks");
    let e = v.set_accent("martian").unwrap_err().to_string();
    assert!(e.contains("martian") && e.contains("scottish"), "{e}");
}
