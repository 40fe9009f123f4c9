//! Duration predictors (`dp`): how many latent frames each phoneme lasts.
//!
//! Piper voices use VITS' `StochasticDurationPredictor`: normal noise (scaled by `noise_w`) is pushed
//! backwards through a stack of flows conditioned on the text encoding, giving log-durations. The
//! deterministic `DurationPredictor` is supported for voices trained without it.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::config::{DurationConfig, VitsConfig};
use super::lora::Adapters;
use super::modules::{flip_channels, Conv1d, ConvSpec, LayerNorm, NormFused, Trim};
use super::style_state::Cond;
use super::spline::rational_quadratic_inverse;

/// `DDSConv`: dilated depth-separable convs (dilation kernᶦ) with layer norms, GELU and residuals.
#[derive(Debug, Clone)]
struct DdsConv {
    layers: Vec<(Conv1d, LayerNorm, Conv1d, LayerNorm)>,
}

impl DdsConv {
    fn load(vb: VarBuilder, channels: usize, kernel: usize, n_layers: usize) -> Result<Self> {
        let layers = (0..n_layers)
            .map(|i| {
                let dilation = kernel.pow(i as u32);
                let spec = ConvSpec { padding: (kernel * dilation - dilation) / 2, dilation, groups: channels };
                Ok((
                    Conv1d::load(vb.pp(format!("convs_sep.{i}")), channels, channels, kernel, spec, true)?,
                    LayerNorm::load(vb.pp(format!("norms_1.{i}")), channels)?,
                    Conv1d::load(vb.pp(format!("convs_1x1.{i}")), channels, channels, 1, ConvSpec::pointwise(), true)?,
                    LayerNorm::load(vb.pp(format!("norms_2.{i}")), channels)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DdsConv { layers })
    }

    /// `[b, c, t]`, optional conditioning `[b, c, t]` added first → `[b, c, t − trim.left −
    /// trim.right]`: the outputs of positions `[trim.left, t − trim.right)`. Each layer computes
    /// only the positions the layers after it read (its input's ends less the reach still to
    /// come, never past `t`'s ends, where the input meets the sentence's and is zero-padded as
    /// over the whole sentence), so each output is the same as there.
    fn forward(&self, x: &Tensor, g: Option<&Tensor>, trim: Trim, lora: &Adapters) -> Result<Tensor> {
        let mut x = match g {
            Some(g) => (x + g)?,
            None => x.clone(),
        };
        let t = x.dim(2)?;
        let reach: Vec<usize> = self.layers.iter().map(|(sep, ..)| sep.padding()).collect();
        // Positions `x` holds.
        let (mut lo, mut hi) = (0, t);
        for (i, (sep, norm_1, pw, norm_2)) in self.layers.iter().enumerate() {
            let (p, rest) = (reach[i], reach[i + 1..].iter().sum::<usize>());
            let (next_lo, next_hi) = (trim.left.saturating_sub(rest), t - trim.right.saturating_sub(rest));
            let (pad_left, pad_right) = (p - (next_lo - lo), p - (hi - next_hi));
            let pad = pad_left.max(pad_right);
            let a = sep.forward_padded(&x, pad, lora)?.narrow(2, pad - pad_left, next_hi - next_lo)?;
            let y = norm_1.forward_fused(&a, NormFused { gelu: true, ..Default::default() })?;
            let x_kept = x.narrow(2, next_lo - lo, next_hi - next_lo)?;
            x = norm_2.forward_fused(&pw.forward(&y, lora)?, NormFused { gelu: true, after: Some(&x_kept), ..Default::default() })?;
            (lo, hi) = (next_lo, next_hi);
        }
        Ok(x)
    }

    /// Positions each side one output depends on.
    fn reach(&self) -> usize {
        self.layers.iter().map(|(sep, ..)| sep.padding()).sum()
    }
}

/// `ConvFlow`: a spline coupling layer on 2 channels, conditioned on the text.
#[derive(Debug, Clone)]
struct ConvFlow {
    pre: Conv1d,
    convs: DdsConv,
    proj: Conv1d,
    filter_channels: usize,
    num_bins: usize,
    tail_bound: f32,
}

impl ConvFlow {
    /// Reverse pass: `z` `[1, 2, t]`, conditioning `[1, filter, t]` → `[1, 2, t − trim.left −
    /// trim.right]`, for positions `[trim.left, t − trim.right)`.
    fn reverse(&self, z: &Tensor, cond: &Tensor, trim: Trim, lora: &Adapters) -> Result<Tensor> {
        let x0 = z.narrow(1, 0, 1)?;
        let x1 = z.narrow(1, 1, 1)?;
        let h = self.convs.forward(&self.pre.forward(&x0, lora)?, Some(cond), trim, lora)?;
        let h = self.proj.forward(&h, lora)?; // [1, 3·bins − 1, t']
        let t = h.dim(2)?;
        let (x0, x1) = (x0.narrow(2, trim.left, t)?, x1.narrow(2, trim.left, t)?);
        let params: Vec<Vec<f32>> = h.squeeze(0)?.t()?.to_vec2()?; // [t][3·bins − 1]
        let x1v: Vec<f32> = x1.flatten_all()?.to_vec1()?;
        let scale = (self.filter_channels as f32).sqrt();
        let nb = self.num_bins;
        let out: Vec<f32> = x1v
            .iter()
            .zip(&params)
            .map(|(&y, p)| {
                let w: Vec<f32> = p[..nb].iter().map(|v| v / scale).collect();
                let hgt: Vec<f32> = p[nb..2 * nb].iter().map(|v| v / scale).collect();
                rational_quadratic_inverse(y, &w, &hgt, &p[2 * nb..], self.tail_bound)
            })
            .collect();
        let x1 = Tensor::from_vec(out, (1, 1, t), z.device())?;
        Tensor::cat(&[&x0, &x1], 1)
    }
}

/// `dp`, either variant.
#[derive(Debug, Clone)]
pub struct DurationPredictor(Variant);

#[derive(Debug, Clone)]
enum Variant {
    Stochastic {
        pre: Conv1d,
        convs: DdsConv,
        proj: Conv1d,
        cond: Option<Conv1d>,
        /// `dp.flows.0` (ElementwiseAffine): `m`, `logs` `[2, 1]`.
        affine_m: Tensor,
        affine_logs: Tensor,
        /// `dp.flows.{2n+1}` for n = n_flows−1 … 1, in the order they run in reverse.
        flows: Vec<ConvFlow>,
    },
    Deterministic {
        conv_1: Conv1d,
        norm_1: LayerNorm,
        conv_2: Conv1d,
        norm_2: LayerNorm,
        proj: Conv1d,
        cond: Option<Conv1d>,
    },
}

impl DurationPredictor {
    pub fn load(vb: VarBuilder, c: &VitsConfig) -> Result<Self> {
        let (h, gin) = (c.hidden_channels, c.gin_channels);
        let pw = ConvSpec::pointwise();
        match c.duration {
            DurationConfig::Stochastic { filter_channels: f, kernel_size: k, dds_layers, n_flows, num_bins, tail_bound } => {
                let flows = (1..n_flows)
                    .rev()
                    .map(|n| {
                        let vb = vb.pp(format!("flows.{}", 2 * n + 1));
                        Ok(ConvFlow {
                            pre: Conv1d::load(vb.pp("pre"), 1, f, 1, pw, true)?,
                            convs: DdsConv::load(vb.pp("convs"), f, k, dds_layers)?,
                            proj: Conv1d::load(vb.pp("proj"), f, 3 * num_bins - 1, 1, pw, true)?,
                            filter_channels: f,
                            num_bins,
                            tail_bound,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(DurationPredictor(Variant::Stochastic {
                    pre: Conv1d::load(vb.pp("pre"), h, f, 1, pw, true)?,
                    convs: DdsConv::load(vb.pp("convs"), f, k, dds_layers)?,
                    proj: Conv1d::load(vb.pp("proj"), f, f, 1, pw, true)?,
                    cond: (gin > 0).then(|| Conv1d::load(vb.pp("cond"), gin, f, 1, pw, true)).transpose()?,
                    affine_m: vb.pp("flows.0").get((2, 1), "m")?.unsqueeze(0)?,
                    affine_logs: vb.pp("flows.0").get((2, 1), "logs")?.unsqueeze(0)?,
                    flows,
                }))
            }
            DurationConfig::Deterministic { filter_channels: f, kernel_size: k } => {
                let spec = ConvSpec::same(k, 1);
                Ok(DurationPredictor(Variant::Deterministic {
                    conv_1: Conv1d::load(vb.pp("conv_1"), h, f, k, spec, true)?,
                    norm_1: LayerNorm::load(vb.pp("norm_1"), f)?,
                    conv_2: Conv1d::load(vb.pp("conv_2"), f, f, k, spec, true)?,
                    norm_2: LayerNorm::load(vb.pp("norm_2"), f)?,
                    proj: Conv1d::load(vb.pp("proj"), f, 1, 1, pw, true)?,
                    cond: (gin > 0).then(|| Conv1d::load(vb.pp("cond"), gin, h, 1, pw, true)).transpose()?,
                }))
            }
        }
    }

    /// How many ids each side a log-duration depends on (its receptive field): each DDSConv
    /// layer widens it by `(k−1)/2 · kⁱ`, and the stochastic predictor runs one DDSConv on the
    /// text and one in each of its `n_flows − 1` spline flows, one after another; the
    /// deterministic one has two convs of `k` taps.
    pub fn reach(c: &VitsConfig) -> usize {
        match c.duration {
            DurationConfig::Stochastic { kernel_size: k, dds_layers, n_flows, .. } => {
                let dds: usize = (0..dds_layers).map(|i| (k - 1) / 2 * k.pow(i as u32)).sum();
                dds * n_flows
            }
            DurationConfig::Deterministic { kernel_size: k, .. } => 2 * ((k - 1) / 2),
        }
    }

    /// Log-durations `[1, 1, t − trim.left − trim.right]` of positions `[trim.left, t −
    /// trim.right)` from the encoder output `x` `[1, hidden, t]`, the speaker embedding `g`
    /// `[1, gin, 1]` and, for the stochastic predictor, `noise` `[1, 2, t]` already scaled by
    /// `noise_w`. Positions trimmed away are context only: the stochastic predictor computes
    /// each of its layers just where the layers after it read (the same values as over all of
    /// `x`); the deterministic one computes all and cuts.
    pub fn log_durations(&self, x: &Tensor, cx: Cond<'_>, noise: &Tensor, trim: Trim) -> Result<Tensor> {
        let (g, lora) = (cx.g, cx.lora);
        match &self.0 {
            Variant::Stochastic { pre, convs, proj, cond, affine_m, affine_logs, flows } => {
                let mut h = pre.forward(x, lora)?;
                if let (Some(cond), Some(g)) = (cond, g) {
                    h = h.broadcast_add(&cond.forward(g, lora)?)?;
                }
                // Positions each step's outputs must cover: the trim less the reach of the flows
                // after it (none past the ends of `x`).
                let t = x.dim(2)?;
                let trims: Vec<Trim> = (0..=flows.len())
                    .map(|step| {
                        let rest: usize = flows[step..].iter().map(|f| f.convs.reach()).sum();
                        Trim { left: trim.left.saturating_sub(rest), right: trim.right.saturating_sub(rest) }
                    })
                    .collect();
                // h (the flows' conditioning) where the first flow reads it.
                let h = proj.forward(&convs.forward(&h, None, trims[0], lora)?, lora)?;
                let at = |tr: Trim| (tr.left, t - tr.left - tr.right);
                // Reverse order: Flip, ConvFlow(2n−1), …, Flip, ElementwiseAffine (flows.1 skipped).
                let (from, len) = at(trims[0]);
                let mut z = noise.narrow(2, from, len)?.contiguous()?;
                for (j, flow) in flows.iter().enumerate() {
                    // z and h hold [trims[j].left, t − trims[j].right); its outputs, trims[j + 1]'s.
                    let (from, len) = at(trims[j]);
                    let h_j = h.narrow(2, from - trims[0].left, len)?;
                    let step = Trim { left: trims[j + 1].left - trims[j].left, right: trims[j + 1].right - trims[j].right };
                    z = flow.reverse(&flip_channels(&z)?, &h_j, step, lora)?;
                }
                z = flip_channels(&z)?;
                z = z.broadcast_sub(affine_m)?.broadcast_mul(&affine_logs.neg()?.exp()?)?;
                z.narrow(1, 0, 1)
            }
            Variant::Deterministic { conv_1, norm_1, conv_2, norm_2, proj, cond } => {
                let mut x = x.clone();
                if let (Some(cond), Some(g)) = (cond, g) {
                    x = x.broadcast_add(&cond.forward(g, lora)?)?;
                }
                let x = norm_1.forward(&conv_1.forward(&x, lora)?.relu()?)?;
                let x = norm_2.forward(&conv_2.forward(&x, lora)?.relu()?)?;
                trim.cut(&proj.forward(&x, lora)?)
            }
        }
    }
}
