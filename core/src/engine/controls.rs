//! Live controls: named α values that a request's handle writes and its worker reads, lock-free.
//!
//! The set of names is fixed when the request is made; values change any time. The worker takes
//! a snapshot at the start of every window, so a change applies from the next window on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::style::palette::finite_alpha;

/// Control values as a window was computed with them: name and α (after clamping), in request
/// order. Shared, not copied, while the values stay the same.
pub type ControlValues = Arc<[(Arc<str>, f32)]>;

/// The live α values of one request (cheap to clone; clones share the values).
#[derive(Debug, Clone, Default)]
pub struct Controls(Arc<[(Arc<str>, AtomicU32)]>);

impl Controls {
    /// Controls with initial values; names must be distinct and values finite.
    pub fn new(values: &[(String, f32)]) -> Result<Self> {
        for (i, (name, alpha)) in values.iter().enumerate() {
            finite_alpha(name, *alpha)?;
            if values[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid("controls", format!("`{name}` is given twice")));
            }
        }
        Ok(Controls(values.iter().map(|(n, a)| (Arc::from(n.as_str()), AtomicU32::new(a.to_bits()))).collect()))
    }

    /// Sets `name` to `alpha`. Unknown names and non-finite values are errors.
    pub fn set(&self, name: &str, alpha: f32) -> Result<()> {
        finite_alpha(name, alpha)?;
        let (_, slot) = self.0.iter().find(|(n, _)| &**n == name).ok_or_else(|| {
            let known: Vec<&str> = self.0.iter().map(|(n, _)| &**n).collect();
            Error::invalid("control", format!("unknown name `{name}` (this request has {known:?})"))
        })?;
        slot.store(alpha.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.0.iter().find(|(n, _)| &**n == name).map(|(_, v)| f32::from_bits(v.load(Ordering::Relaxed)))
    }

    /// The current value of control `i` (request order).
    pub fn value(&self, i: usize) -> f32 {
        f32::from_bits(self.0[i].1.load(Ordering::Relaxed))
    }

    /// Every control's current value, in request order.
    pub fn values(&self) -> Vec<f32> {
        (0..self.0.len()).map(|i| self.value(i)).collect()
    }

    /// Every control's name and current value.
    pub fn snapshot(&self) -> Vec<(String, f32)> {
        self.0.iter().map(|(n, v)| (n.to_string(), f32::from_bits(v.load(Ordering::Relaxed)))).collect()
    }

    /// The names, in request order.
    pub fn names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.0.iter().map(|(n, _)| n)
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
}
