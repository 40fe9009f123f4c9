//! A Piper voice ready to speak: config, model, phoneme ids, phonemizer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Device;

use crate::checkpoint::{Checkpoint, Delta};
use crate::config::VoiceConfig;
use crate::error::{Error, Result};
use crate::model::{Backbone, Noise, StyleState, Vits, VitsConfig};
use crate::phonemize::accent::AccentPhonemizer;
use crate::phonemize::{IpaPhonemizer, Kind as PhonemizerKind, PhonemeIdMap, Phonemizer};
use crate::scales::Scales;
use crate::line::{self, Gain, Plan, Planned, Shifts};
use crate::markup::Lexicon;
use crate::timing::Timings;

/// Per-request synthesis settings: scales that override the voice's defaults, speaker, seed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SynthesisOptions {
    /// Scales given here; the others come from the voice's config.
    pub scales: Scales<Option<f32>>,
    /// Speaker id for multi-speaker voices.
    pub speaker: Option<usize>,
    /// Seed of the noise (same seed → same audio).
    pub seed: u64,
}

impl SynthesisOptions {
    /// No noise in the prior or the durations: the same audio for the same text, whatever the seed.
    pub fn quiet() -> Self {
        SynthesisOptions::default().noise_scale(0.0).noise_w(0.0)
    }
    /// With this `noise_scale`.
    pub fn noise_scale(mut self, v: f32) -> Self {
        self.scales.noise_scale = Some(v);
        self
    }
    /// With this `length_scale`.
    pub fn length_scale(mut self, v: f32) -> Self {
        self.scales.length_scale = Some(v);
        self
    }
    /// With this `noise_w`.
    pub fn noise_w(mut self, v: f32) -> Self {
        self.scales.noise_w = Some(v);
        self
    }
    /// With this speaker.
    pub fn speaker(mut self, speaker: usize) -> Self {
        self.speaker = Some(speaker);
        self
    }
    /// With this seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// What is said: text through the phonemizer (markup included), IPA phonemes given directly, or
/// a line rendered before (`tvtts bake`).
#[derive(Debug, Clone, PartialEq)]
pub enum Say {
    Text(String),
    Phonemes(String),
    /// A baked line: its WAV and, when there is one, its timing track (JSON, see
    /// [`Timings::to_json`]). The engine reads them on a worker and plays them as they are.
    Baked { audio: PathBuf, timings: Option<PathBuf> },
}

impl Say {
    /// Text for the phonemizer.
    pub fn text(text: impl Into<String>) -> Self {
        Say::Text(text.into())
    }

    /// IPA phonemes.
    pub fn phonemes(phonemes: impl Into<String>) -> Self {
        Say::Phonemes(phonemes.into())
    }

    /// Length of the text in bytes (0 for a baked line).
    pub fn len(&self) -> usize {
        match self {
            Say::Text(s) | Say::Phonemes(s) => s.len(),
            Say::Baked { .. } => 0,
        }
    }

    /// Whether there is nothing but whitespace to say (a baked line is never empty).
    pub fn is_empty(&self) -> bool {
        match self {
            Say::Text(s) | Say::Phonemes(s) => s.trim().is_empty(),
            Say::Baked { .. } => false,
        }
    }
}

/// A baked line read back: mono audio at its sample rate and its timing track.
#[derive(Debug, Clone, PartialEq)]
pub struct Baked {
    pub audio: Vec<f32>,
    pub sample_rate: u32,
    pub timings: Timings,
}

impl Baked {
    /// Reads a WAV (mono; 16-bit PCM or 32-bit float) and its timing track, if any (without
    /// one: a track of silence as long as the audio).
    pub fn read(audio: &Path, timings: Option<&Path>) -> Result<Self> {
        let refuse = |why: String| Error::invalid("baked line", format!("{}: {why}", audio.display()));
        let bad = |e: hound::Error| refuse(format!("not a readable WAV: {e}"));
        let mut r = hound::WavReader::open(audio).map_err(bad)?;
        let spec = r.spec();
        if spec.channels != 1 {
            return Err(refuse(format!("{} channels: a baked line is mono", spec.channels)));
        }
        let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 16) => r.samples::<i16>().map(|s| s.map(|v| v as f32 / 32768.0)).collect::<std::result::Result<_, _>>().map_err(bad)?,
            (hound::SampleFormat::Float, 32) => r.samples::<f32>().collect::<std::result::Result<_, _>>().map_err(bad)?,
            (f, b) => return Err(refuse(format!("{b}-bit {f:?} samples: expected 16-bit PCM or 32-bit float"))),
        };
        let timings = match timings {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::invalid("timing track", format!("{}: {e}", p.display())))?;
                Timings::from_json(&v, &p.display().to_string())?
            }
            None => Timings::silence(0, samples.len() as u64),
        };
        Ok(Baked { audio: samples, sample_rate: spec.sample_rate, timings })
    }
}

/// One sentence as spoken.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub phonemes: String,
    pub ids: Vec<i64>,
    /// Raw model output (peaks around ±0.5 for Piper voices), at the voice's sample rate.
    pub audio: Vec<f32>,
    /// When each phoneme, word and viseme sounds, in samples from the sentence's start.
    pub timings: Timings,
}

/// A loaded voice: its config, its model (any [`Backbone`]), its phoneme ids and phonemizer.
pub struct Voice {
    pub config: VoiceConfig,
    pub model: Arc<dyn Backbone>,
    pub ids: PhonemeIdMap,
    phonemizer: Box<dyn Phonemizer>,
    /// IPA for words the phonemizer would get wrong (see [`Voice::set_lexicon`]).
    lexicon: Lexicon,
    pub path: PathBuf,
    /// SHA-256 of the weights (see [`Voice::weights_hash`]).
    weights_hash: String,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice").field("path", &self.path).field("model", &self.model.family()).finish_non_exhaustive()
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
        let arch = VitsConfig::infer(&ckpt)?;
        let model = Vits::load(&ckpt, arch, device)?;
        Self::from_backbone(&ckpt.path, config, Arc::new(model), phonemizer)
    }

    /// A voice over any backbone: `path` names it, `config` gives its sample rate, phoneme ids
    /// and default scales.
    pub fn from_backbone(path: &Path, config: VoiceConfig, model: Arc<dyn Backbone>, phonemizer: Box<dyn Phonemizer>) -> Result<Self> {
        let ids = PhonemeIdMap::new(&config.phoneme_id_map).map_err(|e| Error::bad_voice(config_path(path), e.to_string()))?;
        let weights_hash = weights_hash(model.as_ref())?;
        Ok(Voice { config, model, ids, phonemizer, lexicon: Lexicon::default(), path: path.to_path_buf(), weights_hash })
    }

    /// The model with Σ αᵢ·Δᵢ added to its weights (`terms`: α and the per-parameter deltas).
    /// Parameters no delta names keep sharing the base's tensors.
    pub fn model_with(&self, terms: &[(f32, Vec<Delta>)]) -> Result<Arc<dyn Backbone>> {
        let tensors = crate::checkpoint::merge(self.model.parameters(), terms)?;
        self.model.with_parameters(tensors, &self.path)
    }

    /// SHA-256 (hex) of the voice's weights: every parameter's name, shape and f32 values, in
    /// name order. Style vectors record it to refuse being applied to another voice.
    pub fn weights_hash(&self) -> &str {
        &self.weights_hash
    }

    /// Audio samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// The sentences of `say` as phoneme strings, none longer than [`MAX_SENTENCE_PHONEMES`].
    pub fn phonemize(&self, say: &Say) -> Result<Vec<String>> {
        self.phonemize_with(say, self.phonemizer.as_ref())
    }

    /// [`Voice::phonemize`] with text read by `phonemizer`.
    pub fn phonemize_with(&self, say: &Say, phonemizer: &dyn Phonemizer) -> Result<Vec<String>> {
        let sentences = match say {
            Say::Text(t) => phonemizer.phonemize(t)?,
            Say::Phonemes(p) => IpaPhonemizer.phonemize(p)?,
            Say::Baked { .. } => return Err(Error::invalid("say", "a baked line has no phonemes")),
        };
        Ok(sentences.iter().flat_map(|s| split_long(s, MAX_SENTENCE_PHONEMES)).collect())
    }

    /// Reads text with `kind` from now on (espeak-ng or the built-in phonemizer).
    pub fn set_phonemizer(&mut self, kind: PhonemizerKind) -> Result<()> {
        self.phonemizer = kind.make(&self.config.espeak.voice)?;
        Ok(())
    }

    /// Reads text in the accent `name` (see [`crate::phonemize::accent::ACCENTS`]) from now on:
    /// espeak-ng's accent voice, its symbols this voice never learned mapped to learned ones.
    pub fn set_accent(&mut self, name: &str) -> Result<()> {
        self.phonemizer = Box::new(self.accent_phonemizer(name)?);
        Ok(())
    }

    /// A phonemizer for the accent `name` mapped onto this voice's learned symbols.
    pub fn accent_phonemizer(&self, name: &str) -> Result<AccentPhonemizer> {
        let learned = self.learned_symbols()?;
        AccentPhonemizer::new(name, move |c| learned.contains(&c))
    }

    /// The phonemes whose embedding rows training moved: norm above 1.5× the median norm of
    /// the rows no phoneme uses (which keep their initialisation). A backbone without VITS'
    /// phoneme table (`enc_p.emb.weight`), or one whose rows are all used, counts every phoneme
    /// of its map as learned.
    pub fn learned_symbols(&self) -> Result<std::collections::HashSet<char>> {
        let Some(emb) = self.model.parameters().get(crate::model::text_encoder::PHONEME_EMBEDDING) else {
            return Ok(self.map_symbols());
        };
        let norms: Vec<f32> = emb.sqr()?.sum(1)?.sqrt()?.to_vec1()?;
        let used: std::collections::HashSet<i64> = self.ids.entries().flat_map(|(_, ids)| ids.iter().copied()).collect();
        let mut unused: Vec<f32> = norms.iter().enumerate().filter(|(i, _)| !used.contains(&(*i as i64))).map(|(_, n)| *n).collect();
        if unused.is_empty() {
            return Ok(self.map_symbols());
        }
        unused.sort_by(f32::total_cmp);
        let threshold = 1.5 * unused[unused.len() / 2];
        Ok(self
            .ids
            .entries()
            .filter(|(_, ids)| ids.iter().all(|&i| norms.get(i as usize).is_some_and(|&n| n > threshold)))
            .map(|(c, _)| c)
            .collect())
    }

    /// Every symbol of the voice's phoneme map.
    fn map_symbols(&self) -> std::collections::HashSet<char> {
        self.ids.entries().map(|(c, _)| c).collect()
    }

    /// [`Voice::learned_symbols`] for checks that must not fail a line: if the embedding cannot
    /// be read, every symbol of the map counts as learned.
    fn learned_or_all(&self) -> std::collections::HashSet<char> {
        self.learned_symbols().unwrap_or_else(|_| self.map_symbols())
    }

    /// Uses `lexicon` for the words it has (replacing the one before). Every symbol of its IPA
    /// must be one the voice reads ([`Voice::check_lexicon`]): an error names the entry's line
    /// otherwise.
    pub fn set_lexicon(&mut self, lexicon: Lexicon) -> Result<()> {
        self.check_lexicon(&lexicon)?;
        self.lexicon = lexicon;
        Ok(())
    }

    /// Checks that every symbol of `lexicon`'s IPA is one this voice reads: one it has an id for
    /// and learned ([`Voice::learned_symbols`]; a symbol it never learned keeps its untrained
    /// embedding and comes out as noise). The error names the entry's line and, for a symbol
    /// the voice never learned, the nearest ones it did.
    pub fn check_lexicon(&self, lexicon: &Lexicon) -> Result<()> {
        let learned = self.learned_symbols()?;
        lexicon.check(|c| self.symbol_problem(&learned, c))
    }

    /// Why this voice cannot read IPA symbol `c` (`None`: it can; whitespace always can), given
    /// its [`Voice::learned_symbols`].
    fn symbol_problem(&self, learned: &std::collections::HashSet<char>, c: char) -> Option<String> {
        let reads = |c: char| learned.contains(&c) || c.is_whitespace();
        if reads(c) {
            None
        } else if !self.ids.knows(c) {
            Some("which the voice has no id for".to_string())
        } else {
            let instead = match crate::phonemize::accent::nearest_learned(c, &reads).as_slice() {
                [] => "leave it out".to_string(),
                options => format!("write {} instead", options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(" or ")),
            };
            Some(format!("which the voice never learned (its training used none: it would be noise); {instead}"))
        }
    }

    /// The lexicon in use.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// `say` planned for the model: markup and lexicon resolved into sentences of ids with the
    /// prosody and words of each ([`crate::line`]).
    pub fn plan(&self, say: &Say) -> Result<Plan> {
        self.plan_with(say, &self.lexicon, None)
    }

    /// [`Voice::plan`] with another lexicon and, when given, another phonemizer (a preset's).
    pub fn plan_with(&self, say: &Say, lexicon: &Lexicon, phonemizer: Option<&dyn Phonemizer>) -> Result<Plan> {
        let phonemizer = phonemizer.unwrap_or(self.phonemizer.as_ref());
        match say {
            Say::Text(t) => {
                let phonemize = |text: &str| self.phonemize_with(&Say::text(text), phonemizer);
                // Learned symbols are found only for a line with `<phoneme>` IPA to check.
                let learned = std::cell::OnceCell::new();
                let symbol_problem = |c: char| self.symbol_problem(learned.get_or_init(|| self.learned_or_all()), c);
                line::plan_text(t, &line::Tools { phonemize: &phonemize, ids: &self.ids, lexicon, symbol_problem: &symbol_problem })
            }
            Say::Phonemes(p) => {
                // Raw IPA is spoken as given (as Piper does), but a symbol the voice never
                // learned comes out as noise: say so.
                let learned = self.learned_or_all();
                let unlearned: std::collections::BTreeSet<char> = p.chars().filter(|&c| self.ids.knows(c) && !c.is_whitespace() && !learned.contains(&c)).collect();
                if !unlearned.is_empty() {
                    log::warn!("phonemes the voice never learned (its training used none; they come out as noise): {unlearned:?}");
                }
                line::plan_phonemes(p, &self.ids)
            }
            Say::Baked { .. } => Err(Error::invalid("say", "a baked line is played, not planned")),
        }
    }

    /// Samples of the silence after `planned` (its breaks), whole frames.
    pub fn silence_samples(&self, planned: &Planned) -> u64 {
        let hop = self.model.samples_per_frame() as f64;
        ((planned.silence_after as f64 * self.sample_rate() as f64 / hop).round() * hop) as u64
    }

    /// `opts`' scales over the voice's defaults, checked.
    pub fn scales(&self, opts: &SynthesisOptions) -> Result<Scales> {
        opts.scales.resolve(&self.config.inference)
    }

    /// The voice's own style (no vectors) for `speaker`.
    pub fn plain_style(&self, speaker: Option<usize>) -> Result<StyleState> {
        Ok(StyleState::plain(self.model.clone()).with_speaker(self.model.speaker_embedding(speaker)?))
    }

    /// Speaks one short sentence and drops it, so that the first real request is as fast as
    /// the ones after it: the CPU kernels pack their weights on first use, the phonemizer loads
    /// its data, the worker pool starts and the allocator gets the memory a sentence needs
    /// (≈ 50–70 ms of a cold request's first audio, release build, 2 cores). Call it where a
    /// game loads: the plugin's preset loader and `tvtts say` do.
    pub fn warm_up(&self) -> Result<()> {
        self.synthesize(&Say::Text("Hello there, how are you?".into()), &SynthesisOptions::default()).map(drop)
    }

    /// Speaks `say`, sentence by sentence, each in one pass (no streaming). Empty input gives
    /// no sentences. Markup that sets style controls needs the engine's palette: an error here.
    pub fn synthesize(&self, say: &Say, opts: &SynthesisOptions) -> Result<Vec<Sentence>> {
        let scales = self.scales(opts)?;
        let style = self.plain_style(opts.speaker)?;
        let mut noise = Noise::seeded(opts.seed);
        let plan = self.plan(say)?;
        if let Some(s) = plan.prosodies.iter().flat_map(|p| &p.styles).next() {
            return Err(s.at.error(format!("<style name=\"{}\">: a voice alone has no style controls; speak through the engine with a preset that has them", s.name)));
        }
        let mut out = Vec::new();
        for planned in &plan.sentences {
            let silence = self.silence_samples(planned);
            let (mut audio, mut timings) = if planned.speaks() {
                let prepared = self.model.prepare(&planned.ids.ids, &planned.length(&plan), &scales, &mut noise, &style)?;
                let mut audio: Vec<f32> = self.model.run_all(&prepared.input, &style)?.to_vec1()?;
                let hop = self.model.samples_per_frame();
                Gain::new(&planned.gain_db(&plan), &prepared.frames, hop, self.sample_rate()).apply(0, &mut audio);
                let timings = Timings::sentence(&planned.ids, &prepared.frames, hop, 0, planned.word_owners());
                let shifts = Shifts::new(&planned.pitch_st(&plan), &prepared.frames, hop);
                if shifts.is_empty() {
                    (audio, timings)
                } else {
                    (shifts.apply(&audio), timings.warped(|s| shifts.warp(s)))
                }
            } else {
                (Vec::new(), Timings::default())
            };
            audio.resize(audio.len() + silence as usize, 0.0);
            timings.add_silence(silence);
            out.push(Sentence { phonemes: planned.phonemes.clone(), ids: planned.ids.ids.clone(), audio, timings });
        }
        Ok(out)
    }
}

/// See [`Voice::weights_hash`].
fn weights_hash(model: &dyn Backbone) -> Result<String> {
    use sha2::{Digest, Sha256};
    let params = model.parameters();
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    let mut h = Sha256::new();
    for name in names {
        let t = &params[name];
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

/// The phonemizer a voice's config asks for, in this build: espeak-ng when it is built in, else
/// the built-in one. When that cannot load (its data missing), text is an error naming why and
/// IPA still works.
fn default_phonemizer(config: &VoiceConfig) -> Result<Box<dyn Phonemizer>> {
    match config.phoneme_type.as_str() {
        "espeak" => match PhonemizerKind::default_for_build().make(&config.espeak.voice) {
            Ok(p) => Ok(p),
            Err(e) if !cfg!(feature = "espeak") => Ok(Box::new(Unavailable(e.to_string()))),
            Err(e) => Err(e),
        },
        other => Err(Error::Phonemizer(format!("phoneme_type `{other}` is not supported (only `espeak`)"))),
    }
}

/// Stands in for a phonemizer that could not load: IPA input still works, text input is an
/// error that says why.
struct Unavailable(String);

impl Phonemizer for Unavailable {
    fn phonemize(&self, text: &str) -> Result<Vec<String>> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        Err(Error::Phonemizer(self.0.clone()))
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
