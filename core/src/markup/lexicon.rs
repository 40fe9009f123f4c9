//! A lexicon: IPA for words the phonemizer would get wrong (invented names, jargon), per voice or
//! per game.
//!
//! File format (UTF-8): one entry per line, the word, whitespace, its IPA as the voice reads it
//! (stress marks included, e.g. `Zyx'thar  zˈɪksθɑːɹ`); `#` starts a comment; blank lines are
//! skipped. Words match the text's words case-insensitively.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// See the module doc.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lexicon {
    /// Lower-cased word → (IPA, line of the entry).
    entries: HashMap<String, (String, usize)>,
    /// The file read (for errors); `None` when built in code.
    path: Option<PathBuf>,
}

impl Lexicon {
    /// Reads a lexicon file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses lexicon text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut lex = Lexicon { entries: HashMap::new(), path: Some(path.to_path_buf()) };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let bad = |reason: String| Error::Lexicon { path: path.to_path_buf(), line, reason };
            let (word, ipa) = content.split_once(char::is_whitespace).ok_or_else(|| bad(format!("`{content}` has no IPA after the word")))?;
            let ipa = ipa.trim();
            if crate::timing::text_words(word) != [word] {
                return Err(bad(format!("`{word}` is not one word (letters, digits, apostrophes)")));
            }
            if let Some(c) = ipa.chars().find(|c| c.is_control()) {
                return Err(bad(format!("the IPA of `{word}` holds control character {c:?}")));
            }
            if let Some((_, first)) = lex.entries.get(&word.to_lowercase()) {
                return Err(bad(format!("`{word}` is already given on line {first}")));
            }
            lex.entries.insert(word.to_lowercase(), (ipa.to_string(), line));
        }
        Ok(lex)
    }

    /// Adds (or replaces) an entry.
    pub fn insert(&mut self, word: &str, ipa: &str) {
        self.entries.insert(word.to_lowercase(), (ipa.to_string(), 0));
    }

    /// The IPA for `word`, if the lexicon has it.
    pub fn get(&self, word: &str) -> Option<&str> {
        self.entries.get(&word.to_lowercase()).map(|(ipa, _)| ipa.as_str())
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks every entry's IPA symbol by symbol: `problem(c)` says why the voice cannot read
    /// `c` (`None`: it can). An error names the file, the entry's line, the first such symbol
    /// and the problem.
    pub fn check(&self, problem: impl Fn(char) -> Option<String>) -> Result<()> {
        let mut entries: Vec<_> = self.entries.iter().collect();
        entries.sort_by_key(|(_, (_, line))| *line);
        for (word, (ipa, line)) in entries {
            if let Some((c, why)) = ipa.chars().find_map(|c| problem(c).map(|why| (c, why))) {
                return Err(Error::Lexicon {
                    path: self.path.clone().unwrap_or_default(),
                    line: *line,
                    reason: format!("the IPA of `{word}` holds {c:?} ({}), {why}", c.escape_unicode()),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_comments_and_errors() {
        let lex = Lexicon::parse("# names\nZyx'thar  zˈɪksθɑːɹ  # the villain\n\nGlorb\tɡlˈɔːɹb\n", Path::new("l.txt")).unwrap();
        assert_eq!(lex.get("zyx'THAR"), Some("zˈɪksθɑːɹ"));
        assert_eq!(lex.get("Glorb"), Some("ɡlˈɔːɹb"));
        assert_eq!(lex.get("other"), None);
        let err = |t: &str| Lexicon::parse(t, Path::new("l.txt")).unwrap_err().to_string();
        assert!(err("ok ə\nlonely\n").starts_with("l.txt:2: "), "{}", err("ok ə\nlonely\n"));
        assert!(err("a ə\nA ɑ\n").contains("already given on line 1"));
        assert!(err("two-words x\n").contains("not one word"));
        let e = lex.check(|c| (c == 'ɡ').then(|| "which it cannot read".to_string())).unwrap_err().to_string();
        assert!(e.starts_with("l.txt:4: ") && e.contains("'ɡ'") && e.ends_with("which it cannot read"), "{e}");
    }
}
