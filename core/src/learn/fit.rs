//! Learning a style vector: measure how the recordings differ from the voice speaking the same
//! transcripts (pitch level, pitch range, duration, level), then find the knob values whose
//! weight deltas make the voice differ the same way, by quasi-Newton steps on the measured
//! differences (each step speaks every line again with the candidate weights).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::data::DataSet;
use super::direction::pitch_basis;
use super::segmental::{self, fit_segmental};
use super::spectral::spectral_basis;
use super::knobs::{Basis, Knobs};
use super::prosody::Prosody;
use super::render::Lines;
use crate::error::{Error, Result};
use crate::model::Backbone;
use crate::style::delta::to_lora;
use crate::style::{Group, Kind, StyleVector};
use crate::voice::Voice;

/// What the knobs are fitted to: differences of the recordings from the voice.
/// `[Δ median F0 (st), ln F0-range ratio, ln duration ratio, Δ level (dB), Δ tilt (dB)]`, means
/// over lines.
pub type Cues = [f32; N];
const N: usize = Knobs::COUNT;

/// How close a cue must come to count as reached (st, ln ratio, ln ratio, dB, dB).
const TOLERANCE: Cues = [0.15, 0.03, 0.015, 0.25, 0.25];
/// Knob bounds: pitch ±8 spreads, contrast ×0.3…×6, duration ×0.5…×2, level ±12 dB, tilt γ
/// −0.6…1.5 (below −0.6 the top octave would come back inverted).
const LOWER: Cues = [-8.0, -0.7, -0.69, -12.0, -0.6];
const UPPER: Cues = [8.0, 5.0, 0.69, 12.0, 1.5];
/// Largest change of each knob in one step.
const MAX_STEP: Cues = [1.0, 0.5, 0.2, 3.0, 0.4];
/// Cue names, for warnings.
const NAMES: [&str; N] = ["F0 (st)", "ln F0 range", "ln duration", "level (dB)", "tilt (dB)"];
/// The pitch knob's value (spreads, either sign) past which the learned speech was measured to
/// lose intelligibility. Whisper tiny.en on 24 unseen sentences at α 1 (plain voice 5.4 % WER):
/// 0.5–0.8 gave 4.8–9.6 %, 1.6 gave 7.8 % (F0 −4 st asked), 2.4 gave 12.0 % (the same, fitted
/// further) and 2.8 gave 12.7 % (+5 st). The range knob (β up to 2.0 at 6.6 %, 1.8 at 12.0 %)
/// and the others did not separate the good from the bad, so only pitch is watched.
const FAR_PITCH: f32 = 2.0;
/// Adam steps of the early text encoder when the options leave it at 0.
pub const ENCODER_STEPS: usize = 40;
/// A line whose recording lasts outside these times the voice's rendering is not taken.
const DURATION_RATIO: (f32, f32) = (0.4, 2.5);
/// Recordings whose median pitch lies further than this from the voice's (st) are another voice.
const MAX_PITCH_GAP: f32 = 12.0;

/// Which knobs a vector may use, from its module groups: `enc_p` / `enc_p.late` pitch level
/// and range, `dp` tempo, `dec` level and tilt.
fn knob_mask(groups: &[Group]) -> [bool; N] {
    let has = |g: &str| groups.iter().any(|x| x.name() == g);
    let enc = has("enc_p") || has("enc_p.late");
    [enc, enc, has("dp"), has("dec"), has("dec")]
}

/// The early text-encoder group `groups` ask to be learned ([`super::segmental`]), if any:
/// `enc_p.early` when both it and `enc_p.emb` (which it contains) are asked.
fn segment_group(groups: &[Group]) -> Option<&'static str> {
    segmental::GROUPS.iter().rev().copied().find(|s| groups.iter().any(|g| g.name() == *s))
}

/// Whether `groups` ask for the early text encoder to be learned.
fn learns_segments(groups: &[Group]) -> bool {
    segment_group(groups).is_some()
}

/// The knobs a vector of `kind` on `groups` may use; an error when there is nothing to learn.
pub fn knobs_for(groups: &[Group], kind: Kind) -> Result<[bool; N]> {
    let mask = knob_mask(groups);
    if learns_segments(groups) && kind == Kind::Steer {
        return Err(Error::invalid("vector learn", format!("`{}` is learned as weight deltas (`--kind weights` or `lora`), not as a steering vector", segment_group(groups).unwrap_or_default())));
    }
    let mask = match kind {
        Kind::Steer => [mask[0], false, false, false, false],
        Kind::Weights | Kind::Lora => mask,
        Kind::Speaker => return Err(Error::invalid("vector learn", "`speaker` vectors come from a multi-speaker voice's table (`tvtts vector centroid`), not from recordings")),
        Kind::Rewrite => return Err(Error::invalid("vector learn", "`rewrite` vectors are learned by hearing phonemes (`learn::dialect::learn_rewrite`), not as weight knobs")),
    };
    if !mask.iter().any(|&m| m) && !learns_segments(groups) {
        return Err(Error::invalid("vector learn", format!("groups {} give nothing to learn (use enc_p or enc_p.late for pitch, dp for tempo, dec for level, enc_p.emb or enc_p.early for sounds)", Group::list(groups))));
    }
    Ok(mask)
}

/// The cues between `target` and `base`, over the lines `used`.
pub fn cues(target: &[Prosody], base: &[Prosody], used: &[usize]) -> Cues {
    let mean = |v: Vec<f32>| if v.is_empty() { 0.0 } else { v.iter().sum::<f32>() / v.len() as f32 };
    let pairs = || used.iter().map(|&k| (&target[k], &base[k]));
    [
        mean(pairs().filter_map(|(t, b)| Some(t.f0_st? - b.f0_st?)).collect()),
        mean(pairs().filter_map(|(t, b)| Some((t.range_st?.max(0.1) / b.range_st?.max(0.1)).ln())).collect()),
        mean(pairs().map(|(t, b)| (t.duration_s / b.duration_s).ln()).collect()),
        mean(pairs().map(|(t, b)| t.level_db - b.level_db).collect()),
        mean(pairs().map(|(t, b)| t.tilt_db - b.tilt_db).collect()),
    ]
}

/// Options of [`learn`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Groups the vector may change (see `knob_mask`).
    pub groups: Vec<Group>,
    /// `weights`, `lora` (with `rank`) or `steer` (one m_p offset, see [`super::spectral`]).
    pub kind: Kind,
    pub rank: usize,
    /// Quasi-Newton steps after the first probes.
    pub steps: usize,
    /// Adam steps of the early text encoder (`enc_p.early`; 0: [`ENCODER_STEPS`]).
    pub encoder_steps: usize,
    /// Scales the voice speaks at while learning (its defaults: what the recordings compare to).
    pub scales: crate::Scales,
}

/// A learned vector and how well it reproduces the recordings' cues on their own transcripts.
#[derive(Debug, Clone)]
pub struct Learned {
    pub vector: StyleVector,
    pub knobs: Knobs,
    /// The recordings' cues, and the voice's with the vector at α = 1.
    pub target: Cues,
    pub reached: Cues,
    /// The voice's cues with the vector at α 0.5.
    pub half: Cues,
    pub lines_used: usize,
    /// With `enc_p.early`: the prior distance to the recordings' targets (training lines, held
    /// out) before and after learning the early encoder ([`segmental::Segmental`]).
    pub encoder: Option<((f32, f32), (f32, f32))>,
    pub warnings: Vec<String>,
}

/// Formats cues as a person reads them.
pub fn describe(c: &Cues) -> String {
    format!("F0 {:+.2} st, F0 range ×{:.3}, duration ×{:.3}, level {:+.2} dB, tilt {:+.2} dB", c[0], c[1].exp(), c[2].exp(), c[3], c[4])
}

/// Learns a vector for `voice` from `data`. `progress` receives one line per stage and step;
/// `stop` is asked often and ends learning with its error (e.g. on Ctrl-C).
pub fn learn(voice: &Voice, data: &DataSet, opts: &Options, progress: &mut dyn FnMut(&str), stop: &dyn Fn() -> Result<()>) -> Result<Learned> {
    let started = Instant::now();
    let mask = knobs_for(&opts.groups, opts.kind)?;
    let sr = voice.sample_rate();
    let model: Arc<dyn Backbone> = voice.model.clone();
    let transcripts: Vec<&str> = data.recordings.iter().map(|r| r.transcript.as_str()).collect();
    let lines = Lines::new(voice, &transcripts).map_err(|(k, e)| Error::invalid("training data", format!("{}:{}: the transcript cannot be spoken: {e}", data.dir.join("metadata.csv").display(), data.recordings[k].line)))?;
    let mut warnings = data.warnings.clone();

    progress(&format!("speaking the {} transcripts with the voice", lines.sentences.len()));
    let base = lines.measure(&model, None, &opts.scales, sr, stop)?;
    let render_time = started.elapsed();
    let target: Vec<Prosody> = data.recordings.iter().map(|r| r.prosody).collect();

    // Lines whose recording does not fit its transcript are left out, with a warning.
    let mut used = Vec::new();
    for (k, r) in data.recordings.iter().enumerate() {
        let ratio = target[k].duration_s / base[k].duration_s;
        if !(DURATION_RATIO.0..=DURATION_RATIO.1).contains(&ratio) {
            warnings.push(format!("{} (metadata.csv line {}): lasts {ratio:.2}× as long as the voice speaks its transcript: wrong transcript? left out", r.wav.display(), r.line));
        } else {
            used.push(k);
        }
    }
    if used.len() < super::data::MIN_LINES {
        return Err(Error::invalid("training data", format!("{}: only {} lines match their transcripts in length; at least {} are needed", data.dir.display(), used.len(), super::data::MIN_LINES)));
    }
    let want = cues(&target, &base, &used);
    if want[0].abs() > MAX_PITCH_GAP {
        return Err(Error::invalid(
            "training data",
            format!("{}: the recordings' pitch lies {:+.1} st from {}'s: another speaker? `vector learn` learns a style of this voice, not a new voice", data.dir.display(), want[0], voice.path.display()),
        ));
    }
    progress(&format!("recordings vs voice on {} lines: {}", used.len(), describe(&want)));

    let audio: Vec<&[f32]> = data.recordings.iter().map(|r| r.audio.as_slice()).collect();
    let basis = if opts.kind == Kind::Steer {
        // A steering vector moves m_p along one direction: the one along which the
        // recordings' spectra differ from the voice's; its length is fitted to their pitch.
        progress("mapping the voice's spectra to its prior");
        spectral_basis(&model, &lines, &audio, &used, &opts.scales, sr, stop)?
    } else if mask[0] || mask[1] {
        progress("finding the voice's pitch direction");
        pitch_basis(&model, None, &lines, sr, stop)?
    } else {
        Basis { direction: Vec::new(), centre: Vec::new(), spread: 1.0 }
    };

    // The early encoder (an accent's sounds) first: the knobs then fit the prosody on top.
    let mut encoder = None;
    let segments = if let Some(group) = segment_group(&opts.groups) {
        progress(&format!("learning {group} from the recordings' sounds"));
        let steps = if opts.encoder_steps == 0 { ENCODER_STEPS } else { opts.encoder_steps };
        let s = fit_segmental(&model, group, &lines, &audio, &used, &opts.scales, sr, steps, progress, stop)?;
        progress(&format!(
            "early encoder: prior distance to the targets {:.4} → {:.4} on the training lines, {:.4} → {:.4} held out",
            s.before.0, s.after.0, s.before.1, s.after.1
        ));
        encoder = Some((s.before, s.after));
        s.deltas
    } else {
        BTreeMap::new()
    };
    let with_segments = |mut d: BTreeMap<String, candle_core::Tensor>| {
        d.extend(segments.iter().map(|(k, v)| (k.clone(), v.clone())));
        d
    };
    let steps = if mask.iter().any(|&m| m) { opts.steps } else { 0 };

    let probes = [Knobs { pitch: 1.0, ..Knobs::default() }, Knobs { range: 0.3, ..Knobs::default() }, Knobs::default(), Knobs::default(), Knobs { tilt: 0.3, ..Knobs::default() }];
    let probed = |i: usize| mask[i] && probes[i] != Knobs::default();
    let total = (0..N).filter(|&i| probed(i)).count() + steps + usize::from(!segments.is_empty());
    // The loss the fit lowers: the cues' misses in units of their tolerances, squared and summed
    // (below 1 per learned cue is within tolerance).
    let score = |c: &Cues| (0..N).filter(|&i| mask[i]).map(|i| ((c[i] - want[i]) / TOLERANCE[i]).powi(2)).sum::<f32>();
    let mut done = 0usize;
    let eval = |k: Knobs, done: &mut usize, progress: &mut dyn FnMut(&str)| -> Result<Cues> {
        stop()?;
        let deltas: Vec<(String, candle_core::Tensor)> = with_segments(basis.deltas(model.as_ref(), k)?).into_iter().collect();
        let m = if deltas.is_empty() { model.clone() } else { voice.model_with(&[(1.0, deltas)])? };
        let got = cues(&lines.measure(&m, None, &opts.scales, sr, stop)?, &base, &used);
        *done += 1;
        let per = started.elapsed().saturating_sub(render_time) / *done as u32;
        let left = per * (total.saturating_sub(*done)) as u32;
        progress(&format!("step {done}/{total}: loss {:.2}; {} (want {}) at knobs {:.2?}; {:.0} s, ≤ {} left", score(&got), describe(&got), describe(&want), k.to_array(), started.elapsed().as_secs_f32(), human(left)));
        Ok(got)
    };

    // Jacobian of the cues in the knobs: pitch, range and tilt probed, tempo and level start as
    // identity (their knobs are in the cues' own units), all refined by Broyden's update.
    // The cues at knobs 0: the voice's own (0), or the voice's with the learned early encoder.
    let origin = if segments.is_empty() { [0f32; N] } else { eval(Knobs::default(), &mut done, progress)? };
    let mut jac = [[0f32; N]; N];
    for (i, row) in jac.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for (i, probe) in probes.iter().enumerate() {
        if probed(i) {
            let got = eval(*probe, &mut done, progress)?;
            let h = probe.to_array()[i];
            for (r, g) in got.iter().enumerate() {
                jac[r][i] = (g - origin[r]) / h;
            }
        }
    }

    let mut theta = [0f32; N];
    let mut now = origin;
    let mut best = (score(&now), theta, now);
    for _ in 0..steps {
        let residual: Vec<f32> = (0..N).map(|i| if mask[i] { want[i] - now[i] } else { 0.0 }).collect();
        let step = solve(&jac, &residual, &mask);
        // Each knob moves at most its step limit, and stays within its bounds.
        let mut next = theta;
        for i in 0..N {
            next[i] = (theta[i] + step[i].clamp(-MAX_STEP[i], MAX_STEP[i])).clamp(LOWER[i], UPPER[i]);
        }
        let got = eval(Knobs::from_array(next), &mut done, progress)?;
        // Broyden: J += (Δc − J·Δθ)·Δθᵀ / |Δθ|²
        let dt: Vec<f32> = (0..N).map(|i| next[i] - theta[i]).collect();
        let dn: f32 = dt.iter().map(|v| v * v).sum();
        if dn > 0.0 {
            for r in 0..N {
                let pred: f32 = (0..N).map(|c| jac[r][c] * dt[c]).sum();
                let err = got[r] - now[r] - pred;
                for c in 0..N {
                    jac[r][c] += err * dt[c] / dn;
                }
            }
        }
        theta = next;
        now = got;
        if score(&now) < best.0 {
            best = (score(&now), theta, now);
        }
        if (0..N).all(|i| !mask[i] || (now[i] - want[i]).abs() <= TOLERANCE[i]) {
            break;
        }
    }
    let (_, theta, reached) = best;
    let knobs = Knobs::from_array(theta);
    for i in (0..N).filter(|&i| mask[i]) {
        if (reached[i] - want[i]).abs() > 3.0 * TOLERANCE[i] {
            warnings.push(format!("cue {} reached {:+.3}, wanted {:+.3}: the knob's bound or the voice's reach", NAMES[i], reached[i], want[i]));
        }
    }
    warnings.extend(far_from_the_voice(knobs));
    // α 0.5 should lie between the voice and the learned style, cue by cue: say where not.
    progress("checking α 0.5");
    let deltas: Vec<(String, candle_core::Tensor)> = with_segments(basis.deltas(model.as_ref(), knobs)?).into_iter().collect();
    let half = if deltas.is_empty() { [0.0; N] } else { cues(&lines.measure(&voice.model_with(&[(0.5, deltas)])?, None, &opts.scales, sr, stop)?, &base, &used) };
    for i in (0..N).filter(|&i| mask[i] && reached[i].abs() > TOLERANCE[i]) {
        let between = half[i] * reached[i] > 0.0 && half[i].abs() < reached[i].abs();
        if !between {
            warnings.push(format!("cue {} at α 0.5 is {:+.3}, not between 0 and α 1's {:+.3}: this cue does not grow steadily with α", NAMES[i], half[i], reached[i]));
        }
    }
    let vector = make_vector(voice, &basis, knobs, &segments, opts, &mask, &format!("learned from {} ({} lines): {}", data.dir.display(), used.len(), describe(&reached)))?;
    Ok(Learned { vector, knobs, target: want, reached, half, lines_used: used.len(), encoder, warnings })
}

/// `weights` (or `lora`, or `steer`) vector of `knobs` and the early encoder's learned
/// `segments`, in the groups they use.
fn make_vector(voice: &Voice, basis: &Basis, knobs: Knobs, segments: &BTreeMap<String, candle_core::Tensor>, opts: &Options, mask: &[bool; N], description: &str) -> Result<StyleVector> {
    let mut groups = Vec::new();
    let mut add = |g: &str| {
        let g = Group::new(g);
        if !groups.contains(&g) {
            groups.push(g);
        }
    };
    if let Some(g) = segment_group(&opts.groups).filter(|_| !segments.is_empty()) {
        add(g);
    }
    if mask[0] || mask[1] {
        add("enc_p.late");
    }
    if mask[2] {
        add("dp");
    }
    if mask[3] || mask[4] {
        add("dec");
    }
    let (kind, tensors) = match opts.kind {
        Kind::Steer => (Kind::Steer, BTreeMap::from([("m_p".to_string(), basis.steer(knobs)?)])),
        _ => {
            let mut t = basis.deltas(voice.model.as_ref(), knobs)?;
            t.extend(segments.iter().map(|(k, v)| (k.clone(), v.clone())));
            (Kind::Weights, t)
        }
    };
    if tensors.is_empty() {
        return Err(Error::invalid("vector learn", "the recordings do not differ from the voice in any cue the groups can change"));
    }
    let v = StyleVector::new(kind, voice.weights_hash(), groups, (0.0, 1.0), description, tensors);
    match opts.kind {
        Kind::Lora => to_lora(&v, opts.rank),
        _ => Ok(v),
    }
}

/// A warning when the pitch knob lies past [`FAR_PITCH`]: speech that far from the voice's own
/// was measured to be hard to understand at α 1 (a smaller α, or recordings closer to the
/// voice, help).
fn far_from_the_voice(knobs: Knobs) -> Option<String> {
    (knobs.pitch.abs() > FAR_PITCH).then(|| {
        format!("the pitch level knob is at {:+.2}, past ±{FAR_PITCH:.1}, beyond which this voice's speech was measured to lose intelligibility: listen at α 1, or use a smaller α", knobs.pitch)
    })
}

/// Solves J·x = r over the masked knobs (LU); when that system is singular, each knob takes
/// a step from its diagonal entry alone.
fn solve(jac: &[[f32; N]; N], r: &[f32], mask: &[bool; N]) -> [f32; N] {
    let idx: Vec<usize> = (0..N).filter(|&i| mask[i]).collect();
    let n = idx.len();
    let a = nalgebra::DMatrix::from_fn(n, n, |i, j| jac[idx[i]][idx[j]] as f64);
    let b = nalgebra::DVector::from_fn(n, |i, _| r[idx[i]] as f64);
    let mut out = [0f32; N];
    match a.lu().solve(&b) {
        Some(x) if x.iter().all(|v| v.is_finite()) => {
            for (k, &i) in idx.iter().enumerate() {
                out[i] = x[k] as f32;
            }
        }
        _ => {
            for &i in &idx {
                out[i] = if jac[i][i].abs() > 1e-6 { r[i] / jac[i][i] } else { 0.0 };
            }
        }
    }
    out
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_early_group_asked_is_the_one_learned() {
        let groups = |s: &str| Group::parse_list(s).unwrap();
        assert_eq!(segment_group(&groups("enc_p.emb,dp")), Some("enc_p.emb"));
        assert_eq!(segment_group(&groups("enc_p.early")), Some("enc_p.early"));
        // enc_p.early holds the embedding: asked together, the larger group is learned.
        assert_eq!(segment_group(&groups("enc_p.emb,enc_p.early")), Some("enc_p.early"));
        assert_eq!(segment_group(&groups("enc_p.late,dp,dec")), None);
        assert!(knobs_for(&groups("enc_p.emb"), Kind::Steer).is_err());
        assert!(knobs_for(&groups("enc_p.emb"), Kind::Weights).is_ok());
    }

    #[test]
    fn warns_of_knobs_far_from_the_voice() {
        assert!(far_from_the_voice(Knobs { pitch: 0.8, range: 2.0, tempo: -0.3, gain: -3.0, tilt: 0.3 }).is_none());
        let w = far_from_the_voice(Knobs { pitch: 2.84, range: 3.5, ..Knobs::default() }).expect("pitch 2.84 is far");
        assert!(w.contains("pitch level") && w.contains("+2.84"), "{w}");
        assert!(far_from_the_voice(Knobs { pitch: -2.44, ..Knobs::default() }).is_some(), "lowering counts too");
    }

    #[test]
    fn solves_masked_systems() {
        let mut jac = [[0f32; N]; N];
        for (i, row) in jac.iter_mut().enumerate() {
            row[i] = 1.0 + i as f32 * 0.3;
        }
        jac[0][1] = 0.5;
        jac[1][0] = 0.3;
        jac[3][4] = -0.7;
        let x: Cues = [1.0, -2.0, 0.1, 3.0, 0.4];
        let r: Vec<f32> = (0..N).map(|i| (0..N).map(|j| jac[i][j] * x[j]).sum()).collect();
        let got = solve(&jac, &r, &[true; N]);
        for (g, want) in got.iter().zip(&x) {
            assert!((g - want).abs() < 1e-4, "{got:?}");
        }
        let got = solve(&jac, &r, &[false, false, true, false, false]);
        assert_eq!((got[0], got[1], got[3]), (0.0, 0.0, 0.0));
        assert!((got[2] - 0.1).abs() < 1e-5);
    }
}
