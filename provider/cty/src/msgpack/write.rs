//! msgpack's primitive forms, written the way go-cty's encoder picks them: the most compact
//! integer, float64, str and bin with their lengths, array and map headers, extension headers.
//! Failures are plain messages; the caller knows where in the value it is.

use crate::number::Number;

/// A number as cty writes it: an int when it fits `i64`, float64 when exactly representable
/// (infinities included), its decimal text otherwise.
pub(super) fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), String> {
    if let Some(i) = n.as_i64() {
        write_int(out, i);
    } else if n.is_infinite() {
        write_f64(
            out,
            if n.is_negative() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
        );
    } else if let Some(f) = n.as_exact_f64() {
        write_f64(out, f);
    } else {
        write_str(out, n.as_str())?;
    }
    Ok(())
}

/// Markers for (fix, 16-bit, 32-bit) lengths.
pub(super) type LenMarkers = (u8, u8, u8);
pub(super) const ARRAY_MARKERS: LenMarkers = (0x90, 0xdc, 0xdd);
pub(super) const MAP_MARKERS: LenMarkers = (0x80, 0xde, 0xdf);

pub(super) fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    (fix, m16, m32): LenMarkers,
) -> Result<(), String> {
    if len < 16 {
        // len < 16 fits the fix marker's low nibble.
        out.push(fix | u8::try_from(len).unwrap_or(0));
    } else if let Ok(l) = u16::try_from(len) {
        out.push(m16);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(m32);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!(
            "{len} elements exceed msgpack's 32-bit length limit"
        ));
    }
    Ok(())
}

pub(super) fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), String> {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | u8::try_from(len).unwrap_or(0));
    } else if let Ok(l) = u8::try_from(len) {
        out.push(0xd9);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0xdb);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!(
            "a string of {len} bytes exceeds msgpack's 32-bit length limit"
        ));
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

pub(super) fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), String> {
    let len = b.len();
    if let Ok(l) = u8::try_from(len) {
        out.push(0xc4);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xc5);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0xc6);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!("{len} bytes exceed msgpack's 32-bit length limit"));
    }
    out.extend_from_slice(b);
    Ok(())
}

/// The most compact integer encoding, as go-cty's encoder chooses it (non-negative values use
/// the unsigned forms).
pub(super) fn write_int(out: &mut Vec<u8>, i: i64) {
    if let Ok(u) = u64::try_from(i) {
        write_uint(out, u);
    } else if i >= -32 {
        out.extend_from_slice(&i8::try_from(i).unwrap_or(0).to_be_bytes());
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xd0);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xd1);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xd2);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

pub(super) fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 128 {
        out.push(u8::try_from(u).unwrap_or(0));
    } else if let Ok(v) = u8::try_from(u) {
        out.push(0xcc);
        out.push(v);
    } else if let Ok(v) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

pub(super) fn write_ext_header(out: &mut Vec<u8>, kind: i8, len: usize) {
    let fixed = match len {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    if let Some(marker) = fixed {
        out.push(marker);
    } else if let Ok(l) = u8::try_from(len) {
        out.push(0xc7);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xc8);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        // Callers cap the payload at 1 KiB, far below the 32-bit limit.
        out.push(0xc9);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
    out.extend_from_slice(&kind.to_be_bytes());
}
