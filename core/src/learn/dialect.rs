//! A dialect α learned from recordings (`tvtts vector learn --kind rewrite`): how close each
//! candidate phoneme, spoken by the voice at each vocalic position, comes to the recordings
//! ([`super::phones`]), summed per context into a rewrite table — the same kind of vector
//! `tvtts vector accent` makes from espeak-ng's accents, here from audio.
//!
//! One occurrence's gain of candidate c over the voice's own id is ln(d_own / d_c) (> 0: c
//! sounds closer to the recording). Per level of context, narrowest first, the occurrences of
//! each window pool their gains; the window gets a rule for the candidate with the largest mean
//! gain when that beats what the narrower rules already say by [`threshold`] of its count:
//! a context heard once must sound clearly different, one heard often only consistently so.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::data::DataSet;
use super::phones::{recognise, Candidates, HeardSentence};
use super::render::Lines;
use crate::error::{Error, Result};
use crate::model::rewrite::{Rewrite, LEVELS, WINDOW};
use crate::style::accent::rewrite_vector;
use crate::style::StyleVector;
use crate::voice::Voice;

/// A learned `rewrite` vector and what it was learned from.
#[derive(Debug, Clone)]
pub struct LearnedRewrite {
    pub vector: StyleVector,
    /// Every sentence of every line as heard.
    pub heard: Vec<HeardSentence>,
}

/// Mean gain (a log-ratio of distances) by which a context's best candidate must beat the
/// narrower rules' choice over `n` occurrences: 0.25 heard once (≈ 22 % closer), 0.15 heard
/// four times, toward 0.05. Chosen on one accent's recordings (Scottish, 40 lines) for few
/// spurious rules on unseen sentences: lower bounds reproduce a few more of the accent's changes
/// but change many positions it keeps (README, "Dialect α").
pub fn threshold(n: usize) -> f32 {
    const FLOOR: f32 = 0.05;
    const ONCE: f32 = 0.2;
    FLOOR + ONCE / (n as f32).sqrt()
}

/// A context's occurrences and each candidate's summed gain over them.
type Pool = (usize, BTreeMap<i64, f32>);

/// The rewrite table of `heard` (see the module doc); `pad_id` is the voice's pad.
pub fn rewrite_from_heard(heard: &[HeardSentence], pad_id: i64) -> Rewrite {
    // Per level (widest first): window → (occurrences, summed gain per candidate).
    let mut pooled: [HashMap<[i64; WINDOW], Pool>; LEVELS.len()] = Default::default();
    for s in heard {
        for h in &s.heard {
            let own = h.own(s.ids[h.position]);
            if !own.is_finite() {
                continue;
            }
            let window = Rewrite::window(&s.ids, h.position);
            // A pad is examined for what precedes it: no rule for every pad.
            let pad = s.ids[h.position] == pad_id;
            for (level, &reach) in LEVELS.iter().enumerate().filter(|(_, &r)| !(pad && r == 0)) {
                let (n, gains) = pooled[level].entry(Rewrite::masked(&window, reach)).or_default();
                *n += 1;
                for &(c, d) in &h.distances {
                    *gains.entry(c).or_default() += (own.max(f32::MIN_POSITIVE) / d.max(f32::MIN_POSITIVE)).ln();
                }
            }
        }
    }
    let mut rewrite = Rewrite::default();
    for level in (0..LEVELS.len()).rev() {
        let mut found = Vec::new();
        for (w, (n, gains)) in &pooled[level] {
            let now = rewrite.rewrite(w);
            let mean = |c: i64| gains.get(&c).map_or(0.0, |g| g / *n as f32);
            let Some((&best, _)) = gains.iter().max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0))) else { continue };
            if best != now && mean(best) - mean(now) > threshold(*n) {
                found.push((*w, best));
            }
        }
        found.sort_unstable();
        for (w, to) in found {
            rewrite.insert(w, to);
        }
    }
    rewrite
}

/// Learns a `rewrite` vector for `voice` from `data`, the voice speaking at `length_scale`;
/// `progress` hears one line per recording, `stop` is asked between positions.
pub fn learn_rewrite(voice: &Voice, data: &DataSet, length_scale: f32, progress: &mut dyn FnMut(&str), stop: &dyn Fn() -> Result<()>) -> Result<LearnedRewrite> {
    let started = Instant::now();
    let transcripts: Vec<&str> = data.recordings.iter().map(|r| r.transcript.as_str()).collect();
    let lines = Lines::new(voice, &transcripts).map_err(|(k, e)| Error::invalid("training data", format!("{}:{}: the transcript cannot be spoken: {e}", data.dir.join("metadata.csv").display(), data.recordings[k].line)))?;
    let cands = Candidates::new(&voice.ids, &voice.learned_symbols()?)?;
    let scales = crate::Scales { noise_scale: 0.0, noise_w: 0.0, length_scale };
    let mut heard = Vec::new();
    let n = data.recordings.len();
    for (k, r) in data.recordings.iter().enumerate() {
        heard.extend(recognise(&voice.model, &lines, k, &r.audio, &scales, voice.sample_rate(), &cands, stop)?);
        let examined: usize = heard.iter().map(|s| s.heard.len()).sum();
        let differ: usize = heard.iter().map(|s| s.heard.iter().filter(|h| h.best(s.ids[h.position]).is_some()).count()).sum();
        let spent = started.elapsed().as_secs_f32();
        progress(&format!("line {}/{n}: {examined} positions heard, {differ} of them closer to another phoneme; {:.0} s left", k + 1, spent / (k + 1) as f32 * (n - k - 1) as f32));
    }
    let rewrite = rewrite_from_heard(&heard, cands.pad);
    if rewrite.is_empty() {
        return Err(Error::invalid("vector learn", format!("{}: the recordings say the voice's own phonemes: there is no accent to learn", data.dir.display())));
    }
    let mut vector = rewrite_vector(voice, &rewrite, (0.0, 1.0))?;
    vector.description = format!("dialect learned from {} ({n} lines)", data.dir.display());
    Ok(LearnedRewrite { vector, heard })
}
