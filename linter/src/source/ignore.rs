//! Inline ignores: `# immutable-lint:ignore IMM001 reason` comments above or inside a block.

use std::path::{Path, PathBuf};

use crate::position::LineIndex;
use crate::registry::RuleInfo;
use crate::rules;

const DIRECTIVE: &str = "immutable-lint:ignore";

/// One inline `# immutable-lint:ignore RULE reason` directive.
#[derive(Debug, Clone)]
pub struct InlineIgnore {
    /// The rule codes as written (`IMM001`, or a name).
    pub rules: Vec<String>,
    pub reason: String,
    pub file: PathBuf,
    pub line: usize,
    /// Not directly above or inside a resource, data or module block: it applies to nothing.
    pub detached: bool,
}

impl InlineIgnore {
    pub fn covers(&self, rule: &RuleInfo) -> bool {
        self.rules
            .iter()
            .any(|r| rules::find(r).is_some_and(|f| f.code == rule.code))
    }

    pub fn origin(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }

    /// Unknown rule names or a missing reason make a directive invalid; it then applies to
    /// nothing and is reported.
    pub fn problem(&self) -> Option<String> {
        if self.detached {
            return Some(
                "it is not directly above or inside a resource, data or module block".to_owned(),
            );
        }
        if let Some(bad) = self.rules.iter().find(|r| rules::find(r).is_none()) {
            return Some(format!("unknown rule {bad:?}"));
        }
        if self.rules.is_empty() {
            return Some("no rule given".to_owned());
        }
        if self.reason.is_empty() {
            return Some("no reason given".to_owned());
        }
        None
    }
}

/// Directives in the comment lines directly above the block (which starts on `first_line`, at
/// byte `block_start`) and inside it.
pub(super) fn directives(
    file: &Path,
    text: &str,
    lines: &LineIndex,
    first_line: usize,
    block_start: usize,
    block_end: usize,
) -> Vec<InlineIgnore> {
    let mut out = Vec::new();
    // Comment lines directly above the block.
    let mut top = first_line;
    while top > 1 && is_comment(lines.text(text, top - 1)) {
        top -= 1;
    }
    for n in top..first_line {
        if let Some(d) = parse_directive(lines.text(text, n)) {
            out.push(InlineIgnore {
                line: n,
                file: file.to_owned(),
                ..d
            });
        }
    }
    for (n, line) in text[block_start..block_end].lines().enumerate() {
        if let Some(d) = parse_directive(line) {
            out.push(InlineIgnore {
                line: first_line + n,
                file: file.to_owned(),
                ..d
            });
        }
    }
    out
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
}

/// `# immutable-lint:ignore IMM001,IMM003 reason…` after a `#`, `//` or `/*` on the line.
pub(super) fn parse_directive(line: &str) -> Option<InlineIgnore> {
    let comment = line
        .find('#')
        .into_iter()
        .chain(line.find("//"))
        .chain(line.find("/*"))
        .min()?;
    let rest = &line[comment..];
    let at = rest.find(DIRECTIVE)?;
    let rest = rest[at + DIRECTIVE.len()..].trim();
    // The rule list ends at the first word not ending in a comma: `IMM001, IMM003 reason`.
    let mut rules_end = 0;
    for (start, word) in words(rest) {
        rules_end = start + word.len();
        if !word.ends_with(',') {
            break;
        }
    }
    let (rules_text, reason) = rest.split_at(rules_end);
    let rules = rules_text
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    Some(InlineIgnore {
        rules,
        reason: reason.trim().trim_end_matches("*/").trim().to_owned(),
        file: PathBuf::new(),
        line: 0,
        detached: false,
    })
}

/// The whitespace-separated words of `text` with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let base = text.as_ptr().addr();
    text.split(char::is_whitespace)
        .filter(|word| !word.is_empty())
        // Subslices of `text`: their offset is the distance between the pointers.
        .map(move |word| (word.as_ptr().addr() - base, word))
}
