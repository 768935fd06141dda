//! GitHub Actions workflow commands: one `::error`/`::warning` annotation per finding, on the
//! `.tf` line when `--source` located it. Files are named relative to the repository root
//! (see [`super::srcroot`]), which is how GitHub matches annotations to files.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use super::shared::{counts, where_text};
use super::srcroot::SrcRoot;
use crate::report::{Report, WaiverState};

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
    let root = SrcRoot::detect().unwrap_or_else(|| SrcRoot::at(""));
    for f in report.active() {
        let command = f.severity.as_str();
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", property(&root.annotation_path(&l.file))));
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
            property(&root.annotation_path(Path::new(file))),
            property(line),
            data(&message)
        )?;
    }
    for name in &report.unread_inputs {
        writeln!(
            out,
            "::error title=immutable-lint::{}",
            data(&format!(
                "{name} could not be read; its findings are missing (the diagnostic is in the log)"
            ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_data_and_properties_like_the_actions_toolkit() {
        assert_eq!(data("50%\r\nnext::x, y: z"), "50%25%0D%0Anext::x, y: z");
        assert_eq!(property("my,dir/a:b%.tf"), "my%2Cdir/a%3Ab%25.tf");
    }
}
