//! Why a plan could not be read, with the offending place.

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::position::{BOM, Position, offset_of};

/// What the user should run to get a plan JSON.
pub const HOW_TO_MAKE_A_PLAN: &str =
    "terraform plan -out=tfplan && terraform show -json tfplan > plan.json";

/// Widest part of a line shown around an error (plans are often one multi-megabyte line).
const EXCERPT_WIDTH: usize = 120;

/// A window of one line of a (possibly huge, single-line) input, placed at its real
/// line and column so miette prints true positions without holding the whole file.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: String,
    /// Byte offset of `text` in the input.
    start: usize,
    /// 0-based line and byte column of `text`'s first byte.
    line: usize,
    column: usize,
    /// Byte offset of the point of interest in the input.
    pub offset: usize,
}

impl Excerpt {
    /// The part of the line containing `offset`, at most [`EXCERPT_WIDTH`] bytes wide.
    pub fn around(name: &str, input: &str, offset: usize) -> Self {
        let offset = floor_boundary(input, offset.min(input.len()));
        let position = Position::of(input, offset);
        let line_start = match position.line_start {
            // A byte-order mark is not part of the first line.
            0 if input.starts_with(BOM) && offset >= BOM.len_utf8() => BOM.len_utf8(),
            line_start => line_start,
        };
        let line_end = input[offset..]
            .find('\n')
            .map_or(input.len(), |i| offset + i);
        let start = floor_boundary(
            input,
            offset.saturating_sub(EXCERPT_WIDTH / 2).max(line_start),
        );
        let end = floor_boundary(input, (start + EXCERPT_WIDTH).min(line_end));
        let line = position.line - 1;
        Self {
            name: name.to_owned(),
            text: input[start..end].trim_end_matches('\r').to_owned(),
            start,
            line,
            column: start - line_start,
            offset,
        }
    }

    /// 1-based line and column of the point of interest.
    pub fn position(&self) -> (usize, usize) {
        (self.line + 1, self.column + (self.offset - self.start) + 1)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn span(&self) -> SourceSpan {
        // An error at end of input still gets a one-byte label.
        SourceSpan::new(self.offset.into(), 1)
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        _span: &SourceSpan,
        _context_lines_before: usize,
        _context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            self.text.as_bytes(),
            SourceSpan::new(self.start.into(), self.text.len()),
            self.line,
            self.column,
            1,
        )))
    }
}

/// A plan input that cannot be linted. Every variant is an exit-2 error.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum PlanError {
    #[error("{name}: the file is empty ({len} bytes)")]
    #[diagnostic(
        code(input::empty),
        help("expected the output of `terraform show -json`; run `{HOW_TO_MAKE_A_PLAN}`")
    )]
    Empty { name: String, len: usize },

    #[error("{name}:{line}:{column}: {message}")]
    #[diagnostic(code(input::json), help("{help}"))]
    Syntax {
        name: String,
        line: usize,
        column: usize,
        message: String,
        help: String,
        #[source_code]
        excerpt: Excerpt,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
    },

    #[error("{}:{}:{}: {message}", excerpt.name(), excerpt.position().0, excerpt.position().1)]
    #[diagnostic(code(input::plan))]
    Invalid {
        message: String,
        #[source_code]
        excerpt: Excerpt,
    },

    #[error("{name} is a Terraform state file, not a plan")]
    #[diagnostic(
        code(input::state_file),
        help(
            "state has no planned changes to check; make a plan and lint that: `{HOW_TO_MAKE_A_PLAN}`"
        )
    )]
    StateFile { name: String },

    #[error("{name} is not a Terraform plan: {reason}")]
    #[diagnostic(
        code(input::not_a_plan),
        help("expected the output of `terraform show -json PLANFILE`; run `{HOW_TO_MAKE_A_PLAN}`")
    )]
    NotAPlan { name: String, reason: String },

    #[error("{name}: plan format_version {version:?} is not supported")]
    #[diagnostic(
        code(input::format_version),
        help(
            "immutable-lint reads plan format versions 0.1 to 1.x (Terraform ≥ 0.12, OpenTofu); \
             a new major version changes the format incompatibly — upgrade immutable-lint"
        )
    )]
    UnsupportedVersion { name: String, version: String },
}

impl PlanError {
    /// An error of parsing `text[json]` (the JSON within the input), placed in `text`.
    pub(super) fn from_json(
        name: &str,
        text: &str,
        json: std::ops::Range<usize>,
        err: &serde_json::Error,
    ) -> Self {
        use serde_json::error::Category;
        let base = json.start;
        let offset = base + offset_of(&text[json.clone()], err.line(), err.column());
        let excerpt = Excerpt::around(name, text, offset);
        let (line, column) = excerpt.position();
        let raw = err.to_string();
        // serde_json appends " at line L column C"; we print our own position.
        let message = raw
            .rsplit_once(" at line ")
            .map_or(raw.as_str(), |(m, _)| m)
            .to_owned();
        let (message, label, help) = match err.classify() {
            Category::Eof => (
                format!(
                    "truncated JSON: the input ends at byte {} ({message})",
                    json.end
                ),
                "input ends here".to_owned(),
                format!(
                    "the plan was cut off (disk full, interrupted pipe?); regenerate it: `{HOW_TO_MAKE_A_PLAN}`"
                ),
            ),
            Category::Syntax => (
                format!("not valid JSON: {message}"),
                message.clone(),
                if text[base..].trim_start().starts_with('{') {
                    // JSON that breaks off into something else: damaged, not the wrong command.
                    format!(
                        "the plan JSON is damaged at this point (edited, or mixed with other output?); regenerate it: `{HOW_TO_MAKE_A_PLAN}`"
                    )
                } else {
                    format!(
                        "expected the output of `terraform show -json`, not the human-readable plan; run `{HOW_TO_MAKE_A_PLAN}`"
                    )
                },
            ),
            Category::Data | Category::Io => (
                format!("not a valid plan: {message}"),
                message.clone(),
                "the JSON does not have the shape of `terraform show -json` output".to_owned(),
            ),
        };
        Self::Syntax {
            name: name.to_owned(),
            line,
            column,
            message,
            help,
            span: excerpt.span(),
            excerpt,
            label,
        }
    }

    /// Byte offset of the problem in the input, when there is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Syntax { excerpt, .. } | Self::Invalid { excerpt, .. } => Some(excerpt.offset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn excerpt_of_a_long_line_is_windowed() {
        let text = format!("{}X{}", "a".repeat(10_000), "b".repeat(10_000));
        let e = Excerpt::around("p", &text, 10_000);
        assert!(e.text.len() <= EXCERPT_WIDTH);
        assert_eq!(e.position(), (1, 10_001));
        assert!(e.text.contains('X'));
    }
}
