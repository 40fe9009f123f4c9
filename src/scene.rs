//! The scene script format (`assets/scenes/`): `speaker: text` per line, `#` comments, blank
//! lines skipped. Each speaker has a preset, `<assets>/voices/<speaker>.voice.ron`.

use std::path::Path;

use anyhow::Context;

/// One scripted line.
pub struct Line {
    pub speaker: String,
    pub text: String,
    /// Its line number in the file (1-based).
    pub number: usize,
}

/// Reads `speaker: text` lines (`#` comments, blank lines skipped).
pub fn read_script(path: &Path) -> anyhow::Result<Vec<Line>> {
    let script = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read script", path.display()))?;
    let mut lines = Vec::new();
    for (n, line) in script.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (speaker, text) =
            line.split_once(':').with_context(|| format!("{}:{n}: `{line}` is not `speaker: text`", path.display()))?;
        let speaker = speaker.trim();
        if speaker.is_empty() || speaker.contains(['/', '\\']) {
            anyhow::bail!("{}:{n}: `{speaker}` is not a speaker name (a preset file's stem)", path.display());
        }
        lines.push(Line { speaker: speaker.to_string(), text: text.trim().to_string(), number: n });
    }
    Ok(lines)
}
