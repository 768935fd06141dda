//! Findings: what a rule reports about one resource.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config_resource::ConfigResource;
use crate::plan::ResourceChange;
use crate::plan::diff::ChangedPath;
pub use crate::position::SourceLocation;
use crate::registry::RuleInfo;
pub use crate::registry::Severity;

/// A changed attribute path as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    pub path: String,
    /// The new value is known only after apply.
    pub known_after_apply: bool,
    /// The attribute is sensitive; its value is never printed.
    pub sensitive: bool,
}

impl From<&ChangedPath> for PathReport {
    fn from(p: &ChangedPath) -> Self {
        Self {
            path: p.render(),
            known_after_apply: p.known_after_apply,
            sensitive: p.sensitive,
        }
    }
}

impl PathReport {
    /// `path`, `path (known after apply)`, `path (sensitive)`.
    pub fn describe(&self) -> String {
        // An empty path is the resource's whole object (a plan that marks all of it).
        let path = if self.path.is_empty() {
            "the whole object"
        } else {
            self.path.as_str()
        };
        match (self.known_after_apply, self.sensitive) {
            (false, false) => path.to_owned(),
            (true, false) => format!("{path} (known after apply)"),
            (false, true) => format!("{path} (sensitive)"),
            (true, true) => format!("{path} (sensitive, known after apply)"),
        }
    }
}

/// Where a finding's resource appears in the plan JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanPosition {
    pub byte_offset: usize,
    /// 1-based.
    pub line: usize,
    pub column: usize,
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    /// `.immutable-lint.toml:12` or `main.tf:3`.
    pub origin: String,
    /// `config` (a `[[waivers]]` entry) or `inline` (an HCL comment).
    pub kind: SuppressionKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    Config,
    Inline,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static RuleInfo,
    pub severity: Severity,
    /// Full address with module path, count/for_each keys and, for deposed objects, nothing
    /// more: the deposed key is in `deposed`.
    pub address: String,
    /// The address without instance keys, as written in HCL.
    pub config_address: String,
    pub resource_type: String,
    pub deposed: Option<String>,
    pub actions: Vec<String>,
    pub action_reason: Option<String>,
    pub paths: Vec<PathReport>,
    pub message: String,
    pub help: Option<String>,
    /// Index of the plan (in the order given on the command line).
    pub plan: usize,
    pub plan_position: Option<PlanPosition>,
    pub location: Option<SourceLocation>,
    pub suppression: Option<Suppression>,
}

impl Finding {
    /// A finding about a resource change, with the rule's default severity.
    pub fn for_change(rule: &'static RuleInfo, rc: &ResourceChange<'_>, message: String) -> Self {
        Self {
            rule,
            severity: rule.default_severity,
            address: rc.address.clone().into_owned(),
            config_address: rc.config_address(),
            resource_type: rc.type_name.clone().into_owned(),
            deposed: rc.deposed.as_ref().map(|d| d.clone().into_owned()),
            actions: rc
                .change
                .actions
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            action_reason: rc.action_reason.as_ref().map(|r| r.clone().into_owned()),
            paths: Vec::new(),
            message,
            help: None,
            plan: 0,
            plan_position: Some(PlanPosition {
                byte_offset: rc.offset,
                line: 0,
                column: 0,
            }),
            location: None,
            suppression: None,
        }
    }

    /// A finding about a resource block in configuration mode, located at the block. A block
    /// with `count`/`for_each` is reported once; the message says it covers every instance.
    pub fn for_config(
        rule: &'static RuleInfo,
        resource: &ConfigResource,
        mut message: String,
    ) -> Self {
        if let Some(meta) = resource.repeated_by {
            let _ = write!(message, " (every instance of its {meta})");
        }
        Self {
            rule,
            severity: rule.default_severity,
            address: resource.address.clone(),
            config_address: resource.address.clone(),
            resource_type: resource.type_name.clone(),
            deposed: None,
            actions: Vec::new(),
            action_reason: None,
            paths: Vec::new(),
            message,
            help: None,
            plan: 0,
            plan_position: None,
            location: Some(resource.location.clone()),
            suppression: None,
        }
    }

    /// [`Self::with_paths`] for paths that are known configuration arguments.
    #[must_use]
    pub fn with_config_paths(self, paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.with_paths(
            paths
                .into_iter()
                .map(|path| PathReport {
                    path: path.into(),
                    known_after_apply: false,
                    sensitive: false,
                })
                .collect(),
        )
    }

    #[must_use]
    pub fn with_paths(mut self, paths: Vec<PathReport>) -> Self {
        self.paths = paths;
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Counts toward the exit status.
    pub fn is_active_error(&self) -> bool {
        self.suppression.is_none() && self.severity == Severity::Error
    }
}

/// `a`, `b` and 3 more.
pub fn list_paths(paths: &[PathReport], max: usize) -> String {
    let shown: Vec<String> = paths.iter().take(max).map(PathReport::describe).collect();
    let mut text = shown.join(", ");
    if paths.len() > max {
        let _ = write!(text, " and {} more", paths.len() - max);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_path_is_described_as_the_whole_object() {
        let whole = PathReport {
            path: String::new(),
            known_after_apply: false,
            sensitive: true,
        };
        assert_eq!(whole.describe(), "the whole object (sensitive)");
    }
}
