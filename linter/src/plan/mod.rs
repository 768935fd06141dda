//! A borrowing serde model of `terraform show -json` plans (Terraform and OpenTofu).
//!
//! Only what the rules read is modelled. Attribute values (`before`, `after`,
//! `after_unknown`, the sensitivity markers) stay [`RawValue`] slices of the input and are
//! parsed on demand, for the few resources a rule looks into: the whole plan is scanned once
//! and never turned into a DOM.

pub mod address;
pub mod diff;
mod error;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

pub use error::{Excerpt, PlanError};

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
    fn parse(text: &str) -> Option<Self> {
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

/// `"managed"` or `"data"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
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
    fn from_str(s: &str) -> Self {
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

/// The `configuration` subset the rules read: resources (with provisioners) and module calls.
#[derive(Debug, Default, Deserialize)]
pub struct Configuration<'a> {
    #[serde(borrow, default)]
    pub root_module: ConfigModule<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfigModule<'a> {
    #[serde(borrow, default)]
    pub resources: Vec<ConfigResource<'a>>,
    #[serde(borrow, default)]
    pub module_calls: BTreeMap<Cow<'a, str>, ModuleCall<'a>>,
}

/// A resource block of the configuration. `address`, `type` and `name` may each be missing
/// (the others then supply it, see [`Configuration::fill_missing`]).
#[derive(Debug, Deserialize)]
pub struct ConfigResource<'a> {
    /// Address within its module (`aws_instance.web`).
    #[serde(borrow, default)]
    pub address: Cow<'a, str>,
    #[serde(borrow, default)]
    pub mode: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    pub type_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub provisioners: Vec<Provisioner<'a>>,
    /// The block's arguments: `{"constant_value": …}` or `{"references": […]}` per
    /// attribute, nested blocks as lists. Parsed only by the rules that follow references.
    #[serde(borrow, default)]
    pub expressions: Option<&'a RawValue>,
}

impl Configuration<'_> {
    /// Builds each resource's missing `address` from its mode, type and name, and missing
    /// `type`/`name` from its address.
    pub fn fill_missing(&mut self) {
        fn fill(module: &mut ConfigModule<'_>) {
            for r in &mut module.resources {
                let data = r.mode.as_deref() == Some("data");
                if r.address.is_empty() && !r.type_name.is_empty() && !r.name.is_empty() {
                    let prefix = if data { "data." } else { "" };
                    r.address = Cow::Owned(format!("{prefix}{}.{}", r.type_name, r.name));
                } else if (r.type_name.is_empty() || r.name.is_empty())
                    && let Some(parts) = address::split(&r.address)
                {
                    let (t, n) = (parts.type_name.to_owned(), parts.name.to_owned());
                    if r.type_name.is_empty() {
                        r.type_name = Cow::Owned(t);
                    }
                    if r.name.is_empty() {
                        r.name = Cow::Owned(n);
                    }
                }
            }
            for call in module.module_calls.values_mut() {
                fill(&mut call.module);
            }
        }
        fill(&mut self.root_module);
    }
}

#[derive(Debug, Deserialize)]
pub struct Provisioner<'a> {
    #[serde(rename = "type", borrow, default)]
    pub type_name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct ModuleCall<'a> {
    #[serde(borrow, default)]
    pub source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub module: ConfigModule<'a>,
}

impl<'a> ConfigModule<'a> {
    /// Visits every resource with its module path (`module.a.module.b`, empty at the root).
    pub fn walk(&self, prefix: &str, visit: &mut dyn FnMut(&str, &ConfigResource<'a>)) {
        for resource in &self.resources {
            visit(prefix, resource);
        }
        for (name, call) in &self.module_calls {
            let path = if prefix.is_empty() {
                format!("module.{name}")
            } else {
                format!("{prefix}.module.{name}")
            };
            call.module.walk(&path, visit);
        }
    }
}

#[derive(Deserialize)]
struct RawPlan<'a> {
    #[serde(borrow, default)]
    format_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    terraform_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resource_changes: Option<Changes<'a>>,
    #[serde(borrow, default)]
    resource_drift: Option<Changes<'a>>,
    #[serde(borrow, default)]
    configuration: Option<Configuration<'a>>,
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
    #[serde(default)]
    output_changes: Option<IgnoredAny>,
    #[serde(default)]
    errored: Option<bool>,
    // Present in state files, which are the most common wrong input.
    #[serde(default)]
    values: Option<IgnoredAny>,
    #[serde(default)]
    lineage: Option<IgnoredAny>,
    #[serde(default)]
    serial: Option<IgnoredAny>,
}

/// One entry as written. Every field Terraform marks `omitempty` is optional here: Terraform
/// 1.0.0 wrote `resource_drift` entries without `address` (fixed in 1.0.1), so a missing
/// `address` is built from the parts, and missing parts are taken from the address.
#[derive(Deserialize)]
struct RawResourceChange<'a> {
    #[serde(borrow, default)]
    address: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    module_address: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    mode: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default, deserialize_with = "borrowed_str")]
    type_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    name: Option<Cow<'a, str>>,
    /// The count/for_each key, a number or a string: read only to build a missing address.
    #[serde(borrow, default)]
    index: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    provider_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    deposed: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    action_reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change: RawChange<'a>,
}

#[derive(Deserialize)]
struct RawChange<'a> {
    actions: Vec<Action>,
    #[serde(borrow, default)]
    before: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_unknown: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_sensitive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_sensitive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    replace_paths: Option<&'a RawValue>,
}

/// `resource_changes` or `resource_drift`, each entry converted as soon as it is parsed: the
/// list of raw entries is never held in memory next to the converted one.
#[derive(Default)]
struct Changes<'a> {
    list: Vec<ResourceChange<'a>>,
    /// Where the first entry that cannot be read is (an absolute address in memory, like
    /// every `offset` in `list` until [`Changes::into_list`]), and why.
    bad_entry: Option<(usize, &'static str)>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Changes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChangesVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> serde::de::Visitor<'de> for ChangesVisitor<'a> {
            type Value = Changes<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // What a `Vec` says, so error messages stay the same.
                f.write_str("a sequence")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Changes<'a>, A::Error> {
                let mut changes = Changes::default();
                while let Some(raw) = seq.next_element::<RawResourceChange<'a>>()? {
                    let (rc, problem) = ResourceChange::from_raw(raw);
                    if let Some(problem) = problem {
                        changes.bad_entry.get_or_insert((rc.offset, problem));
                    }
                    changes.list.push(rc);
                }
                Ok(changes)
            }
        }

        deserializer.deserialize_seq(ChangesVisitor(std::marker::PhantomData))
    }
}

impl<'a> Changes<'a> {
    /// The entries with offsets relative to `base` (the start of `text`), or the error about
    /// the first entry that cannot be read.
    fn into_list(
        self,
        base: usize,
        name: &str,
        text: &str,
    ) -> Result<Vec<ResourceChange<'a>>, PlanError> {
        if let Some((at, problem)) = self.bad_entry {
            return Err(PlanError::Invalid {
                excerpt: Excerpt::around(name, text, at.saturating_sub(base)),
                message: problem.to_owned(),
            });
        }
        let mut list = self.list;
        for rc in &mut list {
            rc.offset = rc.offset.saturating_sub(base);
        }
        Ok(list)
    }
}

/// What the user should run to get a plan JSON.
pub const HOW_TO_MAKE_A_PLAN: &str =
    "terraform plan -out=tfplan && terraform show -json tfplan > plan.json";

/// Parses a plan from `text`. `name` is used in diagnostics.
///
/// A byte-order mark and the lines CI wrappers add around the JSON (see
/// [`strip_wrapper_noise`]) are skipped; offsets and positions, in findings and errors alike,
/// are those of `text` as given.
pub fn parse<'a>(name: &str, text: &'a str) -> Result<Plan<'a>, PlanError> {
    parse_within(name, text, strip_wrapper_noise(text))
}

/// [`parse`] for a caller that already knows where the JSON is: `range` must be
/// [`strip_wrapper_noise`]`(text)` or [`strip_leading_noise`]`(text)`. With the latter, lines
/// after the JSON are looked for only if the JSON does not parse: finding them means scanning
/// back over the last line, which in a one-line plan is the whole plan.
pub fn parse_within<'a>(
    name: &str,
    text: &'a str,
    range: std::ops::Range<usize>,
) -> Result<Plan<'a>, PlanError> {
    let whole = text;
    let Some(text) = whole.get(range.clone()) else {
        return parse(name, whole);
    };
    if text.trim().is_empty() {
        return Err(PlanError::Empty {
            name: name.to_owned(),
            len: whole.len(),
        });
    }
    let raw: RawPlan<'a> = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let full = strip_wrapper_noise(whole);
            if full != range {
                tracing::info!("{name}: ignored lines a CI wrapper added around the JSON");
                return parse_within(name, whole, full);
            }
            return Err(PlanError::from_json(name, whole, range, &e));
        }
    };

    let looks_like_plan = raw.resource_changes.is_some()
        || raw.planned_values.is_some()
        || raw.resource_drift.is_some()
        || raw.output_changes.is_some();
    if !looks_like_plan && (raw.lineage.is_some() || raw.serial.is_some() || raw.values.is_some()) {
        return Err(PlanError::StateFile {
            name: name.to_owned(),
        });
    }
    let Some(version_text) = raw.format_version else {
        return Err(PlanError::NotAPlan {
            name: name.to_owned(),
            reason: "it has no `format_version`".to_owned(),
        });
    };
    let Some(format_version) = FormatVersion::parse(&version_text) else {
        return Err(PlanError::UnsupportedVersion {
            name: name.to_owned(),
            version: version_text.into_owned(),
        });
    };
    if format_version < MIN_FORMAT || format_version.major >= 2 {
        return Err(PlanError::UnsupportedVersion {
            name: name.to_owned(),
            version: version_text.into_owned(),
        });
    }
    if !looks_like_plan {
        return Err(PlanError::NotAPlan {
            name: name.to_owned(),
            reason: "it has neither `resource_changes` nor `planned_values`".to_owned(),
        });
    }
    if format_version > KNOWN_FORMAT {
        // Minor versions only add fields (Terraform's compatibility promise), so read on.
        tracing::warn!(
            "{name}: plan format {format_version} is newer than {KNOWN_FORMAT}; reading it as {KNOWN_FORMAT}"
        );
    }

    // Offsets are measured from the start of the whole input, not of the JSON within it.
    let base = whole.as_ptr().addr();
    let convert = |list: Option<Changes<'a>>| list.unwrap_or_default().into_list(base, name, whole);
    Ok(Plan {
        format_version,
        terraform_version: raw.terraform_version,
        resource_changes: convert(raw.resource_changes)?,
        resource_drift: convert(raw.resource_drift)?,
        configuration: raw.configuration.map(|mut c| {
            c.fill_missing();
            c
        }),
        errored: raw.errored.unwrap_or(false),
    })
}

/// An optional string that borrows from the input when it has no escapes. (serde borrows a
/// `Cow<str>` field marked `borrow`, but not one inside an `Option`: that one is always copied.)
fn borrowed_str<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'a>>::deserialize(deserializer)?.map(|b| b.0))
}

/// The address in memory of the opening quote of a string value that borrows from the input.
fn quote_addr(value: Option<&Cow<'_, str>>) -> Option<usize> {
    match value? {
        Cow::Borrowed(s) => Some(s.as_ptr().addr().saturating_sub(1)),
        Cow::Owned(_) => None,
    }
}

/// A count/for_each key as written in a plan entry's `index`.
fn instance_key(raw: &RawValue) -> Option<address::InstanceKey<'_>> {
    let text = raw.get();
    if text == "null" {
        return None;
    }
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if !inner.contains('\\') {
            return Some(address::InstanceKey::Str(inner));
        }
        // An escaped key: kept as written (quotes and escapes are those of JSON, which
        // agree with Terraform's for every common case).
        return Some(address::InstanceKey::Other(text));
    }
    Some(
        text.parse()
            .map_or(address::InstanceKey::Other(text), address::InstanceKey::Int),
    )
}

impl<'a> ResourceChange<'a> {
    /// The entry, with `offset` the address in memory of its `address` value (or, without
    /// one, of its `type` or `name`), and what makes it unreadable, if anything.
    fn from_raw(raw: RawResourceChange<'a>) -> (Self, Option<&'static str>) {
        let mut problem = None;
        let mut offset = None;
        let mut address = None;
        if let Some(json) = raw.address.map(RawValue::get) {
            offset = Some(json.as_ptr().addr());
            address = match json.strip_prefix('"').and_then(|j| j.strip_suffix('"')) {
                // Validated by the parse: a string without escapes is its own contents.
                Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
                _ => serde_json::from_str::<Cow<'a, str>>(json).ok(),
            };
            if address.is_none() && json != "null" {
                problem = Some("`address` must be a string");
            }
        }
        let offset = offset
            .or_else(|| quote_addr(raw.type_name.as_ref()))
            .or_else(|| quote_addr(raw.name.as_ref()))
            .or_else(|| raw.change.before.map(|r| r.get().as_ptr().addr()))
            .or_else(|| raw.change.after.map(|r| r.get().as_ptr().addr()))
            .unwrap_or(0);
        let mut mode = match raw.mode.as_deref() {
            Some("data") => Mode::Data,
            _ => Mode::Managed,
        };
        let (mut module_address, mut type_name, mut name) =
            (raw.module_address, raw.type_name, raw.name);
        // Parts missing from the entry are taken from its address.
        let incomplete = type_name.is_none()
            || name.is_none()
            || (module_address.is_none()
                && address.as_deref().is_some_and(|a| a.starts_with("module.")));
        if incomplete && let Some(parts) = address.as_deref().and_then(address::split) {
            let owned = |s: &str| Some(Cow::Owned(s.to_owned()));
            if module_address.is_none() {
                module_address = parts.module.and_then(owned);
            }
            if raw.mode.is_none() {
                mode = parts.mode;
            }
            type_name = type_name.or_else(|| owned(parts.type_name));
            name = name.or_else(|| owned(parts.name));
        }
        let (type_name, name) = match (type_name, name) {
            (Some(t), Some(n)) => (t, n),
            (t, n) => {
                problem = problem.or(Some(
                    "a resource change needs an `address`, or a `type` and a `name`",
                ));
                (t.unwrap_or_default(), n.unwrap_or_default())
            }
        };
        let address = address.unwrap_or_else(|| {
            if problem.is_some() {
                return Cow::Borrowed("");
            }
            let key = raw.index.and_then(instance_key);
            Cow::Owned(address::instance_address(
                module_address.as_deref(),
                mode,
                &type_name,
                &name,
                key.as_ref(),
            ))
        });
        let rc = Self {
            address,
            offset,
            module_address,
            mode,
            type_name,
            name,
            provider_name: raw.provider_name,
            deposed: raw.deposed,
            action_reason: raw.action_reason,
            change: Change {
                actions: raw.change.actions,
                before: raw.change.before,
                after: raw.change.after,
                after_unknown: raw.change.after_unknown,
                before_sensitive: raw.change.before_sensitive,
                after_sensitive: raw.change.after_sensitive,
                replace_paths: raw.change.replace_paths,
            },
        };
        (rc, problem)
    }
}

/// [`strip_wrapper_noise`] without the lines after the JSON: a byte-order mark and a
/// `[command]` line are skipped; the range ends where the text does. Never looks past the first
/// line.
pub fn strip_leading_noise(text: &str) -> std::ops::Range<usize> {
    let mut start = if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    if text[start..].starts_with("[command]") {
        start =
            memchr::memchr(b'\n', &text.as_bytes()[start..]).map_or(text.len(), |i| start + i + 1);
    }
    start..text.len()
}

/// A UTF-8 byte-order mark (Windows tools write one; JSON parsers may ignore it).
pub const BOM: char = '\u{FEFF}';

/// Strips what CI wrappers add around `terraform show -json` output: hashicorp/setup-terraform's
/// wrapper prints a `[command]…` line first and `::debug::…` lines after the JSON; and a
/// leading byte-order mark.
/// Returns the byte range of the JSON document, or the whole text when nothing was added.
pub fn strip_wrapper_noise(text: &str) -> std::ops::Range<usize> {
    let std::ops::Range { start, mut end } = strip_leading_noise(text);
    loop {
        let body = &text[start..end];
        let trimmed = body.trim_end();
        let Some(last_line_start) = memchr::memrchr(b'\n', trimmed.as_bytes()).map(|i| i + 1)
        else {
            break;
        };
        if trimmed[last_line_start..].starts_with("::") {
            end = start + last_line_start;
        } else {
            break;
        }
    }
    start..end
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn action_lists_keep_their_order() {
        let kind =
            |a: &[&str]| ChangeKind::of(&a.iter().map(|s| Action::from_str(s)).collect::<Vec<_>>());
        assert_eq!(kind(&["delete", "create"]), ChangeKind::ReplaceDestroyFirst);
        assert_eq!(kind(&["create", "delete"]), ChangeKind::ReplaceCreateFirst);
        assert_eq!(kind(&["update"]), ChangeKind::Update);
        assert_eq!(kind(&["create", "forget"]), ChangeKind::CreateThenForget);
        assert_eq!(kind(&["teleport"]), ChangeKind::Unknown);
    }

    #[test]
    fn offsets_point_at_the_address() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_instance.a[\"k\"]","type":"aws_instance","name":"a","change":{"actions":["no-op"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert_eq!(rc.address, "aws_instance.a[\"k\"]");
        assert!(text[rc.offset..].starts_with("\"aws_instance.a[\\\"k\\\"]\""));
    }

    #[test]
    fn entries_without_an_address_get_one_built_from_their_parts() {
        // Terraform 1.0.0's resource_drift: mode/type/name/index/module_address only.
        let text = r#"{"format_version":"0.2","resource_changes":[],"resource_drift":[
            {"module_address":"module.app[\"blue\"]","mode":"managed","type":"aws_instance","name":"node","index":"a","change":{"actions":["delete"]}},
            {"mode":"data","type":"aws_ami","name":"u","change":{"actions":["update"]}},
            {"type":"aws_instance","name":"w","index":3,"change":{"actions":["update"]}},
            {"address":null,"type":"aws_instance","name":"k","index":"x\"y","change":{"actions":["update"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let addresses: Vec<&str> = plan
            .resource_drift
            .iter()
            .map(|r| r.address.as_ref())
            .collect();
        assert_eq!(
            addresses,
            [
                r#"module.app["blue"].aws_instance.node["a"]"#,
                "data.aws_ami.u",
                "aws_instance.w[3]",
                r#"aws_instance.k["x\"y"]"#,
            ]
        );
        let node = &plan.resource_drift[0];
        assert_eq!(node.config_address(), "module.app.aws_instance.node");
        // Positions point at the entry's `type`.
        assert!(text[node.offset..].starts_with("\"aws_instance\",\"name\":\"node\""));
    }

    #[test]
    fn missing_parts_are_taken_from_the_address() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"module.a[0].data.aws_ami.u","change":{"actions":["read"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert_eq!(rc.module_address.as_deref(), Some("module.a[0]"));
        assert_eq!(rc.mode, Mode::Data);
        assert_eq!((rc.type_name.as_ref(), rc.name.as_ref()), ("aws_ami", "u"));
        assert_eq!(rc.config_address(), "module.a.data.aws_ami.u");
    }

    #[test]
    fn an_entry_with_neither_address_nor_type_is_an_error_at_the_entry() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"name":"w","change":{"actions":["update"]}}]}"#;
        let err = parse("p.json", text).unwrap_err();
        assert!(
            err.to_string()
                .contains("a resource change needs an `address`, or a `type` and a `name`"),
            "{err}"
        );
        assert!(text[err.offset().unwrap()..].starts_with("\"w\""));
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":7,"type":"a","name":"b","change":{"actions":["update"]}}]}"#;
        let err = parse("p.json", text).unwrap_err();
        assert!(
            err.to_string().contains("`address` must be a string"),
            "{err}"
        );
    }

    #[test]
    fn configuration_resources_without_an_address_get_one() {
        let text = r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{
            "resources":[{"mode":"managed","type":"aws_instance","name":"w"},{"address":"data.aws_ami.u","mode":"data"}],
            "module_calls":{"m":{"source":"./m"}}}}}"#;
        let plan = parse("p.json", text).unwrap();
        let resources = &plan.configuration.unwrap().root_module.resources;
        assert_eq!(resources[0].address, "aws_instance.w");
        assert_eq!(
            (resources[1].type_name.as_ref(), resources[1].name.as_ref()),
            ("aws_ami", "u")
        );
    }

    #[test]
    fn wrapper_noise_is_stripped() {
        let text = "[command]/usr/bin/terraform show -json tfplan\n{\"a\":1}\n::debug::stderr:\n::debug::exitcode: 0\n";
        let range = strip_wrapper_noise(text);
        assert_eq!(text[range].trim(), "{\"a\":1}");
        assert_eq!(strip_wrapper_noise("{}"), 0..2);
        assert_eq!(strip_wrapper_noise("\u{FEFF}{}"), 3..5);
        assert_eq!(strip_leading_noise(text), 46..text.len());
    }

    #[test]
    fn trailing_wrapper_lines_are_found_when_only_the_leading_ones_were_stripped() {
        let text = "[command]terraform show -json tfplan\n{\"format_version\":\"1.2\",\"resource_changes\":[]}\n::debug::exitcode: 0\n";
        let plan = parse_within("w.json", text, strip_leading_noise(text)).unwrap();
        assert_eq!(plan.format_version, KNOWN_FORMAT);
        // An error in the JSON is reported the same whichever range was given.
        let bad = "[command]x\n{\"format_version\": x}\n::debug::exitcode: 0\n";
        let leading = parse_within("b.json", bad, strip_leading_noise(bad)).unwrap_err();
        let full = parse_within("b.json", bad, strip_wrapper_noise(bad)).unwrap_err();
        assert_eq!(leading.to_string(), full.to_string());
        assert_eq!(leading.offset(), full.offset());
    }

    #[test]
    fn positions_count_the_wrapper_lines_and_the_byte_order_mark() {
        // An error in the JSON after a `[command]` line is on the file's line 4, not 3.
        let text = "[command]terraform show -json tfplan\n{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [ x ]\n}\n::debug::exitcode: 0\n";
        let err = parse("wrapped.json", text).unwrap_err();
        assert!(err.to_string().starts_with("wrapped.json:4:25:"), "{err}");
        assert_eq!(&text[err.offset().unwrap()..][..1], "x");
        // A byte-order mark is skipped, and offsets still index the input as given.
        let text = "\u{FEFF}{\"format_version\":\"1.2\",\"resource_changes\":[{\"address\":\"a.b\",\"type\":\"a\",\"name\":\"b\",\"change\":{\"actions\":[\"no-op\"]}}]}";
        let plan = parse("bom.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert!(text[rc.offset..].starts_with("\"a.b\""));
        let err = parse("bom.json", "\u{FEFF}{\"format_version\": x}").unwrap_err();
        assert!(err.to_string().starts_with("bom.json:1:20:"), "{err}");
    }
}
