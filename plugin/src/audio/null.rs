//! A stand-in sound card for machines without one: a thread renders the mix in real time and
//! discards it, so lines play through, end and can underrun exactly as on a device.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kira::backend::{Backend, Renderer};

/// Frames per callback of the simulated device (≈ 10.7 ms at 48 kHz).
const PERIOD: usize = 512;

/// Renders kira's mix in real time on its own thread and drops it.
pub struct NullBackend {
    sample_rate: u32,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Backend for NullBackend {
    /// The simulated output sample rate.
    type Settings = u32;
    type Error = std::io::Error;

    fn setup(sample_rate: u32, _internal_buffer_size: usize) -> Result<(Self, u32), Self::Error> {
        Ok((NullBackend { sample_rate, running: Arc::new(AtomicBool::new(true)), thread: None }, sample_rate))
    }

    fn start(&mut self, mut renderer: Renderer) -> Result<(), Self::Error> {
        let (running, rate) = (self.running.clone(), self.sample_rate);
        let thread = std::thread::Builder::new().name("tvtts-null-audio".into()).spawn(move || {
            let mut buffer = vec![0.0f32; PERIOD * 2];
            let period = Duration::from_secs_f64(PERIOD as f64 / rate as f64);
            let mut next = Instant::now();
            while running.load(Ordering::Relaxed) {
                renderer.on_start_processing();
                renderer.process(&mut buffer, 2);
                next += period;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })?;
        self.thread = Some(thread);
        Ok(())
    }
}

impl Drop for NullBackend {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
