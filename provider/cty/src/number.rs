//! cty numbers: arbitrary-precision decimals plus the two infinities.
//!
//! A number is stored as canonical decimal text so that numerically equal numbers are equal
//! under derived `Eq`/`Hash` (`"1.0"`, `"1e0"` and `"1"` are one number). Canonical form is
//! plain positional notation without exponent, without leading zeros in the integer part and
//! without trailing zeros in the fraction; zero is `"0"` (never `"-0"`). The infinities are
//! `"+Inf"` and `"-Inf"`, the spelling cty itself uses.

use std::cmp::Ordering;
use std::fmt;

/// The longest canonical text accepted. Covers every float64 written out exactly (the
/// smallest subnormal needs 1076 characters) while keeping hostile exponents like `1e999999999`
/// from turning into gigabytes of zeros.
const MAX_TEXT_LEN: usize = 2048;

const POS_INF: &str = "+Inf";
const NEG_INF: &str = "-Inf";

/// A cty number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    /// The number zero.
    pub fn zero() -> Number {
        Number("0".to_owned())
    }

    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }

    pub fn from_u64(u: u64) -> Number {
        Number(u.to_string())
    }

    /// Positive or negative infinity.
    pub fn infinity(negative: bool) -> Number {
        Number(if negative { NEG_INF } else { POS_INF }.to_owned())
    }

    /// The exact value of `f` (not its shortest decimal spelling): `0.1f64` becomes
    /// `0.1000000000000000055511151231257827021181583404541015625`, so that a float that
    /// arrived on the wire is written back as the very same float. `None` for NaN.
    pub fn from_f64(f: f64) -> Option<Number> {
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return Some(Number::infinity(f < 0.0));
        }
        // The exact decimal expansion of a binary fraction has as many fractional digits as
        // the value has fractional bits, so asking for exactly that precision prints it
        // exactly (Rust's fixed-precision float formatting is exact, not shortest-round-trip).
        let digits = fractional_bits(f);
        let text = format!("{f:.digits$}");
        // The formatted text always parses; fall back to None rather than panic regardless.
        Number::parse(&text)
    }

    /// Parses decimal or scientific notation (`"12"`, `"-0.50"`, `"1e2"`, `"+3.2E-4"`) and the
    /// infinities (`"+Inf"`, `"-inf"`, `"Infinity"`). Returns `None` for anything else,
    /// including NaN, empty text, and numbers whose canonical text would exceed 2048 characters.
    pub fn parse(s: &str) -> Option<Number> {
        let (negative, rest) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Some(Number::infinity(negative));
        }

        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let exponent = match exponent {
            Some(text) => parse_exponent(text)?,
            None => 0,
        };

        let all_digits = format!("{int_part}{frac_part}");
        let significant = all_digits.trim_start_matches('0');
        if significant.is_empty() {
            return Some(Number::zero());
        }
        let trimmed = significant.trim_end_matches('0');
        let trailing_zeros = significant.len() - trimmed.len();
        // value = trimmed × 10^scale
        let scale =
            i64::try_from(trailing_zeros).ok()? + exponent - i64::try_from(frac_part.len()).ok()?;
        let digit_count = i64::try_from(trimmed.len()).ok()?;
        // The decimal point sits `point` digits from the left of `trimmed`.
        let point = digit_count + scale;

        let text_len = if point <= 0 {
            2 + (-point) + digit_count
        } else if point >= digit_count {
            point
        } else {
            digit_count + 1
        };
        if text_len + 1 > i64::try_from(MAX_TEXT_LEN).ok()? {
            return None;
        }

        let mut out = String::with_capacity(usize::try_from(text_len + 1).ok()?);
        if negative {
            out.push('-');
        }
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', usize::try_from(-point).ok()?));
            out.push_str(trimmed);
        } else if point >= digit_count {
            out.push_str(trimmed);
            out.extend(std::iter::repeat_n(
                '0',
                usize::try_from(point - digit_count).ok()?,
            ));
        } else {
            let split = usize::try_from(point).ok()?;
            out.push_str(trimmed.get(..split)?);
            out.push('.');
            out.push_str(trimmed.get(split..)?);
        }
        Some(Number(out))
    }

    /// `Some` only if the number is an integer within `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_infinite() || self.0.contains('.') {
            return None;
        }
        self.0.parse().ok()
    }

    /// `Some` only if the number is a non-negative integer within `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        if self.is_infinite() || self.0.contains('.') {
            return None;
        }
        self.0.parse().ok()
    }

    /// The nearest float64 (infinite for out-of-range magnitudes).
    pub fn as_f64(&self) -> f64 {
        match self.0.as_str() {
            POS_INF => f64::INFINITY,
            NEG_INF => f64::NEG_INFINITY,
            // Canonical text is always valid float syntax; 0.0 is an unreachable fallback.
            text => text.parse().unwrap_or(0.0),
        }
    }

    /// `Some(f)` if the number is exactly the value of the finite float64 `f`.
    pub fn as_exact_f64(&self) -> Option<f64> {
        if self.is_infinite() {
            return None;
        }
        let f = self.as_f64();
        if !f.is_finite() {
            return None;
        }
        // Cheap rejection before formatting: an exact float with k fractional bits has
        // exactly k fractional decimal digits.
        let frac_len = self.0.split_once('.').map_or(0, |(_, frac)| frac.len());
        if frac_len != fractional_bits(f) {
            return None;
        }
        (Number::from_f64(f).as_ref() == Some(self)).then_some(f)
    }

    pub fn is_infinite(&self) -> bool {
        self.0 == POS_INF || self.0 == NEG_INF
    }

    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// Whether the number has no fractional part (infinities are not integers).
    pub fn is_integer(&self) -> bool {
        !self.is_infinite() && !self.0.contains('.')
    }

    /// The canonical text: plain decimal, or `+Inf`/`-Inf`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn rank(&self) -> i8 {
        match self.0.as_str() {
            NEG_INF => -2,
            POS_INF => 2,
            text if text.starts_with('-') => -1,
            _ => 0,
        }
    }

    /// Integer and fractional digits of a finite number's magnitude.
    fn magnitude(&self) -> (&str, &str) {
        let text = self.0.trim_start_matches('-');
        text.split_once('.').unwrap_or((text, ""))
    }
}

/// Compares magnitudes of two canonical finite numbers.
fn cmp_magnitude(a: &Number, b: &Number) -> Ordering {
    let (a_int, a_frac) = a.magnitude();
    let (b_int, b_frac) = b.magnitude();
    // No leading zeros in canonical integer parts (other than a lone "0"), so a longer integer
    // part is a larger magnitude; fractions have no trailing zeros, so they compare as text.
    a_int
        .len()
        .cmp(&b_int.len())
        .then_with(|| a_int.cmp(b_int))
        .then_with(|| a_frac.cmp(b_frac))
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.rank(), other.rank());
        if a != b {
            return a.cmp(&b);
        }
        match a {
            0 => cmp_magnitude(self, other),
            -1 => cmp_magnitude(other, self),
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::from_i64(i)
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        Number::from_u64(u)
    }
}

/// Parses an exponent, saturating huge values (they are rejected by the length limit anyway).
fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        value = value
            .saturating_mul(10)
            .saturating_add(i64::from(b - b'0'))
            .min(1_000_000_000);
    }
    Some(if negative { -value } else { value })
}

/// How many binary digits a finite float has after the point (0 for integers).
fn fractional_bits(f: f64) -> usize {
    let bits = f.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mut mantissa = bits & ((1u64 << 52) - 1);
    let mut exponent = if biased == 0 {
        -1074
    } else {
        mantissa |= 1u64 << 52;
        biased - 1075
    };
    if mantissa == 0 {
        return 0;
    }
    exponent += i32::try_from(mantissa.trailing_zeros()).unwrap_or(0);
    usize::try_from(-exponent).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn canonicalises_equal_spellings() {
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1e2"), n("100"));
        assert_eq!(n("100E-2"), n("1"));
        assert_eq!(n("-0"), n("0"));
        assert_eq!(n("-0.000"), Number::zero());
        assert_eq!(n("0012.3400").as_str(), "12.34");
        assert_eq!(n(".5").as_str(), "0.5");
        assert_eq!(n("5.").as_str(), "5");
        assert_eq!(n("+1.5e-3").as_str(), "0.0015");
        assert_eq!(n("-12.5e1").as_str(), "-125");
        assert_eq!(n("0e999999999999999").as_str(), "0");
        assert_eq!(n("-inf"), Number::infinity(true));
        assert_eq!(n("+Inf").as_str(), "+Inf");
    }

    #[test]
    fn rejects_garbage_and_oversize() {
        for bad in [
            "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "NaN", "0x10", "1_000", " 1", "--1",
        ] {
            assert_eq!(Number::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Number::parse("1e999999999"), None);
        assert_eq!(Number::parse("1e-999999999"), None);
        assert!(Number::parse("1e2000").is_some());
    }

    #[test]
    fn orders_numerically() {
        let sorted = [
            "-Inf", "-100", "-2.5", "-2", "-0.5", "0", "0.05", "0.5", "0.51", "1", "9", "10",
            "1e30", "+Inf",
        ];
        for pair in sorted.windows(2) {
            assert!(n(pair[0]) < n(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn exact_floats() {
        assert_eq!(Number::from_f64(0.5).unwrap().as_str(), "0.5");
        assert_eq!(
            Number::from_f64(0.1).unwrap().as_str(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(
            Number::from_f64(1e20).unwrap().as_str(),
            "100000000000000000000"
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::zero());
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(5e-324).unwrap().as_f64(), 5e-324);
        assert_eq!(n("0.5").as_exact_f64(), Some(0.5));
        assert_eq!(n("0.1").as_exact_f64(), None);
        assert_eq!(
            n("9223372036854775808").as_exact_f64(),
            Some(9.223_372_036_854_776e18)
        );
        assert_eq!(n("18446744073709551615").as_exact_f64(), None);
        assert_eq!(Number::from_f64(0.1).unwrap().as_exact_f64(), Some(0.1));
    }

    #[test]
    fn integer_views() {
        assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(Number::infinity(false).as_i64(), None);
        assert_eq!(Number::infinity(true).as_f64(), f64::NEG_INFINITY);
    }
}
