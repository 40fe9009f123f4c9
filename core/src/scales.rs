//! The three scales of one synthesis (Piper's `scales` input), in one type: `Scales<f32>` as a
//! voice uses them, `Scales<Option<f32>>` as a request overrides some of them. One check of
//! their domains serves both.

use serde::Deserialize;

use crate::error::{Error, Result};

/// Piper's scales. `T = f32`: resolved values (a voice config's `inference` section reads into
/// this); `T = Option<f32>`: a request's overrides, `None` taking the voice's default.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de> + From<f32>"))]
pub struct Scales<T = f32> {
    /// Std of the prior sample (0 = deterministic).
    #[serde(default = "piper_noise_scale")]
    pub noise_scale: T,
    /// Duration multiplier (> 1 speaks slower).
    #[serde(default = "piper_length_scale")]
    pub length_scale: T,
    /// Std of the duration predictor's noise (0 = deterministic).
    #[serde(default = "piper_noise_w")]
    pub noise_w: T,
}

impl Scales {
    /// Piper's defaults, for configs that leave a scale out.
    pub const PIPER: Scales = Scales { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 };
    /// No noise at all, Piper's length: the same audio for the same input, every time.
    pub const QUIET: Scales = Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 };

    /// Checks every scale's domain (see [`Scales::<Option<f32>>::validate`]).
    pub fn validate(&self) -> Result<()> {
        Scales { noise_scale: Some(self.noise_scale), length_scale: Some(self.length_scale), noise_w: Some(self.noise_w) }.validate()
    }
}

fn piper_noise_scale<T: From<f32>>() -> T {
    Scales::PIPER.noise_scale.into()
}
fn piper_length_scale<T: From<f32>>() -> T {
    Scales::PIPER.length_scale.into()
}
fn piper_noise_w<T: From<f32>>() -> T {
    Scales::PIPER.noise_w.into()
}

impl Default for Scales {
    fn default() -> Self {
        Self::PIPER
    }
}

impl Default for Scales<Option<f32>> {
    fn default() -> Self {
        Scales { noise_scale: None, length_scale: None, noise_w: None }
    }
}

impl Scales<Option<f32>> {
    /// The given scales over `defaults`, checked.
    pub fn resolve(&self, defaults: &Scales) -> Result<Scales> {
        self.validate()?;
        Ok(Scales {
            noise_scale: self.noise_scale.unwrap_or(defaults.noise_scale),
            length_scale: self.length_scale.unwrap_or(defaults.length_scale),
            noise_w: self.noise_w.unwrap_or(defaults.noise_w),
        })
    }

    /// Checks the given scales: the noise scales finite and ≥ 0, `length_scale` finite and > 0.
    pub fn validate(&self) -> Result<()> {
        for (what, v) in [("noise_scale", self.noise_scale), ("noise_w", self.noise_w)] {
            if let Some(v) = v.filter(|v| !v.is_finite() || *v < 0.0) {
                return Err(Error::invalid(what, format!("{v} (must be finite and ≥ 0)")));
            }
        }
        if let Some(v) = self.length_scale.filter(|v| !v.is_finite() || *v <= 0.0) {
            return Err(Error::invalid("length_scale", format!("{v} (must be finite and > 0)")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_resolve_over_defaults_and_bad_values_are_named() {
        let given = Scales { length_scale: Some(1.5), ..Default::default() };
        assert_eq!(given.resolve(&Scales::PIPER).unwrap(), Scales { length_scale: 1.5, ..Scales::PIPER });
        for (bad, what) in [
            (Scales { noise_scale: Some(f32::NAN), ..Default::default() }, "noise_scale"),
            (Scales { noise_w: Some(-1.0), ..Default::default() }, "noise_w"),
            (Scales { length_scale: Some(0.0), ..Default::default() }, "length_scale"),
            (Scales { length_scale: Some(f32::INFINITY), ..Default::default() }, "length_scale"),
        ] {
            assert!(bad.resolve(&Scales::PIPER).unwrap_err().to_string().contains(what), "{bad:?}");
        }
        assert!(Scales { noise_scale: -0.1, ..Scales::PIPER }.validate().is_err());
        assert!(Scales::QUIET.validate().is_ok());
    }
}
