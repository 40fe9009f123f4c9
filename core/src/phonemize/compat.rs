//! Makes the IPA of Debian's espeak-ng 1.51 read like that of espeak-ng 1.52, which piper-tts
//! bundles. Two differences matter for English:
//! - 1.51 writes nothing for the glide phoneme `;` (`the old` → `ðɪ ˈoʊld`); 1.52 writes `ʲ`
//!   (`ðɪʲ ˈoʊld`). This is the library's doing, whatever the data.
//! - 1.51's en-us data names the vowel `o@` (`more`) `oː`/`oːɹ`; 1.52's names it `ɔː`/`ɔːɹ`.
//!   No other voice's phoneme table writes `oː` for `o@`, in either version (checked for all 130
//!   voices with `espeak-ng -v VOICE --ipa "[[m'o@]]"`), so this applies to every voice and
//!   changes nothing where espeak-ng already uses 1.52's data.
//!
//! Both need to know which phoneme an IPA piece stands for, so the text is read twice with a
//! phoneme separator: as IPA and as espeak's ASCII phoneme names. Both list the same phonemes
//! in the same layout; where they do not, the IPA is used unchanged.

use std::ffi::c_int;

use super::ffi;

/// Separator put between phonemes (a private-use character espeak never writes itself).
const SEP: char = '\u{E000}';

/// `phonememode` for IPA with [`SEP`] between phonemes.
pub(super) const IPA_SEPARATED: c_int = ffi::PHONEMES_IPA | ((SEP as c_int) << 8);
/// `phonememode` for espeak's ASCII phoneme names with [`SEP`] between phonemes.
pub(super) const ASCII_SEPARATED: c_int = (SEP as c_int) << 8;

/// 1.51's IPA for the start of en-us `o@`, and 1.52's.
const OLD_O: &str = "oː";
const NEW_O: &str = "ɔː";

/// Whether the separated IPA of a clause may need [`restore`] (so the ASCII names are needed):
/// it has an empty phoneme (perhaps a missing `ʲ`) or an `oː` (perhaps an `o@`).
pub(super) fn needs_ascii(ipa: &str) -> bool {
    (!ipa.is_empty() && ipa.split([SEP, ' ']).any(str::is_empty)) || ipa.contains(OLD_O)
}

/// The IPA of a clause without separators, as 1.52 writes it: `ʲ` where `ascii` (the same
/// clause as ASCII names, if known) has a `;` phoneme that `ipa` left empty, and `ɔː` for `oː`
/// where `ascii` has `o@`.
pub(super) fn restore(ipa: &str, ascii: Option<&str>) -> String {
    let plain = || ipa.chars().filter(|&c| c != SEP).collect();
    let Some(ascii) = ascii else { return plain() };
    let is_delimiter = |c: &char| *c == SEP || *c == ' ';
    let ipa_tokens: Vec<&str> = ipa.split([SEP, ' ']).collect();
    let ascii_tokens: Vec<&str> = ascii.split([SEP, ' ']).collect();
    if ipa_tokens.len() != ascii_tokens.len()
        || !ipa
            .chars()
            .filter(is_delimiter)
            .eq(ascii.chars().filter(is_delimiter))
    {
        log::debug!(
            "espeak-ng's IPA and ASCII phonemes differ in layout, left as is: {ipa:?} / {ascii:?}"
        );
        return plain();
    }
    let mut out = String::with_capacity(ipa.len() + 8);
    let mut delimiters = ipa.chars().filter(is_delimiter);
    for (i, (&ipa_token, &ascii_token)) in ipa_tokens.iter().zip(&ascii_tokens).enumerate() {
        if i > 0 && delimiters.next() == Some(' ') {
            out.push(' ');
        }
        // Stress marks come first in both: ˈ ˌ in IPA, ' , (=) in ASCII.
        let name = ascii_token.trim_start_matches(['\'', ',', '=']);
        if ipa_token.is_empty() && name == ";" {
            out.push('ʲ');
        } else if name == "o@" && ipa_token.contains(OLD_O) {
            out.push_str(&ipa_token.replacen(OLD_O, NEW_O, 1));
        } else {
            out.push_str(ipa_token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sep(s: &str) -> String {
        s.replace('_', &SEP.to_string())
    }

    #[test]
    fn glide_after_i_before_vowel_is_restored() {
        // espeak-ng 1.51: `espeak-ng -q --ipa --sep=_` and `-x --sep=_` on "the old ratio".
        let ipa = sep("ð_ɪ_ ˈoʊ_l_d ɹ_ˈeɪ_ʃ_ɪ__ˌoʊ");
        let ascii = sep("D_I2_; 'oU_l_d r_'eI_S_I2_;_,oU");
        assert!(needs_ascii(&ipa));
        assert_eq!(restore(&ipa, Some(&ascii)), "ðɪʲ ˈoʊld ɹˈeɪʃɪʲˌoʊ");
    }

    #[test]
    fn en_us_o_at_becomes_open_o() {
        // espeak-ng 1.51 with its own en-us data on "more four door".
        let ipa = sep("m_ˈoːɹ f_ˈoːɹ d_ˈoːɹ ʃ_ˈoː");
        let ascii = sep("m_'o@ f_'o@ d_'o@ S_'o:");
        assert!(needs_ascii(&ipa));
        assert_eq!(restore(&ipa, Some(&ascii)), "mˈɔːɹ fˈɔːɹ dˈɔːɹ ʃˈoː");
    }

    #[test]
    fn other_empty_phonemes_stay_empty() {
        // Russian "Привет": `@-` is empty in both versions; `;` already has its IPA there.
        let ipa = sep("p__r_ʲ_i_v_ʲ_ˈe_t");
        let ascii = sep("p_@-_r_;_i_v_;_'e_t");
        assert_eq!(restore(&ipa, Some(&ascii)), "prʲivʲˈet");
    }

    #[test]
    fn mismatched_layouts_fall_back_to_plain_ipa() {
        assert_eq!(restore(&sep("a_b"), Some(&sep("a_b_;"))), "ab");
        assert_eq!(restore(&sep("a_ b"), None), "a b");
    }

    #[test]
    fn what_needs_the_ascii_names() {
        assert!(!needs_ascii(&sep("ð_ɪ ˈoʊ_l_d")));
        assert!(needs_ascii(&sep("ð_ɪ_")));
        assert!(needs_ascii(&sep("a__b")));
        assert!(needs_ascii(&sep("m_ˈoːɹ")));
        assert!(!needs_ascii(""));
    }
}
