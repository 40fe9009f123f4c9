//! A differentiable twin of the text encoder `enc_p`, for learning its weights by gradient.
//!
//! The voice's own forward ([`crate::model::text_encoder`]) runs on fast CPU kernels that build
//! tensors from slices, and candle_nn's softmax and layer norm have no backward pass: candle's
//! autograd would silently stop there. The twin computes the same function (VITS
//! `attentions.Encoder` with windowed relative attention, then `proj`) from candle ops that all
//! have a backward pass — conv1d, matmul, gather, exp, sums — on the voice's loaded weights,
//! read by checkpoint path. Convolutions are sums of shifted matmuls (Piper's encoder convs are
//! odd-sized, stride 1, "same" padding). The trained parameters are `base + Δ` with Δ a [`Var`] starting at
//! zero, so the learned deltas are a task vector τ = θ_tuned − θ_base as they are.
//! `tests/learn.rs` checks the twin's m_p against the voice's and its gradients against finite
//! differences.

use std::collections::{BTreeMap, HashMap};

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var, D};

use crate::error::{Error, Result};
use crate::model::attention::band_indices;
use crate::model::Backbone;

/// Checkpoint paths of the text encoder.
const EMB: &str = crate::model::text_encoder::PHONEME_EMBEDDING;
const PROJ: &str = "enc_p.proj";
const LAYER_NORM_EPS: f64 = 1e-5;

/// The text encoder's weights by checkpoint path, some of them trained.
#[derive(Debug)]
pub struct EncoderTwin {
    /// Every `enc_p.*` parameter of the voice (frozen).
    base: HashMap<String, Tensor>,
    /// Δ of each trained parameter, same shape as its base.
    deltas: BTreeMap<String, Var>,
    /// Hidden channels, prior channels, attention heads, relative window, encoder layers.
    hidden: usize,
    inter: usize,
    heads: usize,
    window: usize,
    layers: usize,
}

impl EncoderTwin {
    /// The twin of `model`'s `enc_p`, training the parameters `trained` (checkpoint paths under
    /// `enc_p.`). Sizes come from the weights' shapes.
    pub fn new(model: &dyn Backbone, trained: &[String]) -> Result<Self> {
        let missing = |name: &str| Error::invalid("vector learn", format!("the voice has no `{name}`: learning the text encoder knows VITS (Piper) voices"));
        let base: HashMap<String, Tensor> = model
            .parameters()
            .iter()
            .filter(|(k, _)| k.starts_with("enc_p."))
            .map(|(k, v)| Ok((k.clone(), v.to_device(&Device::Cpu)?.to_dtype(DType::F32)?)))
            .collect::<Result<_>>()?;
        let (_, hidden) = base.get(EMB).ok_or_else(|| missing(EMB))?.dims2()?;
        let rel = base.get("enc_p.encoder.attn_layers.0.emb_rel_k").ok_or_else(|| missing("enc_p.encoder.attn_layers.0.emb_rel_k"))?;
        let (_, span, kc) = rel.dims3()?; // [1, 2w+1, k_channels]
        let inter = base.get(&format!("{PROJ}.weight")).ok_or_else(|| missing("enc_p.proj.weight"))?.dim(0)? / 2;
        let layers = (0..).take_while(|l| base.contains_key(&format!("enc_p.encoder.attn_layers.{l}.conv_q.weight"))).count();
        let mut deltas = BTreeMap::new();
        for name in trained {
            let b = base.get(name).ok_or_else(|| missing(name))?;
            deltas.insert(name.clone(), Var::zeros(b.shape(), DType::F32, &Device::Cpu)?);
        }
        Ok(EncoderTwin { base, deltas, hidden, inter, heads: hidden / kc, window: span / 2, layers })
    }

    /// The trained deltas, for an optimiser.
    pub fn vars(&self) -> Vec<Var> {
        self.deltas.values().cloned().collect()
    }

    /// The delta of trained parameter `name`.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.deltas.get(name)
    }

    /// The trained deltas by checkpoint path (detached copies).
    pub fn deltas(&self) -> Result<BTreeMap<String, Tensor>> {
        self.deltas.iter().map(|(k, v)| Ok((k.clone(), v.as_tensor().detach().copy()?))).collect()
    }

    /// Sets the trained deltas (by checkpoint path, as [`Self::deltas`] gives them).
    pub fn set_deltas(&self, deltas: &BTreeMap<String, Tensor>) -> Result<()> {
        for (name, v) in &self.deltas {
            if let Some(d) = deltas.get(name) {
                v.set(d)?;
            }
        }
        Ok(())
    }

    /// Parameter `name` as the forward sees it: base, plus Δ when trained.
    fn p(&self, name: &str) -> Result<Tensor> {
        let b = self.base.get(name).ok_or_else(|| Error::invalid("vector learn", format!("the voice has no `{name}`")))?;
        match self.deltas.get(name) {
            Some(d) => Ok((b + d.as_tensor())?),
            None => Ok(b.clone()),
        }
    }

    /// `{prefix}.weight` `[out, in, k]` and `.bias` applied to `x` `[in, t]` with "same" padding.
    fn conv(&self, prefix: &str, x: &Tensor) -> Result<Tensor> {
        let w = self.p(&format!("{prefix}.weight"))?;
        let b = self.p(&format!("{prefix}.bias"))?;
        let (k, t) = (w.dim(2)?, x.dim(1)?);
        // Σ over taps of W[:, :, j] · x shifted by j − k/2 (zero padded): matmuls only, whose
        // backward is as fast as their forward (candle's conv1d backward is a slow transposed conv).
        let padded = x.pad_with_zeros(1, k / 2, k / 2)?;
        let mut y = w.narrow(2, 0, 1)?.squeeze(2)?.matmul(&padded.narrow(1, 0, t)?)?;
        for j in 1..k {
            y = (y + w.narrow(2, j, 1)?.squeeze(2)?.matmul(&padded.narrow(1, j, t)?)?)?;
        }
        Ok(y.broadcast_add(&b.unsqueeze(1)?)?)
    }

    /// VITS' channel layer norm of `x` `[c, t]` with `{prefix}.gamma` / `.beta`.
    fn norm(&self, prefix: &str, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(0)?)?;
        let var = centred.sqr()?.mean_keepdim(0)?;
        let normed = centred.broadcast_div(&(var + LAYER_NORM_EPS)?.sqrt()?)?;
        Ok(normed.broadcast_mul(&self.p(&format!("{prefix}.gamma"))?.unsqueeze(1)?)?.broadcast_add(&self.p(&format!("{prefix}.beta"))?.unsqueeze(1)?)?)
    }

    /// `enc_p.encoder.attn_layers.{l}` on `x` `[c, t]`, with the band's gather indices.
    fn attention(&self, l: usize, x: &Tensor, band: &Band) -> Result<Tensor> {
        let pre = format!("enc_p.encoder.attn_layers.{l}");
        let (c, t) = x.dims2()?;
        let (h, kc, w) = (self.heads, c / self.heads, self.window);
        // [c, t] → [h, t, kc]
        let heads = |y: Tensor| -> Result<Tensor> { Ok(y.reshape((h, kc, t))?.transpose(1, 2)?.contiguous()?) };
        let q = heads((self.conv(&format!("{pre}.conv_q"), x)? / (kc as f64).sqrt())?)?;
        let k = heads(self.conv(&format!("{pre}.conv_k"), x)?)?;
        let v = heads(self.conv(&format!("{pre}.conv_v"), x)?)?;
        let rel_k = self.p(&format!("{pre}.emb_rel_k"))?.squeeze(0)?; // [2w+1, kc]
        let rel_v = self.p(&format!("{pre}.emb_rel_v"))?.squeeze(0)?;
        // Scores [h, t, t] plus q_i · rel_k[j − i + w] on the band (a zero column elsewhere).
        let rel_logits = q.broadcast_matmul(&rel_k.t()?)?.pad_with_zeros(2, 0, 1)?; // [h, t, 2w+2]
        let scores = (q.matmul(&k.t()?.contiguous()?)? + rel_logits.gather(&band.to_absolute, 2)?)?;
        // Softmax from ops (the max shift carries no gradient: softmax does not depend on it).
        let e = scores.broadcast_sub(&scores.max_keepdim(D::Minus1)?.detach())?.exp()?;
        let p = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
        // Output plus Σ_r p_i,(i+r−w) · rel_v[r].
        let rel_weights = p.pad_with_zeros(2, w, w)?.gather(&band.to_relative, 2)?; // [h, t, 2w+1]
        let out = (p.matmul(&v)? + rel_weights.broadcast_matmul(&rel_v)?)?; // [h, t, kc]
        self.conv(&format!("{pre}.conv_o"), &out.transpose(1, 2)?.reshape((c, t))?)
    }

    /// Phoneme ids of one sentence → prior mean m_p `[inter, t]`.
    pub fn forward(&self, ids: &[i64]) -> Result<Tensor> {
        Ok(self.conv(PROJ, &self.hidden(ids)?)?.narrow(0, 0, self.inter)?)
    }

    /// Phoneme ids of one sentence → the encoder's output `x` `[hidden, t]` (before `proj`; what
    /// the duration predictor reads).
    pub fn hidden(&self, ids: &[i64]) -> Result<Tensor> {
        let t = ids.len();
        let idx = Tensor::from_vec(ids.iter().map(|&i| i as u32).collect::<Vec<_>>(), t, &Device::Cpu)?;
        let mut x = (self.p(EMB)?.index_select(&idx, 0)? * (self.hidden as f64).sqrt())?.t()?.contiguous()?; // [h, t]
        let band = Band::new(t, self.window, self.heads)?;
        for l in 0..self.layers {
            let enc = "enc_p.encoder";
            let y = self.attention(l, &x, &band)?;
            x = self.norm(&format!("{enc}.norm_layers_1.{l}"), &(x + y)?)?;
            let ffn = format!("{enc}.ffn_layers.{l}");
            let y = self.conv(&format!("{ffn}.conv_2"), &self.conv(&format!("{ffn}.conv_1"), &x)?.relu()?)?;
            x = self.norm(&format!("{enc}.norm_layers_2.{l}"), &(x + y)?)?;
        }
        Ok(x)
    }
}

/// The gradients of `vars` under `loss` summed over the pieces of `set` taken `chunk` at a
/// time, and the summed loss; `None` for an empty set. One graph per chunk: candle keeps a
/// gradient for every node of a graph, so one graph over a whole training set would take
/// gigabytes.
pub fn chunked_gradients<T>(vars: &[Var], set: &[T], chunk: usize, mut loss: impl FnMut(&[T]) -> Result<Tensor>) -> Result<Option<(GradStore, f32)>> {
    let mut sums: Vec<Option<Tensor>> = vec![None; vars.len()];
    let mut total = 0f32;
    let mut last = None;
    for piece in set.chunks(chunk.max(1)) {
        let l = loss(piece)?;
        total += l.to_scalar::<f32>()?;
        let grads = l.backward()?;
        for (sum, v) in sums.iter_mut().zip(vars) {
            if let Some(g) = grads.get(v.as_tensor()) {
                *sum = Some(match sum.take() {
                    Some(s) => (s + g)?,
                    None => g.clone(),
                });
            }
        }
        last = Some(grads);
    }
    let Some(mut grads) = last else { return Ok(None) };
    for (sum, v) in sums.into_iter().zip(vars) {
        if let Some(s) = sum {
            grads.insert(v.as_tensor(), s);
        }
    }
    Ok(Some((grads, total)))
}

/// Gather indices that move the relative-position band between relative and absolute positions
/// for one sentence length ([`band_indices`], over the heads).
struct Band {
    /// `[h, t, t]`
    to_absolute: Tensor,
    /// `[h, t, 2w+1]`
    to_relative: Tensor,
}

impl Band {
    fn new(t: usize, w: usize, h: usize) -> Result<Self> {
        let (to_absolute, to_relative) = band_indices(t, w, &[h], &Device::Cpu)?;
        Ok(Band { to_absolute, to_relative })
    }
}
