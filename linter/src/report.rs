//! What a run found: the model every output format renders.

use time::Date;

use crate::finding::{Finding, SuppressionKind};

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
    /// A plan, or a configuration directory linted without one (`resource_changes` then
    /// counts its `resource` blocks).
    pub kind: InputKind,
}

/// What an input on the command line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    #[default]
    Plan,
    /// A Terraform configuration directory (configuration mode).
    Configuration,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Configuration => "configuration",
        }
    }
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
