//! LoRA applied on the fly: a conv with weight W computes W ⊛ x + Σ αᵢ · Bᵢ(Aᵢ ⊛ x), the base
//! weights untouched and shared.
//!
//! A job's adapters (parameter name → factors and α) are made active for the duration of its
//! step with [`activate`]; each [`crate::model::modules::Conv1d`] looks up its own parameter
//! name. The set is per thread and per step, so requests on other workers never see it, and
//! changing α only rebuilds this small map.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use candle_core::{Result, Tensor};

/// One low-rank term of a conv: A `[r, in, k]` (a conv like W's), B `[out, r, 1]`, scaled by α.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub a: Tensor,
    pub b: Tensor,
    pub alpha: f32,
}

/// Adapters by conv weight parameter name (`dec.resblocks.8.convs.1.weight`).
pub type Adapters = HashMap<String, Vec<Adapter>>;

thread_local! {
    static ACTIVE: RefCell<Option<Arc<Adapters>>> = const { RefCell::new(None) };
}

/// Makes `adapters` active on this thread until the returned guard drops (which restores what
/// was active before).
#[must_use = "the adapters are active only while the guard lives"]
pub fn activate(adapters: Option<Arc<Adapters>>) -> Active {
    Active(ACTIVE.with(|a| std::mem::replace(&mut *a.borrow_mut(), adapters)))
}

/// Guard of [`activate`].
pub struct Active(Option<Arc<Adapters>>);

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.with(|a| *a.borrow_mut() = self.0.take());
    }
}

/// Adds the active adapters of conv `name` to its output `y`, given its (activated) input `x`
/// and its padding and dilation.
pub fn apply(name: &str, x: impl FnOnce() -> Result<Tensor>, y: Tensor, padding: usize, dilation: usize) -> Result<Tensor> {
    let active = ACTIVE.with(|a| a.borrow().as_ref().and_then(|m| m.get(name).cloned()));
    let Some(adapters) = active else { return Ok(y) };
    let x = x()?;
    adapters.iter().try_fold(y, |y, ad| {
        let low = x.conv1d(&ad.a, padding, 1, dilation, 1)?; // [b, r, t]
        y + (low.conv1d(&ad.b, 0, 1, 1, 1)? * ad.alpha as f64)?
    })
}

/// Whether a LoRA delta of parameter `name` (shape `shape`) can run on the fly: dense convs
/// only. Transposed convs (`dec.ups.*`), depthwise convs (`convs_sep`), embeddings and 1-D
/// parameters are merged into a copy instead.
pub fn on_the_fly(name: &str, shape: &[usize]) -> bool {
    shape.len() == 3 && name.ends_with(".weight") && !name.starts_with("dec.ups.") && !name.contains("convs_sep")
}
