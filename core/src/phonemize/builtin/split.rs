//! Text → sentences → clauses → raw tokens, with espeak-ng's (and Piper's) punctuation rules:
//! `,` `;` `:` end a clause (long dashes count as `;`), `.` `?` `!` end a sentence (a run such
//! as `?!` counts as its first mark; `.` only when the next word does not start in lower case,
//! never inside numbers or after a title such as `Dr.`), an ellipsis ends a clause with nothing
//! kept. Every control character (NUL included) is a space.

use unicode_normalization::UnicodeNormalization;

/// A raw token of a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// Letters (accents removed), with inner apostrophes (`don't`); `abbrev` when a known
    /// abbreviation's `.` followed (`Dr.`); `initialism` for dotted letters (`e.g.`, `p.m.`,
    /// `text` then holds the letters only).
    Word {
        text: String,
        abbrev: bool,
        initialism: bool,
    },
    /// Digits with inner `,` `.` `:` `/` (`1,250`, `3.50`, `10:30`, `3/4/2024`), a leading
    /// minus sign and a suffix (`st` `nd` `rd` `th` `s`, lower case).
    Number {
        digits: String,
        negative: bool,
        suffix: String,
    },
    /// A symbol read as a word: `$ £ € ¥ % & + @ = ° #`.
    Symbol(char),
}

/// A clause: its tokens and what Piper appends after it (`,` `;` `:` `.` `?` `!` or nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Clause {
    pub tokens: Vec<Token>,
    pub terminator: &'static str,
}

/// Abbreviations that take a `.` and never end a sentence (titles and the like).
const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "mt", "sgt", "capt", "lt", "col", "gen", "rev", "fr",
    "vs", "approx", "dept", "ave",
];
/// Abbreviations that take a `.` and end a sentence when a capitalised word follows.
const ENDINGS: &[&str] = &["etc", "jr", "sr", "inc", "ltd", "co"];

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}')
}

/// Removes accents (NFD, combining marks dropped): `café` → `cafe`.
fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Splits `text` into sentences of clauses (empty clauses dropped; empty sentences dropped).
pub(super) fn split(text: &str) -> Vec<Vec<Clause>> {
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    // The next character that is not a space or quote/bracket, from `i`.
    let next_visible = |mut i: usize| -> Option<char> {
        while i < n
            && (chars[i].is_whitespace()
                || matches!(
                    chars[i],
                    '"' | '\'' | '“' | '”' | '‘' | '’' | '(' | ')' | '[' | ']' | '«' | '»'
                ))
        {
            i += 1;
        }
        chars.get(i).copied()
    };

    let mut sentences: Vec<Vec<Clause>> = Vec::new();
    let mut sentence: Vec<Clause> = Vec::new();
    let mut clause = Clause::default();
    let end_clause = |clause: &mut Clause,
                      sentence: &mut Vec<Clause>,
                      sentences: &mut Vec<Vec<Clause>>,
                      terminator: &'static str,
                      ends: bool| {
        let c = std::mem::take(clause);
        if !c.tokens.is_empty() {
            sentence.push(Clause {
                tokens: c.tokens,
                terminator,
            });
        }
        if ends && !sentence.is_empty() {
            sentences.push(std::mem::take(sentence));
        }
    };

    let mut i = 0;
    while i < n {
        let c = chars[i];
        if c.is_alphabetic() {
            let start = i;
            // Dotted initialisms: e.g. / i.e. / p.m. / U.S.
            if at(i + 1) == '.'
                && at(i + 2).is_alphabetic()
                && at(i + 3) == '.'
                && !at(i.wrapping_sub(1)).is_alphabetic()
            {
                let mut letters = String::new();
                let mut j = i;
                while at(j).is_alphabetic() && at(j + 1) == '.' {
                    letters.push(at(j));
                    j += 2;
                }
                if letters.chars().count() >= 2 {
                    i = j;
                    let lower = letters.to_lowercase();
                    clause.tokens.push(Token::Word {
                        text: fold(&letters),
                        abbrev: false,
                        initialism: true,
                    });
                    let ends = match next_visible(i) {
                        None => true,
                        Some(nc) => {
                            nc.is_uppercase()
                                && matches!(lower.as_str(), "am" | "pm" | "us" | "uk" | "ad" | "bc")
                        }
                    };
                    if ends {
                        end_clause(&mut clause, &mut sentence, &mut sentences, ".", true);
                    }
                    continue;
                }
            }
            let mut j = i;
            while j < n
                && (chars[j].is_alphabetic()
                    || (is_apostrophe(chars[j])
                        && j + 1 < n
                        && chars[j + 1].is_alphabetic()
                        && j > start)
                    || unicode_normalization::char::is_combining_mark(chars[j]))
            {
                j += 1;
            }
            let word: String = chars[start..j]
                .iter()
                .map(|&c| if is_apostrophe(c) { '\'' } else { c })
                .collect();
            let lower = word.to_lowercase();
            i = j;
            let mut abbrev = false;
            let mut sentence_end_after = false;
            if at(i) == '.' && at(i + 1) != '.' {
                let next = next_visible(i + 1);
                if TITLES.contains(&lower.as_str())
                    || lower == "no" && next.is_some_and(|c| c.is_ascii_digit())
                {
                    abbrev = true;
                    i += 1;
                    sentence_end_after = next.is_none();
                } else if ENDINGS.contains(&lower.as_str()) {
                    abbrev = true;
                    i += 1;
                    sentence_end_after = next.is_none_or(char::is_uppercase);
                }
            }
            clause.tokens.push(Token::Word {
                text: fold(&word),
                abbrev,
                initialism: false,
            });
            // A dot between two words of two or more letters, no space (`example.com`,
            // `bob@example.com`): said, as espeak-ng says it; it ended nothing and was dropped.
            let letters_after = || chars[(i + 1).min(n)..].iter().take_while(|c| c.is_alphabetic()).count();
            if !abbrev && at(i) == '.' && word.chars().count() >= 2 && letters_after() >= 2 {
                clause.tokens.push(Token::Word { text: "dot".into(), abbrev: false, initialism: false });
                i += 1;
            }
            if sentence_end_after {
                end_clause(&mut clause, &mut sentence, &mut sentences, ".", true);
            }
            continue;
        }
        let minus = matches!(c, '-' | '\u{2212}')
            && at(i + 1).is_ascii_digit()
            && (i == 0 || !chars[i - 1].is_alphanumeric());
        if c.is_ascii_digit() || minus {
            let negative = minus;
            let mut j = if minus { i + 1 } else { i };
            let start = j;
            while j < n {
                let d = chars[j];
                if d.is_ascii_digit()
                    || matches!(d, ',' | '.' | ':' | '/') && at(j + 1).is_ascii_digit() && j > start
                {
                    j += 1;
                } else {
                    break;
                }
            }
            let digits: String = chars[start..j].iter().collect();
            let mut suffix = String::new();
            let mut k = j;
            while k < n && chars[k].is_ascii_alphabetic() {
                k += 1;
            }
            let letters: String = chars[j..k].iter().collect::<String>().to_lowercase();
            if matches!(letters.as_str(), "st" | "nd" | "rd" | "th" | "s") {
                suffix = letters;
                j = k;
            }
            clause.tokens.push(Token::Number {
                digits,
                negative,
                suffix,
            });
            i = j;
            continue;
        }
        match c {
            '.' | '?' | '!' | '\u{2026}' => {
                let mut j = i;
                while j < n && matches!(chars[j], '.' | '?' | '!' | '\u{2026}') {
                    j += 1;
                }
                let run: String = chars[i..j].iter().collect();
                i = j;
                if run.starts_with("..") || run.starts_with('\u{2026}') {
                    end_clause(&mut clause, &mut sentence, &mut sentences, "", false);
                    continue;
                }
                let glued = at(i).is_alphanumeric();
                match run.chars().next() {
                    Some('.') if glued => {} // file.txt, a.b: a word break only
                    Some('.') => {
                        let lower_next = next_visible(i).is_some_and(char::is_lowercase);
                        if !lower_next {
                            end_clause(&mut clause, &mut sentence, &mut sentences, ".", true);
                        }
                    }
                    Some('?') => end_clause(&mut clause, &mut sentence, &mut sentences, "?", true),
                    Some(_) => end_clause(&mut clause, &mut sentence, &mut sentences, "!", true),
                    None => {}
                }
            }
            ',' | '\u{3001}' | '\u{FF0C}' => {
                end_clause(&mut clause, &mut sentence, &mut sentences, ",", false);
                i += 1;
            }
            ';' | '\u{2013}' | '\u{2014}' | '\u{2015}' => {
                end_clause(&mut clause, &mut sentence, &mut sentences, ";", false);
                i += 1;
            }
            ':' => {
                end_clause(&mut clause, &mut sentence, &mut sentences, ":", false);
                i += 1;
            }
            '$' | '£' | '€' | '¥' | '%' | '&' | '+' | '@' | '=' | '°' | '#' => {
                clause.tokens.push(Token::Symbol(c));
                i += 1;
            }
            _ => i += 1, // spaces, quotes, brackets, hyphens, other symbols: word breaks
        }
    }
    end_clause(&mut clause, &mut sentence, &mut sentences, "", true);
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<Vec<(usize, &'static str)>> {
        split(text)
            .iter()
            .map(|s| s.iter().map(|c| (c.tokens.len(), c.terminator)).collect())
            .collect()
    }

    #[test]
    fn sentences_and_clauses() {
        assert_eq!(
            shape("Hello there, traveler. Run!"),
            vec![vec![(2, ","), (1, ".")], vec![(1, "!")]]
        );
        assert_eq!(shape("Why?! Because"), vec![vec![(1, "?")], vec![(1, "")]]);
        assert_eq!(
            shape("Wait — what? Yes... no"),
            vec![vec![(1, ";"), (1, "?")], vec![(1, ""), (1, "")]]
        );
        assert_eq!(
            shape("one: two; three"),
            vec![vec![(1, ":"), (1, ";"), (1, "")]]
        );
    }

    #[test]
    fn titles_and_numbers_do_not_end_sentences() {
        assert_eq!(
            shape("Dr. Smith paid $3.50 at 10:30 today."),
            vec![vec![(8, ".")]]
        );
        assert_eq!(
            shape("We need apples, etc. for the party."),
            vec![vec![(3, ","), (4, ".")]]
        );
        assert_eq!(
            shape("Bring bread, etc. Then go."),
            vec![vec![(2, ","), (1, ".")], vec![(2, ".")]]
        );
        assert_eq!(
            shape("Leave at 5 p.m. Then ride."),
            vec![vec![(4, ".")], vec![(2, ".")]]
        );
        assert_eq!(
            shape("Cats, e.g. Tom, purr."),
            vec![vec![(1, ","), (2, ","), (1, ".")]]
        );
    }

    #[test]
    fn tokens() {
        let s = split("Don't pay -5 or 1,250.5 for 21st café Zyx'thar's");
        let toks = &s[0][0].tokens;
        assert_eq!(
            toks[0],
            Token::Word {
                text: "Don't".into(),
                abbrev: false,
                initialism: false
            }
        );
        assert_eq!(
            toks[2],
            Token::Number {
                digits: "5".into(),
                negative: true,
                suffix: String::new()
            }
        );
        assert_eq!(
            toks[4],
            Token::Number {
                digits: "1,250.5".into(),
                negative: false,
                suffix: String::new()
            }
        );
        assert_eq!(
            toks[6],
            Token::Number {
                digits: "21".into(),
                negative: false,
                suffix: "st".into()
            }
        );
        assert_eq!(
            toks[7],
            Token::Word {
                text: "cafe".into(),
                abbrev: false,
                initialism: false
            }
        );
        assert_eq!(
            toks[8],
            Token::Word {
                text: "Zyx'thar's".into(),
                abbrev: false,
                initialism: false
            }
        );
    }

    #[test]
    fn controls_are_spaces_and_nul_does_not_end_text() {
        assert_eq!(shape("one\0two\u{1}three\nfour."), vec![vec![(4, ".")]]);
        assert!(split("\0\0 \u{7f}").is_empty());
    }
}
