//! CPU weight layouts shared across model copies.
//!
//! A style with weight deltas runs on a copy of the model ([`crate::voice::Voice::model_with`])
//! whose unchanged parameters are the base model's own tensors. The layouts the CPU kernels read
//! (packed conv weights, Winograd transforms, polyphase rearrangements) are made from those
//! tensors, so they are made once per source and shared here: a copy makes only the layouts of
//! the weights its deltas changed. A new α of a `weights` vector on three small parameters then
//! costs a few milliseconds instead of repacking the whole model (≈ 170 ms on 2 cores).
//!
//! A layout is keyed by what it is made from: its source tensors by identity (candle's
//! [`TensorId`]: a clone shares it, every new tensor gets a new one, none is reused), the factor
//! each source was scaled by, and how it was made (flags of the maker). Model parameters are
//! never changed in place, so the same sources always give the same layout. Entries are weak:
//! a layout lives as long as some module holds it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use candle_core::{Result, Tensor, TensorId};

/// The sources of a layout: each tensor by identity, with the factor it was scaled by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sources(Vec<(TensorId, u64)>);

impl Sources {
    /// `tensors`, each scaled by its factor.
    pub fn scaled(tensors: &[(&Tensor, f64)]) -> Self {
        Sources(tensors.iter().map(|(t, s)| (t.id(), s.to_bits())).collect())
    }

    /// `tensors` as they are.
    pub fn of(tensors: &[&Tensor]) -> Self {
        Sources(tensors.iter().map(|t| (t.id(), 1f64.to_bits())).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: TypeId,
    sources: Sources,
    how: Vec<u64>,
}

type Layouts = HashMap<Key, Weak<dyn Any + Send + Sync>>;

fn layouts() -> MutexGuard<'static, Layouts> {
    static LAYOUTS: LazyLock<Mutex<Layouts>> = LazyLock::new(Default::default);
    LAYOUTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The layout of type `T` made from `sources` the way `how` says: the one already made and still
/// held somewhere, else `make()`'s (made outside the lock; two threads may make the same at once,
/// and then both get the first one stored).
pub fn shared<T: Any + Send + Sync>(sources: Sources, how: &[u64], make: impl FnOnce() -> Result<T>) -> Result<Arc<T>> {
    let key = Key { kind: TypeId::of::<T>(), sources, how: how.to_vec() };
    let find = |l: &Layouts| l.get(&key).and_then(Weak::upgrade).and_then(|a| a.downcast::<T>().ok());
    if let Some(found) = find(&layouts()) {
        return Ok(found);
    }
    let made = Arc::new(make()?);
    let mut l = layouts();
    if let Some(found) = find(&l) {
        return Ok(found);
    }
    l.retain(|_, w| w.strong_count() > 0);
    let erased: Arc<dyn Any + Send + Sync> = made.clone();
    l.insert(key, Arc::downgrade(&erased));
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn a_layout_is_made_once_per_source_and_kind() {
        let a = Tensor::ones(4, candle_core::DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::ones(4, candle_core::DType::F32, &Device::Cpu).unwrap();
        let made = std::sync::atomic::AtomicUsize::new(0);
        let make = |v: u32| {
            made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(v)
        };
        let first = shared(Sources::of(&[&a]), &[0], || make(1)).unwrap();
        // The same tensor (a clone shares its identity), the same way: the same layout.
        let again = shared(Sources::of(&[&a.clone()]), &[0], || make(2)).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // Equal values in another tensor, another flag, another factor or type: made anew.
        assert_eq!(*shared(Sources::of(&[&b]), &[0], || make(3)).unwrap(), 3);
        assert_eq!(*shared(Sources::of(&[&a]), &[1], || make(4)).unwrap(), 4);
        assert_eq!(*shared(Sources::scaled(&[(&a, 0.5)]), &[0], || make(5)).unwrap(), 5);
        assert_eq!(*shared(Sources::of(&[&a]), &[0], || Ok(6u64)).unwrap(), 6);
        assert_eq!(made.load(std::sync::atomic::Ordering::Relaxed), 4);
        // Once no one holds it, it is made again.
        drop((first, again));
        assert_eq!(*shared(Sources::of(&[&a]), &[0], || make(7)).unwrap(), 7);
    }
}
