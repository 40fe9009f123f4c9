//! The HiFi-GAN generator `dec`: latent frames → waveform, upsampling by Π upsample_rates.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::config::{ResBlockKind, VitsConfig};
use super::modules::{Conv1d, ConvSpec, ConvTranspose1d, Fused};

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
                ResBlockKind::Two => Ok((Conv1d::load(vb.pp(format!("convs.{s}")), ch, ch, kernel, ConvSpec::same(kernel, d), true)?, None)),
                ResBlockKind::One => Ok((
                    Conv1d::load(vb.pp(format!("convs1.{s}")), ch, ch, kernel, ConvSpec::same(kernel, d), true)?,
                    Some(Conv1d::load(vb.pp(format!("convs2.{s}")), ch, ch, kernel, ConvSpec::same(kernel, 1), true)?),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ResBlock { steps })
    }
}

impl Module for ResBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        let pre = Some(LRELU_SLOPE as f32);
        for (c1, c2) in &self.steps {
            // x + conv(lrelu(x)), or x + conv2(lrelu(conv1(lrelu(x)))) for ResBlock1.
            x = match c2 {
                None => c1.forward_fused(&x, Fused { pre_slope: pre, residual: Some(&x) })?,
                Some(c2) => {
                    let xt = c1.forward_fused(&x, Fused { pre_slope: pre, residual: None })?;
                    c2.forward_fused(&xt, Fused { pre_slope: pre, residual: Some(&x) })?
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

    /// Latent frames of context `(left, right)` that one output sample depends on, rounded up.
    ///
    /// Summed over the layers, each converted to frames at its own sample rate: `conv_pre` and
    /// `conv_post` reach (k−1)/2 samples each side; `ups[i]` (kernel k, stride u, padding p) reads
    /// inputs (k−1−p)/u samples to the left of an output and p/u to the right; the widest resblock
    /// of a stage reaches Σ (k−1)/2 · (d + 1) samples (ResBlock1: dilated conv then plain conv) or
    /// Σ (k−1)/2 · d (ResBlock2) each side. For Piper's medium voices this gives (12, 11) frames.
    pub fn receptive_halo(c: &VitsConfig) -> (usize, usize) {
        let d = &c.dec;
        let same = |k: usize| (k - 1) as f64 / 2.0;
        let (mut left, mut right) = (same(7), same(7)); // conv_pre, at the frame rate
        let mut rate = 1.0; // samples per frame at the current stage's input
        for (i, (&k, &u)) in d.upsample_kernel_sizes.iter().zip(&d.upsample_rates).enumerate() {
            let p = d.upsample_paddings[i];
            left += (k - 1 - p) as f64 / u as f64 / rate;
            right += p as f64 / u as f64 / rate;
            rate *= u as f64;
            let reach = |j: usize| -> f64 {
                let k = d.resblock_kernel_sizes[j];
                d.resblock_dilation_sizes[j]
                    .iter()
                    .map(|&dil| same(k) * (dil + usize::from(d.resblock == ResBlockKind::One)) as f64)
                    .sum()
            };
            let widest = (0..d.resblock_kernel_sizes.len()).map(reach).fold(0.0, f64::max);
            left += widest / rate;
            right += widest / rate;
        }
        left += same(7) / rate; // conv_post
        right += same(7) / rate;
        (left.ceil() as usize, right.ceil() as usize)
    }

    /// z `[b, inter, t]` (+ speaker `[b, gin, 1]`) → audio `[b, 1, t · hop]` in [−1, 1].
    pub fn forward(&self, z: &Tensor, g: Option<&Tensor>) -> Result<Tensor> {
        let mut x = self.conv_pre.forward(z)?;
        if let (Some(cond), Some(g)) = (&self.cond, g) {
            x = x.broadcast_add(&cond.forward(g)?)?;
        }
        for (up, blocks) in self.ups.iter().zip(&self.resblocks) {
            x = up.forward_fused(&x, Some(LRELU_SLOPE as f32))?;
            let mut sum: Option<Tensor> = None;
            for block in blocks {
                let y = block.forward(&x)?;
                sum = Some(match sum {
                    Some(s) => (s + y)?,
                    None => y,
                });
            }
            let sum = sum.ok_or_else(|| candle_core::Error::Msg("decoder stage without residual blocks".into()))?;
            x = (sum / blocks.len() as f64)?;
        }
        // The last activation uses PyTorch's default slope 0.01, not LRELU_SLOPE.
        self.conv_post.forward_fused(&x, Fused { pre_slope: Some(0.01), residual: None })?.tanh()
    }
}
