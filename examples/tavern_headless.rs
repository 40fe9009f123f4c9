//! The main job, through the Bevy plugin with no window and no sound card: the tavern scene
//! (`assets/scenes/tavern.txt`) spoken by placed NPCs with their `*.voice.ron` presets, mixed
//! in stereo by the plugin's kira mixer, one WAV per line.
//!
//! `cargo run --release --example tavern_headless -- --out out/tavern`
//!
//! Emotions are driven live as a gameplay system would: the guard's `Emotion` ("angry") is 0.6
//! on his first line; on his second, 0.3 rising to 1.0 one second in (the rest of the line
//! follows); 0.0 on his last. The traveler is afraid (0.8) on his first line. The innkeeper's
//! `Dialect` ("scottish") is 0.5 on her first line and 1.0 after (she warms to the stranger);
//! the traveler speaks RP (his preset's "rp" dialect at its default α 1), afraid on top. The mix is rendered offline (as fast as synthesis allows, never underrunning).
//! Each NPC carries a `LipSync`: every line prints its words as they were heard (`WordSpoken`),
//! each with the time into the line and the mouth's OVR viseme at that moment.

#[path = "common/tavern.rs"]
mod tavern;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bevy::asset::{AssetMetaCheck, AssetPlugin};
use bevy::prelude::*;
use clap::Parser;
use tvtts::plugin::prelude::*;
use tvtts::plugin::render_line;

#[derive(Parser)]
struct Args {
    /// Directory for the WAV files (created).
    #[arg(long, default_value = "out/tavern")]
    out: PathBuf,
    /// Scene script: `speaker: text` per line; speaker `x` uses `voices/x.voice.ron`.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Asset folder holding `voices/` and `vectors/` (default: the repository's `assets/`).
    #[arg(long)]
    assets: Option<PathBuf>,
    /// Output sample rate of the mix.
    #[arg(long, default_value_t = 48_000)]
    rate: u32,
}

/// The guard's `angry` α at the start of his n-th line, and (α, after seconds) to switch to mid-line.
fn guard_emotion(nth: usize) -> (f32, Option<(f32, f64)>) {
    match nth {
        0 => (0.6, None),
        1 => (0.3, Some((1.0, 1.0))),
        _ => (0.0, None),
    }
}

/// The innkeeper's `scottish` α on her n-th line.
fn innkeeper_dialect(nth: usize) -> f32 {
    if nth == 0 {
        0.5
    } else {
        1.0
    }
}

/// The traveler's `afraid` α on his n-th line.
fn traveler_emotion(nth: usize) -> f32 {
    if nth == 0 {
        0.8
    } else {
        0.0
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let assets = args.assets.unwrap_or_else(tavern::assets_dir);
    let script = args.script.unwrap_or_else(|| assets.join("scenes/tavern.txt"));
    let lines = tavern::read_script(&script)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;

    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin { file_path: assets.to_string_lossy().into_owned(), meta_check: AssetMetaCheck::Never, ..default() },
        TvTtsPlugin::default().with_output(AudioOutput::Manual { sample_rate: args.rate }),
    ));
    let t0 = Instant::now();
    let cast = tavern::spawn_cast(app.world_mut(), &lines);
    let mut errors = app.world().resource::<Messages<PresetError>>().get_cursor_current();
    loop {
        app.update();
        if let Some(e) = errors.read(app.world().resource::<Messages<PresetError>>()).next() {
            anyhow::bail!("voice preset {e}");
        }
        let world = app.world();
        let presets = world.resource::<Assets<VoicePreset>>();
        if cast.iter().all(|(_, npc)| world.get::<Voice>(*npc).is_some_and(|v| presets.contains(&v.0))) {
            break;
        }
        anyhow::ensure!(t0.elapsed() < Duration::from_secs(120), "voice presets did not load in 2 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("presets loaded in {:.2} s; mixing at {} Hz stereo", t0.elapsed().as_secs_f64(), args.rate);

    let (mut guard_lines, mut traveler_lines, mut innkeeper_lines) = (0, 0, 0);
    for (n, line) in lines.iter().enumerate() {
        let npc = cast.iter().find(|(name, _)| *name == line.speaker).map(|(_, e)| *e).context("speaker not spawned")?;
        let mut ramp = None;
        if line.speaker == "guard" {
            let (alpha, later) = guard_emotion(guard_lines);
            app.world_mut().entity_mut(npc).insert(Emotion::new("angry", alpha));
            ramp = later;
            guard_lines += 1;
        }
        if line.speaker == "traveler" {
            app.world_mut().entity_mut(npc).insert(Emotion::new("afraid", traveler_emotion(traveler_lines)));
            traveler_lines += 1;
        }
        if line.speaker == "innkeeper" {
            app.world_mut().entity_mut(npc).insert(Dialect::new("scottish", innkeeper_dialect(innkeeper_lines)));
            innkeeper_lines += 1;
        }
        let started = Instant::now();
        let rate = args.rate as f64;
        let mut applied = app.world().resource::<Messages<StyleApplied>>().get_cursor_current();
        let mut spoken = app.world().resource::<Messages<WordSpoken>>().get_cursor_current();
        app.world_mut().entity_mut(npc).insert(LipSync::default());
        let mut heard: Vec<String> = Vec::new();
        let voice = app.world().get::<Voice>(npc).context("speaker has no voice")?.0.clone();
        let voice_rate = app.world().resource::<Assets<VoicePreset>>().get(&voice).context("preset not loaded")?.sample_rate as f64;
        let (mut mix, done) = render_line(&mut app, SayLine::new(npc, &line.text), Duration::from_secs(300), |app, frames| {
            if let Some((alpha, after)) = ramp.filter(|(_, after)| frames as f64 >= after * rate) {
                app.world_mut().get_mut::<Emotion>(npc).expect("guard's emotion").alpha = alpha;
                println!("    guard: angry α → {alpha} at {after:.1} s into the line");
                ramp = None;
            }
            for a in applied.read(app.world().resource::<Messages<StyleApplied>>()).filter(|a| a.at_sample > 0) {
                println!("    {}: style {:?} heard from {:.2} s into the line", line.speaker, a.controls, a.at_sample as f64 / voice_rate);
            }
            let mouth = app.world().get::<LipSync>(npc).map_or("-", |m| m.viseme.name());
            for w in spoken.read(app.world().resource::<Messages<WordSpoken>>()) {
                heard.push(format!("{}@{:.2}[{mouth}]", w.word, frames as f64 / rate));
            }
        })
        .map_err(|f| anyhow::anyhow!("line {} ({}) failed: {f:?}", n + 1, line.speaker))?;
        // The mix goes on (silent) until the end is seen: keep the line's own length.
        let frames = (done.samples as f64 * rate / done.sample_rate as f64).ceil() as usize;
        mix.truncate(frames * 2);
        let path = args.out.join(format!("{:02}_{}.wav", n + 1, line.speaker));
        write_stereo(&path, &mix, args.rate)?;
        println!(
            "{} ({}, {:.2} s, rendered in {:.2} s, {} underruns): {}",
            path.display(),
            line.speaker,
            frames as f64 / rate,
            started.elapsed().as_secs_f64(),
            done.underruns,
            line.text
        );
        println!("    heard: {}", heard.join(" "));
    }
    Ok(())
}

/// 16-bit stereo WAV of interleaved samples.
fn write_stereo(path: &std::path::Path, interleaved: &[f32], rate: u32) -> anyhow::Result<()> {
    let spec = hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).with_context(|| format!("{}: cannot write", path.display()))?;
    for s in interleaved {
        w.write_sample((s.clamp(-1.0, 1.0) * i16::MAX as f32) as i16)?;
    }
    w.finalize().with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}
