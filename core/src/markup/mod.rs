//! Inline markup for lines: a small, strict SSML subset, and lexicons for invented names.
//!
//! ```text
//! <speak>                                       optional root
//! <break time="300ms"/>  <break strength="strong"/>            silence
//! <prosody rate="slow|90%|+10%|1.2" pitch="+2st|-10%|high" volume="-3dB|loud">…</prosody>
//! <emphasis level="strong|moderate|reduced|none">…</emphasis>  slower and louder
//! <style name="angry" alpha="0.8">…</style>     a control of the voice's preset, from this word on
//! <phoneme alphabet="ipa" ph="ˈzɪkθɑːɹ">Zyx'thar</phoneme>    IPA for the enclosed word(s)
//! <sub alias="World Wide Web">WWW</sub>         spoken as the alias, timed as the original
//! ```
//!
//! A line is markup when it starts with `<speak` or holds a tag of that shape (`<name …>`,
//! `</name>`, `<name/>`); anything else is plain text, read as it is (`<` and `&` included).
//! Markup is XML: entities (`&amp;`, `&lt;`) must be escaped; unknown tags or attributes and bad
//! values are errors naming the line and column ([`crate::Error::Markup`]), never dropped.
//!
//! Parsing gives a [`Markup`]: runs of text, each with the [`Prosody`] in force, and breaks.
//! What the runs mean for the audio (per-phoneme durations, gain, pitch, style switches) is
//! decided by the voice's line planner (`crate::line`).

mod lexicon;
mod ssml;
mod values;

pub use lexicon::Lexicon;
pub use ssml::parse;

/// A position in a line's text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// An [`crate::Error::Markup`] at this position.
    pub fn error(self, reason: impl Into<String>) -> crate::Error {
        crate::Error::Markup { line: self.line, column: self.column, reason: reason.into() }
    }

    /// The position `n` characters further on the same line.
    pub fn right(self, n: usize) -> Pos {
        Pos { column: self.column + n, ..self }
    }
}

/// A style control set by `<style>`, and where the tag stands (for errors about its name).
#[derive(Debug, Clone, PartialEq)]
pub struct StyleSetting {
    pub name: String,
    pub alpha: f32,
    pub at: Pos,
}

/// How a run of text is spoken, relative to the line's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Prosody {
    /// Duration multiplier (2 = half as fast).
    pub length: f32,
    /// Pitch shift in semitones.
    pub pitch_st: f32,
    /// Gain in dB.
    pub volume_db: f32,
    /// Controls set for this run, innermost last (a later one with the same name wins).
    pub styles: Vec<StyleSetting>,
}

impl Default for Prosody {
    fn default() -> Self {
        Prosody { length: 1.0, pitch_st: 0.0, volume_db: 0.0, styles: Vec::new() }
    }
}

impl Prosody {
    /// The value of control `name` set here, if any.
    pub fn style(&self, name: &str) -> Option<f32> {
        self.styles.iter().rev().find(|s| s.name == name).map(|s| s.alpha)
    }
}

/// One piece of a parsed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Text to speak with `prosody`.
    Text {
        /// What is phonemized (a `<sub>`'s alias).
        text: String,
        /// IPA given for it (`<phoneme ph>`, a lexicon entry): `text` is then only its name.
        ipa: Option<String>,
        /// Where a `<phoneme>`'s IPA starts in the line, for errors about its symbols (the
        /// n-th symbol's column is this column + n); `None` for a lexicon's, which is checked
        /// when the lexicon is set.
        ipa_at: Option<Pos>,
        /// The words the timing track names (a `<sub>`'s or `<phoneme>`'s original), when not
        /// `text`'s own.
        shown: Option<String>,
        prosody: Prosody,
    },
    /// Silence of this many seconds.
    Break { seconds: f32 },
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Markup {
    pub items: Vec<Item>,
}

impl Markup {
    /// Plain text as one run.
    pub fn plain(text: &str) -> Self {
        Markup { items: vec![Item::Text { text: text.to_string(), ipa: None, ipa_at: None, shown: None, prosody: Prosody::default() }] }
    }

    /// Whether any run sets a style control.
    pub fn has_styles(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Text { prosody, .. } if !prosody.styles.is_empty()))
    }
}

/// Whether `text` is markup: it starts with `<speak` or holds a tag (`<name`, `</name` or
/// `<name/` followed, before any other `<`, by `>`).
pub fn is_markup(text: &str) -> bool {
    if text.trim_start().starts_with("<speak") {
        return true;
    }
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b'<' {
            return false;
        }
        let mut j = i + 1;
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        if !b.get(j).is_some_and(u8::is_ascii_alphabetic) {
            return false;
        }
        while b.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b':' | b'.')) {
            j += 1;
        }
        // The name must end the tag or be followed by whitespace or `/`, and a `>` must come
        // before the next `<`.
        if !b.get(j).is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/')) {
            return false;
        }
        b[j..].iter().take_while(|&&c| c != b'<').any(|&c| c == b'>')
    })
}

/// `text` as markup when it is markup ([`is_markup`]), else as one plain run.
pub fn read(text: &str) -> crate::Result<Markup> {
    if is_markup(text) {
        parse(text)
    } else {
        Ok(Markup::plain(text))
    }
}

#[cfg(test)]
mod tests {
    use super::is_markup;

    #[test]
    fn plain_text_is_not_markup() {
        for t in ["5 < 6 & 7 > 3", "a<b", "I <3 you > them", "x << y", "<- back", "fish & chips", "<3>", "a < b c>"] {
            assert!(!is_markup(t), "{t}");
        }
        for t in ["<speak>hi</speak>", "  <speak version=\"1.1\">", "Wait<break time=\"1s\"/>now", "<emphasis>no</emphasis>", "say </x> it", "<unknown foo=\"1\">x"] {
            assert!(is_markup(t), "{t}");
        }
    }
}
