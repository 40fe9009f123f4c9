use std::time::Instant;
use tvtts_core::checkpoint::Checkpoint;
use tvtts_core::model::{Noise, Vits, VitsConfig};
fn main() {
    let ckpt = Checkpoint::from_onnx_file("assets/voices/en_US-joe-medium.onnx").unwrap();
    let cfg = VitsConfig::infer(&ckpt).unwrap();
    let m = Vits::load(&ckpt, cfg, &candle_core::Device::Cpu).unwrap();
    let ids: Vec<i64> = std::env::args().nth(1).unwrap().split(',').map(|s| s.parse().unwrap()).collect();
    for _ in 0..8 {
        let mut n = Noise::seeded(0);
        let t0 = Instant::now();
        let enc = m.encode(&ids, None).unwrap();
        let _ = enc.text.x.to_vec3::<f32>().unwrap();
        let t1 = Instant::now();
        let d = m.durations(&enc, 1.0, 0.0, &mut n).unwrap();
        let t2 = Instant::now();
        let zp = m.prior(&enc, &d, 0.0, &mut n).unwrap();
        let z = m.flow_reverse(&zp, None).unwrap(); let _ = z.to_vec3::<f32>().unwrap();
        let t3 = Instant::now();
        let a = m.decode(&z, None).unwrap().to_vec1::<f32>().unwrap();
        let t4 = Instant::now();
        eprintln!("enc {:?} dp {:?} flow {:?} dec {:?} total {:?} samples {}", t1-t0, t2-t1, t3-t2, t4-t3, t4-t0, a.len());
    }
}
