//! A `resource` block as configuration mode gives it to the rules, the counterpart of a
//! plan's resource change. A leaf: [`crate::tfconfig`] builds these, and the rules and
//! [`crate::finding`] read them without depending on the configuration reader.

use serde_json::Value;

use crate::position::SourceLocation;
use crate::registry::RuleInfo;

/// Why a value is unknown, in words (`references aws_instance.web`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown(pub String);

/// An argument the configuration sets to something configuration mode cannot evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// `ingress[0].cidr_blocks`, `tags.Name`, or a block name for a `dynamic` block.
    pub path: String,
    pub reason: String,
}

/// A `resource` block as configuration mode sees it.
#[derive(Debug, Clone)]
pub struct ConfigResource {
    /// Configuration address, module calls included (`module.app.aws_instance.web`), without
    /// count/for_each keys: a repeated resource is one block, reported once.
    pub address: String,
    pub type_name: String,
    pub location: SourceLocation,
    /// The known arguments, nested blocks as lists of objects (as in a plan's values).
    pub value: Value,
    /// Arguments that are set but not known.
    pub unknown: Vec<UnknownValue>,
    /// `lifecycle { create_before_destroy }`: `Ok(false)` when not set.
    pub create_before_destroy: Result<bool, Unknown>,
    /// Provisioner types, in order.
    pub provisioners: Vec<String>,
    /// `count` or `for_each`, when the block has one.
    pub repeated_by: Option<&'static str>,
}

impl ConfigResource {
    /// Why the argument at `path`, or a block or object around it, is unknown (indexes in
    /// `path` and in the recorded paths are ignored, so `ingress.cidr_blocks` asks about every
    /// ingress block, and a `dynamic "health_check"` makes `health_check.x` unknown).
    pub fn unknown_at(&self, path: &str) -> Option<&UnknownValue> {
        let wanted = strip_indexes(path);
        self.unknown.iter().find(|u| {
            let recorded = strip_indexes(&u.path);
            wanted == recorded
                || wanted
                    .strip_prefix(recorded.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// Says on `--verbose` that `rule` did not check this block because `path` is unknown.
    pub fn log_skip(&self, rule: &RuleInfo, path: &str, why: &str) {
        tracing::info!(
            "{}: {} not checked: {path} is not known without a plan ({why})",
            self.address,
            rule.code
        );
    }

    /// [`Self::log_skip`] when `path` is unknown; whether it is.
    pub fn skips_on(&self, rule: &RuleInfo, path: &str) -> bool {
        match self.unknown_at(path) {
            Some(u) => {
                self.log_skip(rule, &u.path, &u.reason);
                true
            }
            None => false,
        }
    }

    /// Whether the argument at a top-level `name` is set, to a known non-null value or to an
    /// unknown one. `None`: set to something unknown (it may be null).
    pub fn is_set(&self, name: &str) -> Option<bool> {
        match self.value.get(name) {
            Some(Value::Null) | None if self.unknown_at(name).is_some() => None,
            Some(Value::Null) | None => Some(false),
            Some(_) => Some(true),
        }
    }
}

/// `a[0].b[12]` → `a.b`.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_ignored_in_unknown_paths() {
        assert_eq!(
            strip_indexes("ingress[0].cidr_blocks[12]"),
            "ingress.cidr_blocks"
        );
    }
}
