//! Style vectors: directions in a voice's weight, speaker or activation space, scaled live by α.
//!
//! - [`format`](mod@format): the file (safetensors + metadata), its kinds and validation against a voice;
//! - [`groups`]: the module groups a vector may touch;
//! - [`steer`]: activation steering, h' = h + Σ αᵢ·vᵢ, applied window by window.

pub mod build;
pub mod delta;
pub mod format;
pub mod groups;
pub mod lora;
pub mod steer;

pub use format::{Kind, StyleVector};
pub use groups::Group;
pub use steer::{SteerPoint, Steering};
