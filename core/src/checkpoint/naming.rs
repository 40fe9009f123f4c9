//! How an ONNX initializer gets its stable parameter name.
//!
//! Piper exports keep PyTorch's parameter paths for most weights (`dec.ups.0.weight`). Weights
//! that went through `weight_norm` are folded at export into anonymous initializers
//! (`onnx::Conv_8168`); their module path survives only in the name of the node that consumes
//! them (`/flow/flows.0/enc/in_layers.0/Conv`). The phoneme embedding is stored under `sid`.
//! These rules recover `flow.flows.0.enc.in_layers.0.weight`, `enc_p.emb.weight`, … so that every
//! parameter is addressed by its checkpoint path (style vectors rely on these names).

/// One use of an initializer: the consuming node's name, its op type, and the input slot.
pub struct Use<'a> {
    pub node_name: &'a str,
    pub op_type: &'a str,
    pub input_index: usize,
}

/// `"/flow/flows.0/enc/in_layers.0/Conv"` → `"flow.flows.0.enc.in_layers.0"`: the module path of
/// a node exported from PyTorch (its name without the trailing op segment). `None` for nodes at the
/// graph's top level or with names not made by the exporter.
pub fn module_path(node_name: &str) -> Option<String> {
    let rest = node_name.strip_prefix('/')?;
    let (module, _op) = rest.rsplit_once('/')?;
    if module.is_empty() {
        return None;
    }
    Some(module.replace('/', "."))
}

/// Whether `name` already is a PyTorch parameter path (`enc_p.encoder.attn_layers.0.conv_q.weight`).
pub fn is_parameter_path(name: &str) -> bool {
    name.contains('.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

/// The parameter name for an initializer called `name` with the given uses, or `None` when it is
/// not a parameter (shape constants and the like).
pub fn parameter_name(name: &str, uses: &[Use<'_>]) -> Option<String> {
    if is_parameter_path(name) {
        return Some(name.to_string());
    }
    uses.iter().find_map(|u| {
        let role = match (u.op_type, u.input_index) {
            ("Conv" | "ConvTranspose", 1) => "weight",
            ("Conv" | "ConvTranspose", 2) => "bias",
            ("Gather", 0) => "weight",
            _ => return None,
        };
        Some(format!("{}.{role}", module_path(u.node_name)?))
    })
}

/// A folded `exp(-logs)` of an `ElementwiseAffine` flow (`/dp/flows.0/Exp_output_0`): the module
/// path whose `logs` it encodes.
pub fn folded_exp_neg_logs(name: &str) -> Option<String> {
    let module = name.strip_prefix('/')?.strip_suffix("/Exp_output_0")?;
    (!module.is_empty()).then(|| module.replace('/', "."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        assert_eq!(
            module_path("/flow/flows.0/enc/in_layers.0/Conv").as_deref(),
            Some("flow.flows.0.enc.in_layers.0")
        );
        assert_eq!(module_path("/Gather_5"), None);
        assert_eq!(module_path("Slice_5596"), None);
    }

    #[test]
    fn anonymous_conv_weight_and_bias() {
        let uses = [Use { node_name: "/flow/flows.6/enc/in_layers.0/Conv", op_type: "Conv", input_index: 1 }];
        assert_eq!(
            parameter_name("onnx::Conv_8168", &uses).as_deref(),
            Some("flow.flows.6.enc.in_layers.0.weight")
        );
        let uses = [Use { node_name: "/dec/ups.0/ConvTranspose", op_type: "ConvTranspose", input_index: 2 }];
        assert_eq!(parameter_name("onnx::ConvTranspose_1", &uses).as_deref(), Some("dec.ups.0.bias"));
    }

    #[test]
    fn phoneme_embedding_stored_as_sid() {
        let uses = [Use { node_name: "/enc_p/emb/Gather", op_type: "Gather", input_index: 0 }];
        assert_eq!(parameter_name("sid", &uses).as_deref(), Some("enc_p.emb.weight"));
    }

    #[test]
    fn constants_are_not_parameters() {
        let uses = [Use { node_name: "/enc_p/Range", op_type: "Range", input_index: 0 }];
        assert_eq!(parameter_name("/Constant_1_output_0", &uses), None);
        assert_eq!(parameter_name("6549", &[]), None);
        assert!(is_parameter_path("dp.flows.0.m"));
        assert!(!is_parameter_path("onnx::Conv_8168"));
        assert!(!is_parameter_path("/dp/flows.0/Exp_output_0"));
        assert_eq!(folded_exp_neg_logs("/dp/flows.0/Exp_output_0").as_deref(), Some("dp.flows.0"));
    }
}
