//! tvtts: neural voices for game characters. Re-exports the engine (`tvtts-core`) and the Bevy
//! plugin (`tvtts-plugin`), and adds small conveniences shared by the CLI and the examples.

pub use tvtts_core as core;
pub use tvtts_core::*;
pub use tvtts_plugin as plugin;

pub mod scene;
mod wav;
pub use wav::write_wav;
