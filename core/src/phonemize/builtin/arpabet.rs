//! ARPAbet (with CMUdict stress) → IPA as espeak-ng en-us writes it.
//!
//! espeak-ng puts the stress mark right before the stressed *vowel* (`həlˈoʊ`, `tɹˈævəlɚ`), so
//! no syllabification is needed. The rest are espeak-ng's en-us habits, measured on words:
//! - a secondary stress next to another stress is dropped (`nightfall` nˈaɪtfɔːl), as is a
//!   word-final secondary `IY2` (`company` kˈʌmpəni); of several primaries only the last stays;
//! - reduced vowels depend on the spelling, so vowels are aligned with the word's vowel
//!   letters ([`vowel_letters`]): `-ed`/`-es` → `ᵻ`, `be-`/`de-`/`re-` → `ᵻ`, `ex-`/`en-` → `ɛ`,
//!   an unstressed `a`-initial word → `ɐ`, reduced `i`/`ai`/`-age`/`-est`/`-et` → `ɪ`;
//! - `t` between a vowel and an unstressed vowel is a flap `ɾ`; `-tten`/`-ton` is `ʔn̩`;
//! - r-coloured vowels merge with their `R` (`ɑːɹ` `ɔːɹ` `ɛɹ` `ɪɹ` `ʊɹ`), `ER` is `ɜː`/`ɚ`,
//!   and before a vowel gain a linking `ɹ`; short `ɔ` before `f` `s` `θ` `ŋ` (`long` lˈɔŋ).

use super::dict::Phone;

/// IPA of one consonant.
fn consonant(name: &str) -> &'static str {
    match name {
        "B" => "b",
        "CH" => "tʃ",
        "D" => "d",
        "DH" => "ð",
        "F" => "f",
        "G" => "ɡ",
        "HH" => "h",
        "JH" => "dʒ",
        "K" => "k",
        "L" => "l",
        "M" => "m",
        "N" => "n",
        "NG" => "ŋ",
        "P" => "p",
        "R" => "ɹ",
        "S" => "s",
        "SH" => "ʃ",
        "T" => "t",
        "TH" => "θ",
        "V" => "v",
        "W" => "w",
        "Y" => "j",
        "Z" => "z",
        "ZH" => "ʒ",
        _ => "",
    }
}

/// Whether `c` is a vowel letter at byte `i` of `word` (`y` only when not before a vowel).
fn is_vowel_letter(word: &[u8], i: usize) -> bool {
    match word[i] {
        b'a' | b'e' | b'i' | b'o' | b'u' => true,
        b'y' => i > 0 && !matches!(word.get(i + 1), Some(b'a' | b'e' | b'i' | b'o' | b'u')),
        _ => false,
    }
}

/// Whether the word's first i/e + vowel spelling is one where espeak-ng writes an unstressed
/// i before ə as ɪʲə: an o not in -ion/-iou (`axiom`, `radiological`, `osteopathic`), -ial
/// (`filial`) and -iat (`immediately`); elsewhere (`various`, `champion`, `Indian`, `area`,
/// `medium`) it writes iə.
fn glided_hiatus(word: &str) -> bool {
    let b = word.as_bytes();
    let at = (0..b.len().saturating_sub(1)).find(|&i| matches!(b[i], b'i' | b'e') && matches!(b[i + 1], b'a' | b'o' | b'u'));
    let Some(i) = at else { return false };
    let after = b.get(i + 2).copied();
    match b[i + 1] {
        b'o' => !matches!(after, Some(b'n' | b'u')),
        b'a' => matches!(after, Some(b'l' | b't')),
        _ => false,
    }
}

/// The vowel-letter groups of `word` (byte ranges), one per vowel phone, when their number
/// matches `vowels` (after dropping a silent final `e`, `-es`, `-ed`); else `None`.
pub(super) fn vowel_letters(word: &str, vowels: usize) -> Option<Vec<(usize, usize)>> {
    let b = word.as_bytes();
    if !word.is_ascii() {
        return None;
    }
    let mut groups = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if is_vowel_letter(b, i) {
            let start = i;
            while i < b.len() && is_vowel_letter(b, i) {
                i += 1;
            }
            groups.push((start, i));
        } else {
            i += 1;
        }
    }
    if groups.len() == vowels {
        return Some(groups);
    }
    // A silent final e (`make`, `makes`, `maked`): drop the last group if it is just that e.
    if groups.len() == vowels + 1 {
        let (s, e) = *groups.last()?;
        let tail = &word[e..];
        if &word[s..e] == "e" && s > 0 && matches!(tail, "" | "s" | "d" | "'s") {
            groups.pop();
            return Some(groups);
        }
    }
    None
}

/// Is `p` an unstressed vowel (after demotion)?
fn unstressed(p: Option<&Phone>, stress: &[u8], i: usize) -> bool {
    p.is_some_and(|p| p.is_vowel()) && stress.get(i) == Some(&0)
}

/// espeak-style IPA of `word` (lower case) pronounced as `phones`.
pub(super) fn to_ipa(word: &str, phones: &[Phone]) -> String {
    let n = phones.len();
    let vowel_at: Vec<usize> = (0..n).filter(|&i| phones[i].is_vowel()).collect();
    let mut stress: Vec<u8> = phones.iter().map(|p| p.stress).collect();

    // Only the last primary stays primary.
    let primaries: Vec<usize> = vowel_at
        .iter()
        .copied()
        .filter(|&i| stress[i] == 1)
        .collect();
    if let Some((_, rest)) = primaries.split_last() {
        for &i in rest {
            stress[i] = 2;
        }
    }
    // Secondary stress next to another stress (or word-final IY2) is dropped.
    let before = stress.clone();
    let mut demoted = vec![false; n];
    for (k, &i) in vowel_at.iter().enumerate() {
        if before[i] != 2 {
            continue;
        }
        let prev = k > 0 && before[vowel_at[k - 1]] > 0;
        let next = vowel_at.get(k + 1).is_some_and(|&j| before[j] == 1);
        let final_iy = i == n - 1 && phones[i].name() == "IY";
        if prev || next || final_iy {
            stress[i] = 0;
            demoted[i] = true;
        }
    }

    let letters = vowel_letters(word, vowel_at.len());
    let letter = |k: usize| -> Option<&str> { letters.as_ref().map(|g| &word[g[k].0..g[k].1]) };
    let ends = |s: &str| word.ends_with(s);

    let mut out = String::with_capacity(n * 3);
    let mut i = 0;
    let mut k = 0; // vowel number
    while i < n {
        let p = phones[i];
        let next = phones.get(i + 1);
        let next_name = next.map(|p| p.name());
        if !p.is_vowel() {
            let prev_vowelish = i > 0
                && (phones[i - 1].is_vowel()
                    || phones[i - 1].name() == "R" && i > 1 && phones[i - 2].is_vowel());
            if p.name() == "T" && prev_vowelish {
                // -tten / -ton / -tain at the end: glottal stop and syllabic n.
                if i + 3 == n
                    && next_name == Some("AH")
                    && stress[i + 1] == 0
                    && phones[i + 2].name() == "N"
                {
                    out.push_str("ʔn̩");
                    break;
                }
                let before_ant = next_name == Some("AH")
                    && phones.get(i + 2).is_some_and(|p| p.name() == "N")
                    && i + 3 < n;
                if unstressed(next, &stress, i + 1) && !before_ant {
                    out.push('ɾ');
                    i += 1;
                    continue;
                }
            }
            out.push_str(consonant(p.name()));
            i += 1;
            continue;
        }

        let st = stress[i];
        let first = k == 0;
        let last = k + 1 == vowel_at.len();
        let onset = i; // consonants before the word's first vowel (when `first`)
        let rest: Vec<&str> = phones[i + 1..].iter().map(|p| p.name()).collect();
        let g = letter(k);
        let r_next = next_name == Some("R");
        let vowel_after_r = r_next && phones.get(i + 2).is_some_and(|p| p.is_vowel());
        let mut consumed_r = false;
        let mut link_r = false;

        let ipa: &str = match (p.name(), st) {
            ("AA" | "AO" | "OW", _) if r_next => {
                consumed_r = true;
                if p.name() == "AA" {
                    "ɑːɹ"
                } else {
                    "ɔːɹ"
                }
            }
            ("EH" | "EY", _) if r_next => {
                consumed_r = true;
                "ɛɹ"
            }
            ("IY" | "IH", 1 | 2)
                if r_next && vowel_after_r && (p.name() == "IY" || rest.get(1) == Some(&"OW")) =>
            {
                consumed_r = true;
                "iəɹ"
            }
            ("IH" | "IY", _) if r_next => {
                consumed_r = true;
                "ɪɹ"
            }
            ("UH" | "UW", _) if r_next => {
                consumed_r = true;
                link_r = vowel_after_r;
                "ʊɹ"
            }
            ("AA" | "AO", 1 | 2) => {
                let short = g == Some("o") && matches!(next_name, Some("F" | "S" | "TH" | "NG"))
                    || g == Some("o") && next_name == Some("N") && i + 2 == n
                    || g == Some("a")
                        && i > 0
                        && phones[i - 1].name() == "W"
                        && next_name == Some("N");
                let open = g.is_some_and(|g| matches!(g, "au" | "ou" | "aw" | "ough"));
                if short {
                    "ɔ"
                } else if p.name() == "AA" && !open {
                    "ɑː"
                } else {
                    "ɔː"
                }
            }
            ("AA", _) => "ɑː",
            ("AO", _) => "ɔː",
            ("AE", 0)
                if first && onset == 0 && g.is_some_and(|g| g.starts_with('a')) && !demoted[i] =>
            {
                "ɐ"
            }
            ("AE", _) => "æ",
            ("AH", 1 | 2) => "ʌ",
            ("AH", _) if demoted[i] => "ʌ",
            ("AH", _) => reduced_ah(word, g, first && onset == 0, last, &rest),
            ("AW", _) => "aʊ",
            ("AY", _) if r_next && !vowel_after_r => {
                // A final or preconsonantal r after aɪ is its schwa (`retire` ɹᵻtˈaɪɚ, as
                // `fire`); before a vowel it stays (`pirate` pˈaɪɹət).
                consumed_r = true;
                "aɪɚ"
            }
            ("AY", _) => "aɪ",
            ("EH", _) => "ɛ",
            ("ER", s) => {
                link_r = next.is_some_and(|p| p.is_vowel());
                if s == 0 && !demoted[i] {
                    "ɚ"
                } else {
                    "ɜː"
                }
            }
            ("EY", _) => "eɪ",
            ("IH", 1 | 2) => "ɪ",
            ("IH", _) => {
                if last && is_suffix_es_ed(word, &rest) || g == Some("i") && rest == ["T", "IY"] {
                    "ᵻ"
                } else if first && onset <= 1 && g == Some("e") {
                    let cluster = matches!(rest.first(), Some(&"K" | &"G"))
                        && matches!(rest.get(1), Some(&"S" | &"Z"))
                        || matches!(rest.first(), Some(&"N" | &"M"))
                            && rest.get(1).is_some_and(|r| !is_vowel_name(r));
                    if onset == 0 && cluster {
                        "ɛ"
                    } else {
                        "ᵻ"
                    }
                } else {
                    "ɪ"
                }
            }
            ("IY", 1 | 2) if next_name == Some("AH") && stress.get(i + 1) == Some(&0) => "i",
            ("IY", 1 | 2) => "iː",
            ("IY", _) if i + 1 == n && word.ends_with("day") => "eɪ",
            // The prefix re-/de-/be- before a consonant and a stressed vowel (`release` ɹᵻlˈiːs,
            // `reload`), as the dictionary's IH0 there.
            ("IY", 0)
                if first
                    && onset <= 1
                    && g == Some("e")
                    && next.is_some_and(|p| !p.is_vowel())
                    && phones[i + 1..].iter().find(|p| p.is_vowel()).is_some_and(|p| p.stress == 1) =>
            {
                "ᵻ"
            }
            ("IY", _) => {
                // Word-final, before a final -s/-d, and before an unstressed ə (`various`
                // vˈɛɹiəs, `Indian`, `area`): i; else ɪ, before another vowel with espeak-ng's
                // glide (below: `video` vˈɪdɪʲoʊ), which it also writes before an ə spelled o
                // or -al (`axiom` ˈæksɪʲəm, `radiological`, `filial` fˈɪlɪʲəl).
                let before_schwa = next_name == Some("AH") && stress.get(i + 1) == Some(&0) && !glided_hiatus(word);
                if i + 1 == n || rest.iter().all(|r| matches!(*r, "Z" | "S" | "D")) || before_schwa {
                    "i"
                } else {
                    "ɪ"
                }
            }
            ("OW", _) => "oʊ",
            ("OY", _) => "ɔɪ",
            ("UH", _) => "ʊ",
            ("UW", _) => "uː",
            _ => "",
        };
        match st {
            1 => out.push('ˈ'),
            2 => out.push('ˌ'),
            _ => {}
        }
        // "n't" after d: no vowel (didn't dˈɪdnt).
        if p.name() == "AH"
            && st == 0
            && ends("n't")
            && rest == ["N", "T"]
            && i > 0
            && phones[i - 1].name() == "D"
        {
            i += 1;
            k += 1;
            continue;
        }
        out.push_str(ipa);
        if (ipa == "iː" || ipa == "ɪ" && p.name() == "IY") && next.is_some_and(|p| p.is_vowel()) {
            out.push('ʲ'); // espeak-ng 1.52's glide (`seeing` sˈiːʲɪŋ, `reality` ɹɪʲˈælᵻɾi)
        }
        if link_r {
            out.push('ɹ');
        }
        i += if consumed_r { 2 } else { 1 };
        k += 1;
    }
    out
}

fn is_vowel_name(name: &str) -> bool {
    matches!(
        name,
        "AA" | "AE"
            | "AH"
            | "AO"
            | "AW"
            | "AY"
            | "EH"
            | "ER"
            | "EY"
            | "IH"
            | "IY"
            | "OW"
            | "OY"
            | "UH"
            | "UW"
    )
}

/// The last vowel is the `e` of an `-ed`/`-es` ending (`wanted`, `roses`).
fn is_suffix_es_ed(word: &str, rest: &[&str]) -> bool {
    (rest == ["D"] && word.ends_with("ed"))
        || (rest == ["Z"] && (word.ends_with("es") || word.ends_with("es'")))
}

/// An unstressed `AH0`: `ə` by default; see the module docs for the others.
fn reduced_ah(
    word: &str,
    g: Option<&str>,
    initial: bool,
    last: bool,
    rest: &[&str],
) -> &'static str {
    if last && is_suffix_es_ed(word, rest) {
        return "ᵻ";
    }
    let Some(g) = g else { return "ə" };
    if initial && g.starts_with('a') {
        return "ɐ";
    }
    if g == "i" && (rest == ["T", "IY"] || word.ends_with("ible") && rest == ["B", "AH", "L"]) {
        return "ᵻ"; // -ity, -ible
    }
    if g == "i" || g == "ai" {
        return "ɪ";
    }
    if last
        && g == "e"
        && matches!(rest, ["S", "T"] | ["T"] | ["T", "S"] | ["S", "T", "S"])
        && !word.ends_with("ment")
        && !word.ends_with("ments")
    {
        return "ɪ";
    }
    if last
        && g == "a"
        && (rest.first() == Some(&"JH")
            && (word.ends_with("age") || word.ends_with("ages") || word.ends_with("aged"))
            || rest == ["S"] && word.ends_with("ace"))
    {
        return "ɪ";
    }
    "ə"
}

#[cfg(test)]
mod tests {
    use super::super::dict::parse_phones;
    use super::*;

    fn ipa(word: &str, arpabet: &str) -> String {
        to_ipa(word, &parse_phones(arpabet).unwrap())
    }

    /// Expected values are espeak-ng 1.51's en-us IPA for the word alone.
    #[test]
    fn words_as_espeak_writes_them() {
        for (word, arpabet, espeak) in [
            ("hello", "HH AH0 L OW1", "həlˈoʊ"),
            ("water", "W AO1 T ER0", "wˈɔːɾɚ"),
            ("party", "P AA1 R T IY0", "pˈɑːɹɾi"),
            ("started", "S T AA1 R T IH0 D", "stˈɑːɹɾᵻd"),
            ("roses", "R OW1 Z IH0 Z", "ɹˈoʊzᵻz"),
            ("traveler", "T R AE1 V AH0 L ER0", "tɹˈævəlɚ"),
            ("before", "B IH0 F AO1 R", "bᵻfˈɔːɹ"),
            ("nightfall", "N AY1 T F AO2 L", "nˈaɪtfɔːl"),
            ("paragraph", "P AE1 R AH0 G R AE2 F", "pˈæɹəɡɹˌæf"),
            ("about", "AH0 B AW1 T", "ɐbˈaʊt"),
            ("market", "M AA1 R K AH0 T", "mˈɑːɹkɪt"),
            ("button", "B AH1 T AH0 N", "bˈʌʔn̩"),
            ("long", "L AO1 NG", "lˈɔŋ"),
            ("around", "ER0 AW1 N D", "ɚɹˈaʊnd"),
            ("company", "K AH1 M P AH0 N IY2", "kˈʌmpəni"),
            ("except", "IH0 K S EH1 P T", "ɛksˈɛpt"),
            ("village", "V IH1 L AH0 JH", "vˈɪlɪdʒ"),
        ] {
            assert_eq!(ipa(word, arpabet), espeak, "{word}");
        }
    }

    #[test]
    fn vowel_letters_align_with_silent_e() {
        assert_eq!(vowel_letters("make", 1), Some(vec![(1, 2)]));
        assert_eq!(vowel_letters("mountain", 2), Some(vec![(1, 3), (5, 7)]));
        assert_eq!(vowel_letters("mountain", 3), None);
    }
}
