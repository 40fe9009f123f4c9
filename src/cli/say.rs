//! `tvtts say`: speak into a WAV file.

use std::path::PathBuf;

use anyhow::Context;
use std::time::Instant;

use clap::Args;
use serde_json::json;
use std::sync::Arc;

use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Request, Say};
use tvtts::core::model::stream::WindowSchedule;
use tvtts::core::style::{Group, StyleVector};
use tvtts::core::timing::Timings;
use tvtts::core::{Scales, SynthesisOptions};

use super::playback::{drain, underruns, Arrivals};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["text", "text_file", "phonemes"])))]
pub struct SayArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// Text to speak.
    #[arg(long, allow_hyphen_values = true)]
    pub text: Option<String>,
    /// File with the text to speak (UTF-8).
    #[arg(long)]
    pub text_file: Option<PathBuf>,
    /// IPA phonemes to speak (as printed by `tvtts phonemize`; sentences split after . ? ! and newlines).
    #[arg(long, allow_hyphen_values = true)]
    pub phonemes: Option<String>,
    /// Prior noise (voice default if unset; 0 = deterministic).
    #[arg(long)]
    pub noise_scale: Option<f32>,
    /// Duration multiplier (> 1 is slower).
    #[arg(long)]
    pub length_scale: Option<f32>,
    /// Duration noise (voice default if unset; 0 = deterministic).
    #[arg(long)]
    pub noise_w: Option<f32>,
    /// Speaker id of a multi-speaker voice.
    #[arg(long)]
    pub speaker: Option<usize>,
    /// Seed of the noise: same seed, same audio.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write 32-bit float samples instead of 16-bit PCM.
    #[arg(long)]
    pub float: bool,
    /// Synthesize through the streaming engine (window by window into a ring buffer) instead of
    /// whole sentences; the WAV is the same.
    #[arg(long)]
    pub stream: bool,
    /// Print one JSON line on stdout: ttfa_ms (request to first sample), synth_ms (request to
    /// last sample), audio_s, rtf, sentences, underruns (of a real-time device playing from the
    /// first sample on, in 512-sample callbacks; always 0 without --stream's early start).
    #[arg(long)]
    pub report: bool,
    /// Apply a style vector: `FILE=ALPHA`, optionally `FILE=ALPHA@GROUPS` (comma-separated module
    /// groups overriding the vector's own). ALPHA must lie in the α range the vector was made
    /// for (its metadata; `tvtts vector inspect FILE` shows it). Repeatable; implies --stream. The
    /// control is named by the file's stem (`angry.safetensors` → `angry`), which markup's
    /// `<style name="angry" alpha="…">` sets for the words it encloses (α 0 here: only there).
    #[arg(long = "style", value_name = "FILE=ALPHA[@GROUPS]")]
    pub styles: Vec<String>,
    /// IPA for words the phonemizer gets wrong: a lexicon file (`word  IPA` per line, `#`
    /// comments).
    #[arg(long, value_name = "FILE")]
    pub lexicon: Option<PathBuf>,
    /// Also write the line's timing track here (JSON, seconds: words, phonemes, OVR visemes,
    /// Rhubarb shapes); the same whether streamed or not.
    #[arg(long, value_name = "FILE.json")]
    pub timings: Option<PathBuf>,
    /// Output WAV file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `FILE=ALPHA[@GROUPS]` → (file, α, groups).
fn parse_style(arg: &str) -> anyhow::Result<(PathBuf, f32, Option<Vec<Group>>)> {
    let (file, rest) = arg.rsplit_once('=').with_context(|| format!("--style `{arg}`: expected FILE=ALPHA[@GROUPS]"))?;
    let (alpha, groups) = match rest.split_once('@') {
        Some((a, g)) => (a, Some(Group::parse_list(g)?)),
        None => (rest, None),
    };
    let alpha: f32 = alpha.trim().parse().with_context(|| format!("--style `{arg}`: `{alpha}` is not a number"))?;
    anyhow::ensure!(alpha.is_finite(), "--style `{arg}`: α must be finite");
    Ok((PathBuf::from(file), alpha, groups))
}

pub fn run(a: SayArgs) -> anyhow::Result<()> {
    let text = match &a.text_file {
        Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("{}: cannot read text file", f.display()))?),
        None => a.text.clone(),
    };
    let scales = Scales { noise_scale: a.noise_scale, length_scale: a.length_scale, noise_w: a.noise_w };
    let opts = SynthesisOptions { scales, speaker: a.speaker, seed: a.seed };
    let spoken = if a.stream || !a.styles.is_empty() || text.as_deref().is_some_and(has_style_tags) { say_streamed(&a, text, opts)? } else { say_whole(&a, text, &opts)? };
    tvtts::write_wav(&a.out, &spoken.audio, spoken.sample_rate, a.float)?;
    if let Some(path) = &a.timings {
        super::timings::write(path, &spoken.timings, spoken.sample_rate)?;
    }
    let audio_s = spoken.audio.len() as f64 / spoken.sample_rate as f64;
    eprintln!("tvtts: wrote {} ({} sentences, {audio_s:.2} s)", a.out.display(), spoken.sentences);
    if a.report {
        let total = spoken.audio.len() as u64;
        let report = json!({
            "ttfa_ms": spoken.ttfa_s * 1e3,
            "synth_ms": spoken.synth_s * 1e3,
            "audio_s": audio_s,
            "rtf": if audio_s > 0.0 { spoken.synth_s / audio_s } else { 0.0 },
            "sentences": spoken.sentences,
            "underruns": underruns(&spoken.arrivals, total, spoken.sample_rate),
            "stream": a.stream,
        });
        println!("{report}");
    }
    Ok(())
}

/// What `say` produced and when.
struct Spoken {
    audio: Vec<f32>,
    sample_rate: u32,
    sentences: usize,
    /// Request to first sample, and to last sample (seconds; model load excluded).
    ttfa_s: f64,
    synth_s: f64,
    arrivals: Arrivals,
    /// The timing track, in samples from the first.
    timings: Timings,
}

/// Whether `text` is markup that sets style controls (spoken through the engine, which has them).
fn has_style_tags(text: &str) -> bool {
    tvtts::core::markup::read(text).is_ok_and(|m| m.has_styles())
}

/// The voice of `a`, with its lexicon.
/// The voice with `--lexicon`, warmed up ([`tvtts::core::Voice::warm_up`]): ttfa_ms and
/// synth_ms time a request to a loaded voice, as in a game, not the process's cold start.
fn load_voice(a: &SayArgs) -> anyhow::Result<tvtts::core::Voice> {
    let mut voice = a.voice.load()?;
    if let Some(path) = &a.lexicon {
        voice.set_lexicon(tvtts::core::markup::Lexicon::load(path)?)?;
    }
    // A voice that cannot speak the warm-up text (e.g. no phonemizer for its language, with
    // --phonemes given) is still used; the request itself reports what fails.
    if let Err(e) = voice.warm_up() {
        log::warn!("warming up the voice failed: {e}");
    }
    Ok(voice)
}

/// Whole sentences, one after another: the first sample exists when everything is done.
fn say_whole(a: &SayArgs, text: Option<String>, opts: &SynthesisOptions) -> anyhow::Result<Spoken> {
    let voice = load_voice(a)?;
    let say = what_to_say(text, a)?;
    let t0 = Instant::now();
    let sentences = voice.synthesize(&say, opts)?;
    let synth_s = t0.elapsed().as_secs_f64();
    let audio: Vec<f32> = sentences.iter().flat_map(|s| s.audio.iter().copied()).collect();
    let arrivals = vec![(synth_s, audio.len() as u64)];
    let mut timings = Timings::default();
    let mut offset = 0;
    for s in &sentences {
        timings.append(s.timings.clone().shifted(offset));
        offset += s.audio.len() as u64;
    }
    Ok(Spoken { audio, sample_rate: voice.sample_rate(), sentences: sentences.len(), ttfa_s: synth_s, synth_s, arrivals, timings })
}

/// Through the engine: one worker with every kernel thread, read as fast as audio arrives.
fn say_streamed(a: &SayArgs, text: Option<String>, opts: SynthesisOptions) -> anyhow::Result<Spoken> {
    let threads = a.voice.threads.unwrap_or_else(tvtts::threads::physical_cores);
    let config = EngineConfig {
        device: tvtts::core::device::parse(&a.voice.device)?,
        workers: 1,
        kernel_threads: threads,
        // To a file without `--stream` (a style or markup's styles brought it here): the same
        // bits every run, as `bake`. With `--stream`, the windows a listener would get.
        windows: if a.stream { WindowSchedule::default() } else { WindowSchedule::offline() },
        ..EngineConfig::default()
    };
    let engine = Engine::new(config)?;
    let mut controls = Vec::new();
    let mut specs = Vec::new();
    for (i, arg) in a.styles.iter().enumerate() {
        let (file, alpha, groups) = parse_style(arg)?;
        let vector = StyleVector::load(&file)?;
        vector.check_alpha(alpha).with_context(|| format!("--style `{arg}`"))?;
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if stem.is_empty() || specs.iter().any(|s: &ControlSpec| s.name == stem) { format!("style{i}") } else { stem };
        let (min, max) = vector.alpha_range;
        specs.push(ControlSpec::new(&name, min, max)?.with_style(Arc::new(vector), groups));
        controls.push((name, alpha));
    }
    engine.add_voice("voice", load_voice(a)?, specs)?;
    let say = what_to_say(text, a)?;
    let request = Request { controls, ..Request::new("voice", say.clone()).options(opts) };
    let mut handle = engine.speak(request);
    let mut arrivals = Arrivals::new();
    let (audio, events) = drain(&mut handle, &mut arrivals);
    let mut sentences = 0;
    let mut timings = Timings::default();
    for event in events {
        match event {
            Event::Failed(e) => return Err(e.into()),
            Event::SentenceStarted { .. } => sentences += 1,
            Event::Timings { timings: t, .. } => timings.append(t),
            _ => {}
        }
    }
    let timing = handle.timing();
    let secs = |d: Option<std::time::Duration>| d.map_or(0.0, |d| d.as_secs_f64());
    Ok(Spoken {
        audio,
        sample_rate: handle.sample_rate(),
        sentences,
        ttfa_s: secs(timing.first_audio),
        synth_s: secs(timing.ended),
        arrivals,
        timings,
    })
}

/// The text (from --text or --text-file) or else --phonemes.
fn what_to_say(text: Option<String>, a: &SayArgs) -> anyhow::Result<Say> {
    match (text, &a.phonemes) {
        (Some(t), _) => Ok(Say::Text(t)),
        (None, Some(p)) => Ok(Say::Phonemes(p.clone())),
        (None, None) => anyhow::bail!("give --text, --text-file or --phonemes"),
    }
}
