//! Bevy plugin for tvtts. Empty until the plugin issue: the engine lives in `tvtts-core`.
pub use tvtts_core as core;
