//! Phonemes → the ids a Piper voice reads, exactly as piper-tts's `phonemes_to_ids`.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Beginning of utterance.
const BOS: char = '^';
/// End of utterance.
const EOS: char = '$';
/// Pad, written after every phoneme.
const PAD: char = '_';

/// A voice's phoneme → ids table (`phoneme_id_map` in its `.onnx.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonemeIdMap {
    map: HashMap<char, Vec<i64>>,
}

/// The ids for one sentence, and the phonemes that had none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhonemeIds {
    /// Model input ids: `^`, `_`, then each known phoneme's ids followed by `_`, then `$`.
    pub ids: Vec<i64>,
    /// Code points of the input that are not in the map (left out of `ids`), in input order.
    pub skipped: Vec<char>,
    /// Each known phoneme and the positions in `ids` it reads: its own ids and the pad after
    /// them. Before the first: `^` and a pad; after the last: `$`.
    pub spans: Vec<(char, std::ops::Range<usize>)>,
}

impl PhonemeIdMap {
    /// From the voice config's `phoneme_id_map` (keys are single codepoints as strings).
    ///
    /// # Errors
    /// Keys that are not exactly one codepoint, or a map without `^`, `_` or `$` (which every
    /// id sequence uses) → `Err(Error::invalid("phoneme_id_map", ..))`.
    pub fn new(map: &HashMap<String, Vec<i64>>) -> Result<Self> {
        let mut out = HashMap::with_capacity(map.len());
        for (key, ids) in map {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    out.insert(c, ids.clone());
                }
                _ => {
                    return Err(Error::invalid(
                        "phoneme_id_map",
                        format!("key {key:?} is not exactly one code point"),
                    ))
                }
            }
        }
        for special in [BOS, PAD, EOS] {
            if !out.contains_key(&special) {
                return Err(Error::invalid(
                    "phoneme_id_map",
                    format!("has no {special:?}"),
                ));
            }
        }
        Ok(Self { map: out })
    }

    /// Every phoneme and its ids.
    pub fn entries(&self) -> impl Iterator<Item = (char, &[i64])> {
        self.map.iter().map(|(c, ids)| (*c, ids.as_slice()))
    }

    /// One more than the largest id of the map: ids `0..id_count()` are the voice's.
    pub fn id_count(&self) -> usize {
        self.map.values().flatten().max().map_or(0, |&m| m as usize + 1)
    }

    /// Whether the voice has an id for phoneme `c`.
    pub fn knows(&self, c: char) -> bool {
        self.map.contains_key(&c)
    }

    /// Piper's ids: `^`, `_`, then each phoneme codepoint's ids followed by `_`, then `$`
    /// (2n+3 for n known phonemes). Unknown codepoints are skipped with `log::warn!` and listed
    /// in `skipped`.
    #[must_use]
    pub fn ids(&self, phonemes: &str) -> PhonemeIds {
        let pad = self.special(PAD);
        let mut ids = Vec::with_capacity(2 * phonemes.chars().count() + 3);
        let mut skipped = Vec::new();
        let mut spans = Vec::new();
        ids.extend_from_slice(self.special(BOS));
        ids.extend_from_slice(pad);
        for c in phonemes.chars() {
            match self.map.get(&c) {
                Some(phoneme_ids) => {
                    let start = ids.len();
                    ids.extend_from_slice(phoneme_ids);
                    ids.extend_from_slice(pad);
                    spans.push((c, start..ids.len()));
                }
                None => skipped.push(c),
            }
        }
        ids.extend_from_slice(self.special(EOS));
        if !skipped.is_empty() {
            log::warn!("phonemes missing from the voice's phoneme_id_map, skipped: {skipped:?}");
        }
        PhonemeIds { ids, skipped, spans }
    }

    /// The ids of one phoneme, if the voice knows it.
    #[must_use]
    pub fn get(&self, phoneme: char) -> Option<&[i64]> {
        self.map.get(&phoneme).map(Vec::as_slice)
    }

    /// Number of phonemes in the map.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty (never, for a map made by [`PhonemeIdMap::new`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Ids of `^`, `_` or `$`, which [`PhonemeIdMap::new`] made sure exist.
    fn special(&self, c: char) -> &[i64] {
        self.map.get(&c).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The joe voice's real map (present after `scripts/setup.sh`).
    fn joe_map() -> PhonemeIdMap {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/voices/en_US-joe-medium.onnx.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/setup.sh)"));
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        let map: HashMap<String, Vec<i64>> =
            serde_json::from_value(config["phoneme_id_map"].clone()).unwrap();
        PhonemeIdMap::new(&map).unwrap()
    }

    fn small_map(extra: &[(&str, &[i64])]) -> HashMap<String, Vec<i64>> {
        let mut map: HashMap<String, Vec<i64>> = [
            ("_", &[0][..]),
            ("^", &[1]),
            ("$", &[2]),
            ("a", &[5]),
            ("b", &[6, 7]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_vec()))
        .collect();
        map.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_vec())));
        map
    }

    #[test]
    fn hello_there_traveler_matches_piper() {
        let map = joe_map();
        // From the shared README: piper-tts 1.8.0's ids for "Hello there, traveler.".
        let expected: Vec<i64> = vec![
            1, 0, 20, 0, 59, 0, 24, 0, 120, 0, 27, 0, 100, 0, 3, 0, 41, 0, 120, 0, 61, 0, 88, 0, 8,
            0, 3, 0, 32, 0, 88, 0, 120, 0, 39, 0, 34, 0, 59, 0, 24, 0, 60, 0, 10, 0, 2,
        ];
        let out = map.ids("həlˈoʊ ðˈɛɹ, tɹˈævəlɚ.");
        assert_eq!(out.ids, expected);
        assert_eq!(out.ids.len(), 47);
        assert!(out.skipped.is_empty());
    }

    #[test]
    fn palatal_mark_is_in_the_real_map() {
        let map = joe_map();
        assert_eq!(map.get('ʲ'), Some(&[119][..]));
        assert_eq!(map.ids("ðɪʲ").ids, [1, 0, 41, 0, 74, 0, 119, 0, 2]);
    }

    #[test]
    fn layout_is_2n_plus_3_with_multi_id_phonemes() {
        let map = PhonemeIdMap::new(&small_map(&[])).unwrap();
        assert_eq!(map.ids("").ids, [1, 0, 2]);
        assert_eq!(map.ids("ab").ids, [1, 0, 5, 0, 6, 7, 0, 2]);
    }

    #[test]
    fn unknown_codepoints_are_skipped_and_listed() {
        let map = PhonemeIdMap::new(&small_map(&[])).unwrap();
        let out = map.ids("a☃b\u{301}");
        assert_eq!(out.ids, [1, 0, 5, 0, 6, 7, 0, 2]);
        assert_eq!(out.skipped, ['☃', '\u{301}']);
    }

    #[test]
    fn keys_must_be_one_codepoint() {
        for bad in ["aɪ", "", "e\u{301}"] {
            let err = PhonemeIdMap::new(&small_map(&[(bad, &[9])])).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Invalid {
                        what: "phoneme_id_map",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn specials_are_required() {
        let mut map = small_map(&[]);
        map.remove("$");
        assert!(matches!(
            PhonemeIdMap::new(&map),
            Err(Error::Invalid { .. })
        ));
    }
}
