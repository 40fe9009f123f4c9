//! Lines rendered at build time (`tvtts bake`) and played instead of synthesized: the bake's
//! manifest, and looking a line up in it by its key (see [`crate::palette::line_key`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bevy::prelude::Resource;
use serde::{Deserialize, Serialize};
use tvtts_core::Say;

use crate::loader::VoicePreset;
use crate::palette;

/// `manifest.json` of a bake folder.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Manifest {
    /// The loudness lines were normalised to (LUFS), unless their preset set its own.
    pub lufs_target: f64,
    /// True-peak ceiling (dBTP).
    pub true_peak_ceiling: f64,
    pub lines: Vec<Entry>,
}

/// One baked line; paths relative to the manifest's folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub speaker: String,
    pub text: String,
    pub audio: String,
    pub timings: String,
    /// Seconds.
    pub duration: f64,
    /// Integrated loudness after normalisation (LUFS).
    pub lufs: f64,
    pub key: String,
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not a bake manifest: {e}", path.display()))
    }
}

/// The baked lines the plugin plays (from [`crate::TvTtsPlugin::baked`]).
#[derive(Resource, Debug, Default)]
pub struct BakedLines {
    dir: PathBuf,
    manifest: Manifest,
    by_key: HashMap<String, usize>,
}

impl BakedLines {
    /// The bake in `dir`.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let manifest = Manifest::read(dir)?;
        let by_key = manifest.lines.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect();
        Ok(BakedLines { dir: dir.to_path_buf(), manifest, by_key })
    }

    /// What to say for `text` from `preset` with `controls`: the baked line when one has this
    /// key (same preset files, text, α and loudness target), else `None`.
    pub fn find(&self, preset: &VoicePreset, text: &str, controls: &[(String, f32)]) -> Option<Say> {
        let target = preset.def.lufs.unwrap_or(self.manifest.lufs_target);
        let key = palette::line_key(&preset.fingerprint, text, controls, target, self.manifest.true_peak_ceiling);
        let e = &self.manifest.lines[*self.by_key.get(&key)?];
        Some(Say::Baked { audio: self.dir.join(&e.audio), timings: Some(self.dir.join(&e.timings)) })
    }
}
