//! `--timings FILE.json`: a line's timing track in seconds, for lip-sync and subtitles (the
//! format: `tvtts::core::timing::Timings::to_json`).

use std::path::Path;

use anyhow::Context;
use tvtts::core::timing::Timings;

/// Writes the track of a line to `path` (through a `.part` file, so an interrupted write leaves
/// no half file).
pub fn write(path: &Path, t: &Timings, sample_rate: u32) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&t.to_json(sample_rate))?;
    let part = path.with_extension("json.part");
    std::fs::write(&part, text).with_context(|| format!("{}: cannot write the timings", part.display()))?;
    std::fs::rename(&part, path).with_context(|| format!("{}: cannot write the timings", path.display()))
}
