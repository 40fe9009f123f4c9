//! What VITS declares to style vectors: its module groups, its steering points, and which
//! low-rank deltas can run on the fly.
//!
//! Practitioners merge VITS voices by group — decoder = timbre, flow = pitch, text encoder =
//! speaking style, duration predictor = tempo — and HE-Vector puts dialect in early layers,
//! emotion in late ones; hence the `enc_p.early` / `enc_p.late` split of the text encoder.

use std::collections::BTreeSet;

use super::backbone::{GroupDef, SteerPointDef};
use super::config::VitsConfig;

/// The groups of a VITS model with parameters `params`, coarse ones first (`emb_g` only for
/// multi-speaker models).
pub fn groups(c: &VitsConfig, params: &[String]) -> Vec<GroupDef> {
    let defs: [(&str, &str); 8] = [
        ("enc_p", "text encoder: phoneme embedding, attention/FFN layers, proj (speaking style)"),
        ("dp", "duration predictor (tempo)"),
        ("flow", "flow (pitch)"),
        ("dec", "decoder (timbre)"),
        ("emb_g", "speaker table of multi-speaker voices"),
        ("enc_p.early", "enc_p.emb and the first half of the encoder's layers (dialect)"),
        ("enc_p.emb", "the phoneme embedding alone: each phoneme's sound, whatever its context (dialect)"),
        ("enc_p.late", "the second half of the encoder's layers and enc_p.proj (emotion)"),
    ];
    defs.into_iter()
        .map(|(name, about)| GroupDef {
            name: name.to_string(),
            about: about.to_string(),
            params: params.iter().filter(|p| contains(name, p, c.n_layers)).cloned().collect::<BTreeSet<_>>(),
        })
        .filter(|g| !g.params.is_empty())
        .collect()
}

/// Whether parameter `path` belongs to group `group`, for a text encoder of `n_layers` layers.
fn contains(group: &str, path: &str, n_layers: usize) -> bool {
    let top = path.split('.').next().unwrap_or("");
    match group {
        "enc_p.early" | "enc_p.late" => {
            let early = match encoder_layer(path) {
                Some(layer) => layer < n_layers.div_ceil(2),
                None if path.starts_with("enc_p.emb") => true,
                None if path.starts_with("enc_p.") => false,
                None => return false,
            };
            early == (group == "enc_p.early")
        }
        "enc_p.emb" => path.starts_with("enc_p.emb."),
        g => top == g,
    }
}

/// `enc_p.encoder.<kind>.<N>.…` → N.
fn encoder_layer(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("enc_p.encoder.")?;
    rest.split('.').nth(1)?.parse().ok()
}

/// The steering points: `m_p` (the prior frames, input of the first flow step) and `z` (the
/// flow's output, input of the decoder's first stage, `flow_stages` on).
pub fn steer_points(c: &VitsConfig, flow_stages: usize) -> Vec<SteerPointDef> {
    vec![
        SteerPointDef {
            name: "m_p".into(),
            about: "the prior mean from enc_p.proj, expanded to frames (the flow's input)".into(),
            stage: 0,
            channels: c.inter_channels,
            groups: vec!["enc_p".into(), "enc_p.late".into()],
        },
        SteerPointDef {
            name: "z".into(),
            about: "the flow's output, the decoder's input".into(),
            stage: flow_stages,
            channels: c.inter_channels,
            groups: vec!["flow".into()],
        },
    ]
}

/// Dense convs only: transposed convs (`dec.ups.*`), depthwise convs (`convs_sep`), embeddings
/// and 1-D parameters are merged into a copy instead.
pub fn lora_on_the_fly(path: &str, shape: &[usize]) -> bool {
    shape.len() == 3 && path.ends_with(".weight") && !path.starts_with("dec.ups.") && !path.contains("convs_sep")
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn parameters_fall_in_their_groups() {
        let n = 6;
        assert!(contains("enc_p", "enc_p.encoder.attn_layers.5.conv_q.weight", n));
        assert!(contains("enc_p.early", "enc_p.emb.weight", n));
        assert!(contains("enc_p.early", "enc_p.encoder.ffn_layers.2.conv_1.weight", n));
        assert!(!contains("enc_p.early", "enc_p.encoder.ffn_layers.3.conv_1.weight", n));
        assert!(contains("enc_p.emb", "enc_p.emb.weight", n));
        assert!(!contains("enc_p.emb", "enc_p.encoder.ffn_layers.0.conv_1.weight", n));
        assert!(contains("enc_p.late", "enc_p.encoder.norm_layers_2.3.gamma", n));
        assert!(contains("enc_p.late", "enc_p.proj.weight", n));
        assert!(!contains("enc_p.late", "dp.flows.0.logs", n));
        assert!(contains("dec", "dec.ups.0.weight", n) && !contains("flow", "dec.ups.0.weight", n));
        assert!(contains("dp", "dp.pre.weight", n));
    }
}
