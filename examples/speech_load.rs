//! Load benchmark for the plugin: K NPCs start talking at once. Reports the main thread's time
//! per frame (`App::update`) without speech and while all of them speak, the time until each
//! line's first audio reached the mixer, how late an α change is heard (every NPC's `Emotion`
//! is raised a few seconds in), and underruns. Audio goes to the sound card, or to the
//! plugin's silent real-time output when there is none, so underruns are real.
//!
//! `cargo run --release --example speech_load -- --speakers 16` (or `--speakers 1,8,16`: one
//! run per count, each in a fresh app, one after the other)

#[path = "common/tavern.rs"]
mod tavern;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use bevy::asset::{AssetMetaCheck, AssetPlugin};
use bevy::prelude::*;
use clap::Parser;
use tvtts::plugin::prelude::*;
use tvtts::plugin::{Speech, SpeechMixer};

#[derive(Parser)]
struct Args {
    /// NPCs talking at once; several counts (`1,8,16`, `1 8 16` or `1, 8, 16`) measure each
    /// in turn.
    #[arg(long, num_args = 1.., default_value = "16")]
    speakers: Vec<String>,
    /// Frames measured without speech.
    #[arg(long, default_value_t = 300)]
    idle_frames: usize,
    /// Target frame rate (frames are paced to it, like a game with vsync).
    #[arg(long, default_value_t = 60.0)]
    fps: f64,
    /// Synthesis worker threads (default: one per physical core).
    #[arg(long)]
    workers: Option<usize>,
    /// Engine look-ahead: unread samples before a line's synthesis pauses (default: the plugin's).
    #[arg(long)]
    ahead_samples: Option<usize>,
    /// Ring buffer between the engine and the audio thread, in samples (default: the engine's).
    #[arg(long)]
    ring_samples: Option<usize>,
    /// Nice value of the synthesis threads (default: the plugin's, 10; 0 = the game's priority).
    #[arg(long)]
    worker_nice: Option<i32>,
    /// Largest synthesis window in frames of 256 samples (default: the engine's, 256).
    #[arg(long)]
    max_window: Option<usize>,
    /// Seconds after the request at which every NPC's emotion α goes from 0 to `--to`.
    #[arg(long, default_value_t = 4.0)]
    change_after: f64,
    /// The emotion changed: a control every preset of `--presets` has (`excited`: a steering
    /// vector; `angry` on the guard: a `weights` vector, each new α a model copy).
    #[arg(long, default_value = "excited")]
    emotion: String,
    /// The α it goes to (within the control's range).
    #[arg(long, default_value_t = 2.0)]
    to: f32,
    /// The NPCs' presets (`assets/voices/NAME.voice.ron`), in turn.
    #[arg(long, value_delimiter = ',', default_value = "guard,innkeeper,traveler")]
    presets: Vec<String>,
    /// The text every NPC says (default: bench/texts/L.txt, 16.9 s of speech).
    #[arg(long)]
    text: Option<std::path::PathBuf>,
}

/// Frame-time statistics in milliseconds.
fn stats(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    format!("mean {mean:.3} ms, median {:.3}, p99 {:.3}, max {:.3} ({} frames)", pick(0.5), pick(0.99), pick(1.0), ms.len())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text_path = args.text.clone().unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/texts/L.txt"));
    let text = std::fs::read_to_string(&text_path).with_context(|| format!("{}: cannot read", text_path.display()))?;
    let counts = args
        .speakers
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| k.parse::<usize>().ok().filter(|&k| k > 0).with_context(|| format!("--speakers: `{k}` is not a count of at least 1")))
        .collect::<anyhow::Result<Vec<usize>>>()?;
    anyhow::ensure!(!counts.is_empty(), "--speakers: no count given");
    for (i, &speakers) in counts.iter().enumerate() {
        if i > 0 {
            println!();
        }
        measure(&args, speakers, &text)?;
    }
    Ok(())
}

/// One run: `speakers` NPCs in a new app say `text` at once.
fn measure(args: &Args, speakers: usize, text: &str) -> anyhow::Result<()> {
    let mut plugin = TvTtsPlugin::default();
    if let Some(w) = args.workers {
        plugin = plugin.with_workers(w);
    }
    if let Some(n) = args.worker_nice {
        plugin.engine.worker_nice = n;
    }
    if let Some(a) = args.ahead_samples {
        plugin.engine.ahead_samples = a;
    }
    if let Some(r) = args.ring_samples {
        plugin.engine.ring_samples = r;
    }
    if let Some(m) = args.max_window {
        plugin.engine.windows.max = m;
    }
    let (workers, engine) = (plugin.engine.workers, plugin.engine.clone());
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin { file_path: tavern::assets_dir().to_string_lossy().into_owned(), meta_check: AssetMetaCheck::Never, ..default() },
        plugin,
    ));
    let presets = &args.presets;
    anyhow::ensure!(!presets.is_empty(), "--presets: no preset given");
    let world = app.world_mut();
    world.spawn((SpeechListener, GlobalTransform::IDENTITY));
    let npcs: Vec<Entity> = (0..speakers)
        .map(|i| {
            let angle = i as f32 / speakers as f32 * std::f32::consts::TAU;
            let preset = world.resource::<AssetServer>().load(format!("voices/{}.voice.ron", presets[i % presets.len()]));
            let at = GlobalTransform::from_xyz(5.0 * angle.cos(), 0.0, 5.0 * angle.sin());
            world.spawn((Voice(preset), Emotion::new(&args.emotion, 0.0), at)).id()
        })
        .collect();
    let t0 = Instant::now();
    while !npcs.iter().all(|n| {
        let w = app.world();
        w.get::<Voice>(*n).is_some_and(|v| w.resource::<Assets<VoicePreset>>().contains(&v.0))
    }) {
        anyhow::ensure!(t0.elapsed() < Duration::from_secs(120), "presets did not load");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = if app.world().resource::<SpeechMixer>().is_device() { "sound card" } else { "silent real-time output (no sound card)" };
    println!(
        "{} speakers, {workers} synthesis workers, look-ahead {} samples (ring buffer {}), windows ≤ {} frames, worker nice {}, audio to the {output}; `{}` α 0 → {} after {} s",
        speakers, engine.ahead_samples, engine.ring_samples, engine.windows.max, engine.worker_nice, args.emotion, args.to, args.change_after
    );

    // A frame: the update (timed), then what the game does with its results, then the wait
    // for the next frame's turn. What the update showed is read before that wait, so no
    // latency measured here includes it.
    let period = Duration::from_secs_f64(1.0 / args.fps);
    let frame = |app: &mut App, times: &mut Vec<f64>| {
        let start = Instant::now();
        app.update();
        times.push(start.elapsed().as_secs_f64() * 1e3);
        start
    };
    let pace = |start: Instant| std::thread::sleep(period.saturating_sub(start.elapsed()));
    let mut idle = Vec::new();
    for _ in 0..args.idle_frames {
        pace(frame(&mut app, &mut idle));
    }

    let mut started = app.world().resource::<Messages<LineStarted>>().get_cursor_current();
    let mut finished = app.world().resource::<Messages<LineFinished>>().get_cursor_current();
    let mut failed = app.world().resource::<Messages<LineFailed>>().get_cursor_current();
    let mut applied = app.world().resource::<Messages<StyleApplied>>().get_cursor_current();
    // Per line: samples played when α was raised, then how late the change was heard (ms): as
    // audio synthesized ahead at the change, and as wall-clock time from the change until the
    // mixer took the first sample made with the new α.
    let (mut played_at_change, mut alpha_latency) = (HashMap::new(), Vec::new());
    let changed = (args.emotion.clone(), args.to);
    let (mut changed_at, mut first_changed, mut heard_ms) = (None, HashMap::new(), Vec::new());
    let voice_rate = app.world().resource::<Assets<VoicePreset>>().iter().next().map_or(22_050.0, |(_, p)| p.sample_rate as f64);
    let said = Instant::now();
    for npc in &npcs {
        app.world_mut().write_message(SayLine::new(*npc, text.trim()));
    }
    let (mut busy, mut first_audio, mut ends) = (Vec::new(), HashMap::new(), Vec::new());
    let mut underruns_before = 0;
    while ends.len() < npcs.len() {
        anyhow::ensure!(said.elapsed() < Duration::from_secs(600), "lines did not finish in 10 minutes");
        // The change is made before this frame's update, as a gameplay system in `Update` would
        // make it (the plugin sends it on in `PostUpdate`).
        if played_at_change.is_empty() && said.elapsed().as_secs_f64() >= args.change_after {
            underruns_before = npcs.iter().filter_map(|n| app.world().get::<Speech>(*n)).map(Speech::underruns).sum();
            for npc in &npcs {
                if let Some((line, played)) = app.world().get::<Speech>(*npc).and_then(Speech::position) {
                    played_at_change.insert(line, played);
                }
                if let Some(mut e) = app.world_mut().get_mut::<Emotion>(*npc) {
                    e.alpha = args.to;
                }
            }
            changed_at = Some(Instant::now());
        }
        let started_frame = frame(&mut app, &mut busy);
        let w = app.world();
        for a in applied.read(w.resource::<Messages<StyleApplied>>()) {
            if let (Some(played), true) = (played_at_change.get(&a.line), a.controls.contains(&changed)) {
                alpha_latency.push(a.at_sample.saturating_sub(*played) as f64 * 1e3 / voice_rate);
                first_changed.entry(a.line).or_insert(a.at_sample);
            }
        }
        if let Some(at) = changed_at {
            for npc in &npcs {
                let Some((line, played)) = w.get::<Speech>(*npc).and_then(Speech::position) else { continue };
                if first_changed.get(&line).is_some_and(|&s| played > s) {
                    first_changed.remove(&line);
                    heard_ms.push(at.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        for s in started.read(w.resource::<Messages<LineStarted>>()) {
            // When the mixer took the line's first sample (the game hears of it in this frame).
            let at = w.get::<Speech>(s.entity).and_then(Speech::first_audio_at).filter(|(line, _)| *line == s.line).map_or_else(Instant::now, |(_, at)| at);
            first_audio.insert(s.line, at.saturating_duration_since(said).as_secs_f64() * 1e3);
        }
        ends.extend(finished.read(w.resource::<Messages<LineFinished>>()).map(|f| (f.underruns, f.samples as f64 / f.sample_rate as f64)));
        if let Some(f) = failed.read(w.resource::<Messages<LineFailed>>()).next() {
            anyhow::bail!("a line failed: {:?}", f.failure);
        }
        pace(started_frame);
    }
    let wall = said.elapsed().as_secs_f64();
    let mut ttfa: Vec<f64> = first_audio.into_values().collect();
    let underruns: u64 = ends.iter().map(|(u, _)| u).sum();
    let audio = ends.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    println!("main thread per frame, no speech:       {}", stats(&mut idle));
    println!("main thread per frame, {speakers:2} NPCs talking: {}", stats(&mut busy));
    println!("first audio at the mixer after the request: {}", stats(&mut ttfa).replace("frames", "lines"));
    // In order (`stats` sorted them): with more NPCs than workers the starts come in turns,
    // one per worker.
    println!("first audio per line, in order: {} ms", ttfa.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", "));
    if !played_at_change.is_empty() && alpha_latency.is_empty() {
        // The engine clamps α to the control's range, and windows report the clamped value.
        println!("α change never applied as `{}` = {}: is the value within the control's range?", args.emotion, args.to);
    }
    if !alpha_latency.is_empty() {
        println!("α change heard after (synthesized ahead when it was made): {}", stats(&mut alpha_latency).replace("frames", "lines"));
    }
    if !heard_ms.is_empty() {
        println!("α change heard after (change to its first sample played): {}", stats(&mut heard_ms).replace("frames", "lines"));
    }
    println!("{underruns} underruns in all ({underruns_before} before the α change); {audio:.1} s lines done {wall:.1} s after they were requested");
    Ok(())
}
