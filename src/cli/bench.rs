//! `tvtts bench`: synthesis speed per sentence and overall, model load excluded.
//!
//! Each sentence is phonemized once, synthesized once as a warm-up, then `--runs` times; the median
//! is reported (noise 0, so every run does the same work). A second pass times the model's parts
//! (the text side, then each module of the streaming stages: for VITS `flow` and `dec`)
//! separately, so a slow run shows where the time goes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use tvtts::core::model::Noise;
use tvtts::core::{Say, Scales};

/// What every benchmark takes: a voice, a text, how many runs, the output form.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// UTF-8 text file to speak (split into sentences as `say` does).
    #[arg(long)]
    pub text_file: PathBuf,
    /// Timed runs after one warm-up.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl BenchArgs {
    /// The text file's contents.
    pub fn text(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(&self.text_file).with_context(|| format!("{}: cannot read", self.text_file.display()))
    }
}

/// The median (0 for no values).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Peak resident memory of this process in MB (Linux `VmHWM`), if known.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.runs > 0, "--runs must be at least 1");
    let voice = a.voice.load()?;
    let text = a.text()?;
    let sr = voice.sample_rate() as f64;
    let model = voice.model.as_ref();
    let style = voice.plain_style(None)?;
    let time = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let t0 = Instant::now();
        f()?;
        Ok(t0.elapsed().as_secs_f64())
    };

    let mut sentences = Vec::new();
    // Seconds per module: the text side, then each module of the stages (`flow`, `dec`).
    let mut modules: Vec<(&str, f64)> = vec![("text", 0.0)];
    for spec in model.stages() {
        if !modules.iter().any(|(m, _)| *m == spec.module) {
            modules.push((spec.module, 0.0));
        }
    }
    for phonemes in voice.phonemize(&Say::text(text.as_str()))? {
        let ids = voice.ids.ids(&phonemes).ids;
        let mut samples = 0;
        let mut synth = || -> anyhow::Result<()> {
            let x = model.prepare(&ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style)?.input;
            samples = model.run_all(&x, &style)?.dim(0)?;
            Ok(())
        };
        time(&mut synth)?;
        let runs = (0..a.runs).map(|_| time(&mut synth)).collect::<anyhow::Result<Vec<_>>>()?;
        let synth_s = median(runs);

        // Per-module split (each stage's output copied out before the next timer starts).
        let mut parts = vec![Vec::new(); modules.len()];
        for _ in 0..a.runs {
            let mut split = vec![0f64; modules.len()];
            let t0 = Instant::now();
            let mut x = model.prepare(&ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style)?.input;
            x.flatten_all()?.to_vec1::<f32>()?;
            split[0] += t0.elapsed().as_secs_f64();
            for (s, spec) in model.stages().iter().enumerate() {
                let t = Instant::now();
                x = model.run_stage(s, &x, &style)?;
                x.flatten_all()?.to_vec1::<f32>()?;
                let m = modules.iter().position(|(m, _)| *m == spec.module).expect("listed above");
                split[m] += t.elapsed().as_secs_f64();
            }
            for (p, v) in parts.iter_mut().zip(split) {
                p.push(v);
            }
        }
        for ((_, m), p) in modules.iter_mut().zip(parts) {
            *m += median(p);
        }
        let audio_s = samples as f64 / sr;
        sentences.push(json!({"phonemes": phonemes, "audio_s": audio_s, "synth_s": synth_s, "rtf": synth_s / audio_s}));
    }
    let audio_s: f64 = sentences.iter().map(|s| s["audio_s"].as_f64().unwrap_or(0.0)).sum();
    let synth_s: f64 = sentences.iter().map(|s| s["synth_s"].as_f64().unwrap_or(0.0)).sum();
    let threads = a.voice.threads.unwrap_or_else(candle_core::utils::get_num_threads);
    let cpu_level = tvtts::core::model::cpu_level::level().name();
    let report = json!({
        "threads": threads,
        "cpu_level": cpu_level,
        "runs": a.runs,
        "sentences": sentences,
        "total": {"audio_s": audio_s, "synth_s": synth_s, "rtf": if audio_s > 0.0 { synth_s / audio_s } else { 0.0 }},
        "modules_s": modules.iter().map(|(m, s)| (m.to_string(), json!(s))).collect::<serde_json::Map<_, _>>(),
        "peak_rss_mb": peak_rss_mb(),
    });
    if a.json {
        println!("{report}");
    } else {
        println!("| sentence | audio s | synth ms | RTF |\n|---|---|---|---|");
        for (i, s) in report["sentences"].as_array().into_iter().flatten().enumerate() {
            println!("| {} | {:.2} | {:.1} | {:.3} |", i + 1, s["audio_s"].as_f64().unwrap_or(0.0), 1e3 * s["synth_s"].as_f64().unwrap_or(0.0), s["rtf"].as_f64().unwrap_or(0.0));
        }
        println!("| total | {audio_s:.2} | {:.1} | {:.3} |", 1e3 * synth_s, report["total"]["rtf"].as_f64().unwrap_or(0.0));
        let split: Vec<String> = modules.iter().map(|(m, s)| format!("{m} {:.1}", 1e3 * s)).collect();
        println!("threads {threads}; kernels {cpu_level}; modules (ms): {}; peak RSS {:.0} MB", split.join(", "), peak_rss_mb().unwrap_or(f64::NAN));
    }
    Ok(())
}
