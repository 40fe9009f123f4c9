//! Task vectors in weight space: τ = θ_tuned − θ_base (`weights`), its low-rank form (`lora`),
//! and the merged delta Σ αᵢ·τᵢ a model copy is built from.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};

use super::format::{Kind, StyleVector};
use super::groups::Group;
pub use crate::checkpoint::{merge, Delta};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::model::Backbone;
use crate::voice::Voice;

/// `tuned − base` over the parameters of `groups` of `voice` (whose checkpoint `base` is): a
/// `weights` vector made for α in `alpha_range`; unchanged parameters are left out. Both must
/// have the same parameters and shapes.
pub fn weight_delta(base: &Checkpoint, tuned: &Checkpoint, groups: &[Group], voice: &Voice, alpha_range: (f32, f32)) -> Result<StyleVector> {
    Group::check_all(groups, voice.model.as_ref())?;
    let bad = |reason: String| Error::invalid("voice pair", format!("{} vs {}: {reason}", base.path.display(), tuned.path.display()));
    let mut names: Vec<&String> = base.tensors.keys().collect();
    names.sort();
    if tuned.tensors.len() != base.tensors.len() {
        return Err(bad(format!("{} vs {} parameters: not the same architecture", base.tensors.len(), tuned.tensors.len())));
    }
    let mut tensors = BTreeMap::new();
    for name in names {
        let b = &base.tensors[name];
        let t = tuned.tensors.get(name).ok_or_else(|| bad(format!("`{name}` missing from the tuned voice")))?;
        if b.dims() != t.dims() {
            return Err(bad(format!("`{name}` is {:?} vs {:?}", b.dims(), t.dims())));
        }
        if !Group::any_contains(groups, voice.model.as_ref(), name) {
            continue;
        }
        let d = (t - b)?;
        if d.abs()?.max_all()?.to_scalar::<f32>()? > 0.0 {
            tensors.insert(name.clone(), d.to_device(&Device::Cpu)?);
        }
    }
    if tensors.is_empty() {
        return Err(bad(format!("no parameter of groups {} differs", Group::list(groups))));
    }
    Ok(StyleVector::new(Kind::Weights, voice.weights_hash(), groups.to_vec(), alpha_range, "", tensors))
}

/// A `lora` vector from a `weights` one: each delta of rank > 1 as a matrix `[out, in·k]`,
/// truncated by SVD to `rank` (B = U·Σ `[out, r]`, A = Vᵀ `[r, in·k]`); 1-D deltas (biases,
/// norms) stay full. `energy` = kept share of Σ‖Δ‖², which by Eckart–Young is the best any
/// rank-`rank` factorisation keeps.
pub fn to_lora(full: &StyleVector, rank: usize) -> Result<StyleVector> {
    if full.kind != Kind::Weights || rank == 0 {
        return Err(Error::invalid("lora", "needs a `weights` vector and rank ≥ 1"));
    }
    let (mut kept, mut total) = (0f64, 0f64);
    let mut tensors = BTreeMap::new();
    for (name, d) in &full.tensors {
        let dims = d.dims();
        if dims.len() < 2 {
            let sq = d.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            kept += sq;
            total += sq;
            tensors.insert(name.clone(), d.clone());
            continue;
        }
        let (rows, cols) = (dims[0], dims[1..].iter().product::<usize>());
        let m = nalgebra::DMatrix::from_row_slice(rows, cols, &d.flatten_all()?.to_vec1::<f32>()?).cast::<f64>();
        let svd = m.svd(true, true);
        let (u, vt) = (svd.u.expect("asked for U"), svd.v_t.expect("asked for Vᵀ"));
        let r = rank.min(svd.singular_values.len());
        let sq: Vec<f64> = svd.singular_values.iter().map(|s| s * s).collect();
        total += sq.iter().sum::<f64>();
        kept += sq.iter().take(r).sum::<f64>();
        // Singular values come sorted in descending order.
        let b = u.columns(0, r) * nalgebra::DMatrix::from_diagonal(&svd.singular_values.rows(0, r).into_owned());
        let a = vt.rows(0, r).into_owned();
        let to_tensor = |m: nalgebra::DMatrix<f64>| -> Result<Tensor> {
            let (rr, cc) = m.shape();
            let data: Vec<f32> = (0..rr).flat_map(|i| (0..cc).map(move |j| (i, j))).map(|(i, j)| m[(i, j)] as f32).collect();
            Ok(Tensor::from_vec(data, (rr, cc), &Device::Cpu)?)
        };
        tensors.insert(format!("{name}.lora_b"), to_tensor(b)?);
        tensors.insert(format!("{name}.lora_a"), to_tensor(a)?);
    }
    Ok(StyleVector {
        kind: Kind::Lora,
        rank: Some(rank),
        energy: Some(if total > 0.0 { (kept / total) as f32 } else { 1.0 }),
        tensors,
        ..full.clone()
    })
}

/// The delta a vector adds to each parameter of `model` at α = 1, restricted to `groups`: full
/// tensors as stored, LoRA pairs as B·A reshaped to the parameter's shape.
pub fn deltas(v: &StyleVector, groups: &[Group], model: &dyn Backbone) -> Result<Vec<Delta>> {
    let (merged, adapters) = split(v, groups, model, false)?;
    debug_assert!(adapters.is_empty());
    Ok(merged)
}

/// A LoRA factor pair as conv weights: A `[r, in, k]` and B `[out, r, 1]` for parameter `name`.
pub type Factors = (String, Tensor, Tensor);

/// Like [`deltas`], but with `on_the_fly`, LoRA pairs the backbone can run on the fly
/// ([`Backbone::lora_on_the_fly`]) are returned as conv factors instead of merged deltas.
pub fn split(v: &StyleVector, groups: &[Group], model: &dyn Backbone, on_the_fly: bool) -> Result<(Vec<Delta>, Vec<Factors>)> {
    Group::check_all(groups, model)?;
    let mut out = Vec::new();
    let mut factored = Vec::new();
    for (name, t) in &v.tensors {
        let (param, delta) = match v.kind {
            Kind::Weights => (name.as_str(), t.clone()),
            Kind::Lora if name.ends_with(".lora_b") => continue,
            Kind::Lora => match name.strip_suffix(".lora_a") {
                Some(param) => {
                    let b = v.tensors.get(&format!("{param}.lora_b")).ok_or_else(|| Error::invalid("lora", format!("`{param}.lora_b` missing")))?;
                    let shape = model.parameter_shape(param).ok_or_else(|| Error::invalid("lora", format!("`{param}` is not a parameter")))?;
                    if on_the_fly && model.lora_on_the_fly(param, shape) {
                        if Group::any_contains(groups, model, param) {
                            let r = t.dim(0)?;
                            factored.push((param.to_string(), t.reshape((r, shape[1], shape[2]))?, b.reshape((shape[0], r, 1))?));
                        }
                        continue;
                    }
                    (param, b.matmul(t)?.reshape(shape)?)
                }
                None => (name.as_str(), t.clone()), // a 1-D delta kept full
            },
            Kind::Speaker | Kind::Steer | Kind::Rewrite => continue,
        };
        if Group::any_contains(groups, model, param) {
            out.push((param.to_string(), delta));
        }
    }
    Ok((out, factored))
}
