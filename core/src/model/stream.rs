//! Flow + decoder over windows of one sentence's frames, equal to the whole-sentence output.
//!
//! The text side (encoder, durations, prior) needs the whole sentence, but the flow and decoder
//! are stacks of convolutions: an output frame depends only on a bounded neighbourhood of input
//! frames, its receptive field ([`Flow::receptive_halo`], [`Generator::receptive_halo`]). So a
//! window of output frames `[a, b)` is exact when it is computed from its inputs plus that much
//! context on each side (clipped at the sentence's ends, where the whole-sentence pass zero-pads
//! just the same).
//!
//! Choice of halo: for Piper's medium voices the flow reaches 32 frames each side (4 couplings ×
//! 4 WN layers × 2 frames) and the decoder 12 left / 11 right (mostly its first-stage resblocks,
//! at 8 samples per frame). Both are used in full, so streaming is exact by construction, not
//! by a tolerance; `tests/streaming.rs` checks it, and checks that perturbing a frame changes no
//! output beyond the halo. Recomputing context costs time, so the flow keeps the latent frames it
//! has already produced ([`SentenceStream`] caches `z`) and only the decoder's own halo is
//! recomputed per window; windows start small (first audio fast) and grow (overhead falls): see
//! [`WindowSchedule`].

use candle_core::{Tensor, D};

use super::flow::Flow;
use super::generator::Generator;
use super::Vits;
use crate::error::{Error, Result};

/// Context frames a window needs on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halo {
    /// Flow: each side.
    pub flow: usize,
    /// Decoder: before and after the window.
    pub dec_left: usize,
    pub dec_right: usize,
}

impl Halo {
    /// The receptive fields of `vits`'s flow and decoder.
    pub fn of(vits: &Vits) -> Self {
        let (dec_left, dec_right) = Generator::receptive_halo(&vits.config);
        Halo { flow: Flow::receptive_halo(&vits.config), dec_left, dec_right }
    }
}

/// How many frames each window of a sentence covers: `first`, then each window `growth` times the
/// previous one, at most `max`. A remainder shorter than `first` is merged into the window before
/// it, so no window is a sliver.
///
/// Defaults: 16 frames first (0.19 s of audio at 22.05 kHz: the time to first audio is the text
/// side plus this window), doubling, up to 256 frames (3 s). Each window costs the decoder
/// `dec_left + dec_right` extra frames, so the overhead falls as windows grow; a window `w` is
/// produced while the `≥ w/2` frames before it play, which keeps real time at RTF < 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSchedule {
    pub first: usize,
    pub growth: usize,
    pub max: usize,
}

impl Default for WindowSchedule {
    fn default() -> Self {
        WindowSchedule { first: 16, growth: 2, max: 256 }
    }
}

impl WindowSchedule {
    /// Every window the same size (for tests and batching).
    pub fn fixed(frames: usize) -> Self {
        WindowSchedule { first: frames, growth: 1, max: frames }
    }

    /// Checks that windows are non-empty and the growth does not shrink them.
    pub fn validate(&self) -> Result<()> {
        if self.first == 0 || self.growth == 0 || self.max < self.first {
            return Err(Error::invalid("window schedule", format!("{self:?}: need 0 < first ≤ max and growth ≥ 1")));
        }
        Ok(())
    }

    /// The size of window number `index` (0-based) when `remaining` frames are left.
    pub fn window(&self, index: usize, remaining: usize) -> usize {
        let grown = (0..index).fold(self.first, |w, _| w.saturating_mul(self.growth).min(self.max));
        if remaining.saturating_sub(grown) < self.first {
            remaining
        } else {
            grown
        }
    }
}

/// One sentence's prior frames on their way through flow and decoder, window by window.
#[derive(Debug)]
pub struct SentenceStream {
    /// Prior sample z_p `[1, inter, frames]`.
    z_p: Tensor,
    /// Speaker embedding `[1, gin, 1]`.
    g: Option<Tensor>,
    frames: usize,
    halo: Halo,
    /// Next output frame.
    next: usize,
    /// Windows produced so far.
    windows: usize,
    /// Flow output z `[1, inter, z_end − z_start]` for frames `[z_start, z_end)`.
    z: Option<Tensor>,
    z_start: usize,
    z_end: usize,
}

impl SentenceStream {
    /// Starts streaming the prior frames `z_p` `[1, inter, frames]`.
    pub fn new(vits: &Vits, z_p: Tensor, g: Option<Tensor>) -> Result<Self> {
        let frames = z_p.dim(D::Minus1)?;
        Ok(SentenceStream { z_p, g, frames, halo: Halo::of(vits), next: 0, windows: 0, z: None, z_start: 0, z_end: 0 })
    }

    /// Frames in the sentence.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Frames not yet produced.
    pub fn remaining(&self) -> usize {
        self.frames - self.next
    }

    /// Windows produced so far.
    pub fn windows_done(&self) -> usize {
        self.windows
    }

    /// Produces the next window by `schedule`: audio `[w · hop]` for frames `[next, next + w)`, or
    /// `None` at the end of the sentence.
    pub fn next_window(&mut self, vits: &Vits, schedule: &WindowSchedule) -> Result<Option<Tensor>> {
        if self.remaining() == 0 {
            return Ok(None);
        }
        let w = schedule.window(self.windows, self.remaining());
        self.window(vits, w).map(Some)
    }

    /// Produces audio for the next `w` frames (fewer at the end).
    pub fn window(&mut self, vits: &Vits, w: usize) -> Result<Tensor> {
        let (a, b) = (self.next, (self.next + w.max(1)).min(self.frames));
        let h = self.halo;
        // Decoder input span: the window plus the decoder's halo, clipped to the sentence.
        let (da, db) = (a.saturating_sub(h.dec_left), (b + h.dec_right).min(self.frames));
        self.flow_until(vits, db)?;
        let z = self.z.as_ref().expect("flow_until produced frames");
        let z_in = z.narrow(2, da - self.z_start, db - da)?.contiguous()?;
        let hop = vits.config.hop_length();
        let audio = vits.decode(&z_in, self.g.as_ref())?;
        let audio = audio.narrow(0, (a - da) * hop, (b - a) * hop)?;
        // Frames before the next window's decoder span are no longer needed.
        let keep_from = b.saturating_sub(h.dec_left).max(self.z_start);
        if keep_from > self.z_start {
            let z = self.z.take().expect("checked above");
            self.z = Some(z.narrow(2, keep_from - self.z_start, self.z_end - keep_from)?);
            self.z_start = keep_from;
        }
        self.next = b;
        self.windows += 1;
        Ok(audio)
    }

    /// Extends the cached flow output to frame `end` (exclusive), running the flow on the new
    /// frames plus its halo of prior frames each side.
    fn flow_until(&mut self, vits: &Vits, end: usize) -> Result<()> {
        if end <= self.z_end && self.z.is_some() {
            return Ok(());
        }
        let (a, b) = (self.z_end, end);
        let hf = self.halo.flow;
        let (fa, fb) = (a.saturating_sub(hf), (b + hf).min(self.frames));
        let z_p = self.z_p.narrow(2, fa, fb - fa)?.contiguous()?;
        let new = vits.flow_reverse(&z_p, self.g.as_ref())?.narrow(2, a - fa, b - a)?;
        self.z = Some(match self.z.take() {
            Some(z) => Tensor::cat(&[&z, &new], 2)?,
            None => new,
        });
        self.z_end = b;
        Ok(())
    }
}
