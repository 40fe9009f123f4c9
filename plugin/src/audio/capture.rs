//! A kira backend with no sound card: the mix is rendered when asked (tests, offline
//! rendering), or in real time and discarded when the game has no audio device.

use std::sync::Mutex;

use kira::backend::{Backend, Renderer};

/// Renders kira's mix on demand into interleaved stereo `f32`.
pub struct CaptureBackend {
    /// In a `Mutex` only to make the backend `Sync` (a Bevy resource holds it); rendering
    /// takes `&mut self`, so the lock is never contended (`get_mut`).
    renderer: Mutex<Option<Renderer>>,
    buffer: Vec<f32>,
}

impl Backend for CaptureBackend {
    /// The output sample rate.
    type Settings = u32;
    type Error = std::convert::Infallible;

    fn setup(sample_rate: u32, _internal_buffer_size: usize) -> Result<(Self, u32), Self::Error> {
        Ok((CaptureBackend { renderer: Mutex::new(None), buffer: Vec::new() }, sample_rate))
    }

    fn start(&mut self, renderer: Renderer) -> Result<(), Self::Error> {
        *self.renderer.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(renderer);
        Ok(())
    }
}

impl CaptureBackend {
    /// The next `frames` frames of the mix, interleaved left/right.
    pub fn render(&mut self, frames: usize) -> &[f32] {
        self.buffer.clear();
        self.buffer.resize(frames * 2, 0.0);
        if let Some(r) = self.renderer.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner) {
            r.on_start_processing();
            r.process(&mut self.buffer, 2);
        }
        &self.buffer
    }
}
