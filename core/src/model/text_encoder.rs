//! The text encoder `enc_p`: phoneme embedding, a relative-attention Transformer encoder
//! (`enc_p.encoder`), and the projection to the prior's mean and log-std (`enc_p.proj`).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::attention::{MultiHeadAttention, RelativeBand};
use super::config::VitsConfig;
use super::lora::Adapters;
use super::modules::{Conv1d, ConvSpec, Fused, LayerNorm, NormFused};

/// `enc_p.encoder.ffn_layers.N`: conv → ReLU → conv, "same" padding (the ReLU fused into the
/// second conv's input pass as a LeakyReLU of slope 0). Every layer but the last runs over the
/// whole sentence, always (its outputs are the next layer's keys), so its convs may take
/// Winograd's F(4, 3) ([`Conv1d::winograd`]); the last one's run over the first ids alone
/// ([`TextEncoder::forward_head`]) must equal the whole's bit for bit (the sentence's first
/// frames are computed from it before the rest), so it stays direct.
#[derive(Debug, Clone)]
struct Ffn {
    conv_1: Conv1d,
    conv_2: Conv1d,
}

impl Ffn {
    fn load(vb: VarBuilder, channels: usize, filter: usize, kernel: usize, whole: bool) -> Result<Self> {
        let spec = ConvSpec::same(kernel, 1);
        let load = |name: &str, c_in: usize, c_out: usize| {
            let conv = Conv1d::load(vb.pp(name), c_in, c_out, kernel, spec, true)?;
            Ok::<_, candle_core::Error>(if whole { conv.winograd() } else { conv })
        };
        Ok(Ffn { conv_1: load("conv_1", channels, filter)?, conv_2: load("conv_2", filter, channels)? })
    }
}

impl Ffn {
    /// Positions each side one output reads.
    fn reach(&self) -> usize {
        self.conv_1.padding() + self.conv_2.padding()
    }

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

/// The input of the encoder's last layer `[b, h, t]` and the band it attends with: what
/// [`TextEncoder::finish`] completes a [`TextEncoder::forward_head`] from.
#[derive(Debug, Clone)]
pub struct EncoderRest {
    x: Tensor,
    band: RelativeBand,
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
                    ffn: Ffn::load(enc.pp(format!("ffn_layers.{l}")), h, c.filter_channels, c.kernel_size, l + 1 < c.n_layers)?,
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
        let rest = self.before_last(ids, lora, blends)?;
        self.last(&rest, rest.x.dim(2)?, lora)
    }

    /// [`Self::forward`]'s outputs at the first `n` positions only (the text side's first ids),
    /// and what [`Self::finish`] needs for all of them. Every layer but the last runs over the
    /// whole sentence (its keys and values are all positions'); the last computes its queries,
    /// FFN and projection just where those outputs read them. The same values as `forward`'s
    /// there. On the CPU only (`n` is all elsewhere).
    pub fn forward_head(&self, ids: &Tensor, lora: &Adapters, blends: &[(Tensor, f32)], n: usize) -> Result<(TextEncoding, EncoderRest)> {
        let rest = self.before_last(ids, lora, blends)?;
        let n = if rest.band.on_cpu() { n.min(rest.x.dim(2)?) } else { rest.x.dim(2)? };
        Ok((self.last(&rest, n, lora)?, rest))
    }

    /// All of [`Self::forward`]'s outputs from what [`Self::forward_head`] left.
    pub fn finish(&self, rest: &EncoderRest, lora: &Adapters) -> Result<TextEncoding> {
        self.last(rest, rest.x.dim(2)?, lora)
    }

    /// Embedding and every layer but the last: the last layer's input `[b, h, t]`.
    fn before_last(&self, ids: &Tensor, lora: &Adapters, blends: &[(Tensor, f32)]) -> Result<EncoderRest> {
        let (b, t) = ids.dims2()?;
        let embed = |ids: &Tensor| self.emb.index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.hidden));
        let mut x = embed(ids)?;
        let own = x.clone();
        for (other, alpha) in blends {
            x = (x + ((embed(other)? - &own)? * *alpha as f64)?)?;
        }
        let mut x = (x * (self.hidden as f64).sqrt())?.transpose(1, 2)?.contiguous()?; // [b, h, t]
        let band = RelativeBand::new(t, self.window, b, self.n_heads, ids.device())?;
        let (_, layers) = self.layers.split_last().ok_or_else(|| candle_core::Error::Msg("encoder with no layers".into()))?;
        for layer in layers {
            x = layer.forward(&x, x.dim(2)?, &band, lora)?;
        }
        Ok(EncoderRest { x, band })
    }

    /// The last layer and the projection, outputs at positions `[0, n)`.
    fn last(&self, rest: &EncoderRest, n: usize, lora: &Adapters) -> Result<TextEncoding> {
        let layer = self.layers.last().ok_or_else(|| candle_core::Error::Msg("encoder with no layers".into()))?;
        let x = layer.forward(&rest.x, n, &rest.band, lora)?;
        let stats = self.proj.forward(&x, lora)?;
        Ok(TextEncoding {
            m_p: stats.narrow(1, 0, self.inter)?,
            logs_p: stats.narrow(1, self.inter, self.inter)?,
            x,
        })
    }
}

impl EncoderLayer {
    /// `[b, h, t]` → the layer's outputs at positions `[0, n)`, `[b, h, n]`: attention queries
    /// and the FFN only where those read them (the FFN's reach past `n`, within `t`).
    fn forward(&self, x: &Tensor, n: usize, band: &RelativeBand, lora: &Adapters) -> Result<Tensor> {
        let t = x.dim(2)?;
        let tq = (n + self.ffn.reach()).min(t);
        let y = self.attn.forward_queries(x, tq, band, lora)?;
        let x = if tq < t { x.narrow(2, 0, tq)?.contiguous()? } else { x.clone() };
        let x = self.norm_1.forward_fused(&x, NormFused { before: Some(&y), ..Default::default() })?;
        let y = self.ffn.forward(&x, lora)?;
        let x = self.norm_2.forward_fused(&x, NormFused { before: Some(&y), ..Default::default() })?;
        if n < tq {
            x.narrow(2, 0, n)?.contiguous()
        } else {
            Ok(x)
        }
    }
}
