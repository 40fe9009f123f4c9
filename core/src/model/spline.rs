//! Inverse of the unconstrained rational-quadratic spline with linear tails (Durkan et al., 2019),
//! as used by VITS' `ConvFlow` (`transforms.piecewise_rational_quadratic_transform`, `inverse=True`,
//! `tails="linear"`). Scalar code in f32, following the reference's order of operations; it runs on
//! one value per phoneme, so it is not a hot path.

const MIN_BIN_WIDTH: f32 = 1e-3;
const MIN_BIN_HEIGHT: f32 = 1e-3;
const MIN_DERIVATIVE: f32 = 1e-3;

/// Inverts the spline at `y`. `widths`/`heights` are the `num_bins` unnormalised bin logits,
/// `derivatives` the `num_bins − 1` unnormalised inner knot slopes. Values outside
/// `[-tail_bound, tail_bound]` pass through unchanged.
pub fn rational_quadratic_inverse(y: f32, widths: &[f32], heights: &[f32], derivatives: &[f32], tail_bound: f32) -> f32 {
    if !(-tail_bound..=tail_bound).contains(&y) {
        return y;
    }
    let n = widths.len();
    debug_assert_eq!(heights.len(), n);
    debug_assert_eq!(derivatives.len() + 1, n);

    let cumwidths = knots(widths, MIN_BIN_WIDTH, tail_bound);
    let cumheights = knots(heights, MIN_BIN_HEIGHT, tail_bound);
    // Boundary slopes are fixed so that softplus gives exactly 1 − min_derivative + min_derivative.
    let boundary = ((1.0 - MIN_DERIVATIVE).exp() - 1.0).ln();
    let slope = |k: usize| -> f32 {
        let u = if k == 0 || k == n { boundary } else { derivatives[k - 1] };
        MIN_DERIVATIVE + softplus(u)
    };

    // searchsorted with the last knot nudged up by 1e-6, as the reference does.
    let bin = cumheights
        .iter()
        .enumerate()
        .filter(|&(k, &c)| y >= if k == n { c + 1e-6 } else { c })
        .count()
        .saturating_sub(1)
        .min(n - 1);

    let x_k = cumwidths[bin];
    let w_k = cumwidths[bin + 1] - cumwidths[bin];
    let y_k = cumheights[bin];
    let h_k = cumheights[bin + 1] - cumheights[bin];
    let delta = h_k / w_k;
    let (d_k, d_k1) = (slope(bin), slope(bin + 1));

    let dy = y - y_k;
    let a = dy * (d_k + d_k1 - 2.0 * delta) + h_k * (delta - d_k);
    let b = h_k * d_k - dy * (d_k + d_k1 - 2.0 * delta);
    let c = -delta * dy;
    let discriminant = b * b - 4.0 * a * c;
    let root = (2.0 * c) / (-b - discriminant.sqrt());
    root * w_k + x_k
}

/// Knot positions in `[-bound, bound]` from unnormalised bin logits: softmax, a minimum bin size,
/// cumulative sum, ends pinned exactly to ±bound. Returns `num_bins + 1` values.
fn knots(logits: &[f32], min_size: f32, bound: f32) -> Vec<f32> {
    let n = logits.len();
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    let mut out = Vec::with_capacity(n + 1);
    out.push(0.0f32);
    let mut acc = 0.0f32;
    for e in exps {
        acc += min_size + (1.0 - min_size * n as f32) * (e / sum);
        out.push(acc);
    }
    for v in out.iter_mut() {
        *v = 2.0 * bound * *v - bound;
    }
    out[0] = -bound;
    out[n] = bound;
    out
}

fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forward transform, written independently from the inverse, to check the round trip.
    fn forward(x: f32, w: &[f32], h: &[f32], d: &[f32], bound: f32) -> f32 {
        let n = w.len();
        let cw = knots(w, MIN_BIN_WIDTH, bound);
        let ch = knots(h, MIN_BIN_HEIGHT, bound);
        let boundary = ((1.0f32 - MIN_DERIVATIVE).exp() - 1.0).ln();
        let s = |k: usize| MIN_DERIVATIVE + softplus(if k == 0 || k == n { boundary } else { d[k - 1] });
        let bin = (0..n).rev().find(|&k| x >= cw[k]).unwrap_or(0);
        let (wk, hk) = (cw[bin + 1] - cw[bin], ch[bin + 1] - ch[bin]);
        let delta = hk / wk;
        let theta = (x - cw[bin]) / wk;
        let t1 = theta * (1.0 - theta);
        let num = hk * (delta * theta * theta + s(bin) * t1);
        let den = delta + (s(bin) + s(bin + 1) - 2.0 * delta) * t1;
        ch[bin] + num / den
    }

    #[test]
    fn inverse_undoes_forward() {
        let w = [0.3, -1.0, 0.5, 2.0, 0.0, 0.1, -0.4, 1.2, 0.7, -2.0];
        let h = [1.0, 0.2, -0.3, 0.0, 0.9, -1.1, 0.4, 0.3, -0.2, 0.6];
        let d = [0.5, -0.5, 1.0, 0.0, 2.0, -1.0, 0.3, 0.1, -0.7];
        for i in -49..=49 {
            let x = i as f32 * 0.1;
            let y = forward(x, &w, &h, &d, 5.0);
            let back = rational_quadratic_inverse(y, &w, &h, &d, 5.0);
            assert!((back - x).abs() < 1e-4, "x={x} y={y} back={back}");
        }
    }

    #[test]
    fn identity_outside_tails() {
        let w = [0.0; 10];
        let d = [0.0; 9];
        assert_eq!(rational_quadratic_inverse(7.5, &w, &w, &d, 5.0), 7.5);
        assert_eq!(rational_quadratic_inverse(-5.01, &w, &w, &d, 5.0), -5.01);
        // Uniform bins and unit slopes make the spline the identity inside, too.
        assert!((rational_quadratic_inverse(1.234, &w, &w, &[0.539_742_4; 9], 5.0) - 1.234).abs() < 1e-3);
    }
}
