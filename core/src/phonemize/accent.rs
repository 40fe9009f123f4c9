//! Phoneme-level accents: English read with one of espeak-ng's accent voices, its symbols the
//! voice never learned mapped to the nearest ones it did.
//!
//! A voice trained on en-us phonemes has ids for every symbol of Piper's map, but learned only
//! those its training data used; the others (RP's `ɒ`, Scotland's trilled `r`, `ʉ`, `ʍ`, the
//! dental diacritic…) keep their random initial embedding and come out as noise. The caller says
//! which symbols are learned (a voice knows from its embedding, see
//! [`crate::voice::Voice::learned_symbols`]).

use super::{Kind, Phonemizer};
use crate::error::{Error, Result};

/// The English accents of espeak-ng's data (Debian's `espeak-ng-data`): our name, espeak-ng's
/// voice, what it is.
pub const ACCENTS: &[(&str, &str, &str)] = &[
    ("us", "en-us", "General American (the voice's own)"),
    ("nyc", "en-us-nyc", "New York City"),
    ("rp", "en-gb-x-rp", "Received Pronunciation (southern England)"),
    ("scottish", "en-gb-scotland", "Scottish English"),
    ("lancastrian", "en-gb-x-gbclan", "Lancastrian (north-west England)"),
    ("west-midlands", "en-gb-x-gbcwmd", "West Midlands (England)"),
    ("caribbean", "en-029", "Caribbean English"),
];

/// For a symbol the voice did not learn, what to say instead, nearest first (each a string of
/// symbols; the first whose symbols are all learned is taken; none → the symbol is dropped).
const NEAREST: &[(char, &[&str])] = &[
    ('ɒ', &["ɔ", "ɑ"]),
    ('r', &["ɹ"]),
    ('ʉ', &["u", "ʊ"]),
    ('ʍ', &["w"]),
    ('ɐ', &["ə", "ʌ"]),
    ('ɜ', &["ɜ", "ɚ", "ə"]),
    ('ɘ', &["ə"]),
    ('ɵ', &["ə", "oʊ"]),
    ('ɨ', &["ɪ"]),
    ('ø', &["ɜ", "ə"]),
    ('y', &["u"]),
    ('ʏ', &["ʊ"]),
    ('ɯ', &["u"]),
    ('ɤ', &["ʌ"]),
    ('e', &["eɪ", "ɛ"]),
    ('o', &["oʊ", "ɔ"]),
    ('x', &["k"]),
    ('ç', &["h"]),
    ('ɣ', &["ɡ"]),
    ('ɬ', &["l"]),
    ('ʔ', &["t"]),
    ('ɾ', &["ɾ", "t"]),
    ('ɫ', &["l"]),
    ('β', &["b", "v"]),
    ('ɸ', &["f"]),
];

/// For a symbol the voice did not learn that ends a diphthong (it follows a vowel), what to
/// say instead: an en-us voice learned its offglides lax (`aʊ`, `oʊ`, `aɪ`, `eɪ`), so Scottish
/// `ʌʉ` ("out") is `ʌʊ`, which listeners (Whisper) hear as "out" where `ʌu` came out "up".
const OFFGLIDE: &[(char, &[&str])] = &[('ʉ', &["ʊ", "u"])];

/// An accent by our name or espeak-ng's voice name; the error lists the known ones.
pub fn espeak_voice(name: &str) -> Result<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    ACCENTS.iter().find(|(ours, voice, _)| *ours == n || *voice == n).map(|(_, voice, _)| *voice).ok_or_else(|| {
        let known: Vec<&str> = ACCENTS.iter().map(|(ours, _, _)| *ours).collect();
        Error::invalid("accent", format!("`{name}` (known: {})", known.join(", ")))
    })
}

/// Text read in an accent by espeak-ng, mapped onto the symbols a voice learned.
pub struct AccentPhonemizer {
    inner: Box<dyn Phonemizer>,
    learned: Box<dyn Fn(char) -> bool + Send + Sync>,
}

impl AccentPhonemizer {
    /// The accent `name` (see [`ACCENTS`]) for a voice that learned the symbols `learned` says.
    ///
    /// # Errors
    /// An unknown accent; espeak-ng missing from this build or lacking the accent's voice.
    pub fn new(name: &str, learned: impl Fn(char) -> bool + Send + Sync + 'static) -> Result<Self> {
        let voice = espeak_voice(name)?;
        let inner = Kind::Espeak.make(voice).map_err(|e| Error::Phonemizer(format!("accent `{name}` needs espeak-ng's `{voice}` voice: {e}")))?;
        Ok(AccentPhonemizer { inner, learned: Box::new(learned) })
    }
}

impl Phonemizer for AccentPhonemizer {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        Ok(self.inner.phonemize(text)?.iter().map(|s| map_symbols(s, &*self.learned)).collect())
    }
}

/// Is `c` a vowel symbol (for telling espeak-ng's ASCII length mark from a colon)?
fn is_vowel(c: char) -> bool {
    "aeiouyæɑɐɒɔəɘɚɛɜɞɤɨɪɯɵøœɶʉʊʌʏ".contains(c)
}

/// `phonemes` with every symbol `learned` rejects replaced by its nearest learned one, and
/// espeak-ng's ASCII length mark (`a:`, after a vowel) written as the IPA `ː`. A word-final
/// `ɐ` (British "-er", "-a") becomes `ə`: an en-us voice learned `ɐ` only as the article "a",
/// and word-final it was heard as another word ("miller" → "millis"). Punctuation, spaces and
/// stress marks pass through.
pub fn map_symbols(phonemes: &str, learned: &dyn Fn(char) -> bool) -> String {
    let mapped = map_each(phonemes, learned);
    let chars: Vec<char> = mapped.chars().collect();
    let boundary = |c: Option<&char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let word_final = boundary(chars.get(i + 1)) && i > 0 && !boundary(chars.get(i - 1)) && !"ˈˌ".contains(chars[i - 1]);
            if c == 'ɐ' && word_final && learned('ə') {
                'ə'
            } else {
                c
            }
        })
        .collect()
}

/// [`map_symbols`]' symbol-by-symbol part.
fn map_each(phonemes: &str, learned: &dyn Fn(char) -> bool) -> String {
    let chars: Vec<char> = phonemes.chars().collect();
    let mut out = String::with_capacity(phonemes.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ':' && i > 0 && is_vowel(chars[i - 1]) {
            out.push('ː');
            continue;
        }
        if learned(c) || c.is_whitespace() || c.is_ascii_punctuation() || "ˈˌ".contains(c) {
            out.push(c);
            continue;
        }
        let lookup = |table: &'static [(char, &'static [&'static str])]| table.iter().find(|(from, _)| *from == c).map(|(_, options)| *options);
        let offglide = out.chars().last().is_some_and(is_vowel);
        if let Some(options) = offglide.then(|| lookup(OFFGLIDE)).flatten().or_else(|| lookup(NEAREST)) {
            if let Some(to) = options.iter().find(|o| o.chars().all(learned)) {
                out.push_str(to);
                continue;
            }
        }
        // A diacritic or symbol with no learned neighbour: left out.
        log::debug!("accent: `{c}` (U+{:04X}) is not a symbol the voice learned; left out", c as u32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_unlearned_symbols_and_length_marks() {
        let learned = |c: char| !"ɒrʉʍ\u{32a}".contains(c);
        assert_eq!(map_symbols("bˈa:θ tˈaɪm ɒnðə fˈaːrm", &learned), "bˈaːθ tˈaɪm ɔnðə fˈaːɹm");
        assert_eq!(map_symbols("ʍˈɛn t\u{32a}ʉ", &learned), "wˈɛn tu");
        assert_eq!(map_symbols("ˈʌʉt, dˈʌʉn ɐ jˈʉ", &learned), "ˈʌʊt, dˈʌʊn ɐ jˈu", "ʉ ending a diphthong is its lax offglide");
        assert_eq!(map_symbols("wˈʌn: tˈuː.", &learned), "wˈʌn: tˈuː.", "a colon after a consonant stays punctuation");
        assert_eq!(map_symbols("ɐ mˈɪlɐ, ðə lˈɛtɐ ɐɡˈəʊ", &learned), "ɐ mˈɪlə, ðə lˈɛtə ɐɡˈəʊ", "word-final ɐ only");
        assert_eq!(espeak_voice("Scottish").unwrap(), "en-gb-scotland");
        assert_eq!(espeak_voice("en-gb-x-rp").unwrap(), "en-gb-x-rp");
        assert!(espeak_voice("martian").unwrap_err().to_string().contains("scottish"));
    }
}
