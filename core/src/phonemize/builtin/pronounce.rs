//! Words → IPA: lexicon of function words, then the CMU dictionary, then spelled acronyms,
//! then the g2p model; and the joins espeak-ng makes between words of a clause.

use super::arpabet::to_ipa;
use super::dict::{CmuDict, Phone};
use super::g2p::G2p;
use super::lexicon;
use super::normalize::Item;

/// Whether an IPA word starts with a vowel (after any stress mark).
fn starts_with_vowel(ipa: &str) -> bool {
    ipa.chars().find(|c| !matches!(c, 'ˈ' | 'ˌ')).is_some_and(is_vowel)
}

/// Whether `c` is a vowel symbol of the IPA the phonemizer writes.
fn is_vowel(c: char) -> bool {
    "aeiouæɑɐɒɔəɚɛɜɪʊʌᵻ".contains(c)
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

/// `ipa` (one word) with the `-s` ending as [`push_s`] chooses it: `ɪz` after a sibilant, `s`
/// after a voiceless stop or fricative, else `z` (`ˌɛnpˌiːsˈiː` → `…sˈiːz`, `ˈɛf` → `ˈɛfs`).
fn with_s(ipa: &str) -> String {
    let sound = ipa.trim_end_matches(['ˈ', 'ˌ', 'ː', 'ʲ']);
    let ending = if sound.ends_with(['s', 'z', 'ʃ', 'ʒ']) {
        "ɪz"
    } else if sound.ends_with(['p', 't', 'k', 'f', 'θ']) {
        "s"
    } else {
        "z"
    };
    format!("{ipa}{ending}")
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

/// Word endings that are suffixes, not words, at the end of a compound (`hapless`,
/// `wantable`): said with a reduced vowel, which the dictionary's word does not have.
const NOT_SECOND: [&str; 6] = ["able", "ably", "ness", "less", "ment", "ments"];

/// `wind` the noun (the dictionary's first reading is the verb's, `waɪnd`).
const WIND_NOUN: [&str; 4] = ["W", "IH1", "N", "D"];

/// First parts that leave the main stress on what follows (`overpowered`, `underworld`).
const PREFIXES: [&str; 10] = ["over", "under", "out", "super", "counter", "anti", "inter", "semi", "multi", "non"];

/// An unknown word made of two dictionary words of at least 4 letters each (`ravenhollow`,
/// `ironforge`, `silverpine`: a game's place names): their phones, the first keeping the main
/// stress and the second's made secondary, as English compounds are said (after a prefix such
/// as `over`, the other way round). Of several splits, the one whose shorter part is longest,
/// then the one with the longer second part (`sell|sword`, not `sells|word`); an `s` between
/// the parts goes with the second where both are still words (`sun|spear`, not `suns|pear`).
/// Shorter parts are left to the g2p model: a name split into 3-letter words (`mort|hal`,
/// `lun|aria`) is more often wrong than right.
fn compound(dict: &CmuDict, ascii: &str) -> Option<Vec<Phone>> {
    let known = |w: &str| dict.get(w).filter(|p| !is_spelling(w, p));
    let (a, b) = (4..=ascii.len().saturating_sub(4))
        .filter(|&i| ascii.is_char_boundary(i))
        .map(|i| ascii.split_at(i))
        .filter(|&(a, b)| !NOT_SECOND.contains(&b) && known(a).is_some() && known(b).is_some())
        .max_by_key(|(a, b)| (a.len().min(b.len()), b.len()))?;
    let shifted = a.strip_suffix('s').map(|a| (a, format!("s{b}")));
    let (a, b) = match shifted {
        Some((a, b)) if known(a).is_some() && known(&b).is_some() => (a, b),
        _ => (a, b.to_owned()),
    };
    // A part read as its noun where the dictionary's first reading is another (`windhelm`).
    let part = |w: &str| match w {
        "wind" => Some(WIND_NOUN.iter().map(|p| Phone::parse(p).expect("a phone")).collect::<Vec<_>>()),
        _ => known(w).map(<[Phone]>::to_vec),
    };
    let (pa, pb) = (part(a)?, part(&b)?);
    let demote = |p: &Phone| if p.stress == 1 { Phone { stress: 2, ..*p } } else { *p };
    let prefix = PREFIXES.contains(&a);
    let first = pa.iter().map(|p| if prefix { demote(p) } else { *p });
    let second = pb.iter().map(|p| if prefix { *p } else { demote(p) });
    Some(first.chain(second).collect())
}

/// The phones of an unknown lower-case word: the two dictionary words it is made of, else the
/// g2p model's guess.
fn unknown(dict: &CmuDict, g2p: &G2p, ascii: &str) -> Vec<Phone> {
    compound(dict, ascii).unwrap_or_else(|| g2p.predict(ascii))
}

/// IPA of one word (`word` as written, case kept).
pub(super) fn word(dict: &CmuDict, g2p: &G2p, word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some(ipa) = lexicon::word(&lower) {
        return ipa.to_owned();
    }
    // An acronym's plural or possessive (NPCs, NPC's, GPUs, ABCs): the lower-case `s` fails
    // the capitals test below, and the letters would be read as a word ("npks"). The acronym
    // as read in capitals, then -s.
    let caps = word.strip_suffix("'s").or_else(|| word.strip_suffix('s'));
    if let Some(caps) = caps.filter(|c| c.len() >= 2 && c.chars().all(|c| c.is_ascii_uppercase())) {
        return with_s(&self::word(dict, g2p, caps));
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
    let vowel = lexicon::has_vowel_letter(&lower);
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
            let mut phones = unknown(dict, g2p, &base);
            push_s(&mut phones);
            return to_ipa(&lower, &phones);
        }
    }
    let phones = unknown(dict, g2p, &ascii);
    to_ipa(&ascii, &phones)
}

/// Where espeak-ng puts a clause's last stress: of the words after its last stressed one
/// (primary stress; a secondary does not count), the last that takes stress there
/// ([`lexicon::stressed_in_tail`]: `I know what they are` → wˈʌt, `have you been?` → hˈæv,
/// `so could we` → kˈʊd), or the clause's last word if stressed only there
/// ([`lexicon::stressed_last`]: `leave this.` ðˈɪs) or `is`/`was` after an unstressed word
/// (`here it is` → ˈɪz; after a stressed word they stay ɪz, wʌz). `what` is unstressed inside
/// a clause (`we did what we could` → wʌt); it and `when` keep a secondary stress first in one
/// (`when I was young` wˌɛn); `did` before `not` is unstressed (`I did not` dɪd, else dˈɪd).
fn clause_stress(ipas: &mut [(String, String)]) {
    let Some(last) = ipas.len().checked_sub(1) else { return };
    for k in 0..ipas.len() {
        if k > 0 && ipas[k].0 == "what" {
            ipas[k].1 = "wʌt".into();
        }
        if k == 0 && ipas[k].0 == "when" {
            ipas[k].1 = "wˌɛn".into();
        }
        if ipas[k].0 == "did" && ipas.get(k + 1).is_some_and(|(w, _)| w == "not") {
            ipas[k].1 = "dɪd".into();
        }
    }
    if let Some(end) = lexicon::at_end(&ipas[last].0) {
        ipas[last].1 = end.into();
    }
    let tail = ipas.iter().rposition(|(_, ipa)| ipa.contains('ˈ')).map_or(0, |k| k + 1);
    let after_unstressed = last > 0 && !ipas[last - 1].1.contains('ˈ');
    let takes = |k: usize| {
        let w = ipas[k].0.as_str();
        // `what` and `when` first in a clause keep their secondary stress (`what is it?` wˌʌt,
        // `when?` wˌɛn).
        let first_wh = k == 0 && matches!(w, "what" | "when");
        let at_end = k == last && (lexicon::stressed_last(w) || (after_unstressed && matches!(w, "is" | "was")));
        !first_wh && (lexicon::stressed_in_tail(w) || at_end)
    };
    let Some(k) = (tail..ipas.len()).rev().find(|&k| takes(k)) else { return };
    let ipa = &mut ipas[k].1;
    *ipa = ipa.replacen('ˌ', "ˈ", 1);
    if !ipa.contains('ˈ') {
        // No stress at all (`there`): before the first vowel.
        if let Some(pos) = ipa.find(is_vowel) {
            ipa.insert(pos, 'ˈ');
        }
    }
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
    clause_stress(&mut ipas);
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
                } else if (ipa.ends_with('ɚ') || ipa.ends_with("ɜː")) && !next_and {
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
