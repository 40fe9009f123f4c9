//! What a caller asks the engine to say.

use crate::voice::{Say, SynthesisOptions};

/// How urgently a line must be heard. Higher priorities are admitted and computed first; within
/// a priority, the stream whose listener would run out of audio first goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    /// A line the player must hear now (dialogue addressed to the player).
    Urgent = 0,
    /// Ordinary dialogue.
    #[default]
    Normal = 1,
    /// Background chatter: served when nothing more urgent needs a worker.
    Ambient = 2,
}

impl Priority {
    /// All priorities, most urgent first.
    pub const ALL: [Priority; 3] = [Priority::Urgent, Priority::Normal, Priority::Ambient];
}

/// One line for one voice.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// A voice added with [`super::Engine::add_voice`], or a path to a Piper `.onnx` file, loaded
    /// on first use and then shared.
    pub voice: String,
    pub say: Say,
    pub options: SynthesisOptions,
    pub priority: Priority,
    /// Live controls and their initial α. Each name must be a control of the voice.
    pub controls: Vec<(String, f32)>,
}

impl Request {
    /// `voice` says `text`, with the voice's default scales, at normal priority.
    pub fn text(voice: impl Into<String>, text: impl Into<String>) -> Self {
        Request::new(voice, Say::Text(text.into()))
    }

    /// `voice` says the IPA `phonemes`.
    pub fn phonemes(voice: impl Into<String>, phonemes: impl Into<String>) -> Self {
        Request::new(voice, Say::Phonemes(phonemes.into()))
    }

    /// `voice` says `say`, with the voice's default scales, at normal priority.
    pub fn new(voice: impl Into<String>, say: Say) -> Self {
        Request { voice: voice.into(), say, options: SynthesisOptions::default(), priority: Priority::Normal, controls: Vec::new() }
    }

    /// With these synthesis scales, speaker and seed.
    pub fn options(mut self, options: SynthesisOptions) -> Self {
        self.options = options;
        self
    }

    /// At this priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// With the live control `name` starting at `alpha`.
    pub fn control(mut self, name: impl Into<String>, alpha: f32) -> Self {
        self.controls.push((name.into(), alpha));
        self
    }
}
