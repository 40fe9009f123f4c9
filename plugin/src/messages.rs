//! Messages in (what to say) and out (how lines went, preset problems).

use std::sync::atomic::{AtomicU64, Ordering};

use bevy::prelude::*;
use tvtts_core::engine::Priority;

/// Identifies one spoken line, from [`SayLine`] to its end message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineId(pub u64);

impl LineId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LineId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Makes `entity` (which has a [`Voice`](crate::Voice)) say `text`. Lines queue per entity and
/// play one after another; `interrupt` cuts the current line and plays this one next.
#[derive(Message, Debug, Clone)]
pub struct SayLine {
    pub entity: Entity,
    pub text: String,
    pub interrupt: bool,
    pub priority: Priority,
    pub id: LineId,
}

impl SayLine {
    /// A queued line at normal priority (its `id` is fresh).
    pub fn new(entity: Entity, text: impl Into<String>) -> Self {
        SayLine { entity, text: text.into(), interrupt: false, priority: Priority::Normal, id: LineId::next() }
    }

    /// Cuts whatever `entity` is saying and plays this next.
    pub fn interrupting(mut self) -> Self {
        self.interrupt = true;
        self
    }

    /// Scheduling priority against other speakers' lines.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }
}

/// A word of the line is being heard (its first sample reached the mixer): for subtitles and
/// karaoke highlighting. `index` counts the line's words from 0; `word` is the text's own (IPA
/// for lines given as phonemes).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct WordSpoken {
    pub entity: Entity,
    pub line: LineId,
    pub word: String,
    pub index: usize,
}

/// The line's first audio reached the mixer.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct LineStarted {
    pub entity: Entity,
    pub line: LineId,
}

/// The line played to its end.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct LineFinished {
    pub entity: Entity,
    pub line: LineId,
    /// Samples at the voice's rate.
    pub samples: u64,
    pub sample_rate: u32,
    /// Audio callbacks that found the line's buffer empty after its first sample.
    pub underruns: u64,
}

/// Why a line ended early.
#[derive(Debug, Clone, PartialEq)]
pub enum LineFailure {
    /// Interrupted by another line, or its speaker was despawned or lost its `Voice`.
    Cancelled,
    /// The engine's queue for its priority was full.
    Dropped,
    /// The engine refused or failed it (bad text, bad α, …), or the preset is broken.
    Error(String),
}

/// The line ended before its end.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct LineFailed {
    pub entity: Entity,
    pub line: LineId,
    pub failure: LineFailure,
}

/// The engine synthesized the line from `at_sample` on with these α values (sent when they change).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct StyleApplied {
    pub entity: Entity,
    pub line: LineId,
    pub at_sample: u64,
    pub controls: Vec<(String, f32)>,
}

/// A preset could not be (re)loaded; the last good version stays active.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct PresetError {
    /// The preset's asset path.
    pub path: String,
    /// 1-based position in the preset, when the problem has one.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub cause: String,
}

impl std::fmt::Display for PresetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.cause),
            _ => write!(f, "{}: {}", self.path, self.cause),
        }
    }
}
