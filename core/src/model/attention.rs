//! Multi-head self-attention with windowed relative positions (VITS `attentions.MultiHeadAttention`,
//! `window_size` set, no proximal bias, no block mask).
//!
//! For query i and key j with |j − i| ≤ w, the score gains q_i · emb_rel_k[j − i + w] and the output
//! gains p_ij · emb_rel_v[j − i + w]; outside the window both terms are zero. VITS computes this
//! with pad/reshape tricks; here the band is added and read back in place on the CPU
//! (`attention_cpu`) or gathered on other devices, which is the same arithmetic.

use candle_core::{Device, Result, Tensor};
use candle_nn::VarBuilder;

use super::attention_cpu::{self, RelativePacked};
use super::lora::Adapters;
use super::modules::{Conv1d, ConvSpec};

/// `enc_p.encoder.attn_layers.N`.
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    conv_q: Conv1d,
    conv_k: Conv1d,
    conv_v: Conv1d,
    conv_o: Conv1d,
    /// `conv_q` (scaled by 1/√k_channels), `conv_k` and `conv_v` as one conv, for passes without
    /// adapters on them.
    qkv: Conv1d,
    /// `[2w+1, k_channels]`
    emb_rel_k: Tensor,
    /// `[2w+1, k_channels]`
    emb_rel_v: Tensor,
    n_heads: usize,
    window: usize,
    /// The relative embeddings in the CPU kernel's layout, made at the first CPU forward.
    rel_packed: std::sync::OnceLock<RelativePacked>,
}

impl MultiHeadAttention {
    pub fn load(vb: VarBuilder, channels: usize, n_heads: usize, window: usize) -> Result<Self> {
        let conv = |name| Conv1d::load(vb.pp(name), channels, channels, 1, ConvSpec::pointwise(), true);
        let k_channels = channels / n_heads;
        let (conv_q, conv_k, conv_v) = (conv("conv_q")?, conv("conv_k")?, conv("conv_v")?);
        let scale = 1.0 / (k_channels as f64).sqrt();
        let qkv = Conv1d::stacked(&[(&conv_q, scale), (&conv_k, 1.0), (&conv_v, 1.0)], &format!("{}.qkv", vb.prefix()))?;
        Ok(MultiHeadAttention {
            conv_q,
            conv_k,
            conv_v,
            conv_o: conv("conv_o")?,
            qkv,
            emb_rel_k: vb.get((1, 2 * window + 1, k_channels), "emb_rel_k")?.squeeze(0)?,
            emb_rel_v: vb.get((1, 2 * window + 1, k_channels), "emb_rel_v")?.squeeze(0)?,
            n_heads,
            window,
            rel_packed: Default::default(),
        })
    }

    /// `[b, c, t]` → `[b, c, t]`; `band` is [`RelativeBand::new`] for this `b`, `t` and window.
    pub fn forward(&self, x: &Tensor, band: &RelativeBand, lora: &Adapters) -> Result<Tensor> {
        self.forward_queries(x, x.dim(2)?, band, lora)
    }

    /// [`Self::forward`]'s outputs at the first `tq` positions only, `[b, c, tq]` (every key
    /// and value still from all of `x`): the same values as there. On devices other than the
    /// CPU, `tq` must be all.
    pub fn forward_queries(&self, x: &Tensor, tq: usize, band: &RelativeBand, lora: &Adapters) -> Result<Tensor> {
        let (c, t) = (x.dim(1)?, x.dim(2)?);
        let (q, k, v) = if [&self.conv_q, &self.conv_k, &self.conv_v].iter().any(|conv| lora.has(conv.id())) {
            let q = (self.conv_q.forward(x, lora)? / ((c / self.n_heads) as f64).sqrt())?;
            (q, self.conv_k.forward(x, lora)?, self.conv_v.forward(x, lora)?)
        } else {
            // One pass over the input for all three (and the query's scale in its weights).
            let qkv = self.qkv.forward(x, lora)?;
            (qkv.narrow(1, 0, c)?, qkv.narrow(1, c, c)?, qkv.narrow(1, 2 * c, c)?)
        };
        let out = match &band.gather {
            None => {
                let rel = match self.rel_packed.get() {
                    Some(r) => r,
                    None => {
                        let r = RelativePacked::new(&self.emb_rel_k, &self.emb_rel_v, self.window)?;
                        self.rel_packed.get_or_init(|| r)
                    }
                };
                let q = if tq < t { q.narrow(2, 0, tq)? } else { q };
                attention_cpu::attend(&q, &k, &v, self.n_heads, rel)?
            }
            Some(_) if tq != t => candle_core::bail!("attention: {tq} of {t} queries off the CPU"),
            Some(g) => self.attend_gathered(&q, &k, &v, g)?,
        };
        self.conv_o.forward(&out, lora)
    }

    /// The attention core with tensor ops and gathers (devices other than the CPU): `q` (scaled),
    /// `k`, `v` `[b, c, t]` → `[b, c, t]`.
    fn attend_gathered(&self, q: &Tensor, k: &Tensor, v: &Tensor, g: &BandGather) -> Result<Tensor> {
        let (b, c, t) = q.dims3()?;
        let (h, kc, w) = (self.n_heads, c / self.n_heads, self.window);
        // [b, c, t] → [b, h, t, kc]
        let heads = |y: &Tensor| y.reshape((b, h, kc, t))?.transpose(2, 3)?.contiguous();
        let (q, k, v) = (heads(q)?, heads(k)?, heads(v)?);
        // Scores with the relative-key term on the band |j − i| ≤ w (one zero column at index
        // 2w+1 for everything outside the window).
        let scores = q.matmul(&k.t()?)?; // [b, h, t, t]
        let rel_logits = q.broadcast_matmul(&self.emb_rel_k.t()?)?.pad_with_zeros(3, 0, 1)?; // [b, h, t, 2w+2]
        let p = candle_nn::ops::softmax_last_dim(&(scores + rel_logits.gather(&g.to_absolute, 3)?)?)?;
        // Output with the relative-value term: weights p_i,(i+r−w) for r in 0..=2w.
        let p_padded = p.pad_with_zeros(3, w, w)?; // [b, h, t, t+2w]
        let rel_weights = p_padded.gather(&g.to_relative, 3)?; // [b, h, t, 2w+1]
        let out = (p.matmul(&v)? + rel_weights.broadcast_matmul(&self.emb_rel_v)?)?; // [b, h, t, kc]
        out.transpose(2, 3)?.reshape((b, c, t))
    }
}

/// How the relative-position band is moved between relative and absolute positions for one
/// sequence length, shared by all layers: on the CPU in place (`attention_cpu`), elsewhere by
/// gathers.
#[derive(Debug, Clone)]
pub struct RelativeBand {
    gather: Option<BandGather>,
}

/// The gather indices of the band (devices other than the CPU).
#[derive(Debug, Clone)]
struct BandGather {
    /// `[b, h, t, t]` into the relative logits padded with one zero column: j − i + w inside the
    /// window, else 2w+1.
    to_absolute: Tensor,
    /// `[b, h, t, 2w+1]` into the attention weights padded by w on both sides: i + r.
    to_relative: Tensor,
}

impl RelativeBand {
    /// For `b` sequences of length `t`, `h` heads and window `w` on `device`.
    pub fn new(t: usize, w: usize, b: usize, h: usize, device: &Device) -> Result<Self> {
        let gather = (!device.is_cpu()).then(|| BandGather::new(t, w, b, h, device)).transpose()?;
        Ok(RelativeBand { gather })
    }

    /// Whether attention runs on the CPU core (`attention_cpu`), which may take fewer
    /// queries than keys.
    pub fn on_cpu(&self) -> bool {
        self.gather.is_none()
    }
}

impl BandGather {
    fn new(t: usize, w: usize, b: usize, h: usize, device: &Device) -> Result<Self> {
        let (to_absolute, to_relative) = band_indices(t, w, &[b, h], device)?;
        Ok(BandGather { to_absolute, to_relative })
    }
}

/// The gather indices of the relative-position band for length `t` and window `w`, broadcast
/// over the leading dims `lead`: into the relative logits padded with one zero column
/// `[..lead, t, t]` (j − i + w inside the window, else 2w+1), and into the attention weights
/// padded by w on both sides `[..lead, t, 2w+1]` (i + r).
pub fn band_indices(t: usize, w: usize, lead: &[usize], device: &Device) -> Result<(Tensor, Tensor)> {
    let abs: Vec<u32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if i.abs_diff(j) <= w { (j + w - i) as u32 } else { (2 * w + 1) as u32 }))
        .collect();
    let rel: Vec<u32> = (0..t).flat_map(|i| (0..=2 * w).map(move |r| (i + r) as u32)).collect();
    let shape = |last: usize| -> Vec<usize> { lead.iter().copied().chain([t, last]).collect() };
    Ok((
        Tensor::from_vec(abs, (t, t), device)?.broadcast_as(shape(t))?.contiguous()?,
        Tensor::from_vec(rel, (t, 2 * w + 1), device)?.broadcast_as(shape(2 * w + 1))?.contiguous()?,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The CPU core (products on the conv kernel, band in place) computes what the tensor ops
    /// with gathers compute, for lengths inside and shorter than the window, two sequences.
    #[test]
    fn cpu_core_matches_the_gathered_ops() {
        let dev = Device::Cpu;
        let (c, heads, w) = (12, 2, 4);
        let mut tensors = HashMap::new();
        for name in ["conv_q", "conv_k", "conv_v", "conv_o"] {
            tensors.insert(format!("{name}.weight"), Tensor::randn(0f32, 0.3, (c, c, 1), &dev).unwrap());
            tensors.insert(format!("{name}.bias"), Tensor::randn(0f32, 0.3, c, &dev).unwrap());
        }
        tensors.insert("emb_rel_k".into(), Tensor::randn(0f32, 0.5, (1, 2 * w + 1, c / heads), &dev).unwrap());
        tensors.insert("emb_rel_v".into(), Tensor::randn(0f32, 0.5, (1, 2 * w + 1, c / heads), &dev).unwrap());
        let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, &dev);
        let attn = MultiHeadAttention::load(vb, c, heads, w).unwrap();
        let lora = Adapters::default();
        for (b, t) in [(1, 3), (1, 37), (2, 70)] {
            let x = Tensor::randn(0f32, 1.0, (b, c, t), &dev).unwrap();
            let band = RelativeBand::new(t, w, b, heads, &dev).unwrap();
            assert!(band.gather.is_none(), "the CPU takes the in-place path");
            let got = attn.forward(&x, &band, &lora).unwrap();
            let gathered = RelativeBand { gather: Some(BandGather::new(t, w, b, heads, &dev).unwrap()) };
            let want = attn.forward(&x, &gathered, &lora).unwrap();
            let err = (got.clone() - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(err < 1e-5, "b {b}, t {t}: max diff {err}");
            // An adapter on conv_q (here one that adds nothing) takes the three separate convs
            // instead of the stacked one: the same result but for rounding.
            let mut with_adapter = Adapters::default();
            let zero = |dims: (usize, usize, usize)| Tensor::zeros(dims, candle_core::DType::F32, &dev).unwrap();
            with_adapter.add("conv_q.weight", crate::model::lora::Adapter { a: zero((1, c, 1)), b: zero((c, 1, 1)), alpha: 1.0 });
            let separate = attn.forward(&x, &band, &with_adapter).unwrap();
            let err = (got - separate).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(err < 1e-5, "b {b}, t {t}: stacked vs separate q, k, v: max diff {err}");
        }
    }
}
