//! The tavern, in a window: three NPCs placed left, centre and right of the listener (the
//! camera) speak the scripted scene through the plugin, live.
//!
//! `cargo run --release --features windowed --example tavern`
//!
//! Keys: Space — next line of the scene; Tab — select the next NPC; Up/Down — raise/lower the
//! selected NPC's `excited` α by 0.25 (a line in progress follows from its next window);
//! Enter — the selected NPC interrupts with a line of its own; C — a mug clink played through
//! bevy_kira_audio, next to the speech (two mixers, one game). Edit `assets/voices/*.voice.ron`
//! while it runs: the next line uses the new preset; a broken edit is shown and the old one stays.

#[path = "common/tavern.rs"]
mod tavern;

use std::sync::Arc;

use bevy::asset::AssetPlugin;
use bevy::prelude::*;
use bevy_kira_audio::prelude::{Audio, AudioControl, AudioPlugin, AudioSource, Frame, StaticSoundData, StaticSoundSettings};
use tvtts::plugin::prelude::*;
use tvtts::plugin::SpatialSettings;

/// Screen pixels per world unit (NPC markers are drawn from their `Transform`).
const PIXELS_PER_UNIT: f32 = 60.0;
const ALPHA_STEP: f32 = 0.25;

#[derive(Resource)]
struct Scene {
    lines: Vec<tavern::Line>,
    next: usize,
    cast: Vec<(String, Entity)>,
    selected: usize,
    clink: Handle<AudioSource>,
    log: Vec<String>,
}

#[derive(Component)]
struct Status;

fn main() -> anyhow::Result<()> {
    let lines = tavern::read_script(&tavern::assets_dir().join("scenes/tavern.txt"))?;
    let assets = AssetPlugin {
        file_path: tavern::assets_dir().to_string_lossy().into_owned(),
        watch_for_changes_override: Some(true),
        ..default()
    };
    let speech = TvTtsPlugin { spatial: SpatialSettings { min_distance: 2.0, max_distance: 20.0, strength: 0.8 }, ..default() };
    App::new()
        .add_plugins((DefaultPlugins.set(assets), AudioPlugin, speech))
        .insert_resource(Lines(Some(lines)))
        .add_systems(Startup, setup)
        .add_systems(Update, (keys, follow_lines, draw).chain())
        .run();
    Ok(())
}

/// The script until `setup` takes it.
#[derive(Resource)]
struct Lines(Option<Vec<tavern::Line>>);

fn setup(world: &mut World) {
    let lines = world.resource_mut::<Lines>().0.take().unwrap_or_default();
    world.spawn(Camera2d);
    let cast = tavern::spawn_cast(world, &lines);
    for (name, npc) in &cast {
        world.entity_mut(*npc).insert(Emotion::new("excited", 0.0));
        let at = tavern::position(name);
        world.spawn((
            Text::new(name.clone()),
            Node {
                position_type: PositionType::Absolute,
                left: Val::Percent(50.0 + at.x * PIXELS_PER_UNIT / 12.0),
                top: Val::Percent(75.0 + at.z * 4.0),
                ..default()
            },
        ));
    }
    world.spawn((
        Text::new(""),
        Status,
        Node { position_type: PositionType::Absolute, left: Val::Px(12.0), top: Val::Px(12.0), ..default() },
    ));
    let clink = world.resource_mut::<Assets<AudioSource>>().add(AudioSource { sound: clink_sound() });
    world.insert_resource(Scene { lines, next: 0, cast, selected: 0, clink, log: Vec::new() });
}

/// A short synthetic "clink": two decaying partials.
fn clink_sound() -> StaticSoundData {
    let rate = 48_000;
    let frames: Vec<Frame> = (0..rate / 3)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let v = 0.25 * (-t * 18.0).exp() * ((t * 2_637.0 * std::f32::consts::TAU).sin() + 0.6 * (t * 3_951.0 * std::f32::consts::TAU).sin());
            Frame::from_mono(v)
        })
        .collect();
    StaticSoundData { sample_rate: rate, frames: Arc::from(frames), settings: StaticSoundSettings::default(), slice: None }
}

fn keys(
    input: Res<ButtonInput<KeyCode>>,
    mut scene: ResMut<Scene>,
    mut emotions: Query<&mut Emotion>,
    mut say: MessageWriter<SayLine>,
    audio: Res<Audio>,
) {
    let scene = &mut *scene;
    if scene.cast.is_empty() {
        return;
    }
    if input.just_pressed(KeyCode::Tab) {
        scene.selected = (scene.selected + 1) % scene.cast.len();
    }
    let (name, npc) = scene.cast[scene.selected].clone();
    let step = match (input.just_pressed(KeyCode::ArrowUp), input.just_pressed(KeyCode::ArrowDown)) {
        (true, false) => ALPHA_STEP,
        (false, true) => -ALPHA_STEP,
        _ => 0.0,
    };
    if step != 0.0 {
        if let Ok(mut e) = emotions.get_mut(npc) {
            e.alpha = (e.alpha + step).clamp(-1.0, 3.0);
            scene.log.push(format!("{name}: excited alpha {:.2}", e.alpha));
        }
    }
    if input.just_pressed(KeyCode::Space) {
        if let Some(line) = scene.lines.get(scene.next) {
            if let Some((_, who)) = scene.cast.iter().find(|(n, _)| *n == line.speaker) {
                say.write(SayLine::new(*who, line.text.clone()));
            }
            scene.next = (scene.next + 1) % scene.lines.len();
        }
    }
    if input.just_pressed(KeyCode::Enter) {
        say.write(SayLine::new(npc, "Now hold on a moment, everyone, listen to me!").interrupting());
    }
    if input.just_pressed(KeyCode::KeyC) {
        audio.play(scene.clink.clone());
    }
}

fn follow_lines(
    mut scene: ResMut<Scene>,
    names: Query<&Name>,
    mut started: MessageReader<LineStarted>,
    mut finished: MessageReader<LineFinished>,
    mut failed: MessageReader<LineFailed>,
    mut errors: MessageReader<PresetError>,
) {
    let name = |e: Entity| names.get(e).map_or_else(|_| format!("{e}"), |n| n.to_string());
    let mut log: Vec<String> = started.read().map(|s| format!("{} speaks", name(s.entity))).collect();
    log.extend(finished.read().map(|f| format!("{} done ({} underruns)", name(f.entity), f.underruns)));
    log.extend(failed.read().map(|f| format!("{}: line ended: {:?}", name(f.entity), f.failure)));
    log.extend(errors.read().map(|e| format!("PRESET ERROR {e} (old preset kept)")));
    scene.log.extend(log);
    let excess = scene.log.len().saturating_sub(8);
    scene.log.drain(..excess);
}

fn draw(scene: Res<Scene>, emotions: Query<&Emotion>, mut status: Query<&mut Text, With<Status>>) {
    let Ok(mut text) = status.single_mut() else { return };
    let mut s = String::from("Space: next line   Tab: select   Up/Down: excited alpha   Enter: interrupt   C: clink\n\n");
    for (i, (name, npc)) in scene.cast.iter().enumerate() {
        let alpha = emotions.get(*npc).map_or(0.0, |e| e.alpha);
        let mark = if i == scene.selected { ">" } else { " " };
        s += &format!("{mark} {name:<10} excited alpha {alpha:+.2}\n");
    }
    if let Some(line) = scene.lines.get(scene.next) {
        s += &format!("\nnext: {}: {}\n\n", line.speaker, line.text);
    }
    for l in &scene.log {
        s += &format!("{l}\n");
    }
    text.0 = s;
}
