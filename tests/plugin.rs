//! The Bevy plugin, headless (`MinimalPlugins`, no sound card): presets load and hot-reload,
//! lines reach the mixer exactly as the engine made them, α changes mid-line, despawn cancels,
//! placed speakers are panned. The mix is rendered offline (`render_ready`), so it never underruns.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bevy::asset::{AssetMetaCheck, AssetPlugin};
use bevy::prelude::*;
use common::{max_abs_diff, read_to_end, voice_path};
use tvtts::core::engine::Request;
use tvtts::plugin::prelude::*;
use tvtts::plugin::{render_line, render_ready, LineId, Speech, SpeechEngine, SpeechMixer};

const M: &str = "The old bridge collapsed last winter, so you'll have to take the mountain pass if you want to reach the village before nightfall.";
const S: &str = "Hello there, traveler.";

/// Everything the plugin reported, in order.
#[derive(Resource, Default)]
struct Seen {
    started: Vec<LineStarted>,
    finished: Vec<LineFinished>,
    failed: Vec<LineFailed>,
    applied: Vec<StyleApplied>,
    words: Vec<WordSpoken>,
    preset_errors: Vec<PresetError>,
    modified: usize,
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one reader per message type
fn record(
    mut seen: ResMut<Seen>,
    mut started: MessageReader<LineStarted>,
    mut finished: MessageReader<LineFinished>,
    mut failed: MessageReader<LineFailed>,
    mut applied: MessageReader<StyleApplied>,
    mut words: MessageReader<WordSpoken>,
    mut errors: MessageReader<PresetError>,
    mut assets: MessageReader<AssetEvent<VoicePreset>>,
) {
    seen.started.extend(started.read().cloned());
    seen.finished.extend(finished.read().cloned());
    seen.failed.extend(failed.read().cloned());
    seen.applied.extend(applied.read().cloned());
    seen.words.extend(words.read().cloned());
    seen.preset_errors.extend(errors.read().cloned());
    seen.modified += assets.read().filter(|e| matches!(e, AssetEvent::Modified { .. })).count();
}

/// A headless app whose assets live in `assets`, mixing at `rate` Hz on demand.
fn app(assets: &Path, rate: u32) -> App {
    app_with(assets, AudioOutput::Manual { sample_rate: rate })
}

/// A headless app whose assets live in `assets`, speech going to `output`.
fn app_with(assets: &Path, output: AudioOutput) -> App {
    voice_path();
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin {
            file_path: assets.to_string_lossy().into_owned(),
            watch_for_changes_override: Some(true),
            meta_check: AssetMetaCheck::Never,
            ..default()
        },
        TvTtsPlugin::default().with_workers(2).with_output(output),
    ))
    .init_resource::<Seen>()
    .add_systems(Last, record);
    app
}

/// The first window of `line` the engine synthesized with `control` at its value.
fn applied_with(app: &App, line: LineId, control: (&str, f32)) -> Option<StyleApplied> {
    let control = (control.0.to_string(), control.1);
    app.world().resource::<Seen>().applied.iter().find(|a| a.line == line && a.controls.contains(&control)).cloned()
}

fn repo_assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}

/// Steps the app until `done` holds (failing after `secs`).
fn update_until(app: &mut App, secs: u64, what: &str, mut done: impl FnMut(&mut App) -> bool) {
    let t0 = Instant::now();
    while !done(app) {
        assert!(t0.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        app.update();
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Spawns an NPC with the preset at `path` and waits until the preset is loaded.
fn spawn_npc(app: &mut App, path: &str, extra: impl Bundle) -> (Entity, Handle<VoicePreset>) {
    let handle: Handle<VoicePreset> = app.world().resource::<AssetServer>().load(path.to_string());
    let npc = app.world_mut().spawn((Voice(handle.clone()), extra)).id();
    let id = handle.id();
    update_until(app, 120, "the preset to load", |app| app.world().resource::<Assets<VoicePreset>>().contains(id));
    (npc, handle)
}

/// Says `line` and renders it to its end (see `render_line`), failing on any failure.
fn say(app: &mut App, line: SayLine, during: impl FnMut(&mut App, usize)) -> (Vec<f32>, LineFinished) {
    render_line(app, line, Duration::from_secs(180), during).unwrap_or_else(|f| panic!("line failed: {f:?}"))
}

fn channel(mix: &[f32], c: usize) -> Vec<f32> {
    mix.chunks_exact(2).map(|f| f[c]).collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// The same request straight through the engine, read to the end.
fn engine_audio(app: &App, preset: &Handle<VoicePreset>, text: &str, controls: &[(&str, f32)]) -> Vec<f32> {
    let p = app.world().resource::<Assets<VoicePreset>>().get(preset).expect("preset");
    let mut req = Request::text(&p.engine_key, text).options(p.def.options());
    for (n, a) in controls {
        req = req.control(*n, *a);
    }
    let mut h = app.world().resource::<SpeechEngine>().0.speak(req);
    read_to_end(&mut h)
}

#[test]
fn a_line_reaches_the_mixer_as_the_engine_made_it() {
    // At the voice's own rate the mixer does not resample: the mix must equal the engine's PCM.
    let mut app = app(&repo_assets(), 22_050);
    let (npc, preset) = spawn_npc(&mut app, "voices/guard.voice.ron", Emotion::new("excited", 1.0));
    let (mix, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let (left, right) = (channel(&mix, 0), channel(&mix, 1));
    assert_eq!(left, right, "an unplaced, centred speaker is the same on both sides");
    let reference = engine_audio(&app, &preset, S, &[("excited", 1.0), ("questioning", 0.0)]);
    assert_eq!(done.samples as usize, reference.len());
    assert!(left.len() >= reference.len(), "mix {} < line {}", left.len(), reference.len());
    assert!(rms(&reference) > 0.02, "the line is not silent");
    // Two requests, streamed in windows that may differ: equal within the streams' rounding
    // (a gain, a resampling or a dropped block would move samples by far more).
    let diff = max_abs_diff(&left[..reference.len()], &reference);
    assert!(diff <= common::STREAM_ROUNDING, "mix differs from the engine's output by {diff}");
    assert!(left[reference.len()..].iter().all(|v| *v == 0.0), "nothing after the line");
    assert_eq!(done.underruns, 0);
    let seen = app.world().resource::<Seen>();
    assert_eq!(seen.started.len(), 1);
}

#[test]
fn a_line_is_resampled_to_the_output_rate() {
    let mut app = app(&repo_assets(), 48_000);
    let (npc, preset) = spawn_npc(&mut app, "voices/innkeeper.voice.ron", ());
    let (mix, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    // The preset's default α values: excited 0.5, the Scottish dialect 1.
    let reference = engine_audio(&app, &preset, S, &[("excited", 0.5), ("scottish", 1.0)]);
    let mut left = channel(&mix, 0);
    // The mix goes on (silent) until the end was seen: drop that tail.
    left.truncate(left.iter().rposition(|v| *v != 0.0).map_or(0, |i| i + 1));
    let expected = reference.len() as f64 * 48_000.0 / 22_050.0;
    assert!((left.len() as f64 - expected).abs() < 8.0, "{} frames at 48 kHz for {} samples", left.len(), reference.len());
    // The preset's volume_db (−2 dB) applies; loudness otherwise survives resampling.
    let gain = rms(&left) / rms(&reference);
    let expected_gain = 10f32.powf(-2.0 / 20.0);
    assert!((gain / expected_gain - 1.0).abs() < 0.05, "gain {gain}, expected {expected_gain}");
    assert_eq!(done.underruns, 0);
}

#[test]
fn raising_emotion_mid_line_changes_only_what_follows() {
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", Emotion::new("excited", 0.0));
    let (plain, _) = say(&mut app, SayLine::new(npc, M), |_, _| {});
    let plain = channel(&plain, 0);
    let mut raised = false;
    let (steered, done) = say(&mut app, SayLine::new(npc, M), |app, frames| {
        if !raised && frames >= 22_050 {
            app.world_mut().get_mut::<Emotion>(npc).expect("emotion").alpha = 3.0;
            raised = true;
        }
    });
    let steered = channel(&steered, 0);
    let change = applied_with(&app, done.line, ("excited", 3.0)).expect("the new α was applied");
    let at = change.at_sample as usize;
    assert!(at >= 22_050 && at < plain.len() - 22_050, "change at sample {at} of {}", plain.len());
    let before = max_abs_diff(&plain[..at], &steered[..at]);
    // Both streamed, in other windows: equal within the streams' rounding (Winograd's tiles).
    assert!(before <= common::STREAM_ROUNDING, "audio before the change point differs by {before}");
    let n = plain.len().min(steered.len());
    let after = rms(&plain[at..n].iter().zip(&steered[at..n]).map(|(a, b)| a - b).collect::<Vec<_>>());
    assert!(after > 0.2 * rms(&plain[at..n]), "audio after the change point barely changed (rms diff {after})");
}

/// A scratch asset folder: the shipped voice and vectors linked, one preset of our own.
fn scratch_assets(preset: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["voices", "vectors"] {
        std::os::unix::fs::symlink(repo_assets().join(sub), dir.path().join(sub)).expect("symlink");
    }
    std::fs::create_dir(dir.path().join("npcs")).expect("mkdir");
    std::fs::write(dir.path().join("npcs/npc.voice.ron"), preset).expect("write preset");
    dir
}

const PRESET: &str = r#"(
    voice: "voices/en_US-joe-medium.onnx",
    length_scale: 1.0,
    styles: { "excited": (vectors: [(file: "vectors/excited.safetensors")], range: (-1.0, 3.0)) },
)"#;

#[test]
fn edited_presets_apply_to_the_next_line_and_broken_edits_keep_the_last_good_one() {
    let dir = scratch_assets(PRESET);
    let file = dir.path().join("npcs/npc.voice.ron");
    let mut app = app(dir.path(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "npcs/npc.voice.ron", ());
    let (_, first) = say(&mut app, SayLine::new(npc, S), |_, _| {});

    std::fs::write(&file, PRESET.replace("length_scale: 1.0", "length_scale: 1.5")).expect("edit");
    update_until(&mut app, 30, "the edit to be picked up", |app| app.world().resource::<Seen>().modified >= 1);
    let (_, slower) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let ratio = slower.samples as f64 / first.samples as f64;
    assert!(ratio > 1.35 && ratio < 1.65, "length_scale 1.0 → 1.5 changed the length by {ratio}");

    // A syntax error: reported with file, line and column; the 1.5 version stays.
    std::fs::write(&file, PRESET.replace("length_scale: 1.0,", "length_scale: 0.5,,")).expect("break");
    update_until(&mut app, 30, "the preset error", |app| !app.world().resource::<Seen>().preset_errors.is_empty());
    let e = app.world().resource::<Seen>().preset_errors[0].clone();
    assert!(e.path.ends_with("npc.voice.ron"), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    let (_, kept) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    assert_eq!(kept.samples, slower.samples, "a broken edit must keep the last good preset");

    // A missing vector file: named, with the line it is on.
    std::fs::write(&file, PRESET.replace("excited.safetensors", "angry.safetensors")).expect("break");
    let names_it = |e: &PresetError| e.cause.contains("vectors/angry.safetensors");
    update_until(&mut app, 30, "the missing-vector error", |app| app.world().resource::<Seen>().preset_errors.iter().any(names_it));
    let e = app.world().resource::<Seen>().preset_errors.iter().find(|e| names_it(e)).cloned().expect("error");
    assert_eq!(e.line, Some(4), "{e}");
    let (_, kept) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    assert_eq!(kept.samples, slower.samples);
    let syntax = app.world().resource::<Seen>().preset_errors.iter().filter(|e| e.line == Some(3)).count();
    assert_eq!(syntax, 1, "the same failure (however many reloads it took) is reported once");

    // A module group the voice's backbone does not have: named with the groups it has, at the
    // vector's line.
    let bad_group = r#"(file: "vectors/excited.safetensors", groups: ["enc_q"])"#;
    std::fs::write(&file, PRESET.replace(r#"(file: "vectors/excited.safetensors")"#, bad_group)).expect("break");
    let names_it = |e: &PresetError| e.cause.contains("enc_q") && e.cause.contains("known: enc_p");
    update_until(&mut app, 30, "the unknown-group error", |app| app.world().resource::<Seen>().preset_errors.iter().any(names_it));
    let e = app.world().resource::<Seen>().preset_errors.iter().find(|e| names_it(e)).cloned().expect("error");
    assert_eq!(e.line, Some(4), "{e}");

    // An accent espeak-ng does not have: named with the ones it has, at its line.
    std::fs::write(&file, PRESET.replace("length_scale: 1.0,", "length_scale: 1.0,\n    accent: \"martian\",")).expect("break");
    let names_it = |e: &PresetError| e.cause.contains("martian") && e.cause.contains("scottish");
    update_until(&mut app, 30, "the unknown-accent error", |app| app.world().resource::<Seen>().preset_errors.iter().any(names_it));
    let e = app.world().resource::<Seen>().preset_errors.iter().find(|e| names_it(e)).cloned().expect("error");
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn an_edited_preset_alpha_reaches_the_line_in_progress() {
    let dir = scratch_assets(PRESET);
    let mut app = app(dir.path(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "npcs/npc.voice.ron", ());
    let mut edited = false;
    let (_, done) = say(&mut app, SayLine::new(npc, M), |app, frames| {
        if !edited && frames >= 22_050 {
            // Rendering pauses while the edit is picked up; the engine waits (back-pressure).
            let with_alpha = PRESET.replace("range: (-1.0, 3.0))", "range: (-1.0, 3.0), alpha: 3.0)");
            std::fs::write(dir.path().join("npcs/npc.voice.ron"), with_alpha).expect("edit");
            update_until(app, 30, "the edit to be picked up", |app| app.world().resource::<Seen>().modified >= 1);
            edited = true;
        }
    });
    let change = applied_with(&app, done.line, ("excited", 3.0)).expect("the preset's new alpha reached the line in progress");
    assert!(change.at_sample >= 22_050 && change.at_sample < done.samples, "applied at {} of {}", change.at_sample, done.samples);
}

#[test]
fn lines_queue_interrupt_and_stop_on_despawn() {
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", ());
    let first = SayLine::new(npc, M);
    let (first_id, second) = (first.id, SayLine::new(npc, S));
    let second_id = second.id;
    app.world_mut().write_message(first);
    // The second line waits for the first, then an interrupting one cuts the first short.
    let (_, done) = say(&mut app, second, |app, frames| {
        if frames >= 11_025 && app.world().resource::<Seen>().failed.is_empty() {
            let cut = SayLine::new(npc, "Stop right there!").interrupting();
            app.world_mut().write_message(cut);
        }
    });
    assert_eq!(done.line, second_id);
    let seen = app.world().resource::<Seen>();
    assert!(seen.failed.iter().any(|f| f.line == first_id && f.failure == LineFailure::Cancelled), "{:?}", seen.failed);
    let order: Vec<_> = seen.finished.iter().map(|f| f.line).collect();
    assert_eq!(order.len(), 2, "the interrupting line and the second one finish: {order:?}");
    assert_eq!(order[1], second_id, "the queued line plays after the interrupting one");

    // Despawning a speaker cancels its line and silences it.
    let line = SayLine::new(npc, M);
    let id = line.id;
    app.world_mut().write_message(line);
    update_until(&mut app, 60, "the line to start", |app| {
        render_ready(app.world_mut(), 2048);
        app.world().resource::<Seen>().started.iter().any(|s| s.line == id)
    });
    app.world_mut().despawn(npc);
    app.update();
    let seen = app.world().resource::<Seen>();
    assert!(seen.failed.iter().any(|f| f.line == id && f.failure == LineFailure::Cancelled));
    app.update();
    let tail = render_ready(app.world_mut(), 4096);
    assert_eq!(tail.len(), 8192);
    assert!(tail[1024..].iter().all(|v| *v == 0.0), "the despawned speaker is silent after its fade");
}

#[test]
fn placed_speakers_are_heard_from_their_side() {
    let mut app = app(&repo_assets(), 22_050);
    app.world_mut().spawn((SpeechListener, GlobalTransform::IDENTITY));
    let right = GlobalTransform::from_translation(Vec3::new(5.0, 0.0, 0.0));
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", right);
    let (mix, _) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let (l, r) = (rms(&channel(&mix, 0)), rms(&channel(&mix, 1)));
    assert!(r > 2.0 * l && l >= 0.0, "a speaker at +X is louder on the right: L {l}, R {r}");
    assert!(r > 0.005, "and audible: R {r}");
}

#[test]
fn a_mix_that_outruns_synthesis_counts_underruns() {
    // Render as if a sound card pulled audio faster than the engine makes it: the line's sound
    // must play silence where audio is missing, count it, and still end.
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", ());
    let line = SayLine::new(npc, M);
    let id = line.id;
    app.world_mut().write_message(line);
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(180), "the line did not finish");
        app.update();
        if let Some(done) = app.world().resource::<Seen>().finished.iter().find(|f| f.line == id) {
            assert!(done.underruns > 0, "rendering 0.3 s per step outruns synthesis: underruns expected");
            break;
        }
        app.world_mut().resource_mut::<SpeechMixer>().render(6_615);
    }
}

#[test]
fn unplaced_speakers_follow_their_mix_settings() {
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", SpeechMix { volume_db: -6.0, panning: -1.0 });
    // Both renders of the same line, cut to its length (the mix goes on until the end is seen).
    let line = |app: &mut App| {
        let (mix, done) = say(app, SayLine::new(npc, S), |_, _| {});
        mix[..2 * done.samples as usize].to_vec()
    };
    let panned = line(&mut app);
    app.world_mut().entity_mut(npc).insert(SpeechMix::default());
    let centred = line(&mut app);
    let (l, r, c) = (rms(&channel(&panned, 0)), rms(&channel(&panned, 1)), rms(&channel(&centred, 0)));
    assert!(l > 10.0 * r, "panned hard left: L {l}, R {r}");
    // kira's equal-power panning gives √2 on the hard side: −6 dB · √2 ≈ 0.71 of the centred level.
    let ratio = l / c;
    assert!((ratio - 0.501 * 2f32.sqrt()).abs() < 0.03, "−6 dB hard left vs centred: {ratio}");
}

#[test]
fn a_silent_real_time_output_plays_lines_through() {
    // No manual rendering here: the output thread pulls audio in real time, as a sound card would.
    let mut app = app_with(&repo_assets(), AudioOutput::Silent);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", ());
    let line = SayLine::new(npc, S);
    let id = line.id;
    app.world_mut().write_message(line);
    let t0 = Instant::now();
    update_until(&mut app, 60, "the line to start", |app| app.world().resource::<Seen>().started.iter().any(|s| s.line == id));
    // The mixer's first sample was taken after the request and no later than the frame that
    // reported it.
    let (line, at) = app.world().get::<Speech>(npc).and_then(Speech::first_audio_at).expect("a started line has a first sample");
    assert_eq!(line, id);
    assert!(at >= t0 && at <= Instant::now(), "first sample {:?} after the request", at.checked_duration_since(t0));
    update_until(&mut app, 60, "the line to play out", |app| app.world().resource::<Seen>().finished.iter().any(|f| f.line == id));
    let done = app.world().resource::<Seen>().finished.iter().find(|f| f.line == id).cloned().expect("finished");
    let audio_s = done.samples as f64 / done.sample_rate as f64;
    // It cannot end before it has been played in real time.
    assert!(t0.elapsed().as_secs_f64() >= audio_s, "{audio_s:.2} s of audio ended after {:?}", t0.elapsed());
    assert!(app.world().resource::<Seen>().started.iter().any(|s| s.line == id));
}

/// Presets that load at once and name the same voice file share one loaded voice (its weights
/// and their CPU layouts once in memory, not once per preset).
#[test]
fn presets_loading_at_once_share_their_voice() {
    let mut app = app(&repo_assets(), 22_050);
    let names = ["guard", "innkeeper", "traveler"];
    let handles: Vec<Handle<VoicePreset>> = names.iter().map(|n| app.world().resource::<AssetServer>().load(format!("voices/{n}.voice.ron"))).collect();
    update_until(&mut app, 180, "the presets to load", |app| handles.iter().all(|h| app.world().resource::<Assets<VoicePreset>>().contains(h.id())));
    let world = app.world();
    let voices: Vec<_> = handles
        .iter()
        .map(|h| {
            let key = &world.resource::<Assets<VoicePreset>>().get(h).expect("loaded").engine_key;
            world.resource::<SpeechEngine>().0.voice(key).expect("registered").voice.clone()
        })
        .collect();
    for (name, voice) in names.iter().zip(&voices).skip(1) {
        assert!(std::sync::Arc::ptr_eq(voice, &voices[0]), "{name} loaded its own copy of the voice");
    }
}

#[test]
fn emotion_and_dialect_drive_two_styles_independently() {
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", (Emotion::new("excited", 1.5), Dialect::new("questioning", 2.0)));
    let (_, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let first = app.world().resource::<Seen>().applied.iter().find(|a| a.line == done.line).cloned().expect("windows reported");
    assert_eq!(first.at_sample, 0);
    let mut controls = first.controls.clone();
    controls.sort_by(|a, b| a.0.cmp(&b.0));
    // The guard's third style, "angry", stays at its preset α.
    assert_eq!(controls, vec![("angry".to_string(), 0.0), ("excited".to_string(), 1.5), ("questioning".to_string(), 2.0)]);
    // Out of the preset's range (−1, 3): clamped by the engine, not an error.
    app.world_mut().get_mut::<Dialect>(npc).expect("dialect").alpha = 9.0;
    let (_, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let seen = app.world().resource::<Seen>();
    let applied = seen.applied.iter().find(|a| a.line == done.line).expect("windows reported");
    assert!(applied.controls.contains(&("questioning".to_string(), 3.0)), "{:?}", applied.controls);
}

#[test]
fn any_number_of_styles_are_driven_by_name() {
    let preset = r#"(
        voice: "voices/en_US-joe-medium.onnx",
        styles: {
            "excited": (vectors: [(file: "vectors/excited.safetensors")], range: (0.0, 3.0)),
            "questioning": (vectors: [(file: "vectors/questioning.safetensors")], range: (0.0, 3.0)),
            "pleading": (vectors: [(file: "vectors/questioning.safetensors"), (file: "vectors/excited.safetensors")], range: (0.0, 2.0)),
        },
    )"#;
    let dir = scratch_assets(preset);
    let mut app = app(dir.path(), 22_050);
    let styles = Styles::default().with("questioning", 2.0).with("pleading", 5.0).with("excited", 0.5);
    let (npc, _) = spawn_npc(&mut app, "npcs/npc.voice.ron", (Emotion::new("excited", 1.0), styles));
    let (_, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let first = app.world().resource::<Seen>().applied.iter().find(|a| a.line == done.line).cloned().expect("windows reported");
    let mut controls = first.controls.clone();
    controls.sort_by(|a, b| a.0.cmp(&b.0));
    // `Emotion` wins over `Styles` for "excited"; "pleading" is clamped to its range.
    assert_eq!(controls, vec![("excited".to_string(), 1.0), ("pleading".to_string(), 2.0), ("questioning".to_string(), 2.0)]);
    // A changed `Styles` reaches the next line.
    app.world_mut().get_mut::<Styles>(npc).expect("styles").0.insert("pleading".into(), 0.25);
    let (_, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    let applied = app.world().resource::<Seen>().applied.iter().find(|a| a.line == done.line).cloned().expect("windows reported");
    assert!(applied.controls.contains(&("pleading".to_string(), 0.25)), "{:?}", applied.controls);
}

#[test]
fn lip_sync_and_words_follow_the_sample_playing() {
    use tvtts::core::timing::Viseme;
    let mut app = app(&repo_assets(), 22_050);
    let (npc, _) = spawn_npc(&mut app, "voices/guard.voice.ron", LipSync::default());
    let mut mouths: Vec<LipSync> = Vec::new();
    let (_, done) = say(&mut app, SayLine::new(npc, M), |app, _| mouths.push(app.world().get::<LipSync>(npc).expect("mouth").clone()));
    let seen = app.world().resource::<Seen>();
    let words: Vec<&WordSpoken> = seen.words.iter().filter(|w| w.line == done.line).collect();
    let text: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
    assert_eq!(text.join(" "), M.replace([',', '.'], ""), "every word of the text, once, in order");
    assert!(words.iter().enumerate().all(|(i, w)| w.index == i && w.entity == npc));
    // The mouth moves through many shapes while the line plays, always a blend summing to 1.
    let shapes: std::collections::HashSet<Viseme> = mouths.iter().map(|m| m.viseme).collect();
    assert!(shapes.len() >= 6, "{shapes:?}");
    assert!(mouths.iter().all(|m| (m.weights.iter().sum::<f32>() - 1.0).abs() < 1e-4));
    app.update();
    assert_eq!(app.world().get::<LipSync>(npc), Some(&LipSync::default()), "at rest after the line");
}

#[test]
fn a_presets_lexicon_pronounces_its_words_and_a_bad_entry_is_reported() {
    let with_lexicon = PRESET.replace("length_scale: 1.0,", "length_scale: 1.0,\n    lexicon: \"npcs/names.lex\",");
    let dir = scratch_assets(&with_lexicon);
    std::fs::write(dir.path().join("npcs/names.lex"), "# the villain\nZyxthar  zˈɪksθɑːɹ\n").expect("write lexicon");
    let mut app = app(dir.path(), 22_050);
    let (_, preset) = spawn_npc(&mut app, "npcs/npc.voice.ron", ());
    let by_lexicon = engine_audio(&app, &preset, "Zyxthar waits.", &[]);
    let by_markup = engine_audio(&app, &preset, r#"<phoneme ph="zˈɪksθɑːɹ">Zyxthar</phoneme> waits."#, &[]);
    assert_eq!(by_lexicon.len(), by_markup.len());
    assert!(max_abs_diff(&by_lexicon, &by_markup) <= common::STREAM_ROUNDING, "the lexicon's IPA is what is spoken");

    // An entry with a symbol the voice cannot read: the preset error names the lexicon's line.
    std::fs::write(dir.path().join("npcs/names.lex"), "Zyxthar  zˈɪksθɑːɹ\nGlorb  ɡl☃b\n").expect("break");
    std::fs::write(dir.path().join("npcs/npc.voice.ron"), with_lexicon.replace("1.0,", "1.1,")).expect("touch");
    let names_it = |e: &PresetError| e.cause.contains("names.lex:2");
    update_until(&mut app, 30, "the lexicon error", |app| app.world().resource::<Seen>().preset_errors.iter().any(names_it));
}

#[test]
fn baked_lines_play_their_files_and_other_lines_are_synthesized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scene = dir.path().join("scene.txt");
    std::fs::write(&scene, format!("guard: {S}\n")).expect("scene");
    let baked = dir.path().join("baked");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_tvtts"))
        .arg("bake").arg(&scene).arg("--out").arg(&baked).arg("--assets").arg(repo_assets())
        .status().expect("tvtts bake");
    assert!(st.success());
    let manifest = tvtts::plugin::baked::Manifest::read(&baked).expect("manifest");
    let file = baked.join(&manifest.lines[0].audio);
    let wav: Vec<f32> = hound::WavReader::open(&file).unwrap().samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();

    voice_path();
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin { file_path: repo_assets().to_string_lossy().into_owned(), meta_check: AssetMetaCheck::Never, ..default() },
        TvTtsPlugin::default().with_workers(2).with_output(AudioOutput::Manual { sample_rate: 22_050 }).with_baked(&baked),
    ))
    .init_resource::<Seen>()
    .add_systems(Last, record);
    let (npc, preset) = spawn_npc(&mut app, "voices/guard.voice.ron", ());
    let (mix, done) = say(&mut app, SayLine::new(npc, S), |_, _| {});
    assert_eq!(done.samples as usize, wav.len(), "the baked file's length");
    let diff = max_abs_diff(&channel(&mix, 0)[..wav.len()], &wav);
    assert!(diff <= 1e-6, "the mix plays the baked file: differs by {diff}");
    let live = engine_audio(&app, &preset, S, &[]);
    assert!((rms(&wav) / rms(&live) - 1.0).abs() > 0.05, "the baked line is normalised, not the live level");
    assert!(!app.world().resource::<Seen>().words.is_empty(), "words from the baked timing track");

    // A line that was not baked is synthesized.
    let other = "Move along, then.";
    let (_, done) = say(&mut app, SayLine::new(npc, other), |_, _| {});
    assert_eq!(done.samples as usize, engine_audio(&app, &preset, other, &[]).len());
}

#[test]
fn a_presets_lufs_brings_live_lines_to_it() {
    let dir = scratch_assets(&PRESET.replace("length_scale: 1.0,", "length_scale: 1.0,\n    lufs: -18.0,"));
    let mut app = app(dir.path(), 22_050);
    let (_, preset) = spawn_npc(&mut app, "npcs/npc.voice.ron", ());
    let text = "Stay close to the wall, and keep your voice down until we reach the gate.";
    let audio = engine_audio(&app, &preset, text, &[]);
    let lufs = tvtts::core::loudness::measure(&audio, 22_050).unwrap().lufs;
    // One gain per voice from a reference text: a line lands within a couple of LU of it.
    assert!((lufs + 18.0).abs() < 2.0, "a live line at {lufs:.2} LUFS for a -18 target");
    let (_, guard) = spawn_npc(&mut app, "voices/guard.voice.ron", ());
    let plain = engine_audio(&app, &guard, text, &[]);
    let plain_lufs = tvtts::core::loudness::measure(&plain, 22_050).unwrap().lufs;
    assert!((plain_lufs + 18.0).abs() > 2.0, "without `lufs` the model's own level ({plain_lufs:.2}) stays");
}
