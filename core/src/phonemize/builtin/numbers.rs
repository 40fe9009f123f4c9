//! Numbers as English words: cardinals (no "and", as espeak-ng reads them), ordinals, years,
//! decimals (digit by digit after "point").

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 6] = [
    (1_000_000_000_000_000_000, "quintillion"),
    (1_000_000_000_000_000, "quadrillion"),
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// Words of `n` < 1000 appended to `out`.
fn below_thousand(n: u64, out: &mut Vec<String>) {
    let (h, rest) = (n / 100, n % 100);
    if h > 0 {
        out.push(ONES[h as usize].into());
        out.push("hundred".into());
    }
    if rest >= 20 {
        out.push(TENS[(rest / 10) as usize].into());
        if rest % 10 > 0 {
            out.push(ONES[(rest % 10) as usize].into());
        }
    } else if rest > 0 || h == 0 {
        out.push(ONES[rest as usize].into());
    }
}

/// `n` in words: 1250 → one thousand two hundred fifty.
pub(super) fn cardinal(n: u64) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES {
        if rest >= scale {
            below_thousand(rest / scale, &mut out);
            out.push(name.into());
            rest %= scale;
        }
    }
    if rest > 0 || out.is_empty() {
        below_thousand(rest, &mut out);
    }
    out
}

/// The ordinal form of a cardinal's last word (`two` → `second`, `twenty` → `twentieth`).
fn ordinal_word(w: &str) -> String {
    match w {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// `n` as an ordinal: 22 → twenty second.
pub(super) fn ordinal(n: u64) -> Vec<String> {
    let mut words = cardinal(n);
    if let Some(last) = words.last_mut() {
        *last = ordinal_word(last);
    }
    words
}

/// `n` read as a year when it looks like one (1100–1999 → nineteen ninety-nine, 1900 →
/// nineteen hundred); other values as cardinals (2019 → two thousand nineteen).
pub(super) fn year(n: u64) -> Vec<String> {
    if !(1100..=1999).contains(&n) {
        return cardinal(n);
    }
    let (hi, lo) = (n / 100, n % 100);
    let mut out = cardinal(hi);
    match lo {
        0 => out.push("hundred".into()),
        1..=9 => {
            out.push("oh".into());
            out.extend(cardinal(lo));
        }
        _ => out.extend(cardinal(lo)),
    }
    out
}

/// A year's decade in the plural (1990 → nineteen nineties).
pub(super) fn decade(n: u64) -> Vec<String> {
    let mut words = year(n);
    if let Some(last) = words.last_mut() {
        *last = plural(last);
    }
    words
}

/// The plural of a number word (`ninety` → `nineties`, `six` → `sixes`).
pub(super) fn plural(w: &str) -> String {
    if let Some(stem) = w.strip_suffix('y') {
        format!("{stem}ies")
    } else if w.ends_with('x') {
        format!("{w}es")
    } else {
        format!("{w}s")
    }
}

/// Each digit of `digits` as a word (for the part after a decimal point).
pub(super) fn digits(digits: &str) -> Vec<String> {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize].to_string())
        .collect()
}

/// A digit string as words: a cardinal if it fits in `u64`, else digit by digit.
pub(super) fn cardinal_str(s: &str) -> Vec<String> {
    match s.parse::<u64>() {
        Ok(n) => cardinal(n),
        Err(_) => digits(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(w: Vec<String>) -> String {
        w.join(" ")
    }

    #[test]
    fn numbers_in_words() {
        assert_eq!(j(cardinal(0)), "zero");
        assert_eq!(j(cardinal(1250)), "one thousand two hundred fifty");
        assert_eq!(j(cardinal(1_000_000)), "one million");
        assert_eq!(j(cardinal(u64::MAX)).split(' ').next(), Some("eighteen"));
        assert_eq!(j(ordinal(22)), "twenty second");
        assert_eq!(j(ordinal(1)), "first");
        assert_eq!(j(ordinal(40)), "fortieth");
        assert_eq!(j(ordinal(12)), "twelfth");
        assert_eq!(j(year(1999)), "nineteen ninety nine");
        assert_eq!(j(year(1900)), "nineteen hundred");
        assert_eq!(j(year(1905)), "nineteen oh five");
        assert_eq!(j(year(2019)), "two thousand nineteen");
        assert_eq!(j(decade(1990)), "nineteen nineties");
        assert_eq!(j(digits("05")), "zero five");
        assert_eq!(
            j(cardinal_str("99999999999999999999999"))
                .split(' ')
                .count(),
            23
        );
    }
}
