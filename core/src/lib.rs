//! `tvtts-core`: the tvtts engine. Loads Piper (VITS) voices from their `.onnx` + `.onnx.json`,
//! runs them natively in candle, and turns text into phonemes the way Piper does.
//!
//! No Bevy here: the game-engine side lives in `tvtts-plugin`.

pub mod checkpoint;
pub mod config;
pub mod device;
pub mod engine;
pub mod error;
pub mod memory;
pub mod model;
pub mod phonemize;
pub mod style;
pub mod threads;
pub mod voice;

pub use error::{Error, Result};
pub use phonemize::Phonemizer;
pub use voice::{SynthesisOptions, Voice};
