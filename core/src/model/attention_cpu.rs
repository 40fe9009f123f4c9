//! The attention core of [`super::attention`] on the CPU, every product on the convolution
//! kernel ([`super::cpu_conv`]) and channels-first throughout, so nothing is transposed (the
//! keys are packed as the scores' weights straight from their `[kc, t]` rows).
//!
//! For one head with queries Q, keys K, values V `[kc, t]` (channels × positions) and the
//! relative embeddings E_k, E_v `[2w+1, kc]`, with keys j as rows and queries i as columns:
//!
//!   Sᵀ[j, i] = Σ_c K[c, j] · Q[c, i]          a 1×1 conv of Q with weights Kᵀ `[t, kc]`
//!   R[r, i]  = Σ_c E_k[r, c] · Q[c, i]        a 1×1 conv of Q with weights E_k
//!   Sᵀ[i + r − w, i] += R[r, i]               the relative-key band
//!   Pᵀ = softmax over j (down each column)    vectorised across queries
//!   B[r, i]  = Pᵀ[i + r − w, i]               the band of the weights (zero off the sequence)
//!   O[c, i]  = Σ_j V[c, j] · Pᵀ[j, i] + Σ_r E_vᵀ[c, r] · B[r, i]
//!
//! the last a 1×1 conv of Pᵀ with weights V plus, as its residual, one of B with weights E_vᵀ.

use candle_core::{Device, Result, Tensor};

use super::activations::exp_in_place;
use super::cpu::{chunked, cpu_slice, each_alone, OutPtr};
use super::cpu_conv::{conv1d_slice, PackedWeights};

/// The relative embeddings packed for the kernel, once per layer.
#[derive(Debug, Clone)]
pub struct RelativePacked {
    /// E_k as weights `[2w+1, kc, 1]`.
    keys: PackedWeights,
    /// E_vᵀ as weights `[kc, 2w+1, 1]`.
    values_t: PackedWeights,
    window: usize,
}

impl RelativePacked {
    /// From `emb_rel_k`, `emb_rel_v` `[2w+1, kc]`.
    pub fn new(emb_rel_k: &Tensor, emb_rel_v: &Tensor, window: usize) -> Result<Self> {
        let (band, kc) = emb_rel_k.dims2()?;
        let ek = emb_rel_k.flatten_all()?.to_vec1::<f32>()?;
        let ev = emb_rel_v.flatten_all()?.to_vec1::<f32>()?;
        Ok(RelativePacked {
            keys: PackedWeights::from_slice(&ek, band, kc, 1, false),
            values_t: PackedWeights::from_transposed(&ev, band, kc),
            window,
        })
    }
}

/// Multi-head attention of `q` (already scaled by 1/√kc) `[b, c, tq]`, the first tq ≤ t
/// positions' queries, and `k`, `v` `[b, c, t]` with `heads` heads → `[b, c, tq]` (heads'
/// outputs in their channel blocks, as VITS' `conv_o` reads them).
/// Heads run side by side, each on one thread ([`each_alone`]): one head's products are too
/// small to gain from a second thread (measured: none at 2 threads, 267 ids), two heads on two
/// threads take half the time.
pub fn attend(q: &Tensor, k: &Tensor, v: &Tensor, heads: usize, rel: &RelativePacked) -> Result<Tensor> {
    let (b, c, tq) = q.dims3()?;
    let t = k.dim(2)?;
    if tq > t || k.dims() != v.dims() || k.dims()[..2] != [b, c] {
        candle_core::bail!("attend: queries {:?}, keys {:?}, values {:?}", q.dims(), k.dims(), v.dims());
    }
    let kc = c / heads;
    let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
    let (q_storage, q_layout) = q.storage_and_layout();
    let (k_storage, k_layout) = k.storage_and_layout();
    let (v_storage, v_layout) = v.storage_and_layout();
    let (qs, ks, vs) = (cpu_slice(&q_storage, q_layout)?, cpu_slice(&k_storage, k_layout)?, cpu_slice(&v_storage, v_layout)?);
    let mut out = vec![0f32; b * c * tq];
    let out_ptr = OutPtr(out.as_mut_ptr());
    each_alone(b * heads, |head| {
        // [b, h, kc, t] is [b, c, t] with c split into heads.
        let (at, at_q) = (head * kc * t, head * kc * tq);
        let (qh, kh, vh) = (&qs[at_q..][..kc * tq], &ks[at..][..kc * t], &vs[at..][..kc * t]);
        let keys = PackedWeights::from_transposed(kh, kc, t); // Kᵀ as weights [t, kc]
        let mut scores = conv1d_slice(qh, 1, tq, &keys, None, 0, 1, None, None)?; // Sᵀ [t, tq]
        let rel_logits = conv1d_slice(qh, 1, tq, &rel.keys, None, 0, 1, None, None)?; // R [2w+1, tq]
        let band = softmax_keys(&mut scores, &rel_logits, t, tq, rel.window); // Pᵀ, B
        let rel_out = conv1d_slice(&band, 1, tq, &rel.values_t, None, 0, 1, None, None)?; // [kc, tq]
        let values = PackedWeights::from_slice(vh, kc, t, 1, false);
        let o = conv1d_slice(&scores, 1, tq, &values, None, 0, 1, None, Some(&rel_out))?;
        // SAFETY: head `head` alone writes its [kc, tq] block of `out`.
        unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(at_q), kc * tq) }.copy_from_slice(&o);
        Ok(())
    })?;
    Tensor::from_vec(out, (b, c, tq), &Device::Cpu)
}

/// Columns of queries per task of [`softmax_keys`].
const QUERY_BLOCK: usize = 64;

/// In place: `s` = Sᵀ `[t keys, tq queries]` plus the band `rel` = R `[2w+1, tq]`, then the
/// softmax down each column (over keys). Returns the band of the weights B `[2w+1, tq]`.
/// Blocks of query columns run in parallel on candle's CPU worker pool.
fn softmax_keys(s: &mut [f32], rel: &[f32], t: usize, tq: usize, w: usize) -> Vec<f32> {
    let width = 2 * w + 1;
    let mut band = vec![0f32; width * tq];
    let (s_ptr, band_ptr) = (OutPtr(s.as_mut_ptr()), OutPtr(band.as_mut_ptr()));
    chunked(tq.div_ceil(QUERY_BLOCK), |blocks| {
        let mut max = [0f32; QUERY_BLOCK];
        let mut sum = [0f32; QUERY_BLOCK];
        for blk in blocks {
            let (i0, n) = (blk * QUERY_BLOCK, QUERY_BLOCK.min(tq - blk * QUERY_BLOCK));
            // SAFETY: this task alone reads and writes columns i0..i0+n of every row of s and
            // of band (disjoint column blocks; rows of length tq, inside both buffers).
            let row = |j: usize| unsafe { std::slice::from_raw_parts_mut(s_ptr.get().add(j * tq + i0), n) };
            let band_row = |r: usize| unsafe { std::slice::from_raw_parts_mut(band_ptr.get().add(r * tq + i0), n) };
            for r in 0..width {
                for (k, &v) in rel[r * tq + i0..][..n].iter().enumerate() {
                    if let Some(j) = (i0 + k + r).checked_sub(w).filter(|&j| j < t) {
                        row(j)[k] += v;
                    }
                }
            }
            let (max, sum) = (&mut max[..n], &mut sum[..n]);
            max.fill(f32::NEG_INFINITY);
            for j in 0..t {
                max.iter_mut().zip(row(j).iter()).for_each(|(m, &v)| *m = m.max(v));
            }
            sum.fill(0.0);
            for j in 0..t {
                let r = row(j);
                r.iter_mut().zip(max.iter()).for_each(|(v, &m)| *v -= m);
                exp_in_place(r);
                sum.iter_mut().zip(r.iter()).for_each(|(s, &v)| *s += v);
            }
            for j in 0..t {
                row(j).iter_mut().zip(sum.iter()).for_each(|(v, &s)| *v /= s);
            }
            for r in 0..width {
                for (k, d) in band_row(r).iter_mut().enumerate() {
                    *d = (i0 + k + r).checked_sub(w).filter(|&j| j < t).map_or(0.0, |j| row(j)[k]);
                }
            }
        }
    });
    band
}
