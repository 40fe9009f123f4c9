//! Dynamic time warping of two frame sequences: which frames of a recording correspond to which
//! frames of the voice's rendering of the same transcript.

/// Euclidean distance of two frames.
fn distance(x: &[f32], y: &[f32]) -> f32 {
    x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt()
}

/// The cheapest monotonic path from (0, 0) to (a.len() − 1, b.len() − 1) under the Euclidean
/// distance of frames, with steps (1, 0), (0, 1) and (1, 1): the aligned index pairs, in order.
/// Empty when either sequence is.
pub fn dtw(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let dist = |i: usize, j: usize| distance(&a[i], &b[j]);
    // acc[i·m + j]: cost of the best path to (i, j).
    let mut acc = vec![f32::INFINITY; n * m];
    for i in 0..n {
        for j in 0..m {
            let best = if i == 0 && j == 0 {
                0.0
            } else {
                let up = if i > 0 { acc[(i - 1) * m + j] } else { f32::INFINITY };
                let left = if j > 0 { acc[i * m + j - 1] } else { f32::INFINITY };
                let diag = if i > 0 && j > 0 { acc[(i - 1) * m + j - 1] } else { f32::INFINITY };
                up.min(left).min(diag)
            };
            acc[i * m + j] = best + dist(i, j);
        }
    }
    let (mut i, mut j) = (n - 1, m - 1);
    let mut path = vec![(i, j)];
    while i > 0 || j > 0 {
        let cost = |i: usize, j: usize| acc[i * m + j];
        (i, j) = if i == 0 {
            (0, j - 1)
        } else if j == 0 {
            (i - 1, 0)
        } else {
            let options = [(i - 1, j - 1), (i - 1, j), (i, j - 1)];
            options.into_iter().min_by(|p, q| cost(p.0, p.1).total_cmp(&cost(q.0, q.1))).expect("three options")
        };
        path.push((i, j));
    }
    path.reverse();
    path
}

/// How far apart two stretches sound, whatever their tempo: the symmetric DTW cost (a diagonal
/// step counts its frame distance twice, a horizontal or vertical one once) over n + m, so a
/// stretch is not made closer by lasting longer; infinite when either is empty.
pub fn path_distance(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return f32::INFINITY;
    }
    let dist = |i: usize, j: usize| distance(&a[i], &b[j]);
    // acc[i·m + j]: cost of the cheapest path to (i, j).
    let mut acc = vec![f32::INFINITY; n * m];
    for i in 0..n {
        for j in 0..m {
            let d = dist(i, j);
            acc[i * m + j] = if i == 0 && j == 0 {
                2.0 * d
            } else {
                let up = if i > 0 { acc[(i - 1) * m + j] + d } else { f32::INFINITY };
                let left = if j > 0 { acc[i * m + j - 1] + d } else { f32::INFINITY };
                let diag = if i > 0 && j > 0 { acc[(i - 1) * m + j - 1] + 2.0 * d } else { f32::INFINITY };
                up.min(left).min(diag)
            };
        }
    }
    acc[n * m - 1] / (n + m) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sequence aligned with a copy whose middle frames are each repeated finds every repeat
    /// against its original.
    #[test]
    fn aligns_a_stretched_copy() {
        let a: Vec<Vec<f32>> = (0..20).map(|i| vec![i as f32, (i * i) as f32 * 0.1]).collect();
        let b: Vec<Vec<f32>> = a.iter().enumerate().flat_map(|(i, f)| std::iter::repeat_n(f.clone(), if (5..10).contains(&i) { 2 } else { 1 })).collect();
        let path = dtw(&a, &b);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(19, b.len() - 1)));
        for &(i, j) in &path {
            assert_eq!(a[i], b[j], "frame {i} aligned with {j}");
        }
        assert!(path.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1 && w[1] != w[0]));
        assert!(dtw(&a, &[]).is_empty());
    }
}
