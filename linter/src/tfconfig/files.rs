//! The files of a module directory: which ones Terraform reads, read and parsed on every core.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::structure::Body;
use serde_json::Value;

use super::json;
use crate::source::{SourceError, parse_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Hcl,
    Json,
    /// `override.tf`, `*_override.tf`: merged into other blocks by Terraform, which this
    /// reader does not do.
    Override,
}

pub(super) fn file_kind(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let (stem, kind) = if let Some(stem) = name.strip_suffix(".tf.json") {
        (stem, FileKind::Json)
    } else if let Some(stem) = name.strip_suffix(".tf") {
        (stem, FileKind::Hcl)
    } else {
        return None;
    };
    if stem == "override" || stem.ends_with("_override") {
        Some(FileKind::Override)
    } else {
        Some(kind)
    }
}

pub(super) fn list_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// One parsed file.
#[derive(Debug)]
pub(super) struct ParsedFile {
    pub(super) path: PathBuf,
    pub(super) text: Arc<String>,
    pub(super) syntax: Syntax,
}

#[derive(Debug)]
pub(super) enum Syntax {
    Hcl(Body),
    Json(Value),
}

pub(super) fn parse_file(path: &Path, kind: FileKind) -> Result<ParsedFile, SourceError> {
    let bytes = std::fs::read(path).map_err(|source| SourceError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| SourceError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })?;
    let syntax = match kind {
        FileKind::Json => Syntax::Json(json::parse(path, &text)?),
        _ => Syntax::Hcl(
            hcl_edit::parser::parse_body(&text).map_err(|e| parse_error(path, &text, &e))?,
        ),
    };
    Ok(ParsedFile {
        path: path.to_owned(),
        text: Arc::new(text),
        syntax,
    })
}

/// Parses `paths` on every core: parsing is nearly all of configuration mode's time.
pub(super) fn parse_all(paths: &[(PathBuf, FileKind)]) -> Vec<Result<ParsedFile, SourceError>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if cores < 2 || paths.len() < 4 {
        return paths.iter().map(|(p, k)| parse_file(p, *k)).collect();
    }
    let chunk = paths.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(p, k)| parse_file(p, *k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(parsed) => parsed,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
