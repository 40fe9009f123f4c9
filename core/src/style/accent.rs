//! A `rewrite` vector from an accent (`tvtts vector accent`): how the accent's phonemizer
//! rewrites the voice's own phonemes, phoneme by phoneme in context, counted over many
//! sentences ([`crate::model::rewrite`] applies it at α).
//!
//! Each sentence is phonemized both ways; the accent's phonemes are aligned to the voice's by
//! edit distance and written into the voice's id sequence ([`accentize`]). Every position then
//! votes, with its window of ids at each level of context (the id alone, one phoneme either
//! side, two), for the id the accent has there. The table keeps, per id, the id it most often
//! becomes, and per window the id it most often becomes where that differs from what the
//! narrower context says. Contexts never seen fall back to narrower ones, so the table reaches
//! sentences it was not built from; how far is measured by `scripts/measure_dialect.py`.

use std::collections::{BTreeMap, HashMap};

use super::format::{Kind, StyleVector, REWRITE};
use super::groups::Group;
use crate::error::{Error, Result};
use crate::model::rewrite::{Rewrite, LEVELS, WINDOW};
use crate::phonemize::accent::align;
use crate::phonemize::{PhonemeIds, Phonemizer};
use crate::voice::{Say, Voice};

/// The group a `rewrite` vector acts on.
pub const GROUP: &str = "enc_p.emb";

/// The voice's ids `us` carrying the accent's phonemes `accent` (same length as `us.ids`): a
/// substituted phoneme takes the voice's phoneme's position, a dropped one becomes the pad
/// after it, an inserted one takes the pad after its left neighbour (one per pad; the first
/// pad, after `^`, for one before every phoneme). `None` when a phoneme has more than one id
/// (no position of its own to rewrite).
pub fn accentize(us: &PhonemeIds, accent: &PhonemeIds) -> Option<Vec<i64>> {
    // Each phoneme's id position; its pad follows it.
    let slots = |p: &PhonemeIds| -> Option<Vec<usize>> { p.spans.iter().map(|(_, r)| (r.len() == 2).then_some(r.start)).collect() };
    let (a, b) = (slots(us)?, slots(accent)?);
    let (ia, ib): (Vec<i64>, Vec<i64>) = (a.iter().map(|&k| us.ids[k]).collect(), b.iter().map(|&k| accent.ids[k]).collect());
    let pad_after = |k: usize| us.ids[k + 1];
    let mut out = us.ids.clone();
    let mut left: Option<usize> = None;
    let mut filled = Vec::new();
    for pair in align(&ia, &ib) {
        match pair {
            (Some(i), Some(j)) => {
                out[a[i]] = ib[j];
                left = Some(i);
            }
            (Some(i), None) => {
                out[a[i]] = pad_after(a[i]);
                left = Some(i);
            }
            (None, Some(j)) => {
                let slot = left.map_or(1, |i| a[i] + 1);
                if slot < out.len() && !filled.contains(&slot) {
                    filled.push(slot);
                    out[slot] = ib[j];
                }
            }
            (None, None) => {}
        }
    }
    Some(out)
}

/// Each sentence of `text` as the voice's own ids and the accent's; `None` when the accent
/// splits the text into other sentences.
pub fn sentence_pairs(voice: &Voice, accent: &dyn Phonemizer, text: &str) -> Result<Option<Vec<(PhonemeIds, PhonemeIds)>>> {
    let ids = |ph: Vec<String>| -> Vec<PhonemeIds> { ph.iter().map(|p| voice.ids.ids(p)).collect() };
    let us = ids(voice.phonemize(&Say::text(text))?);
    let acc = ids(voice.phonemize_with(&Say::text(text), accent)?);
    Ok((us.len() == acc.len()).then(|| us.into_iter().zip(acc).collect()))
}

/// The most frequent key of `votes` (the smallest on a tie).
fn winner(votes: &BTreeMap<i64, usize>) -> i64 {
    votes.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0))).map(|(&k, _)| k).expect("a vote")
}

/// The rewrite table of `accent` against `voice`'s own phonemizer over `texts`; `progress`
/// hears how many texts are done. Sentences the accent splits differently, or whose phonemes
/// take several ids, are left out.
pub fn rewrite_from_texts(voice: &Voice, accent: &dyn Phonemizer, texts: &[String], progress: &mut dyn FnMut(usize)) -> Result<(Rewrite, usize)> {
    let mut pairs = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        if let Some(sentences) = sentence_pairs(voice, accent, text)? {
            pairs.extend(sentences.iter().filter_map(|(u, a)| Some((u.ids.clone(), accentize(u, a)?))));
        }
        progress(n + 1);
    }
    if pairs.is_empty() {
        return Err(Error::invalid("accent", "no sentence of the texts could be aligned with the accent's phonemes"));
    }
    Ok((rewrite_from_pairs(&pairs), pairs.len()))
}

/// The rewrite table of sentences `pairs` (the voice's ids, the ids the accent has at each of
/// their positions): every position votes, with its window of ids at each level of context,
/// for the id the accent has there; from the narrowest level up, a rule where the winner
/// differs from what the narrower rules already say (the id itself, for the narrowest).
pub fn rewrite_from_pairs(pairs: &[(Vec<i64>, Vec<i64>)]) -> Rewrite {
    // Votes per level of context (widest first), by the window masked to the level's reach.
    let mut votes: [HashMap<[i64; WINDOW], BTreeMap<i64, usize>>; LEVELS.len()] = Default::default();
    for (own, to) in pairs {
        for (k, &t) in to.iter().enumerate() {
            let window = Rewrite::window(own, k);
            for (level, &reach) in LEVELS.iter().enumerate() {
                *votes[level].entry(Rewrite::masked(&window, reach)).or_default().entry(t).or_default() += 1;
            }
        }
    }
    let mut rewrite = Rewrite::default();
    for level in (0..LEVELS.len()).rev() {
        let mut found: Vec<([i64; WINDOW], i64)> = votes[level].iter().map(|(w, v)| (*w, winner(v))).filter(|(w, to)| rewrite.rewrite(w) != *to).collect();
        found.sort_unstable();
        for (w, to) in found {
            rewrite.insert(w, to);
        }
    }
    rewrite
}

/// How `rewrite` agrees with the accent on `texts`, position by position: of the positions the
/// accent changes, how many it rewrites to the accent's id; of those it leaves, how many it
/// changes anyway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    pub changed: usize,
    pub reproduced: usize,
    pub kept: usize,
    pub spurious: usize,
}

/// [`Agreement`] of `rewrite` with `accent` on `texts` (e.g. sentences it was not built from).
pub fn agreement(voice: &Voice, accent: &dyn Phonemizer, rewrite: &Rewrite, texts: &[String]) -> Result<Agreement> {
    let mut a = Agreement::default();
    for text in texts {
        let Some(pairs) = sentence_pairs(voice, accent, text)? else { continue };
        for (u, x) in &pairs {
            let Some(want) = accentize(u, x) else { continue };
            let got = rewrite.apply(&u.ids);
            for ((&own, &w), &g) in u.ids.iter().zip(&want).zip(&got) {
                if w != own {
                    a.changed += 1;
                    a.reproduced += usize::from(g == w);
                } else {
                    a.kept += 1;
                    a.spurious += usize::from(g != own);
                }
            }
        }
    }
    Ok(a)
}

/// A `rewrite` vector (on [`GROUP`]) of `rewrite` for `voice`.
pub fn rewrite_vector(voice: &Voice, rewrite: &Rewrite, alpha_range: (f32, f32)) -> Result<StyleVector> {
    if rewrite.is_empty() {
        return Err(Error::invalid("accent", "the accent rewrites none of the voice's phonemes in these texts"));
    }
    Ok(StyleVector::new(Kind::Rewrite, voice.weights_hash(), vec![Group::new(GROUP)], alpha_range, "", BTreeMap::from([(REWRITE.to_string(), rewrite.to_tensor()?)])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accentized_ids_keep_the_voices_length() {
        // ^ _ a _ b _ c _ $ with ids a=5, b=6, c=7; the accent says a x c y (x=8 for b, y=9 added).
        let spans = |n: usize| (0..n).map(|i| ('a', 2 + 2 * i..4 + 2 * i)).collect::<Vec<_>>();
        let us = PhonemeIds { ids: vec![1, 0, 5, 0, 6, 0, 7, 0, 2], skipped: vec![], spans: spans(3) };
        let acc = PhonemeIds { ids: vec![1, 0, 5, 0, 8, 0, 7, 0, 9, 0, 2], skipped: vec![], spans: spans(4) };
        assert_eq!(accentize(&us, &acc), Some(vec![1, 0, 5, 0, 8, 0, 7, 9, 2]));
        // Dropping b leaves its pad.
        let acc = PhonemeIds { ids: vec![1, 0, 5, 0, 7, 0, 2], skipped: vec![], spans: spans(2) };
        assert_eq!(accentize(&us, &acc), Some(vec![1, 0, 5, 0, 0, 0, 7, 0, 2]));
    }
}
