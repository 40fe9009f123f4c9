//! Offline rendering through the plugin (tests, baking lines to files): with an
//! [`AudioOutput::Manual`](crate::AudioOutput) mix, render only as much as every playing line
//! has synthesized, so the result has no underruns however slow synthesis is.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use crate::audio::SpeechMixer;
use crate::messages::{LineFailed, LineFailure, LineFinished, SayLine};
use crate::speech::Speech;

/// Renders up to `max_frames` of a manual mix, as many as every playing line has audio for.
/// Returns interleaved stereo (empty when nothing is ready, or the mix is not manual).
pub fn render_ready(world: &mut World, max_frames: usize) -> Vec<f32> {
    let Some(rate) = world.get_resource::<SpeechMixer>().and_then(SpeechMixer::capture_rate) else {
        return Vec::new();
    };
    let mut speakers = world.query::<&Speech>();
    let ready = speakers.iter(world).filter_map(|s| s.ready_frames(rate)).min().unwrap_or(u64::MAX);
    let frames = ready.min(max_frames as u64) as usize;
    world.resource_mut::<SpeechMixer>().render(frames).map(<[f32]>::to_vec).unwrap_or_default()
}

/// Says `line` and steps `app` (rendering its manual mix) until the line ends, calling
/// `during(app, frames_rendered_so_far)` after each step. Returns the mix from the line's first
/// sample until its end was seen (it may end in silence), and the end message.
pub fn render_line(
    app: &mut App,
    line: SayLine,
    timeout: Duration,
    mut during: impl FnMut(&mut App, usize),
) -> Result<(Vec<f32>, LineFinished), LineFailure> {
    let id = line.id;
    let mut finished = app.world().resource::<Messages<LineFinished>>().get_cursor_current();
    let mut failed = app.world().resource::<Messages<LineFailed>>().get_cursor_current();
    app.world_mut().write_message(line);
    let (mut mix, t0) = (Vec::new(), Instant::now());
    loop {
        if t0.elapsed() > timeout {
            return Err(LineFailure::Error(format!("not finished after {timeout:?}")));
        }
        app.update();
        let world = app.world();
        if let Some(f) = failed.read(world.resource::<Messages<LineFailed>>()).find(|f| f.line == id) {
            return Err(f.failure.clone());
        }
        if let Some(done) = finished.read(world.resource::<Messages<LineFinished>>()).find(|f| f.line == id) {
            return Ok((mix, done.clone()));
        }
        let block = render_ready(app.world_mut(), 2048);
        if block.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        mix.extend_from_slice(&block);
        during(app, mix.len() / 2);
    }
}
