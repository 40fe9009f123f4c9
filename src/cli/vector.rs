//! `tvtts vector …`: make and look at style vectors.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use tvtts::core::checkpoint::Checkpoint;
use tvtts::core::style::accent::{agreement, rewrite_from_texts, rewrite_vector};
use tvtts::core::style::build::{speaker_centroid, steer_from_texts};
use tvtts::core::style::delta::{to_lora, weight_delta};
use tvtts::core::style::format::parse_range;
use tvtts::core::style::{Group, Kind, StyleVector};
use tvtts::core::Say;

#[derive(Subcommand, Debug)]
pub enum VectorCommand {
    /// A task vector τ = tuned − base from two voices of the same architecture (full, or LoRA
    /// with --rank).
    Diff(DiffArgs),
    /// A `speaker` vector of a multi-speaker voice: mean embedding of speakers --a minus --b.
    Centroid(CentroidArgs),
    /// A `steer` vector: mean activation of the voice speaking the lines of --a minus --b.
    Steer(SteerArgs),
    /// Learn a vector from recordings of the voice's character in one style: DIR/metadata.csv
    /// (`id|transcript`) and DIR/wavs/<id>.wav (any rate, mono or stereo). It learns how the
    /// recordings' pitch level, pitch range, tempo, level and spectral tilt differ from the voice
    /// speaking the same transcripts, as weight deltas on enc_p.late (pitch), dp (tempo) and dec
    /// (level, tilt); with enc_p.emb or enc_p.early in --groups it first trains the early encoder
    /// toward the recordings by gradient. Each step prints its loss, the cues and the time left.
    Learn(LearnArgs),
    /// A `rewrite` vector of an accent (a dialect α): how espeak-ng's accent NAME rewrites
    /// the voice's own phonemes in context, counted over the lines of --texts. At α the voice
    /// reads its own phonemes with their embeddings moved that far toward the accent's; no
    /// espeak-ng is needed where the vector is used. Needs espeak-ng to build.
    Accent(AccentArgs),
    /// Print a vector's metadata and the norm of each tensor and group.
    Inspect(InspectArgs),
}

/// Where a new vector goes and what it says about itself.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Human description stored in the file.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Default α stored in the file.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f32,
    /// The α range the vector is made and measured for, `MIN,MAX`: controls using it are
    /// clamped to it, and `tvtts say --style` refuses α outside it. The default 0,1 is what
    /// construction guarantees (α = 0 is the base voice, α = 1 the direction as measured);
    /// widen it only as far as you have listened and measured.
    #[arg(long, default_value = "0,1", allow_hyphen_values = true)]
    pub alpha_range: String,
    /// The vector file to write.
    #[arg(long)]
    pub out: PathBuf,
}

impl OutputArgs {
    /// The α range asked for.
    fn range(&self) -> anyhow::Result<(f32, f32)> {
        Ok(parse_range(&self.alpha_range)?)
    }

    /// Stores the description (when given; else `v` keeps its own), default α and α range in
    /// `v` and saves it.
    fn save(&self, mut v: StyleVector) -> anyhow::Result<StyleVector> {
        if !self.description.is_empty() {
            v.description = self.description.clone();
        }
        v.alpha_range = self.range()?;
        v.check_alpha(self.alpha).context("--alpha must lie in --alpha-range")?;
        v.default_alpha = self.alpha;
        v.save(&self.out)?;
        Ok(v)
    }

    /// [`Self::save`], then says what was written.
    fn write(&self, v: StyleVector, what: std::fmt::Arguments) -> anyhow::Result<()> {
        self.save(v)?;
        eprintln!("tvtts: wrote {} ({what})", self.out.display());
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The base voice (`.onnx`) the vector will be applied to.
    #[arg(long)]
    pub base: PathBuf,
    /// The fine-tuned voice (`.onnx`), same architecture.
    #[arg(long)]
    pub tuned: PathBuf,
    /// Module groups to keep (comma-separated: enc_p, enc_p.emb, enc_p.early, enc_p.late, dp, flow, dec).
    #[arg(long, default_value = "enc_p,dp,flow,dec")]
    pub groups: String,
    /// Store as LoRA factors of this rank (truncated SVD) instead of full deltas.
    #[arg(long)]
    pub rank: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CentroidArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// Speaker ids the direction points towards (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub a: Vec<usize>,
    /// Speaker ids it points away from.
    #[arg(long, value_delimiter = ',', required = true)]
    pub b: Vec<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct SteerArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// Text file, one line per utterance: the direction points towards these.
    #[arg(long)]
    pub a: PathBuf,
    /// Text file, one line per utterance: … and away from these.
    #[arg(long)]
    pub b: PathBuf,
    /// Lines are IPA phonemes, not text.
    #[arg(long)]
    pub phonemes: bool,
    /// Hidden states to steer (comma-separated): m_p (prior mean), z (flow output).
    #[arg(long, default_value = "m_p")]
    pub points: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct AccentArgs {
    /// The voice, and with --accent the accent (required here): its phonemes are compared with
    /// the voice's own.
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// Text files, one sentence or more per line, to count the rewrites over (repeatable; the
    /// more text, the more contexts the table knows).
    #[arg(long, required = true)]
    pub texts: Vec<PathBuf>,
    /// Text files the table is not built from: prints how many of the accent's changes to
    /// them the table reproduces (repeatable).
    #[arg(long)]
    pub held_out: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct LearnArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// The recordings: DIR/metadata.csv and DIR/wavs/<id>.wav.
    #[arg(long)]
    pub data: PathBuf,
    /// Module groups the vector may change: enc_p or enc_p.late (pitch level and range), dp
    /// (tempo), dec (level and tilt), enc_p.emb (the sounds: the phoneme embedding, learned by
    /// gradient — an accent's context-free part) or enc_p.early (the embedding and the first
    /// encoder layers).
    #[arg(long, default_value = "enc_p.late,dp,dec")]
    pub groups: String,
    /// `weights` (full deltas), `lora` (factors of --rank), `steer` (one m_p offset, along the
    /// direction in which the recordings' spectra differ from the voice's, sized by their pitch)
    /// or `rewrite` (a dialect: which vowels the recordings say in place of the voice's own, in
    /// context, heard by speaking each candidate; --groups does not apply).
    #[arg(long, default_value = "weights")]
    pub kind: String,
    /// LoRA rank for --kind lora. The pitch-contrast delta (β·W of enc_p.proj's m half) is as
    /// full-rank as that weight: a low rank keeps part of it (the kept energy is printed).
    #[arg(long, default_value_t = 16)]
    pub rank: usize,
    /// Fitting steps after the probes (at most; it stops when every cue is reached); each
    /// speaks every line once.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Gradient (Adam) steps of the early text encoder, when --groups has enc_p.emb or enc_p.early (0: the
    /// default, 40); each runs the encoder's twin forward and back over every line.
    #[arg(long, default_value_t = 0)]
    pub encoder_steps: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The vector file.
    pub file: PathBuf,
    /// Also check it against this voice.
    #[arg(long)]
    pub voice: Option<PathBuf>,
}

pub fn run(cmd: VectorCommand) -> anyhow::Result<()> {
    match cmd {
        VectorCommand::Diff(a) => diff(a),
        VectorCommand::Centroid(a) => centroid(a),
        VectorCommand::Steer(a) => steer(a),
        VectorCommand::Learn(a) => learn(a),
        VectorCommand::Accent(a) => accent(a),
        VectorCommand::Inspect(a) => inspect(a),
    }
}

fn lines(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let lines: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    anyhow::ensure!(!lines.is_empty(), "{}: no lines", path.display());
    Ok(lines)
}

fn inputs(lines: &[String], phonemes: bool) -> Vec<Say> {
    lines.iter().map(|l| if phonemes { Say::phonemes(l.as_str()) } else { Say::text(l.as_str()) }).collect()
}

fn steer(a: SteerArgs) -> anyhow::Result<()> {
    let voice = a.voice.load()?;
    let points: Vec<String> = a.points.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    let (la, lb) = (lines(&a.a)?, lines(&a.b)?);
    let (ia, ib) = (inputs(&la, a.phonemes), inputs(&lb, a.phonemes));
    let v = steer_from_texts(&voice, &ia, &ib, &points, "", a.output.range()?)?;
    a.output.write(v, format_args!("{} vs {} lines, points {}", la.len(), lb.len(), a.points))
}

fn accent(mut a: AccentArgs) -> anyhow::Result<()> {
    let name = a.voice.accent.take().context("`vector accent` needs --accent NAME")?;
    let voice = a.voice.load()?;
    let phonemizer = voice.accent_phonemizer(&name)?;
    let mut texts = Vec::new();
    for f in &a.texts {
        texts.extend(lines(f)?);
    }
    let total = texts.len();
    let (rewrite, sentences) = rewrite_from_texts(&voice, &phonemizer, &texts, &mut |n| {
        if n % 20 == 0 || n == total {
            eprint!("\rtvtts: {n}/{total} lines");
        }
    })?;
    eprintln!();
    let mut held = Vec::new();
    for f in &a.held_out {
        held.extend(lines(f)?);
    }
    if !held.is_empty() {
        let g = agreement(&voice, &phonemizer, &rewrite, &held)?;
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        eprintln!(
            "tvtts: on {} held-out lines the table reproduces {:.1} % of the accent's {} changes and changes {:.2} % of the {} positions it keeps",
            held.len(),
            pct(g.reproduced, g.changed),
            g.changed,
            pct(g.spurious, g.kept),
            g.kept
        );
    }
    let v = rewrite_vector(&voice, &rewrite, a.output.range()?)?;
    a.output.write(v, format_args!("{} rules from {sentences} sentences, accent {name}", rewrite.len()))
}

fn diff(a: DiffArgs) -> anyhow::Result<()> {
    let groups = Group::parse_list(&a.groups)?;
    let base_voice = tvtts::Voice::load(&a.base, &candle_core::Device::Cpu)?;
    let base = Checkpoint::from_onnx_file(&a.base)?;
    let tuned = Checkpoint::from_onnx_file(&a.tuned)?;
    let mut v = weight_delta(&base, &tuned, &groups, &base_voice, a.output.range()?)?;
    if let Some(rank) = a.rank {
        v = to_lora(&v, rank)?;
    }
    let energy = v.energy.map_or(String::new(), |e| format!(", rank {} keeps {:.2}% of the energy", a.rank.unwrap_or(0), 100.0 * e));
    let n = v.tensors.len();
    a.output.write(v, format_args!("{n} tensors over {}{energy}", Group::list(&groups)))
}

fn centroid(a: CentroidArgs) -> anyhow::Result<()> {
    let voice = a.voice.load()?;
    let v = speaker_centroid(voice.model.as_ref(), &a.a, &a.b, voice.weights_hash(), "", a.output.range()?)?;
    a.output.write(v, format_args!("speakers {:?} minus {:?}", a.a, a.b))
}

fn learn(a: LearnArgs) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tvtts::core::learn::{self, fit::describe, DataSet};

    let kind: Kind = a.kind.parse()?;
    let groups = Group::parse_list(&a.groups)?;
    if kind != Kind::Rewrite {
        learn::fit::knobs_for(&groups, kind)?;
    }
    a.output.range()?; // a bad --alpha-range fails before learning, not after
    let voice = a.voice.load()?;
    Group::check_all(&groups, voice.model.as_ref())?;
    // Ctrl-C ends learning between two lines; nothing is written then.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("cannot install the Ctrl-C handler")?;
    let stop = || -> tvtts::core::Result<()> {
        if interrupted.load(Ordering::SeqCst) {
            Err(tvtts::core::Error::invalid("vector learn", "interrupted (Ctrl-C): no vector written"))
        } else {
            Ok(())
        }
    };
    let started = std::time::Instant::now();
    let sr = voice.sample_rate();
    eprintln!("tvtts: reading {}", a.data.display());
    let data = DataSet::load(&a.data, sr)?;
    eprintln!("tvtts: {} lines, {:.1} s of audio", data.recordings.len(), data.seconds(sr));
    for w in &data.warnings {
        eprintln!("tvtts: warning: {w}");
    }
    if kind == Kind::Rewrite {
        let length_scale = voice.scales(&tvtts::SynthesisOptions::default())?.length_scale;
        let learned = learn::dialect::learn_rewrite(&voice, &data, length_scale, &mut |line| eprintln!("tvtts: {line}"), &stop)?;
        stop()?;
        let rules = learned.vector.tensors.values().next().map_or(0, |t| t.dims()[0]);
        let what = format_args!("rewrite kind, {rules} rules from {} sentences, in {:.0} s", learned.heard.len(), started.elapsed().as_secs_f32());
        return a.output.write(learned.vector, what);
    }
    let opts = learn::Options { groups, kind, rank: a.rank, steps: a.steps, encoder_steps: a.encoder_steps, scales: voice.scales(&tvtts::SynthesisOptions::default())? };
    let learned = learn::learn(&voice, &data, &opts, &mut |line| eprintln!("tvtts: {line}"), &stop)?;
    for w in learned.warnings.iter().skip(data.warnings.len()) {
        eprintln!("tvtts: warning: {w}");
    }
    stop()?;
    let v = a.output.save(learned.vector)?;
    if let Some(e) = v.energy {
        eprintln!("tvtts: LoRA rank {} keeps {:.2}% of the deltas' energy", a.rank, 100.0 * e);
    }
    eprintln!(
        "tvtts: wrote {} ({} kind, groups {}) in {:.0} s from {} lines\n  recordings: {}\n  learned:    {}\n  at α 0.5:   {}",
        a.output.out.display(),
        v.kind,
        Group::list(&v.groups),
        started.elapsed().as_secs_f32(),
        learned.lines_used,
        describe(&learned.target),
        describe(&learned.reached),
        describe(&learned.half)
    );
    Ok(())
}

fn inspect(a: InspectArgs) -> anyhow::Result<()> {
    let v = StyleVector::load(&a.file)?;
    println!("file: {}", a.file.display());
    println!("kind: {}", v.kind);
    println!("base voice weights: {}", v.base);
    println!("groups: {}", Group::list(&v.groups));
    println!("default alpha: {}", v.default_alpha);
    println!("alpha range: [{}, {}]", v.alpha_range.0, v.alpha_range.1);
    println!("description: {}", v.description);
    if let Some(r) = v.rank {
        println!("rank: {r}");
    }
    if let Some(e) = v.energy {
        println!("kept energy: {:.4}", e);
    }
    let mut per_group = std::collections::BTreeMap::<String, f64>::new();
    for (name, t) in &v.tensors {
        let sq = t.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        println!("tensor {name} {:?} norm {:.6}", t.dims(), sq.sqrt());
        // Steering tensors are named by their point; others by a parameter path.
        let group = if v.kind == Kind::Steer { name.clone() } else { name.split('.').next().unwrap_or("").to_string() };
        *per_group.entry(group).or_default() += sq;
    }
    for (g, sq) in per_group {
        println!("group {g} norm {:.6}", sq.sqrt());
    }
    if let Some(voice) = a.voice {
        let voice = tvtts::Voice::load(&voice, &candle_core::Device::Cpu)?;
        v.check_against(&voice)?;
        println!("fits voice {}", voice.path.display());
    }
    Ok(())
}
