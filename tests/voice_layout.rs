//! The bundled voice's parameters: every weight in the `.onnx` is named and used, and the names
//! documented in docs/parameters.md are the ones the loader produces.

mod common;

use std::collections::BTreeSet;

use tvtts::core::checkpoint::Checkpoint;
use tvtts::core::model::VitsConfig;

#[test]
fn every_onnx_weight_is_named_and_used() {
    let ckpt = Checkpoint::from_onnx_file(common::voice_path()).unwrap();
    let config = VitsConfig::infer(&ckpt).unwrap();
    let used: BTreeSet<String> = config.parameter_shapes().into_iter().map(|(n, _)| n).collect();
    let loaded: BTreeSet<String> = ckpt.tensors.keys().cloned().collect();
    assert_eq!(loaded, used, "weights the model does not use, or needs but the file lacks");
    assert_eq!(ckpt.num_parameters(), 15_650_459);
    for anonymous in ["flow.flows.6.enc.in_layers.0.weight", "flow.flows.0.enc.res_skip_layers.3.weight", "enc_p.emb.weight", "dp.flows.0.logs"] {
        assert!(loaded.contains(anonymous), "{anonymous}");
    }
}

#[test]
fn documented_names_match_the_loader() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/parameters.md")).unwrap();
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` | "))
        .map(|(n, s)| (n.to_string(), s.trim_end_matches(" |").to_string()))
        .collect();
    let ckpt = Checkpoint::from_onnx_file(common::voice_path()).unwrap();
    let actual: Vec<(String, String)> =
        VitsConfig::infer(&ckpt).unwrap().parameter_shapes().into_iter().map(|(n, s)| (n, format!("{s:?}"))).collect();
    assert_eq!(documented, actual);
}
