//! The voice speaking the training transcripts: the same lines, the same noise for every
//! candidate, so two candidates differ only by their weights.

use std::sync::Arc;

use super::prosody::{measure, Prosody};
use crate::error::Result;
use crate::model::{Backbone, Noise, Prepared, StyleState};
use crate::scales::Scales;
use crate::voice::{Say, Voice};

/// The training transcripts as phoneme ids, one list of sentences per line.
#[derive(Debug, Clone)]
pub struct Lines {
    pub sentences: Vec<Vec<Vec<i64>>>,
}

/// Noise seed of line `k`: fixed, so every candidate hears the same noise.
fn seed(k: usize) -> u64 {
    0x5eed_0000 + k as u64
}

impl Lines {
    /// Phonemizes `transcripts` with `voice`'s phonemizer; the error gives the index of the
    /// transcript that failed or had nothing to speak.
    pub fn new(voice: &Voice, transcripts: &[&str]) -> std::result::Result<Self, (usize, crate::Error)> {
        let sentences = transcripts
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let ids: Vec<Vec<i64>> = voice.phonemize(&Say::text(*t)).map_err(|e| (k, e))?.iter().map(|p| voice.ids.ids(p).ids).collect();
                if ids.is_empty() {
                    return Err((k, crate::Error::invalid("transcript", "nothing to speak")));
                }
                Ok(ids)
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Lines { sentences })
    }

    /// Line `k` spoken by `model` at `scales`: its audio, and for each sentence what was
    /// prepared for it (the flow input `[1, inter, frames]`, m_p when `scales` has no noise, and
    /// the frames of each id).
    pub fn speak(&self, model: &Arc<dyn Backbone>, speaker: Option<usize>, scales: &Scales, k: usize) -> Result<(Vec<f32>, Vec<Prepared>)> {
        let style = StyleState::plain(model.clone()).with_speaker(model.speaker_embedding(speaker)?);
        let mut noise = Noise::seeded(seed(k));
        let mut audio = Vec::new();
        let mut prepared = Vec::new();
        for ids in &self.sentences[k] {
            let p = model.prepare(ids, &[], scales, &mut noise, &style)?;
            audio.extend(model.run_all(&p.input, &style)?.to_vec1::<f32>()?);
            prepared.push(p);
        }
        Ok((audio, prepared))
    }

    /// The prosody of every line spoken by `model`; `stop` is asked between lines.
    pub fn measure(&self, model: &Arc<dyn Backbone>, speaker: Option<usize>, scales: &Scales, sample_rate: u32, stop: &dyn Fn() -> Result<()>) -> Result<Vec<Prosody>> {
        (0..self.sentences.len())
            .map(|k| {
                stop()?;
                Ok(measure(&self.speak(model, speaker, scales, k)?.0, sample_rate))
            })
            .collect()
    }
}

/// The flow input of every frame of a line's sentences, in order: `[frames][inter]`.
pub fn prior_frames(prepared: &[Prepared]) -> Result<Vec<Vec<f32>>> {
    let mut rows = Vec::new();
    for p in prepared {
        rows.extend(p.input.squeeze(0)?.t()?.contiguous()?.to_vec2::<f32>()?); // [frames, inter]
    }
    Ok(rows)
}
