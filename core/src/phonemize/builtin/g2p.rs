//! Letters → ARPAbet for words not in the dictionary: g2p_en's GRU encoder-decoder
//! (Kyubyong Park, Apache-2.0; `checkpoint20.npz` of the g2p_en 2.1.0 wheel), run with plain
//! loops (a word takes well under a millisecond).
//!
//! Encoder: embedding of each letter (`a`–`z`, then `</s>`) → GRU; decoder: starts from `<s>`
//! with the encoder's last state, greedy argmax, up to 20 phones or `</s>`.

use std::path::Path;

use candle_core::Tensor;

use super::dict::Phone;
use crate::error::{Error, Result};

/// Hidden and embedding size of the checkpoint.
const HIDDEN: usize = 256;
/// Grapheme vocabulary: `<pad>`, `<unk>`, `</s>`, then `a`–`z`.
const GRAPHEMES: usize = 29;
/// Longest output, as in g2p_en.
const MAX_PHONES: usize = 20;
/// Phoneme vocabulary after the 4 specials `<pad>`, `<unk>`, `<s>`, `</s>` (g2p_en's order).
const PHONEMES: [&str; 70] = [
    "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2", "AW0",
    "AW1", "AW2", "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH0", "EH1", "EH2", "ER0", "ER1",
    "ER2", "EY0", "EY1", "EY2", "F", "G", "HH", "IH0", "IH1", "IH2", "IY0", "IY1", "IY2", "JH",
    "K", "L", "M", "N", "NG", "OW0", "OW1", "OW2", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T",
    "TH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
];

/// One GRU layer's weights (PyTorch layout, gates r, z, n).
struct Gru {
    /// (3·HIDDEN, HIDDEN) row-major.
    w_ih: Vec<f32>,
    /// (3·HIDDEN, HIDDEN) row-major.
    w_hh: Vec<f32>,
    /// (3·HIDDEN,)
    b_ih: Vec<f32>,
    /// (3·HIDDEN,)
    b_hh: Vec<f32>,
}

impl Gru {
    /// One step: `h` ← GRU(`x`, `h`), both (HIDDEN,).
    fn step(&self, x: &[f32], h: &mut [f32]) {
        let gi = affine(&self.w_ih, &self.b_ih, x);
        let gh = affine(&self.w_hh, &self.b_hh, h);
        for j in 0..HIDDEN {
            let r = sigmoid(gi[j] + gh[j]);
            let z = sigmoid(gi[HIDDEN + j] + gh[HIDDEN + j]);
            let n = (gi[2 * HIDDEN + j] + r * gh[2 * HIDDEN + j]).tanh();
            h[j] = (1.0 - z) * n + z * h[j];
        }
    }
}

/// `w · x + b` for a row-major `w` of (b.len(), x.len()).
fn affine(w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
    b.iter()
        .zip(w.chunks_exact(x.len()))
        .map(|(b, row)| b + row.iter().zip(x).map(|(w, x)| w * x).sum::<f32>())
        .collect()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The g2p_en model.
pub(super) struct G2p {
    /// (29, HIDDEN)
    enc_emb: Vec<f32>,
    enc: Gru,
    /// (74, HIDDEN)
    dec_emb: Vec<f32>,
    dec: Gru,
    /// (74, HIDDEN)
    fc_w: Vec<f32>,
    /// (74,)
    fc_b: Vec<f32>,
}

impl G2p {
    /// Reads `checkpoint20.npz`.
    ///
    /// # Errors
    /// The file is missing, unreadable, or has an array of another shape than g2p_en 2.1.0's.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::Phonemizer(format!("{}: {reason}", path.display()));
        if !path.is_file() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let arrays = Tensor::read_npz(path).map_err(|e| bad(e.to_string()))?;
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let (_, t) = arrays
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| bad(format!("no array {name}")))?;
            if t.dims() != shape {
                return Err(bad(format!(
                    "{name} has shape {:?}, expected {shape:?}",
                    t.dims()
                )));
            }
            t.flatten_all()
                .and_then(|t| t.to_dtype(candle_core::DType::F32))
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| bad(e.to_string()))
        };
        let gru = |prefix: &str| -> Result<Gru> {
            Ok(Gru {
                w_ih: get(&format!("{prefix}_w_ih"), &[3 * HIDDEN, HIDDEN])?,
                w_hh: get(&format!("{prefix}_w_hh"), &[3 * HIDDEN, HIDDEN])?,
                b_ih: get(&format!("{prefix}_b_ih"), &[3 * HIDDEN])?,
                b_hh: get(&format!("{prefix}_b_hh"), &[3 * HIDDEN])?,
            })
        };
        let outputs = PHONEMES.len() + 4;
        Ok(Self {
            enc_emb: get("enc_emb", &[GRAPHEMES, HIDDEN])?,
            enc: gru("enc")?,
            dec_emb: get("dec_emb", &[outputs, HIDDEN])?,
            dec: gru("dec")?,
            fc_w: get("fc_w", &[outputs, HIDDEN])?,
            fc_b: get("fc_b", &[outputs])?,
        })
    }

    /// ARPAbet phones for `word` (letters other than `a`–`z` count as unknown).
    pub fn predict(&self, word: &str) -> Vec<Phone> {
        let mut h = vec![0.0f32; HIDDEN];
        let ids = word
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ 'a'..='z' => 3 + (c as usize - 'a' as usize),
                _ => 1,
            })
            .chain(std::iter::once(2)); // </s>
        for id in ids {
            self.enc
                .step(&self.enc_emb[id * HIDDEN..(id + 1) * HIDDEN], &mut h);
        }
        let mut prev = 2; // <s>
        let mut phones = Vec::new();
        for _ in 0..MAX_PHONES {
            self.dec
                .step(&self.dec_emb[prev * HIDDEN..(prev + 1) * HIDDEN], &mut h);
            let logits = affine(&self.fc_w, &self.fc_b, &h);
            let best = logits
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                )
                .0;
            if best == 3 {
                break; // </s>
            }
            if let Some(p) = best
                .checked_sub(4)
                .and_then(|i| PHONEMES.get(i))
                .and_then(|p| Phone::parse(p))
            {
                phones.push(p);
            }
            prev = best;
        }
        phones
    }
}
