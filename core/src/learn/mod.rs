//! Learning a style vector from recordings (`tvtts vector learn`): a studio's lines of a
//! character in one style, against the voice speaking the same transcripts.
//!
//! - [`data`]: the training set (LJSpeech / Piper layout), read and checked;
//! - [`prosody`]: pitch, range, duration and level of an utterance;
//! - [`render`]: the voice speaking the transcripts with the same noise for every candidate;
//! - [`direction`]: the voice's own pitch direction in prior-mean space;
//! - [`mel`], [`spectral`]: log-mel spectra, and the prior direction along which the
//!   recordings' spectra differ from the voice's (`steer` vectors);
//! - [`knobs`]: the weight deltas (linear in α) that move each cue;
//! - [`fit`]: finding the knob values that reproduce the recordings' cues;
//! - [`phones`], [`dialect`]: which vowels the recordings say in place of the voice's own,
//!   heard by speaking each candidate, counted per context into a `rewrite` vector (a dialect);
//! - [`align`], [`twin`], [`segmental`]: the early text encoder (phoneme embedding, first
//!   layers) learned by gradient through a differentiable twin of `enc_p`, toward the prior
//!   the recordings' aligned spectra imply (an accent's sounds).
//!
//! What is learned is the prosody of the recordings relative to the voice — pitch level and
//! range, tempo, level — and, with `enc_p.early`, their sounds as the prior expresses them;
//! not their timbre: the voice's decoder and flow stay as they are.

pub mod align;
pub mod data;
pub mod dialect;
pub mod direction;
pub mod fit;
pub mod knobs;
pub mod mel;
pub mod phones;
pub mod prosody;
pub mod render;
pub mod segmental;
pub mod spectral;
pub mod twin;

pub use data::DataSet;
pub use fit::{learn, Learned, Options};
