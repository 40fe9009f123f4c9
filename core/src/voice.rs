//! A Piper voice ready to speak: config, model, phoneme ids, phonemizer.

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::checkpoint::Checkpoint;
use crate::config::VoiceConfig;
use crate::error::{Error, Result};
use crate::model::{Noise, Scales, Vits, VitsConfig};
use crate::phonemize::{IpaPhonemizer, PhonemeIdMap, Phonemizer};

/// Per-request synthesis settings. `None` fields take the voice's defaults from its config.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SynthesisOptions {
    pub noise_scale: Option<f32>,
    pub length_scale: Option<f32>,
    pub noise_w: Option<f32>,
    /// Speaker id for multi-speaker voices.
    pub speaker: Option<usize>,
    /// Seed of the noise (same seed → same audio).
    pub seed: u64,
}

/// What is said: text through the phonemizer, or IPA phonemes given directly.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Text(&'a str),
    Phonemes(&'a str),
}

/// One sentence as spoken.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub phonemes: String,
    pub ids: Vec<i64>,
    /// Raw model output (peaks around ±0.5 for Piper voices), at the voice's sample rate.
    pub audio: Vec<f32>,
}

/// A loaded voice.
pub struct Voice {
    pub config: VoiceConfig,
    pub model: Vits,
    pub ids: PhonemeIdMap,
    phonemizer: Box<dyn Phonemizer>,
    pub path: PathBuf,
    /// SHA-256 of the weights (see [`Voice::weights_hash`]).
    weights_hash: String,
    /// The checkpoint's parameters, to build copies with weight deltas (shared storage).
    parameters: std::collections::HashMap<String, candle_core::Tensor>,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice").field("path", &self.path).field("config", &self.model.config).finish_non_exhaustive()
    }
}

/// Longest sentence synthesized in one piece, in phonemes (≈ 30 s of speech). The text encoder's
/// attention grows with the square of a sentence's length, so text without sentence ends (100 kB
/// joined by commas) would otherwise ask for tens of GB; longer sentences are split at the last
/// clause or word boundary before the limit (Piper does not split; sentences of ordinary text are
/// far below this and unchanged).
pub const MAX_SENTENCE_PHONEMES: usize = 600;

/// Splits `phonemes` into pieces of at most `max` codepoints, after the last `, ` `; ` `: ` or
/// else the last space in each window, or hard at `max` when there is neither.
fn split_long(phonemes: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = phonemes.chars().collect();
    while rest.len() > max {
        let window = &rest[..max];
        let after = |pred: &dyn Fn(usize) -> bool| (1..max).rev().find(|&i| pred(i)).map(|i| i + 1);
        let cut = after(&|i| window[i] == ' ' && matches!(window[i - 1], ',' | ';' | ':'))
            .or_else(|| after(&|i| window[i] == ' '))
            .unwrap_or(max);
        let piece: String = rest[..cut].iter().collect();
        out.push(piece.trim().to_string());
        rest.drain(..cut);
    }
    let last: String = rest.iter().collect();
    if !last.trim().is_empty() {
        out.push(last.trim().to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `voice.onnx` → `voice.onnx.json`.
pub fn config_path(onnx: &Path) -> PathBuf {
    let mut p = onnx.as_os_str().to_owned();
    p.push(".json");
    PathBuf::from(p)
}

impl Voice {
    /// Loads the Piper voice `onnx` (its config is `<onnx>.json`) onto `device`, with the
    /// phonemizer its config asks for (espeak-ng when built with the `espeak` feature).
    pub fn load(onnx: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let onnx = onnx.as_ref();
        let config = VoiceConfig::from_file(config_path(onnx))?;
        let phonemizer = default_phonemizer(&config)?;
        Self::load_with(onnx, config, phonemizer, device)
    }

    /// Like [`Voice::load`] on the `.onnx` and `.onnx.json` bytes already in memory (e.g. read
    /// through a game engine's asset system); `onnx` names them in errors.
    pub fn from_bytes(onnx: &Path, model: &[u8], config_json: &[u8], device: &Device) -> Result<Self> {
        let config = VoiceConfig::from_json(config_json, &config_path(onnx))?;
        let phonemizer = default_phonemizer(&config)?;
        Self::from_checkpoint(Checkpoint::from_onnx_bytes(model, onnx)?, config, phonemizer, device)
    }

    /// Loads with an explicit config and phonemizer.
    pub fn load_with(onnx: &Path, config: VoiceConfig, phonemizer: Box<dyn Phonemizer>, device: &Device) -> Result<Self> {
        Self::from_checkpoint(Checkpoint::from_onnx_file(onnx)?, config, phonemizer, device)
    }

    fn from_checkpoint(ckpt: Checkpoint, config: VoiceConfig, phonemizer: Box<dyn Phonemizer>, device: &Device) -> Result<Self> {
        let onnx = ckpt.path.clone();
        let arch = VitsConfig::infer(&ckpt)?;
        let model = Vits::load(&ckpt, arch, device)?;
        let ids = PhonemeIdMap::new(&config.phoneme_id_map)
            .map_err(|e| Error::bad_voice(config_path(&onnx), e.to_string()))?;
        let weights_hash = weights_hash(&ckpt)?;
        let parameters = ckpt.tensors;
        Ok(Voice { config, model, ids, phonemizer, path: onnx, weights_hash, parameters })
    }

    /// The model with Σ αᵢ·Δᵢ added to its weights (`terms`: α and the per-parameter deltas).
    /// Parameters no delta names keep sharing the base's tensors.
    pub fn model_with(&self, terms: &[(f32, Vec<(String, candle_core::Tensor)>)]) -> Result<Vits> {
        let tensors = crate::style::delta::merge(&self.parameters, terms)?;
        let ckpt = Checkpoint { tensors, path: self.path.clone(), ..Default::default() };
        Vits::load(&ckpt, self.model.config.clone(), self.model.device())
    }

    /// SHA-256 (hex) of the voice's weights: every parameter's name, shape and f32 values, in
    /// name order. Style vectors record it to refuse being applied to another voice.
    pub fn weights_hash(&self) -> &str {
        &self.weights_hash
    }

    /// The shape of parameter `name`, if the voice has it.
    pub fn parameter_shape(&self, name: &str) -> Option<Vec<usize>> {
        self.model.config.parameter_shapes().into_iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// Audio samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// The sentences of `input` as phoneme strings, none longer than [`MAX_SENTENCE_PHONEMES`].
    pub fn phonemize(&self, input: Input<'_>) -> Result<Vec<String>> {
        let sentences = match input {
            Input::Text(t) => self.phonemizer.phonemize(t)?,
            Input::Phonemes(p) => IpaPhonemizer.phonemize(p)?,
        };
        Ok(sentences.iter().flat_map(|s| split_long(s, MAX_SENTENCE_PHONEMES)).collect())
    }

    /// Checks and fills in `opts` from the voice's defaults.
    pub fn scales(&self, opts: &SynthesisOptions) -> Result<Scales> {
        let d = self.config.inference;
        let s = Scales {
            noise_scale: opts.noise_scale.unwrap_or(d.noise_scale),
            length_scale: opts.length_scale.unwrap_or(d.length_scale),
            noise_w: opts.noise_w.unwrap_or(d.noise_w),
        };
        for (what, v) in [("noise_scale", s.noise_scale), ("noise_w", s.noise_w)] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid(what, format!("{v} (must be finite and ≥ 0)")));
            }
        }
        if !s.length_scale.is_finite() || s.length_scale <= 0.0 {
            return Err(Error::invalid("length_scale", format!("{} (must be finite and > 0)", s.length_scale)));
        }
        Ok(s)
    }

    /// Speaks `input`, sentence by sentence. Empty input gives no sentences.
    pub fn synthesize(&self, input: Input<'_>, opts: &SynthesisOptions) -> Result<Vec<Sentence>> {
        let scales = self.scales(opts)?;
        let mut noise = Noise::seeded(opts.seed);
        let mut out = Vec::new();
        for phonemes in self.phonemize(input)? {
            let ids = self.ids.ids(&phonemes).ids;
            let audio = self.model.synthesize(&ids, scales, opts.speaker, &mut noise)?;
            out.push(Sentence { phonemes, ids, audio });
        }
        Ok(out)
    }
}

/// See [`Voice::weights_hash`].
fn weights_hash(ckpt: &Checkpoint) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut names: Vec<&String> = ckpt.tensors.keys().collect();
    names.sort();
    let mut h = Sha256::new();
    for name in names {
        let t = &ckpt.tensors[name];
        h.update(name.as_bytes());
        for d in t.dims() {
            h.update((*d as u64).to_le_bytes());
        }
        for x in t.flatten_all()?.to_vec1::<f32>()? {
            h.update(x.to_le_bytes());
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The phonemizer a voice's config asks for.
fn default_phonemizer(config: &VoiceConfig) -> Result<Box<dyn Phonemizer>> {
    match config.phoneme_type.as_str() {
        #[cfg(feature = "espeak")]
        "espeak" => Ok(Box::new(crate::phonemize::EspeakPhonemizer::new(&config.espeak.voice)?)),
        #[cfg(not(feature = "espeak"))]
        "espeak" => Ok(Box::new(WithoutEspeak)),
        other => Err(Error::Phonemizer(format!("phoneme_type `{other}` is not supported (only `espeak`)"))),
    }
}

/// Stands in for espeak-ng in builds without the `espeak` feature: IPA input still works, text
/// input is an error that says how to get it.
#[cfg(not(feature = "espeak"))]
struct WithoutEspeak;

#[cfg(not(feature = "espeak"))]
impl Phonemizer for WithoutEspeak {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        Err(Error::Phonemizer(
            "this build has no espeak-ng (feature `espeak` off): give IPA phonemes instead of text".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::split_long;

    #[test]
    fn long_sentences_split_at_clauses_then_words() {
        assert_eq!(split_long("short one.", 600), ["short one."]);
        let clause = "ðə lˈɔŋ ɹˈoʊd, ";
        let text = clause.repeat(100);
        let pieces = split_long(&text, 60);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.chars().count() <= 60 && p.ends_with(',')), "{pieces:?}");
        assert_eq!(pieces.join(" "), text.trim());
        let words = "wˈɜːd ".repeat(50);
        assert!(split_long(&words, 17).iter().all(|p| p.chars().count() <= 17 && !p.contains("  ")));
        let blob = "a".repeat(25);
        assert_eq!(split_long(&blob, 10), ["aaaaaaaaaa", "aaaaaaaaaa", "aaaaa"]);
    }
}
