//! Activation steering: h' = h + Σ αᵢ·vᵢ at named hidden states, applied per streaming window.

use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device, Tensor};

use super::groups::Group;
use crate::error::{Error, Result};
use crate::model::VitsConfig;

/// A hidden state steering vectors are added to, at every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SteerPoint {
    /// `m_p`: the prior mean from `enc_p.proj`, expanded to frames (the flow's input).
    Prior,
    /// `z`: the flow's output, the decoder's input.
    Latent,
}

impl SteerPoint {
    pub const ALL: [SteerPoint; 2] = [SteerPoint::Prior, SteerPoint::Latent];

    pub fn name(self) -> &'static str {
        match self {
            SteerPoint::Prior => "m_p",
            SteerPoint::Latent => "z",
        }
    }

    /// Channels of the hidden state.
    pub fn channels(self, c: &VitsConfig) -> usize {
        c.inter_channels
    }

    /// Whether steering here counts as touching `group` (`m_p` is the text encoder's output,
    /// `z` the flow's).
    pub fn in_group(self, group: Group) -> bool {
        match self {
            SteerPoint::Prior => matches!(group, Group::TextEncoder | Group::TextEncoderLate),
            SteerPoint::Latent => group == Group::Flow,
        }
    }
}

impl FromStr for SteerPoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SteerPoint::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::invalid("steering point", format!("`{s}` (known: m_p, z)")))
    }
}

impl fmt::Display for SteerPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The offsets to add now, one `[1, channels, 1]` tensor per point (none: nothing to add).
#[derive(Debug, Clone, Default)]
pub struct Steering {
    pub prior: Option<Tensor>,
    pub latent: Option<Tensor>,
}

impl Steering {
    /// Adds `alpha · v` (`v` `[channels]`) at `point`.
    pub fn add(&mut self, point: SteerPoint, v: &Tensor, alpha: f32, device: &Device) -> Result<()> {
        if alpha == 0.0 {
            return Ok(());
        }
        let c = v.dim(0)?;
        let term = (v.to_device(device)?.to_dtype(DType::F32)? * alpha as f64)?.reshape((1, c, 1))?;
        let slot = match point {
            SteerPoint::Prior => &mut self.prior,
            SteerPoint::Latent => &mut self.latent,
        };
        *slot = Some(match slot.take() {
            Some(s) => (s + term)?,
            None => term,
        });
        Ok(())
    }

    /// `x` `[b, c, t]` plus the offset at `point`, if any.
    pub fn apply(&self, point: SteerPoint, x: Tensor) -> Result<Tensor> {
        let offset = match point {
            SteerPoint::Prior => &self.prior,
            SteerPoint::Latent => &self.latent,
        };
        Ok(match offset {
            Some(o) => x.broadcast_add(o)?,
            None => x,
        })
    }
}
