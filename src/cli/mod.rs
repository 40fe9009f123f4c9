//! The `tvtts` subcommands, one file each, and the options they share.

pub mod bake;
pub mod bench;
pub mod bench_stream;
pub mod params;
pub mod phonemize;
pub mod playback;
pub mod say;
pub mod timings;
pub mod vector;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tvtts::core::Voice;

/// Where the voice is and what runs it.
#[derive(Args, Debug, Clone)]
pub struct VoiceArgs {
    /// Piper voice `.onnx` file (its config is the `.onnx.json` beside it).
    #[arg(long)]
    pub voice: PathBuf,
    /// CPU threads for the model's kernels (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// `cpu`, or `cuda` / `cuda:N` when built with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Text → phonemes with `espeak` (espeak-ng, GPL; the default when built in) or `builtin`
    /// (CMU dictionary + g2p_en model, no GPL; the default without the `espeak` feature).
    #[arg(long)]
    pub phonemizer: Option<String>,
    /// Read text in an English accent: us, nyc, rp, scottish, lancastrian, west-midlands,
    /// caribbean (espeak-ng's accent voices; symbols the voice never learned are mapped to the
    /// nearest learned ones). Needs espeak-ng.
    #[arg(long)]
    pub accent: Option<String>,
}

impl VoiceArgs {
    /// Sets the thread count and loads the voice.
    pub fn load(&self) -> anyhow::Result<Voice> {
        if let Some(t) = self.threads {
            anyhow::ensure!(t > 0, "--threads must be at least 1");
            tvtts::threads::set_kernel_threads(t);
        }
        let device = tvtts::core::device::parse(&self.device)?;
        let mut voice = Voice::load(&self.voice, &device).with_context(|| format!("cannot load voice {}", self.voice.display()))?;
        if let Some(name) = &self.phonemizer {
            voice.set_phonemizer(tvtts::core::phonemize::Kind::parse(name)?)?;
        }
        if let Some(name) = &self.accent {
            voice.set_accent(name)?;
        }
        Ok(voice)
    }
}
