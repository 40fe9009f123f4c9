//! Task vectors in weight space: τ = θ_tuned − θ_base (`weights`), its low-rank form (`lora`),
//! and the merged delta Σ αᵢ·τᵢ a model copy is built from.

use std::collections::{BTreeMap, HashMap};

use candle_core::{Device, Tensor};

use super::format::{Kind, StyleVector};
use super::groups::Group;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};

/// `tuned − base` over the parameters of `groups` (a `weights` vector; unchanged parameters are
/// left out). Both must have the same parameters and shapes.
pub fn weight_delta(base: &Checkpoint, tuned: &Checkpoint, groups: &[Group], n_layers: usize, base_hash: &str) -> Result<StyleVector> {
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
        if !groups.iter().any(|g| g.contains(name, n_layers)) {
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
    Ok(StyleVector {
        kind: Kind::Weights,
        base: base_hash.to_string(),
        groups: groups.to_vec(),
        default_alpha: 1.0,
        description: String::new(),
        rank: None,
        energy: None,
        tensors,
        path: None,
    })
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

/// The delta a vector adds to each parameter at α = 1, restricted to `groups`: full tensors as
/// stored, LoRA pairs as B·A reshaped to the parameter's shape (`shape_of`).
pub fn deltas(v: &StyleVector, groups: &[Group], n_layers: usize, shape_of: impl Fn(&str) -> Option<Vec<usize>>) -> Result<Vec<(String, Tensor)>> {
    let (merged, adapters) = split(v, groups, n_layers, shape_of, |_, _| false)?;
    debug_assert!(adapters.is_empty());
    Ok(merged)
}

/// A LoRA factor pair as conv weights: A `[r, in, k]` and B `[out, r, 1]` for parameter `name`.
pub type Factors = (String, Tensor, Tensor);

/// A parameter's name and its delta at α = 1.
pub type Delta = (String, Tensor);

/// Like [`deltas`], but LoRA pairs for which `keep_factored(param, shape)` holds are returned
/// as conv factors (to apply on the fly) instead of merged deltas.
pub fn split(
    v: &StyleVector,
    groups: &[Group],
    n_layers: usize,
    shape_of: impl Fn(&str) -> Option<Vec<usize>>,
    keep_factored: impl Fn(&str, &[usize]) -> bool,
) -> Result<(Vec<Delta>, Vec<Factors>)> {
    let mut out = Vec::new();
    let mut factored = Vec::new();
    for (name, t) in &v.tensors {
        let (param, delta) = match v.kind {
            Kind::Weights => (name.as_str(), t.clone()),
            Kind::Lora if name.ends_with(".lora_b") => continue,
            Kind::Lora => match name.strip_suffix(".lora_a") {
                Some(param) => {
                    let b = v.tensors.get(&format!("{param}.lora_b")).ok_or_else(|| Error::invalid("lora", format!("`{param}.lora_b` missing")))?;
                    let shape = shape_of(param).ok_or_else(|| Error::invalid("lora", format!("`{param}` is not a parameter")))?;
                    if keep_factored(param, &shape) {
                        if groups.iter().any(|g| g.contains(param, n_layers)) {
                            let r = t.dim(0)?;
                            factored.push((param.to_string(), t.reshape((r, shape[1], shape[2]))?, b.reshape((shape[0], r, 1))?));
                        }
                        continue;
                    }
                    (param, b.matmul(t)?.reshape(shape)?)
                }
                None => (name.as_str(), t.clone()), // a 1-D delta kept full
            },
            Kind::Speaker | Kind::Steer => continue,
        };
        if groups.iter().any(|g| g.contains(param, n_layers)) {
            out.push((param.to_string(), delta));
        }
    }
    Ok((out, factored))
}

/// `base` with Σ αᵢ·Δᵢ added to the parameters the deltas name (others are the same tensors,
/// shared, not copied).
pub fn merge(base: &HashMap<String, Tensor>, terms: &[(f32, Vec<(String, Tensor)>)]) -> Result<HashMap<String, Tensor>> {
    let mut out = base.clone();
    for (alpha, deltas) in terms {
        if *alpha == 0.0 {
            continue;
        }
        for (name, d) in deltas {
            let w = out.get(name).ok_or_else(|| Error::invalid("style vector", format!("`{name}` is not a parameter")))?;
            let updated = (w + (d.to_device(w.device())? * *alpha as f64)?)?;
            out.insert(name.clone(), updated);
        }
    }
    Ok(out)
}
