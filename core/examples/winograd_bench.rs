//! Times the conv kernel direct against Winograd's F(4, k) on the shapes of the VITS parts that
//! may use it, one process, same data: what `cpu_winograd::pays` and
//! `WinogradWeights::direct_below` are chosen from.
//!
//! `cargo run --release -p tvtts-core --example winograd_bench [threads]` (default 1).

use std::time::Instant;

use candle_core::{Device, Tensor};
use tvtts_core::model::cpu_conv::{conv1d_slice, PackedWeights};
use tvtts_core::model::cpu_winograd::WinogradWeights;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let threads = std::env::args().nth(1).map(|t| t.parse()).transpose()?.unwrap_or(1);
    tvtts_core::threads::set_kernel_threads(threads);
    tvtts_core::memory::keep_freed_memory();
    // (what, c_out, c_in, taps, dilation, steps)
    let shapes = [
        ("enc_p ffn conv_1, 40 ids", 768, 192, 3, 1, 40),
        ("enc_p ffn conv_2, 40 ids", 192, 768, 3, 1, 40),
        ("enc_p ffn conv_1, 75 ids", 768, 192, 3, 1, 75),
        ("enc_p ffn conv_2, 75 ids", 192, 768, 3, 1, 75),
        ("enc_p ffn conv_1, 267 ids", 768, 192, 3, 1, 267),
        ("enc_p ffn conv_2, 267 ids", 192, 768, 3, 1, 267),
        ("flow WN in_layer, 60 frames", 384, 192, 5, 1, 60),
        ("flow WN in_layer, 300 frames", 384, 192, 5, 1, 300),
        ("dec resblock, 128 ch", 128, 128, 3, 1, 1024),
        ("dec resblock, 128 ch", 128, 128, 5, 6, 1024),
        ("dec resblock, 64 ch", 64, 64, 3, 1, 8192),
        ("dec resblock, 64 ch", 64, 64, 5, 2, 8192),
        ("dec resblock, 32 ch (direct)", 32, 32, 3, 1, 32768),
        ("dec resblock, 32 ch (direct)", 32, 32, 5, 2, 32768),
    ];
    println!("threads {threads}, kernels {}", tvtts_core::model::cpu_level::level().name());
    println!("| conv | shape | direct ms | GFLOP/s | Winograd ms | speed-up |");
    println!("|---|---|---|---|---|---|");
    for (what, c_out, c_in, k, d, l) in shapes {
        let w: Vec<f32> = (0..c_out * c_in * k).map(|i| (i as f32 * 0.37).sin() * 0.05).collect();
        let x: Vec<f32> = (0..c_in * l).map(|i| (i as f32 * 0.11).cos()).collect();
        let bias = vec![0.1f32; c_out];
        let wt = Tensor::from_vec(w.clone(), (c_out, c_in, k), &Device::Cpu)?;
        let direct = PackedWeights::new(&wt, false)?;
        let wino = WinogradWeights::new(&w, c_out, c_in, k).expect("3 or 5 taps");
        let pad = d * (k - 1) / 2;
        let runs = (4e8 / (c_out * c_in * k * l) as f64).clamp(5.0, 2000.0) as usize;
        let time = |f: &dyn Fn() -> Vec<f32>| {
            (0..3).for_each(|_| drop(f()));
            let t = Instant::now();
            (0..runs).for_each(|_| drop(std::hint::black_box(f())));
            t.elapsed().as_secs_f64() * 1e3 / runs as f64
        };
        let td = time(&|| conv1d_slice(&x, 1, l, &direct, Some(&bias), pad, d, Some(0.1), None).expect("conv"));
        let tw = time(&|| tvtts_core::model::cpu_winograd::conv(&x, 1, l, &wino, &bias, pad, d, Some(0.1), None));
        let gflops = 2.0 * (c_out * c_in * k * l) as f64 / td / 1e6;
        println!("| {what} | {c_in}→{c_out}, k {k}, dilation {d}, {l} steps | {td:.3} | {gflops:.0} | {tw:.3} | {:.2} |", td / tw);
    }
    Ok(())
}
