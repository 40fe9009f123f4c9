//! Style vectors: directions in a voice's weight, speaker or activation space, scaled live by α.
//!
//! - [`format`](mod@format): the file (safetensors + metadata), its kinds, its α range and
//!   validation against a voice;
//! - [`groups`]: the module groups (the backbone's) a vector may touch;
//! - [`delta`]: weight-space task vectors and their LoRA form;
//! - [`build`]: vectors made from the voice itself (steering, speaker centroids);
//! - [`palette`]: a voice's named controls, resolved once, and the [`crate::model::StyleState`]
//!   they make at given α.

pub mod accent;
pub mod build;
pub mod delta;
pub mod format;
pub mod groups;
pub mod palette;

pub use format::{Kind, StyleVector};
pub use groups::Group;
pub use palette::{finite_alpha, BoundStyle, ControlId, ControlSpec, Palette};
