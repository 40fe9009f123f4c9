//! `tvtts params`: every parameter of a voice by its stable checkpoint name, with its shape, and
//! the style vocabulary its backbone declares (module groups, steering points).

use clap::Args;

#[derive(Args, Debug)]
pub struct ParamsArgs {
    #[command(flatten)]
    pub voice: super::VoiceArgs,
}

pub fn run(a: ParamsArgs) -> anyhow::Result<()> {
    let voice = a.voice.load()?;
    let model = voice.model.as_ref();
    let mut params: Vec<(&String, &[usize])> = model.parameters().iter().map(|(n, t)| (n, t.dims())).collect();
    params.sort();
    let mut total = 0;
    for (name, shape) in params {
        total += shape.iter().product::<usize>();
        println!("{name}\t{shape:?}");
    }
    eprintln!("{total} parameters ({} backbone)", model.family());
    for g in model.groups() {
        eprintln!("group {}\t{} parameters\t{}", g.name, g.params.len(), g.about);
    }
    for p in model.steer_points() {
        eprintln!("steering point {}\t[{}] at the input of stage {}\tgroups {}\t{}", p.name, p.channels, p.stage, p.groups.join(","), p.about);
    }
    Ok(())
}
