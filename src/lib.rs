//! tvtts: neural voices for game characters. Re-exports the engine and the Bevy plugin.
pub use tvtts_core as core;
pub use tvtts_core::*;
pub use tvtts_plugin as plugin;
