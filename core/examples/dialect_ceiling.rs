//! How far can a dialect vector on the early groups go? The ceiling study behind the README's
//! "The early encoder" section (issue: a continuous accent α).
//!
//! ```sh
//! cargo run --release -p tvtts-core --example dialect_ceiling -- ACCENT GROUP STEPS OUT_DIR
//! python3 scripts/measure_dialect.py --rendered OUT_DIR --accent ACCENT
//! python3 scripts/measure_dialect.py --vector OUT_DIR/ACCENT.safetensors --accent ACCENT --deterministic
//! ```
//!
//! The accent's phonemes are aligned to the en-us ones and written into an id sequence of the
//! en-us length ([`tvtts_core::style::accent::accentize`]: a substituted symbol takes its
//! en-us slot, a deleted one leaves a pad, an inserted one takes the pad slot after its left
//! neighbour). That *accentized* sequence is what a vector on the embedding or the early
//! layers could at best turn the en-us one into, position by position.
//!
//! 1. It speaks the held-out sentences (`bench/texts/heldout.txt`, or the file named by
//!    `$HELD_OUT`; noise 0) three ways into OUT_DIR: `accent{i}.wav` (the accent's own
//!    phonemes), `plain{i}.wav` (en-us) and `accentized{i}.wav` — the ceiling.
//! 2. It trains GROUP (`enc_p.emb` or `enc_p.early`) through the encoder's twin for STEPS Adam
//!    steps so that the encoder's output on the en-us ids of 40 training lines equals the
//!    voice's own output on their accentized ids — exact targets, no recordings read — and
//!    writes the deltas as `OUT_DIR/ACCENT.safetensors`. The held-out distance is printed
//!    every 5 steps.
//!
//! Needs espeak-ng (the accents) and the voice from `scripts/setup.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use tvtts_core::learn::twin::{chunked_gradients, EncoderTwin};
use tvtts_core::model::{Backbone, Noise, StyleState};
use tvtts_core::style::accent::{accentize, sentence_pairs};
use tvtts_core::style::format::{Kind, StyleVector};
use tvtts_core::style::groups::Group;
use tvtts_core::{Error, Result, Scales, Voice};

const VOICE: &str = "assets/voices/en_US-joe-medium.onnx";
const TRAIN: &str = "bench/texts/phonemizer_train.txt";
const HELD_OUT: &str = "bench/texts/heldout.txt";
/// Training lines, as many as `vector learn` is asked to learn from.
const LINES: usize = 40;
/// Sentences per graph (candle keeps a gradient for every node of a graph).
const CHUNK: usize = 4;

/// One sentence's (en-us ids, accent ids, accentized ids).
type Triple = (Vec<i64>, Vec<i64>, Vec<i64>);

/// Each sentence of `text` as (en-us ids, accent ids, accentized ids); `None` when the accent
/// splits it into other sentences.
fn sentences(voice: &Voice, accent: &dyn tvtts_core::Phonemizer, text: &str) -> Result<Option<Vec<Triple>>> {
    let Some(pairs) = sentence_pairs(voice, accent, text)? else { return Ok(None) };
    pairs
        .into_iter()
        .map(|(u, a)| {
            let mid = accentize(&u, &a).ok_or_else(|| Error::invalid("dialect_ceiling", "a phoneme with several ids"))?;
            Ok(Some((u.ids, a.ids, mid)))
        })
        .collect::<Result<Option<Vec<_>>>>()
}

/// `model` speaking the id sequences `sentences` at noise 0 into a 16-bit WAV at `path`.
fn speak(model: &Arc<dyn Backbone>, sentences: &[Vec<i64>], sample_rate: u32, path: &Path) -> Result<()> {
    let style = StyleState::plain(model.clone());
    let mut noise = Noise::seeded(0);
    let spec = hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut wav = hound::WavWriter::create(path, spec).map_err(|e| Error::invalid("writing a WAV", format!("{}: {e}", path.display())))?;
    for ids in sentences {
        let p = model.prepare(ids, &[], &Scales::QUIET, &mut noise, &style)?;
        for s in model.run_all(&p.input, &style)?.to_vec1::<f32>()? {
            wav.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).map_err(|e| Error::invalid("writing a WAV", format!("{}: {e}", path.display())))?;
        }
    }
    wav.finalize().map_err(|e| Error::invalid("writing a WAV", format!("{}: {e}", path.display())))
}

fn lines(path: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [accent, group, steps, out] = args.as_slice() else {
        return Err(Error::invalid("dialect_ceiling", "usage: dialect_ceiling ACCENT GROUP STEPS OUT_DIR"));
    };
    let steps: usize = steps.parse().map_err(|_| Error::invalid("dialect_ceiling", format!("STEPS `{steps}` is not a count")))?;
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let voice = Voice::load(VOICE, &Device::Cpu)?;
    let phonemizer = voice.accent_phonemizer(accent)?;
    let model = voice.model.clone();
    let rate = voice.config.audio.sample_rate;

    // 1. The held-out sentences three ways.
    let held = lines(&std::env::var("HELD_OUT").unwrap_or(HELD_OUT.into()))?;
    let mut held_pairs = Vec::new();
    for (i, text) in held.iter().enumerate() {
        let Some(triples) = sentences(&voice, &phonemizer, text)? else { continue };
        let us: Vec<Vec<i64>> = triples.iter().map(|t| t.0.clone()).collect();
        let acc: Vec<Vec<i64>> = triples.iter().map(|t| t.1.clone()).collect();
        let mid: Vec<Vec<i64>> = triples.iter().map(|t| t.2.clone()).collect();
        speak(&model, &acc, rate, &out.join(format!("accent{i}.wav")))?;
        speak(&model, &us, rate, &out.join(format!("plain{i}.wav")))?;
        speak(&model, &mid, rate, &out.join(format!("accentized{i}.wav")))?;
        held_pairs.extend(us.into_iter().zip(mid));
    }
    eprintln!("spoke {} held-out sentences into {}", held.len(), out.display());

    // 2. GROUP trained toward the encoder's output on the accentized ids.
    let def = model.group(group).ok_or_else(|| Error::invalid("dialect_ceiling", format!("the voice has no group `{group}`")))?;
    let trained: Vec<String> = def.params.iter().cloned().collect();
    let base = EncoderTwin::new(model.as_ref(), &[])?;
    let twin = EncoderTwin::new(model.as_ref(), &trained)?;
    let target = |pairs: Vec<(Vec<i64>, Vec<i64>)>| -> Result<Vec<(Vec<i64>, Tensor)>> { pairs.into_iter().map(|(u, z)| Ok((u, base.hidden(&z)?.detach()))).collect() };
    let mut train_pairs = Vec::new();
    for text in lines(TRAIN)?.iter().take(LINES) {
        if let Some(triples) = sentences(&voice, &phonemizer, text)? {
            train_pairs.extend(triples.into_iter().map(|(u, _, z)| (u, z)));
        }
    }
    let (train, held) = (target(train_pairs)?, target(held_pairs)?);
    let positions = |set: &[(Vec<i64>, Tensor)]| set.iter().map(|(u, _)| u.len()).sum::<usize>().max(1) as f64;
    // Mean over positions of ‖x − target‖², normalised by `n` positions.
    let loss = |set: &[(Vec<i64>, Tensor)], n: f64| -> Result<Tensor> {
        let mut total = Tensor::zeros((), DType::F32, &Device::Cpu)?;
        for (ids, t) in set {
            total = (total + (twin.hidden(ids)? - t)?.sqr()?.sum_all()?)?;
        }
        Ok((total / n)?)
    };
    let (n_train, n_held) = (positions(&train), positions(&held));
    eprintln!("distance to the accentized encoder output: training {:.4}, held out {:.4}", loss(&train, n_train)?.to_scalar::<f32>()?, loss(&held, n_held)?.to_scalar::<f32>()?);
    let vars = twin.vars();
    let lr = if group == "enc_p.emb" { 1e-2 } else { 3e-3 };
    let mut opt = AdamW::new(vars.clone(), ParamsAdamW { lr, weight_decay: 0.0, ..Default::default() })?;
    for step in 1..=steps {
        let Some((grads, _)) = chunked_gradients(&vars, &train, CHUNK, |chunk| loss(chunk, n_train))? else { break };
        opt.step(&grads)?;
        if step % 5 == 0 || step == steps {
            eprintln!("step {step}/{steps}: training {:.4}, held out {:.4}", loss(&train, n_train)?.to_scalar::<f32>()?, loss(&held, n_held)?.to_scalar::<f32>()?);
        }
    }
    let description = format!("{group} trained toward the exact {accent} encoder output (a ceiling study, not a shipped vector)");
    let vector = StyleVector::new(Kind::Weights, voice.weights_hash(), vec![Group::new(group)], (0.0, 1.0), description, BTreeMap::from_iter(twin.deltas()?));
    let path = out.join(format!("{accent}.safetensors"));
    vector.save(&path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
