//! Reads a text clause by clause with `espeak_TextToPhonemes`, keeping track of which part of
//! the text each clause was made of (for [`super::terminator`]).
//!
//! espeak-ng reads one character past the end of a clause and pushes it back; it is the first
//! character of the next clause. Each clause's text therefore runs from the character pushed
//! back at the end of the previous clause to the one before the character pushed back at its
//! own end (or to the end of the text).
//!
//! espeak-ng measures (`strlen`) all of the remaining text on every call, so the text is shown
//! to it through a window a few clauses long. As long as espeak stops inside the window it has
//! read exactly what it would have read from the whole text; if it runs into the window's end,
//! the clause is read again through a window twice as large. This keeps long texts linear.

use std::ffi::{c_int, c_void, CStr};

use super::engine::Engine;
use super::ffi;

/// Bytes of text shown to espeak-ng per call at first (espeak cuts clauses at ~800 bytes).
const WINDOW: usize = 4096;

/// One clause as espeak-ng translated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clause {
    /// espeak-ng's phoneme string for the clause, in the requested phoneme mode.
    pub phonemes: String,
    /// Byte range of the clause's text in the input (see the module docs).
    pub start: usize,
    /// End of that range.
    pub stop: usize,
    /// Whether espeak-ng read to the end of the text for this clause.
    pub at_end: bool,
}

/// All clauses of `text`, translated with `phoneme_mode` (a `espeak_TextToPhonemes`
/// `phonememode`). `text` must not contain NUL. The engine must be initialised, with a voice.
pub(super) fn read_clauses(_engine: &mut Engine, text: &str, phoneme_mode: c_int) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let mut window = Vec::with_capacity(WINDOW + 1);
    let mut start = 0;
    let mut read = 0;
    loop {
        let (phonemes, read_to) = next_clause(text, start, read, phoneme_mode, &mut window);
        let stop = match read_to {
            // espeak pushed back the last character it read: it starts the next clause.
            Some(pos) => text[..pos]
                .char_indices()
                .next_back()
                .map_or(pos, |(i, _)| i.max(start)),
            None => text.len(),
        };
        clauses.push(Clause {
            phonemes,
            start,
            stop,
            at_end: read_to.is_none(),
        });
        match read_to {
            Some(pos) => {
                start = stop;
                read = pos;
            }
            None => return clauses,
        }
    }
}

/// Has espeak-ng translate the clause that starts at `start` (it has read the text up to
/// `read`). Returns the phonemes and how far espeak read, or `None` if to the end of `text`.
fn next_clause(
    text: &str,
    start: usize,
    read: usize,
    phoneme_mode: c_int,
    window: &mut Vec<u8>,
) -> (String, Option<usize>) {
    let mut from = read;
    let mut size = WINDOW;
    loop {
        let mut to = from.saturating_add(size).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        window.clear();
        window.extend_from_slice(&text.as_bytes()[from..to]);
        window.push(0);
        let base = window.as_ptr();
        let mut ptr = base.cast::<c_void>();
        // SAFETY: `window` is NUL-terminated (and has no other NUL: `text` has none), lives
        // across the call, and espeak only moves `ptr` forward within it. The caller holds the
        // engine lock (`&mut Engine`), so no other thread is inside espeak-ng.
        let out = unsafe { ffi::espeak_TextToPhonemes(&mut ptr, ffi::CHARS_AUTO, phoneme_mode) };
        let phonemes = if out.is_null() {
            String::new()
        } else {
            // SAFETY: espeak returns a NUL-terminated string that stays valid until its next call.
            unsafe { CStr::from_ptr(out) }
                .to_string_lossy()
                .into_owned()
        };
        if ptr.is_null() {
            if to == text.len() {
                return (phonemes, None);
            }
            // espeak read the whole window without ending the clause. Read the clause again
            // through a larger window, from its first character, which espeak no longer holds.
            from = start;
            size = (to - from).saturating_mul(2);
            continue;
        }
        let offset = (ptr as usize).saturating_sub(base as usize).min(to - from);
        let mut pos = from + offset;
        while !text.is_char_boundary(pos) {
            pos += 1;
        }
        if pos <= from {
            // No progress (never seen): skip a character rather than loop forever.
            log::warn!("espeak-ng made no progress at byte {from}; skipping a character");
            pos = from + text[from..].chars().next().map_or(1, char::len_utf8);
        }
        return (phonemes, Some(pos));
    }
}
