//! Runs the rules over plans and applies configuration: severities, source locations, waivers.

use std::path::Path;

use time::Date;

use crate::config::Config;
use crate::finding::{Finding, PlanPosition, Suppression, SuppressionKind};
use crate::plan::Plan;
use crate::rules::{self, Context};
use crate::source::SourceMap;

/// What was linted, per plan.
#[derive(Debug, Clone)]
pub struct PlanSummary {
    /// As given on the command line (`-` is `<stdin>`).
    pub name: String,
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub resource_changes: usize,
    pub resource_drift: usize,
    /// The plan stopped on an error (Terraform ≥ 1.4); it may be incomplete.
    pub errored: bool,
}

/// The state of a waiver after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverState {
    /// Suppressed this many findings.
    Applied(usize),
    /// Matched nothing.
    Unused,
    /// Past its `expires` date: no longer applies.
    Expired,
    /// An inline directive that cannot apply (unknown rule, no reason).
    Invalid(String),
}

impl WaiverState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Unused => "unused",
            Self::Expired => "expired",
            Self::Invalid(_) => "invalid",
        }
    }

    /// Worth telling the user about.
    pub fn is_problem(&self) -> bool {
        !matches!(self, Self::Applied(_))
    }
}

/// A waiver (config or inline) and what became of it.
#[derive(Debug, Clone)]
pub struct WaiverStatus {
    pub kind: SuppressionKind,
    /// Rule codes as written.
    pub rules: Vec<String>,
    /// The address glob (config waivers) or the block's address (inline).
    pub address: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
    pub origin: String,
    pub state: WaiverState,
}

/// Everything the output formats render.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub plans: Vec<PlanSummary>,
    /// Sorted; suppressed findings included (see [`Finding::suppression`]).
    pub findings: Vec<Finding>,
    pub waivers: Vec<WaiverStatus>,
    pub strict: bool,
    /// Inputs that could not be read or parsed (each already reported on stderr).
    pub input_errors: usize,
    /// Their names, as given (`<stdin>` for `-`).
    pub unread_inputs: Vec<String>,
}

impl Report {
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_some())
    }

    pub fn errors(&self) -> usize {
        self.active().filter(|f| f.is_active_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.active().count() - self.errors()
    }

    /// 2 when an input could not be read, else 0 without active error findings, 1 with.
    pub fn exit_code(&self) -> u8 {
        if self.input_errors > 0 {
            2
        } else {
            u8::from(self.errors() > 0)
        }
    }
}

/// Lints plans with one configuration.
pub struct Linter<'a> {
    config: &'a Config,
    source: Option<&'a SourceMap>,
    today: Date,
    report: Report,
    config_uses: Vec<usize>,
    inline_uses: std::collections::HashMap<String, usize>,
}

impl<'a> Linter<'a> {
    pub fn new(config: &'a Config, source: Option<&'a SourceMap>, today: Date) -> Self {
        Self {
            config,
            source,
            today,
            report: Report {
                strict: config.strict,
                ..Report::default()
            },
            config_uses: vec![0; config.waivers.len()],
            inline_uses: std::collections::HashMap::new(),
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
        for rc in &plan.resource_changes {
            for rule in &enabled {
                rule.check_change(&ctx, rc, &mut found);
            }
        }
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
            finding.suppression = self.suppression(&finding);
            self.report.findings.push(finding);
        }
    }

    fn suppression(&mut self, finding: &Finding) -> Option<Suppression> {
        for (i, w) in self.config.waivers.iter().enumerate() {
            if w.rule.code == finding.rule.code
                && !w.is_expired(self.today)
                && w.matches(&finding.address, &finding.config_address)
            {
                self.config_uses[i] += 1;
                return Some(Suppression {
                    reason: w.reason.clone(),
                    origin: w.origin.clone(),
                    kind: SuppressionKind::Config,
                });
            }
        }
        let source = self.source?;
        let ignore = source
            .ignores_for(&finding.config_address)
            .into_iter()
            .find(|i| i.problem().is_none() && i.covers(finding.rule))?;
        *self.inline_uses.entry(ignore.origin()).or_default() += 1;
        Some(Suppression {
            reason: ignore.reason.clone(),
            origin: ignore.origin(),
            kind: SuppressionKind::Inline,
        })
    }

    /// Records an input that could not be linted.
    pub fn input_failed(&mut self, name: &str) {
        self.report.input_errors += 1;
        self.report.unread_inputs.push(name.to_owned());
    }

    /// Sorts findings and settles the waivers' states.
    pub fn finish(mut self) -> Report {
        for (i, w) in self.config.waivers.iter().enumerate() {
            let state = if w.is_expired(self.today) {
                WaiverState::Expired
            } else if self.config_uses[i] > 0 {
                WaiverState::Applied(self.config_uses[i])
            } else {
                WaiverState::Unused
            };
            self.report.waivers.push(WaiverStatus {
                kind: SuppressionKind::Config,
                rules: vec![w.rule.code.to_owned()],
                address: Some(w.address.clone()),
                reason: w.reason.clone(),
                expires: w.expires,
                origin: w.origin.clone(),
                state,
            });
        }
        if let Some(source) = self.source {
            for ignore in source.all_ignores() {
                let uses = self.inline_uses.get(&ignore.origin()).copied().unwrap_or(0);
                let state = match ignore.problem() {
                    Some(problem) => WaiverState::Invalid(problem),
                    None if uses > 0 => WaiverState::Applied(uses),
                    None => WaiverState::Unused,
                };
                self.report.waivers.push(WaiverStatus {
                    kind: SuppressionKind::Inline,
                    rules: ignore.rules.clone(),
                    address: None,
                    reason: ignore.reason.clone(),
                    expires: None,
                    origin: ignore.origin(),
                    state,
                });
            }
        }
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

/// Turns byte offsets into line/column in one pass over the text.
///
/// Lines and characters are counted incrementally from the previous finding, never again from
/// the start of the line: `terraform show -json` writes the whole plan on one line, so
/// recounting would cost the plan's size per finding.
fn fill_positions(text: &str, findings: &mut [Finding]) {
    let mut order: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].plan_position.is_some())
        .collect();
    order.sort_by_key(|&i| findings[i].plan_position.map(|p| p.byte_offset));
    let bytes = text.as_bytes();
    let (mut pos, mut line, mut line_start) = (0usize, 1usize, 0usize);
    // Characters in `text[line_start..counted_to]`; `counted_to` is a char boundary.
    let (mut counted_to, mut chars) = (0usize, 0usize);
    // A byte-order mark is not a column.
    let bom = usize::from(text.starts_with(crate::plan::BOM));
    for i in order {
        let Some(PlanPosition { byte_offset, .. }) = findings[i].plan_position else {
            continue;
        };
        let target = byte_offset.min(bytes.len());
        if pos < target {
            let skipped = &bytes[pos..target];
            if let Some(last) = memchr::memrchr(b'\n', skipped) {
                line += memchr::memchr_iter(b'\n', skipped).count();
                line_start = pos + last + 1;
                counted_to = line_start;
                chars = 0;
            }
            pos = target;
        }
        let in_chars = if text.is_char_boundary(target) {
            chars += text[counted_to..target].chars().count();
            counted_to = target;
            chars
        } else {
            target - line_start
        };
        let column = in_chars.saturating_sub(if line_start == 0 { bom } else { 0 }) + 1;
        findings[i].plan_position = Some(PlanPosition {
            byte_offset,
            line,
            column,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
