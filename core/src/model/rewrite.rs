//! An accent as a phoneme rewrite: for each phoneme id in its context, the id the accent says
//! instead. A `rewrite` style vector at α feeds the text encoder the embedding
//! `emb[id] + α·(emb[rewritten id] − emb[id])` at every position: α 0 is the voice as it is,
//! α 1 reads the rewritten phonemes, between blends their sounds (HE-Vector's dialect α, on the
//! input of the early groups). The sequence keeps its length: an inserted phoneme takes the pad
//! position after its left neighbour, a dropped one becomes that pad.
//!
//! The context of position k is a window of ids around it, k−4 … k+4, looked up from the widest
//! to none: the whole window, its middle five ids k−2 … k+2, then the id alone. In Piper's layout
//! (each phoneme followed by a pad) the middle five are a phoneme with its neighbours on either
//! side, or a pad with the phonemes around it, and the whole window two phonemes either side —
//! without the rewrite knowing which id is the pad.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};

/// Ids on either side of a position that make its widest context.
const REACH: usize = 4;
/// The window of ids of one context.
pub const WINDOW: usize = 2 * REACH + 1;
/// How far each level of rules looks to either side, widest first.
pub const LEVELS: [usize; 3] = [4, 2, 0];
/// A context id beyond either end of the sequence.
pub const OUTSIDE: i64 = -2;
/// A context id that matches anything (rules for an id whatever its context).
pub const ANY: i64 = -1;

/// A rewrite table; see the module doc.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rewrite {
    /// Per level of [`LEVELS`]: the window of ids around a position, [`ANY`] beyond the
    /// level's reach → the id there instead.
    rules: [HashMap<[i64; WINDOW], i64>; LEVELS.len()],
}

impl Rewrite {
    /// `window` with the ids beyond `reach` of its middle replaced by [`ANY`].
    pub fn masked(window: &[i64; WINDOW], reach: usize) -> [i64; WINDOW] {
        std::array::from_fn(|i| if i.abs_diff(REACH) <= reach { window[i] } else { ANY })
    }

    /// The level of `window`: the reach of its widest id that is not [`ANY`] (rounded up to a
    /// level of [`LEVELS`]).
    fn level(window: &[i64; WINDOW]) -> usize {
        let reach = (0..WINDOW).filter(|&i| window[i] != ANY).map(|i| i.abs_diff(REACH)).max().unwrap_or(0);
        LEVELS.iter().rposition(|&r| r >= reach).unwrap_or(0)
    }

    /// Adds the rule: `window` (ids k−4 … k+4, [`ANY`] beyond the reach it looks at) rewrites
    /// its middle id to `to`.
    pub fn insert(&mut self, window: [i64; WINDOW], to: i64) {
        let level = Self::level(&window);
        self.rules[level].insert(Self::masked(&window, LEVELS[level]), to);
    }

    /// The window of ids around position `k` of `ids` ([`OUTSIDE`] past the ends).
    pub fn window(ids: &[i64], k: usize) -> [i64; WINDOW] {
        std::array::from_fn(|i| (k + i).checked_sub(REACH).and_then(|j| ids.get(j)).copied().unwrap_or(OUTSIDE))
    }

    /// What the rules say of the middle of `window`, from the widest level that has a rule
    /// for it; itself where none has.
    pub fn rewrite(&self, window: &[i64; WINDOW]) -> i64 {
        LEVELS.iter().zip(&self.rules).find_map(|(&reach, rules)| rules.get(&Self::masked(window, reach)).copied()).unwrap_or(window[REACH])
    }

    /// `ids` rewritten, position by position (same length).
    pub fn apply(&self, ids: &[i64]) -> Vec<i64> {
        (0..ids.len()).map(|k| self.rewrite(&Self::window(ids, k))).collect()
    }

    /// Rules.
    pub fn len(&self) -> usize {
        self.rules.iter().map(HashMap::len).sum()
    }

    /// Whether it rewrites nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rules as rows `[n, 10]` (the window, [`ANY`] beyond its reach, then the id
    /// instead; f32, as style vectors hold them), in a fixed order.
    pub fn to_tensor(&self) -> Result<Tensor> {
        let mut rows: Vec<[i64; WINDOW + 1]> = Vec::with_capacity(self.len());
        for (w, &to) in self.rules.iter().flatten() {
            let mut row = [0; WINDOW + 1];
            row[..WINDOW].copy_from_slice(w);
            row[WINDOW] = to;
            rows.push(row);
        }
        rows.sort_unstable();
        let n = rows.len();
        Ok(Tensor::from_vec(rows.into_iter().flatten().map(|v| v as f32).collect::<Vec<_>>(), (n, WINDOW + 1), &Device::Cpu)?)
    }

    /// Reads rows `[n, 10]` as [`Self::to_tensor`] writes them; every id must lie in
    /// `0..n_vocab` (context ids may also be [`ANY`] or [`OUTSIDE`]).
    pub fn from_tensor(t: &Tensor, n_vocab: usize) -> Result<Self> {
        let bad = |reason: String| Error::invalid("phoneme rewrite", reason);
        let (_, cols) = t.dims2().map_err(|_| bad(format!("rules of shape {:?}, want [n, {}]", t.dims(), WINDOW + 1)))?;
        if cols != WINDOW + 1 {
            return Err(bad(format!("rules of shape {:?}, want [n, {}]", t.dims(), WINDOW + 1)));
        }
        let mut rewrite = Rewrite::default();
        for (r, row) in t.to_dtype(candle_core::DType::F32)?.to_vec2::<f32>()?.iter().enumerate() {
            let id = |i: usize, context: bool| -> Result<i64> {
                let v = row[i];
                let ok = v.fract() == 0.0 && ((0.0..n_vocab as f32).contains(&v) || (context && (v == ANY as f32 || v == OUTSIDE as f32)));
                if ok {
                    Ok(v as i64)
                } else {
                    Err(bad(format!("rule {r}: `{v}` is not a phoneme id of this voice (0..{n_vocab})")))
                }
            };
            let mut window = [0i64; WINDOW];
            for (i, w) in window.iter_mut().enumerate() {
                *w = id(i, i != REACH)?;
            }
            let level = Self::level(&window);
            if (0..WINDOW).any(|i| i.abs_diff(REACH) <= LEVELS[level] && window[i] == ANY) {
                return Err(bad(format!("rule {r}: a wildcard inside the context it looks at")));
            }
            rewrite.insert(window, id(WINDOW, false)?);
        }
        Ok(rewrite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A five-id window, widened with [`ANY`].
    fn w(five: [i64; 5]) -> [i64; WINDOW] {
        std::array::from_fn(|i| if (2..7).contains(&i) { five[i - 2] } else { ANY })
    }

    #[test]
    fn rewrites_in_context_before_alone_and_keeps_the_length() {
        let mut r = Rewrite::default();
        // 5 becomes 6 anywhere, but stays 5 between 7 and 8; a pad (0) between 5 and 9 becomes 4.
        r.insert(w([ANY, ANY, 5, ANY, ANY]), 6);
        r.insert(w([7, 0, 5, 0, 8]), 5);
        r.insert(w([0, 5, 0, 9, 0]), 4);
        // … but between 3 and 7 before and 8 and the end after, 5 becomes 9.
        r.insert([3, 0, 7, 0, 5, 0, 8, 0, 2], 9);
        let ids = [1, 0, 7, 0, 5, 0, 8, 0, 5, 0, 9, 0, 2];
        assert_eq!(r.apply(&ids), vec![1, 0, 7, 0, 5, 0, 8, 0, 6, 4, 9, 0, 2]);
        let ids = [3, 0, 7, 0, 5, 0, 8, 0, 2];
        assert_eq!(r.apply(&ids), vec![3, 0, 7, 0, 9, 0, 8, 0, 2]);
        assert_eq!(Rewrite::window(&ids, 0), [OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE, 3, 0, 7, 0, 5]);
    }

    #[test]
    fn survives_its_tensor_and_refuses_foreign_ids() {
        let mut r = Rewrite::default();
        r.insert(w([ANY, ANY, 5, ANY, ANY]), 6);
        r.insert(w([OUTSIDE, 1, 5, 0, 8]), 0);
        r.insert([OUTSIDE, OUTSIDE, OUTSIDE, 1, 5, 0, 8, 0, 3], 0);
        let back = Rewrite::from_tensor(&r.to_tensor().unwrap(), 10).unwrap();
        assert_eq!(back, r);
        assert!(Rewrite::from_tensor(&r.to_tensor().unwrap(), 8).is_err(), "id 8 is not in a vocabulary of 8");
        let half = Tensor::from_vec(vec![1f32, 2.0, 2.5, 3.0, 4.0, 5.0, 1.0, 1.0, 1.0, 1.0], (1, 10), &Device::Cpu).unwrap();
        assert!(Rewrite::from_tensor(&half, 10).is_err(), "2.5 is no id");
        let any_middle = Tensor::from_vec(vec![-1f32; 10], (1, 10), &Device::Cpu).unwrap();
        assert!(Rewrite::from_tensor(&any_middle, 10).is_err(), "the rewritten id must be an id");
    }
}
