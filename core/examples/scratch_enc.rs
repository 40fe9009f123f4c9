use tvtts_core::checkpoint::Checkpoint;
use tvtts_core::model::{Vits, VitsConfig};
fn main() {
    let ckpt = Checkpoint::from_onnx_file("assets/voices/en_US-joe-medium.onnx").unwrap();
    let m = Vits::load(&ckpt, VitsConfig::infer(&ckpt).unwrap(), &candle_core::Device::Cpu).unwrap();
    let ids: Vec<i64> = (0..265).map(|i| if i % 2 == 1 { 0 } else { 20 + (i % 50) as i64 }).collect();
    let t = std::time::Instant::now();
    for _ in 0..40 { let e = m.encode(&ids, None).unwrap(); e.text.x.to_vec3::<f32>().unwrap(); }
    eprintln!("encode {:?}", t.elapsed() / 40);
}
