//! RFC 3339 timestamps as [`SystemTime`]s, for the logs and tags the harnesses read (Terraform's
//! log lines, the provider's `timestamp=` field, a parked generation's `until=`). No time zone
//! database: the offset is in the text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-12-06T03:50:00.123Z`, `…123456Z` or `…+0100` / `…+01:00` as a [`SystemTime`].
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let (date, time) = text.split_once('T')?;
    let mut ymd = date.split('-').map(str::parse::<i64>);
    let (year, month, day) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let zone_at = time.find(['Z', '+', '-'])?;
    let (clock, zone) = time.split_at(zone_at);
    let mut hms = clock.splitn(3, ':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let seconds: f64 = hms.next()?.parse().ok()?;
    let offset_min = if zone == "Z" {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
        let hours: i64 = digits.get(..2)?.parse().ok()?;
        let minutes: i64 = digits.get(2..4).unwrap_or("0").parse().ok()?;
        sign * (hours * 60 + minutes)
    };
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hour * 3_600 + minute * 60 - offset_min * 60;
    #[allow(
        clippy::cast_precision_loss,
        reason = "seconds since 1970 fit a double's 53 bits exactly"
    )]
    let unix = whole as f64 + seconds;
    (unix >= 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(unix))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(t: SystemTime) -> f64 {
        t.duration_since(UNIX_EPOCH)
            .map_or(-1.0, |d| d.as_secs_f64())
    }

    #[test]
    fn timestamps_parse_in_utc_and_with_offsets() {
        let utc = parse_rfc3339("2026-12-06T03:50:00.123Z").map_or(-1.0, unix);
        assert!((utc - 1_796_529_000.123).abs() < 1e-3, "{utc}");
        let micros = parse_rfc3339("2026-12-06T03:50:00.123456Z").map_or(-1.0, unix);
        assert!((micros - 1_796_529_000.123_456).abs() < 1e-5, "{micros}");
        let plus = parse_rfc3339("2026-12-06T04:50:00.123+0100").map_or(-1.0, unix);
        assert!((plus - utc).abs() < 1e-3, "{plus}");
        let colon = parse_rfc3339("2026-12-05T22:50:00.123-05:00").map_or(-1.0, unix);
        assert!((colon - utc).abs() < 1e-3, "{colon}");
        let whole = parse_rfc3339("1970-01-02T00:00:01Z").map_or(-1.0, unix);
        assert!((whole - 86_401.0).abs() < 1e-6, "{whole}");
        assert!(parse_rfc3339("not a time").is_none());
    }
}
