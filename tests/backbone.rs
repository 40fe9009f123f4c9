//! A second backbone: the engine, exact streaming, style vectors and their group checks work on
//! the tiny random `ToyBackbone` as they do on VITS, through the `Backbone` interface alone.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{Device, Tensor};
use tvtts::core::config::VoiceConfig;
use tvtts::core::engine::{ControlSpec, Engine, EngineConfig, Event, Request, State};
use tvtts::core::model::stream::{SentenceStream, WindowSchedule};
use tvtts::core::model::toy::ToyBackbone;
use tvtts::core::model::{Noise, StyleState};
use tvtts::core::phonemize::IpaPhonemizer;
use tvtts::core::style::delta::deltas;
use tvtts::core::style::{Group, Kind, Palette, StyleVector};
use tvtts::core::{Say, Scales, SynthesisOptions, Voice};

/// Streaming sums each output over the same inputs in the same order as the whole pass; only
/// the span a kernel sees differs, so the two agree to the last bits of f32.
const TOLERANCE: f32 = 1e-6;

const LINES: &str = "hello there. how are you today? the road is long and the night is cold.";

/// A voice over the toy backbone: letters, space and marks as phonemes, 16 kHz.
fn toy_voice() -> Voice {
    let symbols = "_^$ abcdefghijklmnopqrstuvwxyz.?!,";
    let map: Vec<String> = symbols.chars().enumerate().map(|(i, c)| format!("\"{c}\": [{i}]")).collect();
    let json = format!(r#"{{"audio": {{"sample_rate": 16000}}, "phoneme_id_map": {{{}}}}}"#, map.join(", "));
    let config = VoiceConfig::from_json(json.as_bytes(), Path::new("toy.onnx.json")).unwrap();
    let model = ToyBackbone::random(symbols.chars().count(), 7, &Device::Cpu).unwrap();
    Voice::from_backbone(Path::new("toy.onnx"), config, Arc::new(model), Box::new(IpaPhonemizer)).unwrap()
}

/// A pattern of `n` values of size about `scale`.
fn pattern(dims: &[usize], seed: f32, scale: f32) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|i| scale * (i as f32 * 0.61 + seed).sin()).collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

fn vector(voice: &Voice, kind: Kind, groups: &[&str], range: (f32, f32), tensors: Vec<(&str, Tensor)>) -> StyleVector {
    let groups = groups.iter().map(|g| Group::new(*g)).collect();
    StyleVector::new(kind, voice.weights_hash(), groups, range, "toy", tensors.into_iter().map(|(n, t)| (n.to_string(), t)).collect::<BTreeMap<_, _>>())
}

/// The whole-sentence audio of every sentence of `LINES` in `style`, joined.
fn whole(voice: &Voice, style: &StyleState) -> Vec<f32> {
    let mut noise = Noise::seeded(0);
    let mut out = Vec::new();
    for phonemes in voice.phonemize(&Say::phonemes(LINES)).unwrap() {
        let ids = voice.ids.ids(&phonemes).ids;
        let x = style.backbone().prepare(&ids, &[], &Scales::QUIET, &mut noise, style).unwrap().input;
        out.extend(style.backbone().run_all(&x, style).unwrap().to_vec1::<f32>().unwrap());
    }
    out
}

#[test]
fn streamed_windows_equal_the_whole_sentence() {
    let voice = toy_voice();
    let style = voice.plain_style(None).unwrap();
    let phonemes = &voice.phonemize(&Say::phonemes(LINES)).unwrap()[2];
    let x = voice.model.prepare(&voice.ids.ids(phonemes).ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style).unwrap().input;
    let want: Vec<f32> = voice.model.run_all(&x, &style).unwrap().to_vec1().unwrap();
    assert_eq!(want.len(), x.dim(2).unwrap() * voice.model.samples_per_frame());
    for w in [1, 2, 3, 7, 40, 10_000] {
        let mut s = SentenceStream::new(voice.model.as_ref(), x.clone()).unwrap();
        let mut got = Vec::new();
        while let Some(audio) = s.next_window(&WindowSchedule::fixed(w), 0, 1, &style).unwrap() {
            got.extend(audio);
        }
        let diff = common::max_abs_diff(&got, &want);
        assert_eq!(got.len(), want.len(), "{w}-frame windows");
        assert!(diff <= TOLERANCE, "{w}-frame windows: {diff:e}");
    }
    // Several sentences batched stage by stage give each its own audio.
    let sentences: Vec<Tensor> = voice
        .phonemize(&Say::phonemes(LINES))
        .unwrap()
        .iter()
        .map(|p| voice.model.prepare(&voice.ids.ids(p).ids, &[], &Scales::QUIET, &mut Noise::seeded(0), &style).unwrap().input)
        .collect();
    let mut streams: Vec<SentenceStream> = sentences.iter().map(|x| SentenceStream::new(voice.model.as_ref(), x.clone()).unwrap()).collect();
    let mut outs = vec![Vec::new(); streams.len()];
    loop {
        let (idx, mut live): (Vec<usize>, Vec<&mut SentenceStream>) = streams.iter_mut().enumerate().filter(|(_, s)| s.remaining() > 0).unzip();
        if live.is_empty() {
            break;
        }
        let styles = vec![&style; live.len()];
        for (i, w) in idx.into_iter().zip(SentenceStream::window_batch(&mut live, 5, &styles).unwrap()) {
            outs[i].extend(w);
        }
    }
    for (x, out) in sentences.iter().zip(&outs) {
        let want: Vec<f32> = voice.model.run_all(x, &style).unwrap().to_vec1().unwrap();
        assert!(common::max_abs_diff(out, &want) <= TOLERANCE);
    }
    assert!(streams.iter().all(|s| s.shared_runs() > 0), "stage runs were shared");
}

#[test]
fn the_engine_speaks_it_with_live_styles() {
    let voice = toy_voice();
    let c = tvtts::core::model::toy::CHANNELS;
    let steer = Arc::new(vector(&voice, Kind::Steer, &["front"], (-2.0, 2.0), vec![("h", pattern(&[c], 0.3, 0.5))]));
    steer.check_against(&voice).unwrap();
    // A rank-1 LoRA change of the `body` conv and a full change of the output bias.
    let lora = Arc::new(vector(
        &voice,
        Kind::Lora,
        &["body"],
        (0.0, 1.0),
        vec![("body.weight.lora_a", pattern(&[1, c * 3], 0.9, 0.3)), ("body.weight.lora_b", pattern(&[c, 1], 0.2, 0.5)), ("out.bias", pattern(&[1], 0.4, 0.1))],
    ));
    lora.check_against(&voice).unwrap();
    let merged = voice.model_with(&[(1.0, deltas(&lora, &lora.groups, voice.model.as_ref()).unwrap())]).unwrap();
    let plain = voice.plain_style(None).unwrap();
    let base = whole(&voice, &plain);
    let tuned = whole(&voice, &StyleState::plain(merged));
    let controls = vec![
        ControlSpec::new("excited", -5.0, 5.0).unwrap().with_style(steer, None),
        ControlSpec::new("tuned", 0.0, 1.0).unwrap().with_style(lora, None),
    ];
    let palette = Palette::new(toy_voice(), controls.clone()).unwrap();
    assert_eq!((palette.controls()[0].min, palette.controls()[0].max), (-2.0, 2.0), "narrowed to the vector's α range");
    let excited = whole(&palette.voice, &palette.state(&[1.5, 0.0], None).unwrap());
    assert!(common::max_abs_diff(&excited, &base) > 1e-2, "steering moves the audio");

    let engine = Engine::new(EngineConfig::with_workers(1)).unwrap();
    engine.add_voice("toy", voice, controls).unwrap();
    let speak = |controls: &[(&str, f32)]| {
        let mut req = Request::new("toy", Say::phonemes(LINES)).options(SynthesisOptions::quiet());
        for (n, a) in controls {
            req = req.control(*n, *a);
        }
        let mut h = engine.speak(req);
        let audio = common::read_to_end(&mut h);
        assert_eq!(h.state(), State::Finished, "{:?}", h.events().collect::<Vec<_>>());
        (audio, h.events().collect::<Vec<_>>())
    };
    let (audio, _) = speak(&[]);
    assert!(common::max_abs_diff(&audio, &base) <= TOLERANCE, "streamed = whole, unstyled");
    let (audio, _) = speak(&[("excited", 1.5)]);
    assert!(common::max_abs_diff(&audio, &excited) <= TOLERANCE, "steered stream = steered whole");
    // LoRA on the fly equals its merged delta; α beyond the vector's range is clamped to it.
    let (audio, events) = speak(&[("tuned", 7.0)]);
    assert!(common::max_abs_diff(&audio, &tuned) <= 1e-5, "LoRA on the fly vs merged: {}", common::max_abs_diff(&audio, &tuned));
    let reported = events.iter().find_map(|e| match e {
        Event::Window { controls, .. } => Some(controls.iter().map(|(n, a)| (n.to_string(), *a)).collect::<Vec<_>>()),
        _ => None,
    });
    assert_eq!(reported, Some(vec![("tuned".to_string(), 1.0)]));
}

#[test]
fn vectors_name_the_groups_and_points_of_their_own_backbone() {
    let voice = toy_voice();
    let msg = Group::check_all(&[Group::new("dec")], voice.model.as_ref()).unwrap_err().to_string();
    assert!(msg.contains("`dec`") && msg.contains("known: front, body"), "{msg}");
    let vits_point = vector(&voice, Kind::Steer, &["front"], (0.0, 1.0), vec![("m_p", pattern(&[8], 0.0, 1.0))]);
    let msg = vits_point.check_against(&voice).unwrap_err().to_string();
    assert!(msg.contains("`m_p`") && msg.contains("known: h"), "{msg}");
    let spec = ControlSpec::new("x", 2.0, 3.0).unwrap().with_style(Arc::new(vector(&voice, Kind::Steer, &["front"], (0.0, 1.0), vec![("h", pattern(&[8], 0.0, 1.0))])), None);
    let msg = Palette::new(voice, vec![spec]).unwrap_err().to_string();
    assert!(msg.contains("do not meet"), "a control range outside its vector's: {msg}");
}
