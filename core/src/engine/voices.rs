//! The engine's voices: loaded once, shared by every request (weights are never copied), each
//! with its [`Palette`] of controls.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use candle_core::Device;

use crate::error::{Error, Result};
use crate::style::{ControlSpec, Palette};
use crate::voice::Voice;

/// Voices by name (added) or by path (loaded on first use).
#[derive(Debug, Default)]
pub struct Voices {
    map: Mutex<HashMap<String, Arc<Palette>>>,
}

impl Voices {
    /// Adds `voice` under `name` with the controls it accepts (replacing an earlier one).
    pub fn add(&self, name: &str, voice: impl Into<Arc<Voice>>, controls: Vec<ControlSpec>) -> Result<()> {
        self.insert(name, Palette::new(voice, controls)?);
        Ok(())
    }

    /// Adds (or replaces) `name` as `palette`.
    pub fn insert(&self, name: &str, palette: Palette) {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_string(), Arc::new(palette));
    }

    /// Forgets `name` (requests already running keep their palette). True if it was there.
    pub fn remove(&self, name: &str) -> bool {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(name).is_some()
    }

    /// The voice `key`: an added name, else a path to a `.onnx` file, loaded now and kept.
    /// Loading holds the lock, so concurrent first uses load a voice once.
    pub fn get(&self, key: &str, device: &Device) -> Result<Arc<Palette>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = map.get(key) {
            return Ok(v.clone());
        }
        let path = Path::new(key);
        if !path.exists() {
            let known: Vec<&String> = map.keys().collect();
            return Err(Error::io(path, std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such voice file (and no voice added under that name; added: {known:?})"),
            )));
        }
        let entry = Arc::new(Palette::new(Voice::load(path, device)?, Vec::new())?);
        map.insert(key.to_string(), entry.clone());
        Ok(entry)
    }
}
