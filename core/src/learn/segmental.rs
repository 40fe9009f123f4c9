//! Learning the early text-encoder weights from recordings (`--groups enc_p.early`): how the
//! recordings' sounds differ from the voice's — an accent's vowels and consonants — not only
//! their prosody. HE-Vector puts dialect in these early groups.
//!
//! 1. The voice speaks every transcript, and a [`SpectralMap`] (log-mel context → prior mean
//!    m_p of the frame) is fitted on its renderings. Regressing m_p rather than the flow input
//!    leaves the prior's noise out of the map (R² 0.88 against 0.56 on 40 lines).
//! 2. Each recording is aligned to the voice's rendering of its transcript by DTW on log-mel.
//! 3. Each phoneme of the rendering gets a target prior mean: its own m_p plus the mean change
//!    the map reads between the recording's aligned frames and the rendering's own frames (what
//!    the map gets wrong about both cancels).
//! 4. The deltas of the group's parameters (`enc_p.emb`: the phoneme embedding alone;
//!    `enc_p.early`: it and the first encoder layers) are fitted with Adam through the encoder's differentiable twin ([`EncoderTwin`], candle's
//!    autograd): the frame-weighted mean squared distance of m_p to the targets, with weight
//!    decay pulling the deltas toward the voice. Every eighth line is held out; the deltas of
//!    the step with the lowest held-out loss are kept.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::align::dtw;
use super::mel::log_mel;
use super::render::Lines;
use super::spectral::{SpectralMap, Spoken};
use super::twin::{chunked_gradients, EncoderTwin};
use crate::error::{Error, Result};
use crate::model::Backbone;
use crate::scales::Scales;

/// The module groups this learner trains: the phoneme embedding alone, or it and the first
/// encoder layers.
pub const GROUPS: [&str; 2] = ["enc_p.emb", "enc_p.early"];
/// Adam's decoupled weight decay (per step, relative to the step size).
const WEIGHT_DECAY: f64 = 0.05;

/// Adam's step size for `group`. Each embedding row moves only by its own symbol's gradient,
/// so the embedding alone takes larger steps than the layers, which every position moves.
fn learning_rate(group: &str) -> f64 {
    if group == "enc_p.emb" {
        1e-2
    } else {
        1e-3
    }
}
/// Sentences whose gradient is taken in one graph.
const CHUNK: usize = 4;
/// Every `HOLD_OUT`-th used line judges the steps instead of training.
const HOLD_OUT: usize = 8;

/// One sentence's targets: its ids, the target prior mean `[inter, t]` and each id's frames
/// `[t]` (its weight in the loss).
struct SentenceTarget {
    ids: Vec<i64>,
    target: Tensor,
    frames: Tensor,
}

/// The learned deltas by checkpoint path, and the training and held-out loss before and after.
#[derive(Debug, Clone)]
pub struct Segmental {
    pub deltas: BTreeMap<String, Tensor>,
    /// (train, held-out) mean squared distance of m_p to its targets with no deltas, and with
    /// the kept ones.
    pub before: (f32, f32),
    pub after: (f32, f32),
}

/// Learns deltas of the parameters of `model`'s group `group` (one of [`GROUPS`]) so that its
/// prior means move toward what `recordings` (line k's at the voice's rate) say of `lines`;
/// `used` are the lines taken.
#[allow(clippy::too_many_arguments)]
pub fn fit_segmental(
    model: &Arc<dyn Backbone>,
    group: &str,
    lines: &Lines,
    recordings: &[&[f32]],
    used: &[usize],
    scales: &Scales,
    sample_rate: u32,
    steps: usize,
    progress: &mut dyn FnMut(&str),
    stop: &dyn Fn() -> Result<()>,
) -> Result<Segmental> {
    let hop = model.samples_per_frame();
    // 1. The voice's renderings, and the map fitted on them.
    let def = model.group(group).ok_or_else(|| Error::invalid("vector learn", format!("the voice has no group `{group}`")))?;
    let trained: Vec<String> = def.params.iter().cloned().collect();
    let twin = EncoderTwin::new(model.as_ref(), &trained)?;
    let mut spoken: Vec<Spoken> = Vec::new();
    let mut frames_of: Vec<Vec<Vec<usize>>> = Vec::new(); // [line][sentence][id]
    let mut means: Vec<Vec<Vec<Vec<f32>>>> = Vec::new(); // [line][sentence] m_p [t][inter]
    for &k in used {
        stop()?;
        let (audio, prepared) = lines.speak(model, None, scales, k)?;
        let mut rows = Vec::new(); // each frame's m_p [frames][inter]
        let mut line_means = Vec::new();
        for (ids, p) in lines.sentences[k].iter().zip(&prepared) {
            if ids.len() != p.frames.len() {
                return Err(Error::invalid("vector learn", "the voice's timing track does not match its ids"));
            }
            let per_id = twin.forward(ids)?.t()?.to_vec2::<f32>()?; // [t, inter]
            for (row, &n) in per_id.iter().zip(&p.frames) {
                rows.extend(std::iter::repeat_n(row.clone(), n));
            }
            line_means.push(per_id);
        }
        spoken.push((log_mel(&audio, sample_rate, hop, rows.len()), rows));
        frames_of.push(prepared.into_iter().map(|p| p.frames).collect());
        means.push(line_means);
    }
    progress("mapping the voice's spectra to its prior");
    let map = SpectralMap::fit(&spoken, stop)?;

    // 2–3. Per line: align, then each id's mean change of the map's reading.
    let mut train = Vec::new();
    let mut held = Vec::new();
    for (u, &k) in used.iter().enumerate() {
        stop()?;
        let (mel, _) = &spoken[u];
        let rec = log_mel(recordings[k], sample_rate, hop, recordings[k].len() / hop);
        if rec.is_empty() {
            continue;
        }
        let (z_base, z_rec) = (map.predict(mel), map.predict(&rec));
        let inter = z_base.first().map(Vec::len).unwrap_or(0);
        // change[i]: mean map reading of the recording's frames aligned with frame i, minus
        // the rendering's own.
        let mut change = vec![vec![0f32; inter]; mel.len()];
        let mut count = vec![0usize; mel.len()];
        for (i, j) in dtw(mel, &rec) {
            for (c, z) in change[i].iter_mut().zip(&z_rec[j]) {
                *c += z;
            }
            count[i] += 1;
        }
        for (i, c) in change.iter_mut().enumerate() {
            for (v, b) in c.iter_mut().zip(&z_base[i]) {
                *v = *v / count[i].max(1) as f32 - b;
            }
        }
        let mut at = 0;
        for ((ids, frames), m0) in lines.sentences[k].iter().zip(&frames_of[u]).zip(&means[u]) {
            let mut target = Vec::with_capacity(ids.len() * inter);
            for (p, &n) in frames.iter().enumerate() {
                let mut mean = vec![0f32; inter];
                for c in change.iter().skip(at).take(n) {
                    for (m, v) in mean.iter_mut().zip(c) {
                        *m += v / n as f32;
                    }
                }
                target.extend(m0[p].iter().zip(&mean).map(|(a, b)| a + b));
                at += n;
            }
            let t = ids.len();
            let st = SentenceTarget {
                ids: ids.clone(),
                target: Tensor::from_vec(target, (t, inter), &Device::Cpu)?.t()?.contiguous()?,
                frames: Tensor::from_vec(frames.iter().map(|&n| n as f32).collect::<Vec<_>>(), (1, t), &Device::Cpu)?,
            };
            if u % HOLD_OUT == HOLD_OUT - 1 { &mut held } else { &mut train }.push(st);
        }
    }
    if train.is_empty() || held.is_empty() {
        return Err(Error::invalid("training data", "too few lines to learn the early encoder from"));
    }

    // 4. Adam on the twin, keeping the deltas of the best held-out step.
    let weight = |set: &[SentenceTarget]| -> Result<f64> {
        let mut w = 0f64;
        for s in set {
            w += s.frames.sum_all()?.to_scalar::<f32>()? as f64 * s.target.dim(0)? as f64;
        }
        Ok(w.max(1.0))
    };
    let (w_train, w_held) = (weight(&train)?, weight(&held)?);
    // Σ frames·‖m_p − target‖² over `set`, divided by `norm`.
    let loss = |set: &[SentenceTarget], norm: f64| -> Result<Tensor> {
        let mut total = Tensor::zeros((), candle_core::DType::F32, &Device::Cpu)?;
        for s in set {
            let d = (twin.forward(&s.ids)? - &s.target)?.sqr()?.sum_keepdim(0)?; // [1, t]
            total = (total + (d * &s.frames)?.sum_all()?)?;
        }
        Ok((total / norm)?)
    };
    let scalar = |t: &Tensor| -> Result<f32> { Ok(t.to_scalar::<f32>()?) };
    let before = (scalar(&loss(&train, w_train)?)?, scalar(&loss(&held, w_held)?)?);
    progress(&format!("prior distance to the recordings' targets: {:.4} (training lines), {:.4} (held out)", before.0, before.1));
    let vars = twin.vars();
    let mut opt = AdamW::new(vars.clone(), ParamsAdamW { lr: learning_rate(group), weight_decay: WEIGHT_DECAY, ..Default::default() })?;
    let mut best = (before.1, twin.deltas()?);
    let started = Instant::now();
    for step in 1..=steps {
        stop()?;
        let Some((grads, lt)) = chunked_gradients(&vars, &train, CHUNK, |chunk| loss(chunk, w_train))? else { break };
        opt.step(&grads)?;
        drop(grads);
        let lh = scalar(&loss(&held, w_held)?)?;
        if lh < best.0 {
            best = (lh, twin.deltas()?);
        }
        if step % 10 == 0 || step == steps {
            let left = started.elapsed() / step as u32 * (steps - step) as u32;
            progress(&format!("step {step}/{steps}: loss {lt:.4} (held out {lh:.4}, best {:.4}); {:.0} s, ≤ {} s left", best.0, started.elapsed().as_secs_f32(), left.as_secs()));
        }
    }
    let (held_after, deltas) = best;
    twin.set_deltas(&deltas)?;
    let train_after = scalar(&loss(&train, w_train)?)?;
    Ok(Segmental { deltas, before, after: (train_after, held_after) })
}
