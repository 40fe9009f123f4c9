//! The HiFi-GAN generator `dec`: latent frames → waveform, upsampling by Π upsample_rates.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::backbone::StageSpec;
use super::config::{ResBlockKind, VitsConfig};
use super::lora::Adapters;
use super::modules::{Conv1d, ConvSpec, ConvTranspose1d, Fused};
use super::style_state::Cond;

/// Slope of the LeakyReLUs inside the generator (VITS `LRELU_SLOPE`).
const LRELU_SLOPE: f64 = 0.1;

/// `dec.resblocks.N`: `ResBlock1` (dilated conv then plain conv per step) or `ResBlock2`.
#[derive(Debug, Clone)]
struct ResBlock {
    /// `(convs1.s | convs.s, convs2.s)` per step.
    steps: Vec<(Conv1d, Option<Conv1d>)>,
}

impl ResBlock {
    fn load(vb: VarBuilder, kind: ResBlockKind, ch: usize, kernel: usize, dilations: &[usize]) -> Result<Self> {
        let steps = dilations
            .iter()
            .enumerate()
            .map(|(s, &d)| match kind {
                ResBlockKind::Two => Ok((Conv1d::load(vb.pp(format!("convs.{s}")), ch, ch, kernel, ConvSpec::same(kernel, d), true)?.winograd(), None)),
                ResBlockKind::One => Ok((
                    Conv1d::load(vb.pp(format!("convs1.{s}")), ch, ch, kernel, ConvSpec::same(kernel, d), true)?.winograd(),
                    Some(Conv1d::load(vb.pp(format!("convs2.{s}")), ch, ch, kernel, ConvSpec::same(kernel, 1), true)?.winograd()),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ResBlock { steps })
    }
}

impl ResBlock {
    fn forward(&self, x: &Tensor, lora: &Adapters) -> Result<Tensor> {
        let mut x = x.clone();
        let pre = Some(LRELU_SLOPE as f32);
        for (c1, c2) in &self.steps {
            // x + conv(lrelu(x)), or x + conv2(lrelu(conv1(lrelu(x)))) for ResBlock1.
            x = match c2 {
                None => c1.forward_fused(&x, Fused { pre_slope: pre, residual: Some(&x) }, lora)?,
                Some(c2) => {
                    let xt = c1.forward_fused(&x, Fused { pre_slope: pre, residual: None }, lora)?;
                    c2.forward_fused(&xt, Fused { pre_slope: pre, residual: Some(&x) }, lora)?
                }
            };
        }
        Ok(x)
    }
}

/// `dec`.
#[derive(Debug, Clone)]
pub struct Generator {
    conv_pre: Conv1d,
    cond: Option<Conv1d>,
    ups: Vec<ConvTranspose1d>,
    /// `resblocks[i]` are the blocks after `ups[i]`, averaged.
    resblocks: Vec<Vec<ResBlock>>,
    conv_post: Conv1d,
}

impl Generator {
    pub fn load(vb: VarBuilder, c: &VitsConfig) -> Result<Self> {
        let d = &c.dec;
        let mut ch = d.initial_channel;
        let mut ups = Vec::new();
        let mut resblocks = Vec::new();
        let n_kernels = d.resblock_kernel_sizes.len();
        for (i, (&k, &u)) in d.upsample_kernel_sizes.iter().zip(&d.upsample_rates).enumerate() {
            ups.push(ConvTranspose1d::load(vb.pp(format!("ups.{i}")), ch, ch / 2, k, u, d.upsample_paddings[i])?);
            ch /= 2;
            let blocks = (0..n_kernels)
                .map(|j| {
                    ResBlock::load(
                        vb.pp(format!("resblocks.{}", i * n_kernels + j)),
                        d.resblock,
                        ch,
                        d.resblock_kernel_sizes[j],
                        &d.resblock_dilation_sizes[j],
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            resblocks.push(blocks);
        }
        Ok(Generator {
            conv_pre: Conv1d::load(vb.pp("conv_pre"), c.inter_channels, d.initial_channel, 7, ConvSpec::same(7, 1), true)?,
            cond: (c.gin_channels > 0)
                .then(|| Conv1d::load(vb.pp("cond"), c.gin_channels, d.initial_channel, 1, ConvSpec::pointwise(), true))
                .transpose()?,
            ups,
            resblocks,
            conv_post: Conv1d::load(vb.pp("conv_post"), ch, 1, 7, ConvSpec::same(7, 1), false)?,
        })
    }

    /// The streaming stages `conv_pre`, `ups.i` + `resblocks` (one per upsampling), `conv_post`,
    /// with their reach in input positions (see [`StageSpec`]):
    /// - `conv_pre`, `conv_post`: kernel 7, so 3 each side;
    /// - `ups.i` (kernel k, stride u, padding p) followed by its resblocks, which widen the
    ///   reach by R samples of the upsampled signal each side (Σ (k−1)/2 · (d + 1) over the steps
    ///   of ResBlock1, Σ (k−1)/2 · d for ResBlock2, widest block): output sample n reads inputs
    ///   ⌊(n + p − k + 1 − R)/u⌋ … ⌊(n + p + R)/u⌋, so left = ⌈(R + k − 1 − p)/u⌉ and
    ///   right = ⌈(R + p)/u⌉ input positions.
    pub fn stage_specs(c: &VitsConfig) -> Vec<StageSpec> {
        let d = &c.dec;
        let same = |k: usize| (k - 1) / 2;
        let resblock_reach = |j: usize| -> usize {
            let k = d.resblock_kernel_sizes[j];
            d.resblock_dilation_sizes[j].iter().map(|&dil| same(k) * (dil + usize::from(d.resblock == ResBlockKind::One))).sum()
        };
        let r = (0..d.resblock_kernel_sizes.len()).map(resblock_reach).max().unwrap_or(0);
        let mut specs = vec![StageSpec { module: "dec", up: 1, left: same(7), right: same(7) }];
        for (i, (&k, &u)) in d.upsample_kernel_sizes.iter().zip(&d.upsample_rates).enumerate() {
            let p = d.upsample_paddings[i];
            specs.push(StageSpec { module: "dec", up: u, left: (r + k - 1 - p).div_ceil(u), right: (r + p).div_ceil(u) });
        }
        specs.push(StageSpec { module: "dec", up: 1, left: same(7), right: same(7) });
        specs
    }

    /// Streaming stage `stage` (numbered as in [`Self::stage_specs`]): `conv_pre` (+ speaker)
    /// `[b, inter, t]` → `[b, ch, t]`; `ups.i` + resblocks `[b, ch, t]` → `[b, ch/2, t·u]`;
    /// `conv_post` `[b, ch, t]` → audio `[b, 1, t]` in [−1, 1].
    pub fn stage(&self, stage: usize, x: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        let n = self.ups.len();
        match stage {
            0 => {
                let x = self.conv_pre.forward(x, cx.lora)?;
                match (&self.cond, cx.g) {
                    (Some(cond), Some(g)) => x.broadcast_add(&cond.forward(g, cx.lora)?),
                    _ => Ok(x),
                }
            }
            s if s <= n => self.upsample(s - 1, x, cx.lora),
            // The last activation uses PyTorch's default slope 0.01, not LRELU_SLOPE.
            _ => self.conv_post.forward_fused(x, Fused { pre_slope: Some(0.01), residual: None }, cx.lora)?.tanh(),
        }
    }

    /// `ups.i` after a LeakyReLU, then the mean of its resblocks.
    fn upsample(&self, i: usize, x: &Tensor, lora: &Adapters) -> Result<Tensor> {
        let x = self.ups[i].forward_fused(x, Some(LRELU_SLOPE as f32))?;
        let blocks = &self.resblocks[i];
        let mut sum: Option<Tensor> = None;
        for block in blocks {
            let y = block.forward(&x, lora)?;
            sum = Some(match sum {
                Some(s) => (s + y)?,
                None => y,
            });
        }
        let sum = sum.ok_or_else(|| candle_core::Error::Msg("decoder stage without residual blocks".into()))?;
        sum / blocks.len() as f64
    }

    /// Latent frames of context `(left, right)` that one output sample depends on: the stages'
    /// reaches converted to frames and summed, rounded up. For Piper's medium voices (12, 11).
    pub fn receptive_halo(c: &VitsConfig) -> (usize, usize) {
        let (mut left, mut right, mut rate) = (0.0, 0.0, 1.0);
        for s in Self::stage_specs(c) {
            left += s.left as f64 / rate;
            right += s.right as f64 / rate;
            rate *= s.up as f64;
        }
        (left.ceil() as usize, right.ceil() as usize)
    }

    /// z `[b, inter, t]` (+ speaker `[b, gin, 1]`) → audio `[b, 1, t · hop]` in [−1, 1].
    pub fn forward(&self, z: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        (0..self.ups.len() + 2).try_fold(z.clone(), |x, s| self.stage(s, &x, cx))
    }
}
