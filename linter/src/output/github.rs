//! GitHub Actions workflow commands: one `::error`/`::warning` annotation per finding, on the
//! `.tf` line when `--source` located it.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{counts, display_path, where_text};
use crate::finding::Severity;
use crate::lint::{Report, WaiverState};

/// Escapes a command's message (GitHub's `escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property (GitHub's `escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in report.active() {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", property(&display_path(&l.file))));
            props.push(format!("line={}", l.line));
            props.push(format!("col={}", l.column));
        }
        props.push(format!(
            "title={}",
            property(&format!("{} {}", f.rule.code, f.rule.name))
        ));
        let mut message = f.message.clone();
        if f.location.is_none() {
            let _ = write!(message, " ({})", where_text(report, f));
        }
        if let Some(help) = &f.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        writeln!(out, "::{command} {}::{}", props.join(","), data(&message))?;
    }
    for w in report
        .waivers
        .iter()
        .filter(|w| matches!(w.state, WaiverState::Expired | WaiverState::Invalid(_)))
    {
        let (file, line) = w
            .origin
            .rsplit_once(':')
            .unwrap_or((w.origin.as_str(), "1"));
        let message = match &w.state {
            WaiverState::Invalid(problem) => format!("inline waiver does not apply: {problem}"),
            _ => format!(
                "waiver for {} expired on {}; it no longer applies",
                w.rules.join(","),
                w.expires.map(|d| d.to_string()).unwrap_or_default()
            ),
        };
        writeln!(
            out,
            "::warning file={},line={},title=immutable-lint waiver::{}",
            property(file),
            property(line),
            data(&message)
        )?;
    }
    writeln!(
        out,
        "::notice title=immutable-lint::{}",
        data(&format!(
            "{} ({} waived)",
            counts(report.errors(), report.warnings()),
            report.suppressed().count()
        ))
    )
}
