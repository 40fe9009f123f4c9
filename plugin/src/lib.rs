//! Bevy plugin for tvtts: NPCs speak with neural voices whose style is steered live.
//!
//! ```ignore
//! app.add_plugins((DefaultPlugins, TvTtsPlugin::default()));
//! let guard = commands.spawn((
//!     Voice(assets.load("voices/guard.voice.ron")),
//!     Emotion::new("excited", 0.0),
//!     Transform::from_xyz(3.0, 0.0, 0.0),
//! )).id();
//! say.write(SayLine::new(guard, "Halt! Who goes there?"));
//! // later, from any system: emotion.alpha = 2.0 — the rest of the line follows.
//! ```
//!
//! Synthesis runs on the `tvtts-core` engine's worker threads; its PCM streams through lock-free
//! ring buffers into this plugin's own kira mixer (see `audio/`). Systems only poll: a frame
//! never waits for synthesis. Add the plugin after Bevy's `AssetPlugin` (or `DefaultPlugins`).

// Bevy queries are tuples of component references; naming each would not make them clearer.
#![allow(clippy::type_complexity)]

pub mod audio;
pub mod baked;
pub mod components;
pub mod lipsync;
pub mod loader;
pub mod messages;
pub mod offline;
pub mod palette;
pub mod preset;
pub mod speech;

use std::collections::HashMap;
use std::sync::Arc;

use bevy::log::error;
use bevy::prelude::*;
use bevy::transform::TransformSystems;
use crossbeam_channel::Receiver;
use tvtts_core::engine::{Engine, EngineConfig};
use tvtts_core::model::stream::WindowSchedule;

pub use audio::{AudioOutput, SpatialSettings, SpeechMixer};
pub use components::{Dialect, DialectRole, Emotion, EmotionRole, SpeechListener, SpeechMix, StyleRole, StyleSlot, Styles};
pub use loader::{VoicePreset, VoicePresetLoader};
pub use offline::{render_line, render_ready};
pub use lipsync::LipSync;
pub use messages::{LineFailed, LineFailure, LineFinished, LineId, LineStarted, PresetError, SayLine, StyleApplied, WordSpoken};
pub use preset::PresetDef;
pub use speech::{Speech, SpeechEngine, Voice};
pub use tvtts_core as core;

/// Everything a game needs in one import.
pub mod prelude {
    pub use crate::{
        AudioOutput, Dialect, Emotion, LineFailed, LineFailure, LineFinished, LineStarted, PresetError, SayLine, SpeechListener,
        LipSync, SpeechMix, StyleApplied, Styles, TvTtsPlugin, Voice, VoicePreset, WordSpoken,
    };
    pub use tvtts_core::engine::Priority;
}

/// The plugin. Its fields choose the engine (device, workers, buffering), the audio output and
/// how placed speakers sound.
pub struct TvTtsPlugin {
    /// Device, worker threads, queue limits, look-ahead (`ahead_samples`: how far synthesis
    /// runs ahead of the listener; an α change recomputes what was not yet played, so it does
    /// not delay the change).
    pub engine: EngineConfig,
    pub output: AudioOutput,
    pub spatial: SpatialSettings,
    /// A `tvtts bake` folder: a line whose key is baked there (same preset files, text, α and
    /// loudness target) plays its file and timing track instead of being synthesized.
    pub baked: Option<std::path::PathBuf>,
}

/// Nice value of the plugin's synthesis workers (Linux). At 8 NPCs talking on 2 cores the game's
/// main-thread p99 frame time was 3.4–4.4 ms with the workers at the game's priority and
/// 0.5–2.1 ms at nice 10 (2-core Xeon VM, `speech_load`, alternated runs). The price: while the
/// game's own threads keep every core busy, speech gets about a tenth of a contended core and
/// underruns; `TvTtsPlugin::engine.worker_nice = 0` shares the cores evenly instead.
pub const GAME_FIRST_NICE: i32 = 10;

impl Default for TvTtsPlugin {
    /// CPU, one worker per physical core, the default sound card, and buffering tuned for live
    /// α (see [`TvTtsPlugin::responsive`]).
    fn default() -> Self {
        let engine = TvTtsPlugin::responsive(EngineConfig::default());
        TvTtsPlugin { engine, output: AudioOutput::Device, spatial: SpatialSettings::default(), baked: None }
    }
}

impl TvTtsPlugin {
    /// `engine` with ≈ 0.74 s of look-ahead and windows of at most 64 frames (≈ 0.74 s): enough
    /// ahead that many voices on few cores do not underrun, little enough that an α change
    /// (which recomputes the look-ahead) does not waste much synthesis, and short steps, so a
    /// worker soon turns to a speaker whose α changed. How late the change is heard depends on
    /// the ring buffer (`ring_samples`) and those steps, not on the look-ahead (measured by
    /// `examples/speech_load.rs`; see the README). The synthesis workers run at nice
    /// [`GAME_FIRST_NICE`], so the game's threads come first when both want every core.
    pub fn responsive(engine: EngineConfig) -> EngineConfig {
        let windows = WindowSchedule { max: 64, ..engine.windows };
        EngineConfig { ahead_samples: 16_384, windows, worker_nice: GAME_FIRST_NICE, ..engine }
    }

    /// The same on `device` (`"cpu"`, `"cuda"`, `"cuda:N"`; CUDA needs the `cuda` feature).
    pub fn on_device(device: &str) -> tvtts_core::Result<Self> {
        let engine = TvTtsPlugin::responsive(EngineConfig::for_device(tvtts_core::device::parse(device)?));
        Ok(TvTtsPlugin { engine, ..TvTtsPlugin::default() })
    }

    /// With `workers` synthesis threads.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.engine.workers = workers;
        self
    }

    /// With this audio output.
    pub fn with_output(mut self, output: AudioOutput) -> Self {
        self.output = output;
        self
    }

    /// Playing the lines baked in `dir` (`tvtts bake`) instead of synthesizing them.
    pub fn with_baked(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.baked = Some(dir.into());
        self
    }
}

/// Preset problems found by the loader, on their way to [`PresetError`] messages.
#[derive(Resource)]
struct PresetErrors(Receiver<PresetError>);

/// The engine voice each loaded preset version registered, to forget replaced versions.
#[derive(Resource, Default)]
struct EngineVoices(HashMap<AssetId<VoicePreset>, String>);

/// System sets, in the order they run in `PostUpdate` (after transforms propagate).
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpeechSystems {
    /// Presets: errors, replaced versions.
    Presets,
    /// Lines: queue, start, α, progress.
    Lines,
    /// Listener placement.
    Mixer,
}

impl Plugin for TvTtsPlugin {
    fn build(&self, app: &mut App) {
        let engine = match Engine::new(self.engine.clone()) {
            Ok(e) => Arc::new(e),
            Err(e) => {
                error!("tvtts: the speech engine did not start ({e}); speech is off");
                return;
            }
        };
        if let Some(dir) = &self.baked {
            match baked::BakedLines::load(dir) {
                Ok(b) => {
                    app.insert_resource(b);
                }
                Err(e) => error!("tvtts: baked lines not used: {e}"),
            }
        }
        let (errors_tx, errors_rx) = crossbeam_channel::unbounded();
        app.init_asset::<VoicePreset>()
            .register_asset_loader(VoicePresetLoader::new(engine.clone(), errors_tx))
            .insert_resource(SpeechEngine(engine))
            .insert_resource(PresetErrors(errors_rx))
            .init_resource::<EngineVoices>()
            .insert_resource(SpeechMixer::new(self.output, self.spatial))
            .add_message::<SayLine>()
            .add_message::<LineStarted>()
            .add_message::<LineFinished>()
            .add_message::<LineFailed>()
            .add_message::<StyleApplied>()
            .add_message::<WordSpoken>()
            .add_message::<PresetError>()
            .configure_sets(
                PostUpdate,
                (SpeechSystems::Presets, SpeechSystems::Lines, SpeechSystems::Mixer).chain().after(TransformSystems::Propagate),
            )
            .add_systems(PostUpdate, (report_preset_errors, forget_replaced_presets).in_set(SpeechSystems::Presets))
            .add_systems(
                PostUpdate,
                (speech::queue_lines, speech::poll_lines, speech::start_lines, speech::push_controls).chain().in_set(SpeechSystems::Lines),
            )
            .add_systems(PostUpdate, place_listener.in_set(SpeechSystems::Mixer))
            .add_observer(speech::on_speech_removed);
    }
}

/// Sends the loader's errors as messages, once per distinct error: a file watcher often reports
/// one save as several changes, and each reload fails the same way. A good load clears it.
fn report_preset_errors(
    errors: Res<PresetErrors>,
    mut loaded: MessageReader<AssetEvent<VoicePreset>>,
    server: Res<AssetServer>,
    mut last: Local<HashMap<String, PresetError>>,
    mut out: MessageWriter<PresetError>,
) {
    for event in loaded.read() {
        if let AssetEvent::Added { id } | AssetEvent::Modified { id } = event {
            if let Some(path) = server.get_path(*id) {
                last.remove(&path.to_string());
            }
        }
    }
    for e in errors.0.try_iter() {
        if last.get(&e.path) != Some(&e) {
            last.insert(e.path.clone(), e.clone());
            out.write(e);
        }
    }
}

fn forget_replaced_presets(
    mut events: MessageReader<AssetEvent<VoicePreset>>,
    presets: Res<Assets<VoicePreset>>,
    engine: Res<SpeechEngine>,
    mut registered: ResMut<EngineVoices>,
) {
    for event in events.read() {
        match event {
            AssetEvent::Added { id } | AssetEvent::Modified { id } => {
                let Some(preset) = presets.get(*id) else { continue };
                if let Some(old) = registered.0.insert(*id, preset.engine_key.clone()).filter(|old| *old != preset.engine_key) {
                    engine.0.remove_voice(&old);
                }
            }
            AssetEvent::Removed { id } => {
                if let Some(old) = registered.0.remove(id) {
                    engine.0.remove_voice(&old);
                }
            }
            _ => {}
        }
    }
}

fn place_listener(listener: Query<&GlobalTransform, With<SpeechListener>>, mut mixer: ResMut<SpeechMixer>) {
    if let Some(at) = listener.iter().next() {
        mixer.set_listener(at);
    }
}
