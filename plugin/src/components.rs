//! Components a game puts on its NPCs (and on the entity that hears them).

use bevy::prelude::*;

use crate::loader::VoicePreset;
use crate::speech::Speech;

/// The voice an NPC speaks with: a `*.voice.ron` preset. Brings a [`Speech`] (its line queue).
#[derive(Component, Debug, Clone)]
#[require(Speech)]
pub struct Voice(pub Handle<VoicePreset>);

/// Selects one of the preset's styles by name and drives its α live. Changing `alpha` (or
/// `name`) while a line plays changes the rest of that line, from the next synthesized window.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct Emotion {
    pub name: String,
    pub alpha: f32,
}

/// Like [`Emotion`], for a second, independent style (an accent, a dialect). Both may be set.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct Dialect {
    pub name: String,
    pub alpha: f32,
}

impl Emotion {
    /// The style `name` at `alpha`.
    pub fn new(name: impl Into<String>, alpha: f32) -> Self {
        Emotion { name: name.into(), alpha }
    }
}

impl Dialect {
    /// The style `name` at `alpha`.
    pub fn new(name: impl Into<String>, alpha: f32) -> Self {
        Dialect { name: name.into(), alpha }
    }
}

/// Mixer settings of one speaker, on top of its preset's `volume_db`. `panning` (−1 left … 1
/// right) applies to speakers without a `GlobalTransform`; placed speakers are panned by position.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct SpeechMix {
    pub volume_db: f32,
    pub panning: f32,
}

impl Default for SpeechMix {
    fn default() -> Self {
        SpeechMix { volume_db: 0.0, panning: 0.0 }
    }
}

/// Marks the entity whose `GlobalTransform` is the listener's ears (usually the camera).
/// Without one the listener stays at the origin, facing −Z.
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct SpeechListener;
