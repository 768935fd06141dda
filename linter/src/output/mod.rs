//! Report formats. Each writes the whole report to a `Write`; stdout carries only this.

mod codequality;
mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;
mod shared;
pub mod srcroot;

use std::io::{self, Write};

use crate::report::Report;
use crate::source::SourceMap;

pub use json::SCHEMA_VERSION;
pub use shared::RenderOptions;

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
