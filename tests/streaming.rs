//! Streaming inside a sentence: flow + decoder over windows equal the whole-sentence output, for
//! windows smaller and larger than the halo; and the halo really covers the receptive field.

mod common;

use std::sync::Arc;

use candle_core::{Device, Tensor};
use tvtts::core::checkpoint::Checkpoint;
use tvtts::core::model::stream::{SentenceStream, WindowSchedule};
use tvtts::core::model::{Backbone, Cond, Halo, Noise, Scales, StyleState, TextStart, Vits, VitsConfig};

const TOLERANCE: f32 = 1e-4;

fn model() -> Vits {
    let ckpt = Checkpoint::from_onnx_file(common::voice_path()).unwrap();
    Vits::load(&ckpt, VitsConfig::infer(&ckpt).unwrap(), &Device::Cpu).unwrap()
}

/// The prior frames z_p of reference text `name`'s first sentence, with no noise.
fn prior(vits: &Vits, name: &str) -> Tensor {
    let reference = common::reference();
    let text = reference.texts.iter().find(|t| t.name == name).unwrap();
    vits.text_side(&text.sentences[0].ids, &[], &Scales::QUIET, &mut Noise::seeded(0), Cond::plain()).unwrap().input
}

/// `vits` as the backbone of a style that changes nothing.
fn plain(vits: &Vits) -> StyleState {
    StyleState::plain(Arc::new(vits.clone()))
}

fn stream_all(vits: &Vits, z_p: &Tensor, schedule: &WindowSchedule) -> (Vec<f32>, usize) {
    let mut s = SentenceStream::new(vits, z_p.clone()).unwrap();
    let mut out = Vec::new();
    let style = plain(vits);
    // As if nobody played anything yet: everything produced is buffered.
    while let Some(w) = s.next_window(schedule, out.len() / 256, 1, &style).unwrap() {
        out.extend(w);
    }
    (out, s.windows_done())
}

#[test]
fn streamed_windows_equal_whole_sentence() {
    let vits = model();
    let halo = Halo::of(&vits);
    eprintln!("halo: {halo:?}");
    let z_p = prior(&vits, "S");
    let whole: Vec<f32> = vits.flow_decode(&z_p, Cond::plain()).unwrap().to_vec1().unwrap();
    // Windows of 1 and 7 frames are smaller than the decoder's halo, 8 is the default first
    // window, 50 spans several halos, 1000 is longer than the sentence.
    for w in [1, 7, 8, 16, 50, 1000] {
        let (streamed, windows) = stream_all(&vits, &z_p, &WindowSchedule::fixed(w));
        let diff = common::max_abs_diff(&streamed, &whole);
        eprintln!("S, {w}-frame windows: {windows} windows, max abs diff {diff:.2e}");
        assert!(diff <= TOLERANCE, "{w}-frame windows: max abs diff {diff:e}");
    }
    // The default growing schedule on a 6 s sentence.
    let z_p = prior(&vits, "M");
    let whole: Vec<f32> = vits.flow_decode(&z_p, Cond::plain()).unwrap().to_vec1().unwrap();
    let (streamed, windows) = stream_all(&vits, &z_p, &WindowSchedule::default());
    let diff = common::max_abs_diff(&streamed, &whole);
    eprintln!("M, default schedule: {windows} windows, max abs diff {diff:.2e}");
    assert!(windows >= 4, "a 6 s sentence streams in several windows");
    assert!(diff <= TOLERANCE, "default schedule: max abs diff {diff:e}");
}

/// Seeking back (to recompute audio not yet played) or forward gives the same audio from the
/// sought frame on, for frames at window edges, inside windows, at the start and near the end.
#[test]
fn seeking_gives_the_same_audio_from_the_sought_frame() {
    let vits = model();
    let hop = vits.samples_per_frame();
    let z_p = prior(&vits, "M");
    let frames = z_p.dim(2).unwrap();
    let whole: Vec<f32> = vits.flow_decode(&z_p, Cond::plain()).unwrap().to_vec1().unwrap();
    let style = plain(&vits);
    let mut s = SentenceStream::new(&vits, z_p.clone()).unwrap();
    let mut produced = 0;
    // (frames to produce first, frame to seek to, frames to produce after the seek)
    for (ahead, to, after) in [(40, 17, 30), (24, 64, 9), (50, 0, 5), (10, frames - 3, 10), (0, 33, 1), (60, 90, 200)] {
        while produced < ahead.min(frames) {
            produced = s.position() + s.window(ahead - s.position(), &style).unwrap().len() / hop;
        }
        s.seek(to);
        assert_eq!(s.position(), to);
        let mut audio = Vec::new();
        while s.remaining() > 0 && audio.len() < after * hop {
            audio.extend(s.window(after.min(s.remaining()).clamp(1, 7), &style).unwrap());
        }
        let want = &whole[to * hop..to * hop + audio.len()];
        let diff = common::max_abs_diff(&audio, want);
        eprintln!("seek to {to} after {ahead} frames: {} frames, max abs diff {diff:.2e}", audio.len() / hop);
        assert!(!audio.is_empty() || to == frames);
        assert!(diff <= TOLERANCE, "seek to {to}: max abs diff {diff:e}");
        produced = s.position();
    }
}

/// Changes smaller than this share of a bump's largest effect are rounding: the 3- and
/// 5-tap convs of the flow and decoder run as Winograd's F(4, k) on the CPU (`cpu_winograd`),
/// where an output's rounding depends on the other inputs of its tile of four steps, so a bump
/// moves outputs beyond the receptive field by rounding (measured on S: at most 1.9e-5 in z
/// against the bump's 3.9 there, 5e-6 of it). Above this share, the bump's effect reaches
/// ±10–15 frames (flow and decoder alike), so a halo short by more than that still fails.
const ROUNDING: f32 = 1e-4;

/// The frames of `a` and `b` (audio of `hop` samples per frame) that differ by more than
/// [`ROUNDING`] of their largest difference.
fn frames_changed(a: &[f32], b: &[f32], hop: usize) -> Vec<usize> {
    let frame_diff: Vec<f32> = a.chunks(hop).zip(b.chunks(hop)).map(|(x, y)| common::max_abs_diff(x, y)).collect();
    let largest = frame_diff.iter().copied().fold(0f32, f32::max);
    (0..frame_diff.len()).filter(|&i| frame_diff[i] > ROUNDING * largest).collect()
}

/// Perturbing one input frame changes no output beyond the halo (above rounding): flow and
/// decoder measured apart.
#[test]
fn halo_covers_the_receptive_field() {
    let vits = model();
    let halo = Halo::of(&vits);
    let hop = vits.samples_per_frame();
    let z_p = prior(&vits, "S");
    let frames = z_p.dim(2).unwrap();
    let j = frames / 2;
    let bump = |x: &Tensor| -> Tensor {
        let mut mask = vec![0f32; frames];
        mask[j] = 1.0;
        let mask = Tensor::from_vec(mask, (1, 1, frames), &Device::Cpu).unwrap();
        x.broadcast_add(&mask).unwrap()
    };
    // [1, ch, frames] → per frame, its channels.
    let by_frame = |x: &Tensor| -> Vec<f32> { x.squeeze(0).unwrap().t().unwrap().flatten_all().unwrap().to_vec1().unwrap() };

    // Flow: z at frames outside [j − flow, j + flow] is unchanged.
    let z = vits.flow_reverse(&z_p, Cond::plain()).unwrap();
    let z2 = vits.flow_reverse(&bump(&z_p), Cond::plain()).unwrap();
    let channels = z.dim(1).unwrap();
    let changed = frames_changed(&by_frame(&z), &by_frame(&z2), channels);
    eprintln!("flow: frames changed {:?}..={:?} for a bump at {j}", changed.first(), changed.last());
    assert!(changed.contains(&j));
    assert!(changed.iter().all(|&i| i + halo.flow >= j && i <= j + halo.flow), "flow reaches beyond its halo");

    // Decoder: audio of frames outside [j − dec_right, j + dec_left] is unchanged.
    let a: Vec<f32> = vits.decode(&z, Cond::plain()).unwrap().to_vec1().unwrap();
    let b: Vec<f32> = vits.decode(&bump(&z), Cond::plain()).unwrap().to_vec1().unwrap();
    let reach = frames_changed(&a, &b, hop);
    eprintln!("decoder: frames changed {:?}..={:?} for a bump at {j}; halo {halo:?}", reach.first(), reach.last());
    assert!(reach.contains(&j), "the bumped frame itself changes");
    assert!(reach.iter().all(|&i| i + halo.dec_right >= j && i <= j + halo.dec_left), "decoder reaches beyond its halo");
    // The halo is not wildly loose: the frames just inside it still change.
    assert!(reach.first().unwrap() + halo.dec_right <= j + 3 && reach.last().unwrap() + 3 >= j + halo.dec_left);
}

/// Several sentences streamed together, each stage batched across them where their spans agree,
/// give each sentence's own whole output.
#[test]
fn batched_windows_equal_each_sentence_alone() {
    let vits = model();
    let priors: Vec<Tensor> = ["S", "M", "L"].iter().map(|n| prior(&vits, n)).collect();
    let mut streams: Vec<SentenceStream> = priors.iter().map(|z| SentenceStream::new(&vits, z.clone()).unwrap()).collect();
    let mut outs = vec![Vec::new(); streams.len()];
    let none = plain(&vits);
    loop {
        let (idx, mut live): (Vec<usize>, Vec<&mut SentenceStream>) =
            streams.iter_mut().enumerate().filter(|(_, s)| s.remaining() > 0).unzip();
        if live.is_empty() {
            break;
        }
        let steer = vec![&none; live.len()];
        for (i, w) in idx.into_iter().zip(SentenceStream::window_batch(&mut live, 40, &steer).unwrap()) {
            outs[i].extend(w);
        }
    }
    for ((z, out), s) in priors.iter().zip(&outs).zip(&streams) {
        let whole: Vec<f32> = vits.flow_decode(z, Cond::plain()).unwrap().to_vec1().unwrap();
        let diff = common::max_abs_diff(out, &whole);
        eprintln!("{} frames: {} batched stage runs, max abs diff {diff:.2e}", s.frames(), s.shared_runs());
        assert!(diff <= TOLERANCE, "batched vs whole: {diff:e}");
    }
    assert!(streams.iter().all(|s| s.shared_runs() > 0), "every stream shared some stage runs");
}

/// The text side begun in parts (the encoder's last layer and the durations and z_p of the
/// first ids first, the rest after, as the engine does for a faster first window) gives the same
/// z_p and frames, bit for bit, as done whole: with noise in the durations and the prior, a rate
/// on some ids, first parts of several sizes (some within the encoder's first part, some past
/// it). And a log-duration computed over a part of the sentence and the predictor's reach
/// equals the one computed over all of it.
#[test]
fn text_side_in_parts_equals_whole() {
    let vits = model();
    let reference = common::reference();
    let ids = &reference.texts.iter().find(|t| t.name == "XL").unwrap().sentences[0].ids;
    let scales = Scales { noise_scale: 0.667, length_scale: 1.1, noise_w: 0.8 };
    let pace: Vec<f32> = (0..ids.len()).map(|i| if i % 7 == 3 { 1.3 } else { 1.0 }).collect();
    let whole = vits.text_side(ids, &pace, &scales, &mut Noise::seeded(5), Cond::plain()).unwrap();
    let total: usize = whole.frames.iter().sum();
    let bits = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let mut begun = 0;
    for wanted in [1, 60, 400, total + 1] {
        let mut noise = Noise::seeded(5);
        let got = match vits.start_text_side(ids, &pace, &scales, &mut noise, Cond::plain(), wanted).unwrap() {
            TextStart::Done(p) => p,
            TextStart::Begun { input, pending } => {
                begun += 1;
                let head = input.dim(2).unwrap();
                assert!(head >= wanted && head < total, "first part: {head} frames for {wanted} wanted of {total}");
                let p = vits.finish_text_side(pending, &mut noise, Cond::plain()).unwrap();
                assert_eq!(bits(&input), bits(&p.input.narrow(2, 0, head).unwrap()), "the first part is the whole's head");
                p
            }
        };
        assert_eq!(got.frames, whole.frames, "{wanted} frames wanted");
        assert_eq!(bits(&got.input), bits(&whole.input), "{wanted} frames wanted");
    }
    assert!(begun >= 2, "a long sentence is begun in parts for a short first window");

    let text = vits.encode(ids, Cond::plain()).unwrap();
    let t = ids.len();
    let eps = Noise::seeded(1).normal(&[1, 2, t], 0.8, &Device::Cpu).unwrap();
    let all = vits.log_durations(&text, &eps, 0, t, Cond::plain()).unwrap();
    for (a, b) in [(0, 10), (40, 90), (100, 101), (t - 5, t)] {
        let part = vits.log_durations(&text, &eps, a, b, Cond::plain()).unwrap();
        assert_eq!(part.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), all[a..b].iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "ids {a}..{b}");
    }
}

/// A stream begun with the first frames only (as the engine starts one whose text side is in
/// parts) gives, window for window, the audio of the whole sentence: windows that fit in the
/// known frames run before the rest is known, and one that does not is refused until then.
#[test]
fn stream_begun_with_the_first_frames_equals_whole() {
    let vits = model();
    let z_p = prior(&vits, "M");
    let whole: Vec<f32> = vits.flow_decode(&z_p, Cond::plain()).unwrap().to_vec1().unwrap();
    let style = plain(&vits);
    for (head, w) in [(60, 8), (120, 16), (45, 1)] {
        let mut s = SentenceStream::begin(&vits, z_p.narrow(2, 0, head).unwrap()).unwrap();
        let mut out = Vec::new();
        assert!(!s.is_complete() && !s.fits(head), "a window to the head's end needs frames after it");
        while s.fits(w) {
            out.extend(s.window(w, &style).unwrap());
        }
        assert!(!out.is_empty(), "head {head}: some windows ran before the rest was known");
        assert!(s.window(w, &style).is_err(), "head {head}: a window past the known frames is refused");
        s.complete_with(z_p.clone()).unwrap();
        while let Some(a) = s.next_window(&WindowSchedule::fixed(w), 0, 1, &style).unwrap() {
            out.extend(a);
        }
        assert_eq!(out.len(), whole.len());
        let diff = common::max_abs_diff(&out, &whole);
        assert!(diff <= TOLERANCE, "head {head}, windows of {w}: max diff {diff}");
    }
}
