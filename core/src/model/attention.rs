//! Multi-head self-attention with windowed relative positions (VITS `attentions.MultiHeadAttention`,
//! `window_size` set, no proximal bias, no block mask).
//!
//! For query i and key j with |j − i| ≤ w, the score gains q_i · emb_rel_k[j − i + w] and the output
//! gains p_ij · emb_rel_v[j − i + w]; outside the window both terms are zero. VITS computes this
//! with pad/reshape tricks; here the band is added and read back in place on the CPU
//! ([`banded_softmax`]) or gathered on other devices, which is the same arithmetic.

use candle_core::{Device, Result, Tensor};
use candle_nn::VarBuilder;

use super::activations::banded_softmax;
use super::lora::Adapters;
use super::modules::{Conv1d, ConvSpec};

/// `enc_p.encoder.attn_layers.N`.
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    conv_q: Conv1d,
    conv_k: Conv1d,
    conv_v: Conv1d,
    conv_o: Conv1d,
    /// `[2w+1, k_channels]`
    emb_rel_k: Tensor,
    /// `[2w+1, k_channels]`
    emb_rel_v: Tensor,
    n_heads: usize,
    window: usize,
}

impl MultiHeadAttention {
    pub fn load(vb: VarBuilder, channels: usize, n_heads: usize, window: usize) -> Result<Self> {
        let conv = |name| Conv1d::load(vb.pp(name), channels, channels, 1, ConvSpec::pointwise(), true);
        let k_channels = channels / n_heads;
        Ok(MultiHeadAttention {
            conv_q: conv("conv_q")?,
            conv_k: conv("conv_k")?,
            conv_v: conv("conv_v")?,
            conv_o: conv("conv_o")?,
            emb_rel_k: vb.get((1, 2 * window + 1, k_channels), "emb_rel_k")?.squeeze(0)?,
            emb_rel_v: vb.get((1, 2 * window + 1, k_channels), "emb_rel_v")?.squeeze(0)?,
            n_heads,
            window,
        })
    }

    /// `[b, c, t]` → `[b, c, t]`; `band` is [`RelativeBand::new`] for this `b`, `t` and window.
    pub fn forward(&self, x: &Tensor, band: &RelativeBand, lora: &Adapters) -> Result<Tensor> {
        let (b, c, t) = x.dims3()?;
        let (h, kc, w) = (self.n_heads, c / self.n_heads, self.window);
        // [b, c, t] → [b, h, t, kc]
        let heads = |y: Tensor| y.reshape((b, h, kc, t))?.transpose(2, 3)?.contiguous();
        let q = (heads(self.conv_q.forward(x, lora)?)? / (kc as f64).sqrt())?;
        let k = heads(self.conv_k.forward(x, lora)?)?;
        let v = heads(self.conv_v.forward(x, lora)?)?;

        // Scores with the relative-key term on the band |j − i| ≤ w; the weights p, and their
        // band p_i,(i+r−w) for r in 0..=2w for the relative-value term.
        let scores = q.matmul(&k.t()?)?; // [b, h, t, t]
        let rel_logits = q.broadcast_matmul(&self.emb_rel_k.t()?)?; // [b, h, t, 2w+1]
        let (p, rel_weights) = match &band.gather {
            None => {
                let (p, p_band) = banded_softmax(&scores.reshape((b * h, t, t))?, &rel_logits.reshape((b * h, t, 2 * w + 1))?, w)?;
                (p.reshape((b, h, t, t))?, p_band.reshape((b, h, t, 2 * w + 1))?)
            }
            Some(g) => {
                // One zero column at index 2w+1 for everything outside the window.
                let rel_logits = rel_logits.pad_with_zeros(3, 0, 1)?;
                let p = candle_nn::ops::softmax_last_dim(&(scores + rel_logits.gather(&g.to_absolute, 3)?)?)?;
                let p_padded = p.pad_with_zeros(3, w, w)?; // [b, h, t, t+2w]
                let rel_weights = p_padded.gather(&g.to_relative, 3)?; // [b, h, t, 2w+1]
                (p, rel_weights)
            }
        };
        let out = (p.matmul(&v)? + rel_weights.broadcast_matmul(&self.emb_rel_v)?)?; // [b, h, t, kc]

        let out = out.transpose(2, 3)?.reshape((b, c, t))?;
        self.conv_o.forward(&out, lora)
    }
}

/// How the relative-position band is moved between relative and absolute positions for one
/// sequence length, shared by all layers: on the CPU by [`banded_softmax`], elsewhere by gathers.
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
        if device.is_cpu() {
            return Ok(RelativeBand { gather: None });
        }
        let abs: Vec<u32> = (0..t)
            .flat_map(|i| (0..t).map(move |j| if i.abs_diff(j) <= w { (j + w - i) as u32 } else { (2 * w + 1) as u32 }))
            .collect();
        let rel: Vec<u32> = (0..t).flat_map(|i| (0..=2 * w).map(move |r| (i + r) as u32)).collect();
        Ok(RelativeBand {
            gather: Some(BandGather {
                to_absolute: Tensor::from_vec(abs, (1, 1, t, t), device)?.broadcast_as((b, h, t, t))?.contiguous()?,
                to_relative: Tensor::from_vec(rel, (1, 1, t, 2 * w + 1), device)?.broadcast_as((b, h, t, 2 * w + 1))?.contiguous()?,
            }),
        })
    }
}
