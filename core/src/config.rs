//! The voice's `.onnx.json` file (Piper's config): sample rate, espeak voice, phoneme ids,
//! default synthesis scales, speakers.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::scales::Scales;

/// Piper's `.onnx.json` voice configuration (the fields tvtts reads).
#[derive(Debug, Clone, Deserialize)]
pub struct VoiceConfig {
    pub audio: AudioConfig,
    #[serde(default)]
    pub espeak: EspeakConfig,
    /// `inference` section: the voice's default scales.
    #[serde(default)]
    pub inference: Scales,
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

fn default_phoneme_type() -> String {
    "espeak".into()
}
fn one() -> usize {
    1
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
