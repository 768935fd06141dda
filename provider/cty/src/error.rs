//! Codec errors. Each says where in the value it happened; decode errors also say where in the
//! input.

use std::fmt;

use crate::path::Path;

/// A value could not be decoded against the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}", Located { path: &self.path, offset: Some(self.offset), message: &self.message })]
pub struct DecodeError {
    path: Path,
    offset: usize,
    message: String,
}

impl DecodeError {
    pub(crate) fn new(path: Path, offset: usize, message: String) -> Self {
        DecodeError {
            path,
            offset,
            message,
        }
    }

    /// Where in the value the problem is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Byte offset into the input where the offending item starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The problem, without location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A value could not be encoded as the given type (it does not conform, or the format cannot
/// carry it, like an unknown in JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}", Located { path: &self.path, offset: None, message: &self.message })]
pub struct EncodeError {
    path: Path,
    message: String,
}

impl EncodeError {
    pub(crate) fn new(path: Path, message: String) -> Self {
        EncodeError { path, message }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Type JSON that is not a valid cty type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("invalid type: {message}")]
pub struct TypeError {
    message: String,
}

impl TypeError {
    pub(crate) fn new(message: String) -> Self {
        TypeError { message }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

struct Located<'a> {
    path: &'a Path,
    offset: Option<usize>,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str("at top level")?;
        } else {
            write!(f, "at {}", self.path)?;
        }
        if let Some(offset) = self.offset {
            write!(f, " (byte {offset})")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_path_offset_and_message() {
        let path = Path::root().attr("health_check").attr("timeout");
        let e = DecodeError::new(
            path.clone(),
            41,
            "expected string, found msgpack int".into(),
        );
        assert_eq!(
            e.to_string(),
            "at health_check.timeout (byte 41): expected string, found msgpack int"
        );
        assert_eq!(e.path(), &path);
        assert_eq!(e.offset(), 41);
        let e = EncodeError::new(Path::root(), "expected object, found string".into());
        assert_eq!(e.to_string(), "at top level: expected object, found string");
        assert_eq!(TypeError::new("x".into()).to_string(), "invalid type: x");
    }
}
