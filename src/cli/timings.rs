//! `--timings FILE.json`: a line's timing track in seconds, for lip-sync and subtitles.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};
use tvtts::core::timing::{Span, Timings};

/// The track as JSON: `{"sample_rate", "duration", "words": [{"text", "start", "end"}],
/// "phonemes": [{"phoneme", …}], "visemes": [{"viseme", …}] (OVR names), "rhubarb": [{"shape",
/// …}]}`, times in seconds from the file's start.
pub fn to_json(t: &Timings, sample_rate: u32) -> Value {
    let secs = |s: u64| s as f64 / sample_rate as f64;
    let list = |key: &str, spans: Vec<(String, u64, u64)>| -> Value {
        spans.into_iter().map(|(item, a, b)| json!({ key: item, "start": secs(a), "end": secs(b) })).collect()
    };
    let of = |spans: &[Span<String>]| spans.iter().map(|s| (s.item.clone(), s.start, s.end)).collect::<Vec<_>>();
    json!({
        "sample_rate": sample_rate,
        "duration": secs(t.end),
        "words": list("text", of(&t.words)),
        "phonemes": list("phoneme", t.phonemes.iter().map(|p| (p.item.to_string(), p.start, p.end)).collect()),
        "visemes": list("viseme", t.visemes.iter().map(|v| (v.item.0.name().to_string(), v.start, v.end)).collect()),
        "rhubarb": list("shape", t.rhubarb().iter().map(|r| (r.item.name().to_string(), r.start, r.end)).collect()),
    })
}

/// Writes the track of a line to `path`.
pub fn write(path: &Path, t: &Timings, sample_rate: u32) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&to_json(t, sample_rate))?;
    std::fs::write(path, text).with_context(|| format!("{}: cannot write the timings", path.display()))
}
