//! Style vectors: the file format and its checks, and steering's exactness — α = 0 is the base
//! output bit for bit (in the same windows), vectors compose linearly, group masks hold, and a live α change applies
//! from the next window on.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use candle_core::{Device, Tensor};
use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Palette, Request, State};
use tvtts::core::model::stream::{SentenceStream, WindowSchedule};
use tvtts::core::model::{Backbone, Noise, StyleState};
use tvtts::core::style::{Group, Kind, StyleVector};
use tvtts::core::{Say, Scales, SynthesisOptions, Voice};

fn voice() -> Voice {
    Voice::load(common::voice_path(), &Device::Cpu).unwrap()
}

/// A deterministic pattern of `n` values with L2 norm ≈ `scale` · √n / 2.
fn pattern(n: usize, seed: f32, scale: f32) -> Tensor {
    let v: Vec<f32> = (0..n).map(|i| scale * ((i as f32 * 0.37 + seed).sin())).collect();
    Tensor::from_vec(v, n, &Device::Cpu).unwrap()
}

/// VITS' steering points: the prior frames and the flow's output.
const PRIOR: &str = "m_p";
const LATENT: &str = "z";

/// The groups named.
fn groups(names: &[&str]) -> Vec<Group> {
    names.iter().map(|n| Group::new(*n)).collect()
}

/// The stage whose input steering point `point` is.
fn stage_of(voice: &Voice, point: &str) -> usize {
    voice.model.steer_point(point).unwrap().stage
}

/// The channels of the steering points (both are the prior's width).
fn inter_channels(voice: &Voice) -> usize {
    voice.model.steer_point(PRIOR).unwrap().channels
}

fn steer_vector(voice: &Voice, points: &[(&str, Tensor)], groups: Vec<Group>) -> StyleVector {
    StyleVector::new(Kind::Steer, voice.weights_hash(), groups, (-5.0, 5.0), "test", points.iter().map(|(p, t)| (p.to_string(), t.clone())).collect())
}

/// The sentence's prior frames with no noise.
fn prior(voice: &Voice, text: &str) -> Tensor {
    let ph = voice.phonemize(&Say::text(text)).unwrap();
    let ids = voice.ids.ids(&ph[0]).ids;
    voice.model.prepare(&ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &voice.plain_style(None).unwrap()).unwrap().input
}

/// The voice's own style with `alpha · v` added at each `(point, v, alpha)`.
fn steered(voice: &Voice, terms: &[(&str, &Tensor, f32)]) -> StyleState {
    let mut style = voice.plain_style(None).unwrap();
    for (point, v, alpha) in terms {
        style.add_steering(stage_of(voice, point), v, *alpha).unwrap();
    }
    style
}

/// Streams `z_p` in 24-frame windows with the same style throughout.
fn render(z_p: &Tensor, style: &StyleState) -> Vec<f32> {
    let mut s = SentenceStream::new(style.backbone().as_ref(), z_p.clone()).unwrap();
    let schedule = WindowSchedule::fixed(24);
    let mut out = Vec::new();
    while let Some(w) = s.next_window(&schedule, 0, 1, style).unwrap() {
        out.extend(w);
    }
    out
}

#[test]
fn vector_files_round_trip_and_bad_ones_are_named() {
    let voice = voice();
    let dir = tempfile::tempdir().unwrap();
    let c = inter_channels(&voice);
    let v = steer_vector(&voice, &[(PRIOR, pattern(c, 0.1, 0.05)), (LATENT, pattern(c, 0.7, 0.02))], groups(&["enc_p", "flow"]));
    let path = dir.path().join("excited.safetensors");
    v.save(&path).unwrap();
    let back = StyleVector::load(&path).unwrap();
    assert_eq!((back.kind, &back.base, &back.groups, &back.description), (Kind::Steer, &v.base, &v.groups, &v.description));
    assert_eq!(back.alpha_range, v.alpha_range);
    for (name, t) in &v.tensors {
        let diff = (t - &back.tensors[name]).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(diff, 0.0, "{name}");
    }
    back.check_against(&voice).unwrap();
    // Group names are the voice's backbone's; an unknown one is named with the ones it has.
    let msg = Group::check_all(&groups(&["voice"]), voice.model.as_ref()).unwrap_err().to_string();
    assert!(msg.contains("`voice`") && msg.contains("known: enc_p"), "{msg}");
    let wrong_group = StyleVector { groups: groups(&["enc_q"]), ..v.clone() };
    assert!(wrong_group.check_against(&voice).unwrap_err().to_string().contains("enc_q"));
    // A format-1 file (no α range) is refused with how to rebuild it.
    let mut meta_v1 = std::fs::read(&path).unwrap();
    let at = meta_v1.windows(18).position(|w| w == b"\"tvtts.format\":\"2\"").expect("format key");
    meta_v1[at + 16] = b'1';
    std::fs::write(&path, &meta_v1).unwrap();
    let msg = StyleVector::load(&path).unwrap_err().to_string();
    assert!(msg.contains("format 1") && msg.contains("--alpha-range") && msg.contains("excited.safetensors"), "{msg}");

    // Made for another voice.
    let other = StyleVector { base: "0".repeat(64), ..v.clone() };
    other.save(&path).unwrap();
    let msg = StyleVector::load(&path).unwrap().check_against(&voice).unwrap_err().to_string();
    assert!(msg.contains("another voice") && msg.contains("excited.safetensors"), "{msg}");
    // Wrong shape.
    let short = steer_vector(&voice, &[(PRIOR, pattern(10, 0.0, 1.0))], groups(&["enc_p"]));
    assert!(short.check_against(&voice).unwrap_err().to_string().contains("shape [10]"));
    // A name that does not belong to the kind.
    let mut odd = v.clone();
    odd.tensors.insert("dec.ups.0.weight".into(), pattern(4, 0.0, 1.0));
    odd.save(&path).unwrap();
    let msg = StyleVector::load(&path).unwrap_err().to_string();
    assert!(msg.contains("dec.ups.0.weight") && msg.contains("excited.safetensors"), "{msg}");
    // A weights vector for a parameter the voice lacks.
    let weights = StyleVector { kind: Kind::Weights, tensors: BTreeMap::from([("dec.nothing.weight".to_string(), pattern(3, 0.0, 1.0))]), ..v.clone() };
    assert!(weights.check_against(&voice).unwrap_err().to_string().contains("not a parameter"));
    // Not a safetensors file at all.
    std::fs::write(&path, b"hello").unwrap();
    assert!(StyleVector::load(&path).unwrap_err().to_string().contains("excited.safetensors"));
}

#[test]
fn steering_is_exact_at_zero_linear_and_masked_by_groups() {
    let voice = voice();
    let z_p = prior(&voice, "Hello there, traveler.");
    let plain = voice.plain_style(None).unwrap();
    let whole: Vec<f32> = voice.model.run_all(&z_p, &plain).unwrap().to_vec1().unwrap();
    let base = render(&z_p, &plain);
    assert!(common::max_abs_diff(&base, &whole) <= common::STREAM_ROUNDING, "unsteered stream = whole sentence");

    let c = inter_channels(&voice);
    let (v1, v2) = (pattern(c, 0.3, 0.2), pattern(c, 1.9, 0.15));
    // α = 0: bit for bit the base output.
    let zero = steered(&voice, &[(PRIOR, &v1, 0.0), (LATENT, &v2, 0.0)]);
    assert_eq!(common::max_abs_diff(&render(&z_p, &zero), &base), 0.0);

    // Two vectors at α₁, α₂ = one merged vector at 1.
    let (a1, a2) = (0.7f32, -1.3f32);
    let two = steered(&voice, &[(PRIOR, &v1, a1), (PRIOR, &v2, a2), (LATENT, &v1, a1), (LATENT, &v2, a2)]);
    let merged = ((&v1 * a1 as f64).unwrap() + (&v2 * a2 as f64).unwrap()).unwrap();
    let one = steered(&voice, &[(PRIOR, &merged, 1.0), (LATENT, &merged, 1.0)]);
    let (out_two, out_one) = (render(&z_p, &two), render(&z_p, &one));
    let moved = common::max_abs_diff(&out_two, &base);
    assert!(moved > 1e-3, "steering changes the audio ({moved})");
    let diff = common::max_abs_diff(&out_two, &out_one);
    assert!(diff <= 1e-5, "linear composition: {diff}");

    // A vector with tensors at m_p and z, bound to the flow group only, steers z only.
    let both = Arc::new(steer_vector(&voice, &[(PRIOR, v1.clone()), (LATENT, v2.clone())], groups(&["enc_p", "flow"])));
    let spec = ControlSpec::new("x", -5.0, 5.0).unwrap().with_style(both, Some(groups(&["flow"])));
    let z_only = steered(&voice, &[(LATENT, &v2, 2.0)]);
    let entry = Palette::new(voice, vec![spec]).unwrap();
    let masked = entry.state(&[2.0], None).unwrap();
    assert!(masked.steering(stage_of(&entry.voice, PRIOR)).is_none(), "m_p is outside the flow group");
    assert_eq!(common::max_abs_diff(&render(&z_p, &masked), &render(&z_p, &z_only)), 0.0);
}

#[test]
fn a_live_alpha_change_applies_from_the_next_window() {
    let voice = voice();
    let c = inter_channels(&voice);
    let v = Arc::new(steer_vector(&voice, &[(PRIOR, pattern(c, 0.5, 0.3))], groups(&["enc_p"])));
    let engine = Engine::new(EngineConfig { ahead_samples: 1, ..EngineConfig::with_workers(1) }).unwrap();
    engine.add_voice("joe", voice, vec![ControlSpec::new("excited", 0.0, 4.0).unwrap().with_style(v, None)]).unwrap();
    let quiet = SynthesisOptions::quiet();
    let text = "The old bridge collapsed last winter, so take the mountain pass.";
    let mut plain = engine.speak(Request::text("joe", text).options(quiet));
    let base = common::read_to_end(&mut plain);

    let mut h = engine.speak(Request::text("joe", text).options(quiet).control("excited", 0.0));
    let first = loop {
        match h.event_receiver().recv_timeout(Duration::from_secs(120)).unwrap() {
            Event::Window { samples, .. } => break samples,
            Event::Failed(e) => panic!("{e}"),
            _ => {}
        }
    };
    h.set_control("excited", 3.0).unwrap();
    let steered = common::read_to_end(&mut h);
    assert_eq!(h.state(), State::Finished);
    assert_eq!(steered.len(), base.len());
    assert_eq!(common::max_abs_diff(&steered[..first], &base[..first]), 0.0, "audio before the change is the base");
    let after = common::max_abs_diff(&steered[first..], &base[first..]);
    assert!(after > 1e-3, "audio after the change is steered ({after})");
}

/// The joe checkpoint and a "fine-tuned" copy: a rank-1 change of one flow matrix, a full-rank
/// change of a decoder resblock conv, and a bias change in the duration predictor.
fn base_and_tuned() -> (tvtts::core::checkpoint::Checkpoint, tvtts::core::checkpoint::Checkpoint) {
    let base = tvtts::core::checkpoint::Checkpoint::from_onnx_file(common::voice_path()).unwrap();
    let mut tuned = base.clone();
    let bump = |name: &str, delta: Tensor, tuned: &mut tvtts::core::checkpoint::Checkpoint| {
        let w = &tuned.tensors[name];
        let new = (w + delta.reshape(w.dims()).unwrap()).unwrap();
        tuned.tensors.insert(name.to_string(), new);
    };
    let (u, v) = (pattern(96, 0.2, 0.05).reshape((96, 1)).unwrap(), pattern(192, 1.1, 0.05).reshape((1, 192)).unwrap());
    bump("flow.flows.0.post.weight", u.matmul(&v).unwrap(), &mut tuned);
    bump("dec.resblocks.8.convs.1.weight", pattern(32 * 32 * 7, 0.4, 0.01), &mut tuned);
    bump("dp.proj.bias", pattern(192, 0.9, 0.05), &mut tuned);
    (base, tuned)
}

/// One sentence, whole, with no noise, on `model`'s own weights.
fn speak(model: &Arc<dyn Backbone>, ids: &[i64]) -> Vec<f32> {
    let style = StyleState::plain(model.clone());
    let x = model.prepare(ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style).unwrap().input;
    model.run_all(&x, &style).unwrap().to_vec1().unwrap()
}

/// The VITS model of checkpoint `ckpt`, with `voice`'s architecture.
fn vits_of(voice: &Voice, ckpt: &tvtts::core::checkpoint::Checkpoint) -> Arc<dyn Backbone> {
    voice.model.with_parameters(ckpt.tensors.clone(), &ckpt.path).unwrap()
}

/// Every group a weight vector may touch in VITS, speakers aside.
fn all_groups() -> Vec<Group> {
    groups(&["enc_p", "dp", "flow", "dec"])
}

#[test]
fn weight_and_lora_vectors_are_exact() {
    use tvtts::core::style::delta::{deltas, merge, to_lora, weight_delta};
    let voice = voice();
    let (base, tuned) = base_and_tuned();
    let all = all_groups();
    let full = weight_delta(&base, &tuned, &all, &voice, (0.0, 1.0)).unwrap();
    assert_eq!(full.tensors.keys().collect::<Vec<_>>(), ["dec.resblocks.8.convs.1.weight", "dp.proj.bias", "flow.flows.0.post.weight"]);
    full.check_against(&voice).unwrap();
    let ids = voice.ids.ids(&voice.phonemize(&Say::text("Hello there, traveler.")).unwrap()[0]).ids;
    let base_out = speak(&voice.model, &ids);
    let tuned_model = vits_of(&voice, &tuned);
    let tuned_out = speak(&tuned_model, &ids);
    assert!(tuned_out.len() != base_out.len(), "the tuned voice's durations differ");

    let d_full = deltas(&full, &all, voice.model.as_ref()).unwrap();
    // α = 0 is the base (within the stream's rounding); α = 1 is the tuned voice.
    assert_eq!(common::max_abs_diff(&speak(&voice.model_with(&[(0.0, d_full.clone())]).unwrap(), &ids), &base_out), 0.0);
    let at_one = speak(&voice.model_with(&[(1.0, d_full.clone())]).unwrap(), &ids);
    assert_eq!(at_one.len(), tuned_out.len());
    let diff = common::max_abs_diff(&at_one, &tuned_out);
    assert!(diff <= 1e-4, "full diff at α = 1 vs tuned: {diff}");

    // Group masks: on the decoder only, nothing else moves.
    let d_dec = deltas(&full, &groups(&["dec"]), voice.model.as_ref()).unwrap();
    assert_eq!(d_dec.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["dec.resblocks.8.convs.1.weight"]);
    let merged = merge(&base.tensors, &[(1.0, d_dec.clone())]).unwrap();
    for (name, t) in &base.tensors {
        let moved = (t - &merged[name]).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(moved > 0.0, name == "dec.resblocks.8.convs.1.weight", "{name}");
    }

    // Linear composition: decoder part at 0.5 plus the rest at 2 = one merged delta at 1.
    let d_rest = deltas(&full, &groups(&["flow", "dp"]), voice.model.as_ref()).unwrap();
    let two = speak(&voice.model_with(&[(0.5, d_dec.clone()), (2.0, d_rest.clone())]).unwrap(), &ids);
    let one_delta: Vec<(String, Tensor)> = d_dec.iter().map(|(n, d)| (n.clone(), (d * 0.5).unwrap()))
        .chain(d_rest.iter().map(|(n, d)| (n.clone(), (d * 2.0).unwrap()))).collect();
    let one = speak(&voice.model_with(&[(1.0, one_delta)]).unwrap(), &ids);
    assert!(common::max_abs_diff(&two, &one) <= 1e-5);

    // LoRA at rank 1: the rank-1 flow change is kept exactly, the decoder's full-rank change
    // loses exactly what the SVD bound says (1 − energy of the squared norm).
    let lora = to_lora(&full, 1).unwrap();
    lora.check_against(&voice).unwrap();
    let energy = lora.energy.unwrap() as f64;
    assert!(energy > 0.0 && energy < 1.0, "energy {energy}");
    let d_lora = deltas(&lora, &all, voice.model.as_ref()).unwrap();
    let (mut err2, mut total2) = (0f64, 0f64);
    for (name, d) in &d_full {
        let l = &d_lora.iter().find(|(n, _)| n == name).unwrap().1;
        let e = (d - l).unwrap().sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() as f64;
        total2 += d.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() as f64;
        if name == "flow.flows.0.post.weight" {
            assert!(e <= 1e-10, "rank-1 change kept exactly ({e})");
        }
        err2 += e;
    }
    let bound = (1.0 - energy) * total2;
    assert!((err2 - bound).abs() <= 1e-3 * total2, "LoRA error² {err2:e} vs SVD bound {bound:e}");
}

#[test]
fn weight_controls_in_the_engine_follow_alpha() {
    use tvtts::core::style::delta::weight_delta;
    let voice = voice();
    let (base, tuned) = base_and_tuned();
    let all = all_groups();
    let full = Arc::new(weight_delta(&base, &tuned, &all, &voice, (0.0, 1.0)).unwrap());
    let tuned_model = vits_of(&voice, &tuned);
    let ids = voice.ids.ids(&voice.phonemize(&Say::text("Who goes there?")).unwrap()[0]).ids;
    let (base_out, tuned_out) = (speak(&voice.model, &ids), speak(&tuned_model, &ids));
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("joe", voice, vec![ControlSpec::new("tuned", 0.0, 1.0).unwrap().with_style(full, None)]).unwrap();
    let quiet = SynthesisOptions::quiet();
    // The engine streams; `base_out` and `tuned_out` are whole synthesis.
    for (alpha, want, tol) in [(0.0, &base_out, common::STREAM_ROUNDING), (1.0, &tuned_out, 1e-4)] {
        let mut h = engine.speak(Request::text("joe", "Who goes there?").options(quiet).control("tuned", alpha));
        let out = common::read_to_end(&mut h);
        assert_eq!(h.state(), State::Finished, "{:?}", h.events().collect::<Vec<_>>());
        let diff = common::max_abs_diff(&out, want);
        assert!(diff <= tol, "α = {alpha}: {diff}");
    }
}

#[test]
fn lora_runs_on_the_fly_and_equals_its_merged_delta() {
    use tvtts::core::style::delta::{deltas, to_lora, weight_delta};
    let voice = voice();
    let (base, tuned) = base_and_tuned();
    let all = all_groups();
    let lora = to_lora(&weight_delta(&base, &tuned, &all, &voice, (0.0, 1.0)).unwrap(), 2).unwrap();
    let ids = voice.ids.ids(&voice.phonemize(&Say::text("Who goes there?")).unwrap()[0]).ids;
    let merged = voice.model_with(&[(0.8, deltas(&lora, &all, voice.model.as_ref()).unwrap())]).unwrap();
    let want_merged = speak(&merged, &ids);
    let want_base = speak(&voice.model, &ids);
    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("joe", voice, vec![ControlSpec::new("tuned", 0.0, 1.0).unwrap().with_style(Arc::new(lora), None)]).unwrap();
    // The two convs' factors run as adapters (dp.proj.bias, 1-D, is merged); the sum is the
    // merged B·A delta, and α = 0 is the base.
    let entry = engine.voice("joe").unwrap();
    let state = entry.state(&[0.8], None).unwrap();
    let names = state.adapters().paths();
    assert_eq!(names, ["dec.resblocks.8.convs.1.weight", "flow.flows.0.post.weight"]);
    let quiet = SynthesisOptions::quiet();
    // The engine streams; `want_base` and `want_merged` are whole synthesis.
    for (alpha, want, tol) in [(0.0, &want_base, common::STREAM_ROUNDING), (0.8, &want_merged, 1e-4)] {
        let mut h = engine.speak(Request::text("joe", "Who goes there?").options(quiet).control("tuned", alpha));
        let out = common::read_to_end(&mut h);
        assert_eq!(h.state(), State::Finished, "{:?}", h.events().collect::<Vec<_>>());
        let diff = common::max_abs_diff(&out, want);
        assert!(diff <= tol, "α = {alpha}: on the fly vs merged {diff}");
    }
}
