//! Helpers shared by the integration tests: where the setup script puts the voice, and the
//! reference fixtures `scripts/make_reference.py` writes.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use serde::Deserialize;

/// The bundled voice, fetched by `scripts/setup.sh`. Missing → a failure that says what to run.
pub fn voice_path() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/voices/en_US-joe-medium.onnx");
    assert!(p.exists(), "{} is missing: run scripts/setup.sh first", p.display());
    p
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub texts: Vec<RefText>,
    pub voice_sha256: String,
}

#[derive(Debug, Deserialize)]
pub struct RefText {
    pub name: String,
    pub text: String,
    pub sentences: Vec<RefSentence>,
}

#[derive(Debug, Deserialize)]
pub struct RefSentence {
    pub phonemes: String,
    pub ids: Vec<i64>,
    pub num_samples: usize,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `tests/fixtures/reference.json`.
pub fn reference() -> Reference {
    let text = std::fs::read_to_string(fixtures().join("reference.json")).expect("tests/fixtures/reference.json");
    serde_json::from_str(&text).expect("reference.json parses")
}

/// `tests/fixtures/reference.safetensors`: `<name>.<sentence>` → raw reference audio.
pub fn reference_audio() -> HashMap<String, Vec<f32>> {
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(fixtures().join("reference.safetensors"), &Device::Cpu).expect("reference.safetensors");
    tensors.into_iter().map(|(k, t)| (k, t.to_vec1::<f32>().expect("1-D f32"))).collect()
}

/// How far audio streamed in other windows may lie from whole synthesis (or from a stream of
/// other windows): the flow's and decoder's convs run as Winograd's F(4, k) on the CPU, whose
/// rounding depends on the other steps of a tile, which a window's edge moves (measured ≤
/// 1.4e-5; issue 14's bound, and a 16-bit sample's step is 3e-5). Streams of the same windows
/// are the same bits.
#[allow(dead_code)]
pub const STREAM_ROUNDING: f32 = 1e-4;

/// Largest absolute difference of two equally long signals.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Reads a request's audio until it is over (failing after two minutes).
pub fn read_to_end(h: &mut tvtts::core::engine::SpeechHandle) -> Vec<f32> {
    h.read_to_end(std::time::Duration::from_secs(120)).expect("the request ends")
}
