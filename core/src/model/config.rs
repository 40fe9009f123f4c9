//! VITS hyper-parameters, read off a checkpoint's tensor shapes and conv attributes.
//!
//! Piper's `.onnx.json` does not carry the architecture, and the variants differ (x_low, low,
//! medium, high; single/multi-speaker): everything here is inferred from the weights, so any Piper
//! VITS voice loads without a table of known variants.

use crate::checkpoint::{Checkpoint, ConvAttrs};
use crate::error::{Error, Result};

/// Which HiFi-GAN residual block the decoder uses (`resblock` "1" in high, "2" in x_low…medium).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResBlockKind {
    /// `convs1` (dilated) then `convs2` (dilation 1) per step.
    One,
    /// One dilated conv per step (`convs`).
    Two,
}

/// The duration predictor variant.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationConfig {
    /// `StochasticDurationPredictor` (Piper's default): flows over noise conditioned on the text.
    Stochastic {
        filter_channels: usize,
        kernel_size: usize,
        /// Layers of each dilated depth-separable conv stack (`DDSConv`).
        dds_layers: usize,
        /// Number of `ConvFlow`s (each followed by a `Flip`).
        n_flows: usize,
        num_bins: usize,
        tail_bound: f32,
    },
    /// The deterministic `DurationPredictor` (two convs + projection).
    Deterministic { filter_channels: usize, kernel_size: usize },
}

/// The residual coupling flow (`flow`).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig {
    /// Coupling layers (each followed by a `Flip`): indices 0, 2, 4, … in `flow.flows`.
    pub n_flows: usize,
    pub kernel_size: usize,
    pub dilation_rate: usize,
    /// Layers of each WaveNet (`WN`) block.
    pub n_layers: usize,
}

/// The HiFi-GAN generator (`dec`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    pub initial_channel: usize,
    pub upsample_rates: Vec<usize>,
    pub upsample_kernel_sizes: Vec<usize>,
    pub upsample_paddings: Vec<usize>,
    pub resblock: ResBlockKind,
    pub resblock_kernel_sizes: Vec<usize>,
    pub resblock_dilation_sizes: Vec<Vec<usize>>,
}

/// Every hyper-parameter of a Piper VITS voice.
#[derive(Debug, Clone, PartialEq)]
pub struct VitsConfig {
    pub n_vocab: usize,
    pub hidden_channels: usize,
    pub inter_channels: usize,
    pub filter_channels: usize,
    pub n_heads: usize,
    pub n_layers: usize,
    /// Kernel of the text encoder's FFN convs.
    pub kernel_size: usize,
    /// Relative-attention window (positions −w..=w).
    pub window_size: usize,
    pub duration: DurationConfig,
    pub flow: FlowConfig,
    pub dec: GeneratorConfig,
    /// Rows of `emb_g` (0 for single-speaker voices).
    pub n_speakers: usize,
    /// Speaker embedding size (0 for single-speaker voices).
    pub gin_channels: usize,
}

impl VitsConfig {
    /// Reads the architecture off `ckpt`. Errors name the missing or odd tensor.
    pub fn infer(ckpt: &Checkpoint) -> Result<Self> {
        let bad = |reason: String| Error::bad_voice(&ckpt.path, reason);
        let dims = |name: &str| -> Result<Vec<usize>> {
            ckpt.get(name)
                .map(|t| t.dims().to_vec())
                .ok_or_else(|| bad(format!("missing weight `{name}`")))
        };
        let dim = |name: &str, i: usize| -> Result<usize> {
            dims(name)?
                .get(i)
                .copied()
                .ok_or_else(|| bad(format!("weight `{name}` has too few dimensions")))
        };
        let count = |prefix: &str, suffix: &str| {
            (0..).take_while(|i| ckpt.get(&format!("{prefix}{i}{suffix}")).is_some()).count()
        };
        let attrs = |module: &str| -> Result<ConvAttrs> {
            ckpt.conv(module).ok_or_else(|| bad(format!("the graph has no conv node for `{module}`")))
        };

        let emb = dims("enc_p.emb.weight")?;
        let (n_vocab, hidden_channels) = (emb[0], emb[1]);
        let n_layers = count("enc_p.encoder.attn_layers.", ".conv_q.weight");
        let rel = dims("enc_p.encoder.attn_layers.0.emb_rel_k")?; // [1, 2w+1, k_channels]
        let ffn = dims("enc_p.encoder.ffn_layers.0.conv_1.weight")?; // [filter, hidden, k]
        let inter_channels = dim("enc_p.proj.weight", 0)? / 2;

        let duration = if ckpt.get("dp.flows.0.m").is_some() {
            let n_conv_flows = (1..64).filter(|i| ckpt.get(&format!("dp.flows.{i}.pre.weight")).is_some());
            let last = n_conv_flows.max().ok_or_else(|| bad("no `dp.flows.N` ConvFlow weights".into()))?;
            DurationConfig::Stochastic {
                filter_channels: dim("dp.pre.weight", 0)?,
                kernel_size: dim("dp.convs.convs_sep.0.weight", 2)?,
                dds_layers: count("dp.convs.convs_sep.", ".weight"),
                n_flows: (last - 1) / 2 + 1,
                num_bins: (dim(&format!("dp.flows.{last}.proj.weight"), 0)? + 1) / 3,
                tail_bound: 5.0,
            }
        } else {
            DurationConfig::Deterministic {
                filter_channels: dim("dp.conv_1.weight", 0)?,
                kernel_size: dim("dp.conv_1.weight", 2)?,
            }
        };

        let wn = "flow.flows.0.enc";
        let n_wn_layers = count(&format!("{wn}.in_layers."), ".weight");
        let flow = FlowConfig {
            n_flows: (0..).step_by(2).take_while(|i| ckpt.get(&format!("flow.flows.{i}.pre.weight")).is_some()).count(),
            kernel_size: dim(&format!("{wn}.in_layers.0.weight"), 2)?,
            dilation_rate: match ckpt.conv(&format!("{wn}.in_layers.1")) {
                Some(a) => a.dilation,
                None => 1,
            },
            n_layers: n_wn_layers,
        };

        let n_ups = count("dec.ups.", ".weight");
        let n_res = count("dec.resblocks.", if ckpt.get("dec.resblocks.0.convs1.0.weight").is_some() { ".convs1.0.weight" } else { ".convs.0.weight" });
        if n_ups == 0 || n_res == 0 || n_res % n_ups != 0 {
            return Err(bad(format!("decoder has {n_ups} upsamplers and {n_res} residual blocks")));
        }
        let resblock = if ckpt.get("dec.resblocks.0.convs1.0.weight").is_some() { ResBlockKind::One } else { ResBlockKind::Two };
        let conv_name = match resblock {
            ResBlockKind::One => "convs1",
            ResBlockKind::Two => "convs",
        };
        let n_kernels = n_res / n_ups;
        let mut dec = GeneratorConfig {
            initial_channel: dim("dec.conv_pre.weight", 0)?,
            upsample_rates: vec![],
            upsample_kernel_sizes: vec![],
            upsample_paddings: vec![],
            resblock,
            resblock_kernel_sizes: vec![],
            resblock_dilation_sizes: vec![],
        };
        for i in 0..n_ups {
            let a = attrs(&format!("dec.ups.{i}"))?;
            dec.upsample_rates.push(a.stride);
            dec.upsample_paddings.push(a.padding);
            dec.upsample_kernel_sizes.push(dim(&format!("dec.ups.{i}.weight"), 2)?);
        }
        for j in 0..n_kernels {
            let block = format!("dec.resblocks.{j}.{conv_name}");
            dec.resblock_kernel_sizes.push(dim(&format!("{block}.0.weight"), 2)?);
            let steps = count(&format!("{block}."), ".weight");
            let dilations = (0..steps)
                .map(|s| attrs(&format!("{block}.{s}")).map(|a| a.dilation))
                .collect::<Result<Vec<_>>>()?;
            dec.resblock_dilation_sizes.push(dilations);
        }

        let (n_speakers, gin_channels) = match ckpt.get("emb_g.weight") {
            Some(t) => (t.dims()[0], t.dims()[1]),
            None => (0, 0),
        };
        let config = VitsConfig {
            n_vocab,
            hidden_channels,
            inter_channels,
            filter_channels: ffn[0],
            n_heads: hidden_channels / rel[2].max(1),
            n_layers,
            kernel_size: ffn[2],
            window_size: rel[1] / 2,
            duration,
            flow,
            dec,
            n_speakers,
            gin_channels,
        };
        config.check_shapes(ckpt)?;
        Ok(config)
    }

    /// Fails if any parameter this config needs is missing from `ckpt` or has another shape.
    pub fn check_shapes(&self, ckpt: &Checkpoint) -> Result<()> {
        for (name, shape) in self.parameter_shapes() {
            match ckpt.get(&name) {
                None => return Err(Error::bad_voice(&ckpt.path, format!("missing weight `{name}`"))),
                Some(t) if t.dims() != shape.as_slice() => {
                    return Err(Error::bad_voice(
                        &ckpt.path,
                        format!("weight `{name}` has shape {:?}, expected {shape:?}", t.dims()),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Every parameter used at inference with its shape, by checkpoint path, in model order.
    /// This is the naming contract style vectors rely on (see `docs/parameters.md`).
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut p: Vec<(String, Vec<usize>)> = Vec::new();
        let mut add = |name: String, shape: &[usize]| p.push((name, shape.to_vec()));
        let h = self.hidden_channels;
        let k_ch = h / self.n_heads;
        let conv = |add: &mut dyn FnMut(String, &[usize]), m: &str, o: usize, i: usize, k: usize, bias: bool| {
            add(format!("{m}.weight"), &[o, i, k]);
            if bias {
                add(format!("{m}.bias"), &[o]);
            }
        };
        let norm = |add: &mut dyn FnMut(String, &[usize]), m: &str, c: usize| {
            add(format!("{m}.gamma"), &[c]);
            add(format!("{m}.beta"), &[c]);
        };

        // Text encoder.
        add("enc_p.emb.weight".into(), &[self.n_vocab, h]);
        for l in 0..self.n_layers {
            let a = format!("enc_p.encoder.attn_layers.{l}");
            for c in ["conv_q", "conv_k", "conv_v", "conv_o"] {
                conv(&mut add, &format!("{a}.{c}"), h, h, 1, true);
            }
            add(format!("{a}.emb_rel_k"), &[1, 2 * self.window_size + 1, k_ch]);
            add(format!("{a}.emb_rel_v"), &[1, 2 * self.window_size + 1, k_ch]);
            norm(&mut add, &format!("enc_p.encoder.norm_layers_1.{l}"), h);
            let f = format!("enc_p.encoder.ffn_layers.{l}");
            conv(&mut add, &format!("{f}.conv_1"), self.filter_channels, h, self.kernel_size, true);
            conv(&mut add, &format!("{f}.conv_2"), h, self.filter_channels, self.kernel_size, true);
            norm(&mut add, &format!("enc_p.encoder.norm_layers_2.{l}"), h);
        }
        conv(&mut add, "enc_p.proj", 2 * self.inter_channels, h, 1, true);

        // Duration predictor.
        match &self.duration {
            DurationConfig::Stochastic { filter_channels: f, kernel_size: k, dds_layers, n_flows, num_bins, .. } => {
                let dds = |add: &mut dyn FnMut(String, &[usize]), m: &str| {
                    for l in 0..*dds_layers {
                        conv(add, &format!("{m}.convs_sep.{l}"), *f, 1, *k, true);
                        conv(add, &format!("{m}.convs_1x1.{l}"), *f, *f, 1, true);
                        norm(add, &format!("{m}.norms_1.{l}"), *f);
                        norm(add, &format!("{m}.norms_2.{l}"), *f);
                    }
                };
                conv(&mut add, "dp.pre", *f, h, 1, true);
                conv(&mut add, "dp.proj", *f, *f, 1, true);
                dds(&mut add, "dp.convs");
                if self.gin_channels > 0 {
                    conv(&mut add, "dp.cond", *f, self.gin_channels, 1, true);
                }
                add("dp.flows.0.m".into(), &[2, 1]);
                add("dp.flows.0.logs".into(), &[2, 1]);
                // flows.1 is never used at inference (VITS drops it) and Piper does not export it.
                for i in (1..*n_flows).map(|n| 2 * n + 1) {
                    let m = format!("dp.flows.{i}");
                    conv(&mut add, &format!("{m}.pre"), *f, 1, 1, true);
                    dds(&mut add, &format!("{m}.convs"));
                    conv(&mut add, &format!("{m}.proj"), 3 * num_bins - 1, *f, 1, true);
                }
            }
            DurationConfig::Deterministic { filter_channels: f, kernel_size: k } => {
                conv(&mut add, "dp.conv_1", *f, h, *k, true);
                norm(&mut add, "dp.norm_1", *f);
                conv(&mut add, "dp.conv_2", *f, *f, *k, true);
                norm(&mut add, "dp.norm_2", *f);
                conv(&mut add, "dp.proj", 1, *f, 1, true);
                if self.gin_channels > 0 {
                    conv(&mut add, "dp.cond", h, self.gin_channels, 1, true);
                }
            }
        }

        // Flow.
        let half = self.inter_channels / 2;
        for n in 0..self.flow.n_flows {
            let m = format!("flow.flows.{}", 2 * n);
            conv(&mut add, &format!("{m}.pre"), h, half, 1, true);
            for l in 0..self.flow.n_layers {
                conv(&mut add, &format!("{m}.enc.in_layers.{l}"), 2 * h, h, self.flow.kernel_size, true);
                let out = if l + 1 < self.flow.n_layers { 2 * h } else { h };
                conv(&mut add, &format!("{m}.enc.res_skip_layers.{l}"), out, h, 1, true);
            }
            if self.gin_channels > 0 {
                conv(&mut add, &format!("{m}.enc.cond_layer"), 2 * h * self.flow.n_layers, self.gin_channels, 1, true);
            }
            conv(&mut add, &format!("{m}.post"), half, h, 1, true);
        }

        // Generator.
        let d = &self.dec;
        conv(&mut add, "dec.conv_pre", d.initial_channel, self.inter_channels, 7, true);
        if self.gin_channels > 0 {
            conv(&mut add, "dec.cond", d.initial_channel, self.gin_channels, 1, true);
        }
        let mut ch = d.initial_channel;
        for (i, &k) in d.upsample_kernel_sizes.iter().enumerate() {
            // ConvTranspose1d weights are [in, out, k].
            add(format!("dec.ups.{i}.weight"), &[ch, ch / 2, k]);
            add(format!("dec.ups.{i}.bias"), &[ch / 2]);
            ch /= 2;
            for (j, (&rk, dil)) in d.resblock_kernel_sizes.iter().zip(&d.resblock_dilation_sizes).enumerate() {
                let r = format!("dec.resblocks.{}", i * d.resblock_kernel_sizes.len() + j);
                for s in 0..dil.len() {
                    match d.resblock {
                        ResBlockKind::Two => conv(&mut add, &format!("{r}.convs.{s}"), ch, ch, rk, true),
                        ResBlockKind::One => {
                            conv(&mut add, &format!("{r}.convs1.{s}"), ch, ch, rk, true);
                            conv(&mut add, &format!("{r}.convs2.{s}"), ch, ch, rk, true);
                        }
                    }
                }
            }
        }
        conv(&mut add, "dec.conv_post", 1, ch, 7, false);
        if self.n_speakers > 0 {
            add("emb_g.weight".into(), &[self.n_speakers, self.gin_channels]);
        }
        p
    }

    /// Upsampling factor of the decoder: audio samples per latent frame.
    pub fn hop_length(&self) -> usize {
        self.dec.upsample_rates.iter().product()
    }
}
