//! Per-entity speech: the line queue, the line playing (its engine handle and its sound), and
//! the systems that start lines, push α changes to the engine and report how lines end.
//! Nothing here waits: the engine and the mixer are only ever polled.

use std::collections::VecDeque;
use std::sync::Arc;

use bevy::log::warn;
use bevy::prelude::*;
use tvtts_core::engine::{ControlValues, Engine, Event, Request, SpeechHandle};
use tvtts_core::timing::Timings;
use tvtts_core::Say;

use crate::audio::mixer::SpeakerTrack;
use crate::baked::BakedLines;
use crate::audio::{LineSoundData, Playback, SpeechMixer};
use crate::components::{Dialect, Emotion, SpeechMix, StyleRole, StyleSlot, Styles};
use crate::lipsync::{self, LipSync};
use crate::loader::VoicePreset;
use crate::messages::{LineFailed, LineFailure, LineFinished, LineId, LineStarted, SayLine, StyleApplied, WordSpoken};

/// The running engine (shared with the preset loader).
#[derive(Resource, Clone)]
pub struct SpeechEngine(pub Arc<Engine>);

/// The voice an NPC speaks with: a `*.voice.ron` preset. Brings a [`Speech`] (its line queue).
#[derive(Component, Debug, Clone)]
#[require(Speech)]
pub struct Voice(pub Handle<VoicePreset>);

/// What an entity with a [`Voice`] has to say (added with the `Voice`).
#[derive(Component, Default)]
pub struct Speech {
    queue: VecDeque<SayLine>,
    current: Option<CurrentLine>,
    track: Option<SpeakerTrack>,
}

/// The line being spoken. Dropping it (line replaced, entity despawned) stops its sound and
/// cancels its synthesis.
struct CurrentLine {
    id: LineId,
    handle: SpeechHandle,
    playback: Arc<Playback>,
    preset: AssetId<VoicePreset>,
    /// α values last sent to the engine.
    controls: Vec<(String, f32)>,
    /// α values of the last window the engine reported.
    applied: Option<ControlValues>,
    /// The timing track of the sentences synthesized so far.
    timings: Timings,
    /// Words already announced as heard.
    words_spoken: usize,
    started: bool,
    synthesized: bool,
}

impl Drop for CurrentLine {
    fn drop(&mut self) {
        self.playback.stop();
        self.handle.cancel();
    }
}

impl Speech {
    /// The line playing, if any.
    pub fn current_line(&self) -> Option<LineId> {
        self.current.as_ref().map(|c| c.id)
    }

    /// The line playing and how many of its samples (at the voice's rate) have been played.
    pub fn position(&self) -> Option<(LineId, u64)> {
        self.current.as_ref().map(|c| (c.id, c.playback.consumed()))
    }

    /// The line playing and when the mixer took its first sample (`None` before that, or with
    /// no line). [`crate::LineStarted`] comes in the first frame after it.
    pub fn first_audio_at(&self) -> Option<(LineId, std::time::Instant)> {
        let line = self.current.as_ref()?;
        line.playback.first_sample_at().map(|at| (line.id, at))
    }

    /// Underruns of the line playing so far (see [`crate::LineFinished::underruns`]).
    pub fn underruns(&self) -> u64 {
        self.current.as_ref().map_or(0, |c| c.playback.underruns())
    }

    /// Lines waiting behind the current one.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Speaking, or with lines waiting.
    pub fn is_busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    /// Output frames (at `output_rate`) the mixer can render before the current line runs out of
    /// synthesized audio; `None` when nothing can run dry (no line, or all of it synthesized).
    pub fn ready_frames(&self, output_rate: u32) -> Option<u64> {
        let line = self.current.as_ref()?;
        if line.handle.state().is_over() {
            return None;
        }
        let rate = line.handle.sample_rate();
        if rate == 0 {
            return Some(0);
        }
        let buffered = line.handle.samples_computed().saturating_sub(line.playback.consumed());
        // Keep the interpolation window's two samples of look-ahead in hand.
        Some((buffered.saturating_sub(3) * output_rate as u64) / rate as u64)
    }
}

/// A speaker's gain (preset + `SpeechMix`, dB) and panning.
fn track_mix(preset: Option<&VoicePreset>, mix: Option<&SpeechMix>) -> (f32, f32) {
    let mix = mix.copied().unwrap_or_default();
    (preset.map_or(0.0, |p| p.def.volume_db) + mix.volume_db, mix.panning)
}

/// One style an entity's components ask for: the component kind, the style's name, its α, and
/// whether the component changed since the system last ran.
type Asked<'a> = (&'static str, &'a str, f32, bool);

/// What a [`StyleSlot`] asks for.
fn slot<R: StyleRole>(s: Option<Ref<'_, StyleSlot<R>>>) -> Option<Asked<'_>> {
    s.map(|s| {
        let changed = s.is_changed();
        let s = s.into_inner();
        (R::ROLE, s.name.as_str(), s.alpha, changed)
    })
}

/// The styles an entity's `Emotion`, `Dialect` and `Styles` ask for, in that order of precedence.
fn asked<'a>(emotion: Option<Ref<'a, Emotion>>, dialect: Option<Ref<'a, Dialect>>, styles: Option<Ref<'a, Styles>>) -> Vec<Asked<'a>> {
    let mut out: Vec<Asked<'a>> = slot(emotion).into_iter().chain(slot(dialect)).collect();
    if let Some(styles) = styles {
        let changed = styles.is_changed();
        out.extend(styles.into_inner().0.iter().map(|(n, a)| ("Styles", n.as_str(), *a, changed)));
    }
    out
}

/// The α each of the preset's styles gets: the first asked for it, else the preset's default.
fn style_alphas(preset: &VoicePreset, asked: &[Asked<'_>]) -> Vec<(String, f32)> {
    let pick = |name: &str| asked.iter().find(|a| a.1 == name).map(|a| a.2);
    preset.def.styles.iter().map(|(name, s)| (name.clone(), pick(name).unwrap_or(s.alpha))).collect()
}

/// Warns (once per change) about a component naming a style the preset lacks.
fn check_style_names(entity: Entity, preset: &VoicePreset, asked: &[Asked<'_>]) {
    for (what, name, _, changed) in asked {
        if *changed && !preset.def.styles.contains_key(*name) {
            let known: Vec<&String> = preset.def.styles.keys().collect();
            warn!("tvtts: {what} `{name}` of {entity} is not a style of its preset (it has {known:?}); ignored");
        }
    }
}

/// Queues [`SayLine`]s on their entities.
pub(crate) fn queue_lines(
    mut said: MessageReader<SayLine>,
    mut speakers: Query<&mut Speech>,
    mut failed: MessageWriter<LineFailed>,
) {
    for line in said.read() {
        let Ok(mut speech) = speakers.get_mut(line.entity) else {
            let failure = LineFailure::Error(format!("entity {} has no Voice", line.entity));
            failed.write(LineFailed { entity: line.entity, line: line.id, failure });
            continue;
        };
        if line.interrupt {
            if let Some(cut) = speech.current.take() {
                failed.write(LineFailed { entity: line.entity, line: cut.id, failure: LineFailure::Cancelled });
            }
            speech.queue.push_front(line.clone());
        } else {
            speech.queue.push_back(line.clone());
        }
    }
}

/// Starts the next queued line of every idle speaker whose preset is loaded.
pub(crate) fn start_lines(
    mut speakers: Query<(
        Entity,
        &Voice,
        &mut Speech,
        (Option<Ref<Emotion>>, Option<Ref<Dialect>>, Option<Ref<Styles>>),
        Option<&GlobalTransform>,
        Option<&SpeechMix>,
    )>,
    presets: Res<Assets<VoicePreset>>,
    server: Res<AssetServer>,
    engine: Res<SpeechEngine>,
    baked: Option<Res<BakedLines>>,
    mut mixer: ResMut<SpeechMixer>,
    mut failed: MessageWriter<LineFailed>,
) {
    for (entity, voice, mut speech, (emotion, dialect, styles), placed, mix) in &mut speakers {
        if speech.current.is_some() || speech.queue.is_empty() {
            continue;
        }
        let Some(preset) = presets.get(&voice.0) else {
            if let Some(bevy::asset::LoadState::Failed(e)) = server.get_load_state(&voice.0) {
                for line in speech.queue.drain(..) {
                    let failure = LineFailure::Error(format!("its voice preset did not load: {e}"));
                    failed.write(LineFailed { entity, line: line.id, failure });
                }
            }
            continue;
        };
        let Some(line) = speech.queue.pop_front() else { continue };
        let controls = style_alphas(preset, &asked(emotion, dialect, styles));
        let say = baked.as_ref().and_then(|b| b.find(preset, &line.text, &controls)).unwrap_or_else(|| Say::text(line.text.as_str()));
        let mut request = Request::new(&preset.engine_key, say).options(preset.def.options()).priority(line.priority);
        for (name, alpha) in &controls {
            request = request.control(name, *alpha);
        }
        if speech.track.is_none() {
            let (volume_db, panning) = track_mix(Some(preset), mix);
            speech.track = mixer.add_track(placed.map(GlobalTransform::translation), volume_db, panning);
        }
        let Some(track) = &mut speech.track else {
            let failure = LineFailure::Error("no mixer track (the mixer's sub-track capacity is used up)".into());
            failed.write(LineFailed { entity, line: line.id, failure });
            continue;
        };
        let mut handle = engine.0.speak(request);
        let playback = Arc::new(Playback::default());
        let played = match handle.take_reader() {
            Some(mut reader) => {
                // A manual mix renders as much as the engine computed (`ready_frames`), on the
                // caller's thread: its reads may wait for the look-ahead, so none comes up short.
                reader.set_offline(mixer.capture_rate().is_some());
                track.play(LineSoundData { reader, playback: playback.clone() })
            }
            None => Err("the line's audio was already taken".into()),
        };
        if let Err(e) = played {
            failed.write(LineFailed { entity, line: line.id, failure: LineFailure::Error(e) });
            continue;
        }
        let preset = voice.0.id();
        speech.current =
            Some(CurrentLine {
                id: line.id,
                handle,
                playback,
                preset,
                controls,
                applied: None,
                timings: Timings::default(),
                words_spoken: 0,
                started: false,
                synthesized: false,
            });
    }
}

/// Sends α changes (from `Emotion`/`Dialect`/`Styles`, or an edited preset) to the lines in progress.
pub(crate) fn push_controls(
    speakers: Query<(Entity, &mut Speech, Option<Ref<Emotion>>, Option<Ref<Dialect>>, Option<Ref<Styles>>)>,
    presets: Res<Assets<VoicePreset>>,
    mut edited: MessageReader<AssetEvent<VoicePreset>>,
) {
    let edited: Vec<AssetId<VoicePreset>> =
        edited.read().filter_map(|e| if let AssetEvent::Modified { id } = e { Some(*id) } else { None }).collect();
    for (entity, mut speech, emotion, dialect, styles) in speakers {
        let asked = asked(emotion, dialect, styles);
        let changed = asked.iter().any(|a| a.3);
        let Some(line) = speech.current.as_mut() else { continue };
        if !changed && !edited.contains(&line.preset) {
            continue;
        }
        let Some(preset) = presets.get(line.preset) else { continue };
        let controls = style_alphas(preset, &asked);
        check_style_names(entity, preset, &asked);
        for (name, alpha) in &controls {
            if line.controls.iter().any(|(n, a)| n == name && a == alpha) {
                continue;
            }
            // A style the line's preset version lacks, or a NaN α: refused by the engine.
            if let Err(e) = line.handle.set_control(name, *alpha) {
                warn!("tvtts: {entity}: {e}");
            }
        }
        line.controls = controls;
    }
}

/// The messages [`poll_lines`] writes.
#[derive(bevy::ecs::system::SystemParam)]
pub(crate) struct LineMessages<'w> {
    started: MessageWriter<'w, LineStarted>,
    finished: MessageWriter<'w, LineFinished>,
    failed: MessageWriter<'w, LineFailed>,
    applied: MessageWriter<'w, StyleApplied>,
    words: MessageWriter<'w, WordSpoken>,
}

/// Follows every line: engine events, playback progress (words heard, the mouth), the end;
/// keeps tracks placed.
pub(crate) fn poll_lines(
    speakers: Query<(Entity, &mut Speech, Option<&GlobalTransform>, Option<&SpeechMix>, &Voice, Option<&mut LipSync>)>,
    presets: Res<Assets<VoicePreset>>,
    mut out: LineMessages,
) {
    let LineMessages { started, finished, failed, applied, words } = &mut out;
    for (entity, mut speech, placed, mix, voice, lipsync) in speakers {
        let speech = &mut *speech;
        if let Some(track) = &mut speech.track {
            let (volume_db, panning) = track_mix(presets.get(&voice.0), mix);
            track.set_mix(volume_db, panning);
            if let Some(at) = placed {
                track.set_position(at.translation());
            }
        }
        let Some(line) = speech.current.as_mut() else {
            if let Some(mut mouth) = lipsync.filter(|m| **m != LipSync::default()) {
                *mouth = LipSync::default();
            }
            continue;
        };
        let mut failure = None;
        for event in line.handle.events() {
            match event {
                Event::Window { start_sample, controls, .. } if line.applied.as_ref() != Some(&controls) => {
                    let at_sample = start_sample;
                    let values = controls.iter().map(|(n, a)| (n.to_string(), *a)).collect();
                    applied.write(StyleApplied { entity, line: line.id, at_sample, controls: values });
                    line.applied = Some(controls);
                }
                Event::Timings { timings, .. } => line.timings.append(timings),
                Event::Finished { .. } => line.synthesized = true,
                Event::Dropped { .. } => failure = Some(LineFailure::Dropped),
                Event::Failed(e) => failure = Some(LineFailure::Error(e.to_string())),
                Event::Cancelled { .. } => failure = Some(LineFailure::Cancelled),
                _ => {}
            }
        }
        // Words and the mouth follow the sample playing.
        let playing = line.playback.consumed();
        while let Some(w) = line.timings.words.get(line.words_spoken).filter(|w| w.start < playing) {
            words.write(WordSpoken { entity, line: line.id, word: w.item.clone(), index: line.words_spoken });
            line.words_spoken += 1;
        }
        if let Some(mut mouth) = lipsync {
            let half = (lipsync::SMOOTH_HALF_S * line.handle.sample_rate() as f64) as u64;
            mouth.set_if_neq(LipSync::at(&line.timings, playing, half));
        }
        if !line.started && line.playback.consumed() > 0 {
            line.started = true;
            started.write(LineStarted { entity, line: line.id });
        }
        if let Some(failure) = failure {
            failed.write(LineFailed { entity, line: line.id, failure });
            speech.current = None;
        } else if line.synthesized && line.playback.is_finished() {
            let (samples, sample_rate) = (line.handle.samples_written(), line.handle.sample_rate());
            let underruns = line.playback.underruns();
            finished.write(LineFinished { entity, line: line.id, samples, sample_rate, underruns });
            speech.current = None;
        }
    }
}

/// A despawned (or voice-less) speaker's line ends as cancelled; dropping it stops the sound.
pub(crate) fn on_speech_removed(removed: On<Remove, Speech>, speakers: Query<&Speech>, mut failed: MessageWriter<LineFailed>) {
    let entity = removed.entity;
    if let Some(id) = speakers.get(entity).ok().and_then(Speech::current_line) {
        failed.write(LineFailed { entity, line: id, failure: LineFailure::Cancelled });
    }
}
