//! The `*.voice.ron` asset: parsed, its voice and vectors loaded through Bevy's asset IO (so
//! editing a vector file reloads the presets using it), and registered with the engine as one
//! engine voice per preset version. Every failure is reported with the file, line/column and
//! cause, and leaves the last good version active.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bevy::asset::io::Reader;
use bevy::asset::{Asset, AssetLoader, LoadContext};
use bevy::log::{error, warn};
use bevy::prelude::*;
use crossbeam_channel::Sender;
use sha2::{Digest, Sha256};
use tvtts_core::engine::Engine;

use crate::messages::PresetError;
use crate::palette;
use crate::preset::{PresetDef, PresetProblem};

/// A loaded voice preset: what its file says, and the engine voice this version registered.
#[derive(Asset, TypePath, Debug)]
pub struct VoicePreset {
    pub def: PresetDef,
    /// The engine's name for this version (`"<asset path>#<n>"`); lines use it.
    pub engine_key: String,
    /// The voice's sample rate.
    pub sample_rate: u32,
    /// Hash of everything in the preset's files that decides its audio (see
    /// [`palette::build`]): baked lines are looked up by it.
    pub fingerprint: String,
}

/// Loads `*.voice.ron` files.
#[derive(TypePath)]
pub struct VoicePresetLoader {
    engine: Arc<Engine>,
    errors: Sender<PresetError>,
    /// Voices already loaded, by asset path, with the SHA-256 of their `.onnx` bytes: presets
    /// sharing a voice (and reloads of one preset) share its weights. One slot per path, held
    /// while its voice loads, so presets loading at once wait for the first one's voice instead
    /// of each loading (and packing) a copy of its weights.
    voices: Mutex<HashMap<String, Arc<Mutex<Option<CachedVoice>>>>>,
    versions: AtomicU64,
}

/// A loaded voice and the SHA-256 of the `.onnx` bytes it came from.
type CachedVoice = ([u8; 32], Arc<tvtts_core::Voice>);

/// Why a preset did not load (also sent as a [`PresetError`] message).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PresetLoadError(pub PresetError);

impl VoicePresetLoader {
    pub(crate) fn new(engine: Arc<Engine>, errors: Sender<PresetError>) -> Self {
        VoicePresetLoader { engine, errors, voices: Mutex::default(), versions: AtomicU64::new(0) }
    }

    /// The voice at asset path `path`, from the cache when its bytes are unchanged.
    async fn voice(&self, path: &str, ctx: &mut LoadContext<'_>) -> Result<Arc<tvtts_core::Voice>, String> {
        let model = ctx.read_asset_bytes(path.to_string()).await.map_err(|e| format!("voice `{path}`: {e}"))?;
        let config_path = format!("{path}.json");
        let config = ctx.read_asset_bytes(config_path.clone()).await.map_err(|e| format!("voice config `{config_path}`: {e}"))?;
        let digest: [u8; 32] = Sha256::digest(&model).into();
        // No await from here on: the slot stays locked while the voice loads and warms up.
        let slot = self.voices.lock().unwrap_or_else(PoisonError::into_inner).entry(path.to_string()).or_default().clone();
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((d, v)) = slot.as_ref() {
            if *d == digest {
                return Ok(v.clone());
            }
        }
        let device = self.engine.config().device.clone();
        let voice = tvtts_core::Voice::from_bytes(Path::new(path), &model, &config, &device).map_err(|e| e.to_string())?;
        // Here, on the asset task, not in an NPC's first line. A voice that cannot speak the
        // warm-up sentence (no phonemizer for its language here) still loads; its lines say why.
        if let Err(e) = voice.warm_up() {
            warn!("voice `{path}`: warming up failed: {e}");
        }
        let voice = Arc::new(voice);
        *slot = Some((digest, voice.clone()));
        Ok(voice)
    }

    async fn load_preset(&self, source: &str, ctx: &mut LoadContext<'_>) -> Result<VoicePreset, PresetProblem> {
        let def = PresetDef::parse(source)?;
        let quoted = |s: &str| format!("\"{s}\"");
        let voice = self.voice(&def.voice, ctx).await.map_err(|e| PresetProblem::at(source, &quoted(&def.voice), e))?;
        let mut files = HashMap::new();
        for file in palette::files_named(&def) {
            let bytes = ctx.read_asset_bytes(file.clone()).await.map_err(|e| PresetProblem::at(source, &quoted(&file), format!("`{file}`: {e}")))?;
            files.insert(file, bytes);
        }
        let sample_rate = voice.sample_rate();
        let (mut palette, fingerprint) = palette::build(&def, source, voice.clone(), &files)?;
        if let Some(target) = def.lufs {
            // Live lines: one gain for the voice, measured once per load.
            let gain = palette::live_gain_db(&voice, &def, target).map_err(|e| PresetProblem::at(source, "lufs", format!("measuring the voice's loudness: {e}")))?;
            palette = palette.with_gain_db(gain).map_err(|e| PresetProblem::at(source, "lufs", e.to_string()))?;
        }
        let engine_key = format!("{}#{}", ctx.path(), self.versions.fetch_add(1, Ordering::Relaxed));
        self.engine.add_palette(&engine_key, palette);
        Ok(VoicePreset { def, engine_key, sample_rate, fingerprint })
    }
}

impl AssetLoader for VoicePresetLoader {
    type Asset = VoicePreset;
    type Settings = ();
    type Error = PresetLoadError;

    async fn load(&self, reader: &mut dyn Reader, _: &(), ctx: &mut LoadContext<'_>) -> Result<VoicePreset, PresetLoadError> {
        let path = ctx.path().to_string();
        let mut bytes = Vec::new();
        let loaded = match reader.read_to_end(&mut bytes).await {
            Err(e) => Err(PresetProblem { line: None, column: None, cause: e.to_string() }),
            Ok(_) => match std::str::from_utf8(&bytes) {
                Err(e) => Err(PresetProblem { line: None, column: None, cause: format!("not UTF-8: {e}") }),
                Ok(source) => self.load_preset(source, ctx).await,
            },
        };
        loaded.map_err(|p| {
            let e = PresetError { path, line: p.line, column: p.column, cause: p.cause };
            error!("voice preset {e}");
            // The plugin drains this into `PresetError` messages; if it is gone, nobody listens.
            let _ = self.errors.send(e.clone());
            PresetLoadError(e)
        })
    }

    fn extensions(&self) -> &[&str] {
        &["voice.ron"]
    }
}
