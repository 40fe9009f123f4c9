//! The text encoder `enc_p`: phoneme embedding, a relative-attention Transformer encoder
//! (`enc_p.encoder`), and the projection to the prior's mean and log-std (`enc_p.proj`).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::attention::{MultiHeadAttention, RelativeBand};
use super::config::VitsConfig;
use super::lora::Adapters;
use super::modules::{Conv1d, ConvSpec, Fused, LayerNorm, NormFused};

/// `enc_p.encoder.ffn_layers.N`: conv → ReLU → conv, "same" padding (the ReLU fused into the
/// second conv's input pass as a LeakyReLU of slope 0).
#[derive(Debug, Clone)]
struct Ffn {
    conv_1: Conv1d,
    conv_2: Conv1d,
}

impl Ffn {
    fn load(vb: VarBuilder, channels: usize, filter: usize, kernel: usize) -> Result<Self> {
        let spec = ConvSpec::same(kernel, 1);
        Ok(Ffn {
            conv_1: Conv1d::load(vb.pp("conv_1"), channels, filter, kernel, spec, true)?,
            conv_2: Conv1d::load(vb.pp("conv_2"), filter, channels, kernel, spec, true)?,
        })
    }
}

impl Ffn {
    fn forward(&self, x: &Tensor, lora: &Adapters) -> Result<Tensor> {
        let relu = Fused { pre_slope: Some(0.0), residual: None };
        self.conv_2.forward_fused(&self.conv_1.forward(x, lora)?, relu, lora)
    }
}

/// One encoder layer: attention and FFN, each with a residual and a post-norm.
#[derive(Debug, Clone)]
struct EncoderLayer {
    attn: MultiHeadAttention,
    norm_1: LayerNorm,
    ffn: Ffn,
    norm_2: LayerNorm,
}

/// What the text encoder gives the rest of the model for one sentence.
#[derive(Debug, Clone)]
pub struct TextEncoding {
    /// Encoder output `[b, hidden, t]` (input of the duration predictor).
    pub x: Tensor,
    /// Prior mean `[b, inter, t]`.
    pub m_p: Tensor,
    /// Prior log-std `[b, inter, t]`.
    pub logs_p: Tensor,
}

/// Checkpoint path of the phoneme embedding `[n_vocab, hidden]` (what `rewrite` vectors act on,
/// and where a voice's learned phonemes show).
pub const PHONEME_EMBEDDING: &str = "enc_p.emb.weight";

/// `enc_p`.
#[derive(Debug, Clone)]
pub struct TextEncoder {
    /// `enc_p.emb.weight` `[n_vocab, hidden]`
    emb: Tensor,
    layers: Vec<EncoderLayer>,
    proj: Conv1d,
    hidden: usize,
    inter: usize,
    n_heads: usize,
    window: usize,
}

impl TextEncoder {
    pub fn load(vb: VarBuilder, c: &VitsConfig) -> Result<Self> {
        let h = c.hidden_channels;
        let enc = vb.pp("encoder");
        let layers = (0..c.n_layers)
            .map(|l| {
                Ok(EncoderLayer {
                    attn: MultiHeadAttention::load(enc.pp(format!("attn_layers.{l}")), h, c.n_heads, c.window_size)?,
                    norm_1: LayerNorm::load(enc.pp(format!("norm_layers_1.{l}")), h)?,
                    ffn: Ffn::load(enc.pp(format!("ffn_layers.{l}")), h, c.filter_channels, c.kernel_size)?,
                    norm_2: LayerNorm::load(enc.pp(format!("norm_layers_2.{l}")), h)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TextEncoder {
            emb: vb.pp("emb").get((c.n_vocab, h), "weight")?,
            layers,
            proj: Conv1d::load(vb.pp("proj"), h, 2 * c.inter_channels, 1, ConvSpec::pointwise(), true)?,
            hidden: h,
            inter: c.inter_channels,
            n_heads: c.n_heads,
            window: c.window_size,
        })
    }

    /// Phoneme ids `[b, t]` (u32) → encoder output and prior statistics. `blends`: other ids
    /// `[b, t]` (a phoneme rewrite's) whose embeddings are mixed in, each at its α:
    /// `emb[ids] + Σ α·(emb[other] − emb[ids])`.
    pub fn forward(&self, ids: &Tensor, lora: &Adapters, blends: &[(Tensor, f32)]) -> Result<TextEncoding> {
        let (b, t) = ids.dims2()?;
        let embed = |ids: &Tensor| self.emb.index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.hidden));
        let mut x = embed(ids)?;
        let own = x.clone();
        for (other, alpha) in blends {
            x = (x + ((embed(other)? - &own)? * *alpha as f64)?)?;
        }
        let mut x = (x * (self.hidden as f64).sqrt())?.transpose(1, 2)?.contiguous()?; // [b, h, t]
        let band = RelativeBand::new(t, self.window, b, self.n_heads, ids.device())?;
        for layer in &self.layers {
            let y = layer.attn.forward(&x, &band, lora)?;
            x = layer.norm_1.forward_fused(&x, NormFused { before: Some(&y), ..Default::default() })?;
            let y = layer.ffn.forward(&x, lora)?;
            x = layer.norm_2.forward_fused(&x, NormFused { before: Some(&y), ..Default::default() })?;
        }
        let stats = self.proj.forward(&x, lora)?;
        Ok(TextEncoding {
            m_p: stats.narrow(1, 0, self.inter)?,
            logs_p: stats.narrow(1, self.inter, self.inter)?,
            x,
        })
    }
}
