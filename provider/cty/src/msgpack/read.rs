//! Reading msgpack's primitive forms, each bounds-checked against the bytes that remain: ints,
//! floats and numbers, str and bin, array and map headers, extensions, and skipping any item.
//! Errors carry the byte offset and the decoder's current path.

use crate::codec::{MAX_DEPTH, snippet};
use crate::error::DecodeError;
use crate::number::Number;
use crate::path::{Path, PathStep};

/// A cursor over the input, and where in the value it is (for error paths).
pub(super) struct Decoder<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    pub(super) path: Vec<PathStep>,
}

/// A located extension value: its type and the byte range of its payload.
pub(super) struct Ext {
    pub(super) kind: i8,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn is_ext(marker: u8) -> bool {
    matches!(marker, 0xc7..=0xc9 | 0xd4..=0xd8)
}

/// What a marker byte introduces, for "found ..." messages.
fn describe(marker: u8) -> &'static str {
    match marker {
        0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => "msgpack int",
        0x80..=0x8f | 0xde | 0xdf => "msgpack map",
        0x90..=0x9f | 0xdc | 0xdd => "msgpack array",
        0xa0..=0xbf | 0xd9..=0xdb => "msgpack str",
        0xc0 => "msgpack nil",
        0xc1 => "reserved byte 0xc1",
        0xc2 | 0xc3 => "msgpack bool",
        0xc4..=0xc6 => "msgpack bin",
        0xc7..=0xc9 | 0xd4..=0xd8 => "msgpack ext",
        0xca | 0xcb => "msgpack float",
    }
}

impl<'a> Decoder<'a> {
    pub(super) fn err_at(&self, offset: usize, message: String) -> DecodeError {
        DecodeError::new(Path(self.path.clone()), offset, message)
    }

    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self, expected: &str) -> Result<u8, DecodeError> {
        self.buf.get(self.pos).copied().ok_or_else(|| {
            self.err_at(
                self.pos,
                format!("unexpected end of input, expected {expected}"),
            )
        })
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.buf.len())
            .ok_or_else(|| {
                self.err_at(
                    self.pos,
                    format!(
                        "{what} needs {n} bytes but only {} remain",
                        self.remaining()
                    ),
                )
            })?;
        let bytes = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(bytes)
    }

    fn be<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn be_len<const N: usize>(&mut self, what: &str) -> Result<usize, DecodeError> {
        let bytes: [u8; N] = self.be(what)?;
        let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        usize::try_from(len).map_err(|_| self.err_at(self.pos, format!("{what} is too long")))
    }

    fn mismatch(&self, at: usize, marker: u8, expected: &str) -> DecodeError {
        self.err_at(
            at,
            format!("expected {expected}, found {}", describe(marker)),
        )
    }

    pub(super) fn array_len(&mut self, expected: &str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        match m {
            0x90..=0x9f => Ok(usize::from(m & 0x0f)),
            0xdc => self.be_len::<2>("array length"),
            0xdd => self.be_len::<4>("array length"),
            _ => Err(self.mismatch(at, m, expected)),
        }
    }

    pub(super) fn map_len(&mut self, expected: &str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        match m {
            0x80..=0x8f => Ok(usize::from(m & 0x0f)),
            0xde => self.be_len::<2>("map length"),
            0xdf => self.be_len::<4>("map length"),
            _ => Err(self.mismatch(at, m, expected)),
        }
    }

    /// The bytes of a str or bin item.
    pub(super) fn raw_bytes(&mut self, expected: &str) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        let len = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 | 0xc4 => self.be_len::<1>("string length")?,
            0xda | 0xc5 => self.be_len::<2>("string length")?,
            0xdb | 0xc6 => self.be_len::<4>("string length")?,
            _ => {
                self.pos = at;
                return Err(self.mismatch(at, m, expected));
            }
        };
        self.take(len, "string")
    }

    pub(super) fn string(&mut self, expected: &str) -> Result<String, DecodeError> {
        let at = self.pos;
        let bytes = self.raw_bytes(expected)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.err_at(at, format!("{expected} is not valid UTF-8")))
    }

    pub(super) fn boolean(&mut self, expected: &str) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.peek(expected)? {
            0xc2 => {
                self.pos += 1;
                Ok(false)
            }
            0xc3 => {
                self.pos += 1;
                Ok(true)
            }
            m => Err(self.mismatch(at, m, expected)),
        }
    }

    /// Any msgpack integer, widened to i128 so both i64 and u64 fit.
    pub(super) fn integer(&mut self, expected: &str) -> Result<i128, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        Ok(match m {
            0x00..=0x7f => i128::from(m),
            0xe0..=0xff => i128::from(i8::from_be_bytes([m])),
            0xcc => i128::from(u8::from_be_bytes(self.be("uint8")?)),
            0xcd => i128::from(u16::from_be_bytes(self.be("uint16")?)),
            0xce => i128::from(u32::from_be_bytes(self.be("uint32")?)),
            0xcf => i128::from(u64::from_be_bytes(self.be("uint64")?)),
            0xd0 => i128::from(i8::from_be_bytes(self.be("int8")?)),
            0xd1 => i128::from(i16::from_be_bytes(self.be("int16")?)),
            0xd2 => i128::from(i32::from_be_bytes(self.be("int32")?)),
            0xd3 => i128::from(i64::from_be_bytes(self.be("int64")?)),
            _ => {
                self.pos = at;
                return Err(self.mismatch(at, m, expected));
            }
        })
    }

    pub(super) fn number(&mut self) -> Result<Number, DecodeError> {
        let at = self.pos;
        let m = self.peek("number")?;
        match m {
            0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => {
                let i = self.integer("number")?;
                Ok(match i64::try_from(i) {
                    Ok(i) => Number::from_i64(i),
                    // Only uint64 values above i64::MAX get here.
                    Err(_) => Number::from_u64(u64::try_from(i).unwrap_or(u64::MAX)),
                })
            }
            0xca | 0xcb => {
                self.pos += 1;
                let f = if m == 0xca {
                    f64::from(f32::from_be_bytes(self.be("float32")?))
                } else {
                    f64::from_be_bytes(self.be("float64")?)
                };
                Number::from_f64(f).ok_or_else(|| self.err_at(at, "NaN is not a number".to_owned()))
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                let text = self.string("number")?;
                Number::parse(&text).ok_or_else(|| {
                    self.err_at(at, format!("{} is not a valid number", snippet(&text)))
                })
            }
            _ => Err(self.mismatch(at, m, "number")),
        }
    }

    pub(super) fn ext(&mut self) -> Result<Ext, DecodeError> {
        let at = self.pos;
        let m = self.peek("ext")?;
        self.pos += 1;
        let len = match m {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.be_len::<1>("ext length")?,
            0xc8 => self.be_len::<2>("ext length")?,
            0xc9 => self.be_len::<4>("ext length")?,
            _ => return Err(self.mismatch(at, m, "ext")),
        };
        let kind = i8::from_be_bytes(self.be("ext type")?);
        let start = self.pos;
        self.take(len, "ext payload")?;
        Ok(Ext {
            kind,
            start,
            end: self.pos,
        })
    }

    /// Skips one msgpack item of any kind.
    pub(super) fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err_at(
                at,
                format!("value is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let m = self.peek("a msgpack item")?;
        match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => self.pos += 1,
            0xcc..=0xd3 => {
                self.integer("integer")?;
            }
            0xca => {
                self.pos += 1;
                self.take(4, "float32")?;
            }
            0xcb => {
                self.pos += 1;
                self.take(8, "float64")?;
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                self.raw_bytes("string")?;
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                self.ext()?;
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let n = self.array_len("array")?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let n = self.map_len("map")?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            0xc1 => {
                return Err(self.err_at(at, "reserved byte 0xc1 is not valid msgpack".to_owned()));
            }
        }
        Ok(())
    }
}
