//! A training set in the layout TTS practitioners use (LJSpeech, Piper training):
//! `DIR/metadata.csv` with `id|transcript` lines (LJSpeech's third column, the normalised
//! transcript, is taken when present) and `DIR/wavs/<id>.wav`, any sample rate, mono or
//! stereo. Audio is downmixed and resampled to the voice's rate on reading.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::prosody::{measure, Prosody};
use crate::error::{Error, Result};
use crate::line::pitch::resample;

/// Fewest lines a vector is learned from: below this, one odd line moves the result.
pub const MIN_LINES: usize = 10;
/// Lowest sample rate accepted: 8 kHz telephone audio lacks half of what the voice makes.
pub const MIN_SAMPLE_RATE: u32 = 16_000;
/// Share of samples at full scale above which a recording counts as clipped.
const CLIPPED_SHARE: f32 = 0.001;
/// Shortest and quietest speech accepted (seconds, dB re full scale).
const MIN_SECONDS: f32 = 0.3;
const MIN_LEVEL_DB: f32 = -60.0;

/// One recorded line.
#[derive(Debug, Clone)]
pub struct Recording {
    pub id: String,
    pub transcript: String,
    /// Line number in `metadata.csv` (1-based).
    pub line: usize,
    pub wav: PathBuf,
    /// Mono audio at the voice's sample rate.
    pub audio: Vec<f32>,
    pub prosody: Prosody,
}

/// A loaded training set and what was odd about it.
#[derive(Debug, Clone)]
pub struct DataSet {
    pub dir: PathBuf,
    pub recordings: Vec<Recording>,
    /// Problems that do not stop learning (clipping, …), each naming its file.
    pub warnings: Vec<String>,
}

/// An error about the training data at `path` (and `line` of it, when known).
fn bad(path: &Path, line: Option<usize>, reason: impl std::fmt::Display) -> Error {
    let at = match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    Error::invalid("training data", format!("{at}: {reason}"))
}

impl DataSet {
    /// Reads `dir` for a voice speaking at `sample_rate`. Every problem names the file and line.
    pub fn load(dir: impl AsRef<Path>, sample_rate: u32) -> Result<Self> {
        let dir = dir.as_ref();
        let meta = dir.join("metadata.csv");
        if !dir.is_dir() {
            return Err(bad(dir, None, "not a directory (want DIR/metadata.csv and DIR/wavs/<id>.wav)"));
        }
        let text = std::fs::read_to_string(&meta).map_err(|e| bad(&meta, None, format!("cannot read: {e} (want `id|transcript` lines)")))?;
        let mut seen = HashSet::new();
        let mut recordings = Vec::new();
        let mut warnings = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let row = raw.trim_end_matches('\r');
            if row.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = row.split('|').collect();
            if fields.len() < 2 {
                return Err(bad(&meta, Some(n), format!("`{}` has no `|` (want `id|transcript`)", clip(row))));
            }
            let id = fields[0].trim();
            let transcript = fields[1..].iter().rev().map(|f| f.trim()).find(|f| !f.is_empty()).unwrap_or("");
            if id.is_empty() || id.contains(['/', '\\']) || id == ".." {
                return Err(bad(&meta, Some(n), format!("`{id}` is not a file name")));
            }
            if transcript.is_empty() {
                return Err(bad(&meta, Some(n), format!("`{id}` has an empty transcript")));
            }
            if !seen.insert(id.to_string()) {
                return Err(bad(&meta, Some(n), format!("id `{id}` appears twice")));
            }
            let wav = dir.join("wavs").join(format!("{id}.wav"));
            let audio = read_wav(&wav, sample_rate).map_err(|why| bad(&wav, None, format!("{why} (metadata.csv line {n})")))?;
            let clipped = audio.iter().filter(|v| v.abs() >= 0.999).count() as f32 / audio.len().max(1) as f32;
            if clipped > CLIPPED_SHARE {
                warnings.push(format!("{}: {:.2}% of samples at full scale (clipped): its level and timbre are distorted", wav.display(), 100.0 * clipped));
            }
            let prosody = measure(&audio, sample_rate);
            if prosody.level_db < MIN_LEVEL_DB || prosody.voiced == 0 || prosody.duration_s < MIN_SECONDS {
                return Err(bad(
                    &wav,
                    None,
                    format!("no speech found (level {:.0} dB, {} voiced frames, {:.2} s; metadata.csv line {n})", prosody.level_db, prosody.voiced, prosody.duration_s),
                ));
            }
            recordings.push(Recording { id: id.to_string(), transcript: transcript.to_string(), line: n, wav, audio, prosody });
        }
        if recordings.len() < MIN_LINES {
            return Err(bad(&meta, None, format!("{} lines: at least {MIN_LINES} are needed to learn a style", recordings.len())));
        }
        Ok(DataSet { dir: dir.to_path_buf(), recordings, warnings })
    }

    /// Seconds of audio in all.
    pub fn seconds(&self, sample_rate: u32) -> f32 {
        self.recordings.iter().map(|r| r.audio.len()).sum::<usize>() as f32 / sample_rate as f32
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A WAV file as mono f32 at `sample_rate`; the error says why not.
fn read_wav(path: &Path, sample_rate: u32) -> std::result::Result<Vec<f32>, String> {
    let mut r = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) if e.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
        e => format!("not a readable WAV: {e}"),
    })?;
    let spec = r.spec();
    if spec.sample_rate < MIN_SAMPLE_RATE {
        return Err(format!("{} Hz: too narrow-band to learn from (record at {} Hz or more)", spec.sample_rate, MIN_SAMPLE_RATE));
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().collect::<std::result::Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<std::result::Result<_, _>>()
        }
    }
    .map_err(|e| format!("not a readable WAV: {e}"))?;
    let ch = spec.channels.max(1) as usize;
    let mono: Vec<f32> = samples.chunks_exact(ch).map(|c| c.iter().sum::<f32>() / ch as f32).collect();
    if mono.iter().any(|v| !v.is_finite()) {
        return Err("holds NaN or infinite samples".into());
    }
    Ok(if spec.sample_rate == sample_rate { mono } else { resample(&mono, spec.sample_rate as f64 / sample_rate as f64) })
}
