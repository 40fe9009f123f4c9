//! [`EspeakPhonemizer`]: text → IPA phonemes with libespeak-ng, exactly as piper-tts 1.8.0.
//!
//! Piper calls `espeak_TextToPhonemesWithTerminator` clause by clause, appends the clause's
//! punctuation (`.` `?` `!` `,` `:` `;`, the last three followed by a space), ends a sentence
//! at `.` `?` `!` (and paragraph/text ends), drops `(lang)` switch flags and applies NFD.
//! Debian's libespeak-ng 1.51 only has `espeak_TextToPhonemes`, so the terminator is recovered
//! from the text espeak read for each clause (see [`super::clauses`], [`super::terminator`]),
//! and its IPA is made to read like 1.52's (see [`super::compat`]).
//!
//! Like Piper, text between `[[` and `]]` is taken as phonemes as written (see
//! [`super::blocks`]). Empty sentences, which Piper skips when it synthesises, are left out.
//!
//! Known differences from piper-tts 1.8.0 (whose espeak-ng is 1.52 with its own data):
//! - Debian's 1.51 *data* (dictionary) differs for a few words, e.g. "has been" (`hˈæzbiːn`,
//!   Piper `hɐzbɪn`). [`EspeakPhonemizer::with_data_dir`] with piper-tts's `espeak-ng-data`
//!   removes these.
//! - A few *library* differences remain: a lone "One." is stressed `wˈʌn` (Piper `wˌʌn`);
//!   1.52 reads emoji names and repeated symbols (`___`, `|||`) that 1.51 skips, groups long
//!   digit strings differently, and cuts clauses of ~800 bytes without punctuation elsewhere.
//!
//! Input that espeak-ng must not see is replaced before it gets there: control characters
//! (C0 except tab, newline, vertical tab, form feed and carriage return; DEL; C1), NUL
//! included, become spaces. (Piper itself rejects NUL and passes the others on, where U+0001
//! would start one of espeak-ng's embedded commands.)
//!
//! espeak-ng is one global, non-thread-safe engine: every call goes through one lock
//! (see [`super::engine`]).

use std::borrow::Cow;
use std::path::Path;

use super::clauses::read_clauses;
use super::engine::{lock, Engine};
use super::terminator::{clause_end, ClauseEnd};
use unicode_normalization::UnicodeNormalization;

use super::{blocks, compat, Phonemizer};
use crate::error::{Error, Result};

/// Longest voice name accepted. espeak-ng 1.51 copies names (and `+variant` suffixes) into
/// small fixed buffers (40 bytes for `!v/` + variant); real names are shorter.
const MAX_VOICE_NAME: usize = 36;

/// Text → IPA phonemes with espeak-ng, one string per sentence, as piper-tts 1.8.0 makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakPhonemizer {
    voice: String,
}

impl EspeakPhonemizer {
    /// A phonemizer for the espeak-ng voice `voice` (the `espeak.voice` of a Piper voice config,
    /// e.g. `en-us`; selected with `espeak_SetVoiceByName` as Piper does, so a bare language
    /// code such as `en-gb` that names no voice file is unknown, as in Piper). Initialises
    /// espeak-ng on first use (data from the directory holding `espeak-ng-data` named by
    /// `ESPEAK_DATA_PATH`, else the installed data).
    ///
    /// # Errors
    /// Unknown voice, a name with characters other than ASCII letters, digits, space and
    /// `-_+/()` (or longer than 36 bytes), or no espeak-ng data → `Error::Phonemizer` naming it.
    pub fn new(voice: &str) -> Result<Self> {
        Self::open(voice, None)
    }

    /// Like [`EspeakPhonemizer::new`], with espeak-ng's data read from `data_dir` (an
    /// `espeak-ng-data` directory, or one holding it). For example the one piper-tts ships:
    /// with it, Debian's 1.51 library gives Piper's phonemes for the words whose dictionary
    /// entries changed in 1.52 too (e.g. "has been").
    ///
    /// # Errors
    /// As [`EspeakPhonemizer::new`]; also when `data_dir` holds no espeak-ng data, or when
    /// espeak-ng already reads another directory: it reads one per process, so this must come
    /// before any other use, or name the directory already in use.
    pub fn with_data_dir(voice: &str, data_dir: &Path) -> Result<Self> {
        Self::open(voice, Some(data_dir))
    }

    fn open(voice: &str, data_dir: Option<&Path>) -> Result<Self> {
        let valid = !voice.trim().is_empty()
            && voice.len() <= MAX_VOICE_NAME
            && voice
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" -_+/()".contains(&b));
        if !valid {
            return Err(Error::Phonemizer(format!(
                "invalid espeak-ng voice name {voice:?}"
            )));
        }
        let mut engine = lock();
        engine.init(data_dir)?;
        engine.select_voice(voice)?;
        Ok(Self {
            voice: voice.to_owned(),
        })
    }

    /// The espeak-ng voice name.
    #[must_use]
    pub fn voice(&self) -> &str {
        &self.voice
    }
}

impl Phonemizer for EspeakPhonemizer {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        let text = sanitize(text);
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut engine = lock();
        engine.init(None)?;
        engine.select_voice(&self.voice)?;
        let mut sentences =
            blocks::phonemize_with_blocks(&text, |part| Ok(espeak_sentences(&mut engine, part)))?;
        // Piper skips empty sentences when it synthesises; leave them out here already.
        sentences.retain(|s| !s.is_empty());
        Ok(sentences)
    }
}

/// Piper's `EspeakPhonemizer.phonemize` for text without `[[ ]]` blocks: one string per
/// sentence, empty ones included (as Piper has them).
fn espeak_sentences(engine: &mut Engine, text: &str) -> Vec<String> {
    let clauses = read_clauses(engine, text, compat::IPA_SEPARATED);
    // Where Debian's espeak-ng 1.51 writes IPA differently from Piper's 1.52, the ASCII
    // phoneme names tell which phoneme it was.
    let ascii = clauses
        .iter()
        .any(|c| compat::needs_ascii(&c.phonemes))
        .then(|| read_clauses(engine, text, compat::ASCII_SEPARATED))
        .filter(|ascii| {
            let same = ascii.len() == clauses.len()
                && ascii
                    .iter()
                    .zip(&clauses)
                    .all(|(a, c)| (a.start, a.stop) == (c.start, c.stop));
            if !same {
                log::debug!("espeak-ng split {text:?} differently the second time; IPA left as is");
            }
            same
        });

    let mut sentences = Vec::new();
    let mut sentence = String::new();
    for (i, clause) in clauses.iter().enumerate() {
        let ascii_phonemes = ascii.as_ref().map(|a| a[i].phonemes.as_str());
        let phonemes = compat::restore(&clause.phonemes, ascii_phonemes);
        let end = clause_end(&text[clause.start..clause.stop], clause.at_end);
        push_clause(&mut sentence, &phonemes, end);
        if end.end_of_sentence {
            sentences.push(std::mem::take(&mut sentence));
        }
    }
    if !sentence.is_empty() {
        sentences.push(sentence);
    }
    sentences
}

/// Appends one clause to the sentence as Piper does: language-switch flags removed, the
/// terminator (plus a space after `,` `:` `;`) appended, NFD applied.
fn push_clause(sentence: &mut String, phonemes: &str, end: ClauseEnd) {
    let mut clause = remove_language_flags(phonemes).into_owned();
    clause.push_str(end.terminator);
    if matches!(end.terminator, "," | ":" | ";") {
        clause.push(' ');
    }
    // piper-tts applies `unicodedata.normalize("NFD", ..)` to espeak's output (ç → c + U+0327).
    sentence.extend(clause.nfd());
}

/// Python's `re.sub(r"\([^)]+\)", "", phonemes)`: drops the `(en)`-style flags espeak puts
/// around words it switched language for.
fn remove_language_flags(phonemes: &str) -> Cow<'_, str> {
    if !phonemes.contains('(') {
        return Cow::Borrowed(phonemes);
    }
    let mut out = String::with_capacity(phonemes.len());
    let mut rest = phonemes;
    while let Some(open) = rest.find('(') {
        match rest[open + 1..].find(')') {
            Some(len) if len > 0 => {
                out.push_str(&rest[..open]);
                rest = &rest[open + 1 + len + 1..];
            }
            Some(_) => {
                // "()" is no flag: keep the "(" and look again after it.
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Replaces control characters (NUL included) with spaces, keeping tab, newline, vertical tab,
/// form feed and carriage return.
fn sanitize(text: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\u{B}' | '\u{C}' | '\r');
    if text.contains(bad) {
        Cow::Owned(text.chars().map(|c| if bad(c) { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> EspeakPhonemizer {
        EspeakPhonemizer::new("en-us")
            .expect("espeak-ng with en-us (apt-get install espeak-ng-data)")
    }

    fn ph(text: &str) -> Vec<String> {
        en().phonemize(text).unwrap()
    }

    /// Expected values are piper-tts 1.8.0's: `PiperVoice.phonemize(text)` for the
    /// en_US-joe-medium voice (espeak voice `en-us`), each sentence `"".join`ed, empty
    /// sentences left out (Piper skips them when it synthesises).
    #[rustfmt::skip]
    const PIPER: &[(&str, &[&str])] = &[
        // S
        ("Hello there, traveler.", &["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ."]),
        // M
        ("The old bridge collapsed last winter, so you'll have to take the mountain pass if you want to reach the village before nightfall.", &["ðɪʲ ˈoʊld bɹˈɪdʒ kəlˈæpst lˈæst wˈɪntɚ, sˌoʊ juːl hæv tə tˈeɪk ðə mˈaʊntɪn pˈæs ɪf juː wˈɔnt tə ɹˈiːtʃ ðə vˈɪlɪdʒ bᵻfˌɔːɹ nˈaɪtfɔːl."]),
        // L: four sentences
        ("Welcome to the Rusty Anchor, stranger. You look like you've been on the road for days. Sit down by the fire and warm yourself up. If you're looking for work, the blacksmith needs someone to fetch iron ore from the old mine, but be careful, nobody who went down there last week has come back yet, so bring a good torch.", &["wˈɛlkʌm tə ðə ɹˈʌstiʲ ˈæŋkɚ, stɹˈeɪndʒɚ.", "juː lˈʊk lˈaɪk juːv bˌɪn ɔnðə ɹˈoʊd fɔːɹ dˈeɪz.", "sˈɪt dˌaʊn baɪ ðə fˈaɪɚ ænd wˈɔːɹm jɔːɹsˈɛlf ˈʌp.", "ɪf jʊɹ lˈʊkɪŋ fɔːɹ wˈɜːk, ðə blˈæksmɪθ nˈiːdz sˈʌmwʌn tə fˈɛtʃ ˈaɪɚn ˈɔːɹ fɹʌmðɪʲ ˈoʊld mˈaɪn, bˌʌt biː kˈɛɹfəl, nˈoʊbɑːdi hˌuː wɛnt dˌaʊn ðɛɹ lˈæst wˈiːk hɐz kˈʌm bˈæk jˈɛt, sˌoʊ bɹˈɪŋ ɐ ɡˈʊd tˈɔːɹtʃ."]),
        ("Are you sure about this? I don't think it's a good idea.", &["ɑːɹ juː ʃˈʊɹ ɐbˌaʊt ðˈɪs?", "aɪ dˈoʊnt θˈɪŋk ɪts ɐ ɡˈʊd aɪdˈiə."]),
        ("Run! They're coming!", &["ɹˈʌn!", "ðeɪɚ kˈʌmɪŋ!"]),
        ("Why?! Why would you do that?!", &["wˈaɪ?", "wˌaɪ wʊd juː dˈuː ðˈæt?"]),
        ("We have three options: fight, flee, or hide.", &["wiː hæv θɹˈiːʲ ˈɑːpʃənz: fˈaɪt, flˈiː, ɔːɹ hˈaɪd."]),
        ("First, gather the herbs; second, boil the water; third, wait.", &["fˈɜːst, ɡˈæðɚ ðɪʲ ˈɜːbz; sˈɛkənd, bˈɔɪl ðə wˈɔːɾɚ; θˈɜːd, wˈeɪt."]),
        ("The year was 1492, and the ship had 3 masts.", &["ðə jˈɪɹ wʌz wˈʌn θˈaʊzənd fˈɔːɹhˈʌndɹɪd nˈaɪnti tˈuː, ænd ðə ʃˈɪp hæd θɹˈiː mˈæsts."]),
        ("It costs $3.50, or about 4 euros.", &["ɪt kˈɔsts dˈɑːlɚ θɹˈiː pɔɪnt fˈaɪv zˈiəɹoʊ, ɔːɹ ɐbˌaʊt fˈɔːɹ jˈʊɹɹoʊz."]),
        ("Meet me at 10:30 tonight.", &["mˈiːt mˌiːʲ æt tˈɛn θˈɜːɾi tənˈaɪt."]),
        ("We'll leave at 5 p.m. Then we ride north.", &["wiːl lˈiːv æt fˈaɪv pˌiːʲˈɛm.", "ðˈɛn wiː ɹˈaɪd nˈɔːɹθ."]),
        ("She asked, \"Why?\" and he said, \"Because.\"", &["ʃiːʲ ˈæskt, wˈaɪ?", "ænd hiː sˈɛd, bɪkˈʌz."]),
        ("“Never again,” she whispered.", &["nˈɛvɚɹ ɐɡˈɛn, ʃiː wˈɪspɚd."]),
        ("Wait — what? Really?! Yes... no", &["wˈeɪt; wˌʌt?", "ɹˈiəli?", "jˈɛsnˈoʊ"]),
        ("Line one\nLine two\nLine three", &["lˈaɪn wˈʌn lˈaɪn tˈuː lˈaɪn θɹˈiː"]),
        ("First paragraph.\n\nSecond paragraph.", &["fˈɜːst pˈæɹəɡɹˌæf", "sˈɛkənd pˈæɹəɡɹˌæf."]),
        ("Is it?\nYes.\nNo!", &["ɪz ɪt?", "jˈɛs.", "nˈoʊ!"]),
        ("No punctuation at the end", &["nˈoʊ pˌʌŋktʃuːˈeɪʃən æt ðɪʲ ˈɛnd"]),
        ("Say [[ tˈoʊmeɪɾoʊ ]] please.", &["sˈeɪ tˈoʊmeɪɾoʊ plˈiːz."]),
        ("!!!", &["ˈɛkskləmˌeɪʃən"]),
    ];

    #[test]
    fn matches_piper_tts_1_8_0() {
        let p = en();
        for (text, expected) in PIPER {
            assert_eq!(p.phonemize(text).unwrap(), *expected, "text: {text:?}");
        }
    }

    #[test]
    fn empty_and_blank_text_give_nothing() {
        for text in ["", " ", "\n\n", " \t\r\n ", "\0", "[[ ]]"] {
            assert!(ph(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn nasty_input_does_not_panic() {
        let long_word = "a".repeat(5000);
        let long_spaces = format!("far{}away.", " ".repeat(20_000));
        let inputs = [
            "nul\0inside\0.",
            "\u{1}Vvoice \u{1}B1 \u{2}\u{7}\u{1b}[31m\u{7f}\u{85}controls",
            "Emoji \u{1F600}\u{1F389} \u{2764}\u{FE0F} \u{1F1FA}\u{1F1F8}.",
            "\u{4F60}\u{597D}\u{4E16}\u{754C}\u{3002}\u{3053}\u{3093}\u{306B}\u{3061}\u{306F}",
            "\u{645}\u{631}\u{62D}\u{628}\u{627} \u{5E9}\u{5DC}\u{5D5}\u{5DD} \u{202E}rtl",
            ".",
            "?",
            "!",
            "...",
            "\u{2026}",
            "\"",
            "(",
            "[[",
            "]]",
            "[[x",
            "&amp; <b>",
            "\u{E000}\u{E03C}\u{F8FF}\u{FFFD}\u{FEFF}\u{200B}\u{FFFF}",
            &long_word,
            &long_spaces,
        ];
        let p = en();
        for text in inputs {
            p.phonemize(text).unwrap();
        }
        // Control characters did not reach espeak-ng (U+0001 B1 would turn on spoken punctuation).
        assert_eq!(ph("Hello there, traveler."), ["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ."]);
    }

    #[test]
    fn hundred_kilobytes_clause_by_clause() {
        let sentence = "Sit down by the fire, traveler; the night is long. ";
        let text = sentence.repeat(100_000 / sentence.len() + 1);
        let out = ph(&text);
        assert_eq!(out.len(), text.matches('.').count());
        let expected = "sˈɪt dˌaʊn baɪ ðə fˈaɪɚ, tɹˈævəlɚ; ðə nˈaɪt ɪz lˈɔŋ.";
        assert!(out.iter().all(|s| s == expected), "{:?}", &out[..2]);
    }

    #[test]
    fn clause_longer_than_the_window() {
        // espeak reads past the 4 KiB window (blank runs), so the clause is read again.
        let text = format!("One,{}two.{}Three.", " ".repeat(10_000), "\t".repeat(9_000));
        assert_eq!(ph(&text), ["wˈʌn, tˈuː.", "θɹˈiː."]);
    }

    #[test]
    fn voices_switch_and_threads_share_the_engine() {
        let gb = EspeakPhonemizer::new("en").unwrap(); // British English
        let us = en();
        let text = "Four more doors.";
        let (gb_once, us_once) = (gb.phonemize(text).unwrap(), us.phonemize(text).unwrap());
        assert_ne!(gb_once, us_once);
        std::thread::scope(|scope| {
            for i in 0..4 {
                let (gb, us, gb_once, us_once) = (&gb, &us, &gb_once, &us_once);
                scope.spawn(move || {
                    for _ in 0..20 {
                        let (p, expected) = if i % 2 == 0 {
                            (gb, gb_once)
                        } else {
                            (us, us_once)
                        };
                        assert_eq!(&p.phonemize(text).unwrap(), expected);
                    }
                });
            }
        });
    }

    #[test]
    fn data_dir_must_hold_espeak_data_and_stay_the_same() {
        let _ = en(); // the engine now reads its default data
        let err =
            EspeakPhonemizer::with_data_dir("en-us", Path::new("/nonexistent/espeak")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/espeak"), "{err}");
        let other = std::env::temp_dir().join(format!("tvtts-espeak-data-{}", std::process::id()));
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("phontab"), b"").unwrap();
        let err = EspeakPhonemizer::with_data_dir("en-us", &other).unwrap_err();
        std::fs::remove_dir_all(&other).unwrap();
        assert!(err.to_string().contains("already reads its data"), "{err}");
    }

    #[test]
    fn flags_are_removed_like_piper() {
        assert_eq!(
            remove_language_flags("(fr)bɔ̃ʒˈuːɹ(en) fɹˈɛnd"),
            "bɔ̃ʒˈuːɹ fɹˈɛnd"
        );
        assert_eq!(remove_language_flags("a() b(c"), "a() b(c");
        assert_eq!(remove_language_flags("((x)y)"), "y)");
    }

    #[test]
    fn sanitize_replaces_controls_only() {
        assert_eq!(
            sanitize("a\0b\u{1}c\u{7f}d\u{85}e\tf\ng\r"),
            "a b c d e\tf\ng\r"
        );
        assert!(matches!(sanitize("plain ☃ text\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn unknown_and_invalid_voices_are_errors_naming_them() {
        for voice in [
            "xx-nosuchvoice",
            "en-gb",
            "",
            " ",
            "en-us\0",
            "../../etc/passwd",
            &"a".repeat(64),
        ] {
            match EspeakPhonemizer::new(voice) {
                Err(Error::Phonemizer(msg)) => {
                    assert!(msg.contains(&format!("{voice:?}")), "{msg}")
                }
                other => panic!("{voice:?}: {other:?}"),
            }
        }
        // A failed switch does not break the voice in use.
        assert_eq!(ph("Hello there, traveler."), ["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ."]);
    }
}
