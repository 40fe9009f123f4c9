//! The timing track: when each phoneme, word and viseme of a line sounds, exact to the model's
//! frame, from the frames per phoneme id that the text side computes anyway
//! ([`crate::model::Prepared::frames`]). Streaming does not change them: a sentence's track is
//! known when its text side has run, before its first window.
//!
//! A phoneme covers its own ids and the pad after them (Piper's id layout,
//! [`crate::phonemize::PhonemeIds::spans`]); the sentence's `^` and first pad come before the
//! first phoneme, its `$` after the last. Words are the runs of phonemes between spaces and
//! punctuation; the space after a word is its transition into the next and counts as its end
//! (speech goes on through it), so only punctuation makes a pause between words. Visemes tile
//! the whole audio, silence included; a space continues the shape before it.

mod json;
pub mod visemes;

use crate::phonemize::PhonemeIds;
pub use visemes::{Rhubarb, Viseme};

/// Which word each phoneme of a sentence belongs to (see [`Timings::sentence`]).
#[derive(Debug, Clone, Copy)]
pub struct WordOwners<'a> {
    /// Per phoneme (each of [`PhonemeIds::spans`]): the index of its word in `names`, or `None`.
    pub owner: &'a [Option<usize>],
    /// The words' names, as the text writes them.
    pub names: &'a [String],
}

/// An item of a timing track and the samples `[start, end)` it covers, counted from the line's
/// first sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<T> {
    pub item: T,
    pub start: u64,
    pub end: u64,
}

/// The timing track of a sentence or a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    /// Every phoneme the model read that lasts at least a frame (stress marks and punctuation
    /// included), in order, each ending where the next begins.
    pub phonemes: Vec<Span<char>>,
    /// Runs of phonemes between spaces and punctuation; `item` spells the word in IPA until
    /// the line's text names it (`line::words::owners`).
    pub words: Vec<Span<String>>,
    /// OVR visemes (with the matching Rhubarb shape) tiling `[start, end)` of the audio, the same
    /// shape merged into one span.
    pub visemes: Vec<Span<(Viseme, Rhubarb)>>,
    /// The first sample and one past the last sample covered.
    pub start: u64,
    pub end: u64,
}

/// Phonemes that end a word: spaces and punctuation.
fn breaks_words(c: char) -> bool {
    c.is_whitespace() || visemes::of(c).is_some_and(|(v, _)| v == Viseme::Sil)
}

impl Timings {
    /// The track of one sentence: `ids` as the voice's id map made them, `frames` per id from
    /// the text side, `hop` samples per frame, the sentence starting at sample `offset`.
    ///
    /// `words`, when given, names the words: the word each phoneme (each of `ids.spans`) belongs
    /// to, `None` for pauses; a word spans its phonemes. Without it the words are the runs of
    /// phonemes between spaces and punctuation, spelled in IPA.
    pub fn sentence(ids: &PhonemeIds, frames: &[usize], hop: usize, offset: u64, words: Option<WordOwners<'_>>) -> Timings {
        // Sample position of each id boundary.
        let mut at = Vec::with_capacity(frames.len() + 1);
        at.push(offset);
        for &f in frames {
            at.push(at[at.len() - 1] + (f * hop) as u64);
        }
        let pos = |i: usize| at[i.min(at.len() - 1)];
        // A sentence whose ids all last 0 frames still gets one silent frame from the model.
        let end = pos(frames.len()).max(offset + if frames.iter().all(|&f| f == 0) { hop as u64 } else { 0 });
        let mut t = Timings { start: offset, end, ..Default::default() };
        let mut word: Option<Span<String>> = None;
        let mut owner_of_word: Option<usize> = None;
        for (k, (c, range)) in ids.spans.iter().enumerate() {
            let (start, stop) = (pos(range.start), pos(range.end));
            if stop > start {
                t.phonemes.push(Span { item: *c, start, end: stop });
            }
            if let Some(w) = &words {
                // Named words: runs of phonemes with the same owner.
                let owner = w.owner.get(k).copied().flatten();
                if owner != owner_of_word {
                    t.words.extend(word.take());
                }
                owner_of_word = owner;
                if let Some(o) = owner {
                    let name = w.names.get(o).cloned().unwrap_or_default();
                    word.get_or_insert(Span { item: name, start, end: stop }).end = stop;
                }
                continue;
            }
            if c.is_whitespace() {
                // The space between words is the transition from one to the next (speech goes
                // on through it): the word before holds it. Punctuation is a pause.
                if let Some(w) = &mut word {
                    w.end = stop;
                }
            }
            if breaks_words(*c) {
                t.words.extend(word.take());
            } else {
                let w = word.get_or_insert_with(|| Span { item: String::new(), start, end: stop });
                w.item.push(*c);
                w.end = stop;
            }
        }
        t.words.extend(word.take());
        t.words.retain(|w| w.start < w.end);
        t.visemes = viseme_track(&t.phonemes, offset, end);
        t
    }

    /// A track of `samples` of silence from sample `offset` (a break with nothing spoken).
    pub fn silence(offset: u64, samples: u64) -> Timings {
        let mut t = Timings { start: offset, end: offset, ..Default::default() };
        t.add_silence(samples);
        t
    }

    /// Extends the track by `samples` of silence at its end (a break after the sentence).
    pub fn add_silence(&mut self, samples: u64) {
        let end = self.end + samples;
        push(&mut self.visemes, (Viseme::Sil, Rhubarb::X), self.end, end);
        self.end = end;
    }

    /// Appends the track of the sentence that follows.
    pub fn append(&mut self, next: Timings) {
        if self.phonemes.is_empty() && self.visemes.is_empty() {
            self.start = next.start;
        }
        self.end = next.end;
        self.phonemes.extend(next.phonemes);
        self.words.extend(next.words);
        for v in next.visemes {
            push(&mut self.visemes, v.item, v.start, v.end);
        }
    }

    /// The same track `by` samples later.
    pub fn shifted(mut self, by: u64) -> Timings {
        self.start += by;
        self.end += by;
        for p in &mut self.phonemes {
            (p.start, p.end) = (p.start + by, p.end + by);
        }
        for w in &mut self.words {
            (w.start, w.end) = (w.start + by, w.end + by);
        }
        for v in &mut self.visemes {
            (v.start, v.end) = (v.start + by, v.end + by);
        }
        self
    }

    /// The same track with every sample position `s` moved to `to(s)` (monotone; e.g. where a
    /// pitch shift's resampling puts it).
    pub fn warped(mut self, to: impl Fn(u64) -> u64) -> Timings {
        self.start = to(self.start);
        self.end = to(self.end);
        for p in &mut self.phonemes {
            (p.start, p.end) = (to(p.start), to(p.end));
        }
        for w in &mut self.words {
            (w.start, w.end) = (to(w.start), to(w.end));
        }
        for v in &mut self.visemes {
            (v.start, v.end) = (to(v.start), to(v.end));
        }
        self
    }

    /// The Rhubarb shapes of the viseme track, the same shape merged into one span.
    pub fn rhubarb(&self) -> Vec<Span<Rhubarb>> {
        let mut out = Vec::new();
        for v in &self.visemes {
            push(&mut out, v.item.1, v.start, v.end);
        }
        out
    }
}

/// The words of `text`: runs of letters, digits and apostrophes, apostrophes trimmed at the ends.
pub fn text_words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Phonemes that are sounds: not spaces, punctuation or modifier marks.
pub(crate) fn is_sound(c: char) -> bool {
    !breaks_words(c) && visemes::of(c).is_some()
}

/// Largest alignment (sounds × spelled phonemes) `line::words::owners` computes (≈ 2000
/// phonemes each way, 4 MB of back-pointers).
pub(crate) const MAX_ALIGN_CELLS: usize = 4_000_000;

/// For each of `sounds`, the word (second of `spelled`'s pairs) of the spelled phoneme it aligns
/// with at the least edit distance (a suffix of `spelled` left over costs nothing); a sound
/// aligned with nothing belongs to the word before it (or, at the start, the first word).
pub(crate) fn align(sounds: &[char], spelled: &[(char, usize)]) -> Vec<usize> {
    let (n, m) = (sounds.len(), spelled.len());
    // cost[i][j]: edit distance of sounds[..i] and spelled[..j]; back: 0 diagonal, 1 up (skip a
    // sound), 2 left (skip a spelled phoneme).
    let mut cost = vec![0u32; (n + 1) * (m + 1)];
    let mut back = vec![0u8; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in 1..=n {
        cost[at(i, 0)] = i as u32;
        back[at(i, 0)] = 1;
    }
    for j in 1..=m {
        cost[at(0, j)] = j as u32;
        back[at(0, j)] = 2;
    }
    for i in 1..=n {
        for j in 1..=m {
            let diag = cost[at(i - 1, j - 1)] + u32::from(sounds[i - 1] != spelled[j - 1].0);
            let up = cost[at(i - 1, j)] + 1;
            let left = cost[at(i, j - 1)] + 1;
            let (c, b) = if diag <= up && diag <= left { (diag, 0) } else if up <= left { (up, 1) } else { (left, 2) };
            cost[at(i, j)] = c;
            back[at(i, j)] = b;
        }
    }
    // Words after the track's end are free: end at the best column of the last row.
    let end = (0..=m).min_by_key(|&j| (cost[at(n, j)], std::cmp::Reverse(j))).expect("m + 1 columns");
    let mut owner: Vec<Option<usize>> = vec![None; n];
    let (mut i, mut j) = (n, end);
    while i > 0 || j > 0 {
        match back[at(i, j)] {
            0 => {
                owner[i - 1] = Some(spelled[j - 1].1);
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    let mut last = 0;
    owner
        .into_iter()
        .map(|o| {
            last = o.unwrap_or(last);
            last
        })
        .collect()
}

/// Adds `item` over `[a, b)` to a track, continuing the last span when it is the same item.
fn push<T: PartialEq>(out: &mut Vec<Span<T>>, item: T, a: u64, b: u64) {
    if b <= a {
        return;
    }
    match out.last_mut() {
        Some(last) if last.item == item && last.end == a => last.end = b,
        _ => out.push(Span { item, start: a, end: b }),
    }
}

/// Visemes tiling `[start, end)`: silence before the first phoneme and after the last, each
/// phoneme's shape over its span; a modifier mark takes the shape before it (or, after silence,
/// the one after it); the same shape continues as one span.
fn viseme_track(phonemes: &[Span<char>], start: u64, end: u64) -> Vec<Span<(Viseme, Rhubarb)>> {
    let sil = (Viseme::Sil, Rhubarb::X);
    let mut out: Vec<Span<(Viseme, Rhubarb)>> = Vec::new();
    let mut cursor = start;
    // Where a run of modifiers after silence began (they join the next sound).
    let mut held: Option<u64> = None;
    for p in phonemes {
        push(&mut out, sil, cursor, p.start);
        match visemes::of(p.item) {
            None if out.last().is_some_and(|l| l.item != sil && l.end == p.start) => {
                let item = out.last().expect("checked").item;
                push(&mut out, item, p.start, p.end);
            }
            None => {
                held.get_or_insert(p.start);
            }
            Some(item) => {
                let from = if item == sil { p.start } else { held.unwrap_or(p.start) };
                if item == sil {
                    if let Some(h) = held {
                        push(&mut out, sil, h, p.start);
                    }
                }
                held = None;
                push(&mut out, item, from, p.end);
            }
        }
        cursor = p.end;
    }
    if let Some(h) = held {
        cursor = cursor.min(h);
    }
    push(&mut out, sil, cursor, end);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::phonemize::PhonemeIdMap;

    fn map() -> PhonemeIdMap {
        let pairs = [("_", 0), ("^", 1), ("$", 2), (" ", 3), (",", 4), (".", 5), ("h", 6), ("ə", 7), ("l", 8), ("ˈ", 9), ("o", 10), ("ʊ", 11), ("m", 12)];
        PhonemeIdMap::new(&pairs.iter().map(|(k, v)| (k.to_string(), vec![*v])).collect::<HashMap<_, _>>()).unwrap()
    }

    #[test]
    fn spans_tile_the_sentence_and_words_split_at_spaces_and_punctuation() {
        let ids = map().ids("həlˈoʊ, ˈmoʊ.");
        // Two frames for every id, hop 10, the sentence at sample 1000.
        let frames = vec![2; ids.ids.len()];
        let t = Timings::sentence(&ids, &frames, 10, 1000, None);
        assert_eq!((t.start, t.end), (1000, 1000 + 20 * ids.ids.len() as u64));
        // `^` and its pad (2 ids) come first; every phoneme is its id and a pad: 40 samples.
        assert_eq!(t.phonemes[0], Span { item: 'h', start: 1040, end: 1080 });
        assert!(t.phonemes.windows(2).all(|w| w[0].end == w[1].start), "phonemes tile");
        assert_eq!(t.phonemes.last().unwrap().end, t.end - 20, "`$` closes the sentence");
        let words: Vec<(&str, u64, u64)> = t.words.iter().map(|w| (w.item.as_str(), w.start, w.end)).collect();
        assert_eq!(words, [("həlˈoʊ", 1040, 1280), ("ˈmoʊ", 1360, 1520)]);
        // Visemes tile the whole sentence; the stress mark after silence joins the next sound.
        assert_eq!(t.visemes.first().unwrap().start, t.start);
        assert_eq!(t.visemes.last().unwrap().end, t.end);
        assert!(t.visemes.windows(2).all(|w| w[0].end == w[1].start && w[0].item != w[1].item));
        let m = t.visemes.iter().find(|v| v.item.0 == Viseme::PP).unwrap();
        assert_eq!((m.start, m.end), (1320, 1440), "the space and ˈ after the comma join m");
        // Named words: a run of phonemes with the same owner is one word, pauses are none.
        let owner: Vec<Option<usize>> = "həlˈoʊ, ˈmoʊ.".chars().map(|c| match c {
            ',' | '.' | ' ' => None,
            'h' | 'ə' => Some(0),
            'm' => Some(2),
            _ => Some(1),
        }).collect();
        let mut owner = owner;
        owner[8] = Some(2); // the ˈ before m
        owner[9..12].fill(Some(2));
        let names = ["Hel".to_string(), "la".to_string(), "Mo".to_string()];
        let named = Timings::sentence(&ids, &frames, 10, 1000, Some(WordOwners { owner: &owner, names: &names }));
        let words: Vec<(&str, u64, u64)> = named.words.iter().map(|w| (w.item.as_str(), w.start, w.end)).collect();
        assert_eq!(words, [("Hel", 1040, 1120), ("la", 1120, 1280), ("Mo", 1360, 1520)]);
        assert_eq!(named.phonemes, t.phonemes);
        assert_eq!(text_words("It's  1999 — ‘quoted’"), ["It's", "1999", "quoted"]);
    }

    #[test]
    fn silent_sentences_and_appending() {
        let ids = map().ids("ə");
        let t = Timings::sentence(&ids, &vec![0; ids.ids.len()], 256, 0, None);
        assert_eq!((t.start, t.end), (0, 256), "one silent frame");
        assert!(t.phonemes.is_empty() && t.words.is_empty());
        assert_eq!(t.visemes, [Span { item: (Viseme::Sil, Rhubarb::X), start: 0, end: 256 }]);
        let mut line = t.clone();
        let next = Timings::sentence(&ids, &vec![1; ids.ids.len()], 256, 256, None);
        line.append(next);
        assert_eq!((line.start, line.end), (0, 256 + 256 * 5));
        assert_eq!(line.words.len(), 1);
    }
}
