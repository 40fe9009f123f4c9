//! A line planned for the model: markup and lexicon resolved into sentences of phoneme ids, each
//! id with the prosody markup asks for it, each phoneme with the text's word it belongs to.
//!
//! Text runs that only change prosody or style are phonemized together, as the unmarked line
//! would be (so the same ids, and the same audio before a change); the change lands on the
//! phonemes of the words inside the tag, found by aligning the sentence's phonemes with the
//! words' spellings ([`words::owners`]). IPA given in markup or by the lexicon is spliced in
//! between the phonemes of the text around it. A break closes the sentence before it and adds
//! its silence after it.

pub mod gain;
pub mod pitch;
pub mod words;

use crate::error::Result;
use crate::markup::{self, Item, Lexicon, Markup, Prosody};
use crate::phonemize::{IpaPhonemizer, PhonemeIdMap, PhonemeIds, Phonemizer};
use crate::timing::{text_words, WordOwners};

pub use gain::Gain;
pub use pitch::Shifts;

/// One sentence of a line as the model reads it.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// IPA (empty for a sentence that is only a break's silence).
    pub phonemes: String,
    pub ids: PhonemeIds,
    /// Per id: its prosody, an index into [`Plan::prosodies`].
    pub prosody: Vec<usize>,
    /// Per phoneme (each of `ids.spans`): its word in `names`, `None` for pauses.
    pub owner: Vec<Option<usize>>,
    /// The words' names, as the text writes them (a `<sub>`'s original, not its alias).
    pub names: Vec<String>,
    /// Silence after the sentence, in seconds.
    pub silence_after: f32,
}

impl Planned {
    /// Whether the model speaks anything (a break alone does not).
    pub fn speaks(&self) -> bool {
        !self.phonemes.trim().is_empty()
    }

    /// The words for the timing track, when the text named them.
    pub fn word_owners(&self) -> Option<WordOwners<'_>> {
        (!self.names.is_empty()).then_some(WordOwners { owner: &self.owner, names: &self.names })
    }

    /// Per id: its duration multiplier for the model: markup's rate, times the pitch ratio of a
    /// shifted id (its audio is then sped up by as much, see [`pitch`]).
    pub fn length(&self, plan: &Plan) -> Vec<f32> {
        self.prosody.iter().map(|&p| plan.prosodies[p].length * 2f32.powf(plan.prosodies[p].pitch_st / 12.0)).collect()
    }

    /// Per id: its pitch shift in semitones.
    pub fn pitch_st(&self, plan: &Plan) -> Vec<f32> {
        self.prosody.iter().map(|&p| plan.prosodies[p].pitch_st).collect()
    }

    /// Per id: its gain in dB.
    pub fn gain_db(&self, plan: &Plan) -> Vec<f32> {
        self.prosody.iter().map(|&p| plan.prosodies[p].volume_db).collect()
    }

    /// Where the style settings change along the ids: (first id, prosody), the first at id 0.
    pub fn style_changes(&self, plan: &Plan) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (i, &p) in self.prosody.iter().enumerate() {
            match out.last() {
                Some(&(_, q)) if plan.prosodies[q].styles == plan.prosodies[p].styles => {}
                _ => out.push((i, p)),
            }
        }
        out
    }
}

/// A planned line: its sentences and the distinct prosodies they use (the first is the default).
#[derive(Debug, Clone)]
pub struct Plan {
    pub sentences: Vec<Planned>,
    pub prosodies: Vec<Prosody>,
}

impl Plan {
    /// The index of `p` among the prosodies, added when new.
    fn prosody_index(&mut self, p: &Prosody) -> usize {
        match self.prosodies.iter().position(|q| q == p) {
            Some(i) => i,
            None => {
                self.prosodies.push(p.clone());
                self.prosodies.len() - 1
            }
        }
    }
}

/// What the planner needs of a voice.
pub struct Tools<'a> {
    /// Text → IPA sentences (none longer than the voice's limit).
    pub phonemize: &'a dyn Fn(&str) -> Result<Vec<String>>,
    pub ids: &'a PhonemeIdMap,
    pub lexicon: &'a Lexicon,
    /// Why the voice cannot read a symbol of IPA given in markup (`None`: it can), as
    /// [`crate::Voice::check_lexicon`] asks of a lexicon's.
    pub symbol_problem: &'a dyn Fn(char) -> Option<String>,
}

/// A word to be spoken: what it is spelled from, and what names it.
#[derive(Debug, Clone)]
struct Word {
    /// The text phonemized for it (or its IPA).
    spoken: String,
    /// Its IPA, when given.
    ipa: Option<String>,
    /// The name of the group it belongs to (a `<sub>`'s words share one).
    group: usize,
    prosody: usize,
}

/// A sentence as it is assembled: phoneme chars with their word (an index into the line's words).
#[derive(Debug, Default)]
struct Draft {
    chars: Vec<char>,
    owner: Vec<Option<usize>>,
    silence_after: f32,
}

impl Draft {
    fn ends_sentence(&self) -> bool {
        let last = self.chars.iter().rev().find(|c| !c.is_whitespace());
        last.is_some_and(|c| matches!(c, '.' | '?' | '!'))
    }
}

/// Plans `text` (markup when [`markup::is_markup`], else plain), phonemized by `tools`.
pub fn plan_text(text: &str, tools: &Tools<'_>) -> Result<Plan> {
    plan(&markup::read(text)?, tools)
}

/// Plans IPA given directly: sentences as [`IpaPhonemizer`] splits them, words in IPA.
pub fn plan_phonemes(phonemes: &str, ids: &PhonemeIdMap) -> Result<Plan> {
    let sentences = IpaPhonemizer.phonemize(phonemes)?;
    let sentences = sentences
        .into_iter()
        .map(|p| {
            let ids = ids.ids(&p);
            Planned { prosody: vec![0; ids.ids.len()], ids, phonemes: p, ..Default::default() }
        })
        .collect();
    Ok(Plan { sentences, prosodies: vec![Prosody::default()] })
}

/// Plans a parsed line.
pub fn plan(m: &Markup, tools: &Tools<'_>) -> Result<Plan> {
    let mut plan = Plan { sentences: Vec::new(), prosodies: vec![Prosody::default()] };
    let mut words: Vec<Word> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    // Whether the last draft may take more phonemes (not closed by a break).
    let mut open = false;
    // Text runs waiting to be phonemized together: (text, first word).
    let mut pending = String::new();
    let mut pending_from = 0;
    for item in split_lexicon(m, tools.lexicon) {
        match item {
            Item::Break { seconds } => {
                flush(&mut pending, &mut pending_from, &words, tools, &mut drafts, &mut open)?;
                match drafts.last_mut() {
                    Some(d) => d.silence_after += seconds,
                    None => drafts.push(Draft { silence_after: seconds, ..Default::default() }),
                }
                open = false;
            }
            Item::Text { text, ipa, ipa_at, shown, prosody } => {
                if ipa.is_some() {
                    flush(&mut pending, &mut pending_from, &words, tools, &mut drafts, &mut open)?;
                }
                let p = plan.prosody_index(&prosody);
                let spoken: Vec<String> = match &ipa {
                    Some(_) => vec![text.clone()],
                    None => text_words(&text).into_iter().map(String::from).collect(),
                };
                let shown_name = shown.as_deref().map(str::trim).filter(|s| !s.is_empty());
                let group_start = names.len();
                match shown_name {
                    Some(n) if !spoken.is_empty() => names.push(n.to_string()),
                    _ => names.extend(spoken.iter().cloned()),
                }
                let first_word = words.len();
                for (k, w) in spoken.iter().enumerate() {
                    let group = if shown_name.is_some() { group_start } else { group_start + k };
                    words.push(Word { spoken: w.clone(), ipa: ipa.clone(), group, prosody: p });
                }
                match ipa {
                    Some(ipa) => {
                        if let Some(at) = ipa_at {
                            check_ipa(&ipa, at, tools.symbol_problem)?;
                        }
                        for s in IpaPhonemizer.phonemize(&ipa)? {
                            let chars: Vec<char> = s.chars().collect();
                            let owner = chars.iter().map(|_| Some(first_word)).collect();
                            add_sentence(&mut drafts, &mut open, chars, owner);
                        }
                        pending_from = words.len();
                    }
                    None => {
                        if pending.is_empty() {
                            pending_from = first_word;
                        }
                        pending.push_str(&text);
                    }
                }
            }
        }
    }
    flush(&mut pending, &mut pending_from, &words, tools, &mut drafts, &mut open)?;
    for d in drafts {
        plan.sentences.push(finish(d, &words, &names, tools.ids));
    }
    Ok(plan)
}

/// The items of `m` with each lexicon word of a text run made an IPA run of its own.
fn split_lexicon(m: &Markup, lexicon: &Lexicon) -> Vec<Item> {
    if lexicon.is_empty() {
        return m.items.clone();
    }
    let mut out = Vec::new();
    for item in &m.items {
        let Item::Text { text, ipa: None, shown, prosody, .. } = item else {
            out.push(item.clone());
            continue;
        };
        if shown.is_some() {
            out.push(item.clone());
            continue;
        }
        let mut rest = text.as_str();
        let mut plain = String::new();
        for w in text_words(text) {
            let Some(ipa) = lexicon.get(w) else { continue };
            let at = rest.find(w).expect("words are substrings, in order");
            plain.push_str(&rest[..at]);
            if !plain.is_empty() {
                out.push(Item::Text { text: std::mem::take(&mut plain), ipa: None, ipa_at: None, shown: None, prosody: prosody.clone() });
            }
            out.push(Item::Text { text: w.to_string(), ipa: Some(ipa.to_string()), ipa_at: None, shown: Some(w.to_string()), prosody: prosody.clone() });
            rest = &rest[at + w.len()..];
        }
        plain.push_str(rest);
        if !plain.is_empty() {
            out.push(Item::Text { text: plain, ipa: None, ipa_at: None, shown: None, prosody: prosody.clone() });
        }
    }
    out
}

/// Refuses `<phoneme>` IPA with a symbol the voice cannot read: an error at that symbol's column.
fn check_ipa(ipa: &str, at: markup::Pos, problem: &dyn Fn(char) -> Option<String>) -> Result<()> {
    match ipa.chars().enumerate().find_map(|(n, c)| problem(c).map(|why| (n, c, why))) {
        Some((n, c, why)) => Err(at.right(n).error(format!("<phoneme ph> holds {c:?} ({}), {why}", c.escape_unicode()))),
        None => Ok(()),
    }
}

/// Phonemizes the pending text and adds its sentences, each phoneme with its word.
fn flush(pending: &mut String, from: &mut usize, words: &[Word], tools: &Tools<'_>, drafts: &mut Vec<Draft>, open: &mut bool) -> Result<()> {
    let text = std::mem::take(pending);
    if text.trim().is_empty() {
        *from = words.len();
        return Ok(());
    }
    let spell = |i: usize, w: &str| -> String {
        match &words[*from + i].ipa {
            Some(ipa) => ipa.clone(),
            None => (tools.phonemize)(w).map(|s| s.join(" ")).unwrap_or_default(),
        }
    };
    let mut next = *from;
    let end = words.len();
    for s in (tools.phonemize)(&text)? {
        let chars: Vec<char> = s.chars().collect();
        let ws: Vec<&str> = words[next..end].iter().map(|w| w.spoken.as_str()).collect();
        let base = next - *from;
        let owner = match words::owners(&chars, &ws, |i, w| spell(base + i, w)) {
            Some((owner, used)) => {
                let o = owner.into_iter().map(|o| o.map(|k| next + k)).collect();
                next += used;
                o
            }
            // Nothing to align (a sentence of punctuation) or too long: no words named.
            None => vec![None; chars.len()],
        };
        add_sentence(drafts, open, chars, owner);
    }
    *from = words.len();
    Ok(())
}

/// Appends a sentence's phonemes: to the open draft when it has not ended a sentence, else as a
/// new draft.
fn add_sentence(drafts: &mut Vec<Draft>, open: &mut bool, chars: Vec<char>, owner: Vec<Option<usize>>) {
    match drafts.last_mut() {
        Some(d) if *open && !d.ends_sentence() && d.chars.len() + chars.len() < crate::voice::MAX_SENTENCE_PHONEMES => {
            let prev = d.owner.last().copied().flatten();
            d.chars.push(' ');
            d.owner.push(prev);
            d.chars.extend(chars);
            d.owner.extend(owner);
        }
        _ => drafts.push(Draft { chars, owner, silence_after: 0.0 }),
    }
    *open = true;
}

/// A draft's ids, per-id prosody and per-phoneme words.
fn finish(d: Draft, words: &[Word], names: &[String], map: &PhonemeIdMap) -> Planned {
    let phonemes: String = d.chars.iter().collect();
    let ids = map.ids(&phonemes);
    // Per span (the chars the map knows, in order): the word.
    let span_word: Vec<Option<usize>> = d.chars.iter().zip(&d.owner).filter(|(c, _)| map.knows(**c)).map(|(_, o)| *o).collect();
    // Prosody per span: its word's, or the nearest word's before it (after it at the start).
    let mut span_prosody: Vec<Option<usize>> = span_word.iter().map(|o| o.map(|w| words[w].prosody)).collect();
    for i in 1..span_prosody.len() {
        if span_prosody[i].is_none() {
            span_prosody[i] = span_prosody[i - 1];
        }
    }
    let first = span_prosody.iter().flatten().next().copied().unwrap_or(0);
    let span_prosody: Vec<usize> = span_prosody.iter().map(|p| p.unwrap_or(first)).collect();
    let mut prosody = vec![first; ids.ids.len()];
    for ((_, range), &p) in ids.spans.iter().zip(&span_prosody) {
        for i in range.clone() {
            prosody[i] = p;
        }
    }
    if let (Some(&last), Some((_, r))) = (span_prosody.last(), ids.spans.last()) {
        for p in &mut prosody[r.end..] {
            *p = last;
        }
    }
    // Words: renumbered to the sentence's own groups.
    let mut sentence_names: Vec<String> = Vec::new();
    let mut groups: Vec<usize> = Vec::new();
    let owner = span_word
        .iter()
        .map(|o| {
            o.map(|w| {
                let g = words[w].group;
                match groups.iter().position(|&x| x == g) {
                    Some(k) => k,
                    None => {
                        groups.push(g);
                        sentence_names.push(names[g].clone());
                        groups.len() - 1
                    }
                }
            })
        })
        .collect();
    Planned { phonemes, ids, prosody, owner, names: sentence_names, silence_after: d.silence_after }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn map() -> PhonemeIdMap {
        let symbols = "_^$ ,.!?həlˈoʊwɜːdmæksθɪzɡ";
        let m: HashMap<String, Vec<i64>> = symbols.chars().enumerate().map(|(i, c)| (c.to_string(), vec![i as i64])).collect();
        PhonemeIdMap::new(&m).unwrap()
    }

    /// A toy phonemizer: each word by a table, sentences split after . ! ?
    fn phonemize(text: &str) -> Result<Vec<String>> {
        let table = |w: &str| match w.to_lowercase().as_str() {
            "hello" => "həlˈoʊ",
            "world" => "wˈɜːld",
            "max" => "mˈæks",
            "the" => "ðə",
            _ => "ə",
        };
        let mut out = Vec::new();
        for tok in text.split_inclusive(['.', '!', '?']) {
            let ended = tok.ends_with(['.', '!', '?']);
            let ws: Vec<&str> = text_words(tok);
            let mut cur = ws.iter().map(|w| table(w)).collect::<Vec<_>>().join(" ");
            if ended {
                cur.push(tok.trim_end().chars().last().unwrap());
            }
            if !cur.trim().is_empty() {
                out.push(cur);
            }
        }
        Ok(out)
    }

    fn tools<'a>(ids: &'a PhonemeIdMap, lex: &'a Lexicon) -> Tools<'a> {
        Tools { phonemize: &phonemize, ids, lexicon: lex, symbol_problem: &|c| (c == 'Q').then(|| "which it cannot read".to_string()) }
    }

    #[test]
    fn prosody_lands_on_the_words_inside_tags() {
        let (ids, lex) = (map(), Lexicon::default());
        let p = plan_text(r#"Hello <prosody rate="50%" volume="-6dB">world</prosody> max."#, &tools(&ids, &lex)).unwrap();
        assert_eq!(p.sentences.len(), 1);
        let s = &p.sentences[0];
        assert_eq!(s.phonemes, "həlˈoʊ wˈɜːld mˈæks.");
        assert_eq!(s.names, ["Hello", "world", "max"]);
        let len = s.length(&p);
        // Span of `w` (index 7 of the phonemes) is slow; `h` and `m` are not.
        let span = |k: usize| s.ids.spans[k].1.start;
        assert_eq!(len[span(0)], 1.0);
        assert_eq!(len[span(6)], 1.0, "the space after Hello is Hello's");
        assert_eq!(len[span(7)], 2.0);
        assert_eq!(len[span(13)], 2.0, "the space after world is world's");
        assert_eq!(len[span(14)], 1.0);
        assert_eq!(s.gain_db(&p)[span(8)], -6.0);
    }

    #[test]
    fn breaks_split_and_lexicon_and_sub() {
        let ids = map();
        let mut lex = Lexicon::default();
        lex.insert("Zyx", "zˈɪks");
        let p = plan_text(r#"<break time="200ms"/>Hello Zyx<break time="1s"/> the <sub alias="world">W</sub>!"#, &tools(&ids, &lex)).unwrap();
        let got: Vec<(&str, f32, &[String])> = p.sentences.iter().map(|s| (s.phonemes.as_str(), s.silence_after, s.names.as_slice())).collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].1), ("", 0.2));
        assert_eq!((got[1].0, got[1].1), ("həlˈoʊ zˈɪks", 1.0));
        assert_eq!(got[1].2, ["Hello", "Zyx"]);
        assert_eq!(got[2].0, "ðə wˈɜːld!");
        assert_eq!(got[2].2, ["the", "W"], "the substitution is named by the original");
        assert!(!p.sentences[0].speaks());
    }

    #[test]
    fn phoneme_ipa_the_voice_cannot_read_is_an_error_at_its_symbol() {
        let (ids, lex) = (map(), Lexicon::default());
        let p = plan_text(r#"Say <phoneme ph=" zˈɪks">Zyx</phoneme>."#, &tools(&ids, &lex)).unwrap();
        assert_eq!(p.sentences[0].names, ["Say", "Zyx"]);
        let e = plan_text("Say\n  <phoneme ph=\" zˈQks\">Zyx</phoneme>.", &tools(&ids, &lex)).unwrap_err();
        match e {
            crate::Error::Markup { line, column, reason } => {
                assert_eq!((line, column), (2, 19), "the column of `Q`");
                assert!(reason.contains("'Q'") && reason.ends_with("which it cannot read"), "{reason}");
            }
            other => panic!("expected a markup error, got {other:?}"),
        }
        // A lexicon's IPA is not checked here (the lexicon is checked when it is set).
        let mut lex = Lexicon::default();
        lex.insert("Zyx", "zˈQks");
        assert!(plan_text("Say Zyx.", &tools(&ids, &lex)).is_ok());
    }
}
