//! LoRA applied on the fly: a conv with weight W computes W ⊛ x + Σ αᵢ · Bᵢ(Aᵢ ⊛ x), the base
//! weights untouched and shared.
//!
//! Adapters are resolved once per α change into a map keyed by [`ParamId`] (each conv knows its
//! own id from loading), and passed explicitly to every forward pass ([`super::Cond`]): no
//! string is compared in a forward pass and nothing depends on which thread runs it.

use std::collections::HashMap;

use candle_core::{Result, Tensor};

/// A parameter path (`dec.resblocks.8.convs.1.weight`) as a number, computed once at load:
/// 64-bit FNV-1a of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(u64);

impl ParamId {
    /// The id of parameter `path`.
    pub fn of(path: &str) -> Self {
        let h = path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3));
        ParamId(h)
    }
}

/// One low-rank term of a conv: A `[r, in, k]` (a conv like W's), B `[out, r, 1]`, scaled by α.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub a: Tensor,
    pub b: Tensor,
    pub alpha: f32,
}

/// The adapters of one conv weight, under its parameter path.
#[derive(Debug, Clone)]
struct ParamAdapters {
    path: String,
    terms: Vec<Adapter>,
}

/// Adapters by conv weight parameter (empty: plain weights).
#[derive(Debug, Clone, Default)]
pub struct Adapters(HashMap<ParamId, ParamAdapters>);

impl Adapters {
    /// Adds `adapter` to the conv whose weight is parameter `path`.
    pub fn add(&mut self, path: &str, adapter: Adapter) {
        let entry = self.0.entry(ParamId::of(path)).or_insert_with(|| ParamAdapters { path: path.to_string(), terms: Vec::new() });
        entry.terms.push(adapter);
    }

    /// Whether the conv whose weight is `id` has adapters.
    pub fn has(&self, id: ParamId) -> bool {
        self.0.contains_key(&id)
    }

    /// No adapters at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parameter paths that have adapters, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.0.values().map(|a| a.path.as_str()).collect();
        p.sort_unstable();
        p
    }

    /// Adds the adapters of parameter `id` to a conv's output `y` `[b, out, t]`, given the
    /// conv's (activated) input `x` (made only when there are adapters) and its padding and
    /// dilation.
    pub fn apply(&self, id: ParamId, x: impl FnOnce() -> Result<Tensor>, y: Tensor, padding: usize, dilation: usize) -> Result<Tensor> {
        let Some(adapters) = self.0.get(&id) else { return Ok(y) };
        let x = x()?;
        adapters.terms.iter().try_fold(y, |y, ad| {
            let low = x.conv1d(&ad.a, padding, 1, dilation, 1)?; // [b, r, t]
            y + (low.conv1d(&ad.b, 0, 1, 1, 1)? * ad.alpha as f64)?
        })
    }
}
