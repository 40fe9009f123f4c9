//! Which of a text's words each phoneme of a sentence belongs to.
//!
//! espeak-ng does not read words one to one (it joins unstressed ones — "on the" → `ɔnðə` — and
//! reads numbers as several), so a sentence's sounds are aligned with each word's own phonemes
//! (its spelling) at the least edit distance (`crate::timing::align`); the words after the
//! sentence's end cost nothing (they belong to later sentences). Marks that are not sounds go
//! with a word as the timing track's words do: a stress mark with the sound after it; length
//! marks and the space after a word with the word before; punctuation with no word (a pause).

use crate::timing::{align, is_sound, MAX_ALIGN_CELLS};

/// Per phoneme of `phonemes`, the index in `words` of the word it belongs to (`None`: a pause),
/// and how many of `words` the sentence used. `spell` gives a word's phonemes. `None` when there
/// is nothing to align, or too much.
pub fn owners(phonemes: &[char], words: &[&str], spell: impl Fn(usize, &str) -> String) -> Option<(Vec<Option<usize>>, usize)> {
    let sounds: Vec<usize> = (0..phonemes.len()).filter(|&i| is_sound(phonemes[i])).collect();
    // Spell only as many words as could cover the sentence (its words, plus slack).
    let mut spelled: Vec<(char, usize)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if spelled.len() > 2 * sounds.len() + 16 {
            break;
        }
        spelled.extend(spell(i, w).chars().filter(|&c| is_sound(c)).map(|c| (c, i)));
    }
    if sounds.is_empty() || spelled.is_empty() || sounds.len().saturating_mul(spelled.len()) > MAX_ALIGN_CELLS {
        return None;
    }
    let aligned = align(&sounds.iter().map(|&i| phonemes[i]).collect::<Vec<_>>(), &spelled);
    let used = aligned.last().map_or(0, |&w| w + 1);
    let mut owner: Vec<Option<usize>> = vec![None; phonemes.len()];
    for (&i, &w) in sounds.iter().zip(&aligned) {
        owner[i] = Some(w);
    }
    // Stress marks: the word of the next sound (walking back from each sound).
    for i in (0..phonemes.len()).rev() {
        if matches!(phonemes[i], 'ˈ' | 'ˌ') && i + 1 < phonemes.len() {
            owner[i] = owner[i + 1];
        }
    }
    // Other marks and the space after a word: the word before, up to a pause.
    for i in 1..phonemes.len() {
        if owner[i].is_none() && !is_pause(phonemes[i]) && !is_sound(phonemes[i]) {
            owner[i] = owner[i - 1];
        }
    }
    Some((owner, used))
}

/// Punctuation: a pause between words, in no word.
fn is_pause(c: char) -> bool {
    !c.is_whitespace() && !is_sound(c) && crate::timing::visemes::of(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::owners;

    #[test]
    fn joined_words_split_by_their_spellings() {
        // "Hel la, Mo." read as `həlˈoʊ, mˈoʊ.`: "Hel" and "la" share one IPA word; "Jo" is
        // for a later sentence.
        let ph: Vec<char> = "həlˈoʊ, ˈmoʊ.".chars().collect();
        let spell = |_: usize, w: &str| match w {
            "Hel" => "hə".to_string(),
            "la" => "lˈoʊ".to_string(),
            "Mo" => "mˈoʊ".to_string(),
            _ => "dʒˈoʊ".to_string(),
        };
        let (owner, used) = owners(&ph, &["Hel", "la", "Mo", "Jo"], spell).unwrap();
        assert_eq!(used, 3);
        let want = [Some(0), Some(0), Some(1), Some(1), Some(1), Some(1), None, None, Some(2), Some(2), Some(2), Some(2), None];
        assert_eq!(owner, want, "the space after the comma is the comma's pause's; ˈ goes with m");
    }
}
