//! Fused element-wise activations and normalisation for the hot paths (CPU fast paths).

use candle_core::{Device, Result, Tensor};

use super::cpu::{cpu_slice, is_cpu_f32, OutPtr};

/// WaveNet's gated activation: `x` `[b, 2h, t]` → `tanh(x[:, :h]) · sigmoid(x[:, h:])` `[b, h, t]`
/// (VITS `fused_add_tanh_sigmoid_multiply`). On the CPU it is one parallel pass instead of four
/// tensor ops; tanh(a) is computed as 1 − 2/(e^{2a} + 1), which is within 1e-7 of libm's tanhf.
pub fn gated_tanh_sigmoid(x: &Tensor, h: usize) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    if c != 2 * h {
        candle_core::bail!("gated_tanh_sigmoid: {c} channels, expected 2·{h}");
    }
    if !is_cpu_f32(x) {
        let a = x.narrow(1, 0, h)?.tanh()?;
        return a * candle_nn::ops::sigmoid(&x.narrow(1, h, h)?)?;
    }
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let xs = cpu_slice(&storage, layout)?;
    let mut out = vec![0f32; b * h * t];
    let out_ptr = OutPtr(out.as_mut_ptr());
    // Rows in parallel on candle's CPU worker pool (the one its element-wise ops use).
    candle_core::utils::barrier_pool().execute_chunked(b * h, |rows| {
        for row in rows {
            let (bi, ch) = (row / h, row % h);
            let a = &xs[(bi * c + ch) * t..][..t];
            let g = &xs[(bi * c + h + ch) * t..][..t];
            // SAFETY: each row of the [b·h, t] output is written by exactly one task.
            let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(row * t), t) };
            for ((d, &a), &g) in dst.iter_mut().zip(a).zip(g) {
                let tanh = 1.0 - 2.0 / ((2.0 * a).exp() + 1.0);
                let sigmoid = 1.0 / (1.0 + (-g).exp());
                *d = tanh * sigmoid;
            }
        }
    });
    Tensor::from_vec(out, (b, h, t), &Device::Cpu)
}

/// Layer norm over the channel axis of `x` `[b, c, t]` with `gamma`, `beta` `[1, c, 1]` (VITS'
/// channels-first `LayerNorm`), on the CPU. candle's reduction over a non-last axis walks the
/// tensor with strides; here each time step's mean and variance accumulate row by row over
/// contiguous memory, then one pass normalises.
pub fn layer_norm_channels(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let xs = cpu_slice(&storage, layout)?;
    let (g, be) = (gamma.flatten_all()?.to_vec1::<f32>()?, beta.flatten_all()?.to_vec1::<f32>()?);
    let mut out = vec![0f32; b * c * t];
    // Sums in f64: the statistics then do not depend on the order of accumulation.
    let (mut mean, mut var) = (vec![0f64; t], vec![0f64; t]);
    let (mut mean32, mut inv32) = (vec![0f32; t], vec![0f32; t]);
    for (xb, ob) in xs.chunks_exact(c * t).zip(out.chunks_exact_mut(c * t)) {
        mean.fill(0.0);
        var.fill(0.0);
        for row in xb.chunks_exact(t) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= c as f64);
        for row in xb.chunks_exact(t) {
            var.iter_mut().zip(row).zip(&mean).for_each(|((s, &v), &m)| *s += (v as f64 - m) * (v as f64 - m));
        }
        for i in 0..t {
            mean32[i] = mean[i] as f32;
            inv32[i] = (1.0 / (var[i] / c as f64 + eps as f64).sqrt()) as f32;
        }
        for (ch, (row, orow)) in xb.chunks_exact(t).zip(ob.chunks_exact_mut(t)).enumerate() {
            for (((o, &v), &m), &inv) in orow.iter_mut().zip(row).zip(&mean32).zip(&inv32) {
                *o = (v - m) * inv * g[ch] + be[ch];
            }
        }
    }
    Tensor::from_vec(out, (b, c, t), &Device::Cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_matches_candle_ops() {
        let dev = Device::Cpu;
        let x = (Tensor::randn(0f32, 2.0, (2, 7, 31), &dev).unwrap() + 3.0).unwrap();
        let g = Tensor::randn(0f32, 1.0, (1, 7, 1), &dev).unwrap();
        let b = Tensor::randn(0f32, 1.0, (1, 7, 1), &dev).unwrap();
        let mean = x.mean_keepdim(1).unwrap();
        let centered = x.broadcast_sub(&mean).unwrap();
        let var = centered.sqr().unwrap().mean_keepdim(1).unwrap();
        let want = centered.broadcast_div(&(var + 1e-5).unwrap().sqrt().unwrap()).unwrap().broadcast_mul(&g).unwrap().broadcast_add(&b).unwrap();
        let got = layer_norm_channels(&x, &g, &b, 1e-5).unwrap();
        let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn gate_matches_candle_ops() {
        let x = (Tensor::randn(0f32, 3.0, (2, 8, 50), &Device::Cpu).unwrap()).contiguous().unwrap();
        let want = (x.narrow(1, 0, 4).unwrap().tanh().unwrap() * candle_nn::ops::sigmoid(&x.narrow(1, 4, 4).unwrap()).unwrap()).unwrap();
        let got = gated_tanh_sigmoid(&x, 4).unwrap();
        let err = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(err < 1e-6, "{err}");
    }
}
