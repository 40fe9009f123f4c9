//! The scene script format: `speaker: text` per line, `#` comments, blank lines skipped.

use std::path::Path;

use anyhow::Context;

/// One scripted line.
pub struct Line {
    pub speaker: String,
    pub text: String,
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
        lines.push(Line { speaker: speaker.trim().to_string(), text: text.trim().to_string() });
    }
    Ok(lines)
}
