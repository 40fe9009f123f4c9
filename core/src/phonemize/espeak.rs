//! [`EspeakPhonemizer`]: text → IPA phonemes with libespeak-ng, exactly as piper-tts 1.8.0.
//!
//! Piper calls `espeak_TextToPhonemesWithTerminator` clause by clause, appends the clause's
//! punctuation (`.` `?` `!` `,` `:` `;`, the last three followed by a space), ends a sentence
//! at `.` `?` `!` (and paragraph/text ends), drops `(lang)` switch flags and applies NFD.
//! Debian's libespeak-ng 1.51 only has `espeak_TextToPhonemes`, so the terminator is recovered
//! from the text espeak read for each clause (see [`super::clauses`], [`super::terminator`]),
//! and its IPA is made to read like 1.52's (see [`super::compat`]).
//!
//! Input that espeak-ng must not see is replaced before it gets there: control characters
//! (C0 except tab, newline, vertical tab, form feed and carriage return; DEL; C1), NUL
//! included, become spaces. (Piper itself rejects NUL and passes the others on, where U+0001
//! would start one of espeak-ng's embedded commands.)
//!
//! espeak-ng is one global, non-thread-safe engine: every call goes through one mutex.

use std::borrow::Cow;
use std::ffi::CString;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::clauses::read_clauses;
use super::terminator::{clause_end, ClauseEnd};
use super::{blocks, compat, ffi, nfd, Phonemizer};
use crate::error::{Error, Result};

/// Longest voice name accepted. espeak-ng copies names (and `+variant` suffixes) into small
/// fixed buffers; real names are far shorter.
const MAX_VOICE_NAME: usize = 32;

/// Text → IPA phonemes with espeak-ng, one string per sentence, as piper-tts 1.8.0 makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakPhonemizer {
    voice: String,
}

impl EspeakPhonemizer {
    /// A phonemizer for the espeak-ng voice `voice` (the `espeak.voice` of a Piper voice config,
    /// e.g. `en-us`). Initialises espeak-ng on first use (data from its default place, or
    /// `ESPEAK_DATA_PATH`). Unknown voice, or no espeak-ng data → `Error::Phonemizer`.
    pub fn new(voice: &str) -> Result<Self> {
        let valid = !voice.is_empty()
            && voice.len() <= MAX_VOICE_NAME
            && voice.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'));
        if !valid {
            return Err(Error::Phonemizer(format!("invalid espeak-ng voice name {voice:?}")));
        }
        let mut engine = lock();
        engine.select_voice(voice)?;
        Ok(Self { voice: voice.to_owned() })
    }

    /// The espeak-ng voice name.
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
        engine.select_voice(&self.voice)?;
        let mut sentences = blocks::phonemize_with_blocks(&text, |part| Ok(engine.sentences(part)))?;
        // Piper skips empty sentences when it synthesises; leave them out here already.
        sentences.retain(|s| !s.is_empty());
        Ok(sentences)
    }
}

/// The state of the one espeak-ng engine in this process. Holding `&mut Engine` means holding
/// its lock: only then may espeak-ng be called.
pub(super) struct Engine {
    initialized: bool,
    /// The voice espeak-ng has selected, if known.
    voice: Option<String>,
}

static ENGINE: Mutex<Engine> = Mutex::new(Engine { initialized: false, voice: None });

/// Locks the engine. A panic elsewhere while it was held leaves it usable.
fn lock() -> MutexGuard<'static, Engine> {
    ENGINE.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// Initialises espeak-ng once (synchronous, no audio output) and selects `voice` if it is
    /// not already selected.
    fn select_voice(&mut self, voice: &str) -> Result<()> {
        if !self.initialized {
            // SAFETY: null path = default data location; we hold the engine lock.
            let rate = unsafe {
                ffi::espeak_Initialize(
                    ffi::AUDIO_OUTPUT_SYNCHRONOUS,
                    0,
                    std::ptr::null(),
                    ffi::INITIALIZE_DONT_EXIT,
                )
            };
            if rate < 0 {
                return Err(Error::Phonemizer(
                    "espeak-ng could not be initialised: is espeak-ng-data installed (or ESPEAK_DATA_PATH set)?"
                        .into(),
                ));
            }
            self.initialized = true;
        }
        if self.voice.as_deref() == Some(voice) {
            return Ok(());
        }
        let name = CString::new(voice)
            .map_err(|_| Error::Phonemizer(format!("invalid espeak-ng voice name {voice:?}")))?;
        // SAFETY: `name` is NUL-terminated and short (checked by `EspeakPhonemizer::new`).
        let rc = unsafe { ffi::espeak_SetVoiceByName(name.as_ptr()) };
        if rc != ffi::EE_OK {
            self.voice = None; // a failed switch may have left espeak-ng in between voices
            return Err(Error::Phonemizer(format!("espeak-ng has no voice {voice:?} (error {rc})")));
        }
        self.voice = Some(voice.to_owned());
        Ok(())
    }

    /// Piper's `EspeakPhonemizer.phonemize` for text without `[[ ]]` blocks: one string per
    /// sentence, empty ones included (as Piper has them).
    fn sentences(&mut self, text: &str) -> Vec<String> {
        let english = self.voice.as_deref().is_some_and(|v| v.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("en")));
        let clauses = read_clauses(self, text, compat::IPA_SEPARATED);
        // Where Debian's espeak-ng 1.51 writes IPA differently from Piper's 1.52, the ASCII
        // phoneme names tell which phoneme it was.
        let ascii = clauses
            .iter()
            .any(|c| compat::needs_ascii(&c.phonemes, english))
            .then(|| read_clauses(self, text, compat::ASCII_SEPARATED))
            .filter(|ascii| {
                let same = ascii.len() == clauses.len()
                    && ascii.iter().zip(&clauses).all(|(a, c)| (a.start, a.stop) == (c.start, c.stop));
                if !same {
                    log::debug!("espeak-ng split {text:?} differently the second time; IPA left as is");
                }
                same
            });

        let mut sentences = Vec::new();
        let mut sentence = String::new();
        for (i, clause) in clauses.iter().enumerate() {
            let ascii_phonemes = ascii.as_ref().map(|a| a[i].phonemes.as_str());
            let phonemes = compat::restore(&clause.phonemes, ascii_phonemes, english);
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
}

/// Appends one clause to the sentence as Piper does: language-switch flags removed, the
/// terminator (plus a space after `,` `:` `;`) appended, NFD applied.
fn push_clause(sentence: &mut String, phonemes: &str, end: ClauseEnd) {
    let mut clause = remove_language_flags(phonemes).into_owned();
    clause.push_str(end.terminator);
    if matches!(end.terminator, "," | ":" | ";") {
        clause.push(' ');
    }
    nfd::push_nfd(&clause, sentence);
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
        EspeakPhonemizer::new("en-us").expect("espeak-ng with en-us (apt-get install espeak-ng-data)")
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
            ".", "?", "!", "...", "\u{2026}", "\"", "(", "[[", "]]", "[[x", "&amp; <b>",
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
        let gb = EspeakPhonemizer::new("en-gb").unwrap();
        let us = en();
        let text = "Four more doors.";
        let (gb_once, us_once) = (gb.phonemize(text).unwrap(), us.phonemize(text).unwrap());
        assert_ne!(gb_once, us_once);
        std::thread::scope(|scope| {
            for i in 0..4 {
                let (gb, us, gb_once, us_once) = (&gb, &us, &gb_once, &us_once);
                scope.spawn(move || {
                    for _ in 0..20 {
                        let (p, expected) = if i % 2 == 0 { (gb, gb_once) } else { (us, us_once) };
                        assert_eq!(&p.phonemize(text).unwrap(), expected);
                    }
                });
            }
        });
    }

    #[test]
    fn flags_are_removed_like_piper() {
        assert_eq!(remove_language_flags("(fr)bɔ̃ʒˈuːɹ(en) fɹˈɛnd"), "bɔ̃ʒˈuːɹ fɹˈɛnd");
        assert_eq!(remove_language_flags("a() b(c"), "a() b(c");
        assert_eq!(remove_language_flags("((x)y)"), "y)");
    }

    #[test]
    fn sanitize_replaces_controls_only() {
        assert_eq!(sanitize("a\0b\u{1}c\u{7f}d\u{85}e\tf\ng\r"), "a b c d e\tf\ng\r");
        assert!(matches!(sanitize("plain ☃ text\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn unknown_and_invalid_voices_are_errors_naming_them() {
        for voice in ["xx-nosuchvoice", "", "en us", "en-us\0", "../../etc/passwd", &"a".repeat(64)] {
            match EspeakPhonemizer::new(voice) {
                Err(Error::Phonemizer(msg)) => assert!(msg.contains(&format!("{voice:?}")), "{msg}"),
                other => panic!("{voice:?}: {other:?}"),
            }
        }
        // A failed switch does not break the voice in use.
        assert_eq!(ph("Hello there, traveler."), ["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ."]);
    }
}
