use candle_core::{Device, Tensor};
fn main() {
    let d = Device::Cpu;
    for &(m, k, n) in &[(1024usize, 1024usize, 1024usize), (128, 896, 256), (32, 224, 1024), (384, 960, 128)] {
        let a = Tensor::randn(0f32, 1., (m, k), &d).unwrap();
        let b = Tensor::randn(0f32, 1., (k, n), &d).unwrap();
        let _ = a.matmul(&b).unwrap();
        let it = 20; let t = std::time::Instant::now();
        for _ in 0..it { let _ = a.matmul(&b).unwrap(); }
        let s = t.elapsed().as_secs_f64() / it as f64;
        println!("{m}x{k}x{n}: {:.1} GF/s", 2.0 * (m * k * n) as f64 / s / 1e9);
    }
}
