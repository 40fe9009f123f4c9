//! Speech into a kira mixer: the streaming sound, the mixer that owns the tracks, and a
//! sound-card-free backend.

pub mod capture;
pub mod mixer;
pub mod null;
pub mod sound;

pub use capture::CaptureBackend;
pub use null::NullBackend;
pub use mixer::{AudioOutput, SpatialSettings, SpeechMixer};
pub use sound::{LineSoundData, Playback};
