//! Words whose espeak-ng en-us form is not what the dictionary's citation form gives: the
//! unstressed function words (`the` → ðə, `a` → ɐ, `of` → ʌv), a few common exceptions, and the
//! letter names used to spell acronyms.

/// espeak-ng's in-sentence IPA for function words and other exceptions (lower case).
pub(super) fn word(w: &str) -> Option<&'static str> {
    Some(match w {
        "the" => "ðə",
        "a" => "ɐ",
        "an" => "ɐn",
        "and" => "ænd",
        "of" => "ʌv",
        "to" => "tə",
        "in" => "ɪn",
        "is" => "ɪz",
        "was" => "wʌz",
        "for" => "fɔːɹ",
        "you" => "juː",
        "i" => "aɪ",
        "he" => "hiː",
        "she" => "ʃiː",
        "we" => "wiː",
        "they" => "ðeɪ",
        "it" => "ɪt",
        "at" => "æt",
        "by" => "baɪ",
        "or" => "ɔːɹ",
        "nor" => "nɔːɹ",
        "be" => "biː",
        "are" => "ɑːɹ",
        "have" => "hæv",
        "has" => "hɐz",
        "had" => "hæd",
        "his" => "hɪz",
        "her" => "hɜː",
        "my" => "maɪ",
        "your" => "jʊɹ",
        "our" => "ˌaʊɚ",
        "from" => "fɹʌm",
        "with" => "wɪð",
        "but" => "bˌʌt",
        "as" => "æz",
        "that" => "ðæt",
        "can" => "kæn",
        "will" => "wɪl",
        "would" => "wʊd",
        "could" => "kʊd",
        "should" => "ʃˌʊd",
        "shall" => "ʃˌæl",
        "must" => "mˈʌst",
        "been" => "bˌɪn",
        "him" => "hˌɪm",
        "me" => "mˌiː",
        "them" => "ðˌɛm",
        "us" => "ˌʌs",
        "into" => "ˌɪntʊ",
        "onto" => "ˌɔntʊ",
        "on" => "ˌɔn",
        "not" => "nˌɑːt",
        "what" => "wˌʌt",
        "am" => "æm",
        "were" => "wɜː",
        "their" => "ðɛɹ",
        "so" => "sˌoʊ",
        "does" => "dʌz",
        // Stressed (`He did it`), but not before "not" (see `pronounce::clause_stress`).
        "did" => "dˈɪd",
        // Demonstratives: unstressed inside a clause, stressed at its end (see `stressed_last`).
        "this" => "ðɪs",
        "these" => "ðiːz",
        "those" => "ðoʊz",
        "yours" => "jˈɔːɹz",
        // Secondary before a stressed word (`go home` ɡˌoʊ); see `stressed_in_tail`.
        "go" => "ɡˌoʊ",
        "if" => "ɪf",
        "than" => "ðɐn",
        "when" => "wɛn",
        "where" => "wˌɛɹ",
        "who" => "hˌuː",
        "how" => "hˌaʊ",
        "why" => "wˌaɪ",
        "some" => "sˌʌm",
        "its" => "ɪts",
        "it's" => "ɪts",
        "i'm" => "aɪm",
        "i've" => "aɪv",
        "i'll" => "aɪl",
        "i'd" => "aɪd",
        "we're" => "wɪɹ",
        "they're" => "ðeɪɚ",
        "you're" => "jʊɹ",
        "you'll" => "juːl",
        "we'll" => "wiːl",
        "they'll" => "ðeɪl",
        "you've" => "juːv",
        "we've" => "wiːv",
        "they've" => "ðeɪv",
        "you'd" => "juːd",
        "we'd" => "wiːd",
        "he'd" => "hiːd",
        "she'd" => "ʃiːd",
        "he's" => "hiːz",
        "she's" => "ʃiːz",
        "there's" => "ðɛɹz",
        "that's" => "ðæts",
        "because" => "bɪkˈʌz",
        "upon" => "əpˌɔn",
        "o'clock" => "ɐklˈɑːk",
        "one" => "wˈʌn",
        "percent" => "pɚsˈɛnt",
        "point" => "pɔɪnt",
        "minus" => "mˈaɪnəs",
        "zero" => "zˈiəɹoʊ",
        "euros" => "jˈʊɹɹoʊz",
        "euro" => "jˈʊɹɹoʊ",
        "et" => "ɛt",
        "cetera" => "sˈɛtɹə",
        "doctor" => "dˈɑːktɚ",
        "missus" => "mˈɪsɪz",
        "mister" => "mˈɪstɚ",
        "miz" => "mˈɪz",
        "versus" => "vˈɜːsəs",
        "thirteen" => "θˈɜːtiːn",
        "fourteen" => "fˈɔːɹtiːn",
        "fifteen" => "fˈɪftiːn",
        "sixteen" => "sˈɪkstiːn",
        "seventeen" => "sˈɛvəntiːn",
        "eighteen" => "ˈeɪtiːn",
        "nineteen" => "nˈaɪntiːn",
        "thirty" => "θˈɜːɾi",
        "eleven" => "ɪlˈɛvən",
        "million" => "mˈɪliən",
        "billion" => "bˈɪliən",
        "trillion" => "tɹˈɪliən",
        "about" => "ɐbˌaʊt",
        "before" => "bᵻfˌɔːɹ",
        "down" => "dˌaʊn",
        "over" => "ˌoʊvɚ",
        "under" => "ˌʌndɚ",
        "near" => "nˌɪɹ",
        "through" => "θɹuː",
        "above" => "əbˌʌv",
        "across" => "əkɹˌɑːs",
        "behind" => "bᵻhˌaɪnd",
        "without" => "wɪðˌaʊt",
        "within" => "wɪðˌɪn",
        "among" => "ɐmˌʌŋ",
        "there" => "ðɛɹ",
        "read" => "ɹˈiːd",
        "wind" => "wˈɪnd",
        "yourself" => "jɔːɹsˈɛlf",
        "yourselves" => "jɔːɹsˈɛlvz",
        "already" => "ɔːlɹˌɛdi",
        // Read as letters by espeak-ng in any case ("the AI", "your ID"); the dictionary's
        // first readings are the word "ai" and Freud's "id".
        "ai" => "ˌeɪˈaɪ",
        "id" => "aɪdˈiː",
        "www" => "dˌʌbəljˌuːdˌʌbəljˌuːdˈʌbəljˌuː",
        _ => return None,
    })
}

/// Words that espeak-ng leaves unstressed or with secondary stress inside a clause but stresses
/// when no stressed word follows them in it (`look down at him` → dˈaʊn, `have you been?` →
/// hˈæv; see `pronounce::clause_stress`).
pub(super) fn stressed_in_tail(w: &str) -> bool {
    matches!(
        w,
        "about"
            | "before"
            | "down"
            | "over"
            | "under"
            | "near"
            | "above"
            | "across"
            | "behind"
            | "without"
            | "within"
            | "among"
            | "why"
            | "there"
            | "how"
            | "where"
            | "what"
            | "who"
            | "on"
            | "up"
            | "in"
            | "that"
            | "those"
            | "could"
            | "would"
            | "should"
            | "can"
            | "will"
            | "does"
            | "have"
            | "be"
            | "my"
            | "his"
            | "i"
            | "go"
    )
}

/// Words that espeak-ng stresses only as the last word of a clause (`stand by.` → bˈaɪ, but `go
/// by them` baɪ; `not him` nˌɑːt).
pub(super) fn stressed_last(w: &str) -> bool {
    matches!(w, "by" | "upon" | "not" | "when" | "so" | "this" | "these" | "nor")
}

/// espeak-ng's form of a word that ends a clause where it differs from the word's in-clause form
/// by more than its stress (`has` hɐz → hˈæz, `to` tə → tuː).
pub(super) fn at_end(w: &str) -> Option<&'static str> {
    Some(match w {
        "has" => "hˈæz",
        "to" => "tuː",
        _ => return None,
    })
}

/// Whether espeak-ng spells the word `lower` when it is written in capitals, though it reads the
/// lower-case word (`UN`, `LA`, `MIT`; `IT` and `US` too, which the function words above keep
/// as words: a shouted "HELP US" is not "help U.S."). Found by reading every 2–3-letter word of
/// the CMU dictionary both ways (2026-12-05); `AD` ("AD 1250") added when met (2026-12-06).
pub(super) fn spelled_in_capitals(lower: &str) -> bool {
    matches!(lower, "un" | "la" | "mit" | "lbs" | "ad")
}

/// Whether a lower-case word has a vowel letter (`y` after its first letter counts: `gym`, not
/// `yd`): words without one are interjections (psst) or letters to spell (NSFW, km).
pub(super) fn has_vowel_letter(lower: &str) -> bool {
    lower.char_indices().any(|(i, c)| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') || (c == 'y' && i > 0))
}

/// The name of a letter, stressed (`f` → ˈɛf), for spelling acronyms.
pub(super) fn letter(c: char) -> Option<&'static str> {
    Some(match c.to_ascii_lowercase() {
        'a' => "ˈeɪ",
        'b' => "bˈiː",
        'c' => "sˈiː",
        'd' => "dˈiː",
        'e' => "ˈiː",
        'f' => "ˈɛf",
        'g' => "dʒˈiː",
        'h' => "ˈeɪtʃ",
        'i' => "ˈaɪ",
        'j' => "dʒˈeɪ",
        'k' => "kˈeɪ",
        'l' => "ˈɛl",
        'm' => "ˈɛm",
        'n' => "ˈɛn",
        'o' => "ˈoʊ",
        'p' => "pˈiː",
        'q' => "kjˈuː",
        'r' => "ˈɑːɹ",
        's' => "ˈɛs",
        't' => "tˈiː",
        'u' => "jˈuː",
        'v' => "vˈiː",
        'w' => "dˈʌbəljˌuː",
        'x' => "ˈɛks",
        'y' => "wˈaɪ",
        'z' => "zˈiː",
        _ => return None,
    })
}

/// The name of a letter in ARPAbet without stress (`f` → `EH F`), as CMUdict spells acronyms.
pub(super) fn letter_arpabet(c: char) -> Option<&'static str> {
    Some(match c.to_ascii_lowercase() {
        'a' => "EY",
        'b' => "B IY",
        'c' => "S IY",
        'd' => "D IY",
        'e' => "IY",
        'f' => "EH F",
        'g' => "JH IY",
        'h' => "EY CH",
        'i' => "AY",
        'j' => "JH EY",
        'k' => "K EY",
        'l' => "EH L",
        'm' => "EH M",
        'n' => "EH N",
        'o' => "OW",
        'p' => "P IY",
        'q' => "K Y UW",
        'r' => "AA R",
        's' => "EH S",
        't' => "T IY",
        'u' => "Y UW",
        'v' => "V IY",
        'w' => "D AH B AH L Y UW",
        'x' => "EH K S",
        'y' => "W AY",
        'z' => "Z IY",
        _ => return None,
    })
}

/// `letters` spelled as espeak-ng spells acronyms: one word, secondary stress on all letters
/// but the last (`fbi` → ˌɛfbˌiːʲˈaɪ). Characters that are not ASCII letters are skipped.
pub(super) fn spell(letters: &str) -> String {
    let names: Vec<&str> = letters.chars().filter_map(letter).collect();
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 && out.ends_with("iː") && name.starts_with('ˈ') {
            out.push('ʲ'); // before a vowel-initial letter name (`pm` pˌiːʲˈɛm)
        }
        if i + 1 < names.len() {
            out.push_str(&name.replace('ˈ', "ˌ"));
        } else {
            out.push_str(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronyms_are_spelled_like_espeak() {
        assert_eq!(spell("FBI"), "ˌɛfbˌiːʲˈaɪ");
        assert_eq!(spell("pm"), "pˌiːʲˈɛm");
        assert_eq!(spell("x"), "ˈɛks");
        for c in 'a'..='z' {
            assert!(letter(c).is_some() && letter_arpabet(c).is_some(), "{c}");
        }
        assert_eq!(word("the"), Some("ðə"));
        assert_eq!(word("dragon"), None);
    }
}
