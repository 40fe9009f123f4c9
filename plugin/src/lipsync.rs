//! Lip-sync from the timing track: the viseme under the sample actually playing, blend weights
//! smoothed over a short window so mouths don't flicker, and the words as they are heard.

use bevy::prelude::*;
use tvtts_core::timing::{Rhubarb, Span, Timings, Viseme};

/// Half the smoothing window of the blend weights, in seconds: each viseme's weight is its share
/// of the 60 ms around the sample playing, so a shape fades in and out over 60 ms.
pub const SMOOTH_HALF_S: f64 = 0.03;

/// The mouth of a speaking NPC, updated every frame from the sample actually playing (not from
/// synthesis progress). Put it on an entity with a `Voice`; between lines it rests on `sil`.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct LipSync {
    /// The OVR viseme playing now.
    pub viseme: Viseme,
    /// The same as a Rhubarb mouth shape.
    pub rhubarb: Rhubarb,
    /// A weight per OVR viseme (in [`Viseme::ALL`] order), summing to 1: feed them to blend
    /// shapes.
    pub weights: [f32; 15],
}

impl Default for LipSync {
    fn default() -> Self {
        let mut weights = [0.0; 15];
        weights[0] = 1.0;
        LipSync { viseme: Viseme::Sil, rhubarb: Rhubarb::X, weights }
    }
}

impl LipSync {
    /// The mouth at sample `at` of a line whose track is `track`, blending over `half` samples
    /// each side.
    pub fn at(track: &Timings, at: u64, half: u64) -> LipSync {
        let visemes = &track.visemes;
        let Some(now) = find(visemes, at) else { return LipSync::default() };
        let (a, b) = (at.saturating_sub(half), at + half.max(1));
        let mut weights = [0.0f32; 15];
        let mut covered = 0u64;
        // Visemes overlapping [a, b), each weighted by its share of the window.
        let first = find(visemes, a).map_or(0, |i| i);
        for v in visemes[first..].iter().take_while(|v| v.start < b) {
            let overlap = v.end.min(b).saturating_sub(v.start.max(a));
            weights[index(v.item.0)] += overlap as f32;
            covered += overlap;
        }
        // Beyond the track (line start or end): rest.
        weights[0] += (b - a - covered) as f32;
        let total: f32 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        LipSync { viseme: visemes[now].item.0, rhubarb: visemes[now].item.1, weights }
    }
}

/// The index of the span of `spans` (in order, tiling) that holds sample `at`.
fn find<T>(spans: &[Span<T>], at: u64) -> Option<usize> {
    let i = spans.partition_point(|s| s.end <= at);
    (i < spans.len() && spans[i].start <= at).then_some(i)
}

/// `v`'s position in [`Viseme::ALL`].
fn index(v: Viseme) -> usize {
    Viseme::ALL.iter().position(|&w| w == v).expect("ALL holds every viseme")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track() -> Timings {
        let sil = (Viseme::Sil, Rhubarb::X);
        let pp = (Viseme::PP, Rhubarb::A);
        let aa = (Viseme::Aa, Rhubarb::D);
        let visemes = vec![
            Span { item: sil, start: 0, end: 100 },
            Span { item: pp, start: 100, end: 200 },
            Span { item: aa, start: 200, end: 600 },
            Span { item: sil, start: 600, end: 700 },
        ];
        Timings { visemes, start: 0, end: 700, ..Default::default() }
    }

    #[test]
    fn weights_blend_near_boundaries_and_sum_to_one() {
        let t = track();
        let mid = LipSync::at(&t, 400, 50);
        assert_eq!((mid.viseme, mid.rhubarb), (Viseme::Aa, Rhubarb::D));
        assert_eq!(mid.weights[index(Viseme::Aa)], 1.0, "far from a boundary: one shape");
        let edge = LipSync::at(&t, 200, 50);
        assert_eq!(edge.viseme, Viseme::Aa);
        assert!((edge.weights[index(Viseme::PP)] - 0.5).abs() < 1e-6 && (edge.weights[index(Viseme::Aa)] - 0.5).abs() < 1e-6);
        for at in [0, 30, 99, 150, 599, 650, 699, 700, 5000] {
            let w = LipSync::at(&t, at, 50).weights;
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{at}");
        }
        assert_eq!(LipSync::at(&t, 5000, 50), LipSync::default(), "after the line: rest");
    }
}
