//! `tvtts say`: speak into a WAV file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tvtts::core::voice::Input;
use tvtts::core::SynthesisOptions;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["text", "text_file", "phonemes"])))]
pub struct SayArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// Text to speak.
    #[arg(long)]
    pub text: Option<String>,
    /// File with the text to speak (UTF-8).
    #[arg(long)]
    pub text_file: Option<PathBuf>,
    /// IPA phonemes to speak (as printed by `tvtts phonemize`; sentences split after . ? ! and newlines).
    #[arg(long)]
    pub phonemes: Option<String>,
    /// Prior noise (voice default if unset; 0 = deterministic).
    #[arg(long)]
    pub noise_scale: Option<f32>,
    /// Duration multiplier (> 1 is slower).
    #[arg(long)]
    pub length_scale: Option<f32>,
    /// Duration noise (voice default if unset; 0 = deterministic).
    #[arg(long)]
    pub noise_w: Option<f32>,
    /// Speaker id of a multi-speaker voice.
    #[arg(long)]
    pub speaker: Option<usize>,
    /// Seed of the noise: same seed, same audio.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write 32-bit float samples instead of 16-bit PCM.
    #[arg(long)]
    pub float: bool,
    /// Output WAV file.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: SayArgs) -> anyhow::Result<()> {
    let voice = a.voice.load()?;
    let text = match &a.text_file {
        Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("{}: cannot read text file", f.display()))?),
        None => a.text.clone(),
    };
    let input = match (&text, &a.phonemes) {
        (Some(t), _) => Input::Text(t),
        (None, Some(p)) => Input::Phonemes(p),
        (None, None) => anyhow::bail!("give --text, --text-file or --phonemes"),
    };
    let opts = SynthesisOptions {
        noise_scale: a.noise_scale,
        length_scale: a.length_scale,
        noise_w: a.noise_w,
        speaker: a.speaker,
        seed: a.seed,
    };
    let sentences = voice.synthesize(input, &opts)?;
    let audio: Vec<f32> = sentences.iter().flat_map(|s| s.audio.iter().copied()).collect();
    tvtts::write_wav(&a.out, &audio, voice.sample_rate(), a.float)?;
    eprintln!(
        "tvtts: wrote {} ({} sentences, {:.2} s)",
        a.out.display(),
        sentences.len(),
        audio.len() as f64 / voice.sample_rate() as f64
    );
    Ok(())
}
