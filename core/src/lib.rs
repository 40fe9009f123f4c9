//! `tvtts-core`: the tvtts engine. Loads Piper (VITS) voices from their `.onnx` + `.onnx.json`,
//! runs them natively in candle, and turns text into phonemes the way Piper does.
//!
//! Layers, each importing only the ones below it (see `docs/architecture.md`):
//! `engine`, `learn` → `style` → `voice` → `model` (backbones) → `checkpoint`, `phonemize`, `timing`,
//! `config`, `scales`, `error`.
//!
//! No Bevy here: the game-engine side lives in `tvtts-plugin`.

pub mod checkpoint;
pub mod config;
pub mod device;
pub mod engine;
pub mod error;
pub mod learn;
pub mod line;
pub mod loudness;
pub mod markup;
pub mod memory;
pub mod model;
pub mod phonemize;
pub mod scales;
pub mod style;
pub mod threads;
pub mod timing;
pub mod voice;

pub use error::{Error, Result};
pub use phonemize::Phonemizer;
pub use scales::Scales;
pub use voice::{Say, SynthesisOptions, Voice};
