//! `tvtts params`: every parameter of a voice by its stable checkpoint name, with its shape.

use anyhow::Context;
use clap::Args;
use tvtts::core::checkpoint::Checkpoint;
use tvtts::core::model::VitsConfig;

#[derive(Args, Debug)]
pub struct ParamsArgs {
    /// Piper voice `.onnx` file.
    #[arg(long)]
    pub voice: std::path::PathBuf,
}

pub fn run(a: ParamsArgs) -> anyhow::Result<()> {
    let ckpt = Checkpoint::from_onnx_file(&a.voice).with_context(|| format!("cannot read {}", a.voice.display()))?;
    let config = VitsConfig::infer(&ckpt)?;
    let mut total = 0;
    for (name, shape) in config.parameter_shapes() {
        total += shape.iter().product::<usize>();
        println!("{name}\t{shape:?}");
    }
    eprintln!("{total} parameters");
    Ok(())
}
