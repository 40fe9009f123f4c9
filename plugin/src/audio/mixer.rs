//! The plugin's own kira `AudioManager`: one sub-track per speaker (spatial when it has a
//! `GlobalTransform`), one listener. Separate from bevy_kira_audio's manager, whose tracks only
//! take static sounds (see the README's "Audio path").

use bevy::log::{error, warn};
use bevy::prelude::*;
use kira::effect::panning_control::{PanningControlBuilder, PanningControlHandle};
use kira::listener::ListenerHandle;
use kira::track::{SpatialTrackBuilder, SpatialTrackHandle, TrackBuilder, TrackHandle};
use kira::{AudioManager, AudioManagerSettings, Decibels, DefaultBackend, Easing, Panning, Tween};

use super::capture::CaptureBackend;
use super::null::NullBackend;
use super::sound::LineSoundData;

/// Where speech is heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AudioOutput {
    /// The default sound card. Without one, a silent real-time output (`NullBackend`), so
    /// lines still play through, end and can underrun as on a device.
    Device,
    /// A silent real-time output (dedicated servers, headless runs that must keep real time).
    Silent,
    /// No sound card: the mix advances only through [`SpeechMixer::render`] (tests, offline renders).
    Manual { sample_rate: u32 },
}

/// How placed speakers are heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpatialSettings {
    /// Full volume up to `min_distance`, silent beyond `max_distance` (world units).
    pub min_distance: f32,
    pub max_distance: f32,
    /// 0 = no left/right panning, 1 = full.
    pub strength: f32,
}

impl Default for SpatialSettings {
    fn default() -> Self {
        SpatialSettings { min_distance: 1.0, max_distance: 50.0, strength: 0.75 }
    }
}

/// Boxed: one resource, held for the app's life; the variants differ a lot in size.
enum Manager {
    Device(Box<AudioManager<DefaultBackend>>),
    Null(Box<AudioManager<NullBackend>>),
    Capture { manager: Box<AudioManager<CaptureBackend>>, rate: u32 },
}

/// Runs `$body` with `$m` bound to whichever `AudioManager` is in use.
macro_rules! with_manager {
    ($self:expr, $m:ident => $body:expr) => {
        match &mut $self.manager {
            Manager::Device($m) => $body,
            Manager::Null($m) => $body,
            Manager::Capture { manager: $m, .. } => $body,
        }
    };
}

/// The speech mixer (a resource).
#[derive(Resource)]
pub struct SpeechMixer {
    manager: Manager,
    listener: Option<ListenerHandle>,
    spatial: SpatialSettings,
}

/// A speaker's track in the mixer. Dropping it removes the track and its sounds.
pub(crate) enum SpeakerTrack {
    Plain { track: TrackHandle, panning: PanningControlHandle },
    Spatial(SpatialTrackHandle),
}

impl SpeechMixer {
    /// Opens `output` (falling back to a silent real-time output when there is no sound card).
    pub fn new(output: AudioOutput, spatial: SpatialSettings) -> Self {
        let capture = |sample_rate: u32| {
            let rate = sample_rate.max(1);
            let settings = AudioManagerSettings { backend_settings: rate, ..Default::default() };
            match AudioManager::<CaptureBackend>::new(settings) {
                Ok(manager) => Manager::Capture { manager: Box::new(manager), rate },
                Err(never) => match never {},
            }
        };
        let silent = || {
            let settings = AudioManagerSettings { backend_settings: 48_000, ..Default::default() };
            match AudioManager::<NullBackend>::new(settings) {
                Ok(m) => Manager::Null(Box::new(m)),
                Err(e) => {
                    error!("tvtts: cannot start the silent output thread ({e}); speech will not advance");
                    capture(48_000)
                }
            }
        };
        let manager = match output {
            AudioOutput::Manual { sample_rate } => capture(sample_rate),
            AudioOutput::Silent => silent(),
            AudioOutput::Device => match AudioManager::<DefaultBackend>::new(AudioManagerSettings::default()) {
                Ok(m) => Manager::Device(Box::new(m)),
                Err(e) => {
                    warn!("tvtts: no audio device ({e}); speech plays to a silent output");
                    silent()
                }
            },
        };
        let mut mixer = SpeechMixer { manager, listener: None, spatial };
        let listener = with_manager!(mixer, m => m.add_listener([0.0f32; 3], [0.0f32, 0.0, 0.0, 1.0]));
        mixer.listener = listener.map_err(|e| warn!("tvtts: no listener ({e}); placed speakers are silent")).ok();
        mixer
    }

    /// True when a sound card plays the mix.
    pub fn is_device(&self) -> bool {
        matches!(self.manager, Manager::Device(_))
    }

    /// The output sample rate of an [`AudioOutput::Manual`] mix (`None` otherwise).
    pub fn capture_rate(&self) -> Option<u32> {
        match &self.manager {
            Manager::Capture { rate, .. } => Some(*rate),
            _ => None,
        }
    }

    /// Renders the next `frames` frames of a [`AudioOutput::Manual`] mix (interleaved stereo);
    /// `None` when a (real or silent) device plays it.
    pub fn render(&mut self, frames: usize) -> Option<&[f32]> {
        match &mut self.manager {
            Manager::Capture { manager, .. } => Some(manager.backend_mut().render(frames)),
            _ => None,
        }
    }

    /// Moves the listener's ears.
    pub(crate) fn set_listener(&mut self, at: &GlobalTransform) {
        if let Some(l) = &mut self.listener {
            l.set_position(at.translation().to_array(), Tween::default());
            l.set_orientation(at.rotation().to_array(), Tween::default());
        }
    }

    /// A new track for a speaker at `volume_db`: spatial at `position` when given, plain (at
    /// `panning`) otherwise.
    pub(crate) fn add_track(&mut self, position: Option<Vec3>, volume_db: f32, panning: f32) -> Option<SpeakerTrack> {
        let s = self.spatial;
        let added = match (position, &self.listener) {
            (Some(p), Some(listener)) => {
                let id = listener.id();
                let builder = SpatialTrackBuilder::new()
                    .volume(Decibels(volume_db))
                    .distances((s.min_distance, s.max_distance))
                    .attenuation_function(Some(Easing::Linear))
                    .spatialization_strength(s.strength);
                with_manager!(self, m => m.add_spatial_sub_track(id, p.to_array(), builder)).map(SpeakerTrack::Spatial)
            }
            _ => {
                let mut builder = TrackBuilder::new().volume(Decibels(volume_db));
                let panning = builder.add_effect(PanningControlBuilder(Panning(panning.clamp(-1.0, 1.0)).into()));
                with_manager!(self, m => m.add_sub_track(builder)).map(|track| SpeakerTrack::Plain { track, panning })
            }
        };
        added.map_err(|e| warn!("tvtts: mixer full ({e}); a speaker is silent")).ok()
    }
}

impl SpeakerTrack {
    /// Starts a line's sound on this track (an error when the track holds too many sounds).
    pub(crate) fn play(&mut self, sound: LineSoundData) -> Result<(), String> {
        let played = match self {
            SpeakerTrack::Plain { track, .. } => track.play(sound).map(drop),
            SpeakerTrack::Spatial(track) => track.play(sound).map(drop),
        };
        played.map_err(|e| format!("the mixer refused the line's sound: {e}"))
    }

    /// Gain in dB, and panning (−1…1, plain tracks only).
    pub(crate) fn set_mix(&mut self, volume_db: f32, panning: f32) {
        let volume = Decibels(volume_db);
        match self {
            SpeakerTrack::Plain { track, panning: p } => {
                track.set_volume(volume, Tween::default());
                p.set_panning(Panning(panning.clamp(-1.0, 1.0)), Tween::default());
            }
            SpeakerTrack::Spatial(track) => track.set_volume(volume, Tween::default()),
        }
    }

    /// Moves a spatial track (plain ones ignore it).
    pub(crate) fn set_position(&mut self, at: Vec3) {
        if let SpeakerTrack::Spatial(track) = self {
            track.set_position(at.to_array(), Tween::default());
        }
    }
}
