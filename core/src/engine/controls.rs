//! Live controls: named α values that a request's handle writes and its worker reads, lock-free.
//!
//! The set of names is fixed when the request is made; values change any time. The worker takes
//! a snapshot at the start of every window, so a change applies from the next window on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::style::{Group, StyleVector};

/// What a voice accepts for one control: its name, the α range values are clamped to, and the
/// style vectors α scales.
#[derive(Debug, Clone)]
pub struct ControlSpec {
    pub name: String,
    pub min: f32,
    pub max: f32,
    pub styles: Vec<BoundStyle>,
}

/// A style vector under a control, applied to `groups` (the vector's own, or a preset's choice).
#[derive(Debug, Clone)]
pub struct BoundStyle {
    pub vector: Arc<StyleVector>,
    pub groups: Vec<Group>,
}

impl ControlSpec {
    /// A control named `name` with α in `[min, max]`.
    pub fn new(name: impl Into<String>, min: f32, max: f32) -> Result<Self> {
        let name = name.into();
        if name.is_empty() || !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(Error::invalid("control", format!("`{name}`: need a name and finite min ≤ max, got [{min}, {max}]")));
        }
        Ok(ControlSpec { name, min, max, styles: Vec::new() })
    }

    /// Adds a style vector that α scales, on `groups` (default: the vector's own groups).
    pub fn with_style(mut self, vector: Arc<StyleVector>, groups: Option<Vec<Group>>) -> Self {
        let groups = groups.unwrap_or_else(|| vector.groups.clone());
        self.styles.push(BoundStyle { vector, groups });
        self
    }

    /// `alpha` clamped to the range; NaN and infinities are errors.
    pub fn clamp(&self, alpha: f32) -> Result<f32> {
        if !alpha.is_finite() {
            return Err(Error::invalid("control value", format!("`{}` = {alpha} (must be finite)", self.name)));
        }
        Ok(alpha.clamp(self.min, self.max))
    }
}

/// The live α values of one request (cheap to clone; clones share the values).
#[derive(Debug, Clone, Default)]
pub struct Controls(Arc<[(String, AtomicU32)]>);

impl Controls {
    /// Controls with initial values; names must be distinct and values finite.
    pub fn new(values: &[(String, f32)]) -> Result<Self> {
        for (i, (name, alpha)) in values.iter().enumerate() {
            if !alpha.is_finite() {
                return Err(Error::invalid("control value", format!("`{name}` = {alpha} (must be finite)")));
            }
            if values[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid("controls", format!("`{name}` is given twice")));
            }
        }
        Ok(Controls(values.iter().map(|(n, a)| (n.clone(), AtomicU32::new(a.to_bits()))).collect()))
    }

    /// Sets `name` to `alpha`. Unknown names and non-finite values are errors.
    pub fn set(&self, name: &str, alpha: f32) -> Result<()> {
        if !alpha.is_finite() {
            return Err(Error::invalid("control value", format!("`{name}` = {alpha} (must be finite)")));
        }
        let (_, slot) = self.0.iter().find(|(n, _)| n == name).ok_or_else(|| {
            let known: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
            Error::invalid("control", format!("unknown name `{name}` (this request has {known:?})"))
        })?;
        slot.store(alpha.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| f32::from_bits(v.load(Ordering::Relaxed)))
    }

    /// Every control's name and current value.
    pub fn snapshot(&self) -> Vec<(String, f32)> {
        self.0.iter().map(|(n, v)| (n.clone(), f32::from_bits(v.load(Ordering::Relaxed)))).collect()
    }

    /// The names, in request order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_travel_and_bad_ones_are_refused() {
        let c = Controls::new(&[("angry".into(), 0.0), ("northern".into(), 1.0)]).unwrap();
        let reader = c.clone();
        c.set("angry", 2.5).unwrap();
        assert_eq!(reader.get("angry"), Some(2.5));
        assert_eq!(reader.snapshot(), vec![("angry".to_string(), 2.5), ("northern".to_string(), 1.0)]);
        assert!(c.set("sad", 1.0).unwrap_err().to_string().contains("unknown name `sad`"));
        assert!(c.set("angry", f32::NAN).is_err());
        assert!(c.set("angry", f32::INFINITY).is_err());
        assert_eq!(reader.get("angry"), Some(2.5), "refused values change nothing");
        assert!(Controls::new(&[("a".into(), 0.0), ("a".into(), 1.0)]).is_err());
        assert!(Controls::new(&[("a".into(), f32::NAN)]).is_err());
    }

    #[test]
    fn specs_clamp_finite_values() {
        let s = ControlSpec::new("angry", -1.0, 3.0).unwrap();
        assert_eq!(s.clamp(5.0).unwrap(), 3.0);
        assert_eq!(s.clamp(-4.0).unwrap(), -1.0);
        assert!(s.clamp(f32::NAN).is_err());
        assert!(ControlSpec::new("x", 2.0, 1.0).is_err());
    }
}
