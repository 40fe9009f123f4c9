//! Text → phonemes → phoneme ids, the way Piper (piper-tts 1.8.0) does it.
//!
//! - [`EspeakPhonemizer`] (feature `espeak`, links the GPL libespeak-ng) turns text into IPA
//!   phonemes, one string per sentence, byte-identical to piper-tts for ordinary English text
//!   (known differences: see the `espeak` module).
//! - [`BuiltinPhonemizer`] (always built; no GPL code or data) makes the same conventions from
//!   the CMU Pronouncing Dictionary and g2p_en's model, with its own text normalisation.
//! - [`IpaPhonemizer`] takes the phonemes as given (baked at build time; no espeak-ng needed).
//! - [`accent::AccentPhonemizer`] reads English in one of espeak-ng's accents, mapped onto
//!   the symbols a voice learned.
//! - [`PhonemeIdMap`] turns a phoneme string into the ids the voice model reads.

pub mod accent;
mod builtin;
mod ids;

#[cfg(feature = "espeak")]
mod blocks;
#[cfg(feature = "espeak")]
mod clauses;
#[cfg(feature = "espeak")]
mod compat;
#[cfg(feature = "espeak")]
mod engine;
#[cfg(feature = "espeak")]
mod espeak;
#[cfg(feature = "espeak")]
mod ffi;
#[cfg(all(test, feature = "espeak"))]
mod piper_compare;
#[cfg(feature = "espeak")]
mod terminator;

#[cfg(feature = "espeak")]
pub use espeak::EspeakPhonemizer;
pub use builtin::BuiltinPhonemizer;
pub use ids::{PhonemeIdMap, PhonemeIds};

use crate::error::{Error, Result};

/// Something that turns text into IPA phonemes, one string per sentence.
pub trait Phonemizer: Send + Sync {
    /// IPA phonemes for `text`, one string per sentence, as Piper makes them. Empty/whitespace text → Ok(vec![]).
    ///
    /// # Errors
    /// When the phonemizer itself fails (e.g. espeak-ng cannot load its data or voice).
    fn phonemize(&self, text: &str) -> Result<Vec<String>>;
}

/// The phonemizers text can go through, by the names presets and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// espeak-ng (feature `espeak`; GPL-3.0-or-later at run time).
    Espeak,
    /// [`BuiltinPhonemizer`].
    Builtin,
}

impl Kind {
    /// `espeak` or `builtin`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "espeak" => Ok(Kind::Espeak),
            "builtin" => Ok(Kind::Builtin),
            other => Err(Error::invalid("phonemizer", format!("`{other}`: expected `espeak` or `builtin`"))),
        }
    }

    /// What a build without a choice uses: espeak-ng when it is built in, else the built-in one.
    pub fn default_for_build() -> Self {
        if cfg!(feature = "espeak") {
            Kind::Espeak
        } else {
            Kind::Builtin
        }
    }

    /// The phonemizer (`espeak_voice`: espeak-ng's voice name, from the voice's config).
    pub fn make(self, espeak_voice: &str) -> Result<Box<dyn Phonemizer>> {
        match self {
            #[cfg(feature = "espeak")]
            Kind::Espeak => Ok(Box::new(EspeakPhonemizer::new(espeak_voice)?)),
            #[cfg(not(feature = "espeak"))]
            Kind::Espeak => {
                let _ = espeak_voice;
                Err(Error::Phonemizer("this build has no espeak-ng (feature `espeak` off): use the built-in phonemizer".into()))
            }
            Kind::Builtin => Ok(Box::new(BuiltinPhonemizer::new()?)),
        }
    }
}

/// Phonemes given directly as IPA (studios bake them at build time and ship without espeak-ng).
///
/// Splits into sentences after `.`, `?`, `!` (keeping the mark; a run such as `?!` or `...`
/// stays together) and at newlines; trims each sentence; drops empty ones. Nothing else is
/// changed: the phonemes reach [`PhonemeIdMap::ids`] exactly as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpaPhonemizer;

impl Phonemizer for IpaPhonemizer {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        let mut sentences = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let ends = match c {
                '\n' | '\r' => true,
                '.' | '?' | '!' => {
                    current.push(c);
                    !matches!(chars.peek(), Some('.' | '?' | '!'))
                }
                _ => {
                    current.push(c);
                    false
                }
            };
            if ends {
                push_trimmed(&mut sentences, &current);
                current.clear();
            }
        }
        push_trimmed(&mut sentences, &current);
        Ok(sentences)
    }
}

/// Pushes `sentence` trimmed, unless that leaves nothing.
fn push_trimmed(sentences: &mut Vec<String>, sentence: &str) {
    let trimmed = sentence.trim();
    if !trimmed.is_empty() {
        sentences.push(trimmed.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipa(text: &str) -> Vec<String> {
        IpaPhonemizer.phonemize(text).unwrap()
    }

    #[test]
    fn ipa_splits_after_sentence_marks() {
        assert_eq!(
            ipa("həlˈoʊ ðˈɛɹ, tɹˈævəlɚ. hˈaʊ ɑːɹ juː? ɡɹˈeɪt!"),
            ["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ.", "hˈaʊ ɑːɹ juː?", "ɡɹˈeɪt!"]
        );
    }

    #[test]
    fn ipa_keeps_runs_of_marks_together() {
        assert_eq!(
            ipa("ɹˈiəli?! jˈɛs... nˈoʊ"),
            ["ɹˈiəli?!", "jˈɛs...", "nˈoʊ"]
        );
    }

    #[test]
    fn ipa_splits_at_newlines_and_trims() {
        assert_eq!(ipa("  həlˈoʊ \r\n\n wˈɜːld  \n"), ["həlˈoʊ", "wˈɜːld"]);
    }

    #[test]
    fn ipa_empty_and_blank_give_nothing() {
        assert!(ipa("").is_empty());
        assert!(ipa(" \n\t \r\n ").is_empty());
    }

    #[test]
    fn ipa_lone_marks_are_sentences() {
        assert_eq!(ipa(". ?"), [".", "?"]);
    }
}
