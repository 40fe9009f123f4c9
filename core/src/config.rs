//! The voice's `.onnx.json` file (Piper's config): sample rate, espeak voice, phoneme ids,
//! default synthesis scales, speakers.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Piper's `.onnx.json` voice configuration (the fields tvtts reads).
#[derive(Debug, Clone, Deserialize)]
pub struct VoiceConfig {
    pub audio: AudioConfig,
    #[serde(default)]
    pub espeak: EspeakConfig,
    #[serde(default)]
    pub inference: InferenceDefaults,
    /// `espeak` (text through espeak-ng) or `text` (codepoints of the text are the phonemes).
    #[serde(default = "default_phoneme_type")]
    pub phoneme_type: String,
    /// Phoneme (one codepoint) → ids.
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default = "one")]
    pub num_speakers: usize,
    /// Speaker name → id, for multi-speaker voices.
    #[serde(default)]
    pub speaker_id_map: HashMap<String, i64>,
}

/// `audio` section.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioConfig {
    pub sample_rate: u32,
    #[serde(default)]
    pub quality: Option<String>,
}

/// `espeak` section: the espeak-ng voice used to phonemize.
#[derive(Debug, Clone, Deserialize)]
pub struct EspeakConfig {
    pub voice: String,
}

impl Default for EspeakConfig {
    fn default() -> Self {
        EspeakConfig { voice: "en-us".into() }
    }
}

/// `inference` section: the voice's default scales.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct InferenceDefaults {
    #[serde(default = "default_noise_scale")]
    pub noise_scale: f32,
    #[serde(default = "default_length_scale")]
    pub length_scale: f32,
    #[serde(default = "default_noise_w")]
    pub noise_w: f32,
}

impl Default for InferenceDefaults {
    fn default() -> Self {
        InferenceDefaults { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    }
}

fn default_phoneme_type() -> String {
    "espeak".into()
}
fn one() -> usize {
    1
}
fn default_noise_scale() -> f32 {
    0.667
}
fn default_length_scale() -> f32 {
    1.0
}
fn default_noise_w() -> f32 {
    0.8
}

impl VoiceConfig {
    /// Reads and checks the `.onnx.json` at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&bytes, path)
    }

    /// Parses and checks config JSON already in memory; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self> {
        let config: VoiceConfig = serde_json::from_slice(bytes)
            .map_err(|e| Error::bad_voice(path, format!("invalid voice config JSON: {e}")))?;
        if config.audio.sample_rate == 0 {
            return Err(Error::bad_voice(path, "audio.sample_rate is 0"));
        }
        if config.phoneme_id_map.is_empty() {
            return Err(Error::bad_voice(path, "phoneme_id_map is empty"));
        }
        Ok(config)
    }
}
