//! Maps resource addresses to `file:line` in the Terraform configuration (`--source DIR`),
//! following module calls, and reads inline waivers:
//!
//! ```hcl
//! # immutable-lint:ignore IMM001 bastion is replaced in Q3
//! resource "aws_instance" "bastion" { … }
//! ```
//!
//! A directive applies to the block it precedes (contiguous comment lines directly above)
//! or sits in. On a `module` block it covers every resource of that module call.

mod ignore;

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

use crate::position::{LineIndex, SourceLocation};
pub use ignore::InlineIgnore;
use ignore::{directives, parse_directive};

const MAX_MODULE_DEPTH: usize = 32;

/// A problem reading the configuration directory. Exit status 2.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum SourceError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(source::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid HCL: {message}", path.display())]
    #[diagnostic(code(source::hcl), help("`terraform validate` shows the same problem"))]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        #[source_code]
        source_code: NamedSource<String>,
        #[label("{message}")]
        span: SourceSpan,
    },
    #[error("{} has no .tf files", path.display())]
    #[diagnostic(
        code(source::empty),
        help("--source takes the directory you run `terraform plan` in")
    )]
    NoConfiguration { path: PathBuf },
    #[error("{} has no Terraform files (*.tf, *.tf.json)", path.display())]
    #[diagnostic(
        code(source::empty),
        help("pass the directory you run `terraform plan` in")
    )]
    NoTerraformFiles { path: PathBuf },
}

#[derive(Debug, Clone)]
struct BlockEntry {
    location: SourceLocation,
    ignores: Vec<InlineIgnore>,
}

/// Addresses → blocks for one configuration tree.
#[derive(Debug, Default)]
pub struct SourceMap {
    resources: HashMap<String, BlockEntry>,
    modules: HashMap<String, BlockEntry>,
    files: HashMap<PathBuf, Arc<String>>,
    /// Directives attached to no block (a blank line between comment and block, a directive
    /// in `locals`, …): reported, since they apply to nothing.
    detached: Vec<InlineIgnore>,
    /// Module calls that could not be followed (remote source, not downloaded).
    pub unresolved_modules: Vec<String>,
}

#[derive(Deserialize)]
struct ModulesManifest {
    #[serde(rename = "Modules", default)]
    modules: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Dir")]
    dir: String,
}

impl SourceMap {
    /// Reads every `*.tf` file of `root` and of the modules it calls.
    pub fn load(root: &Path) -> Result<Self, SourceError> {
        let mut map = Self::default();
        let manifest = read_manifest(root);
        let mut stack = HashSet::new();
        let found = map.load_module(root, "", "", &manifest, &mut stack, 0)?;
        if found == 0 {
            return Err(SourceError::NoConfiguration {
                path: root.to_owned(),
            });
        }
        Ok(map)
    }

    /// Returns the number of `.tf` files read in `dir`.
    fn load_module(
        &mut self,
        dir: &Path,
        prefix: &str,
        manifest_key: &str,
        manifest: &HashMap<String, PathBuf>,
        stack: &mut HashSet<PathBuf>,
        depth: usize,
    ) -> Result<usize, SourceError> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        if depth > MAX_MODULE_DEPTH || !stack.insert(canonical.clone()) {
            return Ok(0);
        }
        let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
            .collect();
        files.sort();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|source| SourceError::Read {
                path: file.clone(),
                source,
            })?;
            let body =
                hcl_edit::parser::parse_body(&text).map_err(|e| parse_error(file, &text, &e))?;
            let calls = self.index_file(file, &text, &body, prefix);
            self.files.insert(file.clone(), Arc::new(text));
            for (name, source) in calls {
                let child_prefix = if prefix.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{prefix}.module.{name}")
                };
                let child_key = if manifest_key.is_empty() {
                    name.clone()
                } else {
                    format!("{manifest_key}.{name}")
                };
                let local = source.starts_with("./") || source.starts_with("../");
                let child_dir = if local {
                    Some(normalize(&dir.join(&source)))
                } else {
                    manifest.get(&child_key).map(|d| normalize(d.as_path()))
                };
                if let Some(child_dir) = child_dir.filter(|d| d.is_dir()) {
                    self.load_module(
                        &child_dir,
                        &child_prefix,
                        &child_key,
                        manifest,
                        stack,
                        depth + 1,
                    )?;
                } else {
                    tracing::debug!(
                        "module {child_prefix} ({source}) is not on disk; its resources have no location"
                    );
                    self.unresolved_modules.push(child_prefix);
                }
            }
        }
        stack.remove(&canonical);
        Ok(files.len())
    }

    /// Records the file's resource and module blocks; returns its module calls (name, source).
    fn index_file(
        &mut self,
        file: &Path,
        text: &str,
        body: &Body,
        prefix: &str,
    ) -> Vec<(String, String)> {
        let mut calls = Vec::new();
        let lines = LineIndex::new(text);
        // Lines of the directives that belong to a block this map keeps.
        let mut attached = HashSet::new();
        for block in body.blocks() {
            let labels: Vec<&str> = block
                .labels
                .iter()
                .map(hcl_edit::structure::BlockLabel::as_str)
                .collect();
            let Some(entry) = block_entry(file, text, &lines, block) else {
                continue;
            };
            let join = |local: String| {
                if prefix.is_empty() {
                    local
                } else {
                    format!("{prefix}.{local}")
                }
            };
            if matches!(
                (block.ident.as_str(), labels.len()),
                ("resource" | "data", 2) | ("module", 1)
            ) {
                attached.extend(entry.ignores.iter().map(|i| i.line));
            }
            match (block.ident.as_str(), labels.as_slice()) {
                ("resource", [t, n]) => {
                    self.resources.insert(join(format!("{t}.{n}")), entry);
                }
                ("data", [t, n]) => {
                    self.resources.insert(join(format!("data.{t}.{n}")), entry);
                }
                ("module", [name]) => {
                    if let Some(source) = block
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str())
                    {
                        calls.push(((*name).to_owned(), source.to_owned()));
                    }
                    self.modules.insert(join(format!("module.{name}")), entry);
                }
                _ => {}
            }
        }
        // A file read again for a second call of the same module has been scanned already.
        let first_read = !self.files.contains_key(file);
        if first_read {
            for (n, line) in text.lines().enumerate() {
                if let Some(d) = parse_directive(line).filter(|_| !attached.contains(&(n + 1))) {
                    self.detached.push(InlineIgnore {
                        line: n + 1,
                        file: file.to_owned(),
                        detached: true,
                        ..d
                    });
                }
            }
        }
        calls
    }

    /// The block of a resource, by configuration address (no instance keys).
    pub fn locate(&self, config_address: &str) -> Option<&SourceLocation> {
        self.resources.get(config_address).map(|e| &e.location)
    }

    /// Inline ignores that apply to a resource: on its block, then on each enclosing module call.
    pub fn ignores_for(&self, config_address: &str) -> Vec<&InlineIgnore> {
        let mut out: Vec<&InlineIgnore> = self
            .resources
            .get(config_address)
            .map(|e| e.ignores.iter().collect())
            .unwrap_or_default();
        for module in crate::plan::address::module_ancestors(config_address) {
            if let Some(entry) = self.modules.get(&module) {
                out.extend(entry.ignores.iter());
            }
        }
        out
    }

    /// Every inline directive, sorted by file and line.
    pub fn all_ignores(&self) -> Vec<&InlineIgnore> {
        let mut all: Vec<&InlineIgnore> = self
            .resources
            .values()
            .chain(self.modules.values())
            .flat_map(|e| e.ignores.iter())
            .chain(&self.detached)
            .collect();
        all.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        // A module called twice has its directives attached twice.
        all.dedup_by(|a, b| a.file == b.file && a.line == b.line);
        all
    }

    /// The text of a file that was read.
    pub fn file_text(&self, path: &Path) -> Option<Arc<String>> {
        self.files.get(path).cloned()
    }

    /// Indexes one parsed `.tf` file of the module at `prefix` (configuration mode, which
    /// walks the modules itself); returns its module calls (name, source).
    pub(crate) fn add_hcl_file(
        &mut self,
        file: &Path,
        text: Arc<String>,
        body: &Body,
        prefix: &str,
    ) -> Vec<(String, String)> {
        let calls = self.index_file(file, &text, body, prefix);
        self.files.insert(file.to_owned(), text);
        calls
    }

    /// A resource block of a `.tf.json` file, which has no comments and so no inline ignores.
    pub(crate) fn add_json_resource(&mut self, address: String, location: SourceLocation) {
        self.resources.insert(
            address,
            BlockEntry {
                location,
                ignores: Vec::new(),
            },
        );
    }

    pub(crate) fn add_file_text(&mut self, file: &Path, text: Arc<String>) {
        self.files.insert(file.to_owned(), text);
    }

    /// A map holding only the file texts of `maps`: what the human report needs for snippets
    /// when several configurations were linted.
    pub fn files_of<'m>(maps: impl IntoIterator<Item = &'m SourceMap>) -> SourceMap {
        let mut out = SourceMap::default();
        for map in maps {
            out.files
                .extend(map.files.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
        }
        out
    }
}

/// Module key (`app.db`) → directory, from the manifest `terraform init` writes when it
/// downloads modules; empty when there is none.
pub(crate) fn read_manifest(root: &Path) -> HashMap<String, PathBuf> {
    std::fs::read_to_string(root.join(".terraform/modules/modules.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<ModulesManifest>(&t).ok())
        .map(|m| {
            m.modules
                .into_iter()
                .map(|e| (e.key, root.join(e.dir)))
                .collect()
        })
        .unwrap_or_default()
}

/// A located diagnostic for a file that is not valid HCL.
pub(crate) fn parse_error(file: &Path, text: &str, e: &hcl_edit::parser::Error) -> SourceError {
    let loc = e.location();
    SourceError::Parse {
        path: file.to_owned(),
        line: loc.line(),
        column: loc.column(),
        message: e.message().to_owned(),
        source_code: NamedSource::new(file.display().to_string(), text.to_owned()),
        span: SourceSpan::new(loc.offset().min(text.len()).into(), 0),
    }
}

fn block_entry(file: &Path, text: &str, lines: &LineIndex, block: &Block) -> Option<BlockEntry> {
    let span = block.span()?;
    let location = block_location(lines, file, text, span.start);
    let line_start = lines.start_of(location.line);
    let ignores = directives(
        file,
        text,
        lines,
        location.line,
        line_start,
        span.end.min(text.len()),
    );
    Some(BlockEntry { location, ignores })
}

/// The location of the block whose header starts at byte `start`.
pub(crate) fn block_location(
    lines: &LineIndex,
    file: &Path,
    text: &str,
    start: usize,
) -> SourceLocation {
    let start = start.min(text.len());
    let header_end = text[start..]
        .find(['{', '\n'])
        .map_or(text.len(), |i| start + i);
    let header_end = text[start..header_end].trim_end().len() + start;
    let (line, column) = lines.line_column(text, start);
    SourceLocation {
        file: file.to_owned(),
        line,
        column,
        span: start..header_end.max(start),
    }
}

/// Removes `.` and resolvable `..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn directive_syntax() {
        let d = parse_directive("  # immutable-lint:ignore IMM001,IMM003 replaced in Q3").unwrap();
        assert_eq!(d.rules, vec!["IMM001", "IMM003"]);
        assert_eq!(d.reason, "replaced in Q3");
        let d = parse_directive("// immutable-lint:ignore IMM002").unwrap();
        assert_eq!(d.problem().as_deref(), Some("no reason given"));
        assert!(parse_directive("name = \"immutable-lint:ignore\"").is_none());
        // A space after the comma does not end the list.
        let d = parse_directive("# immutable-lint:ignore IMM001, IMM003 two rules").unwrap();
        assert_eq!(d.rules, vec!["IMM001", "IMM003"]);
        assert_eq!(d.reason, "two rules");
        // Multi-byte whitespace between the words.
        let d = parse_directive("# immutable-lint:ignore IMM001,\u{a0}IMM003\u{2003}wide").unwrap();
        assert_eq!(d.rules, vec!["IMM001", "IMM003"]);
        assert_eq!(d.reason, "wide");
        // HCL's third comment style.
        let d = parse_directive("/* immutable-lint:ignore IMM002 block comment */").unwrap();
        assert_eq!(d.rules, vec!["IMM002"]);
        assert_eq!(d.reason, "block comment");
    }

    #[test]
    fn directives_attached_to_no_block_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "# immutable-lint:ignore IMM001 a blank line follows\n\nresource \"aws_instance\" \"web\" {}\n\nlocals {\n  # immutable-lint:ignore IMM002 not a resource\n  x = 1\n}\n\n# immutable-lint:ignore IMM001 attached\nresource \"aws_instance\" \"db\" {}\n",
        )
        .unwrap();
        let map = SourceMap::load(dir.path()).unwrap();
        let all = map.all_ignores();
        let detached: Vec<usize> = all.iter().filter(|i| i.detached).map(|i| i.line).collect();
        assert_eq!(detached, vec![1, 6]);
        assert!(
            all.iter()
                .filter(|i| i.detached)
                .all(|i| i.problem().is_some())
        );
        assert_eq!(map.ignores_for("aws_instance.db").len(), 1);
        assert!(map.ignores_for("aws_instance.web").is_empty());
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(
            normalize(Path::new("infra/./modules/../modules/x")),
            PathBuf::from("infra/modules/x")
        );
        assert_eq!(normalize(Path::new("../a")), PathBuf::from("../a"));
    }

    #[test]
    fn resources_and_local_modules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("modules/app")).unwrap();
        std::fs::write(
            root.join("main.tf"),
            "# immutable-lint:ignore IMM001 legacy\nresource \"aws_instance\" \"web\" {\n  ami = \"x\"\n}\n\nmodule \"app\" {\n  # immutable-lint:ignore IMM003 being rewritten\n  source = \"./modules/app\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("modules/app/main.tf"),
            "\n\nresource \"aws_instance\" \"node\" {}\n",
        )
        .unwrap();
        let map = SourceMap::load(root).unwrap();
        let web = map.locate("aws_instance.web").unwrap();
        assert_eq!((web.line, web.column), (2, 1));
        let node = map.locate("module.app.aws_instance.node").unwrap();
        assert_eq!(node.line, 3);
        assert!(node.file.ends_with("modules/app/main.tf"));
        assert_eq!(map.ignores_for("aws_instance.web").len(), 1);
        let inherited = map.ignores_for("module.app.aws_instance.node");
        assert_eq!(inherited.len(), 1);
        assert_eq!(inherited[0].line, 7);
    }
}
