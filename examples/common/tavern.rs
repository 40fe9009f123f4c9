//! The tavern scene shared by `tavern` (windowed) and `tavern_headless`: its script, and where
//! each character stands and with which preset.

// Each example uses part of this module.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

use bevy::prelude::*;
use tvtts::plugin::prelude::*;

pub use tvtts::scene::{read_script, Line};

/// Where a character stands (the listener is at the origin, facing −Z).
pub fn position(speaker: &str) -> Vec3 {
    match speaker {
        "guard" => Vec3::new(4.0, 0.0, -3.0),
        "innkeeper" => Vec3::new(-4.0, 0.0, -2.0),
        _ => Vec3::new(0.0, 0.0, -2.0),
    }
}

/// Spawns every speaker of `lines` once, placed, with `voices/<speaker>.voice.ron`, and a
/// listener at the origin. Returns (name, entity) per speaker.
pub fn spawn_cast(world: &mut World, lines: &[Line]) -> Vec<(String, Entity)> {
    world.spawn((SpeechListener, Transform::IDENTITY, GlobalTransform::IDENTITY));
    let mut cast: Vec<(String, Entity)> = Vec::new();
    for line in lines {
        if cast.iter().any(|(n, _)| *n == line.speaker) {
            continue;
        }
        let at = position(&line.speaker);
        let preset = world.resource::<AssetServer>().load(format!("voices/{}.voice.ron", line.speaker));
        let npc = world
            .spawn((
                Name::new(line.speaker.clone()),
                Voice(preset),
                Transform::from_translation(at),
                GlobalTransform::from_translation(at),
            ))
            .id();
        cast.push((line.speaker.clone(), npc));
    }
    cast
}

/// The repository's `assets/` (examples run from anywhere).
pub fn assets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}
