//! Parsing a plan: the raw serde shapes, then the model the rules read.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::position::BOM;

use super::address::{self, Mode};
use super::configuration::Configuration;
use super::error::{Excerpt, PlanError};
use super::model::{Action, Change, FormatVersion, KNOWN_FORMAT, MIN_FORMAT, Plan, ResourceChange};

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
