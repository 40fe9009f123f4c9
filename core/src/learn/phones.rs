//! Which phonemes recordings say where the voice says its own: analysis by synthesis, position
//! by position (an accent's sounds, for a `rewrite` vector: [`super::dialect`]).
//!
//! Each line is spoken by the voice in its own phonemes (noise 0) and the recording is aligned
//! to that rendering by DTW on log-mel frames; a phoneme's stretch of the recording is what its
//! frames (with a phoneme of context either side) map to. Then, left to right, every position
//! holding a vocalic symbol (a vowel, the length mark, `ɹ`) is tried with each candidate — every
//! vocalic symbol the voice learned, and nothing (the pad: the phoneme dropped): the voice
//! speaks the line with the candidate there, the positions before it as heard and its own
//! phonemes after it; only the frames around it are rendered ([`SentenceStream::seek`]), and
//! their log-mel is compared with the recording's stretch ([`path_distance`], giving a
//! [`Heard`]). A position is heard as the closest candidate where that beats the voice's own by
//! [`MARGIN`]. The pad after a vocalic symbol is tried with the length mark (a vowel the
//! recording holds longer). One occurrence's distances are noisy (a recording varies as a
//! rendering with noise does): [`super::dialect`] decides per context, over all of its
//! occurrences.
//!
//! This reads an accent's vowels and r-dropping from recordings of a voice close to this one
//! (its own accented renderings, or an actor it was made from); consonants stay as they are,
//! and a recording far from the voice's timbre compares badly with every candidate.

use std::collections::HashSet;
use std::sync::Arc;

use candle_core::Tensor;

use super::align::{dtw, path_distance};
use super::mel::log_mel;
use super::render::Lines;
use crate::error::{Error, Result};
use crate::model::stream::SentenceStream;
use crate::model::{Backbone, Noise, StyleState};
use crate::phonemize::PhonemeIdMap;
use crate::scales::Scales;

/// The symbols whose positions are examined and that may stand in for one another.
pub const VOCALIC: &str = "aeiouæɑɐɒɔəɚɛɜɝɪʊʌᵻɨʉøœɘɵɤyːɹ";
/// The length mark, tried at the pad after a vocalic symbol.
const LONG: char = 'ː';
/// A candidate must come this much closer to the recording than what stands there (share of
/// the latter's distance): the distances of near-equal candidates differ by noise.
pub const MARGIN: f32 = 0.05;
/// Frames rendered beyond a compared stretch on either side: the mel's 1024-sample window
/// reaches two frames past a frame's centre.
const EDGE: usize = 3;
/// Ids on either side of a position whose frames make its stretch (a phoneme and its pads).
const AROUND: usize = 2;

/// The ids examined and tried.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// Ids of vocalic symbols the voice learned: the positions examined, and their candidates.
    pub vocalic: Vec<i64>,
    /// The pad: a dropped phoneme.
    pub pad: i64,
    /// The length mark's id, if the voice learned it.
    pub long: Option<i64>,
}

impl Candidates {
    /// The vocalic symbols among `learned` that `ids` maps to one id each.
    pub fn new(ids: &PhonemeIdMap, learned: &HashSet<char>) -> Result<Self> {
        let one = |c: char| ids.get(c).and_then(|v| (v.len() == 1).then(|| v[0]));
        let vocalic: Vec<i64> = VOCALIC.chars().filter(|c| learned.contains(c)).filter_map(one).collect();
        let pad = one('_').ok_or_else(|| Error::invalid("vector learn", "the voice has no pad symbol `_`"))?;
        if vocalic.len() < 2 {
            return Err(Error::invalid("vector learn", "the voice has fewer than two vowels to tell apart"));
        }
        Ok(Self { long: one(LONG).filter(|l| vocalic.contains(l)), vocalic, pad })
    }
}

/// One examined position of a sentence: how far each candidate spoken there sounds from the
/// recording ([`path_distance`] of log-mel stretches; the voice's own id among them).
#[derive(Debug, Clone)]
pub struct Heard {
    pub position: usize,
    pub distances: Vec<(i64, f32)>,
}

impl Heard {
    /// The distance with the voice's own id `own` there.
    pub fn own(&self, own: i64) -> f32 {
        self.distances.iter().find(|(c, _)| *c == own).map_or(f32::INFINITY, |x| x.1)
    }

    /// The closest candidate, if it beats `own` by [`MARGIN`].
    pub fn best(&self, own: i64) -> Option<i64> {
        let (c, d) = self.distances.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))?;
        (c != own && d < (1.0 - MARGIN) * self.own(own)).then_some(c)
    }
}

/// What was heard in one sentence of a line: the voice's ids and its examined positions.
#[derive(Debug, Clone)]
pub struct HeardSentence {
    pub ids: Vec<i64>,
    pub heard: Vec<Heard>,
}

/// Line `line` of `lines` against its `recording` (at the voice's rate): every vocalic position
/// tried with every candidate, left to right, the positions before it as heard (see the module
/// doc). `scales` should have no noise (the renderings are compared with one another).
#[allow(clippy::too_many_arguments)]
pub fn recognise(model: &Arc<dyn Backbone>, lines: &Lines, line: usize, recording: &[f32], scales: &Scales, sample_rate: u32, cands: &Candidates, stop: &dyn Fn() -> Result<()>) -> Result<Vec<HeardSentence>> {
    let hop = model.samples_per_frame();
    let style = StyleState::plain(model.clone()).with_speaker(model.speaker_embedding(None)?);
    let frames_of = |ids: &[i64]| -> Result<(Tensor, Vec<usize>)> {
        let p = model.prepare(ids, &[], scales, &mut Noise::seeded(0), &style)?;
        if p.frames.len() != ids.len() {
            return Err(Error::invalid("vector learn", "the voice's timing track does not match its ids"));
        }
        Ok((p.input, p.frames))
    };
    // The whole line in the voice's phonemes, aligned to the recording.
    let sentences = &lines.sentences[line];
    let (audio, prepared) = lines.speak(model, None, scales, line)?;
    let timing: Vec<&[usize]> = prepared.iter().map(|p| p.frames.as_slice()).collect(); // each sentence's frames per id
    let starts: Vec<usize> = timing.iter().scan(0, |t, f| {
        let start = *t;
        *t += f.iter().sum::<usize>();
        Some(start)
    }).collect(); // each sentence's first frame in the line
    if sentences.iter().zip(&timing).any(|(ids, f)| ids.len() != f.len()) {
        return Err(Error::invalid("vector learn", "the voice's timing track does not match its ids"));
    }
    let mel = log_mel(&audio, sample_rate, hop, audio.len() / hop);
    let rec = log_mel(recording, sample_rate, hop, recording.len() / hop);
    let path = dtw(&mel, &rec);
    if path.is_empty() {
        return Err(Error::invalid("vector learn", "a recording or its rendering is empty"));
    }
    // The recording's frames [first, last] mapped to each rendering frame.
    let mut span = vec![(usize::MAX, 0usize); mel.len()];
    for &(i, j) in &path {
        span[i] = (span[i].0.min(j), span[i].1.max(j));
    }
    let is_vocalic = |id: i64| cands.vocalic.contains(&id);
    let mut out = Vec::new();
    for (s, own) in sentences.iter().enumerate() {
        let bounds = cumulative(timing[s]);
        let mut heard = Vec::new();
        let mut said = own.clone(); // positions before k as heard
        for k in 0..own.len() {
            let tried: Vec<i64> = if is_vocalic(own[k]) {
                cands.vocalic.iter().copied().chain([cands.pad]).collect()
            } else if let Some(long) = cands.long.filter(|&l| k > 0 && own[k] == cands.pad && is_vocalic(own[k - 1]) && own[k - 1] != l) {
                vec![cands.pad, long]
            } else {
                continue;
            };
            stop()?;
            // The recording's stretch: what the ids around k map to in the voice's rendering.
            let (lo, hi) = (k.saturating_sub(AROUND), (k + AROUND + 1).min(own.len()));
            let a = (starts[s] + bounds[lo]).min(mel.len() - 1);
            let b = (starts[s] + bounds[hi]).min(mel.len()).max(a + 1);
            let first = span[a..b].iter().map(|x| x.0).min().unwrap_or(0);
            let last = span[a..b].iter().map(|x| x.1).max().unwrap_or(0);
            if first > last {
                continue;
            }
            let target = &rec[first..=last];
            let mut distances = Vec::with_capacity(tried.len());
            for &c in &tried {
                let mut ids = said.clone();
                ids[k] = c;
                let (input, frames) = frames_of(&ids)?;
                distances.push((c, path_distance(&stretch(model, &style, input, &frames, lo, hi, sample_rate)?, target)));
            }
            let h = Heard { position: k, distances };
            said[k] = h.best(own[k]).unwrap_or(own[k]);
            heard.push(h);
        }
        out.push(HeardSentence { ids: own.clone(), heard });
    }
    Ok(out)
}

/// Each id's first frame, and the total at the end: `[ids + 1]`.
fn cumulative(frames: &[usize]) -> Vec<usize> {
    std::iter::once(0).chain(frames.iter().scan(0, |t, &f| {
        *t += f;
        Some(*t)
    })).collect()
}

/// Log-mel frames `[frames][MELS]` of ids `[lo, hi)` of a sentence whose first-stage input is
/// `input` `[1, ch, frames]` and whose ids last `frames`: only those frames (and [`EDGE`] either
/// side) are rendered.
fn stretch(model: &Arc<dyn Backbone>, style: &StyleState, input: Tensor, frames: &[usize], lo: usize, hi: usize, sample_rate: u32) -> Result<Vec<Vec<f32>>> {
    let hop = model.samples_per_frame();
    let bounds = cumulative(frames);
    let total = *bounds.last().unwrap_or(&0);
    let (a, b) = (bounds[lo], bounds[hi].max(bounds[lo] + 1).min(total));
    if a >= b {
        return Ok(Vec::new());
    }
    let (from, to) = (a.saturating_sub(EDGE), (b + EDGE).min(total));
    let mut stream = SentenceStream::new(model.as_ref(), input)?;
    stream.seek(from);
    let audio = stream.window(to - from, style)?;
    let mel = log_mel(&audio, sample_rate, hop, to - from);
    Ok(mel[a - from..b - from].to_vec())
}
