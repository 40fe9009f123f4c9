//! Models in candle behind one interface, [`Backbone`]: VITS ([`vits`], one file per network
//! part, named after the checkpoint's modules: `enc_p` ([`text_encoder`]), `dp` ([`duration`]),
//! `flow` ([`flow`]), `dec` ([`generator`])) and a tiny test backbone ([`toy`]).
//!
//! A backbone runs the text side once per sentence ([`Backbone::prepare`]) and then its stages
//! over spans of frames ([`Backbone::run_stage`]), which [`stream`] turns into exact streaming.
//! Everything a style changes arrives as one [`StyleState`].

pub mod activations;
pub mod attention;
mod attention_cpu;
pub mod backbone;
pub mod config;
pub mod cpu;
pub mod cpu_amx;
pub mod cpu_conv;
pub mod cpu_level;
pub mod cpu_microkernel;
pub mod cpu_winograd;
pub mod duration;
pub mod flow;
pub mod generator;
pub mod layouts;
pub mod lora;
pub mod modules;
pub mod noise;
pub mod rewrite;
pub mod spline;
pub mod stream;
pub mod style_state;
pub mod text_encoder;
pub mod toy;
pub mod vits;
mod vits_vocab;

pub use backbone::{Backbone, Declared, GroupDef, Prepared, StageSpec, SteerPointDef, TextStart};
pub use config::VitsConfig;
pub use lora::{Adapter, Adapters};
pub use noise::Noise;
pub use crate::scales::Scales;
pub use style_state::{Cond, StyleState};
pub use vits::{Halo, Vits, MAX_FRAMES_PER_PHONEME};
