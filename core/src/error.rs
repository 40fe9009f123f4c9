//! The one error type of `tvtts-core`. Every boundary (files, text, settings) returns it.

use std::path::PathBuf;

/// Everything that can go wrong in the engine, with the file or input that caused it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written. The cause is in the message, not in `source()`
    /// (nor is the model's in [`Error::Model`]), so a chain printed with `{:#}` names it once.
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    /// A voice file (`.onnx`, `.onnx.json`, cached weights) is corrupt, truncated or not a Piper voice.
    #[error("{path}: not a usable Piper voice: {reason}")]
    BadVoice { path: PathBuf, reason: String },
    /// A setting or argument is out of its domain (NaN scale, unknown speaker, …).
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// A line's markup is malformed or uses a tag or attribute the engine does not know (line and
    /// column are 1-based, in the line's text).
    #[error("markup, line {line}, column {column}: {reason}")]
    Markup { line: usize, column: usize, reason: String },
    /// A lexicon file has a bad entry.
    #[error("{path}:{line}: {reason}")]
    Lexicon { path: PathBuf, line: usize, reason: String },
    /// The phonemizer failed (espeak-ng missing data, bad voice name, …).
    #[error("phonemizer: {0}")]
    Phonemizer(String),
    /// A tensor operation failed inside the model.
    #[error("model: {0}")]
    Model(candle_core::Error),
    /// A request panicked inside the engine; the engine goes on serving the others.
    #[error("request panicked: {0}")]
    Panicked(String),
    /// The consumer of a request's audio read nothing for this long while the buffer was full.
    #[error("nobody read the audio for {0:.1} s: request dropped")]
    Stalled(f64),
    /// Waiting for a request to end took longer than the caller allowed.
    #[error("the request did not end within {0:?}")]
    TimedOut(std::time::Duration),
    /// The engine was shut down before the request ended.
    #[error("the engine was shut down")]
    ShutDown,
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Model(e)
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A [`Error::BadVoice`] for `path`.
    pub fn bad_voice(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::BadVoice { path: path.into(), reason: reason.into() }
    }
    /// An [`Error::Invalid`] for the setting `what`.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid { what, reason: reason.into() }
    }
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Error::Io { path: path.into(), cause }
    }
}
