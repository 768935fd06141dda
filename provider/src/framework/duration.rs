//! Go-style duration strings (`"90s"`, `"5m"`, `"1h30m"`, `"250ms"`), the convention
//! Terraform users know from `timeouts` blocks.

use std::fmt::Write as _;
use std::time::Duration;

/// Parses a non-negative duration such as `"10m"` or `"1h2m3.5s"`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; use a number with a unit, e.g. \"30s\" or \"10m\"".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!(
                "{text:?} is not a duration: expected a number at {rest:?}"
            ));
        }
        let (number, tail) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration: bad number {number:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "{text:?} is missing a unit: use ms, s, m or h (e.g. \"{number}s\")"
                ));
            }
            other => {
                return Err(format!(
                    "{text:?} has an unknown unit {other:?}: use ms, s, m or h"
                ));
            }
        };
        total += value * seconds;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("{text:?} is out of range"))
}

/// Formats a duration the way `parse` reads it, e.g. `"1m30s"`.
pub fn format(d: Duration) -> String {
    let mut secs = d.as_secs();
    let millis = d.subsec_millis();
    if secs == 0 && millis == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let hours = secs / 3600;
    secs %= 3600;
    let minutes = secs / 60;
    secs %= 60;
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    if millis > 0 {
        let _ = write!(out, "{secs}.{millis:03}s");
    } else if secs > 0 {
        let _ = write!(out, "{secs}s");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("10m").unwrap(), Duration::from_mins(10));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_mins(90));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_bad_durations_with_a_hint() {
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("10").unwrap_err().contains("missing a unit"));
        assert!(parse("5 minutes").is_err());
        assert!(parse("3d").unwrap_err().contains("unknown unit"));
        assert!(parse("-5s").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for s in ["0s", "30s", "10m", "1h30m", "1m0.250s", "2h5s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
