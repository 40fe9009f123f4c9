//! Making style vectors from what a voice itself does (training-free).

use std::collections::BTreeMap;

use candle_core::{Device, Tensor, D};

use super::format::{Kind, StyleVector, SPEAKER};
use super::groups::Group;
use crate::error::{Error, Result};
use crate::model::{Backbone, Noise};
use crate::scales::Scales;
use crate::voice::{Say, Voice};

/// Mean activation `[channels]` at each steering point of `points` (by name) over every frame
/// of every sentence of `texts`, spoken with no noise in the voice's own style.
pub fn mean_activations(voice: &Voice, texts: &[Say], points: &[String]) -> Result<BTreeMap<String, Tensor>> {
    let model = voice.model.as_ref();
    let stages: Vec<usize> = points.iter().map(|p| steer_point(model, p).map(|d| d.stage)).collect::<Result<_>>()?;
    let style = voice.plain_style(None)?;
    let mut sums: BTreeMap<String, Tensor> = BTreeMap::new();
    let mut frames = 0usize;
    for say in texts {
        for phonemes in voice.phonemize(say)? {
            let ids = voice.ids.ids(&phonemes).ids;
            let x = model.prepare(&ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style)?.input;
            frames += x.dim(D::Minus1)?;
            for (point, &stage) in points.iter().zip(&stages) {
                let h = model.run_until(stage, &x, &style)?;
                let s = h.sum(D::Minus1)?.flatten_all()?; // [channels]
                let acc = match sums.remove(point) {
                    Some(acc) => (acc + s)?,
                    None => s,
                };
                sums.insert(point.clone(), acc);
            }
        }
    }
    if frames == 0 {
        return Err(Error::invalid("steering texts", "nothing to speak"));
    }
    sums.into_iter().map(|(p, s)| Ok((p, (s / frames as f64)?))).collect()
}

/// The steering point `name` of `model`; the error lists the ones it has.
fn steer_point<'a>(model: &'a dyn Backbone, name: &str) -> Result<&'a crate::model::SteerPointDef> {
    model.steer_point(name).ok_or_else(|| {
        let known: Vec<&str> = model.steer_points().iter().map(|p| p.name.as_str()).collect();
        Error::invalid("steering point", format!("`{name}` (known: {})", known.join(", ")))
    })
}

/// A `steer` vector: mean activation over texts `a` minus over texts `b`, at `points`, made
/// for α in `alpha_range`. Its groups are the first group each point counts as touching.
pub fn steer_from_texts(voice: &Voice, a: &[Say], b: &[Say], points: &[String], description: &str, alpha_range: (f32, f32)) -> Result<StyleVector> {
    if points.is_empty() {
        return Err(Error::invalid("steering points", "none given"));
    }
    let (ma, mb) = (mean_activations(voice, a, points)?, mean_activations(voice, b, points)?);
    let tensors = ma
        .into_iter()
        .map(|(p, t)| {
            let d = (t - &mb[&p])?.to_device(&Device::Cpu)?;
            Ok((p, d))
        })
        .collect::<Result<_>>()?;
    let mut groups: Vec<Group> = Vec::new();
    for p in points {
        if let Some(g) = steer_point(voice.model.as_ref(), p)?.groups.first().map(Group::new) {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    Ok(StyleVector::new(Kind::Steer, voice.weights_hash(), groups, alpha_range, description, tensors))
}

/// A `speaker` vector: `τ = mean(emb_g[a]) − mean(emb_g[b])` over speaker ids of a multi-speaker
/// model (e.g. speakers heard as emotional minus neutral ones), in its embedding space.
pub fn speaker_centroid(model: &dyn Backbone, a: &[usize], b: &[usize], base_hash: &str, description: &str, alpha_range: (f32, f32)) -> Result<StyleVector> {
    let table = model.speaker_table().ok_or_else(|| Error::invalid("speaker vector", "the voice has a single speaker"))?;
    let n = table.dim(0)?;
    let mean = |ids: &[usize]| -> Result<Tensor> {
        if ids.is_empty() {
            return Err(Error::invalid("speaker ids", "an empty group"));
        }
        if let Some(bad) = ids.iter().find(|&&s| s >= n) {
            return Err(Error::invalid("speaker ids", format!("{bad} is not in 0..{n}")));
        }
        let idx = Tensor::from_vec(ids.iter().map(|&s| s as u32).collect::<Vec<_>>(), ids.len(), table.device())?;
        Ok(table.index_select(&idx, 0)?.mean(0)?)
    };
    let tau = (mean(a)? - mean(b)?)?.to_device(&Device::Cpu)?;
    Ok(StyleVector::new(Kind::Speaker, base_hash, vec![Group::new(SPEAKER)], alpha_range, description, BTreeMap::from([(SPEAKER.to_string(), tau)])))
}
