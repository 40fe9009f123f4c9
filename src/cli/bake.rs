//! `tvtts bake SCENE --out DIR`: renders every line of a scene once, at build time, normalised to
//! a loudness target, with its timing track and a manifest the plugin plays baked lines from.
//!
//! Each line's `key` hashes what decides its audio (see `tvtts::plugin::palette`: the preset's
//! text, its voice's weights, its vectors' and lexicon's bytes, the engine version, the line's
//! text and control values, the loudness target). Files are named by speaker and key, so a
//! re-run renders only lines whose key is new, keeps the others, and removes the files of lines
//! that are gone. Rendering is deterministic (fixed windows; thread counts change no bit): the
//! same key gives the same audio. Every file is written through a `.part` file and renamed, and
//! the manifest last, so an interrupted bake leaves no half file and the next run resumes.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use tvtts::core::engine::{Engine, EngineConfig, Event, Request};
use tvtts::core::loudness::{self, DEFAULT_CEILING_DBTP, DEFAULT_TARGET_LUFS};
use tvtts::core::model::stream::WindowSchedule;
use tvtts::core::timing::Timings;
use tvtts::core::voice::Baked;
use tvtts::core::{SynthesisOptions, Voice};
use tvtts::plugin::baked::{Entry, Manifest};
use tvtts::plugin::palette;
use tvtts::plugin::PresetDef;
use tvtts::scene::{read_script, Line};

#[derive(Args, Debug)]
pub struct BakeArgs {
    /// Scene file: `speaker: text` per line (markup allowed), `#` comments.
    pub scene: PathBuf,
    /// Output folder: one WAV and one timing JSON per line, and `manifest.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Asset folder: presets are `<assets>/voices/<speaker>.voice.ron`; the paths they name are
    /// relative to it.
    #[arg(long, default_value = "assets")]
    pub assets: PathBuf,
    /// Integrated loudness every line is normalised to (LUFS), unless its preset sets `lufs`.
    #[arg(long, default_value_t = DEFAULT_TARGET_LUFS, allow_hyphen_values = true)]
    pub lufs: f64,
    /// True-peak ceiling (dBTP): a line is made quieter than its target rather than pass it.
    #[arg(long, default_value_t = DEFAULT_CEILING_DBTP, allow_hyphen_values = true)]
    pub true_peak: f64,
    /// Lines rendered at once (default: physical cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// A speaker's preset, loaded.
struct Speaker {
    def: PresetDef,
    fingerprint: String,
    sample_rate: u32,
}

/// A line to bake: where it comes from and where it goes.
struct Job {
    line: Line,
    key: String,
    stem: String,
    target: f64,
    controls: Vec<(String, f32)>,
    options: SynthesisOptions,
}

pub fn run(a: BakeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.lufs.is_finite() && (-70.0..=0.0).contains(&a.lufs), "--lufs {} must lie in -70..=0", a.lufs);
    anyhow::ensure!(a.true_peak.is_finite() && a.true_peak <= 0.0, "--true-peak {} must be ≤ 0", a.true_peak);
    let lines = read_script(&a.scene)?;
    let workers = a.threads.unwrap_or_else(tvtts::threads::physical_cores).max(1);
    let config = EngineConfig {
        workers,
        kernel_threads: 1,
        // Fixed windows: the audio does not depend on how fast lines are read.
        windows: WindowSchedule::offline(),
        max_active: workers,
        queue_limit: lines.len().max(64),
        stall_timeout: Duration::from_secs(600),
        ..EngineConfig::default()
    };
    let engine = Engine::new(config)?;

    // Speakers' presets → engine palettes (keyed by speaker) and fingerprints.
    let mut speakers: HashMap<String, Speaker> = HashMap::new();
    for l in &lines {
        if !speakers.contains_key(&l.speaker) {
            let s = load_speaker(&engine, &a.assets, &l.speaker).with_context(|| format!("{}:{}: speaker `{}`", a.scene.display(), l.number, l.speaker))?;
            speakers.insert(l.speaker.clone(), s);
        }
    }
    let jobs: Vec<Job> = lines
        .into_iter()
        .map(|line| {
            let s = &speakers[&line.speaker];
            let target = s.def.lufs.unwrap_or(a.lufs);
            let controls = palette::default_controls(&s.def);
            let key = palette::line_key(&s.fingerprint, &line.text, &controls, target, a.true_peak);
            let stem = format!("{}-{}", file_safe(&line.speaker), &key[..16]);
            Job { line, key, stem, target, controls, options: s.def.options() }
        })
        .collect();

    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let manifest_path = a.out.join("manifest.json");
    let old: Manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("{}: not a bake manifest", manifest_path.display()))?,
        Err(_) => Manifest::default(),
    };
    let old_by_key: HashMap<&str, &Entry> = old.lines.iter().map(|e| (e.key.as_str(), e)).collect();

    // Lines whose files are not there yet (one render per key).
    let mut todo: Vec<usize> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, j) in jobs.iter().enumerate() {
        let done = a.out.join(format!("{}.wav", j.stem)).exists() && a.out.join(format!("{}.json", j.stem)).exists();
        if !done && seen.insert(j.key.clone()) {
            todo.push(i);
        }
    }
    let bar = indicatif::ProgressBar::new(todo.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("bake {bar:30} {pos}/{len} lines, {elapsed} (left {eta}) {msg}").expect("template"));
    let measured: Mutex<HashMap<String, (f64, f64)>> = Mutex::default();
    let failures: Mutex<Vec<String>> = Mutex::default();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = todo.get(k) else { break };
                let j = &jobs[i];
                bar.set_message(format!("{}: {}", j.line.speaker, short(&j.line.text)));
                match render(&engine, j, speakers[&j.line.speaker].sample_rate, a.true_peak, &a.out) {
                    Ok(m) => {
                        measured.lock().expect("not poisoned").insert(j.key.clone(), m);
                    }
                    Err(e) => failures.lock().expect("not poisoned").push(format!("{}:{}: {e:#}", a.scene.display(), j.line.number)),
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    let failures = failures.into_inner().expect("not poisoned");
    if !failures.is_empty() {
        bail!("{} line(s) failed:\n{}", failures.len(), failures.join("\n"));
    }

    // The manifest: measured now, from the old manifest, or from the file (an interrupted run).
    let measured = measured.into_inner().expect("not poisoned");
    let mut entries = Vec::new();
    for j in &jobs {
        let audio = format!("{}.wav", j.stem);
        let (duration, lufs) = match measured.get(&j.key).copied().or_else(|| old_by_key.get(j.key.as_str()).map(|e| (e.duration, e.lufs))) {
            Some(m) => m,
            None => measure_file(&a.out.join(&audio))?,
        };
        entries.push(Entry { speaker: j.line.speaker.clone(), text: j.line.text.clone(), audio, timings: format!("{}.json", j.stem), duration, lufs, key: j.key.clone() });
    }
    // Files of lines that are gone.
    let keep: BTreeSet<&str> = entries.iter().flat_map(|e| [e.audio.as_str(), e.timings.as_str()]).collect();
    let mut removed = 0;
    for e in &old.lines {
        for f in [&e.audio, &e.timings] {
            if !keep.contains(f.as_str()) && a.out.join(f).exists() {
                std::fs::remove_file(a.out.join(f)).with_context(|| format!("{}: cannot remove", a.out.join(f).display()))?;
                removed += 1;
            }
        }
    }
    let manifest = Manifest { lufs_target: a.lufs, true_peak_ceiling: a.true_peak, lines: entries };
    let part = a.out.join("manifest.json.part");
    std::fs::write(&part, serde_json::to_string_pretty(&manifest)?).with_context(|| format!("{}: cannot write", part.display()))?;
    std::fs::rename(&part, &manifest_path).with_context(|| format!("{}: cannot write", manifest_path.display()))?;
    eprintln!(
        "tvtts: baked {} lines into {} ({} rendered, {} kept, {} files removed)",
        manifest.lines.len(),
        a.out.display(),
        todo.len(),
        manifest.lines.len() - todo.len().min(manifest.lines.len()),
        removed
    );
    Ok(())
}

/// Loads `<assets>/voices/<speaker>.voice.ron`, its voice and files, into `engine` as `speaker`.
fn load_speaker(engine: &Engine, assets: &Path, speaker: &str) -> anyhow::Result<Speaker> {
    let path = assets.join("voices").join(format!("{speaker}.voice.ron"));
    let source = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read the preset", path.display()))?;
    let def = PresetDef::parse(&source).map_err(|p| anyhow::anyhow!("{}: {p}", path.display()))?;
    let voice = Voice::load(assets.join(&def.voice), &engine.config().device).with_context(|| format!("{}: voice `{}`", path.display(), def.voice))?;
    let mut files = HashMap::new();
    for f in palette::files_named(&def) {
        let bytes = std::fs::read(assets.join(&f)).with_context(|| format!("{}: `{f}`: cannot read {}", path.display(), assets.join(&f).display()))?;
        files.insert(f, bytes);
    }
    let sample_rate = voice.sample_rate();
    let (palette, fingerprint) = palette::build(&def, &source, Arc::new(voice), &files).map_err(|p| anyhow::anyhow!("{}: {p}", path.display()))?;
    engine.add_palette(speaker, palette);
    Ok(Speaker { def, fingerprint, sample_rate })
}

/// Renders one line: audio normalised to its target, timing track; returns (duration, LUFS).
fn render(engine: &Engine, j: &Job, rate: u32, ceiling: f64, out: &Path) -> anyhow::Result<(f64, f64)> {
    let request = Request { controls: j.controls.clone(), ..Request::text(&j.line.speaker, j.line.text.clone()).options(j.options) };
    let mut h = engine.speak(request);
    let mut audio = h.read_to_end(Duration::from_secs(600))?;
    let mut timings = Timings::default();
    for e in h.events() {
        match e {
            Event::Timings { timings: t, .. } => timings.append(t),
            Event::Failed(e) => return Err(e.into()),
            _ => {}
        }
    }
    let n = loudness::normalize(&mut audio, rate, j.target, ceiling)?;
    tvtts::write_wav(&out.join(format!("{}.wav", j.stem)), &audio, rate, false)?;
    super::timings::write(&out.join(format!("{}.json", j.stem)), &timings, rate)?;
    Ok((audio.len() as f64 / rate as f64, n.after.lufs))
}

/// (duration, LUFS) of a baked WAV.
fn measure_file(path: &Path) -> anyhow::Result<(f64, f64)> {
    let baked = Baked::read(path, None)?;
    let rate = baked.sample_rate;
    Ok((baked.audio.len() as f64 / rate as f64, loudness::measure(&baked.audio, rate)?.lufs))
}

/// `name` with anything but letters, digits, `-` and `_` replaced, for file names.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn short(text: &str) -> String {
    let s: String = text.chars().take(40).collect();
    if s.len() < text.len() {
        format!("{s}…")
    } else {
        s
    }
}
