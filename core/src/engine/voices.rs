//! The engine's voices: loaded once, shared by every request (weights are never copied).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use candle_core::{Device, Tensor};

use super::controls::{ControlSpec, Controls};
use crate::error::{Error, Result};
use crate::model::Vits;
use crate::style::{delta, lora, Group, Kind, SteerPoint, Steering};
use crate::voice::Voice;

/// A voice and the live controls it accepts.
#[derive(Debug)]
pub struct VoiceEntry {
    /// Shared: several entries (e.g. successive versions of a preset) may use one loaded voice.
    pub voice: Arc<Voice>,
    pub controls: Vec<ControlSpec>,
    /// Per control: its weight delta at α = 1 to merge (its `weights` vectors, and the parts
    /// of its `lora` vectors that cannot run on the fly), on their groups.
    weight_deltas: Vec<Vec<delta::Delta>>,
    /// Per control: LoRA factors applied on the fly (dense convs).
    factors: Vec<Vec<delta::Factors>>,
}

impl VoiceEntry {
    /// Checks the controls' vectors against the voice and prepares their weight deltas.
    pub fn new(voice: impl Into<Arc<Voice>>, controls: Vec<ControlSpec>) -> Result<Self> {
        let voice = voice.into();
        Self::check_styles(&voice, &controls)?;
        let n_layers = voice.model.config.n_layers;
        let (mut weight_deltas, mut factors) = (Vec::new(), Vec::new());
        for c in &controls {
            let (mut merged, mut factored) = (Vec::new(), Vec::new());
            for style in c.styles.iter().filter(|s| matches!(s.vector.kind, Kind::Weights | Kind::Lora)) {
                let (m, f) = delta::split(&style.vector, &style.groups, n_layers, |p| voice.parameter_shape(p), lora::on_the_fly)?;
                merged.extend(m);
                factored.extend(f);
            }
            weight_deltas.push(merged);
            factors.push(factored);
        }
        Ok(VoiceEntry { voice, controls, weight_deltas, factors })
    }

    /// The LoRA adapters of `controls` at their α, to run on the fly (None: none active).
    pub fn adapters(&self, controls: &[(String, f32)]) -> Option<Arc<lora::Adapters>> {
        let mut map = lora::Adapters::new();
        for (spec, factors) in self.controls.iter().zip(&self.factors) {
            let alpha = alpha_of(controls, &spec.name);
            if alpha == 0.0 {
                continue;
            }
            for (name, a, b) in factors {
                map.entry(name.clone()).or_default().push(lora::Adapter { a: a.clone(), b: b.clone(), alpha });
            }
        }
        (!map.is_empty()).then(|| Arc::new(map))
    }

    /// The controls that merge weight deltas, with their α in `controls`, in control order.
    fn weight_terms<'a>(&'a self, controls: &'a [(String, f32)]) -> impl Iterator<Item = (f32, &'a Vec<delta::Delta>)> + 'a {
        self.controls
            .iter()
            .zip(&self.weight_deltas)
            .filter(|(_, d)| !d.is_empty())
            .map(|(spec, d)| (alpha_of(controls, &spec.name), d))
    }

    /// The α of each control that changes weights, in control order (all 0: the base model).
    pub fn weight_alphas(&self, controls: &[(String, f32)]) -> Vec<f32> {
        self.weight_terms(controls).map(|(alpha, _)| alpha).collect()
    }

    /// The model with the weight-changing controls at `controls`' values merged in.
    pub fn model_for(&self, controls: &[(String, f32)]) -> Result<Vits> {
        let terms: Vec<(f32, Vec<delta::Delta>)> = self.weight_terms(controls).map(|(alpha, d)| (alpha, d.clone())).collect();
        self.voice.model_with(&terms)
    }

    /// Every control of a request must be one of the voice's.
    pub fn check_controls(&self, controls: &Controls) -> Result<()> {
        for name in controls.names() {
            if !self.controls.iter().any(|s| s.name == name) {
                let known: Vec<&str> = self.controls.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::invalid(
                    "control",
                    format!("unknown name `{name}` for voice {} (it has {known:?})", self.voice.path.display()),
                ));
            }
        }
        Ok(())
    }

    /// The steering of `controls` (name, α) after clamping: Σ α · v over the steer vectors of
    /// each control, at the points its groups cover.
    pub fn steering(&self, controls: &[(String, f32)]) -> Result<Steering> {
        let mut steering = Steering::default();
        let device = self.voice.model.device();
        for (name, alpha) in controls {
            let Some(spec) = self.controls.iter().find(|s| &s.name == name) else { continue };
            for style in &spec.styles {
                if style.vector.kind != Kind::Steer {
                    continue;
                }
                for (point, v) in &style.vector.tensors {
                    let point: SteerPoint = point.parse()?;
                    if style.groups.iter().any(|&g| point.in_group(g)) {
                        steering.add(point, v, *alpha, device)?;
                    }
                }
            }
        }
        Ok(steering)
    }

    /// The speaker-embedding offset Σ α · τ `[1, gin, 1]` of the `speaker` vectors of `controls`
    /// (those bound to the `emb_g` group), or `None`.
    pub fn speaker_offset(&self, controls: &[(String, f32)]) -> Result<Option<Tensor>> {
        let mut sum: Option<Tensor> = None;
        for (name, alpha) in controls {
            let Some(spec) = self.controls.iter().find(|s| &s.name == name) else { continue };
            for style in spec.styles.iter().filter(|s| s.vector.kind == Kind::Speaker && s.groups.contains(&Group::Speaker)) {
                if *alpha == 0.0 {
                    continue;
                }
                let tau = &style.vector.tensors["emb_g"];
                let term = (tau.to_device(self.voice.model.device())? * *alpha as f64)?.reshape((1, (), 1))?;
                sum = Some(match sum {
                    Some(s) => (s + term)?,
                    None => term,
                });
            }
        }
        Ok(sum)
    }

    /// Checks that every style vector of `controls` fits the voice.
    fn check_styles(voice: &Voice, controls: &[ControlSpec]) -> Result<()> {
        for style in controls.iter().flat_map(|c| &c.styles) {
            style.vector.check_against(voice)?;
        }
        Ok(())
    }

    /// The request's control values now, clamped to the voice's ranges.
    pub fn applied_controls(&self, controls: &Controls) -> Result<Vec<(String, f32)>> {
        controls
            .snapshot()
            .into_iter()
            .map(|(name, alpha)| {
                let spec = self.controls.iter().find(|s| s.name == name).ok_or_else(|| Error::invalid("control", name.clone()))?;
                Ok((name, spec.clamp(alpha)?))
            })
            .collect()
    }
}

/// Voices by name (added) or by path (loaded on first use).
#[derive(Debug, Default)]
pub struct Voices {
    map: Mutex<HashMap<String, Arc<VoiceEntry>>>,
}

impl Voices {
    /// Adds `voice` under `name` with the controls it accepts (replacing an earlier one).
    pub fn add(&self, name: &str, voice: impl Into<Arc<Voice>>, controls: Vec<ControlSpec>) -> Result<()> {
        let entry = Arc::new(VoiceEntry::new(voice, controls)?);
        self.map.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_string(), entry);
        Ok(())
    }

    /// Forgets `name` (requests already running keep their entry). True if it was there.
    pub fn remove(&self, name: &str) -> bool {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(name).is_some()
    }

    /// The voice `key`: an added name, else a path to a `.onnx` file, loaded now and kept.
    /// Loading holds the lock, so concurrent first uses load a voice once.
    pub fn get(&self, key: &str, device: &Device) -> Result<Arc<VoiceEntry>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = map.get(key) {
            return Ok(v.clone());
        }
        let path = Path::new(key);
        if !path.exists() {
            let known: Vec<&String> = map.keys().collect();
            return Err(Error::io(path, std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such voice file (and no voice added under that name; added: {known:?})"),
            )));
        }
        let entry = Arc::new(VoiceEntry::new(Voice::load(path, device)?, Vec::new())?);
        map.insert(key.to_string(), entry.clone());
        Ok(entry)
    }
}

/// The value of control `name` in `controls` (0 when absent).
fn alpha_of(controls: &[(String, f32)], name: &str) -> f32 {
    controls.iter().find(|(n, _)| n == name).map_or(0.0, |(_, a)| *a)
}
