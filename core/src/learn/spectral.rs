//! The direction in prior-mean space along which the recordings' spectra differ from the
//! voice's, for `steer` vectors: a linear stand-in for the posterior encoder Piper's export
//! lacks, fitted on the voice's own renderings of the transcripts.
//!
//! Every frame the voice renders pairs a log-mel context (±`CONTEXT` frames) with the flow
//! input that made it (m_p plus the prior's noise; a steering vector adds to it). A ridge
//! regression of that input on the contexts maps a spectral change back to a prior change: the
//! recordings' mean log-mel minus the voice's (over speech frames, the same in every context
//! slot) gives v̂ = Wᵀ·Δ. On 40 lines spoken with `excited.safetensors` at α 2 (steering m_p),
//! v̂'s cosine to that vector was 0.89 with ±8 frames, 0.90 with ±12 and 0.92 with ±16 (0.88
//! when the regression was fitted at no noise); the voice's pitch direction alone gave 0.37.

use std::sync::Arc;

use super::knobs::Basis;
use super::mel::{log_mel, MELS};
use super::prosody::quantile;
use super::render::{prior_frames, Lines};
use crate::error::{Error, Result};
use crate::model::Backbone;
use crate::scales::Scales;

/// Most frames of log-mel context on each side of the frame whose m_p is regressed (fewer when
/// the transcripts give too few frames: at least two frames per feature).
const CONTEXT: usize = 16;
/// Ridge penalty, relative to the mean feature variance.
const RIDGE: f64 = 1e-3;
/// A speech frame's mean log-mel lies within this (natural log, ≈ 22 dB) of the loudest
/// frames' (95th percentile) of its line.
const SPEECH_RANGE: f32 = 5.0;

/// One line the voice spoke: its log-mel frames `[frames][MELS]` and, for each, the prior value
/// the map is to read from them `[frames][inter]` (the flow input, or the prior mean).
pub type Spoken = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// The ridge regression of the voice's flow inputs on log-mel contexts: ẑ = ȳ + Wᵀ(x − x̄),
/// x the ±`context` frames of log-mel around a frame, stacked.
#[derive(Debug, Clone)]
pub struct SpectralMap {
    /// `[MELS·(2·context+1), inter]`
    w: nalgebra::DMatrix<f64>,
    /// Mean context `[MELS·(2·context+1)]` and mean flow input `[inter]`.
    x_mean: Vec<f64>,
    y_mean: Vec<f64>,
    context: usize,
}

/// The stacked log-mel contexts of every frame of `mel` (edges repeat the first and last frame),
/// one row per frame, written from row `r` of `out`.
fn contexts(mel: &[Vec<f32>], context: usize, out: &mut nalgebra::DMatrix<f64>, r: usize) {
    for f in 0..mel.len() {
        for o in 0..=2 * context {
            let g = (f + o).saturating_sub(context).min(mel.len() - 1);
            for (j, v) in mel[g].iter().enumerate() {
                out[(r + f, o * MELS + j)] = *v as f64;
            }
        }
    }
}

impl SpectralMap {
    /// Fits the map on lines the voice spoke (each line's log-mel frames paired one to one with
    /// its flow inputs). The context shrinks when there are few frames (at least two per
    /// feature).
    pub fn fit(spoken: &[Spoken], stop: &dyn Fn() -> Result<()>) -> Result<Self> {
        let n: usize = spoken.iter().map(|(_, m)| m.len()).sum();
        let inter = spoken.iter().find_map(|(_, m)| m.first().map(Vec::len)).unwrap_or(0);
        let Some(context) = (0..=CONTEXT).rev().find(|c| 2 * MELS * (2 * c + 1) <= n) else {
            return Err(Error::invalid("vector learn", format!("the voice spoke only {n} frames of the transcripts: too few to map its spectra to its prior")));
        };
        let dims = MELS * (2 * context + 1);
        // Centred regressors xc [n, dims] (stacked contexts) and targets yc [n, inter].
        let mut xc = nalgebra::DMatrix::<f64>::zeros(n, dims);
        let mut yc = nalgebra::DMatrix::<f64>::zeros(n, inter);
        let mut r = 0;
        for (mel, rows) in spoken {
            contexts(mel, context, &mut xc, r);
            for m in rows {
                for (j, v) in m.iter().enumerate() {
                    yc[(r, j)] = *v as f64;
                }
                r += 1;
            }
        }
        let y_mean: Vec<f64> = yc.row_mean().iter().copied().collect();
        let x_mean: Vec<f64> = xc.column_iter().map(|c| c.mean()).collect();
        for (mut col, mean) in xc.column_iter_mut().zip(&x_mean) {
            col.add_scalar_mut(-mean);
        }
        for (mut col, mean) in yc.column_iter_mut().zip(&y_mean) {
            col.add_scalar_mut(-mean);
        }
        stop()?;
        let mut xtx = xc.tr_mul(&xc) / n as f64; // [dims, dims]
        let xty = xc.tr_mul(&yc) / n as f64; // [dims, inter]
        drop(xc);
        let scale = xtx.diagonal().mean().max(1e-12);
        for i in 0..dims {
            xtx[(i, i)] += RIDGE * scale;
        }
        stop()?;
        let w = xtx.cholesky().ok_or_else(|| Error::invalid("vector learn", "the voice's spectra do not determine its prior (singular regression)"))?.solve(&xty);
        Ok(SpectralMap { w, x_mean, y_mean, context })
    }

    /// The prior change a log-mel change `delta` `[MELS]` (the same in every context slot)
    /// maps to: Wᵀ·Δ `[inter]`.
    pub fn map_change(&self, delta: &[f64]) -> Vec<f64> {
        let d = nalgebra::DVector::from_fn(self.w.nrows(), |i, _| delta[i % MELS]);
        self.w.tr_mul(&d).iter().copied().collect()
    }

    /// The flow input the map reads from each frame of `mel` `[frames][MELS]` → `[frames][inter]`.
    pub fn predict(&self, mel: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if mel.is_empty() {
            return Vec::new();
        }
        let mut x = nalgebra::DMatrix::<f64>::zeros(mel.len(), self.w.nrows());
        contexts(mel, self.context, &mut x, 0);
        for (mut col, mean) in x.column_iter_mut().zip(&self.x_mean) {
            col.add_scalar_mut(-mean);
        }
        let y = x * &self.w; // [frames, inter]
        y.row_iter().map(|row| row.iter().zip(&self.y_mean).map(|(v, m)| (v + m) as f32).collect()).collect()
    }
}

/// The unit direction v̂ and its spread (standard deviation of the voice's prior frames along
/// it). `recordings[k]` is line k's recording at the voice's rate; `used` the lines taken;
/// `scales` those the voice speaks at (as the recordings are compared to it).
pub fn spectral_basis(model: &Arc<dyn Backbone>, lines: &Lines, recordings: &[&[f32]], used: &[usize], scales: &Scales, sample_rate: u32, stop: &dyn Fn() -> Result<()>) -> Result<Basis> {
    let hop = model.samples_per_frame();
    let mut spoken: Vec<Spoken> = Vec::new();
    let (mut target, mut base) = ([0f64; MELS], [0f64; MELS]);
    let (mut nt, mut nb) = (0usize, 0usize);
    for &k in used {
        stop()?;
        let (audio, prepared) = lines.speak(model, None, scales, k)?;
        let rows = prior_frames(&prepared)?;
        // The voice's audio is exactly its frames' hops long: one log-mel frame per m_p frame.
        let mel = log_mel(&audio, sample_rate, hop, rows.len());
        add_speech(&mut base, &mut nb, &mel);
        add_speech(&mut target, &mut nt, &log_mel(recordings[k], sample_rate, hop, recordings[k].len() / hop));
        spoken.push((mel, rows));
    }
    if nt == 0 || nb == 0 {
        return Err(Error::invalid("training data", "no speech frames in the recordings"));
    }
    let map = SpectralMap::fit(&spoken, stop)?;
    // Δ: the recordings' mean log-mel over speech frames minus the voice's, in every slot.
    let delta: Vec<f64> = (0..MELS).map(|j| target[j] / nt as f64 - base[j] / nb as f64).collect();
    let v = map.map_change(&delta);
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm <= 0.0 || !norm.is_finite() {
        return Err(Error::invalid("vector learn", "the recordings' spectra do not differ from the voice's"));
    }
    let direction: Vec<f32> = v.iter().map(|x| (x / norm) as f32).collect();
    // Spread: standard deviation of the voice's flow inputs along v̂.
    let along: Vec<f64> = spoken.iter().flat_map(|(_, rows)| rows.iter()).map(|m| m.iter().zip(&direction).map(|(a, b)| (*a as f64) * (*b as f64)).sum()).collect();
    let mean = along.iter().sum::<f64>() / along.len() as f64;
    let spread = (along.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / along.len() as f64).sqrt();
    Ok(Basis { direction, centre: map.y_mean.iter().map(|&c| c as f32).collect(), spread: spread as f32 })
}

/// Adds the log-mel frames of `mel` that hold speech to `sum`, counting them in `count`.
fn add_speech(sum: &mut [f64; MELS], count: &mut usize, mel: &[Vec<f32>]) {
    if mel.is_empty() {
        return;
    }
    let energy = |m: &Vec<f32>| m.iter().sum::<f32>() / MELS as f32;
    let loud = quantile(&mut mel.iter().map(energy).collect::<Vec<f32>>(), 0.95);
    for m in mel.iter().filter(|m| energy(m) >= loud - SPEECH_RANGE) {
        for (s, v) in sum.iter_mut().zip(m) {
            *s += *v as f64;
        }
        *count += 1;
    }
}
