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

/// Accents (espeak-ng voices) that are rhotic, but whose IPA from espeak-ng 1.51 leaves out the
/// r of some r-coloured vowels: Scottish "her", "term", "person" come out `he`, `tˈem`,
/// `pˈesən` and "tailor" `tˈeːlɜ`, while "first", "car", "four" keep theirs (`fˈəɹst`, `kˈaːr`,
/// `fˈor`). Spoken so, "her" is "he" and "were" "we". For these the r is put back where the
/// voice's own en-us reading of the word has an r-coloured vowel ([`restore_rhotic`]).
const RHOTIC: &[&str] = &["en-gb-scotland"];

/// The reading an accent's r-coloured vowels are compared with (the voice's own).
const BASE_VOICE: &str = "en-us";

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
    /// For a [`RHOTIC`] accent: the en-us reading its r-coloured vowels are restored from.
    base: Option<Box<dyn Phonemizer>>,
    learned: Box<dyn Fn(char) -> bool + Send + Sync>,
}

impl AccentPhonemizer {
    /// The accent `name` (see [`ACCENTS`]) for a voice that learned the symbols `learned` says.
    ///
    /// # Errors
    /// An unknown accent; espeak-ng missing from this build or lacking the accent's voice.
    pub fn new(name: &str, learned: impl Fn(char) -> bool + Send + Sync + 'static) -> Result<Self> {
        let voice = espeak_voice(name)?;
        let make = |voice: &str| Kind::Espeak.make(voice).map_err(|e| Error::Phonemizer(format!("accent `{name}` needs espeak-ng's `{voice}` voice: {e}")));
        let inner = make(voice)?;
        let base = if RHOTIC.contains(&voice) { Some(make(BASE_VOICE)?) } else { None };
        Ok(AccentPhonemizer { inner, base, learned: Box::new(learned) })
    }
}

impl Phonemizer for AccentPhonemizer {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        let mut sentences = self.inner.phonemize(text)?;
        if let Some(base) = &self.base {
            let base = base.phonemize(text)?;
            // Sentence by sentence where both readings split the text alike (they do unless a
            // voice's own rules break a clause differently; then the accent's stays as it is).
            if base.len() == sentences.len() {
                for (s, b) in sentences.iter_mut().zip(&base) {
                    *s = restore_rhotic(s, b);
                }
            }
        }
        Ok(sentences.iter().map(|s| map_symbols(s, &*self.learned)).collect())
    }
}

/// `accent` (one sentence of a rhotic accent) with an r after each vowel whose counterpart in
/// `base` (the same sentence read in en-us) is r-coloured (`ɜ`, `ɚ`) while the accent's has no
/// r after it: `ɜ` or `ə` becomes `ɚ` (the voice's r-coloured schwa), any other vowel is
/// followed by `ɹ`. Words are paired by `pair_words` and their vowels (runs of vowel symbols
/// and length marks) in order; a word without a partner, or whose vowel count differs from its
/// partner's, is left as it is.
pub fn restore_rhotic(accent: &str, base: &str) -> String {
    let (words, base_words): (Vec<&str>, Vec<&str>) = (accent.split(' ').collect(), base.split(' ').collect());
    let partners = pair_words(&words, &base_words);
    words
        .iter()
        .zip(&partners)
        .map(|(w, p)| match p {
            Some(j) => restore_word(w, base_words[*j]),
            None => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Edit-distance alignment of `a` and `b`: pairs (index in a, index in b), `None` for a gap.
pub fn align<T: PartialEq>(a: &[T], b: &[T]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=m).collect();
    let cost = |i: usize, j: usize| usize::from(a[i - 1] != b[j - 1]);
    for i in 1..=n {
        for j in 1..=m {
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost(i, j));
        }
    }
    let (mut i, mut j, mut path) = (n, m, Vec::new());
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + cost(i, j) {
            path.push((Some(i - 1), Some(j - 1)));
            (i, j) = (i - 1, j - 1);
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            path.push((Some(i - 1), None));
            i -= 1;
        } else {
            path.push((None, Some(j - 1)));
            j -= 1;
        }
    }
    path.reverse();
    path
}

/// For each word of `a`, the word of `b` in its place: the two readings aligned word by word
/// ([`align`] on the words' [`consonants`]: a pair whose consonants agree costs nothing, another
/// pair or a word only one reading has costs one), so a word only one reading says (British
/// "two thousand and eight") does not shift the pairs after it.
fn pair_words(a: &[&str], b: &[&str]) -> Vec<Option<usize>> {
    let keys = |words: &[&str]| words.iter().map(|w| consonants(w)).collect::<Vec<_>>();
    let mut partners = vec![None; a.len()];
    for pair in align(&keys(a), &keys(b)) {
        if let (Some(i), Some(j)) = pair {
            partners[i] = Some(j);
        }
    }
    partners
}

/// A word's consonants, for pairing two readings of it: vowels, length, stress, palatal
/// glides, diacritics (syllabic, dental) and punctuation left out, and the accents' `r`, `ɾ`,
/// `ʔ` written as en-us's `ɹ`, `t`.
fn consonants(word: &str) -> String {
    word.chars()
        .filter(|&c| !(is_vowel(c) || "ːˈˌʲ:\u{329}\u{32a}".contains(c) || c.is_ascii_punctuation()))
        .map(|c| match c {
            'r' => 'ɹ',
            'ɾ' | 'ʔ' => 't',
            c => c,
        })
        .collect()
}

/// [`restore_rhotic`] for one word.
fn restore_word(word: &str, base: &str) -> String {
    let (chars, base_chars): (Vec<char>, Vec<char>) = (word.chars().collect(), base.chars().collect());
    let (ours, theirs) = (nuclei(&chars), nuclei(&base_chars));
    if ours.len() != theirs.len() {
        return word.to_string();
    }
    let is_r = |c: Option<&char>| c.is_some_and(|c| "rɹ".contains(*c));
    let mut out = String::with_capacity(word.len() + 4);
    let mut at = 0;
    for (&(from, to), &(bf, bt)) in ours.iter().zip(&theirs) {
        out.extend(&chars[at..from]);
        let nucleus: String = chars[from..to].iter().collect();
        let coloured = base_chars[bf..bt].iter().any(|c| "ɜɚ".contains(*c));
        if !coloured || is_r(chars.get(to)) || nucleus.contains('ɚ') {
            out.push_str(&nucleus);
        } else if nucleus == "ɜ" || nucleus == "ə" {
            out.push('ɚ');
        } else {
            out.push_str(&nucleus);
            out.push('ɹ');
        }
        at = to;
    }
    out.extend(&chars[at..]);
    out
}

/// The vowels of a word: runs of vowel symbols and length marks (`ː`, espeak-ng's ASCII `:`
/// after a vowel), and syllabic consonants (en-us "certain" `sˈɜːʔn̩`, where the accent has
/// `ən`), as index ranges.
fn nuclei(chars: &[char]) -> Vec<(usize, usize)> {
    const SYLLABIC: char = '\u{329}';
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let vocalic = is_vowel(c)
            || (i > 0 && "ː:".contains(c) && is_vowel(chars[i - 1]))
            || c == SYLLABIC
            || chars.get(i + 1) == Some(&SYLLABIC);
        match out.last_mut() {
            Some((_, end)) if vocalic && *end == i => *end = i + 1,
            _ if vocalic => out.push((i, i + 1)),
            _ => {}
        }
    }
    out
}

/// Is `c` a vowel symbol (for telling espeak-ng's ASCII length mark from a colon)?
fn is_vowel(c: char) -> bool {
    "aeiouyæɑɐɒɔəɘɚɝɛɜɞɤɨɪᵻɯɵøœɶʉʊʌʏ".contains(c)
}

/// The learned symbols (by `learned`) nearest to `c`, a symbol the voice did not learn, best
/// first (empty where none is known).
pub fn nearest_learned(c: char, learned: &dyn Fn(char) -> bool) -> Vec<&'static str> {
    NEAREST.iter().filter(|(from, _)| *from == c).flat_map(|(_, options)| options.iter().copied()).filter(|o| o.chars().all(learned)).collect()
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
        let offglide = out.chars().last().is_some_and(is_vowel);
        let options = match offglide.then(|| OFFGLIDE.iter().find(|(from, _)| *from == c)).flatten() {
            Some((_, options)) => options.iter().copied().filter(|o| o.chars().all(learned)).collect(),
            None => nearest_learned(c, learned),
        };
        if let Some(to) = options.first() {
            out.push_str(to);
            continue;
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

    #[test]
    fn aligns_substitutions_deletions_and_insertions() {
        assert_eq!(align(&[1, 2, 3], &[1, 4, 3, 5]), vec![(Some(0), Some(0)), (Some(1), Some(1)), (Some(2), Some(2)), (None, Some(3))]);
        assert_eq!(align(&[1, 2, 3], &[1, 3]), vec![(Some(0), Some(0)), (Some(1), None), (Some(2), Some(1))]);
    }

    #[test]
    fn rhotic_accents_get_back_the_r_of_r_coloured_vowels() {
        // espeak-ng 1.51's Scottish "her heard the tailor, first, certain" against en-us.
        let (scottish, us) = ("he hˈed ðə tˈeːlɜ, fˈəɹst, sˈetən", "hɜː hˈɜːd ðə tˈeɪlɚ, fˈɜːst, sˈɜːʔn̩");
        assert_eq!(restore_rhotic(scottish, us), "heɹ hˈeɹd ðə tˈeːlɚ, fˈəɹst, sˈeɹtən");
        // A vowel that keeps its r, or one en-us does not colour, stays.
        assert_eq!(restore_rhotic("kˈaːr fˈor vˈɛre", "kˈɑːɹ fˈɔːɹ vˈɛɹi"), "kˈaːr fˈor vˈɛre");
        // A word only one reading has leaves the pairs after it in place ("two thousand and
        // eight, her"); a word without a partner, or whose vowels do not pair, stays.
        assert_eq!(restore_rhotic("tˈʉː θˈʌʉzənd ən ˈeːt, he", "tˈuː θˈaʊzənd ˈeɪt, hɜː"), "tˈʉː θˈʌʉzənd ən ˈeːt, heɹ");
        assert_eq!(restore_rhotic("ən he", "hɜː"), "ən heɹ");
        assert_eq!(restore_rhotic("hˈedə", "hˈɜːd"), "hˈedə");
    }
}
