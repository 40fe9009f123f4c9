//! Words → IPA: lexicon of function words, then the CMU dictionary, then spelled acronyms,
//! then the g2p model; and the joins espeak-ng makes between words of a clause.

use super::arpabet::to_ipa;
use super::dict::{CmuDict, Phone};
use super::g2p::G2p;
use super::lexicon;
use super::normalize::Item;

/// Whether an IPA word starts with a vowel (after any stress mark).
fn starts_with_vowel(ipa: &str) -> bool {
    ipa.chars()
        .find(|c| !matches!(c, 'ˈ' | 'ˌ'))
        .is_some_and(|c| "aeiouæɑɐɒɔəɚɛɜɪʊʌᵻ".contains(c))
}

/// The phones of `lower` (a lower-case word) from the dictionary, with `'s` endings.
fn dictionary(dict: &CmuDict, lower: &str) -> Option<Vec<Phone>> {
    if let Some(p) = dict.get(lower) {
        return Some(p.to_vec());
    }
    let base = lower
        .strip_suffix("'s")
        .or_else(|| lower.strip_suffix("s'"))?;
    let mut phones = dict.get(base)?.to_vec();
    push_s(&mut phones);
    Some(phones)
}

/// Appends the `-s` ending: `ᵻz` after sibilants, `s` after voiceless, else `z`.
fn push_s(phones: &mut Vec<Phone>) {
    match phones.last().map(|p| p.name()) {
        Some("S" | "Z" | "SH" | "ZH" | "CH" | "JH") => {
            phones.push(Phone::of("IH", 0));
            phones.push(Phone::of("Z", 0));
        }
        Some("P" | "T" | "K" | "F" | "TH") => phones.push(Phone::of("S", 0)),
        _ => phones.push(Phone::of("Z", 0)),
    }
}

/// The sounds of a vowelless word's letters, a doubled letter once (`psst` → pst, `grr` → ɡɹ,
/// `pfft` → pft, `hmph` → hmf).
fn consonant_sounds(ascii: &str) -> String {
    let b = ascii.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let pair = b.get(i + 1).map(|&n| (b[i], n));
        let (sound, len) = match pair {
            Some((b's', b'h')) => ("ʃ", 2),
            Some((b'c', b'h')) => ("tʃ", 2),
            Some((b't', b'h')) => ("θ", 2),
            Some((b'p', b'h')) => ("f", 2),
            _ => (consonant(b[i]), 1),
        };
        if !out.ends_with(sound) {
            out.push_str(sound);
        }
        i += len;
    }
    out
}

/// The sound of a consonant letter (`y` at a word's start: `j`); "" for anything else.
fn consonant(letter: u8) -> &'static str {
    match letter {
        b'b' => "b",
        b'c' | b'k' | b'q' => "k",
        b'd' => "d",
        b'f' => "f",
        b'g' => "ɡ",
        b'h' => "h",
        b'j' => "dʒ",
        b'l' => "l",
        b'm' => "m",
        b'n' => "n",
        b'p' => "p",
        b'r' => "ɹ",
        b's' => "s",
        b't' => "t",
        b'v' => "v",
        b'w' => "w",
        b'x' => "ks",
        b'y' => "j",
        b'z' => "z",
        _ => "",
    }
}

/// Whether `phones` are the names of the letters of `lower`, one after another (`fbi` → EH F B
/// IY AY), as CMUdict writes an acronym read letter by letter.
fn is_spelling(lower: &str, phones: &[Phone]) -> bool {
    let mut names = phones.iter().map(|p| p.name());
    lower.chars().all(|c| {
        lexicon::letter_arpabet(c).is_some_and(|letter| letter.split(' ').all(|n| names.next() == Some(n)))
    }) && names.next().is_none()
}

/// IPA of one word (`word` as written, case kept).
pub(super) fn word(dict: &CmuDict, g2p: &G2p, word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some(ipa) = lexicon::word(&lower) {
        return ipa.to_owned();
    }
    let letters = word.chars().filter(char::is_ascii_alphabetic).count();
    let all_caps = letters >= 2 && word.chars().all(|c| !c.is_alphabetic() || c.is_uppercase());
    // A shouted word is the word ("RUN", "GET OUT"), as espeak-ng reads it; only the few it
    // spells in capitals though it reads the lower-case word are spelled.
    if all_caps && lexicon::spelled_in_capitals(&lower) {
        return lexicon::spell(&lower);
    }
    if let Some(phones) = dictionary(dict, &lower) {
        // An acronym the dictionary spells (TV, FBI) is spelled as espeak-ng spells it.
        if is_spelling(&lower, &phones) {
            return lexicon::spell(&lower);
        }
        return to_ipa(&lower, &phones);
    }
    // An unknown word in capitals is an acronym when short (AFK, OMG) or without a vowel
    // (NSFW); a longer one with a vowel is read as a word, as espeak-ng reads it (a shouted
    // name, "ZORG!", or IMHO, ROFL).
    let vowel = lower.char_indices().any(|(i, c)| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') || (c == 'y' && i > 0));
    if all_caps && (letters <= 3 || (letters <= 5 && !vowel)) {
        return lexicon::spell(&lower);
    }
    let ascii: String = lower.chars().filter(|c| c.is_ascii_lowercase()).collect();
    if ascii.is_empty() {
        return String::new();
    }
    if ascii.len() == 1 {
        return lexicon::spell(&ascii);
    }
    // An unknown word without a vowel is an interjection (psst, pfft, grr, tsk): its letters'
    // sounds, not the model's guess at a word.
    if !vowel && ascii.len() <= 6 {
        return consonant_sounds(&ascii);
    }
    // An unknown possessive: the word, then -s.
    if let Some(base) = lower.strip_suffix("'s") {
        let base: String = base.chars().filter(|c| c.is_ascii_lowercase()).collect();
        if !base.is_empty() {
            let mut phones = g2p.predict(&base);
            push_s(&mut phones);
            return to_ipa(&lower, &phones);
        }
    }
    let phones = g2p.predict(&ascii);
    to_ipa(&ascii, &phones)
}

/// A clause's words as espeak-ng joins them: `the`/`to` before a vowel (ðɪ, tʊ), `it`/`at`
/// flapped before a vowel, a linking `ʲ` after `i`/`iː` and `ɹ` after `ɚ`/`ɜː` before a vowel.
pub(super) fn clause(dict: &CmuDict, g2p: &G2p, items: &[Item]) -> String {
    let mut ipas: Vec<(String, String)> = items
        .iter()
        .map(|item| match item {
            Item::Word(w) => (w.to_lowercase(), word(dict, g2p, w)),
            Item::Spell(s) => (s.clone(), lexicon::spell(s)),
        })
        .filter(|(_, ipa)| !ipa.is_empty())
        .collect();
    if let Some((w, ipa)) = ipas.last_mut() {
        if lexicon::stressed_at_end(w) && !ipa.contains('ˈ') {
            *ipa = ipa.replacen('ˌ', "ˈ", 1);
            if !ipa.contains('ˈ') {
                // No stress at all (`there`): before the first vowel.
                if let Some(pos) = ipa.find(|c: char| "aeiouæɑɐɒɔəɚɛɜɪʊʌᵻ".contains(c))
                {
                    ipa.insert(pos, 'ˈ');
                }
            }
        }
    }
    for k in 0..ipas.len() {
        let next_and = ipas.get(k + 1).is_some_and(|(w, _)| w == "and");
        let vowel_next = ipas
            .get(k + 1)
            .is_some_and(|(_, ipa)| starts_with_vowel(ipa));
        if !vowel_next {
            continue;
        }
        let (w, ipa) = &mut ipas[k];
        match w.as_str() {
            "the" => *ipa = "ðɪʲ".into(),
            "to" => *ipa = "tʊ".into(),
            "it" => *ipa = "ɪɾ".into(),
            "at" => *ipa = "æɾ".into(),
            _ => {
                if ipa.ends_with('i') || ipa.ends_with("iː") {
                    ipa.push('ʲ');
                } else if (ipa.ends_with('ɚ') && !ipa.ends_with("aɪɚ") && !ipa.ends_with("aʊɚ")
                    || ipa.ends_with("ɜː"))
                    && !next_and
                {
                    ipa.push('ɹ');
                }
            }
        }
    }
    ipas.into_iter()
        .map(|(_, ipa)| ipa)
        .collect::<Vec<_>>()
        .join(" ")
}
