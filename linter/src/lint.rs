//! Runs the rules over plans and applies configuration: severities, source locations, waivers.

mod threads;

use std::path::Path;

use time::Date;

use crate::config::Config;
use crate::finding::{Finding, PlanPosition};
use crate::plan::Plan;
use crate::position;
pub use crate::report::{InputKind, PlanSummary, Report, WaiverState, WaiverStatus};
use crate::rules::{self, Context};
use crate::source::SourceMap;
use crate::tfconfig::Configuration;
use crate::waivers::Waivers;
use threads::check_changes;

/// Lints plans with one configuration.
pub struct Linter<'a> {
    config: &'a Config,
    source: Option<&'a SourceMap>,
    report: Report,
    waivers: Waivers<'a>,
    /// Source maps of the configurations linted without a plan, for their inline ignores.
    config_sources: Vec<&'a SourceMap>,
}

impl<'a> Linter<'a> {
    pub fn new(config: &'a Config, source: Option<&'a SourceMap>, today: Date) -> Self {
        Self {
            config,
            source,
            report: Report {
                strict: config.strict,
                ..Report::default()
            },
            waivers: Waivers::new(config, today),
            config_sources: Vec::new(),
        }
    }

    /// Lints one plan. `name` is how it was given; `text` the whole input, of which the plan
    /// was parsed from `text[base..]` (CI wrappers can add lines before the JSON).
    pub fn lint(&mut self, name: &str, text: &str, base: usize, plan: &Plan<'_>) {
        let index = self.report.plans.len();
        self.report.plans.push(PlanSummary {
            name: name.to_owned(),
            format_version: plan.format_version.to_string(),
            terraform_version: plan
                .terraform_version
                .as_ref()
                .map(|v| v.clone().into_owned()),
            resource_changes: plan.resource_changes.len(),
            resource_drift: plan.resource_drift.len(),
            errored: plan.errored,
            kind: InputKind::Plan,
        });
        let enabled: Vec<_> = rules::ALL
            .iter()
            .filter(|r| self.config.severity(r.info()).is_some())
            .collect();
        let ctx = Context {
            catalog: &self.config.catalog,
            strict: self.config.strict,
        };
        let mut found = check_changes(&enabled, &ctx, &plan.resource_changes);
        for rc in &plan.resource_drift {
            for rule in &enabled {
                rule.check_drift(&ctx, rc, &mut found);
            }
        }
        for rule in &enabled {
            rule.check_plan(&ctx, plan, &mut found);
        }
        for f in &mut found {
            if let Some(p) = &mut f.plan_position {
                p.byte_offset += base;
            }
        }
        fill_positions(text, &mut found);
        for mut finding in found {
            finding.plan = index;
            if let Some(severity) = self.config.severity(finding.rule) {
                finding.severity = severity;
            }
            if let Some(source) = self.source {
                finding.location = source.locate(&finding.config_address).cloned();
            }
            finding.suppression = self.waivers.suppression(&finding, self.source);
            self.report.findings.push(finding);
        }
    }

    /// Lints a configuration directory read without a plan (configuration mode); `name` is
    /// how it was given.
    pub fn lint_configuration(&mut self, name: &str, configuration: &'a Configuration) {
        let index = self.report.plans.len();
        self.report.plans.push(PlanSummary {
            name: name.to_owned(),
            format_version: String::new(),
            terraform_version: None,
            resource_changes: configuration.resources.len(),
            resource_drift: 0,
            errored: false,
            kind: InputKind::Configuration,
        });
        let enabled: Vec<_> = rules::ALL
            .iter()
            .filter(|r| self.config.severity(r.info()).is_some())
            .collect();
        let ctx = Context {
            catalog: &self.config.catalog,
            strict: self.config.strict,
        };
        let mut found = Vec::new();
        for resource in &configuration.resources {
            for rule in &enabled {
                rule.check_config(&ctx, resource, &mut found);
            }
        }
        let source = Some(&configuration.source);
        for mut finding in found {
            finding.plan = index;
            if let Some(severity) = self.config.severity(finding.rule) {
                finding.severity = severity;
            }
            finding.suppression = self.waivers.suppression(&finding, source);
            self.report.findings.push(finding);
        }
        self.config_sources.push(&configuration.source);
    }

    /// Records an input that could not be linted.
    pub fn input_failed(&mut self, name: &str) {
        self.report.input_errors += 1;
        self.report.unread_inputs.push(name.to_owned());
    }

    /// Sorts findings and settles the waivers' states.
    pub fn finish(mut self) -> Report {
        let sources = self
            .source
            .into_iter()
            .chain(self.config_sources.iter().copied());
        self.report.waivers = self.waivers.settle(sources);
        self.report
            .findings
            .sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        self.report
    }
}

/// Plan, source file and line, address, deposed key, rule code.
type SortKey<'f> = (
    usize,
    Option<(&'f Path, usize)>,
    &'f str,
    Option<&'f str>,
    &'f str,
);

/// Findings are reported by plan, source location, address, deposed key and rule.
fn sort_key(f: &Finding) -> SortKey<'_> {
    (
        f.plan,
        f.location.as_ref().map(|l| (l.file.as_path(), l.line)),
        &f.address,
        f.deposed.as_deref(),
        f.rule.code,
    )
}

/// Turns the plan positions' byte offsets into lines and columns, in one pass over the text
/// (see [`position::positions`]).
fn fill_positions(text: &str, findings: &mut [Finding]) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let parallel_from = if cores >= 2 {
        PARALLEL_POSITIONS_FROM
    } else {
        usize::MAX
    };
    fill_positions_split(text, findings, parallel_from);
}

/// [`fill_positions`], scanning the two halves of the text on two threads when the findings
/// reach `parallel_from` bytes into it.
fn fill_positions_split(text: &str, findings: &mut [Finding], parallel_from: usize) {
    let mut order: Vec<(usize, usize)> = findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.plan_position.map(|p| (p.byte_offset.min(text.len()), i)))
        .collect();
    order.sort_unstable();
    let offsets: Vec<usize> = order.iter().map(|&(offset, _)| offset).collect();
    let found = position::positions(text, &offsets, parallel_from);
    for (&(_, i), found) in order.iter().zip(found) {
        let Some(PlanPosition { byte_offset, .. }) = findings[i].plan_position else {
            continue;
        };
        findings[i].plan_position = Some(PlanPosition {
            byte_offset,
            line: found.line,
            column: found.column(text),
        });
    }
}

/// From this many bytes into the plan, [`fill_positions`] scans on two threads.
const PARALLEL_POSITIONS_FROM: usize = 8 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::BLOCK as POSITION_BLOCK;
    use crate::rules::InPlaceUpdate;

    fn finding_at(byte_offset: usize) -> Finding {
        Finding {
            rule: &InPlaceUpdate::INFO,
            severity: InPlaceUpdate::INFO.default_severity,
            address: String::new(),
            config_address: String::new(),
            resource_type: String::new(),
            deposed: None,
            actions: Vec::new(),
            action_reason: None,
            paths: Vec::new(),
            message: String::new(),
            help: None,
            plan: 0,
            plan_position: Some(PlanPosition {
                byte_offset,
                line: 0,
                column: 0,
            }),
            location: None,
            suppression: None,
        }
    }

    /// Line and column counted from scratch, the way a reader would.
    fn naive(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let bom = usize::from(line_start == 0 && text.starts_with(crate::plan::BOM));
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count().saturating_sub(bom) + 1,
        )
    }

    #[test]
    fn positions_are_right_across_scan_blocks() {
        // Longer than several blocks: long lines of multi-byte characters, newlines between.
        let mut text = String::new();
        for i in 0..(3 * POSITION_BLOCK / 1000) {
            text.push_str(&"é-ü\u{1F600}x".repeat(i % 7 * 40));
            text.push('\n');
        }
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let offsets: Vec<usize> = boundaries.iter().step_by(997).copied().collect();
        let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
        fill_positions(&text, &mut findings);
        assert!(text.len() > 2 * POSITION_BLOCK && offsets.len() > 100);
        for f in &findings {
            // A missing position fails the comparison (lines count from 1).
            let p = f.plan_position.unwrap_or(PlanPosition {
                byte_offset: 0,
                line: 0,
                column: 0,
            });
            assert_eq!(
                (p.line, p.column),
                naive(&text, p.byte_offset),
                "offset {}",
                p.byte_offset
            );
        }
    }

    #[test]
    fn positions_are_the_same_when_the_text_is_scanned_in_two_halves() {
        let mut long = String::from("\u{FEFF}");
        for i in 0..(3 * POSITION_BLOCK / 1000) {
            long.push_str(&"é-ü\u{1F600}x".repeat(i % 7 * 40));
            long.push('\n');
        }
        // One line without newlines (the usual plan), a BOM at its start.
        let one_line = format!("\u{FEFF}{}", "aé\u{1F600}".repeat(POSITION_BLOCK / 2));
        for text in [long.as_str(), one_line.as_str(), "\u{FEFF}x\nyé", "é"] {
            let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(101).collect();
            // Split points: at the start, in the middle (possibly inside a character), never.
            for parallel_from in [0, 1, text.len() / 3, usize::MAX] {
                let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
                // Not a character boundary: columns count bytes from the line's start.
                findings.push(finding_at(text.len() / 2));
                findings.push(finding_at(text.len() + 10));
                fill_positions_split(text, &mut findings, parallel_from);
                let mut serial: Vec<Finding> = findings
                    .iter()
                    .map(|f| finding_at(f.plan_position.map_or(0, |p| p.byte_offset)))
                    .collect();
                fill_positions_split(text, &mut serial, usize::MAX);
                for (f, s) in findings.iter().zip(&serial) {
                    let (p, s) = (f.plan_position, s.plan_position);
                    assert_eq!(
                        p.map(|p| (p.line, p.column)),
                        s.map(|s| (s.line, s.column)),
                        "offset {:?}, split from {parallel_from}",
                        p.map(|p| p.byte_offset)
                    );
                }
                for f in findings.iter().take(offsets.len()) {
                    let p = f.plan_position.map_or((0, 0), |p| (p.line, p.column));
                    let offset = f.plan_position.map_or(0, |p| p.byte_offset);
                    assert_eq!(
                        p,
                        naive(text, offset),
                        "offset {offset}, split from {parallel_from}"
                    );
                }
            }
        }
    }

    #[test]
    fn positions_are_counted_incrementally_in_any_order() {
        let text = "\u{FEFF}[command]x\n{\"é\": \"a\", \"b\":\n  [\"ü\", \"c\"], \"d\": 1}\n";
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).rev().collect();
        let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
        // Several findings on one resource share an offset.
        findings.push(finding_at(offsets[3]));
        fill_positions(text, &mut findings);
        for f in &findings {
            let p = f.plan_position.unwrap_or(PlanPosition {
                byte_offset: 0,
                line: 0,
                column: 0,
            });
            let (line, column) = naive(text, p.byte_offset);
            assert_eq!(
                (p.line, p.column),
                (line, column),
                "offset {}",
                p.byte_offset
            );
        }
    }
}
