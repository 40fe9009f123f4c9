//! The style vector file: safetensors tensors plus `tvtts.*` metadata.
//!
//! Metadata keys: `tvtts.format` (`2`), `tvtts.kind` (`weights` | `lora` | `speaker` | `steer`),
//! `tvtts.base` (SHA-256 of the base voice's weights, see [`crate::voice::Voice::weights_hash`]),
//! `tvtts.groups` (comma-separated [`Group`] names), `tvtts.alpha` (default α),
//! `tvtts.alpha_range` (`min,max`: the α range the vector was made and measured for; controls
//! using it are clamped to it), `tvtts.description`, and for `lora` `tvtts.rank` and
//! `tvtts.energy` (share of the full delta's squared norm the factors keep). Format 1 files had
//! no α range and are refused with a message saying how to rebuild them.
//!
//! Tensor names by kind:
//! - `weights`: a checkpoint parameter path (`dec.ups.0.weight`) → its delta, same shape;
//! - `lora`: `<param>.lora_a` `[r, in·k]` and `<param>.lora_b` `[out, r]` (delta = B·A), and
//!   1-D deltas (biases, norms) under their parameter name, full;
//! - `speaker`: `emb_g` `[gin]`, an offset in the speaker-embedding space (named after VITS'
//!   speaker table, whatever the backbone);
//! - `steer`: a steering point's name (the backbone's: VITS has `m_p`, `z`; names have no `.`,
//!   parameter paths do) → a vector `[channels]` added to that hidden state at every frame.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use candle_core::{Device, Tensor};

use super::groups::Group;
use crate::error::{Error, Result};
use crate::model::rewrite::Rewrite;
use crate::voice::Voice;

/// What a vector changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Weights,
    Lora,
    Speaker,
    Steer,
    /// A phoneme rewrite (an accent) blended into the text encoder's input
    /// ([`crate::model::rewrite`]); its one tensor is [`REWRITE`].
    Rewrite,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Weights => "weights",
            Kind::Lora => "lora",
            Kind::Speaker => "speaker",
            Kind::Steer => "steer",
            Kind::Rewrite => "rewrite",
        }
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [Kind::Weights, Kind::Lora, Kind::Speaker, Kind::Steer, Kind::Rewrite]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::invalid("style vector kind", format!("`{s}` (known: weights, lora, speaker, steer, rewrite)")))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A style vector: what it changes, for which voice, and its tensors (on the CPU).
#[derive(Debug, Clone)]
pub struct StyleVector {
    pub kind: Kind,
    /// SHA-256 (hex) of the base voice's weights.
    pub base: String,
    pub groups: Vec<Group>,
    pub default_alpha: f32,
    /// The α range `(min, max)` the vector was made and measured for.
    pub alpha_range: (f32, f32),
    pub description: String,
    /// LoRA rank and kept energy.
    pub rank: Option<usize>,
    pub energy: Option<f32>,
    pub tensors: BTreeMap<String, Tensor>,
    /// The file it was read from, for error messages.
    pub path: Option<PathBuf>,
}

const FORMAT: &str = "2";

/// The one tensor of a `speaker` vector, and the group a backbone's speaker table must be in
/// for speaker vectors to apply (named after VITS' `emb_g`, whatever the backbone).
pub const SPEAKER: &str = "emb_g";

/// The one tensor of a `rewrite` vector: its rules `[n, 6]` ([`crate::model::rewrite::Rewrite`]).
pub const REWRITE: &str = "rewrite";

impl StyleVector {
    /// A vector of `kind` for the voice whose weights hash to `base` ([`crate::Voice::weights_hash`]),
    /// on `groups`, made and measured for α in `alpha_range`: default α 1, no LoRA rank or kept
    /// energy, from no file.
    pub fn new(kind: Kind, base: &str, groups: Vec<Group>, alpha_range: (f32, f32), description: impl Into<String>, tensors: BTreeMap<String, Tensor>) -> Self {
        StyleVector { kind, base: base.to_string(), groups, default_alpha: 1.0, alpha_range, description: description.into(), rank: None, energy: None, tensors, path: None }
    }

    /// Reads a vector file; every problem names the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Like [`StyleVector::load`] on bytes already in memory; `path` names them in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::invalid("style vector", format!("{}: {reason}", path.display()));
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| meta.get(key).map(String::as_str).ok_or_else(|| bad(format!("metadata `{key}` missing")));
        match get("tvtts.format")? {
            FORMAT => {}
            "1" => return Err(bad("format 1 has no α range (`tvtts.alpha_range`): rebuild the vector with this version's `tvtts vector`, giving `--alpha-range MIN,MAX`".into())),
            other => return Err(bad(format!("format {other} (this build reads {FORMAT})"))),
        }
        let kind: Kind = get("tvtts.kind")?.parse().map_err(|e: Error| bad(e.to_string()))?;
        let groups = Group::parse_list(get("tvtts.groups")?).map_err(|e| bad(e.to_string()))?;
        let number = |key: &str| -> Result<Option<f32>> {
            meta.get(key).map(|v| v.parse::<f32>().map_err(|_| bad(format!("metadata `{key}` = `{v}` is not a number")))).transpose()
        };
        let default_alpha = number("tvtts.alpha")?.unwrap_or(1.0);
        let alpha_range = parse_range(get("tvtts.alpha_range")?).map_err(|e| bad(e.to_string()))?;
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(bad(format!("tensor `{name}` is {:?}, not F32", view.dtype())));
            }
            let data: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            tensors.insert(name, Tensor::from_vec(data, view.shape(), &Device::Cpu)?);
        }
        let v = StyleVector {
            kind,
            base: get("tvtts.base")?.to_string(),
            groups,
            default_alpha,
            alpha_range,
            description: meta.get("tvtts.description").cloned().unwrap_or_default(),
            rank: number("tvtts.rank")?.map(|r| r as usize),
            energy: number("tvtts.energy")?,
            tensors,
            path: Some(path.to_path_buf()),
        };
        v.check_names().map_err(|e| bad(e.to_string()))?;
        Ok(v)
    }

    /// Writes the vector to `path` (through a temporary file beside it, renamed when complete:
    /// an interrupted save leaves no half-written vector).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        check_range(self.alpha_range)?;
        let mut meta = HashMap::from([
            ("tvtts.format".to_string(), FORMAT.to_string()),
            ("tvtts.kind".to_string(), self.kind.to_string()),
            ("tvtts.base".to_string(), self.base.clone()),
            ("tvtts.groups".to_string(), Group::list(&self.groups)),
            ("tvtts.alpha".to_string(), self.default_alpha.to_string()),
            ("tvtts.alpha_range".to_string(), format!("{},{}", self.alpha_range.0, self.alpha_range.1)),
            ("tvtts.description".to_string(), self.description.clone()),
        ]);
        if let Some(r) = self.rank {
            meta.insert("tvtts.rank".into(), r.to_string());
        }
        if let Some(e) = self.energy {
            meta.insert("tvtts.energy".into(), e.to_string());
        }
        let data: Vec<(String, Vec<u8>, Vec<usize>)> = self
            .tensors
            .iter()
            .map(|(n, t)| Ok((n.clone(), t.flatten_all()?.to_vec1::<f32>()?.iter().flat_map(|x| x.to_le_bytes()).collect(), t.dims().to_vec())))
            .collect::<Result<_>>()?;
        let views = data
            .iter()
            .map(|(n, bytes, shape)| Ok((n.as_str(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes).map_err(|e| Error::invalid("style vector", e.to_string()))?)))
            .collect::<Result<Vec<_>>>()?;
        let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| Error::invalid("style vector", e.to_string()))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// Checks that `alpha` lies in the vector's α range; the error names the vector and the range.
    pub fn check_alpha(&self, alpha: f32) -> Result<()> {
        let (min, max) = self.alpha_range;
        if alpha.is_finite() && (min..=max).contains(&alpha) {
            return Ok(());
        }
        let from = self.path.as_ref().map_or("style vector".to_string(), |p| p.display().to_string());
        Err(Error::invalid("α", format!("{alpha} is outside [{min}, {max}], the range {from} was made and measured for")))
    }

    /// Tensor names fit the kind.
    fn check_names(&self) -> Result<()> {
        if self.tensors.is_empty() {
            return Err(Error::invalid("style vector", "it holds no tensors"));
        }
        for name in self.tensors.keys() {
            let ok = match self.kind {
                Kind::Weights => true, // checked against the voice
                Kind::Lora => true, // factors or small full deltas, checked against the voice
                Kind::Speaker => name == SPEAKER,
                Kind::Rewrite => name == REWRITE,
                Kind::Steer => !name.is_empty() && !name.contains('.'),
            };
            if !ok {
                return Err(Error::invalid("style vector", format!("tensor `{name}` does not belong in a `{}` vector", self.kind)));
            }
        }
        Ok(())
    }

    /// Checks that the vector was made for `voice` and that its names and shapes fit it.
    pub fn check_against(&self, voice: &Voice) -> Result<()> {
        let from = self.path.as_ref().map_or("style vector".to_string(), |p| p.display().to_string());
        let bad = |reason: String| Error::invalid("style vector", format!("{from}: {reason}"));
        if self.base != voice.weights_hash() {
            return Err(bad(format!(
                "made for another voice (weights {}…), not {} ({}…)",
                &self.base[..self.base.len().min(12)],
                voice.path.display(),
                &voice.weights_hash()[..12]
            )));
        }
        let model = voice.model.as_ref();
        Group::check_all(&self.groups, model).map_err(|e| bad(e.to_string()))?;
        for (name, t) in &self.tensors {
            let want: Vec<usize> = match self.kind {
                Kind::Steer => {
                    let point = model.steer_point(name).ok_or_else(|| {
                        let known: Vec<&str> = model.steer_points().iter().map(|p| p.name.as_str()).collect();
                        bad(format!("`{name}` is not a steering point of this voice (known: {})", known.join(", ")))
                    })?;
                    vec![point.channels]
                }
                Kind::Rewrite => {
                    Rewrite::from_tensor(t, voice.ids.id_count()).map_err(|e| bad(e.to_string()))?;
                    t.dims().to_vec()
                }
                Kind::Speaker => match model.speaker_table() {
                    None => return Err(bad("a speaker vector needs a multi-speaker voice".into())),
                    Some(table) => vec![table.dim(1)?],
                },
                Kind::Weights | Kind::Lora if !(name.ends_with(".lora_a") || name.ends_with(".lora_b")) => {
                    model.parameter_shape(name).ok_or_else(|| bad(format!("`{name}` is not a parameter of this voice")))?.to_vec()
                }
                Kind::Weights => return Err(bad(format!("`{name}`: LoRA factors in a `weights` vector"))),
                Kind::Lora => {
                    let param = name.trim_end_matches(".lora_a").trim_end_matches(".lora_b");
                    let shape = model.parameter_shape(param).ok_or_else(|| bad(format!("`{param}` is not a parameter of this voice")))?;
                    let r = t.dims().first().copied().unwrap_or(0);
                    let cols: usize = shape[1..].iter().product();
                    if name.ends_with(".lora_a") {
                        vec![r, cols]
                    } else {
                        vec![shape[0], t.dims().get(1).copied().unwrap_or(0)]
                    }
                }
            };
            if t.dims() != want.as_slice() {
                return Err(bad(format!("`{name}` has shape {:?}, the voice needs {want:?}", t.dims())));
            }
        }
        Ok(())
    }
}

/// Parses an α range `min,max` (finite, min ≤ max).
pub fn parse_range(s: &str) -> Result<(f32, f32)> {
    let bad = || Error::invalid("α range", format!("`{s}` (want MIN,MAX with finite MIN ≤ MAX)"));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let range = (a.trim().parse::<f32>().map_err(|_| bad())?, b.trim().parse::<f32>().map_err(|_| bad())?);
    check_range(range).map_err(|_| bad())?;
    Ok(range)
}

/// An α range must be finite with min ≤ max.
pub fn check_range((min, max): (f32, f32)) -> Result<()> {
    if min.is_finite() && max.is_finite() && min <= max {
        Ok(())
    } else {
        Err(Error::invalid("α range", format!("[{min}, {max}] (need finite min ≤ max)")))
    }
}
