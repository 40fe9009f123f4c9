//! Module groups of a VITS voice: what a style vector may touch.
//!
//! Practitioners merge VITS voices by group — decoder = timbre, flow = pitch, text encoder =
//! speaking style, duration predictor = tempo — and HE-Vector puts dialect in early layers,
//! emotion in late ones. A vector's metadata (or the preset using it) lists its groups; applying
//! it never touches a parameter or hidden state outside them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A named part of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// `enc_p`: phoneme embedding, attention/FFN layers, `proj` (and the prior mean it makes).
    TextEncoder,
    /// `enc_p.emb` and the first half of `enc_p.encoder`'s layers.
    TextEncoderEarly,
    /// The second half of `enc_p.encoder`'s layers and `enc_p.proj`.
    TextEncoderLate,
    /// `dp`: durations (tempo).
    Duration,
    /// `flow` (pitch).
    Flow,
    /// `dec` (timbre).
    Decoder,
    /// `emb_g`: the speaker table of multi-speaker voices.
    Speaker,
}

impl Group {
    /// Every group, coarse ones first.
    pub const ALL: [Group; 7] = [
        Group::TextEncoder,
        Group::Duration,
        Group::Flow,
        Group::Decoder,
        Group::Speaker,
        Group::TextEncoderEarly,
        Group::TextEncoderLate,
    ];

    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Group::TextEncoder => "enc_p",
            Group::TextEncoderEarly => "enc_p.early",
            Group::TextEncoderLate => "enc_p.late",
            Group::Duration => "dp",
            Group::Flow => "flow",
            Group::Decoder => "dec",
            Group::Speaker => "emb_g",
        }
    }

    /// Whether parameter `name` (a checkpoint path, as in `docs/parameters.md`) belongs to this
    /// group, for a text encoder of `n_layers` layers.
    pub fn contains(self, name: &str, n_layers: usize) -> bool {
        let top = name.split('.').next().unwrap_or("");
        match self {
            Group::TextEncoder => top == "enc_p",
            Group::Duration => top == "dp",
            Group::Flow => top == "flow",
            Group::Decoder => top == "dec",
            Group::Speaker => top == "emb_g",
            Group::TextEncoderEarly | Group::TextEncoderLate => {
                let early = match encoder_layer(name) {
                    Some(layer) => layer < n_layers.div_ceil(2),
                    None if name.starts_with("enc_p.emb") => true,
                    None if name.starts_with("enc_p.") => false,
                    None => return false,
                };
                early == (self == Group::TextEncoderEarly)
            }
        }
    }

    /// Parses a comma-separated list (`"enc_p.late,flow"`); empty is an error.
    pub fn parse_list(s: &str) -> Result<Vec<Group>> {
        let groups = s.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::parse).collect::<Result<Vec<_>>>()?;
        if groups.is_empty() {
            return Err(Error::invalid("module groups", format!("`{s}`: none given")));
        }
        Ok(groups)
    }

    /// `groups` as a comma-separated list.
    pub fn list(groups: &[Group]) -> String {
        groups.iter().map(|g| g.name()).collect::<Vec<_>>().join(",")
    }
}

/// `enc_p.encoder.<kind>.<N>.…` → N.
fn encoder_layer(name: &str) -> Option<usize> {
    let rest = name.strip_prefix("enc_p.encoder.")?;
    rest.split('.').nth(1)?.parse().ok()
}

impl FromStr for Group {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Group::ALL.into_iter().find(|g| g.name() == s).ok_or_else(|| {
            let known: Vec<&str> = Group::ALL.iter().map(|g| g.name()).collect();
            Error::invalid("module group", format!("`{s}` (known: {})", known.join(", ")))
        })
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fall_in_their_groups() {
        let n = 6;
        assert!(Group::TextEncoder.contains("enc_p.encoder.attn_layers.5.conv_q.weight", n));
        assert!(Group::TextEncoderEarly.contains("enc_p.emb.weight", n));
        assert!(Group::TextEncoderEarly.contains("enc_p.encoder.ffn_layers.2.conv_1.weight", n));
        assert!(!Group::TextEncoderEarly.contains("enc_p.encoder.ffn_layers.3.conv_1.weight", n));
        assert!(Group::TextEncoderLate.contains("enc_p.encoder.norm_layers_2.3.gamma", n));
        assert!(Group::TextEncoderLate.contains("enc_p.proj.weight", n));
        assert!(!Group::TextEncoderLate.contains("dp.flows.0.logs", n));
        assert!(Group::Decoder.contains("dec.ups.0.weight", n) && !Group::Flow.contains("dec.ups.0.weight", n));
        assert!(Group::Duration.contains("dp.pre.weight", n));
        assert_eq!(Group::parse_list("enc_p.late, flow").unwrap(), [Group::TextEncoderLate, Group::Flow]);
        assert!(Group::parse_list("voice").unwrap_err().to_string().contains("known: enc_p"));
        assert!(Group::parse_list(" ,").is_err());
    }
}
