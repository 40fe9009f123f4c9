use candle_core::{Device, Tensor};
use std::time::Instant;
use tvtts_core::model::cpu_conv::{conv1d, Fused};
fn main() {
    let dev = Device::Cpu;
    for &(c, l, k, d) in &[(128usize, 1000usize, 3usize, 1usize), (128, 1000, 7, 12), (64, 8000, 3, 1), (64, 8000, 7, 12), (32, 32000, 3, 1), (32, 32000, 7, 12), (192, 125, 5, 1)] {
        let x = Tensor::randn(0f32, 1., (1, c, l), &dev).unwrap();
        let w = Tensor::randn(0f32, 1., (c, c, k), &dev).unwrap();
        let b = Tensor::randn(0f32, 1., c, &dev).unwrap();
        let p = (k * d - d) / 2;
        let _ = conv1d(&x, &w, Some(&b), p, d, Fused::default()).unwrap();
        let n = 10;
        let t0 = Instant::now();
        for _ in 0..n { let _ = conv1d(&x, &w, Some(&b), p, d, Fused { pre_slope: Some(0.1), residual: Some(&x) }).unwrap(); }
        let ours = t0.elapsed().as_secs_f64() / n as f64;
        let t0 = Instant::now();
        for _ in 0..n { let _ = x.conv1d(&w, p, 1, d, 1).unwrap(); }
        let cand = t0.elapsed().as_secs_f64() / n as f64;
        let flops = 2.0 * (c * c * k * l) as f64;
        println!("c{c} l{l} k{k} d{d}: ours {:.2} ms {:.1} GF/s | candle {:.2} ms {:.1} GF/s", ours*1e3, flops/ours/1e9, cand*1e3, flops/cand/1e9);
    }
}
