//! What a `*.voice.ron` preset file says, and its checks. Parsing only: loading the voice and
//! vectors it names is `loader.rs`.
//!
//! ```ron
//! (
//!     voice: "voices/en_US-joe-medium.onnx",     // asset path; its config is `<voice>.json`
//!     length_scale: 1.05,                        // optional; unset = the voice's default
//!     volume_db: -3.0,                           // optional
//!     lufs: -23.0,                               // optional: loudness of its lines (EBU R128)
//!     phonemizer: "builtin",                     // optional: "espeak" (default when built in) or "builtin"
//!     accent: "scottish",                        // optional: an espeak-ng English accent (needs espeak)
//!     lexicon: "lexicons/names.lex",             // optional: IPA for invented names (`word  IPA` lines)
//!     styles: {
//!         "excited": (
//!             vectors: [(file: "vectors/excited.safetensors")],   // groups: ["enc_p.late"] to override
//!             range: (-1.0, 3.0),                // α is clamped to this
//!             alpha: 0.0,                        // α when no Emotion/Dialect/Styles component names it
//!         ),
//!     },
//! )
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use tvtts_core::style::Group;
use tvtts_core::{Scales, SynthesisOptions};

/// A parsed voice preset (the file's content, checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetDef {
    /// Asset path of the Piper `.onnx`; its config is the same path plus `.json`.
    pub voice: String,
    /// Speaker id (multi-speaker voices only).
    #[serde(default)]
    pub speaker: Option<usize>,
    /// Synthesis scales; unset ones take the voice's defaults.
    #[serde(default)]
    pub length_scale: Option<f32>,
    #[serde(default)]
    pub noise_scale: Option<f32>,
    #[serde(default)]
    pub noise_w: Option<f32>,
    /// Seed of the synthesis noise (same seed and text → same audio).
    #[serde(default)]
    pub seed: u64,
    /// Gain of this voice in the mixer.
    #[serde(default)]
    pub volume_db: f32,
    /// Named styles (emotions, dialects, …): each is one live control of the voice, which
    /// markup's `<style name="…" alpha="…">` may also set for part of a line.
    #[serde(default)]
    pub styles: BTreeMap<String, StyleDef>,
    /// Integrated loudness (LUFS) this voice's lines are normalised to: baked lines by `tvtts
    /// bake` (instead of its `--lufs`), live lines by a gain measured once when the preset loads.
    /// Unset: baked lines take the bake's target, live lines play at the model's level.
    #[serde(default)]
    pub lufs: Option<f64>,
    /// `"espeak"` or `"builtin"`: the phonemizer its lines are read with (default: the build's,
    /// espeak-ng when it is built in).
    #[serde(default)]
    pub phonemizer: Option<String>,
    /// An English accent its lines are read in (`"scottish"`, `"rp"`, … see
    /// `tvtts_core::phonemize::accent::ACCENTS`): espeak-ng's accent voice, its symbols the
    /// voice never learned mapped to learned ones. Needs espeak-ng (GPL) in the build.
    #[serde(default)]
    pub accent: Option<String>,
    /// Asset path of a lexicon file (`word  IPA` per line, see `tvtts_core::markup::Lexicon`)
    /// for words the phonemizer gets wrong; several presets may name the same one.
    #[serde(default)]
    pub lexicon: Option<String>,
}

/// One named style: the vectors its α scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleDef {
    pub vectors: Vec<VectorRef>,
    /// α is clamped to `(min, max)`.
    #[serde(default = "default_range")]
    pub range: (f32, f32),
    /// α used when no `Emotion`, `Dialect` or `Styles` component names this style.
    #[serde(default)]
    pub alpha: f32,
}

/// A style vector file and, optionally, the module groups to apply it on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorRef {
    /// Asset path of the `.safetensors` vector.
    pub file: String,
    /// Module groups (`enc_p`, `enc_p.early`, `enc_p.late`, `dp`, `flow`, `dec`, `emb_g`);
    /// unset = the vector's own.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

fn default_range() -> (f32, f32) {
    (-3.0, 3.0)
}

/// What is wrong with a preset, and where: 1-based line and column when known.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetProblem {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub cause: String,
}

impl fmt::Display for PresetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: {}", self.cause),
            _ => write!(f, "{}", self.cause),
        }
    }
}

impl PresetProblem {
    /// A problem with the text `needle` of `source` (located at its first occurrence, if any).
    pub fn at(source: &str, needle: &str, cause: impl Into<String>) -> Self {
        let (line, column) = locate(source, needle).map_or((None, None), |(l, c)| (Some(l), Some(c)));
        PresetProblem { line, column, cause: cause.into() }
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in `source`.
fn locate(source: &str, needle: &str) -> Option<(usize, usize)> {
    let at = source.find(needle)?;
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

impl PresetDef {
    /// Parses and checks preset RON. `Option` fields may be written bare (`length_scale: 1.1`).
    pub fn parse(source: &str) -> Result<Self, PresetProblem> {
        let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let def: PresetDef = options.from_str(source).map_err(|e| PresetProblem {
            line: Some(e.span.start.line),
            column: Some(e.span.start.col),
            cause: e.code.to_string(),
        })?;
        def.check(source)?;
        Ok(def)
    }

    /// Domain checks the types cannot express.
    fn check(&self, source: &str) -> Result<(), PresetProblem> {
        if let Err(e) = self.options().scales.validate() {
            let what = match &e {
                tvtts_core::Error::Invalid { what, .. } => *what,
                _ => "scales",
            };
            return Err(PresetProblem::at(source, what, e.to_string()));
        }
        if let Some(l) = self.lufs.filter(|l| !(l.is_finite() && (-70.0..=0.0).contains(l))) {
            return Err(PresetProblem::at(source, "lufs", format!("`lufs` {l} must lie in -70..=0")));
        }
        if let Some(p) = &self.phonemizer {
            tvtts_core::phonemize::Kind::parse(p).map_err(|e| PresetProblem::at(source, "phonemizer", e.to_string()))?;
        }
        if let Some(a) = &self.accent {
            tvtts_core::phonemize::accent::espeak_voice(a).map_err(|e| PresetProblem::at(source, "accent", e.to_string()))?;
        }
        if !self.volume_db.is_finite() {
            return Err(PresetProblem::at(source, "volume_db", "`volume_db` must be finite"));
        }
        for (name, style) in &self.styles {
            let here = |cause: String| PresetProblem::at(source, &format!("\"{name}\""), format!("style `{name}`: {cause}"));
            let (min, max) = style.range;
            if !(min.is_finite() && max.is_finite() && min <= max) {
                return Err(here(format!("range ({min}, {max}) needs finite min ≤ max")));
            }
            if !(style.alpha.is_finite() && (min..=max).contains(&style.alpha)) {
                return Err(here(format!("alpha {} outside its range ({min}, {max})", style.alpha)));
            }
            if style.vectors.is_empty() {
                return Err(here("names no vectors".into()));
            }
            for v in &style.vectors {
                v.groups()
                    .map_err(|e| PresetProblem::at(source, &format!("\"{}\"", v.file), format!("style `{name}`: {e}")))?;
            }
        }
        Ok(())
    }
}

impl PresetDef {
    /// The synthesis options the preset sets: its scales (unset ones take the voice's
    /// defaults), speaker and seed.
    pub fn options(&self) -> SynthesisOptions {
        let scales = Scales { noise_scale: self.noise_scale, length_scale: self.length_scale, noise_w: self.noise_w };
        SynthesisOptions { scales, speaker: self.speaker, seed: self.seed }
    }
}

impl VectorRef {
    /// The group override, parsed.
    pub fn groups(&self) -> tvtts_core::Result<Option<Vec<Group>>> {
        self.groups.as_ref().map(|g| Group::parse_list(&g.join(","))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"(
    voice: "voices/v.onnx",
    length_scale: 1.2,
    styles: {
        "excited": (vectors: [(file: "vectors/e.safetensors", groups: ["enc_p.late"])], range: (0.0, 2.0), alpha: 0.5),
    },
)"#;

    #[test]
    fn parses_bare_options_and_defaults() {
        let d = PresetDef::parse(GOOD).unwrap();
        assert_eq!(d.length_scale, Some(1.2));
        assert_eq!(d.noise_scale, None);
        assert_eq!(d.styles["excited"].range, (0.0, 2.0));
        assert_eq!(d.styles["excited"].vectors[0].groups().unwrap(), Some(vec![Group::new("enc_p.late")]));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let broken = GOOD.replace("length_scale: 1.2,", "length_scale: 1.2,,");
        let e = PresetDef::parse(&broken).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.column.is_some());
        let typo = GOOD.replace("length_scale", "lenght_scale");
        let e = PresetDef::parse(&typo).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.cause.contains("lenght_scale"), "{e}");
    }

    #[test]
    fn domain_errors_point_at_the_field() {
        let e = PresetDef::parse(&GOOD.replace("alpha: 0.5", "alpha: 5.0")).unwrap_err();
        assert_eq!((e.line, e.cause.contains("outside")), (Some(5), true), "{e}");
        let e = PresetDef::parse(&GOOD.replace("1.2", "-1.0")).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        // A group name that cannot be one; names the voice's backbone lacks are found by the
        // loader, which knows the voice (tests/plugin.rs).
        let e = PresetDef::parse(&GOOD.replace("enc_p.late", "enc q")).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
    }
}
