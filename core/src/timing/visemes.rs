//! Phonemes → mouth shapes, in the two sets game pipelines use: the 15 visemes of Meta/Oculus
//! OVR (the blend-shape names of Ready Player Me avatars) and Rhubarb Lip Sync's mouth shapes.
//!
//! Every symbol a Piper voice's phoneme map holds has a row (`tests` checks the bundled voice's
//! 151): vowels by openness and rounding, consonants by place of articulation, and the marks
//! that only modify a neighbour (stress, length, palatalisation, diacritics) as `None`, so they
//! take the shape of the sound they modify, and so does the space between words (speech goes on
//! through it). Punctuation and the sentence edges are `sil`.

use std::fmt;

/// An OVR viseme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Viseme {
    Sil,
    PP,
    FF,
    TH,
    DD,
    Kk,
    CH,
    SS,
    Nn,
    RR,
    Aa,
    E,
    Ih,
    Oh,
    Ou,
}

impl Viseme {
    /// All 15, in OVR's order.
    pub const ALL: [Viseme; 15] = [
        Viseme::Sil, Viseme::PP, Viseme::FF, Viseme::TH, Viseme::DD, Viseme::Kk, Viseme::CH, Viseme::SS,
        Viseme::Nn, Viseme::RR, Viseme::Aa, Viseme::E, Viseme::Ih, Viseme::Oh, Viseme::Ou,
    ];

    /// OVR's name (`sil`, `PP`, `kk`, `aa`, …).
    pub fn name(self) -> &'static str {
        match self {
            Viseme::Sil => "sil",
            Viseme::PP => "PP",
            Viseme::FF => "FF",
            Viseme::TH => "TH",
            Viseme::DD => "DD",
            Viseme::Kk => "kk",
            Viseme::CH => "CH",
            Viseme::SS => "SS",
            Viseme::Nn => "nn",
            Viseme::RR => "RR",
            Viseme::Aa => "aa",
            Viseme::E => "E",
            Viseme::Ih => "ih",
            Viseme::Oh => "oh",
            Viseme::Ou => "ou",
        }
    }
}

impl fmt::Display for Viseme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rhubarb Lip Sync's mouth shapes: A (closed: p b m), B (slightly open, teeth together: most
/// consonants, "ee"), C (open: "eh", "ae"), D (wide open: "aa"), E (slightly rounded: "ao",
/// "er"), F (puckered: "uw", "ow", w), G (upper teeth on lower lip: f v), H (tongue up: l),
/// X (at rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rhubarb {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    X,
}

impl Rhubarb {
    /// Every shape.
    pub const ALL: [Rhubarb; 9] = [Rhubarb::A, Rhubarb::B, Rhubarb::C, Rhubarb::D, Rhubarb::E, Rhubarb::F, Rhubarb::G, Rhubarb::H, Rhubarb::X];

    /// The letter Rhubarb writes.
    pub fn name(self) -> &'static str {
        match self {
            Rhubarb::A => "A",
            Rhubarb::B => "B",
            Rhubarb::C => "C",
            Rhubarb::D => "D",
            Rhubarb::E => "E",
            Rhubarb::F => "F",
            Rhubarb::G => "G",
            Rhubarb::H => "H",
            Rhubarb::X => "X",
        }
    }
}

impl fmt::Display for Rhubarb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The table: symbols of each class with their OVR viseme and Rhubarb shape.
const TABLE: &[(&str, Viseme, Rhubarb)] = &[
    // Silence: punctuation, sentence edges, and digits (espeak spells numbers out).
    ("!'(),-.:;?\"#↓_^$0123456789ǀǁǂǃ", Viseme::Sil, Rhubarb::X),
    // Bilabial closure.
    ("pbmɓʙʘ", Viseme::PP, Rhubarb::A),
    // Labiodental and bilabial fricatives/approximants.
    ("fvɱʋⱱɸβ", Viseme::FF, Rhubarb::G),
    // Dental fricatives.
    ("θð", Viseme::TH, Rhubarb::B),
    // Alveolar and retroflex stops and taps.
    ("tdɖɗʈɾɽʡ", Viseme::DD, Rhubarb::B),
    // Velar, palatal, uvular, pharyngeal and glottal sounds.
    ("kgɡɠɢŋɴqxɣχʁħʕhɦʔʜʢcɟʄʛçʝɰɧ", Viseme::Kk, Rhubarb::B),
    // Postalveolar fricatives.
    ("ʃʒɕʑʂʐ", Viseme::CH, Rhubarb::B),
    // Alveolar fricatives.
    ("szɬɮ", Viseme::SS, Rhubarb::B),
    // Nasals.
    ("nɲɳ", Viseme::Nn, Rhubarb::B),
    // Laterals: OVR's nn, Rhubarb's tongue-up H.
    ("lɫɭʎʟɺ", Viseme::Nn, Rhubarb::H),
    // Rhotics and the r-coloured schwa.
    ("rɹɻʀɚ", Viseme::RR, Rhubarb::E),
    // Open vowels, and the open-mid "cup" vowel.
    ("aɑɒæɐɶʌ", Viseme::Aa, Rhubarb::D),
    // Mid front and central vowels.
    ("eɛɜɞəɘεœø", Viseme::E, Rhubarb::C),
    // Close front and central unrounded vowels, and the palatal glide.
    ("iɪɨyʏjᵻɯ", Viseme::Ih, Rhubarb::B),
    // Mid back rounded vowels.
    ("oɔɤɵ", Viseme::Oh, Rhubarb::E),
    // Close rounded vowels and rounded glides.
    ("uʊʉwʍɥ", Viseme::Ou, Rhubarb::F),
];

/// Marks that modify a neighbouring sound: stress, length, palatalised, aspirated,
/// pharyngealised, rhotic hook and combining diacritics; and the space between words, over
/// which speech goes on (the mouth keeps its shape into the next word).
const MODIFIERS: &str = "ˈˌːˑʲʰˤ˞\u{327}\u{303}\u{32a}\u{32f}\u{329} ";

/// The OVR viseme and Rhubarb shape of `phoneme`; `None` for a modifier mark (it takes the
/// shape of the sound it modifies). Symbols outside the table (no Piper voice's map has one)
/// are treated as silence.
pub fn of(phoneme: char) -> Option<(Viseme, Rhubarb)> {
    if MODIFIERS.contains(phoneme) {
        return None;
    }
    let row = TABLE.iter().find(|(symbols, ..)| symbols.contains(phoneme));
    Some(row.map_or((Viseme::Sil, Rhubarb::X), |&(_, v, r)| (v, r)))
}

/// Whether `phoneme` has a row of its own (is in the table or a modifier).
pub fn has_row(phoneme: char) -> bool {
    MODIFIERS.contains(phoneme) || TABLE.iter().any(|(symbols, ..)| symbols.contains(phoneme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_of_a_piper_map_has_one_row() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/voices/en_US-joe-medium.onnx.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/setup.sh)"));
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<char> = config["phoneme_id_map"].as_object().unwrap().keys().map(|k| k.chars().next().unwrap()).collect();
        assert_eq!(keys.len(), 151);
        for c in keys {
            assert!(has_row(c), "{c:?} ({:04x}) has no row", c as u32);
            let rows = TABLE.iter().filter(|(s, ..)| s.contains(c)).count() + usize::from(MODIFIERS.contains(c));
            assert_eq!(rows, 1, "{c:?} has {rows} rows");
        }
        assert_eq!(of('m'), Some((Viseme::PP, Rhubarb::A)));
        assert_eq!(of('l'), Some((Viseme::Nn, Rhubarb::H)));
        assert_eq!(of('ˈ'), None);
        assert_eq!(of(','), Some((Viseme::Sil, Rhubarb::X)));
        assert!(Viseme::ALL.iter().all(|v| TABLE.iter().any(|(_, w, _)| w == v)), "every OVR viseme is used");
    }
}
