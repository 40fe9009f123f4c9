//! `tvtts phonemize`: text → IPA phonemes, one sentence per line.

use clap::Args;
use tvtts::core::Say;

#[derive(Args, Debug)]
pub struct PhonemizeArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
    /// The text to phonemize.
    #[arg(long, allow_hyphen_values = true)]
    pub text: String,
    /// Also print each sentence's phoneme ids (tab-separated after the phonemes).
    #[arg(long)]
    pub ids: bool,
}

pub fn run(a: PhonemizeArgs) -> anyhow::Result<()> {
    let voice = a.voice.load()?;
    for sentence in voice.phonemize(&Say::text(a.text.as_str()))? {
        if a.ids {
            let ids = voice.ids.ids(&sentence).ids;
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            println!("{sentence}\t{}", ids.join(","));
        } else {
            println!("{sentence}");
        }
    }
    Ok(())
}
