//! A voice's palette: the named controls it accepts, each scaling style vectors by α, resolved
//! once against the voice, and the [`StyleState`] they make at given α values.

use std::sync::Arc;

use candle_core::Tensor;

use super::delta::{self, Delta, Factors};
use super::format::{check_range, Kind, StyleVector, REWRITE, SPEAKER};
use super::groups::Group;
use crate::error::{Error, Result};
use crate::markup::Lexicon;
use crate::phonemize::{Kind as PhonemizerKind, Phonemizer};
use crate::model::rewrite::Rewrite;
use crate::model::text_encoder::PHONEME_EMBEDDING;
use crate::model::{Adapter, Adapters, StyleState};
use crate::voice::Voice;

/// What a voice accepts for one control: its name, the α range values are clamped to, and the
/// style vectors α scales.
#[derive(Debug, Clone)]
pub struct ControlSpec {
    pub name: String,
    pub min: f32,
    pub max: f32,
    pub styles: Vec<BoundStyle>,
}

/// A style vector under a control, applied to `groups` (the vector's own, or a preset's choice).
#[derive(Debug, Clone)]
pub struct BoundStyle {
    pub vector: Arc<StyleVector>,
    pub groups: Vec<Group>,
}

impl ControlSpec {
    /// A control named `name` with α in `[min, max]`.
    pub fn new(name: impl Into<String>, min: f32, max: f32) -> Result<Self> {
        let name = name.into();
        if name.is_empty() || check_range((min, max)).is_err() {
            return Err(Error::invalid("control", format!("`{name}`: need a name and finite min ≤ max, got [{min}, {max}]")));
        }
        Ok(ControlSpec { name, min, max, styles: Vec::new() })
    }

    /// Adds a style vector that α scales, on `groups` (default: the vector's own groups).
    pub fn with_style(mut self, vector: Arc<StyleVector>, groups: Option<Vec<Group>>) -> Self {
        let groups = groups.unwrap_or_else(|| vector.groups.clone());
        self.styles.push(BoundStyle { vector, groups });
        self
    }

    /// `alpha` clamped to the range; NaN and infinities are errors. For values a game sets
    /// live (a gameplay variable may overshoot).
    pub fn clamp(&self, alpha: f32) -> Result<f32> {
        Ok(finite_alpha(&self.name, alpha)?.clamp(self.min, self.max))
    }

    /// `alpha` if it lies in the range, else an error naming the control and the range. For
    /// values written down (markup): one outside the range is a mistake in the line, not a
    /// value to clamp silently.
    pub fn check(&self, alpha: f32) -> Result<f32> {
        if (self.min..=self.max).contains(&finite_alpha(&self.name, alpha)?) {
            Ok(alpha)
        } else {
            Err(Error::invalid("control value", format!("`{}` = {alpha} is outside its range [{}, {}]", self.name, self.min, self.max)))
        }
    }
}

/// `alpha`, the value of control `name`, if finite; NaN and infinities are errors naming it.
pub fn finite_alpha(name: &str, alpha: f32) -> Result<f32> {
    if alpha.is_finite() {
        Ok(alpha)
    } else {
        Err(Error::invalid("control value", format!("`{name}` = {alpha} (must be finite)")))
    }
}

/// A control of one [`Palette`], by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlId(pub usize);

/// One control's vectors resolved against the voice, at α = 1.
#[derive(Debug, Default)]
struct Resolved {
    /// Weight deltas to merge (`weights` vectors, and LoRA parts that cannot run on the fly).
    deltas: Vec<Delta>,
    /// LoRA factors run on the fly.
    factors: Vec<Factors>,
    /// Steering: stage index and vector `[channels]`.
    steering: Vec<(usize, Tensor)>,
    /// Speaker-embedding offsets `[dims]`.
    speaker: Vec<Tensor>,
    /// Phoneme rewrites blended into the text encoder's input.
    rewrites: Vec<Arc<Rewrite>>,
}

/// A voice with the controls it accepts, every vector checked against the voice and resolved
/// (deltas, factors, steering stages) once.
#[derive(Debug)]
pub struct Palette {
    /// Shared: several palettes (e.g. successive versions of a preset) may use one loaded voice.
    pub voice: Arc<Voice>,
    controls: Vec<ControlSpec>,
    resolved: Vec<Resolved>,
    /// Words this palette's lines pronounce by IPA, instead of the voice's own lexicon.
    lexicon: Option<Lexicon>,
    /// Linear gain on everything its lines synthesize (not on baked lines).
    gain: f32,
    /// The phonemizer its lines are read with, instead of the voice's.
    phonemizer: Option<Shared>,
    /// Styles built recently, shared by every line of the palette ([`Palette::shared_state`]).
    states: std::sync::Mutex<Vec<CachedState>>,
}

/// A built style: its α values, speaker, and the state.
type CachedState = (Vec<f32>, Option<usize>, Arc<StyleState>);

/// Styles a palette keeps for its lines to share.
const STATES_KEPT: usize = 8;

/// A phonemizer shared by a palette's jobs (shown by name only).
#[derive(Clone)]
struct Shared(String, Arc<dyn Phonemizer>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Palette {
    /// Checks the controls' vectors against the voice and resolves them. A control's range is
    /// narrowed to the α ranges its vectors were made for; a control whose range and vectors'
    /// ranges do not meet is an error.
    pub fn new(voice: impl Into<Arc<Voice>>, mut controls: Vec<ControlSpec>) -> Result<Self> {
        let voice = voice.into();
        let model = voice.model.as_ref();
        for (i, c) in controls.iter().enumerate() {
            if controls[..i].iter().any(|d| d.name == c.name) {
                return Err(Error::invalid("controls", format!("`{}` is given twice", c.name)));
            }
        }
        let mut resolved = Vec::with_capacity(controls.len());
        for c in &mut controls {
            let mut r = Resolved::default();
            for style in &c.styles {
                let v = &style.vector;
                v.check_against(&voice)?;
                Group::check_all(&style.groups, model)?;
                let (lo, hi) = v.alpha_range;
                let (min, max) = (c.min.max(lo), c.max.min(hi));
                if min > max {
                    let from = v.path.as_ref().map_or("a style vector".to_string(), |p| p.display().to_string());
                    return Err(Error::invalid(
                        "control",
                        format!("`{}`: its range [{}, {}] and the α range [{lo}, {hi}] of {from} do not meet", c.name, c.min, c.max),
                    ));
                }
                (c.min, c.max) = (min, max);
                match v.kind {
                    Kind::Weights | Kind::Lora => {
                        let (d, f) = delta::split(v, &style.groups, model, true)?;
                        r.deltas.extend(d);
                        r.factors.extend(f);
                    }
                    Kind::Steer => {
                        for (name, t) in &v.tensors {
                            let point = model.steer_point(name).expect("check_against checked the points");
                            if style.groups.iter().any(|g| point.groups.iter().any(|pg| pg == g.name())) {
                                r.steering.push((point.stage, t.clone()));
                            }
                        }
                    }
                    Kind::Speaker if style.groups.iter().any(|g| g.name() == SPEAKER) => r.speaker.push(v.tensors[SPEAKER].clone()),
                    Kind::Speaker => {}
                    // The rewrite acts on the phoneme embedding's input: on any group that holds it.
                    Kind::Rewrite if Group::any_contains(&style.groups, model, PHONEME_EMBEDDING) => {
                        r.rewrites.push(Arc::new(Rewrite::from_tensor(&v.tensors[REWRITE], voice.ids.id_count())?));
                    }
                    Kind::Rewrite => {}
                }
            }
            resolved.push(r);
        }
        Ok(Palette { voice, controls, resolved, lexicon: None, gain: 1.0, phonemizer: None, states: Default::default() })
    }

    /// The controls, in order ([`ControlId`] is the position).
    pub fn controls(&self) -> &[ControlSpec] {
        &self.controls
    }

    /// With `lexicon` for its lines (e.g. a preset's), in place of the voice's. Every symbol of
    /// its IPA must be one the voice reads ([`Voice::check_lexicon`]: an error names the entry's
    /// line).
    pub fn with_lexicon(mut self, lexicon: Lexicon) -> Result<Self> {
        self.voice.check_lexicon(&lexicon)?;
        self.lexicon = Some(lexicon);
        Ok(self)
    }

    /// With `db` of gain on the audio its lines synthesize (e.g. to bring a voice to a loudness
    /// target, see [`crate::loudness`]).
    pub fn with_gain_db(mut self, db: f32) -> Result<Self> {
        if !db.is_finite() {
            return Err(Error::invalid("gain", format!("{db} dB is not finite")));
        }
        self.gain = 10f32.powf(db / 20.0);
        Ok(self)
    }

    /// The linear gain on its lines' synthesized audio.
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Reading its lines' text with `kind` instead of the voice's phonemizer.
    pub fn with_phonemizer(mut self, kind: PhonemizerKind) -> Result<Self> {
        self.phonemizer = Some(Shared(format!("{kind:?}"), Arc::from(kind.make(&self.voice.config.espeak.voice)?)));
        Ok(self)
    }

    /// Reading its lines' text in the accent `name` (see [`Voice::set_accent`]); replaces a
    /// phonemizer chosen before.
    pub fn with_accent(mut self, name: &str) -> Result<Self> {
        self.phonemizer = Some(Shared(format!("accent {name}"), Arc::new(self.voice.accent_phonemizer(name)?)));
        Ok(self)
    }

    /// The phonemizer its lines are read with, when not the voice's.
    pub fn phonemizer(&self) -> Option<&dyn Phonemizer> {
        self.phonemizer.as_ref().map(|s| s.1.as_ref())
    }

    /// The lexicon its lines use.
    pub fn lexicon(&self) -> &Lexicon {
        self.lexicon.as_ref().unwrap_or_else(|| self.voice.lexicon())
    }

    /// The control named `name`; the error names the voice and the controls it has.
    pub fn id(&self, name: &str) -> Result<ControlId> {
        self.controls.iter().position(|c| c.name == name).map(ControlId).ok_or_else(|| {
            let known: Vec<&str> = self.controls.iter().map(|s| s.name.as_str()).collect();
            Error::invalid("control", format!("unknown name `{name}` for voice {} (it has {known:?})", self.voice.path.display()))
        })
    }

    /// [`Self::state`], shared: lines of this palette asking for the same α values and speaker
    /// get one state (a crowd whose α moves together merges weights, and packs them for the
    /// CPU kernels, once instead of once per speaker). The last `STATES_KEPT` are kept.
    pub fn shared_state(&self, alphas: &[f32], speaker: Option<usize>) -> Result<Arc<StyleState>> {
        let find = |states: &mut Vec<CachedState>| {
            let k = states.iter().position(|(a, s, _)| a == alphas && *s == speaker)?;
            let hit = states.remove(k);
            let state = hit.2.clone();
            states.push(hit);
            Some(state)
        };
        if let Some(state) = find(&mut self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
            return Ok(state);
        }
        // Built outside the lock (it takes milliseconds); two lines may build the same at once.
        let state = Arc::new(self.state(alphas, speaker)?);
        let mut states = self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(built) = find(&mut states) {
            return Ok(built);
        }
        if states.len() >= STATES_KEPT {
            states.remove(0);
        }
        states.push((alphas.to_vec(), speaker, state.clone()));
        Ok(state)
    }

    /// The style at `alphas` (one per control, in order, already clamped) for `speaker`:
    /// weight deltas merged into a copy (only when some such α is not 0), LoRA adapters,
    /// steering per stage, the speaker embedding moved by speaker vectors.
    pub fn state(&self, alphas: &[f32], speaker: Option<usize>) -> Result<StyleState> {
        if alphas.len() != self.controls.len() {
            return Err(Error::invalid("control values", format!("{} values for {} controls", alphas.len(), self.controls.len())));
        }
        let model = &self.voice.model;
        let terms: Vec<(f32, Vec<Delta>)> = self
            .resolved
            .iter()
            .zip(alphas)
            .filter(|(r, &a)| a != 0.0 && !r.deltas.is_empty())
            .map(|(r, &a)| (a, r.deltas.clone()))
            .collect();
        let mut state = StyleState::plain(model.clone());
        if !terms.is_empty() {
            state = state.with_backbone(self.voice.model_with(&terms)?);
        }
        let mut lora = Adapters::default();
        let mut g = model.speaker_embedding(speaker)?;
        for (r, &alpha) in self.resolved.iter().zip(alphas).filter(|(_, &a)| a != 0.0) {
            for (name, a, b) in &r.factors {
                lora.add(name, Adapter { a: a.clone(), b: b.clone(), alpha });
            }
            for (stage, v) in &r.steering {
                state.add_steering(*stage, v, alpha)?;
            }
            for rewrite in &r.rewrites {
                state.add_rewrite(rewrite.clone(), alpha);
            }
            for tau in &r.speaker {
                let term = (tau.to_device(model.device())? * alpha as f64)?.reshape((1, (), 1))?;
                g = Some(match g {
                    Some(g) => (g + term)?,
                    None => return Err(Error::invalid("speaker vector", "the voice has a single speaker")),
                });
            }
        }
        Ok(state.with_adapters(lora).with_speaker(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_clamp_finite_values() {
        let s = ControlSpec::new("angry", -1.0, 3.0).unwrap();
        assert_eq!(s.clamp(5.0).unwrap(), 3.0);
        assert_eq!(s.clamp(-4.0).unwrap(), -1.0);
        assert!(s.clamp(f32::NAN).is_err());
        assert_eq!(s.check(3.0).unwrap(), 3.0);
        assert!(s.check(3.5).is_err() && s.check(-1.5).is_err() && s.check(f32::INFINITY).is_err());
        assert!(ControlSpec::new("x", 2.0, 1.0).is_err());
    }
}
