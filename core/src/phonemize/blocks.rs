//! Piper's `[[ phonemes ]]` blocks: text between double brackets is taken as IPA phonemes
//! as written, the rest goes to espeak-ng; sentences are assembled as `PiperVoice.phonemize`
//! does (piper-tts 1.8.0, `voice.py`), quirks included.

use crate::error::Result;

/// Phonemizes `text` the way `PiperVoice.phonemize` does: `[[ … ]]` blocks are kept as raw
/// phonemes (trimmed, with a space on either side if the text had one there), every other part
/// goes through `text_sentences` (espeak-ng; it returns one string per sentence, empty ones
/// included). A raw block joins the last sentence before it, and the first sentence of the
/// text after it joins the block. A trailing empty sentence is dropped.
pub(super) fn phonemize_with_blocks(
    text: &str,
    mut text_sentences: impl FnMut(&str) -> Result<Vec<String>>,
) -> Result<Vec<String>> {
    let parts = split(text);
    let mut sentences: Vec<String> = Vec::new();
    let mut after_raw = false;
    for (i, part) in parts.iter().enumerate() {
        // As in Piper, any part starting with `[[` counts as phonemes (even `[[` never closed).
        if part.starts_with("[[") {
            after_raw = true;
            if sentences.is_empty() {
                sentences.push(String::new());
            }
            let last = sentences.last_mut().expect("just ensured");
            if i > 0 && parts[i - 1].ends_with(' ') {
                last.push(' ');
            }
            last.push_str(inner(part).trim());
            if parts.get(i + 1).is_some_and(|next| next.starts_with(' ')) {
                last.push(' ');
            }
            continue;
        }
        let mut part_sentences = text_sentences(part)?.into_iter();
        if after_raw {
            if let (Some(first), Some(last)) = (part_sentences.next(), sentences.last_mut()) {
                last.push_str(&first);
            }
        }
        sentences.extend(part_sentences);
        after_raw = false;
    }
    if sentences.last().is_some_and(String::is_empty) {
        sentences.pop();
    }
    Ok(sentences)
}

/// Splits like Python's `re.split(r"(\[\[.*?\]\])", text)`: text, block, text, …, text (the
/// text parts may be empty). A block runs from `[[` to the first `]]` after it, on one line.
fn split(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(offset) = text[from..].find("[[") {
        let start = from + offset;
        let inside = start + 2;
        let Some(close) = text[inside..].find("]]").map(|o| inside + o) else {
            break;
        };
        match text[inside..close].find('\n') {
            // No block can start before this newline and end after it: go on behind it.
            Some(newline) => from = inside + newline + 1,
            None => {
                parts.push(&text[last..start]);
                parts.push(&text[start..close + 2]);
                last = close + 2;
                from = last;
            }
        }
    }
    parts.push(&text[last..]);
    parts
}

/// Python's `part[2:-2]`: all but the first two and last two characters.
fn inner(part: &str) -> &str {
    let mut starts = part.char_indices().map(|(i, _)| i);
    let (Some(from), Some(to)) = (
        starts.nth(2),
        part.char_indices().map(|(i, _)| i).nth_back(1),
    ) else {
        return "";
    };
    if from < to {
        &part[from..to]
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stand-in for espeak-ng: upper-cases the text, one "sentence" per `.`-terminated piece,
    /// and like espeak-ng returns a single empty sentence for empty text. (Expected values
    /// below come from piper-tts 1.8.0's `PiperVoice.phonemize` code run with the same stand-in.)
    fn fake(text: &str) -> Result<Vec<String>> {
        let mut out: Vec<String> = text
            .split_inclusive('.')
            .map(|s| s.trim().to_uppercase())
            .collect();
        if out.is_empty() {
            out.push(String::new());
        }
        Ok(out)
    }

    fn run(text: &str) -> Vec<String> {
        phonemize_with_blocks(text, fake).unwrap()
    }

    #[test]
    fn splits_like_python_re_split() {
        assert_eq!(split("a [[b]] c"), ["a ", "[[b]]", " c"]);
        assert_eq!(split("[[b]]"), ["", "[[b]]", ""]);
        assert_eq!(split("[[a]]]"), ["", "[[a]]", "]"]);
        assert_eq!(split("[[[a]]"), ["", "[[[a]]", ""]);
        assert_eq!(split("x [[a\nb]] [[c]]"), ["x [[a\nb]] ", "[[c]]", ""]);
        assert_eq!(split("no blocks [[ here"), ["no blocks [[ here"]);
    }

    #[test]
    fn blocks_join_the_surrounding_sentences() {
        assert_eq!(
            run("hi [[ wˈɜːld ]] there. next."),
            ["HI wˈɜːld THERE.", "NEXT."]
        );
        assert_eq!(run("[[həlˈoʊ]]"), ["həlˈoʊ"]);
        assert_eq!(run("end. [[a]] [[b]]"), ["END.", " a  b"]);
        assert_eq!(run("a.[[b]]c. d"), ["A.bC.", "D"]);
    }

    #[test]
    fn unclosed_brackets_at_the_start_count_as_phonemes() {
        // Piper's quirk: a part starting with `[[` is phonemes even without `]]`.
        assert_eq!(run("[[hello"), ["hel"]);
        assert_eq!(inner("[[x"), "");
        assert_eq!(inner("[[]]"), "");
        assert_eq!(inner("[[ɑː]]"), "ɑː");
    }
}
