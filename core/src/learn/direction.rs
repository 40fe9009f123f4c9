//! The voice's own pitch direction in prior-mean space: how m_p differs between frames the
//! voice speaks high and frames it speaks low, over the training transcripts at no noise.

use std::sync::Arc;

use super::knobs::Basis;
use super::prosody::{f0_track, semitones};
use super::render::{prior_frames, Lines};
use crate::error::{Error, Result};
use crate::model::Backbone;
use crate::scales::Scales;

/// d = normalised Σ (st_f − st̄)·m_f over voiced frames f (the covariance of m_p with the
/// frame's pitch, a centroid difference weighted by how far each frame is from the mean
/// pitch); c = mean m_f over voiced frames.
pub fn pitch_basis(model: &Arc<dyn Backbone>, speaker: Option<usize>, lines: &Lines, sample_rate: u32, stop: &dyn Fn() -> Result<()>) -> Result<Basis> {
    let hop = model.samples_per_frame();
    let mut frames: Vec<(f32, Vec<f32>)> = Vec::new(); // (st, m_p frame)
    for k in 0..lines.sentences.len() {
        stop()?;
        let (audio, prepared) = lines.speak(model, speaker, &Scales::QUIET, k)?;
        let f0 = f0_track(&audio, sample_rate, hop);
        for (f, row) in prior_frames(&prepared)?.into_iter().enumerate() {
            if let Some(Some(hz)) = f0.get(f) {
                frames.push((semitones(*hz), row));
            }
        }
    }
    if frames.len() < 100 {
        return Err(Error::invalid("vector learn", format!("the voice spoke only {} voiced frames of the transcripts: too little to find its pitch direction", frames.len())));
    }
    let inter = frames[0].1.len();
    let n = frames.len() as f32;
    let mean_st = frames.iter().map(|f| f.0).sum::<f32>() / n;
    let mut centre = vec![0f32; inter];
    let mut cov = vec![0f32; inter];
    for (st, m) in &frames {
        for i in 0..inter {
            centre[i] += m[i] / n;
            cov[i] += (st - mean_st) * m[i] / n;
        }
    }
    let norm = cov.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm <= 0.0 || !norm.is_finite() {
        return Err(Error::invalid("vector learn", "the voice's pitch does not vary with its prior: no pitch direction"));
    }
    let direction: Vec<f32> = cov.iter().map(|v| v / norm).collect();
    let proj: Vec<f32> = frames.iter().map(|(_, m)| m.iter().zip(&direction).zip(&centre).map(|((m, d), c)| (m - c) * d).sum()).collect();
    let spread = (proj.iter().map(|p| p * p).sum::<f32>() / n).sqrt();
    Ok(Basis { direction, centre, spread })
}
