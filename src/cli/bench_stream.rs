//! `tvtts bench-stream`: the streaming engine's latency, overhead and concurrency.
//!
//! Without `--speakers`: one request at a time through an engine with one worker and
//! `--threads` kernel threads, `--runs` times after a warm-up (noise 0): time to first audio
//! (request → first sample in the ring buffer), time to the last sample, and the same text
//! synthesized whole (`Voice::synthesize`) in the same process, so the streaming overhead is a
//! ratio of two numbers measured together.
//!
//! With `--speakers 1,4,8,16`: for each K, K requests of the text start at once on an engine with
//! the default configuration (one worker per core, one kernel thread each), and each is played by
//! a simulated real-time device (512-sample callbacks from its first sample on). Reports
//! underruns, time to first audio, and the largest K without underruns.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use tvtts::core::engine::{Engine, EngineConfig, Event, Request};
use tvtts::core::{Say, SynthesisOptions};

use super::bench::{median, BenchArgs};
use super::playback::{drain, underruns, Arrivals, Device};

#[derive(Args, Debug)]
pub struct BenchStreamArgs {
    #[command(flatten)]
    pub bench: BenchArgs,
    /// Concurrency mode: comma-separated numbers of simultaneous speakers.
    #[arg(long, value_delimiter = ',')]
    pub speakers: Vec<usize>,
}

pub fn run(a: BenchStreamArgs) -> anyhow::Result<()> {
    let text = a.bench.text()?;
    let report = if a.speakers.is_empty() { latency(&a, &text)? } else { concurrency(&a, &text)? };
    if a.bench.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn engine(a: &BenchStreamArgs, config: EngineConfig) -> anyhow::Result<Engine> {
    let config = EngineConfig { device: tvtts::core::device::parse(&a.bench.voice.device)?, ..config };
    let engine = Engine::new(config)?;
    engine.add_voice("voice", a.bench.voice.load()?, Vec::new())?;
    Ok(engine)
}

/// Time to first audio and streaming overhead, one request at a time.
fn latency(a: &BenchStreamArgs, text: &str) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(a.bench.runs > 0, "--runs must be at least 1");
    let threads = a.bench.voice.threads.unwrap_or_else(tvtts::threads::physical_cores);
    let engine = engine(a, EngineConfig { workers: 1, kernel_threads: threads, ..EngineConfig::default() })?;
    let voice = engine.voice("voice")?;
    let (mut ttfa, mut streamed, mut whole, mut under) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut samples = 0;
    for run in 0..=a.bench.runs {
        let t0 = Instant::now();
        let sentences = voice.voice.synthesize(&Say::text(text), &SynthesisOptions::quiet())?;
        let whole_s = t0.elapsed().as_secs_f64();
        samples = sentences.iter().map(|s| s.audio.len()).sum::<usize>();

        let mut h = engine.speak(Request::text("voice", text).options(SynthesisOptions::quiet()));
        let mut arrivals = Arrivals::new();
        let (audio, events) = drain(&mut h, &mut arrivals);
        if let Some(Event::Failed(e)) = events.into_iter().find(|e| matches!(e, Event::Failed(_))) {
            return Err(e.into());
        }
        anyhow::ensure!(audio.len() == samples, "streamed {} samples, whole {samples}", audio.len());
        let t = h.timing();
        if run > 0 {
            whole.push(whole_s);
            ttfa.push(t.first_audio.unwrap_or_default().as_secs_f64());
            streamed.push(t.ended.unwrap_or_default().as_secs_f64());
            under.push(underruns(&arrivals, samples as u64, h.sample_rate()));
        }
    }
    let audio_s = samples as f64 / voice.voice.sample_rate() as f64;
    let (ttfa, streamed, whole) = (median(ttfa), median(streamed), median(whole));
    Ok(json!({
        "mode": "latency",
        "threads": threads,
        "runs": a.bench.runs,
        "audio_s": audio_s,
        "ttfa_ms": ttfa * 1e3,
        "stream_synth_ms": streamed * 1e3,
        "whole_synth_ms": whole * 1e3,
        "stream_rtf": streamed / audio_s,
        "whole_rtf": whole / audio_s,
        "overhead": streamed / whole - 1.0,
        "underruns_max": under.iter().max(),
    }))
}

/// K speakers at once, each played in real time.
fn concurrency(a: &BenchStreamArgs, text: &str) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(a.speakers.iter().all(|&k| k > 0), "--speakers: each count must be at least 1");
    // The defaults for the device (CUDA: one worker batching speakers; CPU: a worker per core).
    let engine = engine(a, EngineConfig::for_device(tvtts::core::device::parse(&a.bench.voice.device)?))?;
    let workers = engine.config().workers;
    // Warm-up: first use of every kernel.
    let mut h = engine.speak(Request::text("voice", text).options(SynthesisOptions::quiet()));
    drain(&mut h, &mut Arrivals::new());
    let mut rows = Vec::new();
    for &k in &a.speakers {
        let mut handles: Vec<_> = (0..k).map(|_| engine.speak(Request::text("voice", text).options(SynthesisOptions::quiet()))).collect();
        let mut devices: Vec<Device> = handles.iter_mut().map(|h| Device::new(h.take_reader().expect("fresh handle"))).collect();
        let t0 = Instant::now();
        while devices.iter().any(|d| !d.is_done()) {
            anyhow::ensure!(t0.elapsed() < Duration::from_secs(600), "{k} speakers did not finish in 10 min");
            let now = Instant::now();
            let next = devices.iter_mut().zip(&handles).filter_map(|(d, h)| d.tick(now, h.state())).min();
            let wait = next.map_or(Duration::from_millis(1), |n| n.saturating_duration_since(Instant::now()));
            std::thread::sleep(wait.min(Duration::from_millis(1)));
        }
        for h in &handles {
            if let Some(Event::Failed(e)) = h.events().find(|e| matches!(e, Event::Failed(_))) {
                return Err(e.into());
            }
        }
        let ttfa: Vec<f64> = handles.iter().map(|h| h.timing().first_audio.unwrap_or_default().as_secs_f64()).collect();
        let underruns: usize = devices.iter().map(|d| d.underruns).sum();
        let starving = devices.iter().filter(|d| d.underruns > 0).count();
        rows.push(json!({
            "speakers": k,
            "underruns": underruns,
            "speakers_with_underruns": starving,
            "ttfa_ms_median": median(ttfa.clone()) * 1e3,
            "ttfa_ms_max": ttfa.iter().copied().fold(0.0, f64::max) * 1e3,
            "wall_s": t0.elapsed().as_secs_f64(),
            "audio_s_each": devices[0].played as f64 / handles[0].sample_rate() as f64,
        }));
    }
    let largest_clean = rows.iter().filter(|r| r["underruns"] == 0).filter_map(|r| r["speakers"].as_u64()).max();
    Ok(json!({ "mode": "concurrency", "workers": workers, "rows": rows, "largest_k_without_underruns": largest_clean }))
}
