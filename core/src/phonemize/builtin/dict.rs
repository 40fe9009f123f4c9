//! ARPAbet phones and the CMU Pronouncing Dictionary (`cmudict.dict`, BSD-style licence).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The 39 ARPAbet phones of CMUdict, vowels first (index = [`Phone::base`]).
pub(super) const ARPABET: [&str; 39] = [
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH",
    "UW", // vowels
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH", "T",
    "TH", "V", "W", "Y", "Z", "ZH",
];
/// Number of vowels at the start of [`ARPABET`].
const VOWELS: u8 = 15;

/// One ARPAbet phone: a base phone and, for vowels, CMUdict's stress (0, 1 or 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Phone {
    /// Index into [`ARPABET`].
    pub base: u8,
    /// Stress of a vowel (0 unstressed, 1 primary, 2 secondary); 0 for consonants.
    pub stress: u8,
}

impl Phone {
    /// Parses `AH0`, `T`, … (a vowel without a digit gets stress 0).
    pub fn parse(s: &str) -> Option<Phone> {
        let (name, stress) = match s.as_bytes().last() {
            Some(d @ b'0'..=b'2') => (&s[..s.len() - 1], d - b'0'),
            _ => (s, 0),
        };
        let base = ARPABET.iter().position(|&p| p == name)? as u8;
        if base >= VOWELS && stress != 0 {
            return None;
        }
        Some(Phone { base, stress })
    }

    /// A phone by name (`"T"`, `"AH"`) and stress; panics only on a typo in this crate's tables.
    pub fn of(name: &str, stress: u8) -> Phone {
        let base = ARPABET
            .iter()
            .position(|&p| p == name)
            .expect("known ARPAbet name") as u8;
        Phone { base, stress }
    }

    /// Whether this is a vowel.
    pub fn is_vowel(self) -> bool {
        self.base < VOWELS
    }

    /// The ARPAbet name without stress.
    pub fn name(self) -> &'static str {
        ARPABET[self.base as usize]
    }
}

/// Parses a space-separated ARPAbet pronunciation (`"HH AH0 L OW1"`).
pub(super) fn parse_phones(s: &str) -> Option<Vec<Phone>> {
    s.split_whitespace().map(Phone::parse).collect()
}

/// The dictionary: lower-case word → its first pronunciation.
#[derive(Debug, Default)]
pub(super) struct CmuDict {
    words: HashMap<String, Box<[Phone]>>,
}

impl CmuDict {
    /// Reads `cmudict.dict` (`word PH ON ES [# comment]`, variants as `word(2)`, ignored).
    ///
    /// # Errors
    /// The file cannot be read, or holds fewer than 100 000 usable entries (not the dictionary).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let dict = Self::parse(&text);
        if dict.len() < 100_000 {
            return Err(Error::Phonemizer(format!(
                "{}: only {} entries: not the CMU dictionary (run scripts/setup.sh)",
                path.display(),
                dict.len()
            )));
        }
        Ok(dict)
    }

    /// Parses the dictionary's text; malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut words = HashMap::with_capacity(140_000);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let Some((word, phones)) = line.trim().split_once(' ') else {
                continue;
            };
            if word.ends_with(')') {
                continue; // a variant: the first pronunciation is kept
            }
            if let Some(phones) = parse_phones(phones) {
                words.insert(word.to_owned(), phones.into_boxed_slice());
            }
        }
        Self { words }
    }

    /// The pronunciation of `word` (lower case), if listed.
    pub fn get(&self, word: &str) -> Option<&[Phone]> {
        self.words.get(word).map(|p| &**p)
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_skipping_variants_and_comments() {
        let d = CmuDict::parse(
            "hello HH AH0 L OW1\nhello(2) HH EH0 L OW1\naalborg AO1 L B AO0 R G # place\nbad XX1\n",
        );
        assert_eq!(d.len(), 2);
        let h = d.get("hello").unwrap();
        assert_eq!(h.len(), 4);
        assert_eq!((h[1].name(), h[1].stress), ("AH", 0));
        assert_eq!((h[3].name(), h[3].stress), ("OW", 1));
        assert!(!h[0].is_vowel());
        assert!(d.get("aalborg").is_some());
        assert!(Phone::parse("T1").is_none());
    }
}
