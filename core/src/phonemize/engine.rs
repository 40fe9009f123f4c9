//! The process's one espeak-ng engine. espeak-ng keeps global state and is not thread-safe:
//! it is initialised once, used only under one lock, and its voice is switched when a
//! phonemizer needs another one.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::ffi;
use crate::error::{Error, Result};

/// The state of the engine. Holding `&mut Engine` means holding its lock: only then may
/// espeak-ng be called.
pub(super) struct Engine {
    initialized: bool,
    /// The data directory espeak-ng reads (as it reports it, canonicalised), once initialised.
    data_dir: Option<PathBuf>,
    /// The voice espeak-ng has selected, if known.
    voice: Option<String>,
}

static ENGINE: Mutex<Engine> = Mutex::new(Engine {
    initialized: false,
    data_dir: None,
    voice: None,
});

/// Locks the engine. A panic elsewhere while it was held leaves it usable.
pub(super) fn lock() -> MutexGuard<'static, Engine> {
    ENGINE.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// Initialises espeak-ng (synchronous, no audio output) unless done already. `data_dir` is an
    /// `espeak-ng-data` directory or one holding it; `None` takes espeak-ng's choice (the
    /// directory named by `ESPEAK_DATA_PATH`, else the installed data). espeak-ng reads one data
    /// directory per process: asking for another one once initialised is an error.
    pub(super) fn init(&mut self, data_dir: Option<&Path>) -> Result<()> {
        let wanted = data_dir.map(resolve_data_dir).transpose()?;
        if self.initialized {
            return match (&wanted, &self.data_dir) {
                (Some(wanted), current) if current.as_ref() != Some(wanted) => Err(Error::Phonemizer(format!(
                    "espeak-ng already reads its data from {current:?}, not {wanted:?} (one data directory per process)"
                ))),
                _ => Ok(()),
            };
        }
        let path = wanted
            .as_ref()
            .map(|p| {
                p.to_str()
                    .and_then(|s| CString::new(s).ok())
                    .ok_or_else(|| Error::Phonemizer(format!("unusable espeak-ng data path {p:?}")))
            })
            .transpose()?;
        // SAFETY: `path` is null or a NUL-terminated path; we hold the engine lock.
        let rate = unsafe {
            ffi::espeak_Initialize(
                ffi::AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                ffi::INITIALIZE_DONT_EXIT,
            )
        };
        if rate < 0 {
            return Err(Error::Phonemizer(format!(
                "espeak-ng could not be initialised with data from {}: is espeak-ng-data installed?",
                wanted.as_ref().map_or("its default place (or ESPEAK_DATA_PATH)".into(), |p| format!("{p:?}"))
            )));
        }
        self.initialized = true;
        self.voice = None;
        let (version, reported) = info();
        self.data_dir = reported.map(|p| p.canonicalize().unwrap_or(p));
        log::info!("espeak-ng {version}, data from {:?}", self.data_dir);
        match wanted {
            Some(wanted) if self.data_dir.as_ref() != Some(&wanted) => {
                Err(Error::Phonemizer(format!(
                    "espeak-ng took its data from {:?}, not {wanted:?}",
                    self.data_dir
                )))
            }
            _ => Ok(()),
        }
    }

    /// Selects `voice` (by name, as `espeak_SetVoiceByName`) unless it is selected already.
    /// The engine must be initialised.
    pub(super) fn select_voice(&mut self, voice: &str) -> Result<()> {
        if !self.initialized {
            return Err(Error::Phonemizer("espeak-ng is not initialised".into()));
        }
        if self.voice.as_deref() == Some(voice) {
            return Ok(());
        }
        let name = CString::new(voice)
            .map_err(|_| Error::Phonemizer(format!("invalid espeak-ng voice name {voice:?}")))?;
        // SAFETY: `name` is NUL-terminated and short (checked by `EspeakPhonemizer`); we hold
        // the engine lock.
        let rc = unsafe { ffi::espeak_SetVoiceByName(name.as_ptr()) };
        if rc != ffi::EE_OK {
            self.voice = None; // a failed switch may have left espeak-ng in between voices
            return Err(Error::Phonemizer(format!(
                "espeak-ng has no voice {voice:?} (error {rc})"
            )));
        }
        self.voice = Some(voice.to_owned());
        Ok(())
    }
}

/// The canonical `espeak-ng-data` directory for `dir` (it, or its `espeak-ng-data`).
fn resolve_data_dir(dir: &Path) -> Result<PathBuf> {
    let nested = dir.join("espeak-ng-data");
    let data = if nested.join("phontab").is_file() {
        nested
    } else {
        dir.to_path_buf()
    };
    if !data.join("phontab").is_file() {
        return Err(Error::Phonemizer(format!(
            "no espeak-ng data (phontab) in {dir:?}"
        )));
    }
    data.canonicalize()
        .map_err(|e| Error::Phonemizer(format!("espeak-ng data {data:?}: {e}")))
}

/// espeak-ng's version and the data directory it uses. The engine must be initialised.
fn info() -> (String, Option<PathBuf>) {
    let mut path = std::ptr::null();
    // SAFETY: espeak_Info returns static strings and stores a pointer to its static data path.
    let version = unsafe { ffi::espeak_Info(&mut path) };
    let text = |p: *const std::ffi::c_char| {
        // SAFETY: non-null pointers from espeak_Info are NUL-terminated static strings.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    (
        text(version).unwrap_or_default(),
        text(path).map(PathBuf::from),
    )
}
