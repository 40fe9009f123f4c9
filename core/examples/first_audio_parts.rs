//! Where a sentence's first audio goes: the encoder, the durations, the prior and the first
//! streamed window, each timed alone (median of 25 runs after 5 warm-ups), beside the whole
//! sentence's flow and decoder.
//!
//! `cargo run --release -p tvtts-core --example first_audio_parts [threads] [window frames] [IPA]`
//! from the repository root, after `bash scripts/setup.sh` (defaults: 2 threads, a 4-frame window
//! — a lone request's first — and S's phonemes).

use std::sync::Arc;
use std::time::Instant;

use candle_core::Device;
use tvtts_core::checkpoint::Checkpoint;
use tvtts_core::model::backbone::Backbone;
use tvtts_core::model::config::VitsConfig;
use tvtts_core::model::noise::Noise;
use tvtts_core::model::stream::SentenceStream;
use tvtts_core::model::style_state::{Cond, StyleState};
use tvtts_core::model::vits::Vits;
use tvtts_core::phonemize::PhonemeIdMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().map(|t| t.parse()).transpose()?.unwrap_or(2);
    let window: usize = args.next().map(|w| w.parse()).transpose()?.unwrap_or(4);
    let phonemes = args.next().unwrap_or_else(|| "həlˈoʊ ðˈɛɹ, tɹˈævəlɚ.".into());
    tvtts_core::threads::set_kernel_threads(threads);
    tvtts_core::memory::keep_freed_memory();

    let path = "assets/voices/en_US-joe-medium.onnx";
    let ckpt = Checkpoint::from_onnx_file(path)?;
    let vits = Arc::new(Vits::load(&ckpt, VitsConfig::infer(&ckpt)?, &Device::Cpu)?);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{path}.json"))?)?;
    let ids = PhonemeIdMap::new(&serde_json::from_value(json["phoneme_id_map"].clone())?)?.ids(&phonemes).ids;
    let style = StyleState::plain(vits.clone() as Arc<dyn Backbone>);
    let cx = Cond::plain();
    let (noise_scale, length_scale, noise_w) = (0.667, 1.0, 0.8);

    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let mut rows = Vec::new();
    let mut frames = 0;
    for run in 0..30 {
        let mut noise = Noise::seeded(0);
        let t0 = Instant::now();
        let text = vits.encode(&ids, cx)?;
        let t1 = Instant::now();
        let durations = vits.durations(&text, length_scale, &[], noise_w, &mut noise, cx)?;
        let t2 = Instant::now();
        let z_p = vits.prior(&text, &durations, noise_scale, &mut noise)?;
        let t3 = Instant::now();
        std::hint::black_box(SentenceStream::new(&*vits, z_p.clone())?.window(window, &style)?);
        let t4 = Instant::now();
        std::hint::black_box(vits.flow_decode(&z_p, cx)?);
        let t5 = Instant::now();
        frames = z_p.dim(2)?;
        if run >= 5 {
            rows.push([ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t0, t4), ms(t4, t5)]);
        }
    }
    println!("{} ids, {frames} frames, {threads} thread(s), kernels {}", ids.len(), tvtts_core::model::cpu_level::level().name());
    let names = ["encoder", "durations", "prior", "first window", "first audio (sum)", "whole flow + decoder"];
    for (k, name) in names.iter().enumerate() {
        let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        v.sort_by(f64::total_cmp);
        let label = if k == 3 { format!("{name} ({window} frames)") } else { name.to_string() };
        println!("{label:>28}: {:.2} ms", v[v.len() / 2]);
    }
    Ok(())
}
