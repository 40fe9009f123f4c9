//! Components a game puts on its NPCs (and on the entity that hears them), besides
//! [`crate::speech::Voice`]: which styles they speak in, their mix, the listener.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use bevy::prelude::*;


/// Drives one of the preset's styles live: its name and α. Changing `alpha` (or `name`) while a
/// line plays changes the rest of that line, from the next synthesized window. [`Emotion`] and
/// [`Dialect`] are two of these, so an NPC can carry both; [`Styles`] drives any number.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct StyleSlot<R: StyleRole> {
    pub name: String,
    pub alpha: f32,
    role: PhantomData<R>,
}

/// What a [`StyleSlot`] is for (its name in warnings).
pub trait StyleRole: Send + Sync + 'static {
    const ROLE: &'static str;
}

/// Marker of [`Emotion`].
#[derive(Debug, Clone, PartialEq)]
pub struct EmotionRole;
/// Marker of [`Dialect`].
#[derive(Debug, Clone, PartialEq)]
pub struct DialectRole;

impl StyleRole for EmotionRole {
    const ROLE: &'static str = "Emotion";
}
impl StyleRole for DialectRole {
    const ROLE: &'static str = "Dialect";
}

/// An emotion (a preset style like "excited") at α.
pub type Emotion = StyleSlot<EmotionRole>;
/// A second, independent style (an accent, a dialect) at α.
pub type Dialect = StyleSlot<DialectRole>;

impl<R: StyleRole> StyleSlot<R> {
    /// The style `name` at `alpha`.
    pub fn new(name: impl Into<String>, alpha: f32) -> Self {
        StyleSlot { name: name.into(), alpha, role: PhantomData }
    }
}

/// Any number of the preset's styles by name, each at its α (for presets with more styles than
/// an emotion and a dialect). Where an [`Emotion`] or [`Dialect`] names the same style, that
/// one wins.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct Styles(pub BTreeMap<String, f32>);

impl Styles {
    /// With style `name` at `alpha`.
    pub fn with(mut self, name: impl Into<String>, alpha: f32) -> Self {
        self.0.insert(name.into(), alpha);
        self
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
