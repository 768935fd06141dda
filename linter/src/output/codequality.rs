//! GitLab Code Quality: a JSON array of issues, the subset of the Code Climate issue spec that
//! GitLab reads from `artifacts:reports:codequality` (`description`, `check_name`,
//! `fingerprint`, `severity`, `location.path`, `location.lines.begin`).
//!
//! Paths are relative to the repository root (see [`super::srcroot`]), which is how GitLab
//! matches issues to files in the merge request diff. Waived findings are left out: the format
//! has no notion of a suppressed issue, and a listed issue would count as a degradation.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::srcroot::SrcRoot;
use crate::finding::{Finding, Severity};
use crate::report::Report;

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

/// GitLab's scale is info, minor, major, critical, blocker. An error fails the pipeline, so it
/// ranks above the "major" that style checkers use; a warning is advice.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "minor",
    }
}

/// FNV-1a, 128 bits, as 32 hex digits. Keyed on rule, address, deposed key and file, never on
/// the line: an edit above the block must not turn one issue into a "fixed" and a "new" one.
fn fingerprint(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:032x}")
}

/// `path` relative to the repository root; a file outside it keeps the path as given (GitLab
/// then shows the issue without a diff link, which is better than dropping it).
fn repo_path(root: &SrcRoot, path: &Path) -> String {
    root.relative(path)
        .unwrap_or_else(|| super::shared::display_path(path))
}

fn issue(report: &Report, root: &SrcRoot, f: &Finding) -> Issue {
    let (path, line) = if let Some(l) = &f.location {
        (repo_path(root, &l.file), l.line)
    } else {
        let plan = report
            .plans
            .get(f.plan)
            .map_or("<plan>", |p| p.name.as_str());
        let line = f.plan_position.map_or(1, |p| p.line);
        (repo_path(root, Path::new(plan)), line)
    };
    let mut description = format!("{} {}: {}", f.rule.code, f.rule.name, f.message);
    if let Some(help) = &f.help {
        description.push_str(". ");
        description.push_str(help);
    }
    Issue {
        description,
        check_name: format!("immutable-lint/{}", f.rule.code),
        fingerprint: fingerprint(&[
            f.rule.code,
            &f.address,
            f.deposed.as_deref().unwrap_or(""),
            &path,
        ]),
        severity: severity(f.severity),
        location: Location {
            path,
            // GitLab needs a line; a finding without a position points at the file's start.
            lines: Lines { begin: line.max(1) },
        },
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let root = SrcRoot::detect().unwrap_or_else(|| SrcRoot::at(""));
    render_with_root(report, &root, out)
}

pub(super) fn render_with_root(
    report: &Report,
    root: &SrcRoot,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut issues: Vec<Issue> = report.active().map(|f| issue(report, root, f)).collect();
    // An unreadable input must not read as "no issues": its findings are missing.
    for name in &report.unread_inputs {
        let path = repo_path(root, Path::new(name));
        issues.push(Issue {
            description: format!(
                "immutable-lint could not read {name}; its findings are missing (the diagnostic is in the job log)"
            ),
            check_name: "immutable-lint/input-error".to_owned(),
            fingerprint: fingerprint(&["input-error", &path]),
            severity: "blocker",
            location: Location {
                path,
                lines: Lines { begin: 1 },
            },
        });
    }
    serde_json::to_writer_pretty(&mut *out, &issues).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_their_parts_and_are_32_hex_digits() {
        let a = fingerprint(&["IMM001", "aws_instance.ab", "", "main.tf"]);
        let b = fingerprint(&["IMM001", "aws_instance.a", "b", "main.tf"]);
        assert_ne!(a, b, "a part boundary must change the hash");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            a,
            fingerprint(&["IMM001", "aws_instance.ab", "", "main.tf"]),
            "stable"
        );
        // Pinned: a change of the hash would make GitLab report every open issue as fixed
        // and new at once.
        assert_eq!(
            fingerprint(&["IMM001", "aws_instance.web", "", "main.tf"]),
            "3f3309d6635ba0ed8dbedc92b5709f57"
        );
    }

    #[test]
    fn errors_rank_above_warnings_on_gitlabs_scale() {
        assert_eq!(severity(Severity::Error), "critical");
        assert_eq!(severity(Severity::Warning), "minor");
    }
}
