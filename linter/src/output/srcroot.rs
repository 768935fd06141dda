//! Paths as code hosts want them: relative to the repository root, whatever directory the
//! linter ran in and however `--source` was spelled (`.`, `../infra`, an absolute path).
//!
//! GitHub resolves SARIF URIs and annotation `file=` paths against the repository root. A
//! workflow that runs in `infra/` with `--source .` knows its files as `main.tf`; the
//! repository knows them as `infra/main.tf`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::source::normalize;

/// The SARIF `uriBaseId` of [`SrcRoot`]-relative URIs.
pub const SRCROOT: &str = "%SRCROOT%";

/// The directory relative paths are measured from: the Git work tree that contains the
/// working directory, else the working directory itself.
#[derive(Debug, Clone)]
pub struct SrcRoot {
    dir: PathBuf,
}

impl SrcRoot {
    /// Found from the working directory; `None` only when that cannot be read.
    pub fn detect() -> Option<Self> {
        let cwd = std::env::current_dir().ok()?;
        let dir = cwd
            .ancestors()
            // `.git` is a directory in a clone and a file in a worktree or submodule.
            .find(|d| d.join(".git").exists())
            .map_or_else(|| cwd.clone(), Path::to_path_buf);
        Some(Self { dir })
    }

    /// A root at `dir` (absolute).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `path` (relative to the working directory, or absolute) relative to the root, with
    /// `/` separators; `None` when it lies outside the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let absolute = normalize(&std::path::absolute(path).ok()?);
        let relative = absolute.strip_prefix(&self.dir).ok()?;
        let text = relative.to_string_lossy().replace('\\', "/");
        (!text.is_empty()).then_some(text)
    }

    /// `path` for a GitHub annotation: root-relative, else absolute.
    pub fn annotation_path(&self, path: &Path) -> String {
        self.relative(path).unwrap_or_else(|| absolute_text(path))
    }

    /// A SARIF `artifactLocation`: a percent-encoded root-relative `uri` with
    /// `uriBaseId: %SRCROOT%`, or an absolute `file:` URI for a file outside the root.
    pub fn artifact_location(&self, path: &Path) -> serde_json::Value {
        match self.relative(path) {
            Some(relative) => serde_json::json!({
                "uri": encode_path(&relative),
                "uriBaseId": SRCROOT,
            }),
            None => serde_json::json!({ "uri": file_uri(&absolute_text(path), false) }),
        }
    }

    /// The root as an absolute `file:` URI ending in `/`, for SARIF `originalUriBaseIds`.
    pub fn uri(&self) -> String {
        file_uri(&self.dir.to_string_lossy().replace('\\', "/"), true)
    }
}

fn absolute_text(path: &Path) -> String {
    let absolute = std::path::absolute(path).map_or_else(|_| path.to_owned(), |p| normalize(&p));
    absolute.to_string_lossy().replace('\\', "/")
}

/// `file:///abs/path` (a Windows `C:/x` becomes `file:///C:/x`).
fn file_uri(absolute: &str, directory: bool) -> String {
    let mut uri = String::from("file://");
    if !absolute.starts_with('/') {
        uri.push('/');
    }
    uri.push_str(&encode_path(absolute));
    if directory && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes what RFC 3986 does not allow in a path (spaces, `%`, `#`, `?`, non-ASCII…).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn paths_are_relative_to_the_root_whatever_the_spelling() {
        let root = SrcRoot::at("/repo");
        assert_eq!(
            root.relative(Path::new("/repo/infra/./modules/../main.tf")),
            Some("infra/main.tf".to_owned())
        );
        assert_eq!(root.relative(Path::new("/elsewhere/main.tf")), None);
        assert_eq!(
            root.annotation_path(Path::new("/elsewhere/main.tf")),
            "/elsewhere/main.tf"
        );
    }

    #[test]
    fn sarif_uris_conform_to_rfc_3986() {
        let root = SrcRoot::at("/repo dir");
        assert_eq!(
            root.artifact_location(Path::new("/repo dir/my infra/main#1.tf")),
            serde_json::json!({"uri": "my%20infra/main%231.tf", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            root.artifact_location(Path::new("/other/ü.tf")),
            serde_json::json!({"uri": "file:///other/%C3%BC.tf"})
        );
        assert_eq!(root.uri(), "file:///repo%20dir/");
        assert_eq!(file_uri("C:/x y", false), "file:///C:/x%20y");
    }
}
