//! Building blocks shared by the VITS parts: 1-D convolutions as Piper configures them and the
//! channels-first layer norm of VITS (`modules.LayerNorm`).

use std::sync::Arc;

use candle_core::{Module, Result, Tensor};
use candle_nn::ops::leaky_relu;
use candle_nn::VarBuilder;

use super::activations;
use super::cpu::is_cpu_f32;
use super::cpu_amx;
use super::cpu_conv;
use super::cpu_winograd;
use super::layouts;
pub use super::activations::NormFused;
pub use super::cpu_conv::Fused;
use super::lora::{Adapters, ParamId};

/// How a conv slides: symmetric zero padding, dilation, groups (stride is always 1 here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

impl ConvSpec {
    /// "Same" padding for an odd `kernel` at `dilation` (VITS' `get_padding`).
    pub fn same(kernel: usize, dilation: usize) -> Self {
        ConvSpec { padding: (kernel * dilation - dilation) / 2, dilation, groups: 1 }
    }
    /// A 1×1 conv.
    pub fn pointwise() -> Self {
        ConvSpec { padding: 0, dilation: 1, groups: 1 }
    }
}

/// `nn.Conv1d` with weight `[out, in/groups, k]` and optional bias `[out]`.
#[derive(Debug, Clone)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    spec: ConvSpec,
    /// `{vb}.weight` as an id: what LoRA adapters are keyed by (see [`super::lora`]).
    id: ParamId,
    /// The weight in the CPU kernel's layout, made (or found in [`layouts`]) at the first CPU
    /// forward.
    packed: std::sync::OnceLock<Arc<cpu_conv::PackedWeights>>,
    /// What that layout is made from: the weight, or the scaled weights of a stacked conv.
    sources: layouts::Sources,
    /// Whether that layout may be AMX tiles ([`cpu_amx::tiles_for`] of the module's path).
    tiles: bool,
    /// Whether it may run as Winograd's F(4, k) off the tiles ([`Self::winograd`]).
    winograd: bool,
}

impl Conv1d {
    /// Loads `{vb}.weight` (and `{vb}.bias` when `bias`), checking shapes.
    pub fn load(vb: VarBuilder, in_ch: usize, out_ch: usize, kernel: usize, spec: ConvSpec, bias: bool) -> Result<Self> {
        let weight = vb.get((out_ch, in_ch / spec.groups, kernel), "weight")?;
        let bias = if bias { Some(vb.get(out_ch, "bias")?) } else { None };
        let tiles = cpu_amx::tiles_for(&vb.prefix());
        let sources = layouts::Sources::of(&[&weight]);
        Ok(Conv1d { weight, bias, spec, id: ParamId::of(&format!("{}.weight", vb.prefix())), packed: Default::default(), sources, tiles, winograd: false })
    }

    /// Lets a conv run as Winograd's F(4, k) on the CPU's FMA levels where that is faster
    /// ([`cpu_winograd::pays`]: 3 or 5 taps, 64 or more input channels;
    /// [`cpu_conv::PackedWeights::winograd`]). Its outputs then equal the direct conv's within
    /// rounding, but an output's bits depend on the other steps of its tile: don't mark a conv
    /// whose run over part of a sequence must equal the whole's bit for bit.
    pub fn winograd(mut self) -> Self {
        self.winograd = self.spec.groups == 1 && self.weight.dims3().is_ok_and(|(_, c_in, k)| cpu_winograd::pays(c_in, k));
        self
    }
}

impl Conv1d {
    /// The id its LoRA adapters are keyed by (its weight's path).
    pub fn id(&self) -> ParamId {
        self.id
    }

    /// One conv giving the outputs of `convs` (which read the same input the same way) stacked
    /// in order, each conv's weights and bias scaled by its factor; keyed by the path `path`.
    pub fn stacked(convs: &[(&Conv1d, f64)], path: &str) -> Result<Self> {
        let first = convs.first().ok_or_else(|| candle_core::Error::Msg("stacked: no convs".into()))?.0;
        if convs.iter().any(|(c, _)| c.spec != first.spec || c.bias.is_some() != first.bias.is_some()) {
            candle_core::bail!("stacked: convs of different kinds at {path}");
        }
        let weights = convs.iter().map(|(c, s)| &c.weight * *s).collect::<Result<Vec<_>>>()?;
        let bias = match first.bias {
            Some(_) => Some(Tensor::cat(&convs.iter().map(|(c, s)| c.bias.as_ref().expect("checked") * *s).collect::<Result<Vec<_>>>()?, 0)?),
            None => None,
        };
        let sources = layouts::Sources::scaled(&convs.iter().map(|(c, s)| (&c.weight, *s)).collect::<Vec<_>>());
        Ok(Conv1d { weight: Tensor::cat(&weights, 0)?, bias, spec: first.spec, id: ParamId::of(path), packed: Default::default(), sources, tiles: first.tiles, winograd: false })
    }

    /// `[b, in, t]` → `[b, out, t]` (for "same" padding), plus this conv's `lora` adapters.
    pub fn forward(&self, x: &Tensor, lora: &Adapters) -> Result<Tensor> {
        self.forward_fused(x, Fused::default(), lora)
    }

    /// [`Self::forward`] with an optional LeakyReLU on the input and a residual added to the
    /// output, fused into one pass on the CPU.
    pub fn forward_fused(&self, x: &Tensor, fused: Fused<'_>, lora: &Adapters) -> Result<Tensor> {
        self.forward_with(x, fused, self.spec, lora)
    }

    /// [`Self::forward`] with `padding` zeros each side instead of its own: `[b, in, t]` →
    /// `[b, out, t + 2·padding − dilation·(k − 1)]`.
    pub fn forward_padded(&self, x: &Tensor, padding: usize, lora: &Adapters) -> Result<Tensor> {
        self.forward_with(x, Fused::default(), ConvSpec { padding, ..self.spec }, lora)
    }

    /// Its own zero padding each side (for a "same" conv, the positions each side an output reads).
    pub fn padding(&self) -> usize {
        self.spec.padding
    }

    fn forward_with(&self, x: &Tensor, fused: Fused<'_>, s: ConvSpec, lora: &Adapters) -> Result<Tensor> {
        let y = self.forward_base(x, fused, s)?;
        lora.apply(self.id, || pre_activate(x, fused.pre_slope), y, s.padding, s.dilation)
    }

    /// The conv with its own weights only.
    fn forward_base(&self, x: &Tensor, fused: Fused<'_>, s: ConvSpec) -> Result<Tensor> {
        if is_cpu_f32(x) && s.groups == 1 {
            let packed = match self.packed.get() {
                Some(p) => p,
                None => {
                    let (w, tiles) = (&self.weight, self.tiles);
                    let p = layouts::shared(self.sources.clone(), &[tiles as u64, self.winograd as u64], || {
                        if self.winograd { cpu_conv::PackedWeights::winograd(w, tiles) } else { cpu_conv::PackedWeights::new(w, tiles) }
                    })?;
                    self.packed.get_or_init(|| p)
                }
            };
            return cpu_conv::conv1d(x, packed, self.bias.as_ref(), s.padding, s.dilation, fused);
        }
        if is_cpu_f32(x) && s.groups == x.dim(1)? && fused.pre_slope.is_none() && fused.residual.is_none() {
            return cpu_conv::depthwise_conv1d(x, &self.weight, self.bias.as_ref(), s.padding, s.dilation);
        }
        let x = pre_activate(x, fused.pre_slope)?;
        let mut y = if !x.device().is_cpu() && s.groups > 1 && s.groups == x.dim(1)? && self.weight.dim(0)? == s.groups {
            depthwise_by_taps(&x, &self.weight, s.padding, s.dilation)?
        } else {
            x.conv1d(&self.weight, s.padding, 1, s.dilation, s.groups)?
        };
        if let Some(b) = &self.bias {
            y = y.broadcast_add(&b.reshape((1, (), 1))?)?;
        }
        match fused.residual {
            Some(r) => y + r,
            None => Ok(y),
        }
    }
}

/// A depthwise conv (`groups` = channels, weight `[c, 1, k]`) as `k` shifted products summed:
/// `[b, c, t]` → `[b, c, t + 2·padding − dilation·(k − 1)]`, no bias. candle's conv1d runs
/// groups one by one (a conv per channel: 192 per layer of the duration predictor's DDSConv,
/// ≈ 20 ms per stack on an H200); this is 2k + 1 element-wise kernels whatever the channels.
pub fn depthwise_by_taps(x: &Tensor, weight: &Tensor, padding: usize, dilation: usize) -> Result<Tensor> {
    let (_, c, t) = x.dims3()?;
    let k = weight.dim(2)?;
    let out = (t + 2 * padding)
        .checked_sub(dilation * (k - 1))
        .filter(|&n| n > 0)
        .ok_or_else(|| candle_core::Error::Msg(format!("depthwise conv: {t} steps are too few for {k} taps at dilation {dilation}")))?;
    let x = x.pad_with_zeros(2, padding, padding)?;
    let w = weight.reshape((1, c, k))?;
    let mut y = x.narrow(2, 0, out)?.broadcast_mul(&w.narrow(2, 0, 1)?)?;
    for j in 1..k {
        y = (y + x.narrow(2, j * dilation, out)?.broadcast_mul(&w.narrow(2, j, 1)?)?)?;
    }
    Ok(y)
}

/// The optional LeakyReLU a fused conv applies to its input, for the device-generic paths.
fn pre_activate(x: &Tensor, slope: Option<f32>) -> Result<Tensor> {
    match slope {
        Some(slope) => leaky_relu(x, slope as f64),
        None => Ok(x.clone()),
    }
}

/// Positions at each end of a sequence whose outputs are not wanted: where they lie inside the
/// sentence they are the context of the wanted ones (a stack of "same" convs then computes each
/// layer only where the layers after it read); where the input reaches the sentence's end they
/// are fewer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trim {
    pub left: usize,
    pub right: usize,
}

impl Trim {
    /// `y` `[b, ch, positions]` without the trimmed positions.
    pub fn cut(self, y: &Tensor) -> Result<Tensor> {
        let len = y.dim(2)?;
        match len.checked_sub(self.left + self.right) {
            Some(keep) => y.narrow(2, self.left, keep),
            None => candle_core::bail!("{self:?} of {len} positions"),
        }
    }
}

/// `nn.ConvTranspose1d` with weight `[in, out, k]`, bias `[out]`, stride and symmetric padding.
#[derive(Debug, Clone)]
pub struct ConvTranspose1d {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    padding: usize,
    /// The same weights rearranged for the CPU kernel (when they live on the CPU; shared by
    /// model copies with the same weight and bias, see [`layouts`]).
    polyphase: Option<Arc<cpu_conv::Polyphase>>,
}

impl ConvTranspose1d {
    /// Loads `{vb}.weight` and `{vb}.bias`.
    pub fn load(vb: VarBuilder, in_ch: usize, out_ch: usize, kernel: usize, stride: usize, padding: usize) -> Result<Self> {
        let weight = vb.get((in_ch, out_ch, kernel), "weight")?;
        let bias = vb.get(out_ch, "bias")?;
        let tiles = cpu_amx::tiles_for(&vb.prefix());
        let polyphase = weight
            .device()
            .is_cpu()
            .then(|| layouts::shared(layouts::Sources::of(&[&weight, &bias]), &[stride as u64, tiles as u64], || cpu_conv::Polyphase::new(&weight, &bias, stride, tiles)))
            .transpose()?;
        Ok(ConvTranspose1d { weight, bias, stride, padding, polyphase })
    }

    /// `[b, in, t]` → `[b, out, (t−1)·stride − 2·padding + k]`, with an optional LeakyReLU first.
    pub fn forward_fused(&self, x: &Tensor, pre_slope: Option<f32>) -> Result<Tensor> {
        if let (Some(p), true) = (&self.polyphase, x.device().is_cpu()) {
            return p.forward(x, self.padding, pre_slope);
        }
        let x = pre_activate(x, pre_slope)?;
        // candle's fast path needs padding 0: run unpadded, then cut `padding` from both ends.
        let y = x.conv_transpose1d(&self.weight, 0, 0, self.stride, 1, 1)?;
        let len = y.dim(2)? - 2 * self.padding;
        y.narrow(2, self.padding, len)?.broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
}

/// VITS' `LayerNorm` over the channel axis of `[b, c, t]` (eps 1e-5), with `gamma`/`beta`.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    gamma: Tensor,
    beta: Tensor,
}

impl LayerNorm {
    /// Loads `{vb}.gamma` and `{vb}.beta` of size `channels`.
    pub fn load(vb: VarBuilder, channels: usize) -> Result<Self> {
        Ok(LayerNorm {
            gamma: vb.get(channels, "gamma")?.reshape((1, channels, 1))?,
            beta: vb.get(channels, "beta")?.reshape((1, channels, 1))?,
        })
    }
}

impl LayerNorm {
    /// `after + act(norm(x + before))` for `fused` ([`activations::NormFused`]), one pass on
    /// the CPU.
    pub fn forward_fused(&self, x: &Tensor, fused: NormFused<'_>) -> Result<Tensor> {
        if is_cpu_f32(x) {
            return activations::layer_norm_channels(x, &self.gamma, &self.beta, 1e-5, fused);
        }
        let x = match fused.before {
            Some(y) => (x + y)?,
            None => x.clone(),
        };
        let mean = x.mean_keepdim(1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(1)?;
        let normed = centered.broadcast_div(&(var + 1e-5)?.sqrt()?)?;
        let mut y = normed.broadcast_mul(&self.gamma)?.broadcast_add(&self.beta)?;
        if fused.gelu {
            y = y.gelu_erf()?;
        }
        match fused.after {
            Some(a) => a + y,
            None => Ok(y),
        }
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_fused(x, NormFused::default())
    }
}

/// Reverses the channel axis of `[b, c, t]` (VITS' `Flip` flow).
pub fn flip_channels(x: &Tensor) -> Result<Tensor> {
    let c = x.dim(1)?;
    let idx: Vec<u32> = (0..c as u32).rev().collect();
    x.index_select(&Tensor::new(idx, x.device())?, 1)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;

    use super::{depthwise_by_taps, Adapters, Conv1d, ConvSpec, ConvTranspose1d};

    /// The GPU's depthwise path equals candle's grouped conv1d (run here on the CPU), for the
    /// DDSConv's kernel and dilations, "same" padding and none.
    #[test]
    fn depthwise_by_taps_equals_grouped_conv1d() {
        let dev = Device::Cpu;
        let (c, t) = (6, 40);
        let x = Tensor::randn(0f32, 1.0, (2, c, t), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (c, 1, 3), &dev).unwrap();
        for dilation in [1, 3, 9] {
            for padding in [0, dilation] {
                let want = x.conv1d(&w, padding, 1, dilation, c).unwrap();
                let got = depthwise_by_taps(&x, &w, padding, dilation).unwrap();
                assert_eq!(got.dims(), want.dims(), "dilation {dilation}, padding {padding}");
                let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
                assert!(err < 1e-5, "dilation {dilation}, padding {padding}: {err}");
            }
        }
        assert!(depthwise_by_taps(&x.narrow(2, 0, 5).unwrap(), &w, 0, 3).is_err(), "too short for its taps");
    }

    /// Convs built on the same weight tensors (a model copy's unchanged parameters) share one
    /// CPU layout; a changed weight, even of equal values, gets its own. Outputs are the same.
    #[test]
    fn convs_on_the_same_weights_share_their_layout() {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (8, 6, 5), &dev).unwrap();
        let b = Tensor::randn(0f32, 1.0, 8, &dev).unwrap();
        let params = |w: &Tensor| VarBuilder::from_tensors([("c.weight".to_string(), w.clone()), ("c.bias".to_string(), b.clone())].into(), DType::F32, &dev);
        let conv = |w: &Tensor| Conv1d::load(params(w).pp("c"), 6, 8, 5, ConvSpec::same(5, 1), true).unwrap();
        let (base, copy, changed) = (conv(&w), conv(&w), conv(&w.copy().unwrap()));
        let x = Tensor::randn(0f32, 1.0, (1, 6, 20), &dev).unwrap();
        let none = Adapters::default();
        let ys: Vec<Vec<f32>> = [&base, &copy, &changed].iter().map(|c| c.forward(&x, &none).unwrap().flatten_all().unwrap().to_vec1().unwrap()).collect();
        assert_eq!(ys[0], ys[1]);
        assert_eq!(ys[0], ys[2]);
        let layout = |c: &Conv1d| c.packed.get().cloned().expect("packed at the first CPU forward");
        assert!(Arc::ptr_eq(&layout(&base), &layout(&copy)));
        assert!(!Arc::ptr_eq(&layout(&base), &layout(&changed)));

        let bu = b.narrow(0, 0, 6).unwrap();
        let up = |w: &Tensor| {
            let vb = VarBuilder::from_tensors([("u.weight".to_string(), w.clone()), ("u.bias".to_string(), bu.clone())].into(), DType::F32, &dev);
            ConvTranspose1d::load(vb.pp("u"), 8, 6, 5, 2, 1).unwrap()
        };
        let wt = Tensor::randn(0f32, 1.0, (8, 6, 5), &dev).unwrap();
        let (base, copy, changed) = (up(&wt), up(&wt), up(&wt.copy().unwrap()));
        let polyphase = |u: &ConvTranspose1d| u.polyphase.clone().expect("made on the CPU");
        assert!(Arc::ptr_eq(&polyphase(&base), &polyphase(&copy)));
        assert!(!Arc::ptr_eq(&polyphase(&base), &polyphase(&changed)));
    }
}
