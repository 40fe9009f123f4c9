//! Attribute values of the markup (SSML 1.1's forms, the subset a game line needs). Each parser
//! returns the reason a value is refused; the caller adds where it stands.

/// Longest break: longer silences are better made by the game than by a line.
pub const MAX_BREAK_S: f32 = 60.0;
/// Slowest and fastest speaking rate (as a speed multiplier) the voice is asked for.
const RATE: (f32, f32) = (0.25, 4.0);
/// Largest pitch shift either way, in semitones.
const MAX_PITCH_ST: f32 = 12.0;
/// Loudest gain, in dB (quieter is unbounded: `silent`).
const MAX_VOLUME_DB: f32 = 24.0;

fn number(s: &str) -> Option<f32> {
    s.trim().parse::<f32>().ok().filter(|v| v.is_finite())
}

/// `<break time>`: `300ms`, `1.5s`.
pub fn time(s: &str) -> Result<f32, String> {
    let secs = if let Some(ms) = s.strip_suffix("ms") {
        number(ms).map(|v| v / 1000.0)
    } else {
        s.strip_suffix('s').and_then(number)
    };
    match secs {
        Some(v) if (0.0..=MAX_BREAK_S).contains(&v) => Ok(v),
        Some(_) => Err(format!("break time `{s}` is outside 0–{MAX_BREAK_S} s")),
        None => Err(format!("break time `{s}` is not a time (`300ms`, `1.5s`)")),
    }
}

/// `<break strength>` → seconds.
pub fn strength(s: &str) -> Result<f32, String> {
    Ok(match s {
        "none" => 0.0,
        "x-weak" => 0.1,
        "weak" => 0.25,
        "medium" => 0.4,
        "strong" => 0.75,
        "x-strong" => 1.2,
        _ => return Err(format!("break strength `{s}` is not one of none, x-weak, weak, medium, strong, x-strong")),
    })
}

/// `<prosody rate>` → duration multiplier. Keywords, `90%` (of the normal speed), `+10%` /
/// `-10%` (faster / slower by), or a speed multiplier `1.2`.
pub fn rate(s: &str) -> Result<f32, String> {
    let speed = match s {
        "x-slow" => Some(0.6),
        "slow" => Some(0.8),
        "medium" | "default" => Some(1.0),
        "fast" => Some(1.25),
        "x-fast" => Some(1.6),
        _ => match s.strip_suffix('%') {
            Some(p) if p.starts_with(['+', '-']) => number(p).map(|v| 1.0 + v / 100.0),
            Some(p) => number(p).map(|v| v / 100.0),
            None => number(s),
        },
    };
    match speed {
        Some(v) if (RATE.0..=RATE.1).contains(&v) => Ok(1.0 / v),
        Some(_) => Err(format!("rate `{s}` is outside {}–{} times the normal speed", RATE.0, RATE.1)),
        None => Err(format!("rate `{s}` is not x-slow, slow, medium, fast, x-fast, a percentage or a number")),
    }
}

/// `<prosody pitch>` → semitones. Keywords, `+2st` / `-3st`, `+10%` / `-10%` (of the frequency).
pub fn pitch(s: &str) -> Result<f32, String> {
    let st = match s {
        "x-low" => Some(-4.0),
        "low" => Some(-2.0),
        "medium" | "default" => Some(0.0),
        "high" => Some(2.0),
        "x-high" => Some(4.0),
        _ => {
            if let Some(v) = s.strip_suffix("st") {
                number(v)
            } else if let Some(p) = s.strip_suffix('%').filter(|p| p.starts_with(['+', '-'])) {
                number(p).filter(|v| *v > -100.0).map(|v| 12.0 * (1.0 + v / 100.0).log2())
            } else {
                None
            }
        }
    };
    match st {
        Some(v) if v.abs() <= MAX_PITCH_ST => Ok(v),
        Some(_) => Err(format!("pitch `{s}` is more than {MAX_PITCH_ST} semitones away")),
        None => Err(format!("pitch `{s}` is not x-low, low, medium, high, x-high, `+2st` or `+10%`")),
    }
}

/// `<prosody volume>` → dB. Keywords or `+3dB` / `-6dB`.
pub fn volume(s: &str) -> Result<f32, String> {
    let db = match s {
        "silent" => Some(f32::NEG_INFINITY),
        "x-soft" => Some(-12.0),
        "soft" => Some(-6.0),
        "medium" | "default" => Some(0.0),
        "loud" => Some(6.0),
        "x-loud" => Some(12.0),
        _ => s.strip_suffix("dB").and_then(number),
    };
    match db {
        Some(v) if v <= MAX_VOLUME_DB => Ok(v),
        Some(_) => Err(format!("volume `{s}` is above +{MAX_VOLUME_DB} dB")),
        None => Err(format!("volume `{s}` is not silent, x-soft, soft, medium, loud, x-loud or `-3dB`")),
    }
}

/// `<emphasis level>` → (duration multiplier, dB).
pub fn emphasis(s: &str) -> Result<(f32, f32), String> {
    Ok(match s {
        "strong" => (1.3, 6.0),
        "moderate" => (1.15, 3.0),
        "none" => (1.0, 0.0),
        "reduced" => (0.9, -3.0),
        _ => return Err(format!("emphasis level `{s}` is not strong, moderate, none or reduced")),
    })
}

/// `<style alpha>`.
pub fn alpha(s: &str) -> Result<f32, String> {
    number(s).ok_or_else(|| format!("alpha `{s}` is not a finite number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_refuse() {
        assert_eq!(time("300ms"), Ok(0.3));
        assert_eq!(time("1.5s"), Ok(1.5));
        assert!(time("300").is_err() && time("-1s").is_err() && time("61s").is_err() && time("NaNs").is_err());
        assert!((rate("90%").unwrap() - 1.0 / 0.9).abs() < 1e-6);
        assert!((rate("+25%").unwrap() - 0.8).abs() < 1e-6);
        assert_eq!(rate("slow"), Ok(1.25));
        assert!(rate("0%").is_err() && rate("quick").is_err() && rate("10").is_err());
        assert_eq!(pitch("+2st"), Ok(2.0));
        assert!((pitch("+100%").unwrap() - 12.0).abs() < 1e-5);
        assert!(pitch("2").is_err() && pitch("+13st").is_err() && pitch("-100%").is_err());
        assert_eq!(volume("-3dB"), Ok(-3.0));
        assert_eq!(volume("silent"), Ok(f32::NEG_INFINITY));
        assert!(volume("+30dB").is_err() && volume("3").is_err());
        assert!(emphasis("huge").is_err());
        assert_eq!(strength("strong"), Ok(0.75));
        assert!(alpha("inf").is_err() && alpha("x").is_err());
    }
}
