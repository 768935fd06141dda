//! The plan as the rules read it: resource changes, their actions and attribute values.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::address::{self, Mode};
use super::configuration::Configuration;
use super::diff;

/// The `format_version` range this model understands (the same range terraform-json accepts).
pub const MIN_FORMAT: FormatVersion = FormatVersion { major: 0, minor: 1 };
/// The newest minor version this model was written against.
pub const KNOWN_FORMAT: FormatVersion = FormatVersion { major: 1, minor: 2 };

/// A plan's `format_version`, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FormatVersion {
    pub major: u32,
    pub minor: u32,
}

impl FormatVersion {
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(Self {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl std::fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A parsed plan. Borrows from the text it was parsed from.
#[derive(Debug)]
pub struct Plan<'a> {
    pub format_version: FormatVersion,
    pub terraform_version: Option<Cow<'a, str>>,
    /// Every planned change, including no-ops, deletes and deposed objects.
    pub resource_changes: Vec<ResourceChange<'a>>,
    /// Changes Terraform detected outside of Terraform since the last apply.
    pub resource_drift: Vec<ResourceChange<'a>>,
    pub configuration: Option<Configuration<'a>>,
    /// Terraform ≥ 1.4 marks plans that stopped on an error; they are incomplete.
    pub errored: bool,
}

/// One entry of `resource_changes` or `resource_drift`.
#[derive(Debug)]
pub struct ResourceChange<'a> {
    pub address: Cow<'a, str>,
    /// Byte offset of the `address` value in the parsed text (for locations in the plan file).
    pub offset: usize,
    pub module_address: Option<Cow<'a, str>>,
    pub mode: Mode,
    pub type_name: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub provider_name: Option<Cow<'a, str>>,
    /// Set for a deposed object (the old half of an unfinished create-before-destroy).
    pub deposed: Option<Cow<'a, str>>,
    pub action_reason: Option<Cow<'a, str>>,
    pub change: Change<'a>,
}

impl ResourceChange<'_> {
    /// The address without count/for_each keys: how the resource is written in HCL.
    pub fn config_address(&self) -> String {
        address::config_address(
            self.module_address.as_deref(),
            self.mode,
            &self.type_name,
            &self.name,
        )
    }
}

/// The `change` object of a resource change.
#[derive(Debug)]
pub struct Change<'a> {
    pub actions: Vec<Action>,
    pub before: Option<&'a RawValue>,
    pub after: Option<&'a RawValue>,
    pub after_unknown: Option<&'a RawValue>,
    pub before_sensitive: Option<&'a RawValue>,
    pub after_sensitive: Option<&'a RawValue>,
    pub replace_paths: Option<&'a RawValue>,
}

impl Change<'_> {
    pub fn kind(&self) -> ChangeKind {
        ChangeKind::of(&self.actions)
    }

    /// `after`, parsed. `None` when absent, null or (impossible after a successful parse) invalid.
    pub fn after_value(&self) -> Option<serde_json::Value> {
        parse_raw(self.after).filter(|v| !v.is_null())
    }

    /// `replace_paths` rendered as attribute paths (`ami`, `network_interface[0].subnet_id`).
    pub fn replace_paths(&self) -> Vec<String> {
        let Some(serde_json::Value::Array(paths)) = parse_raw(self.replace_paths) else {
            return Vec::new();
        };
        paths
            .iter()
            .filter_map(|p| p.as_array())
            .map(|steps| diff::render_steps(steps))
            .collect()
    }
}

/// Parses a borrowed raw value. Raw values were validated by the plan parse.
pub fn parse_raw(raw: Option<&RawValue>) -> Option<serde_json::Value> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// One element of `actions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    Forget,
    /// An action this model does not know (a newer Terraform); kept verbatim.
    Other(String),
}

impl Action {
    pub(super) fn from_str(s: &str) -> Self {
        match s {
            "no-op" => Self::NoOp,
            "create" => Self::Create,
            "read" => Self::Read,
            "update" => Self::Update,
            "delete" => Self::Delete,
            "forget" => Self::Forget,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::NoOp => "no-op",
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Forget => "forget",
            Self::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ActionVisitor;

        impl serde::de::Visitor<'_> for ActionVisitor {
            type Value = Action;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // What a string field says, so error messages stay the same.
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Action, E> {
                Ok(Action::from_str(s))
            }
        }

        deserializer.deserialize_str(ActionVisitor)
    }
}

/// What an action list means, in order: `["delete","create"]` is destroy-then-create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    /// `["delete","create"]`: the old object is destroyed first.
    ReplaceDestroyFirst,
    /// `["create","delete"]`: create_before_destroy.
    ReplaceCreateFirst,
    Forget,
    CreateThenForget,
    Unknown,
}

impl ChangeKind {
    pub fn of(actions: &[Action]) -> Self {
        use Action as A;
        match actions {
            [A::NoOp] => Self::NoOp,
            [A::Create] => Self::Create,
            [A::Read] => Self::Read,
            [A::Update] => Self::Update,
            [A::Delete] => Self::Delete,
            [A::Delete, A::Create] => Self::ReplaceDestroyFirst,
            [A::Create, A::Delete] => Self::ReplaceCreateFirst,
            [A::Forget] => Self::Forget,
            [A::Create, A::Forget] => Self::CreateThenForget,
            _ => Self::Unknown,
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Self::ReplaceDestroyFirst | Self::ReplaceCreateFirst)
    }

    /// Whether the planned state (`after`) exists after apply.
    pub fn has_after(self) -> bool {
        !matches!(self, Self::Delete | Self::Forget | Self::Unknown)
    }
}
