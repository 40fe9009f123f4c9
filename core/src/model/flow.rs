//! The normalising flow `flow` (`ResidualCouplingBlock`), run in reverse: it maps a sample of the
//! prior z_p to the decoder's latent z. Each coupling layer (`flow.flows.{0,2,4,…}`) shifts the
//! second half of the channels by a WaveNet (`WN`) of the first half; `Flip` layers in between
//! reverse the channel order.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::activations::gated_tanh_sigmoid;
use super::config::VitsConfig;
use super::modules::{flip_channels, Conv1d, ConvSpec};
use super::style_state::Cond;

/// `WN`: gated dilated convs with residual and skip outputs.
#[derive(Debug, Clone)]
struct Wn {
    in_layers: Vec<Conv1d>,
    res_skip_layers: Vec<Conv1d>,
    cond_layer: Option<Conv1d>,
    hidden: usize,
}

impl Wn {
    fn load(vb: VarBuilder, c: &VitsConfig) -> Result<Self> {
        let (h, k, n) = (c.hidden_channels, c.flow.kernel_size, c.flow.n_layers);
        let mut in_layers = Vec::with_capacity(n);
        let mut res_skip_layers = Vec::with_capacity(n);
        for i in 0..n {
            let spec = ConvSpec::same(k, c.flow.dilation_rate.pow(i as u32));
            in_layers.push(Conv1d::load(vb.pp(format!("in_layers.{i}")), h, 2 * h, k, spec, true)?.winograd());
            let out = if i + 1 < n { 2 * h } else { h };
            res_skip_layers.push(Conv1d::load(vb.pp(format!("res_skip_layers.{i}")), h, out, 1, ConvSpec::pointwise(), true)?);
        }
        let cond_layer = (c.gin_channels > 0)
            .then(|| Conv1d::load(vb.pp("cond_layer"), c.gin_channels, 2 * h * n, 1, ConvSpec::pointwise(), true))
            .transpose()?;
        Ok(Wn { in_layers, res_skip_layers, cond_layer, hidden: h })
    }

    /// `[b, hidden, t]` (+ speaker `[b, gin, 1]`) → skip sum `[b, hidden, t]`.
    fn forward(&self, x: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        let h = self.hidden;
        let g = match (&self.cond_layer, cx.g) {
            (Some(cond), Some(g)) => Some(cond.forward(g, cx.lora)?),
            _ => None,
        };
        let mut x = x.clone();
        let mut output: Option<Tensor> = None;
        let n = self.in_layers.len();
        for (i, (in_layer, res_skip)) in self.in_layers.iter().zip(&self.res_skip_layers).enumerate() {
            let mut x_in = in_layer.forward(&x, cx.lora)?; // [b, 2h, t]
            if let Some(g) = &g {
                x_in = x_in.broadcast_add(&g.narrow(1, i * 2 * h, 2 * h)?)?;
            }
            let acts = gated_tanh_sigmoid(&x_in, h)?;
            let rs = res_skip.forward(&acts, cx.lora)?;
            let skip = if i + 1 < n {
                x = (x + rs.narrow(1, 0, h)?)?;
                rs.narrow(1, h, h)?
            } else {
                rs
            };
            output = Some(match output {
                Some(o) => (o + skip)?,
                None => skip,
            });
        }
        output.ok_or_else(|| candle_core::Error::Msg("WN with no layers".into()))
    }
}

/// `ResidualCouplingLayer` (mean-only).
#[derive(Debug, Clone)]
struct CouplingLayer {
    pre: Conv1d,
    enc: Wn,
    post: Conv1d,
    half: usize,
}

impl CouplingLayer {
    /// Reverse pass on `[b, inter, t]`.
    fn reverse(&self, x: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        let x0 = x.narrow(1, 0, self.half)?;
        let x1 = x.narrow(1, self.half, self.half)?;
        let h = self.enc.forward(&self.pre.forward(&x0, cx.lora)?, cx)?;
        let m = self.post.forward(&h, cx.lora)?;
        Tensor::cat(&[&x0, &(x1 - m)?], 1)
    }
}

/// `flow` (`ResidualCouplingBlock`).
#[derive(Debug, Clone)]
pub struct Flow {
    /// `flow.flows.0`, `flow.flows.2`, … in forward order.
    layers: Vec<CouplingLayer>,
}

impl Flow {
    pub fn load(vb: VarBuilder, c: &VitsConfig) -> Result<Self> {
        let half = c.inter_channels / 2;
        let pw = ConvSpec::pointwise();
        let layers = (0..c.flow.n_flows)
            .map(|n| {
                let vb = vb.pp(format!("flows.{}", 2 * n));
                Ok(CouplingLayer {
                    pre: Conv1d::load(vb.pp("pre"), half, c.hidden_channels, 1, pw, true)?,
                    enc: Wn::load(vb.pp("enc"), c)?,
                    post: Conv1d::load(vb.pp("post"), c.hidden_channels, half, 1, pw, true)?,
                    half,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Flow { layers })
    }

    /// z_p `[b, inter, t]` → z `[b, inter, t]` (flows reversed: Flip, coupling, Flip, …).
    pub fn reverse(&self, z_p: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        (0..self.layers.len()).try_fold(z_p.clone(), |x, step| self.reverse_step(step, &x, cx))
    }

    /// Coupling layers (streaming stages of the reverse pass).
    pub fn steps(&self) -> usize {
        self.layers.len()
    }

    /// Step `step` of the reverse pass, `[b, inter, t]` → `[b, inter, t]`: a Flip, then coupling
    /// layer `n_flows − 1 − step` reversed.
    pub fn reverse_step(&self, step: usize, x: &Tensor, cx: Cond<'_>) -> Result<Tensor> {
        self.layers[self.layers.len() - 1 - step].reverse(&flip_channels(x)?, cx)
    }

    /// Frames of context each side that one step's output frame depends on (each WN layer widens
    /// it by `(k−1)/2 · dilation`; `pre` and `post` are pointwise).
    pub fn step_reach(c: &VitsConfig) -> usize {
        (0..c.flow.n_layers).map(|i| (c.flow.kernel_size - 1) / 2 * c.flow.dilation_rate.pow(i as u32)).sum()
    }

    /// Frames of context each side that one output frame of the whole flow depends on.
    pub fn receptive_halo(c: &VitsConfig) -> usize {
        Self::step_reach(c) * c.flow.n_flows
    }
}
