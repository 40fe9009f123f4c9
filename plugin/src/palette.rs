//! A preset's engine palette (its voice, its styles' vectors, its lexicon) built from the bytes
//! of the files it names, and its fingerprint: a hash of everything in those files that decides
//! the audio. The asset loader reads the files through Bevy's asset IO, `tvtts bake` from disk;
//! both build here, so a baked line's key matches the live preset's.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tvtts_core::engine::{ControlSpec, Palette};
use tvtts_core::markup::Lexicon;
use tvtts_core::style::{Group, StyleVector};
use tvtts_core::Voice;

use crate::preset::{PresetDef, PresetProblem};

/// Version of the baked-line key: bump when the key's inputs or the rendering they imply change.
pub const BAKE_KEY_VERSION: u32 = 2;

/// The asset paths (besides the voice) whose bytes `def` needs: its vectors and its lexicon.
pub fn files_named(def: &PresetDef) -> Vec<String> {
    let mut out: Vec<String> = def.styles.values().flat_map(|s| s.vectors.iter().map(|v| v.file.clone())).collect();
    out.extend(def.lexicon.clone());
    out.sort();
    out.dedup();
    out
}

/// Builds `def`'s palette over `voice` from `files` (asset path → bytes, as [`files_named`]
/// lists), and its fingerprint. Problems are located in `source`, the preset's text.
pub fn build(def: &PresetDef, source: &str, voice: Arc<Voice>, files: &HashMap<String, Vec<u8>>) -> Result<(Palette, String), PresetProblem> {
    let quoted = |s: &str| format!("\"{s}\"");
    let bytes = |file: &str| files.get(file).ok_or_else(|| PresetProblem::at(source, &quoted(file), format!("`{file}` was not read")));
    let mut h = Sha256::new();
    h.update(BAKE_KEY_VERSION.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(source.as_bytes());
    h.update(voice.weights_hash().as_bytes());
    let mut controls = Vec::new();
    for (name, style) in &def.styles {
        let mut spec = ControlSpec::new(name, style.range.0, style.range.1).map_err(|e| PresetProblem::at(source, &quoted(name), e.to_string()))?;
        for v in &style.vectors {
            let here = |e: String| PresetProblem::at(source, &quoted(&v.file), format!("style `{name}`: {e}"));
            let data = bytes(&v.file)?;
            h.update(Sha256::digest(data));
            let vector = StyleVector::from_bytes(data, Path::new(&v.file)).map_err(|e| here(e.to_string()))?;
            vector.check_against(&voice).map_err(|e| here(e.to_string()))?;
            let groups = v.groups().map_err(|e| here(e.to_string()))?;
            if let Some(groups) = &groups {
                Group::check_all(groups, voice.model.as_ref()).map_err(|e| here(e.to_string()))?;
            }
            spec = spec.with_style(Arc::new(vector), groups);
        }
        controls.push(spec);
    }
    let mut palette = Palette::new(voice, controls).map_err(|e| PresetProblem { line: None, column: None, cause: e.to_string() })?;
    if let Some(name) = &def.phonemizer {
        let kind = tvtts_core::phonemize::Kind::parse(name).map_err(|e| PresetProblem::at(source, "phonemizer", e.to_string()))?;
        palette = palette.with_phonemizer(kind).map_err(|e| PresetProblem::at(source, "phonemizer", e.to_string()))?;
    }
    if let Some(name) = &def.accent {
        palette = palette.with_accent(name).map_err(|e| PresetProblem::at(source, "accent", e.to_string()))?;
    }
    if let Some(file) = &def.lexicon {
        let here = |e: String| PresetProblem::at(source, &quoted(file), format!("lexicon `{file}`: {e}"));
        let data = bytes(file)?;
        h.update(Sha256::digest(data));
        let text = std::str::from_utf8(data).map_err(|e| here(format!("not UTF-8: {e}")))?;
        let lexicon = Lexicon::parse(text, Path::new(file)).map_err(|e| here(e.to_string()))?;
        palette = palette.with_lexicon(lexicon).map_err(|e| here(e.to_string()))?;
    }
    Ok((palette, hex(&h.finalize())))
}

/// What a voice's typical loudness is measured on, for live lines of a preset with `lufs`: a
/// few plain sentences of ordinary dialogue.
pub const LOUDNESS_REFERENCE: &str = "The road to the village runs along the river for a day or two. \
Most travellers stop at the inn by the bridge, where the fire is warm and the stew is cheap. \
Ask for the innkeeper if you need a room, and keep your purse close in the crowd.";

/// The gain (dB) that brings `voice`, speaking [`LOUDNESS_REFERENCE`] with `def`'s options, to
/// `target` LUFS (lines vary around it by a dB or two; baked lines are normalised each).
pub fn live_gain_db(voice: &Voice, def: &PresetDef, target: f64) -> tvtts_core::Result<f32> {
    let sentences = voice.synthesize(&tvtts_core::Say::text(LOUDNESS_REFERENCE), &def.options())?;
    let audio: Vec<f32> = sentences.iter().flat_map(|s| s.audio.iter().copied()).collect();
    let measured = tvtts_core::loudness::measure(&audio, voice.sample_rate())?;
    if !measured.lufs.is_finite() {
        return Ok(0.0);
    }
    Ok((target - measured.lufs) as f32)
}

/// The key of one line of a preset with fingerprint `fingerprint`: its text, the control values
/// it is spoken with (any order) and the loudness it is normalised to.
pub fn line_key(fingerprint: &str, text: &str, controls: &[(String, f32)], lufs: f64, ceiling_dbtp: f64) -> String {
    let mut controls: Vec<&(String, f32)> = controls.iter().collect();
    controls.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    h.update(fingerprint.as_bytes());
    h.update((text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
    for (name, alpha) in controls {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(alpha.to_bits().to_le_bytes());
    }
    h.update(lufs.to_bits().to_le_bytes());
    h.update(ceiling_dbtp.to_bits().to_le_bytes());
    hex(&h.finalize())
}

/// The control values a preset's line is spoken with when nothing overrides them: each style
/// at its preset α.
pub fn default_controls(def: &PresetDef) -> Vec<(String, f32)> {
    def.styles.iter().map(|(name, s)| (name.clone(), s.alpha)).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
