//! Making style vectors from what a voice itself does (training-free).

use std::collections::BTreeMap;

use candle_core::{Tensor, D};

use super::format::{Kind, StyleVector};
use super::groups::Group;
use super::steer::SteerPoint;
use crate::error::{Error, Result};
use crate::model::{Noise, Vits};
use crate::voice::{Input, Voice};

/// Mean activation `[channels]` at each of `points` over every frame of every sentence of
/// `texts`, spoken with no noise.
pub fn mean_activations(voice: &Voice, texts: &[Input<'_>], points: &[SteerPoint]) -> Result<BTreeMap<SteerPoint, Tensor>> {
    let model = &voice.model;
    let mut sums: BTreeMap<SteerPoint, Tensor> = BTreeMap::new();
    let mut frames = 0usize;
    for &input in texts {
        for phonemes in voice.phonemize(input)? {
            let ids = voice.ids.ids(&phonemes).ids;
            let mut noise = Noise::seeded(0);
            let enc = model.encode(&ids, None)?;
            let durations = model.durations(&enc, 1.0, 0.0, &mut noise)?;
            let z_p = model.prior(&enc, &durations, 0.0, &mut noise)?; // = m_p, frame by frame
            frames += z_p.dim(D::Minus1)?;
            for &point in points {
                let h = match point {
                    SteerPoint::Prior => z_p.clone(),
                    SteerPoint::Latent => model.flow_reverse(&z_p, enc.g.as_ref())?,
                };
                let s = h.sum(D::Minus1)?.flatten_all()?; // [channels]
                let acc = match sums.remove(&point) {
                    Some(acc) => (acc + s)?,
                    None => s,
                };
                sums.insert(point, acc);
            }
        }
    }
    if frames == 0 {
        return Err(Error::invalid("steering texts", "nothing to speak"));
    }
    sums.into_iter().map(|(p, s)| Ok((p, (s / frames as f64)?))).collect()
}

/// A `steer` vector: mean activation over texts `a` minus over texts `b`, at `points`.
pub fn steer_from_texts(
    voice: &Voice,
    a: &[Input<'_>],
    b: &[Input<'_>],
    points: &[SteerPoint],
    description: &str,
) -> Result<StyleVector> {
    if points.is_empty() {
        return Err(Error::invalid("steering points", "none given"));
    }
    let (ma, mb) = (mean_activations(voice, a, points)?, mean_activations(voice, b, points)?);
    let tensors = ma.into_iter().map(|(p, t)| Ok((p.name().to_string(), (t - &mb[&p])?.to_device(&candle_core::Device::Cpu)?))).collect::<Result<_>>()?;
    let mut groups: Vec<Group> = points.iter().map(|p| match p {
        SteerPoint::Prior => Group::TextEncoder,
        SteerPoint::Latent => Group::Flow,
    }).collect();
    groups.dedup();
    Ok(StyleVector {
        kind: Kind::Steer,
        base: voice.weights_hash().to_string(),
        groups,
        default_alpha: 1.0,
        description: description.to_string(),
        rank: None,
        energy: None,
        tensors,
        path: None,
    })
}

/// A `speaker` vector: `τ = mean(emb_g[a]) − mean(emb_g[b])` over speaker ids of a multi-speaker
/// model (e.g. speakers heard as emotional minus neutral ones), in its embedding space.
pub fn speaker_centroid(model: &Vits, a: &[usize], b: &[usize], base_hash: &str, description: &str) -> Result<StyleVector> {
    let table = model.speaker_table().ok_or_else(|| Error::invalid("speaker vector", "the voice has a single speaker"))?;
    let n = model.config.n_speakers;
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
    let tau = (mean(a)? - mean(b)?)?.to_device(&candle_core::Device::Cpu)?;
    Ok(StyleVector {
        kind: Kind::Speaker,
        base: base_hash.to_string(),
        groups: vec![Group::Speaker],
        default_alpha: 1.0,
        description: description.to_string(),
        rank: None,
        energy: None,
        tensors: BTreeMap::from([("emb_g".to_string(), tau)]),
        path: None,
    })
}
