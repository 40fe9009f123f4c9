//! The timing track as JSON, in seconds from the line's start: what `tvtts say --timings` and
//! `tvtts bake` write, and what a baked line's track is read back from.
//!
//! `{"sample_rate", "duration", "words": [{"text", "start", "end"}], "phonemes": [{"phoneme",
//! …}], "visemes": [{"viseme", …}] (OVR names), "rhubarb": [{"shape", …}]}`.

use serde_json::{json, Value};

use super::{push, Rhubarb, Span, Timings, Viseme};
use crate::error::{Error, Result};

impl Timings {
    /// The track as JSON at `sample_rate` (positions are samples of the line).
    pub fn to_json(&self, sample_rate: u32) -> Value {
        let secs = |s: u64| s as f64 / sample_rate as f64;
        let list = |key: &str, spans: Vec<(String, u64, u64)>| -> Value {
            spans.into_iter().map(|(item, a, b)| json!({ key: item, "start": secs(a), "end": secs(b) })).collect()
        };
        json!({
            "sample_rate": sample_rate,
            "duration": secs(self.end),
            "words": list("text", self.words.iter().map(|w| (w.item.clone(), w.start, w.end)).collect()),
            "phonemes": list("phoneme", self.phonemes.iter().map(|p| (p.item.to_string(), p.start, p.end)).collect()),
            "visemes": list("viseme", self.visemes.iter().map(|v| (v.item.0.name().to_string(), v.start, v.end)).collect()),
            "rhubarb": list("shape", self.rhubarb().iter().map(|r| (r.item.name().to_string(), r.start, r.end)).collect()),
        })
    }

    /// A track written by [`Timings::to_json`], back in samples (positions round to the
    /// nearest sample). `what` names the source in errors.
    pub fn from_json(v: &Value, what: &str) -> Result<Timings> {
        let bad = |m: String| Error::invalid("timing track", format!("{what}: {m}"));
        let rate = v["sample_rate"].as_u64().filter(|&r| r > 0).ok_or_else(|| bad("no sample_rate".into()))? as f64;
        let at = |x: &Value| -> Result<u64> {
            let s = x.as_f64().filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| bad(format!("{x} is not a time")))?;
            Ok((s * rate).round() as u64)
        };
        let spans = |key: &str, field: &str| -> Result<Vec<Span<String>>> {
            let list = v[key].as_array().ok_or_else(|| bad(format!("no `{key}` list")))?;
            list.iter()
                .map(|e| {
                    let item = e[field].as_str().ok_or_else(|| bad(format!("`{key}` entry without `{field}`")))?.to_string();
                    Ok(Span { item, start: at(&e["start"])?, end: at(&e["end"])? })
                })
                .collect()
        };
        let end = at(&v["duration"])?;
        let phonemes = spans("phonemes", "phoneme")?
            .into_iter()
            .map(|p| {
                let mut cs = p.item.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Ok(Span { item: c, start: p.start, end: p.end }),
                    _ => Err(bad(format!("phoneme `{}` is not one symbol", p.item))),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let shapes = spans("rhubarb", "shape")?;
        let shape_at = |s: u64| -> Result<Rhubarb> {
            let name = shapes.iter().find(|r| r.start <= s && s < r.end).map_or("X", |r| r.item.as_str());
            Rhubarb::ALL.into_iter().find(|r| r.name() == name).ok_or_else(|| bad(format!("unknown Rhubarb shape `{name}`")))
        };
        let mut visemes = Vec::new();
        for vs in spans("visemes", "viseme")? {
            let ovr = Viseme::ALL.into_iter().find(|x| x.name() == vs.item).ok_or_else(|| bad(format!("unknown viseme `{}`", vs.item)))?;
            push(&mut visemes, (ovr, shape_at(vs.start)?), vs.start, vs.end);
        }
        Ok(Timings { phonemes, words: spans("words", "text")?, visemes, start: 0, end })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::phonemize::PhonemeIdMap;

    #[test]
    fn a_track_survives_the_round_trip() {
        let pairs = [("_", 0), ("^", 1), ("$", 2), (" ", 3), (",", 4), ("h", 6), ("ə", 7), ("l", 8), ("ˈ", 9), ("o", 10), ("ʊ", 11), ("m", 12)];
        let map = PhonemeIdMap::new(&pairs.iter().map(|(k, v)| (k.to_string(), vec![*v])).collect::<HashMap<_, _>>()).unwrap();
        let ids = map.ids("həlˈoʊ, ˈmoʊ");
        let frames: Vec<usize> = (0..ids.ids.len()).map(|i| 1 + i % 3).collect();
        let t = Timings::sentence(&ids, &frames, 256, 0, None);
        let back = Timings::from_json(&t.to_json(22_050), "test").unwrap();
        assert_eq!(back, t);
        assert!(Timings::from_json(&json!({"sample_rate": 0}), "x").is_err());
    }
}
