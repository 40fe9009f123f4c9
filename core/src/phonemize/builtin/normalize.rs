//! A clause's raw tokens → words to pronounce: numbers, ordinals, years, times, dates,
//! currency, percentages and abbreviations written out.

use super::lexicon;
use super::numbers::{cardinal, cardinal_str, decade, digits, ordinal, plural, year};
use super::split::Token;

/// A word to pronounce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// A word as written (case kept: all-caps words may be acronyms).
    Word(String),
    /// Letters to spell one by one (`FBI`, `p.m.`).
    Spell(String),
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const SCALE_WORDS: [&str; 4] = ["thousand", "million", "billion", "trillion"];

fn words(ws: Vec<String>) -> impl Iterator<Item = Item> {
    ws.into_iter().map(Item::Word)
}

/// Currency names for a symbol: (one, many, one cent, many cents).
fn currency(c: char) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    Some(match c {
        '$' => ("dollar", "dollars", "cent", "cents"),
        '£' => ("pound", "pounds", "penny", "pence"),
        '€' => ("euro", "euros", "cent", "cents"),
        '¥' => ("yen", "yen", "sen", "sen"),
        _ => return None,
    })
}

/// Words of a plain number token (no suffix): decimals, thousands separators, years.
fn number_words(d: &str) -> Vec<String> {
    if let Some((int, frac)) = d.split_once('.') {
        let mut w = cardinal_str(&int.replace(',', ""));
        w.push("point".into());
        w.extend(digits(frac));
        return w;
    }
    if d.contains(',') {
        return cardinal_str(&d.replace(',', ""));
    }
    if d.len() > 1 && d.starts_with('0') {
        return digits(d);
    }
    if d.len() == 4 {
        if let Ok(n) = d.parse::<u64>() {
            return year(n);
        }
    }
    cardinal_str(d)
}

/// `H:MM` as words (`10:05` → ten oh five; `11:00` → eleven o'clock unless am/pm follows).
fn time_words(d: &str, ampm_follows: bool) -> Option<Vec<String>> {
    let parts: Vec<&str> = d.split(':').collect();
    if parts.len() != 2 || parts[1].len() != 2 {
        return None;
    }
    let h: u64 = parts[0].parse().ok()?;
    let m: u64 = parts[1].parse().ok()?;
    if h > 24 || m > 59 {
        return None;
    }
    let mut w = cardinal(h);
    match m {
        0 if !ampm_follows => w.push("o'clock".into()),
        0 => {}
        1..=9 => {
            w.push("oh".into());
            w.extend(cardinal(m));
        }
        _ => w.extend(cardinal(m)),
    }
    Some(w)
}

/// `N/D`, a proper fraction with a denominator up to 10, as words (`1/2` → one half, `3/4` →
/// three quarters): in a line, "1/2 price" is a fraction far more often than a date.
fn fraction_words(d: &str) -> Option<Vec<String>> {
    let (n, den) = d.split_once('/')?;
    let (n, den): (u64, u64) = (n.parse().ok()?, den.parse().ok()?);
    if !(1..den).contains(&n) || den > 10 {
        return None;
    }
    let mut w = cardinal(n);
    w.push(match (den, n > 1) {
        (2, false) => "half".into(),
        (2, true) => "halves".into(),
        (4, false) => "quarter".into(),
        (4, true) => "quarters".into(),
        (_, plural) => {
            let name = ordinal(den).pop()?;
            if plural { format!("{name}s") } else { name }
        }
    });
    Some(w)
}

/// `M/D/YYYY` or `M/D` as a date (`3/4/2024` → march fourth two thousand twenty four).
fn date_words(d: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = d.split('/').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let m: usize = parts[0].parse().ok()?;
    let day: u64 = parts[1].parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut w = vec![MONTHS[m - 1].to_string()];
    w.extend(ordinal(day));
    if let Some(y) = parts.get(2) {
        w.extend(year(y.parse().ok()?));
    }
    Some(w)
}

/// Any number token as words (time, date, ordinal, decade, decimal, cardinal).
fn number_token(digits_: &str, negative: bool, suffix: &str, ampm_follows: bool) -> Vec<String> {
    let mut w = Vec::new();
    if negative {
        w.push("minus".into());
    }
    let plain = !digits_.contains([',', '.', ':', '/']);
    if digits_.contains(':') {
        if let Some(t) = time_words(digits_, ampm_follows) {
            w.extend(t);
            return w;
        }
    }
    if digits_.contains('/') {
        if let Some(t) = fraction_words(digits_).or_else(|| date_words(digits_)) {
            w.extend(t);
            return w;
        }
    }
    if digits_.contains([':', '/']) {
        // Other groups: each number in turn.
        for part in digits_.split([':', '/']) {
            w.extend(number_words(part));
        }
        return w;
    }
    match suffix {
        "st" | "nd" | "rd" | "th" if plain => {
            if let Ok(n) = digits_.parse::<u64>() {
                w.extend(ordinal(n));
                return w;
            }
        }
        "s" if plain => {
            if let Ok(n) = digits_.parse::<u64>() {
                if digits_.len() == 4 && n % 10 == 0 {
                    w.extend(decade(n));
                } else {
                    let mut c = number_words(digits_);
                    if let Some(last) = c.last_mut() {
                        *last = plural(last);
                    }
                    w.extend(c);
                }
                return w;
            }
        }
        _ => {}
    }
    w.extend(number_words(digits_));
    w
}

/// The value of `text` as a Roman numeral of two or more capitals I, V, X, in strict form
/// (`II` … `XXXIX`); `None` for anything else (the pronoun `I`, `VX`, `IIII`).
fn roman(text: &str) -> Option<u64> {
    if text.len() < 2 || !text.bytes().all(|b| matches!(b, b'I' | b'V' | b'X')) {
        return None;
    }
    // Tens, then units, each in its one strict spelling.
    const UNITS: [&str; 10] = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"];
    let tens = text.bytes().take_while(|&b| b == b'X').count();
    let units = UNITS.iter().position(|&u| u == &text[tens..])?;
    (tens <= 3).then_some(10 * tens as u64 + units as u64)
}

/// Nouns a Roman numeral after them counts (`Chapter IV` → chapter four).
const COUNTED: [&str; 18] = [
    "chapter", "part", "book", "act", "scene", "volume", "vol", "section", "level", "stage", "phase", "episode", "season", "round", "tier", "class", "war", "mark",
];

/// A Roman numeral `n` after the word `prev` (as written): a count after a counting noun (`Chapter IV` →
/// four), a regnal number after another capitalised word (`Henry VIII` → the eighth), else the
/// number.
fn roman_words(n: u64, prev: &str) -> Vec<String> {
    if prev.starts_with(char::is_uppercase) && !COUNTED.contains(&prev.to_lowercase().as_str()) {
        let mut w = vec!["the".to_string()];
        w.extend(ordinal(n));
        w
    } else {
        cardinal(n)
    }
}

/// Whether `text` after a number is a unit's abbreviation to spell: two to four lower-case
/// letters without a vowel (`km`, `kg`, `mm`, `ft`, `yd`, `hrs`), but `lb`/`lbs`, which the
/// dictionary reads as "pounds".
fn is_unit_letters(text: &str) -> bool {
    (2..=4).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_lowercase())
        && !lexicon::has_vowel_letter(text)
        && !matches!(text, "lb" | "lbs")
}

/// Whether a token is the word `am`/`pm` (dotted or not).
fn is_ampm(t: Option<&Token>) -> bool {
    matches!(t, Some(Token::Word { text, .. }) if matches!(text.to_lowercase().as_str(), "am" | "pm"))
}

/// The words of a clause.
pub(super) fn normalize(tokens: &[Token]) -> Vec<Item> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let next = tokens.get(i + 1);
        match &tokens[i] {
            Token::Word {
                text,
                abbrev,
                initialism,
            } => {
                let lower = text.to_lowercase();
                if *initialism {
                    match lower.as_str() {
                        "eg" => out.extend(words(vec!["for".into(), "example".into()])),
                        "ie" => out.extend(words(vec!["that".into(), "is".into()])),
                        _ => out.push(Item::Spell(lower)),
                    }
                } else if *abbrev {
                    let next_capital = matches!(next, Some(Token::Word { text, .. }) if text.starts_with(char::is_uppercase));
                    let expansion: &[&str] = match lower.as_str() {
                        "dr" => &["doctor"],
                        "mr" => &["mister"],
                        "mrs" => &["missus"],
                        "ms" => &["miz"],
                        "prof" => &["professor"],
                        "st" if next_capital => &["saint"],
                        "st" => &["street"],
                        "mt" => &["mount"],
                        "sgt" => &["sergeant"],
                        "capt" => &["captain"],
                        "lt" => &["lieutenant"],
                        "col" => &["colonel"],
                        "gen" => &["general"],
                        "rev" => &["reverend"],
                        "fr" => &["father"],
                        "vs" => &["versus"],
                        "approx" => &["approximately"],
                        "dept" => &["department"],
                        "ave" => &["avenue"],
                        "etc" => &["et", "cetera"],
                        "jr" => &["junior"],
                        "sr" => &["senior"],
                        "inc" => &["incorporated"],
                        "ltd" => &["limited"],
                        "co" => &["company"],
                        "no" => &["number"],
                        _ => &[],
                    };
                    if expansion.is_empty() {
                        out.push(Item::Word(text.clone()));
                    } else {
                        out.extend(expansion.iter().map(|w| Item::Word((*w).into())));
                    }
                } else if (lower == "am" || lower == "pm")
                    && matches!(
                        i.checked_sub(1).map(|j| &tokens[j]),
                        Some(Token::Number { .. })
                    )
                {
                    out.push(Item::Spell(lower));
                } else if matches!(i.checked_sub(1).map(|j| &tokens[j]), Some(Token::Number { .. })) && is_unit_letters(text) {
                    // `40 km`, `5 kg`, `10 ft`: a unit's letters, spelled as espeak-ng spells
                    // them (read as an unknown vowelless word they were its consonants, "kɡ").
                    out.push(Item::Spell(lower));
                } else if let Some((n, prev)) = roman(text).zip(i.checked_sub(1).and_then(|j| match &tokens[j] {
                    Token::Word { text, .. } => Some(text),
                    _ => None,
                })) {
                    out.extend(words(roman_words(n, prev)));
                } else {
                    out.push(Item::Word(text.clone()));
                }
            }
            Token::Number {
                digits: d,
                negative,
                suffix,
            } => {
                let percent = matches!(next, Some(Token::Symbol('%')));
                out.extend(words(number_token(d, *negative, suffix, is_ampm(next))));
                if percent {
                    out.push(Item::Word("percent".into()));
                    i += 1;
                }
            }
            Token::Symbol(c) => {
                if let Some((one, many, cent, cents)) = currency(*c) {
                    match next {
                        Some(Token::Number {
                            digits: d,
                            negative,
                            suffix,
                        }) if suffix.is_empty() => {
                            let scale = match tokens.get(i + 2) {
                                Some(Token::Word { text, .. })
                                    if SCALE_WORDS.contains(&text.to_lowercase().as_str()) =>
                                {
                                    Some(text.to_lowercase())
                                }
                                _ => None,
                            };
                            if *negative {
                                out.push(Item::Word("minus".into()));
                            }
                            let int_part = d.split('.').next().unwrap_or("").replace(',', "");
                            let frac = d.split_once('.').map(|(_, f)| f);
                            if let Some(scale) = scale {
                                out.extend(words(number_words(d)));
                                out.push(Item::Word(scale));
                                out.push(Item::Word(many.into()));
                                i += 3;
                                continue;
                            }
                            let units: u64 = int_part.parse().unwrap_or(2);
                            match frac {
                                Some(f) if f.len() == 2 => {
                                    let c: u64 = f.parse().unwrap_or(0);
                                    if units > 0 || c == 0 {
                                        out.extend(words(cardinal_str(&int_part)));
                                        out.push(Item::Word(
                                            if units == 1 { one } else { many }.into(),
                                        ));
                                    }
                                    if c > 0 {
                                        if units > 0 {
                                            out.push(Item::Word("and".into()));
                                        }
                                        out.extend(words(cardinal(c)));
                                        out.push(Item::Word(
                                            if c == 1 { cent } else { cents }.into(),
                                        ));
                                    }
                                }
                                _ => {
                                    out.extend(words(number_words(d)));
                                    out.push(Item::Word(
                                        if units == 1 && frac.is_none() {
                                            one
                                        } else {
                                            many
                                        }
                                        .into(),
                                    ));
                                }
                            }
                            i += 2;
                            continue;
                        }
                        _ => out.push(Item::Word(one.into())),
                    }
                } else if *c == '°' {
                    // `1°` one degree, `20°C` twenty degrees Celsius.
                    let one = matches!(i.checked_sub(1).map(|j| &tokens[j]), Some(Token::Number { digits, .. }) if digits == "1");
                    out.push(Item::Word(if one { "degree" } else { "degrees" }.into()));
                    let scale = match next {
                        Some(Token::Word { text, .. }) if text == "C" => Some("celsius"),
                        Some(Token::Word { text, .. }) if text == "F" => Some("fahrenheit"),
                        _ => None,
                    };
                    if let Some(scale) = scale {
                        out.push(Item::Word(scale.into()));
                        i += 1;
                    }
                } else {
                    let w = match c {
                        '%' => "percent",
                        '&' => "and",
                        '+' => "plus",
                        '@' => "at",
                        '=' => "equals",
                        // `#1` number one; a `#` elsewhere (a hashtag) is not read.
                        '#' if matches!(next, Some(Token::Number { .. })) => "number",
                        _ => "",
                    };
                    if !w.is_empty() {
                        out.push(Item::Word(w.into()));
                    }
                }
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::split::split;
    use super::*;

    fn norm(text: &str) -> String {
        split(text)
            .iter()
            .flatten()
            .flat_map(|c| normalize(&c.tokens))
            .map(|i| match i {
                Item::Word(w) => w,
                Item::Spell(s) => format!("<{s}>"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn numbers_money_times_dates() {
        assert_eq!(
            norm("1,250 soldiers"),
            "one thousand two hundred fifty soldiers"
        );
        assert_eq!(norm("-5 degrees"), "minus five degrees");
        assert_eq!(norm("75%"), "seventy five percent");
        assert_eq!(norm("$3.50"), "three dollars and fifty cents");
        assert_eq!(norm("$1"), "one dollar");
        assert_eq!(norm("£10 €2"), "ten pounds two euros");
        assert_eq!(
            norm("$2.75 million"),
            "two point seven five million dollars"
        );
        assert_eq!(norm("in 1999"), "in nineteen ninety nine");
        assert_eq!(norm("in 2019"), "in two thousand nineteen");
        assert_eq!(norm("the 1990s"), "the nineteen nineties");
        assert_eq!(norm("2nd 21st 22nd"), "second twenty first twenty second");
        assert_eq!(norm("3:30"), "three thirty");
        assert_eq!(norm("10:05 pm"), "ten oh five <pm>");
        assert_eq!(norm("at 11:00"), "at eleven o'clock");
        assert_eq!(norm("5 p.m."), "five <pm>");
        assert_eq!(norm("3/4/2024"), "march fourth two thousand twenty four");
        assert_eq!(norm("1/2 price 2/3 of 3/4 and 5/8"), "one half price two thirds of three quarters and five eighths");
        assert_eq!(norm("on 5/14 and 12/3"), "on may fourteenth and december third");
        assert_eq!(norm("#1 and #fun"), "number one and fun");
        assert_eq!(norm("5°C and 1° and 90 °F"), "five degrees celsius and one degree and ninety degrees fahrenheit");
        assert_eq!(norm("King Henry VIII and Louis XIV"), "King Henry the eighth and Louis the fourteenth");
        assert_eq!(norm("Chapter IV of World War II"), "Chapter four of World War two");
        assert_eq!(norm("I said XI IIII VX MIX"), "I said eleven IIII VX MIX");
        assert_eq!(norm("0.5"), "zero point five");
        assert_eq!(norm("40 km, 5kg, 3 mm, 4 yd, 2 hrs, 180 lbs, 2 days, psst"), "forty <km> five <kg> three <mm> four <yd> two <hrs> one hundred eighty lbs two days psst");
        assert_eq!(
            norm("Dr. Smith, St. Louis, Baker St. now"),
            "doctor Smith saint Louis Baker street now"
        );
        assert_eq!(
            norm("No. 5 etc. e.g. i.e. vs."),
            "number five et cetera for example that is versus"
        );
    }
}
