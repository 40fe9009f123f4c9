//! [`BuiltinPhonemizer`]: English text → IPA phonemes in espeak-ng en-us style (as Piper's
//! voices expect), with no GPL code or data.
//!
//! - Text is split into sentences and clauses as Piper splits it ([`split`]), then numbers,
//!   times, dates, currency and abbreviations are written out ([`normalize`], [`numbers`]).
//! - Words come from a table of unstressed function words ([`lexicon`]), the CMU Pronouncing
//!   Dictionary (BSD-style, [`dict`]), letter by letter for unknown all-caps acronyms, else
//!   from g2p_en's GRU model (Apache-2.0, [`g2p`]); ARPAbet becomes espeak-style IPA in
//!   [`arpabet`]; [`pronounce`] joins the words of a clause as espeak-ng does.
//! - The data (`cmudict.dict`, `checkpoint20.npz`) is not committed: `scripts/setup.sh`
//!   (`scripts/phonemizer_data.sh`) fetches it into `assets/phonemizer/`.
//!
//! Differences from espeak-ng: see `scripts/measure_phonemizer.py` (phoneme error rate on
//! `bench/texts/phonemizer_heldout.txt`); espeak-ng's word joins (`ɔnðə`) are not reproduced.

mod arpabet;
mod dict;
mod g2p;
mod lexicon;
mod normalize;
mod numbers;
mod pronounce;
mod split;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::Phonemizer;
use crate::error::{Error, Result};
use dict::CmuDict;
use g2p::G2p;

/// Environment variable naming the data directory (else `assets/phonemizer` of the checkout).
pub const DATA_ENV: &str = "TVTTS_PHONEMIZER_DATA";

/// Loaded data of one directory.
struct Data {
    dict: CmuDict,
    g2p: G2p,
}

/// English text → IPA phonemes, one string per sentence, in the conventions of
/// [`super::EspeakPhonemizer`] (espeak-ng en-us as Piper writes it), without espeak-ng.
#[derive(Clone)]
pub struct BuiltinPhonemizer {
    data: Arc<Data>,
    dir: PathBuf,
}

impl std::fmt::Debug for BuiltinPhonemizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinPhonemizer")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Data already loaded, by directory (loading takes a few hundred milliseconds).
fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<Data>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Data>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl BuiltinPhonemizer {
    /// The phonemizer with its data from `$TVTTS_PHONEMIZER_DATA`, else from
    /// `assets/phonemizer` beside the executable, else from `assets/phonemizer` of the source
    /// checkout (where `scripts/setup.sh` puts it).
    ///
    /// # Errors
    /// As [`BuiltinPhonemizer::from_dir`].
    pub fn new() -> Result<Self> {
        let dir = match std::env::var_os(DATA_ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            // A shipped game: `assets/phonemizer` beside the executable; else the checkout's.
            _ => std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|d| d.join("assets/phonemizer")))
                .filter(|d| d.join("cmudict.dict").is_file())
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/phonemizer")),
        };
        Self::from_dir(&dir)
    }

    /// The phonemizer with its data (`cmudict.dict`, `checkpoint20.npz`) read from `dir`.
    /// Loaded once per directory and process.
    ///
    /// # Errors
    /// `Error::Phonemizer` naming `dir` when the data is missing (run `scripts/setup.sh`), or
    /// an error naming the file that cannot be read or is not the expected data.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let dict_path = dir.join("cmudict.dict");
        let model_path = dir.join("checkpoint20.npz");
        if !dict_path.is_file() || !model_path.is_file() {
            return Err(Error::Phonemizer(format!(
                "built-in phonemizer data missing in {}: expected cmudict.dict and checkpoint20.npz there; run scripts/setup.sh (or set {DATA_ENV})",
                dir.display()
            )));
        }
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut cache = cache()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let data = match cache.get(&key) {
            Some(d) => Arc::clone(d),
            None => {
                let data = Arc::new(Data {
                    dict: CmuDict::load(&dict_path)?,
                    g2p: G2p::load(&model_path)?,
                });
                cache.insert(key, Arc::clone(&data));
                data
            }
        };
        Ok(Self {
            data,
            dir: dir.to_path_buf(),
        })
    }

    /// The directory the data came from.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }
}

impl Phonemizer for BuiltinPhonemizer {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for sentence in split::split(text) {
            let mut s = String::new();
            for clause in sentence {
                let items = normalize::normalize(&clause.tokens);
                let ipa = pronounce::clause(&self.data.dict, &self.data.g2p, &items);
                if ipa.is_empty() {
                    continue;
                }
                s.push_str(&ipa);
                s.push_str(clause.terminator);
                if matches!(clause.terminator, "," | ";" | ":") {
                    s.push(' ');
                }
            }
            if !s.is_empty() {
                out.push(s);
            }
        }
        Ok(out)
    }
}

/// Levenshtein distance between two char sequences.
#[cfg(test)]
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j + 1] + 1)
                    .min(cur[j] + 1)
                    .min(prev[j] + usize::from(ca != cb)),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> BuiltinPhonemizer {
        BuiltinPhonemizer::new().expect("phonemizer data: run scripts/phonemizer_data.sh")
    }

    fn ph(text: &str) -> Vec<String> {
        builtin().phonemize(text).unwrap()
    }

    /// Expected values agree with espeak-ng en-us (as EspeakPhonemizer gives them).
    #[test]
    fn sentences_like_espeak() {
        for (text, expected) in [
            ("Hello there, traveler.", vec!["həlˈoʊ ðˈɛɹ, tɹˈævəlɚ."]),
            ("Run! They're coming!", vec!["ɹˈʌn!", "ðeɪɚ kˈʌmɪŋ!"]),
            (
                "We have three options: fight, flee, or hide.",
                vec!["wiː hæv θɹˈiːʲ ˈɑːpʃənz: fˈaɪt, flˈiː, ɔːɹ hˈaɪd."],
            ),
            ("Is it?", vec!["ɪz ɪt?"]),
            // A clause's last stress: demonstratives, modals, `what`, `did`.
            ("Take this sword, or leave that.", vec!["tˈeɪk ðɪs sˈɔːɹd, ɔːɹ lˈiːv ðˈæt."]),
            ("I know what they are.", vec!["aɪ nˈoʊ wˈʌt ðeɪ ɑːɹ."]),
            ("We did what we could.", vec!["wiː dˈɪd wʌt wiː kˈʊd."]),
            ("Tell me where it is.", vec!["tˈɛl mˌiː wˌɛɹ ɪɾ ˈɪz."]),
            ("Have you been?", vec!["hˈæv juː bˌɪn?"]),
            ("But he did not.", vec!["bˌʌt hiː dɪd nˈɑːt."]),
            ("When I was young, we go home.", vec!["wˌɛn aɪ wʌz jˈʌŋ, wiː ɡˌoʊ hˈoʊm."]),
            ("I will go with you.", vec!["aɪ wɪl ɡˈoʊ wɪð juː."]),
        ] {
            assert_eq!(ph(text), expected, "{text:?}");
        }
    }

    #[test]
    fn numbers_and_abbreviations() {
        assert_eq!(
            ph("Dr. Smith paid $5."),
            ["dˈɑːktɚ smˈɪθ pˈeɪd fˈaɪv dˈɑːlɚz."]
        );
        assert_eq!(ph("It was 1999."), ["ɪt wʌz nˈaɪntiːn nˈaɪnti nˈaɪn."]);
        assert_eq!(
            ph("Mr. and Mrs. Jones came."),
            ["mˈɪstɚ ænd mˈɪsɪz dʒˈoʊnz kˈeɪm."]
        );
    }

    #[test]
    fn unknown_words_and_acronyms() {
        let out = ph("Zyx'thar met the FBI.");
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with("z"), "{out:?}");
        assert!(out[0].ends_with("ˌɛfbˌiːʲˈaɪ."), "{out:?}");
        // Shouted words are words, as espeak-ng reads them; acronyms are spelled as it spells
        // them, whether the dictionary spells them (NPC is not in it, TV is) or not.
        assert_eq!(ph("GET OUT, YOU DOG! RUN!"), ph("Get out, you dog! Run!"));
        assert_eq!(ph("FOR ZORGATH!"), ph("For Zorgath!"), "a shouted unknown name is a word");
        assert_eq!(ph("Psst, pfft, grr!"), ["pst, pft, ɡɹ!"], "vowelless interjections are their sounds");
        // Unknown compounds of two dictionary words are the words, stressed as compounds (as
        // espeak-ng reads these); an s between them goes with the second.
        assert_eq!(
            ph("Ravenhollow's gate, Ironforge, Silverpine and Hearthstone."),
            ["ɹˈeɪvənhˌɑːloʊz ɡˈeɪt, ˈaɪɚnfˌɔːɹdʒ, sˈɪlvɚpˌaɪn ænd hˈɑːɹθstoʊn."]
        );
        assert_eq!(ph("Sunspear, Windhelm"), ["sˈʌnspɪɹ, wˈɪndhɛlm"]);
        // An unstressed i before a vowel, as espeak-ng writes it: iə in -ious/-ian, a glide
        // before o, -ial, -iat and stressed vowels.
        assert_eq!(
            ph("Various Indian radios, an axiom, immediately."),
            ["vˈɛɹiəs ˈɪndiən ɹˈeɪdɪʲˌoʊz, ɐn ˈæksɪʲəm, ɪmˈiːdɪʲətli."]
        );
        // re- before a consonant (the dictionary's IY0), r after aɪ, and the linking r after
        // it before a vowel.
        assert_eq!(ph("Retreat and reload; the spire is on fire."), ["ɹᵻtɹˈiːt ænd ɹᵻlˈoʊd; ðə spˈaɪɚɹ ɪz ˌɔn fˈaɪɚ."]);
        assert_eq!(ph("NSFW AFK"), ["ˌɛnˌɛsˌɛfdˈʌbəljˌuː ˌeɪˌɛfkˈeɪ"], "as espeak-ng spells them");
        assert_eq!(ph("The NPC saw TV at the UN."), ["ðɪʲ ˌɛnpˌiːsˈiː sˈɔː tˌiːvˈiːʲ æt ðə jˌuːˈɛn."], "as espeak-ng");
        // Their plurals and possessives: spelled, then -s (as espeak-ng reads NPC's, CEOs, GPUs
        // and ABCs; it drops the s of TVs and MPs, which here keep it).
        assert_eq!(
            ph("The NPC's NPCs, CEOs, GPUs, ABCs, TVs, MPs and FBI's."),
            ["ðɪʲ ˌɛnpˌiːsˈiːz ˌɛnpˌiːsˈiːz, sˌiːʲˌiːʲˈoʊz, dʒˌiːpˌiːjˈuːz, ˌeɪbˌiːsˈiːz, tˌiːvˈiːz, ˌɛmpˈiːz ænd ˌɛfbˌiːʲˈaɪz."]
        );
        assert_eq!(ph("The AI's plan: show your ID."), ["ðɪʲ ˌeɪˈaɪz plˈæn: ʃˈoʊ jʊɹ aɪdˈiː."], "as espeak-ng");
        // Units after a number spelled, a dot inside an address said, as espeak-ng reads them.
        assert_eq!(ph("40 km or 10 ft in AD 1250"), ["fˈɔːɹɾi kˌeɪˈɛm ɔːɹ tˈɛn ˌɛftˈiːʲ ɪn ˌeɪdˈiː twˈɛlv fˈɪfti"]);
        assert_eq!(ph("See www.example.com now."), ["sˈiː dˌʌbəljˌuːdˌʌbəljˌuːdˈʌbəljˌuː dˈɑːt ɛɡzˈæmpəl dˈɑːt kˈɑːm nˈaʊ."]);
    }

    #[test]
    fn controls_are_spaces_and_nasty_input_does_not_panic() {
        assert_eq!(
            ph("Hello\0there,\u{1}traveler."),
            ph("Hello there, traveler.")
        );
        assert!(ph("").is_empty());
        assert!(ph(" \n\t\0 ").is_empty());
        let long = "a".repeat(5000);
        for text in [
            "!!!",
            "...",
            "\u{1F600}\u{4F60}\u{597D}",
            "$",
            "$.",
            "-",
            "1/0/0",
            "99:99",
            "1e10",
            &long,
            "'''",
            "x.y.z.",
            "99999999999999999999999999st",
            "$99999999999999999999999.999",
        ] {
            builtin().phonemize(text).unwrap();
        }
    }

    #[test]
    fn missing_data_names_the_directory() {
        let err = BuiltinPhonemizer::from_dir(Path::new("/nonexistent/tvtts-data")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/tvtts-data") && msg.contains("scripts/setup.sh"),
            "{msg}"
        );
    }

    #[test]
    fn loads_fast_once_cached() {
        let t = std::time::Instant::now();
        let _ = builtin();
        let _ = builtin();
        // ~0.15 s in release here; the bound leaves room for a busy machine.
        assert!(t.elapsed().as_secs_f64() < 1.0, "{:?}", t.elapsed());
    }

    /// Phoneme character error rate against espeak-ng over `TVTTS_PHONEMIZER_SENTENCES`
    /// (default: the held-out set), one sentence per line. Run by scripts/measure_phonemizer.py.
    #[cfg(feature = "espeak")]
    #[test]
    #[ignore = "measurement, run by hand"]
    fn measure_cer() {
        use crate::phonemize::EspeakPhonemizer;
        let path = std::env::var("TVTTS_PHONEMIZER_SENTENCES").unwrap_or_else(|_| {
            format!(
                "{}/../bench/texts/phonemizer_heldout.txt",
                env!("CARGO_MANIFEST_DIR")
            )
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let (b, e) = (builtin(), EspeakPhonemizer::new("en-us").unwrap());
        let (mut errors, mut total) = (0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let ours: Vec<char> = b.phonemize(line).unwrap().join(" ").chars().collect();
            let theirs: Vec<char> = e.phonemize(line).unwrap().join(" ").chars().collect();
            let d = levenshtein(&ours, &theirs);
            errors += d;
            total += theirs.len();
            println!(
                "LINE\t{d}\t{}\t{line}\nBUILTIN\t{}\nESPEAK\t{}",
                theirs.len(),
                ours.iter().collect::<String>(),
                theirs.iter().collect::<String>()
            );
        }
        println!(
            "CER\t{errors}\t{total}\t{:.4}",
            errors as f64 / total as f64
        );
    }

    /// CER on a small fixed set stays below a bound (espeak-ng's output for it is in the test).
    #[test]
    fn small_set_cer_is_bounded() {
        let set = [
            (
                "The old bridge collapsed last winter.",
                "ðɪʲ ˈoʊld bɹˈɪdʒ kəlˈæpst lˈæst wˈɪntɚ.",
            ),
            (
                "Sit down by the fire and warm yourself up.",
                "sˈɪt dˌaʊn baɪ ðə fˈaɪɚ ænd wˈɔːɹm jɔːɹsˈɛlf ˈʌp.",
            ),
            ("Are you sure about this?", "ɑːɹ juː ʃˈʊɹ ɐbˌaʊt ðˈɪs?"),
            (
                "First, gather the herbs; second, boil the water.",
                "fˈɜːst, ɡˈæðɚ ðɪʲ ˈɜːbz; sˈɛkənd, bˈɔɪl ðə wˈɔːɾɚ.",
            ),
            (
                "Meet me at 10:30 tonight.",
                "mˈiːt mˌiːʲ æt tˈɛn θˈɜːɾi tənˈaɪt.",
            ),
        ];
        let (mut errors, mut total) = (0, 0);
        for (text, espeak) in set {
            let ours: Vec<char> = ph(text).join(" ").chars().collect();
            let theirs: Vec<char> = espeak.chars().collect();
            errors += levenshtein(&ours, &theirs);
            total += theirs.len();
        }
        let cer = errors as f64 / total as f64;
        assert!(cer < 0.08, "CER {cer}");
    }

    #[test]
    fn levenshtein_counts_edits() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(levenshtein(&c("kitten"), &c("sitting")), 3);
        assert_eq!(levenshtein(&c(""), &c("ab")), 2);
    }
}
