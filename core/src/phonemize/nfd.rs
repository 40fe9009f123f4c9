//! Unicode canonical decomposition (NFD), as piper-tts applies to espeak-ng's phonemes with
//! `unicodedata.normalize("NFD", ..)`, so that e.g. `ç` becomes `c` + U+0327 (two phonemes).
//!
//! Full NFD: canonical decomposition (tables in [`super::nfd_tables`], Hangul algorithmically)
//! followed by the canonical ordering of combining marks.

use super::nfd_tables::{COMBINING_CLASSES, DECOMPOSITIONS};

/// Hangul syllable constants (Unicode §3.12).
const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const S_COUNT: u32 = 19 * V_COUNT * T_COUNT;

/// Appends the NFD form of `text` to `out`.
pub(super) fn push_nfd(text: &str, out: &mut String) {
    // Below U+00C0 nothing decomposes and every combining class is 0.
    if text.chars().all(|c| (c as u32) < 0xC0) {
        out.push_str(text);
        return;
    }
    // Decompose into (char, combining class), then sort each run of non-starters by class
    // (stably, as the canonical ordering algorithm requires).
    let mut chars: Vec<(char, u8)> = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose(c, &mut |d| chars.push((d, combining_class(d))));
    }
    let mut start = 0;
    while start < chars.len() {
        if chars[start].1 == 0 {
            start += 1;
            continue;
        }
        let end = chars[start..].iter().position(|&(_, class)| class == 0).map_or(chars.len(), |n| start + n);
        chars[start..end].sort_by_key(|&(_, class)| class);
        start = end;
    }
    out.extend(chars.iter().map(|&(c, _)| c));
}

/// The NFD form of `text`.
#[cfg(test)]
pub(super) fn nfd(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_nfd(text, &mut out);
    out
}

/// Calls `emit` with the full canonical decomposition of `c`.
fn decompose(c: char, emit: &mut impl FnMut(char)) {
    let code = c as u32;
    if (S_BASE..S_BASE + S_COUNT).contains(&code) {
        let index = code - S_BASE;
        let jamo = [
            Some(L_BASE + index / (V_COUNT * T_COUNT)),
            Some(V_BASE + (index % (V_COUNT * T_COUNT)) / T_COUNT),
            Some(index % T_COUNT).filter(|&t| t != 0).map(|t| T_BASE + t),
        ];
        jamo.into_iter().flatten().filter_map(char::from_u32).for_each(emit);
        return;
    }
    match DECOMPOSITIONS.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => DECOMPOSITIONS[i].1.chars().for_each(emit),
        Err(_) => emit(c),
    }
}

/// Canonical combining class of `c` (0 for starters).
fn combining_class(c: char) -> u8 {
    let code = c as u32;
    if code < 0x300 {
        return 0;
    }
    let i = COMBINING_CLASSES.partition_point(|&(_, last, _)| last < code);
    match COMBINING_CLASSES.get(i) {
        Some(&(first, _, class)) if first <= code => class,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipa_is_unchanged() {
        let ipa = "həlˈoʊ ðˈɛɹ, tɹˈævəlɚ. ðɪʲ ɑ̃ ᵻ";
        assert_eq!(nfd(ipa), ipa);
    }

    #[test]
    fn precomposed_letters_decompose() {
        assert_eq!(nfd("ç"), "c\u{327}");
        assert_eq!(nfd("ǖ"), "u\u{308}\u{304}");
        assert_eq!(nfd("Å"), "A\u{30A}"); // U+212B ANGSTROM SIGN → A + ring
    }

    #[test]
    fn marks_are_reordered_by_class() {
        // dot below (220) sorts before dot above (230); ṩ = s + dot below + dot above.
        assert_eq!(nfd("s\u{307}\u{323}"), "s\u{323}\u{307}");
        assert_eq!(nfd("ṩ"), "s\u{323}\u{307}");
    }

    #[test]
    fn hangul_decomposes() {
        assert_eq!(nfd("한"), "\u{1112}\u{1161}\u{11AB}");
        assert_eq!(nfd("가"), "\u{1100}\u{1161}");
    }

    #[test]
    fn tables_are_sorted() {
        assert!(DECOMPOSITIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(COMBINING_CLASSES.windows(2).all(|w| w[0].1 < w[1].0));
    }
}
