//! What several formats share: presentation settings, paths, places and counts as text.

use std::path::Path;

use crate::finding::Finding;
use crate::report::{InputKind, Report};

/// Settings that only affect presentation.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    /// Terminal width for the human format.
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }
}

/// A path as a portable, relative-looking string (`infra/main.tf`).
pub(super) fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./")
        .map_or_else(|| text.clone(), str::to_owned)
}

/// `main.tf:12` when the source is known, else `plan.json:1:2345`.
pub(super) fn where_text(report: &Report, f: &Finding) -> String {
    if let Some(l) = &f.location {
        return format!("{}:{}", display_path(&l.file), l.line);
    }
    let plan = report
        .plans
        .get(f.plan)
        .map_or("<plan>", |p| p.name.as_str());
    match f.plan_position {
        Some(p) => format!("{plan}:{}:{}", p.line, p.column),
        None => plan.to_owned(),
    }
}

/// `1 error`, `3 errors`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `1 resource change`, `3 resource changes`.
pub(super) fn resource_changes(n: usize) -> String {
    plural(n, "resource change")
}

/// What was checked: `3 resource changes` in plans, `12 resources` in configurations, or both.
pub(super) fn checked(report: &Report) -> String {
    let count = |kind: InputKind| {
        let mut inputs = report.plans.iter().filter(|p| p.kind == kind).peekable();
        inputs
            .peek()
            .is_some()
            .then(|| inputs.map(|p| p.resource_changes).sum::<usize>())
    };
    match (count(InputKind::Plan), count(InputKind::Configuration)) {
        (changes, None) => resource_changes(changes.unwrap_or(0)),
        (None, Some(resources)) => plural(resources, "resource"),
        (Some(changes), Some(resources)) => format!(
            "{}, {}",
            resource_changes(changes),
            plural(resources, "resource")
        ),
    }
}

/// `3 errors, 1 warning` with singulars.
pub(super) fn counts(errors: usize, warnings: usize) -> String {
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
