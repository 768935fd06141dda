//! Report formats. Each writes the whole report to a `Write`; stdout carries only this.

mod codequality;
mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;
pub mod srcroot;

use std::io::{self, Write};
use std::path::Path;

use crate::finding::Finding;
use crate::lint::{InputKind, Report};
use crate::source::SourceMap;

pub use json::SCHEMA_VERSION;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terminal report with source snippets (miette).
    Human,
    /// Stable machine-readable report (schema in the README).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…,line=…::`).
    Github,
    /// JUnit XML, one test case per finding.
    Junit,
    /// A Markdown summary table for a pull-request comment.
    Markdown,
    /// GitLab Code Quality JSON (`artifacts:reports:codequality`).
    Codequality,
}

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

/// Writes `report` in `format`.
pub fn render(
    format: Format,
    report: &Report,
    source: Option<&SourceMap>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, source, options, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Markdown => markdown::render(report, out),
        Format::Codequality => codequality::render(report, out),
    }
}

/// A path as a portable, relative-looking string (`infra/main.tf`).
pub(crate) fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./")
        .map_or_else(|| text.clone(), str::to_owned)
}

/// `main.tf:12` when the source is known, else `plan.json:1:2345`.
pub(crate) fn where_text(report: &Report, f: &Finding) -> String {
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
pub(crate) fn resource_changes(n: usize) -> String {
    plural(n, "resource change")
}

/// What was checked: `3 resource changes` in plans, `12 resources` in configurations, or both.
pub(crate) fn checked(report: &Report) -> String {
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
pub(crate) fn counts(errors: usize, warnings: usize) -> String {
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
