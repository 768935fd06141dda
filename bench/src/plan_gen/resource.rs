//! Which resources a plan has: the block kinds of its configuration, where each module
//! instance sits, and for each resource instance its address, key, action and drift, derived
//! from `(seed, index)` alone.

use crate::rng::Rng;

/// Resource instances per module instance.
pub(super) const GROUP: usize = 100;

/// Block kinds of the configuration: (mode, type, name, uses for_each (else count)).
pub(super) const BLOCKS: &[(&str, &str, &str, bool)] = &[
    ("managed", "aws_instance", "web", true),
    ("managed", "aws_autoscaling_group", "fleet", false),
    ("managed", "aws_launch_template", "fleet", false),
    ("managed", "aws_security_group", "app", true),
    ("managed", "aws_security_group_rule", "ingress", false),
    ("managed", "aws_s3_bucket", "logs", true),
    ("managed", "aws_iam_role", "task", true),
    ("managed", "aws_route53_record", "svc", false),
    ("managed", "aws_lb_target_group", "app", true),
    ("managed", "aws_cloudwatch_metric_alarm", "cpu", false),
    ("managed", "aws_ebs_volume", "data", true),
    ("data", "aws_ami", "release", false),
];

/// What the plan does to a resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    NoOp,
    Update,
    Create,
    Delete,
    ReplaceCreateFirst,
    ReplaceDestroyFirst,
    Read,
}

impl Action {
    pub(super) fn actions(self) -> &'static str {
        match self {
            Self::NoOp => r#"["no-op"]"#,
            Self::Update => r#"["update"]"#,
            Self::Create => r#"["create"]"#,
            Self::Delete => r#"["delete"]"#,
            Self::ReplaceCreateFirst => r#"["create","delete"]"#,
            Self::ReplaceDestroyFirst => r#"["delete","create"]"#,
            Self::Read => r#"["read"]"#,
        }
    }

    pub(super) fn has_before(self) -> bool {
        !matches!(self, Self::Create | Self::Read)
    }

    pub(super) fn has_after(self) -> bool {
        !matches!(self, Self::Delete)
    }
}

/// Where module instance `group` sits: the root, `module.app["svc-G"]`, its child
/// `module.db[0]`, or `module.net[K]`.
pub(super) fn module_address(group: usize) -> Option<String> {
    match group % 4 {
        0 => None,
        1 => Some(format!(r#"module.app["svc-{group}"]"#)),
        2 => Some(format!(r#"module.app["svc-{}"].module.db[0]"#, group - 1)),
        _ => Some(format!("module.net[{}]", group / 4)),
    }
}

/// One resource instance, derived from `(seed, index)`.
pub(super) struct Resource {
    pub(super) index: usize,
    pub(super) module: Option<String>,
    block: usize,
    /// `["k-3"]` or `[3]`, as in the address.
    key: String,
    /// The `index` field: `"k-3"` or `3`, as JSON.
    pub(super) key_json: String,
    pub(super) action: Action,
    pub(super) reason: Option<&'static str>,
    pub(super) drift: bool,
    pub(super) seed: u64,
}

impl Resource {
    pub(super) fn new(seed: u64, index: usize) -> Self {
        let group = index / GROUP;
        let j = index % GROUP;
        let block = j % BLOCKS.len();
        // Root groups share one module: their keys continue where the previous one stopped.
        let per_group = GROUP.div_ceil(BLOCKS.len());
        let k = if group.is_multiple_of(4) {
            (group / 4) * per_group + j / BLOCKS.len()
        } else {
            j / BLOCKS.len()
        };
        let (key, key_json) = if BLOCKS[block].3 {
            (format!(r#"["k-{k}"]"#), format!(r#""k-{k}""#))
        } else {
            (format!("[{k}]"), k.to_string())
        };
        let mut rng = Rng::new(seed, index);
        let roll = rng.below(1000);
        let action = if BLOCKS[block].0 == "data" {
            if roll < 150 {
                Action::Read
            } else {
                Action::NoOp
            }
        } else {
            match roll {
                0..700 => Action::NoOp,
                700..820 => Action::Update,
                820..900 => Action::Create,
                900..940 => Action::Delete,
                940..980 => Action::ReplaceCreateFirst,
                _ => Action::ReplaceDestroyFirst,
            }
        };
        let reason = match action {
            Action::ReplaceCreateFirst | Action::ReplaceDestroyFirst => {
                Some("replace_because_cannot_update")
            }
            Action::Delete => Some("delete_because_no_resource_config"),
            _ => None,
        };
        let drift = action.has_before() && BLOCKS[block].0 == "managed" && rng.below(100) < 3;
        Self {
            index,
            module: module_address(group),
            block,
            key,
            key_json,
            action,
            reason,
            drift,
            seed,
        }
    }

    pub(super) fn mode(&self) -> &'static str {
        BLOCKS[self.block].0
    }

    pub(super) fn type_name(&self) -> &'static str {
        BLOCKS[self.block].1
    }

    pub(super) fn name(&self) -> &'static str {
        BLOCKS[self.block].2
    }

    pub(super) fn address(&self) -> String {
        let data = if self.mode() == "data" { "data." } else { "" };
        let local = format!("{data}{}.{}{}", self.type_name(), self.name(), self.key);
        match &self.module {
            Some(m) => format!("{m}.{local}"),
            None => local,
        }
    }
}
