//! Code paths the bundled voice does not exercise — multi-speaker (`emb_g`, speaker conditioning
//! in dp, flow and dec), the deterministic duration predictor and HiFi-GAN ResBlock1 ("high") —
//! run on small random models built in memory the way an exporter lays them out.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use tvtts::core::checkpoint::{Checkpoint, ConvAttrs};
use tvtts::core::model::config::{DurationConfig, FlowConfig, GeneratorConfig, ResBlockKind};
use tvtts::core::model::{Cond, Noise, Scales, Vits, VitsConfig};

fn small_config(duration: DurationConfig, resblock: ResBlockKind, n_speakers: usize) -> VitsConfig {
    VitsConfig {
        n_vocab: 40,
        hidden_channels: 16,
        inter_channels: 16,
        filter_channels: 32,
        n_heads: 2,
        n_layers: 2,
        kernel_size: 3,
        window_size: 4,
        duration,
        flow: FlowConfig { n_flows: 2, kernel_size: 5, dilation_rate: 1, n_layers: 2 },
        dec: GeneratorConfig {
            initial_channel: 32,
            upsample_rates: vec![4, 4],
            upsample_kernel_sizes: vec![8, 8],
            upsample_paddings: vec![2, 2],
            resblock,
            resblock_kernel_sizes: vec![3, 5],
            resblock_dilation_sizes: vec![vec![1, 3], vec![1, 3]],
        },
        n_speakers,
        gin_channels: if n_speakers > 0 { 8 } else { 0 },
    }
}

fn stochastic() -> DurationConfig {
    DurationConfig::Stochastic { filter_channels: 16, kernel_size: 3, dds_layers: 3, n_flows: 4, num_bins: 10, tail_bound: 5.0 }
}

/// Random weights (small, so durations stay near one frame per phoneme) and the conv attributes
/// an ONNX export records, for `config`.
fn random_checkpoint(config: &VitsConfig) -> Checkpoint {
    let dev = Device::Cpu;
    let mut tensors = HashMap::new();
    for (name, shape) in config.parameter_shapes() {
        let t = if name.ends_with(".gamma") {
            Tensor::ones(shape.as_slice(), candle_core::DType::F32, &dev).unwrap()
        } else {
            let std = if name == "emb_g.weight" { 1.0 } else { 0.05 };
            Tensor::randn(0f32, std, shape.as_slice(), &dev).unwrap()
        };
        tensors.insert(name, t);
    }
    let mut convs = HashMap::new();
    let d = &config.dec;
    for i in 0..d.upsample_rates.len() {
        convs.insert(format!("dec.ups.{i}"), ConvAttrs { stride: d.upsample_rates[i], padding: d.upsample_paddings[i], dilation: 1, groups: 1 });
        for (j, dil) in d.resblock_dilation_sizes.iter().enumerate() {
            let block = format!("dec.resblocks.{}", i * d.resblock_kernel_sizes.len() + j);
            let name = if d.resblock == ResBlockKind::One { "convs1" } else { "convs" };
            for (s, &dl) in dil.iter().enumerate() {
                let k = d.resblock_kernel_sizes[j];
                convs.insert(format!("{block}.{name}.{s}"), ConvAttrs { stride: 1, padding: (k * dl - dl) / 2, dilation: dl, groups: 1 });
            }
        }
    }
    Checkpoint { tensors, convs, graph_inputs: vec![], path: "in-memory".into() }
}

fn synth(model: &Vits, speaker: Option<usize>, seed: u64, noisy: bool) -> Vec<f32> {
    let ids: Vec<i64> = (0..23).map(|i| (i * 7 % 40) as i64).collect();
    let scales = if noisy {
        Scales { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    } else {
        Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 }
    };
    model.synthesize(&ids, scales, speaker, &mut Noise::seeded(seed)).unwrap()
}

#[test]
fn architecture_is_inferred_from_a_multi_speaker_checkpoint() {
    for (dur, rb) in [(stochastic(), ResBlockKind::Two), (DurationConfig::Deterministic { filter_channels: 16, kernel_size: 3 }, ResBlockKind::One)] {
        let config = small_config(dur, rb, 3);
        let ckpt = random_checkpoint(&config);
        assert_eq!(VitsConfig::infer(&ckpt).unwrap(), config);
    }
}

#[test]
fn speakers_change_the_voice_and_ids_are_checked() {
    let config = small_config(stochastic(), ResBlockKind::Two, 3);
    let model = Vits::load(&random_checkpoint(&config), config, &Device::Cpu).unwrap();
    let a = synth(&model, Some(0), 0, false);
    let b = synth(&model, Some(1), 0, false);
    assert!(!a.is_empty() && a.iter().all(|v| v.is_finite()));
    assert_eq!(a.len() % 16, 0, "whole frames of hop 16");
    let differs = a.len() != b.len() || a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-6);
    assert!(differs, "speaker 0 and 1 gave the same audio");
    assert_eq!(synth(&model, None, 0, false), a, "no speaker id means speaker 0");
    let ids = [1i64, 2, 3];
    let zero = Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 };
    let err = model.synthesize(&ids, zero, Some(3), &mut Noise::seeded(0)).unwrap_err();
    assert!(err.to_string().contains("speaker"), "{err}");
}

#[test]
fn same_seed_same_audio_other_seed_other_audio() {
    let config = small_config(stochastic(), ResBlockKind::Two, 3);
    let model = Vits::load(&random_checkpoint(&config), config, &Device::Cpu).unwrap();
    let a = synth(&model, Some(2), 42, true);
    assert_eq!(a, synth(&model, Some(2), 42, true));
    let b = synth(&model, Some(2), 43, true);
    assert!(a.len() != b.len() || a != b);
}

#[test]
fn deterministic_duration_predictor_and_resblock1_run() {
    let config = small_config(DurationConfig::Deterministic { filter_channels: 16, kernel_size: 3 }, ResBlockKind::One, 2);
    let model = Vits::load(&random_checkpoint(&config), config, &Device::Cpu).unwrap();
    let a = synth(&model, Some(1), 0, true);
    assert!(!a.is_empty() && a.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
}

#[test]
fn a_single_speaker_voice_rejects_speaker_ids() {
    let config = small_config(stochastic(), ResBlockKind::Two, 0);
    let model = Vits::load(&random_checkpoint(&config), config, &Device::Cpu).unwrap();
    assert!(!synth(&model, None, 0, false).is_empty());
    let zero = Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 };
    assert!(model.synthesize(&[1, 2, 3], zero, Some(1), &mut Noise::seeded(0)).is_err());
}

/// Speaks with speaker embedding `g` given directly (noise 0).
fn synth_with_g(model: &Vits, g: Tensor) -> Vec<f32> {
    let ids: Vec<i64> = (0..23).map(|i| (i * 7 % 40) as i64).collect();
    let cx = Cond::speaker(Some(&g));
    let z_p = model.text_side(&ids, &[], &Scales::QUIET, &mut Noise::seeded(0), cx).unwrap().input;
    model.flow_decode(&z_p, cx).unwrap().to_vec1().unwrap()
}

#[test]
fn speaker_centroid_vectors_move_the_embedding_exactly() {
    use tvtts::core::style::build::speaker_centroid;
    let config = small_config(stochastic(), ResBlockKind::Two, 4);
    let ckpt = random_checkpoint(&config);
    let model = Vits::load(&ckpt, config.clone(), &Device::Cpu).unwrap();
    let v = speaker_centroid(&model, &[0, 1], &[2, 3], "test", "0,1 minus 2,3", (0.0, 1.0)).unwrap();
    let tau = &v.tensors["emb_g"];
    let emb = &ckpt.tensors["emb_g.weight"];
    let row = |s: usize| emb.get(s).unwrap();
    let want = (((row(0) + row(1)).unwrap() - (row(2) + row(3)).unwrap()).unwrap() / 2.0).unwrap();
    let err = (tau - &want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(err <= 1e-6, "τ = mean(a) − mean(b): {err}");
    assert!(speaker_centroid(&model, &[0], &[9], "test", "", (0.0, 1.0)).is_err(), "speaker ids are checked");

    // Speaker 1 moved by α·τ sounds exactly like a model whose emb_g row 1 is emb[1] + α·τ.
    let alpha = 1.5;
    let moved = (row(1) + (tau * alpha).unwrap()).unwrap();
    let ours = synth_with_g(&model, moved.reshape((1, 8, 1)).unwrap());
    let mut edited = ckpt.clone();
    let mut rows: Vec<Tensor> = (0..4).map(row).collect();
    rows[1] = moved;
    edited.tensors.insert("emb_g.weight".into(), Tensor::stack(&rows, 0).unwrap());
    let edited = Vits::load(&edited, config, &Device::Cpu).unwrap();
    assert_eq!(ours, synth(&edited, Some(1), 0, false));
    // α = 0: speaker 1 itself.
    assert_eq!(synth_with_g(&model, row(1).reshape((1, 8, 1)).unwrap()), synth(&model, Some(1), 0, false));
}
