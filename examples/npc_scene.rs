//! The main job: speak a scripted NPC exchange to WAV files, one per line, on the CPU.
//!
//! `cargo run --release --example npc_scene -- --out out/scene`
//!
//! All lines are handed to the streaming engine at once (as a game would), each character with
//! its own settings. Only one voice ships with tvtts, so the characters differ by speaking rate
//! and variability (`length_scale`, `noise_scale`, `noise_w`), seed, and how far the shipped
//! `excited` style vector raises their pitch; give `--voice` another Piper voice to hear it
//! instead (vectors are made for one voice: pass `--no-style` then).

use tvtts::scene as script;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Request, SpeechHandle};
use tvtts::core::style::StyleVector;
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
    /// The `excited` style vector (made for the bundled voice).
    #[arg(long, default_value = "assets/vectors/excited.safetensors")]
    excited: PathBuf,
    /// Speak without style vectors.
    #[arg(long)]
    no_style: bool,
}

/// How each character speaks, and its `excited` α.
fn character(name: &str) -> (SynthesisOptions, f32) {
    let (length_scale, noise_scale, noise_w, seed, excited) = match name {
        "guard" => (0.92, 0.5, 0.6, 11, 1.5),
        "innkeeper" => (1.12, 0.7, 0.9, 23, 0.5),
        _ => (1.0, 0.667, 0.8, 5, 0.0),
    };
    let opts = SynthesisOptions::default().noise_scale(noise_scale).length_scale(length_scale).noise_w(noise_w).seed(seed);
    (opts, excited)
}

/// Reads a request's audio until it is over; an error if it failed or was dropped.
fn collect(h: &mut SpeechHandle) -> anyhow::Result<Vec<f32>> {
    let audio = h.read_to_end(Duration::from_secs(600))?;
    match h.events().find(|e| matches!(e, Event::Failed(_) | Event::Dropped { .. })) {
        Some(Event::Failed(e)) => Err(e.into()),
        Some(other) => anyhow::bail!("{other:?}"),
        None => Ok(audio),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let voice = Voice::load(&args.voice, &candle_core::Device::Cpu).with_context(|| format!("cannot load voice {}", args.voice.display()))?;
    let sample_rate = voice.sample_rate();
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;
    let engine = Engine::new(EngineConfig::default())?;
    let controls = if args.no_style {
        Vec::new()
    } else {
        let excited = Arc::new(StyleVector::load(&args.excited)?);
        vec![ControlSpec::new("excited", 0.0, 3.0)?.with_style(excited, None)]
    };
    engine.add_voice("npc", voice, controls)?;

    let mut lines = Vec::new();
    for script::Line { speaker, text, .. } in script::read_script(&args.script)? {
        let (opts, excited) = character(&speaker);
        let mut request = Request::text("npc", &text).options(opts);
        if !args.no_style {
            request = request.control("excited", excited);
        }
        lines.push((speaker, text, engine.speak(request)));
    }
    for (n, (speaker, text, mut handle)) in lines.into_iter().enumerate() {
        let audio = collect(&mut handle)?;
        let path = args.out.join(format!("{:02}_{speaker}.wav", n + 1));
        tvtts::write_wav(&path, &audio, sample_rate, false)?;
        let secs = audio.len() as f64 / sample_rate as f64;
        let done = handle.timing().ended.unwrap_or_default().as_secs_f64();
        println!("{} ({speaker}, {secs:.2} s audio, ready {done:.2} s after the scene started): {text}", path.display());
    }
    Ok(())
}
