//! The main job: speak a scripted NPC exchange to WAV files, one per line, on the CPU.
//!
//! `cargo run --release --example npc_scene -- --out out/scene`
//!
//! Only one voice ships with tvtts, so the characters differ by speaking rate and variability
//! (`length_scale`, `noise_scale`, `noise_w`) and by seed; give `--voice` another Piper voice to
//! hear it instead.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tvtts::core::voice::Input;
use tvtts::core::{SynthesisOptions, Voice};

#[derive(Parser)]
struct Args {
    /// Piper voice (.onnx, with its .onnx.json beside it).
    #[arg(long, default_value = "assets/voices/en_US-joe-medium.onnx")]
    voice: PathBuf,
    /// Scene script: `speaker: text` per line, `#` comments.
    #[arg(long, default_value = "assets/scenes/tavern.txt")]
    script: PathBuf,
    /// Output directory for the WAV files.
    #[arg(long, default_value = "out/scene")]
    out: PathBuf,
}

/// How each character speaks.
fn character(name: &str) -> SynthesisOptions {
    let (length_scale, noise_scale, noise_w, seed) = match name {
        "guard" => (0.92, 0.5, 0.6, 11),
        "innkeeper" => (1.12, 0.7, 0.9, 23),
        _ => (1.0, 0.667, 0.8, 5),
    };
    SynthesisOptions { noise_scale: Some(noise_scale), length_scale: Some(length_scale), noise_w: Some(noise_w), speaker: None, seed }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let script = std::fs::read_to_string(&args.script).with_context(|| format!("{}: cannot read script", args.script.display()))?;
    let voice = Voice::load(&args.voice, &candle_core::Device::Cpu).with_context(|| format!("cannot load voice {}", args.voice.display()))?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;

    let lines = script.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    for (n, line) in lines.enumerate() {
        let (speaker, text) = line
            .split_once(':')
            .with_context(|| format!("{}: line `{line}` is not `speaker: text`", args.script.display()))?;
        let (speaker, text) = (speaker.trim(), text.trim());
        let t0 = std::time::Instant::now();
        let sentences = voice.synthesize(Input::Text(text), &character(speaker))?;
        let audio: Vec<f32> = sentences.iter().flat_map(|s| s.audio.iter().copied()).collect();
        let path = args.out.join(format!("{:02}_{speaker}.wav", n + 1));
        tvtts::write_wav(&path, &audio, voice.sample_rate(), false)?;
        let secs = audio.len() as f64 / voice.sample_rate() as f64;
        println!("{} ({speaker}, {secs:.2} s audio in {:.2} s): {text}", path.display(), t0.elapsed().as_secs_f64());
    }
    Ok(())
}
