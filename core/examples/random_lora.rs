//! A random LoRA on the text encoder: a learning target whose change lies in the model but in
//! no direction anyone chose (the learning ladder's "recover in-model changes", beside
//! `excited` at α 2 and `--length-scale 1.2`).
//!
//! ```sh
//! cargo run --release -p tvtts-core --example random_lora -- SEED RANK SCALE OUT.safetensors
//! python3 scripts/make_style_data.py --out DIR --style OUT.safetensors=1
//! ```
//!
//! Every dense convolution weight W of `enc_p`'s attention and FFN layers gets factors B·A of
//! rank RANK, A and B Gaussian (seeded by SEED), scaled so that ‖B·A‖ = SCALE·‖W‖ (Frobenius).
//! The vector is an ordinary `lora` file for the bundled voice.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tvtts_core::style::format::{Kind, StyleVector};
use tvtts_core::style::groups::Group;
use tvtts_core::{Error, Result, Voice};

const VOICE: &str = "assets/voices/en_US-joe-medium.onnx";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, rank, scale, out] = args.as_slice() else {
        return Err(Error::invalid("random_lora", "usage: random_lora SEED RANK SCALE OUT.safetensors"));
    };
    let number = |s: &str, what: &'static str| s.parse::<f64>().map_err(|_| Error::invalid(what, format!("`{s}` is not a number")));
    let (seed, rank, scale) = (number(seed, "SEED")? as u64, number(rank, "RANK")? as usize, number(scale, "SCALE")?);
    let voice = Voice::load(VOICE, &Device::Cpu)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0f32, 1.0).expect("a unit normal");
    let mut gauss = |n: usize| -> Vec<f32> { (0..n).map(|_| normal.sample(&mut rng)).collect() };
    let mut names: Vec<&String> = voice
        .model
        .parameters()
        .keys()
        .filter(|p| p.starts_with("enc_p.encoder.") && p.ends_with(".weight") && (p.contains(".conv_") && !p.contains("norm")))
        .collect();
    names.sort();
    let mut tensors = BTreeMap::new();
    for name in names {
        let w = &voice.model.parameters()[name];
        let dims = w.dims().to_vec(); // [out, in, k]
        let (rows, cols) = (dims[0], dims[1..].iter().product::<usize>());
        let a = Tensor::from_vec(gauss(rank * cols), (rank, cols), &Device::Cpu)?;
        let b = Tensor::from_vec(gauss(rows * rank), (rows, rank), &Device::Cpu)?;
        let norm = |t: &Tensor| -> Result<f64> { Ok(t.sqr()?.sum_all()?.to_scalar::<f32>()?.sqrt() as f64) };
        let k = (scale * norm(w)? / norm(&b.matmul(&a)?)?).sqrt();
        tensors.insert(format!("{name}.lora_a"), (a * k)?);
        tensors.insert(format!("{name}.lora_b"), (b * k)?);
    }
    let n = tensors.len() / 2;
    let description = format!("random LoRA on enc_p: rank {rank}, ‖BA‖ = {scale}·‖W‖, seed {seed} (a learning target)");
    let vector = StyleVector { rank: Some(rank), ..StyleVector::new(Kind::Lora, voice.weights_hash(), vec![Group::new("enc_p")], (0.0, 1.0), description, tensors) };
    vector.save(out)?;
    eprintln!("wrote {out}: {n} weights of enc_p");
    Ok(())
}
