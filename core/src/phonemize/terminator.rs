//! Recovers the clause terminator that Piper gets from `espeak_TextToPhonemesWithTerminator`
//! (espeak-ng ≥ 1.52), which Debian's libespeak-ng 1.51 lacks, from the text of the clause.
//!
//! `espeak_TextToPhonemes` reads one clause per call and advances the input pointer past it,
//! so the caller knows exactly which text made up the clause; what ended it (and so what Piper
//! prints) follows from how espeak-ng's `ReadClause` ends clauses:
//! - at punctuation followed by a space, bracket, quote or the end of the text (for `.` only if
//!   the next word does not start in lower case, and never before the clause has a letter or
//!   digit). A run of punctuation counts as its first mark (`?!` → `?`), three or more dots as
//!   an ellipsis; two or more newlines after it make it a paragraph end instead;
//! - at a blank line (a paragraph end);
//! - after ~800 bytes without any of these (the clause is cut: no terminator, no sentence end);
//! - at the end of the text.
//!
//! Piper then keeps `.` `?` `!` `,` `:` `;` (for the marks of other scripts too, as their
//! clause type) and ends a sentence at sentence-type clauses; [`punctuation`] holds that
//! mapping as piper-tts 1.8.0 does it, found by running it on every Unicode punctuation mark.

/// How a clause ended, as Piper reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClauseEnd {
    /// What Piper appends to the clause's phonemes: `.` `?` `!` `,` `:` `;` or nothing.
    pub terminator: &'static str,
    /// Whether the clause ends a sentence.
    pub end_of_sentence: bool,
}

const fn end(terminator: &'static str, end_of_sentence: bool) -> Option<ClauseEnd> {
    Some(ClauseEnd {
        terminator,
        end_of_sentence,
    })
}

/// A clause cut without punctuation (or ended by an ellipsis): nothing appended, sentence goes on.
const CONTINUES: ClauseEnd = ClauseEnd {
    terminator: "",
    end_of_sentence: false,
};
/// The end of the text or of a paragraph: nothing appended, sentence ends.
const SENTENCE: ClauseEnd = ClauseEnd {
    terminator: "",
    end_of_sentence: true,
};

/// How the clause `clause` ended.
///
/// `clause` is all the text that espeak-ng read for the clause: from the character it had pushed
/// back at the end of the previous clause, up to (not including) the character it pushed back at
/// the end of this one, or to the end of the text when `at_end` (espeak read all of it).
pub(super) fn clause_end(clause: &str, at_end: bool) -> ClauseEnd {
    let body = clause.trim_end_matches(is_space);
    let newlines = clause[body.len()..].matches('\n').count();
    let run_start = body
        .char_indices()
        .rev()
        .take_while(|&(_, c)| punctuation(c).is_some())
        .last()
        .map(|(i, _)| i);
    let by_punctuation = run_start.and_then(|start| {
        let run = &body[start..];
        if run.starts_with("...") {
            Some(CONTINUES) // an ellipsis: Piper keeps nothing
        } else {
            run.chars().next().and_then(punctuation)
        }
    });

    if newlines >= 2 {
        return SENTENCE; // a paragraph end (also after punctuation)
    }
    if at_end {
        // Trailing punctuation still ends the clause, unless nothing was said before it.
        return match (by_punctuation, run_start) {
            (Some(end), Some(start)) if body[..start].chars().any(char::is_alphanumeric) => end,
            _ => SENTENCE,
        };
    }
    by_punctuation.unwrap_or(CONTINUES)
}

/// White space as espeak-ng skips it after a clause; U+2029 counts as punctuation instead.
fn is_space(c: char) -> bool {
    c.is_whitespace() && c != '\u{2029}'
}

/// What Piper makes of a clause ended by `c`, or `None` if `c` does not end clauses.
///
/// Found by running piper-tts 1.8.0 on `"Hello{c} World"` for every character of the Unicode
/// categories P*, Sm, So, Sk, Zl and Zp: these are all that end a clause there.
fn punctuation(c: char) -> Option<ClauseEnd> {
    match c {
        '.' | '\u{6D4}' | '\u{701}' | '\u{704}' | '\u{1362}' | '\u{166E}' | '\u{1803}'
        | '\u{1809}' | '\u{2CF9}' | '\u{2CFE}' | '\u{2E33}' | '\u{2E3C}' | '\u{A4FF}'
        | '\u{A60E}' | '\u{A6F3}' | '\u{FE12}' | '\u{FE52}' | '\u{FF61}' | '\u{16AF5}'
        | '\u{1BC9F}' | '\u{1DA88}' => end(".", true),

        '?' | '\u{37E}' | '\u{61F}' | '\u{709}' | '\u{1367}' | '\u{1945}' | '\u{2047}'
        | '\u{2753}' | '\u{2754}' | '\u{2CFA}' | '\u{2CFB}' | '\u{A60F}' | '\u{A6F7}'
        | '\u{FE16}' | '\u{FE56}' | '\u{11143}' | '\u{1E95F}' => end("?", true),

        '!' | '\u{703}' | '\u{7F9}' | '\u{1944}' | '\u{203C}' | '\u{2755}' | '\u{2757}'
        | '\u{2762}' | '\u{2763}' | '\u{FE15}' | '\u{FE57}' | '\u{1E95E}' => end("!", true),

        ',' | '\u{55D}' | '\u{60C}' | '\u{702}' | '\u{7F8}' | '\u{F14}' | '\u{1363}'
        | '\u{1802}' | '\u{1808}' | '\u{2E32}' | '\u{2E34}' | '\u{2E41}' | '\u{A4FE}'
        | '\u{A60D}' | '\u{A6F5}' | '\u{FE10}' | '\u{FE11}' | '\u{FE50}' | '\u{FE51}'
        | '\u{FF64}' | '\u{1144D}' | '\u{1DA87}' => end(",", false),

        ':' | '\u{706}' | '\u{707}' | '\u{1365}' | '\u{1366}' | '\u{1804}' | '\u{2982}'
        | '\u{A6F4}' | '\u{FE13}' | '\u{FE55}' | '\u{12471}' | '\u{12472}' | '\u{1DA8A}' => {
            end(":", false)
        }

        // Semicolons, and the long dashes (– — ⸺ ⸻ ︱ ︲), which espeak-ng counts as semicolons.
        ';' | '\u{387}' | '\u{61B}' | '\u{708}' | '\u{1364}' | '\u{2013}' | '\u{2014}'
        | '\u{204F}' | '\u{2E35}' | '\u{2E3A}' | '\u{2E3B}' | '\u{A6F6}' | '\u{FE14}'
        | '\u{FE31}' | '\u{FE32}' | '\u{FE54}' | '\u{1DA89}' => end(";", false),

        // Ellipses, inverted marks and the full-width/ideographic clause marks ("optional
        // space after"): they end a clause but Piper keeps nothing.
        '\u{A1}' | '\u{BF}' | '\u{1801}' | '\u{2026}' | '\u{22EE}' | '\u{22EF}' | '\u{22F0}'
        | '\u{22F1}' | '\u{3001}' | '\u{FE19}' | '\u{FF0C}' | '\u{FF1A}' | '\u{FF1B}' => {
            end("", false)
        }

        // Sentence ends that Piper keeps nothing of (danda, ideographic full stop, U+2029, …).
        '\u{589}' | '\u{700}' | '\u{964}' | '\u{965}' | '\u{DF4}' | '\u{F0D}' | '\u{F0E}'
        | '\u{10FB}' | '\u{1368}' | '\u{2029}' | '\u{3002}' | '\u{FF01}' | '\u{FF0E}'
        | '\u{FF1F}' => end("", true),

        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(clause: &str, at_end: bool) -> (&'static str, bool) {
        let e = clause_end(clause, at_end);
        (e.terminator, e.end_of_sentence)
    }

    #[test]
    fn plain_marks() {
        assert_eq!(of("Hello there, ", false), (",", false));
        assert_eq!(of("Hello there; ", false), (";", false));
        assert_eq!(of("Note: ", false), (":", false));
        assert_eq!(of("Hello.  ", false), (".", true));
        assert_eq!(of("Why?\n", false), ("?", true));
        assert_eq!(of("traveler.", true), (".", true));
        assert_eq!(of("Stop!", false), ("!", true)); // followed by a quote or bracket
    }

    #[test]
    fn runs_count_as_their_first_mark() {
        assert_eq!(of("Really?! ", false), ("?", true));
        assert_eq!(of("What!?", true), ("!", true));
        assert_eq!(of("Wait,. ", false), (",", false));
        assert_eq!(of("So.. ", false), (".", true));
        assert_eq!(of("Yes... ", false), ("", false));
        assert_eq!(of("Yes…", true), ("", false));
    }

    #[test]
    fn dashes_are_semicolons() {
        assert_eq!(of("Wait — ", false), (";", false));
        assert_eq!(of("Wait – ", false), (";", false));
    }

    #[test]
    fn paragraphs_end_sentences_without_a_mark() {
        assert_eq!(of("Hello\n\n", false), ("", true));
        assert_eq!(of("Hello.\n \n", false), ("", true));
        assert_eq!(of("Hello?\n\n\n", true), ("", true));
        assert_eq!(of("Hello\n", true), ("", true));
    }

    #[test]
    fn cut_clauses_and_text_ends() {
        assert_eq!(
            of("a very long clause without punctuation ", false),
            ("", false)
        );
        assert_eq!(of("the end", true), ("", true));
        assert_eq!(of("   ", true), ("", true));
        assert_eq!(of("!!!", true), ("", true)); // no word before the marks
    }

    #[test]
    fn other_scripts() {
        assert_eq!(of("你好。", true), ("", true));
        assert_eq!(of("مرحبا، ", false), (",", false));
        assert_eq!(of("¿Qué? ", false), ("?", true));
    }
}
