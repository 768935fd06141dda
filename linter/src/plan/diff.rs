//! Which attribute paths an update changes, from `before`, `after` and `after_unknown`.
//!
//! Values under a sensitive marker are compared but never descended into for naming: the
//! path stops at the sensitive attribute, so no key or value of it can reach the output.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// An attribute path that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    pub steps: Vec<Step>,
    /// The new value is known only after apply.
    pub known_after_apply: bool,
    /// The value is sensitive: the path is cut at the sensitive attribute.
    pub sensitive: bool,
}

impl ChangedPath {
    /// `metadata_options.http_tokens`, `tags["a b"]`, `ebs_block_device[1].volume_size`.
    pub fn render(&self) -> String {
        render(&self.steps)
    }

    /// Whether `prefix` (dotted attribute names, list indexes ignored) covers this path.
    pub fn starts_with(&self, prefix: &str) -> bool {
        let mut keys = self.steps.iter().filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        });
        prefix.split('.').all(|part| keys.next() == Some(part))
    }

    /// The first attribute name.
    pub fn root(&self) -> &str {
        match self.steps.first() {
            Some(Step::Key(k)) => k,
            _ => "",
        }
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) if is_identifier(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Key(k) => {
                let quoted = serde_json::to_string(k).unwrap_or_default();
                let _ = write!(out, "[{quoted}]");
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// Renders a `replace_paths` entry (a list of attribute names and indexes).
pub fn render_steps(steps: &[Value]) -> String {
    let steps: Vec<Step> = steps
        .iter()
        .filter_map(|s| match s {
            Value::String(k) => Some(Step::Key(k.clone())),
            Value::Number(n) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .map(Step::Index),
            _ => None,
        })
        .collect();
    render(&steps)
}

/// The values of one resource change that the diff reads.
#[derive(Debug, Default)]
pub struct Sides<'v> {
    pub before: Option<&'v Value>,
    pub after: Option<&'v Value>,
    pub after_unknown: Option<&'v Value>,
    pub before_sensitive: Option<&'v Value>,
    pub after_sensitive: Option<&'v Value>,
}

/// Every changed leaf path (or the whole subtree, where a block appears, disappears, changes
/// length or is unknown), sorted.
pub fn changed_paths(sides: &Sides<'_>) -> Vec<ChangedPath> {
    let mut out = Vec::new();
    let mut steps = Vec::new();
    walk(sides, &mut steps, &mut out);
    out
}

fn child<'v>(value: Option<&'v Value>, step: &Step) -> Option<&'v Value> {
    match (value?, step) {
        (Value::Object(map), Step::Key(k)) => map.get(k),
        (Value::Array(list), Step::Index(i)) => list.get(*i),
        _ => None,
    }
}

fn any_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Array(list)) => list.iter().any(|v| any_true(Some(v))),
        Some(Value::Object(map)) => map.values().any(|v| any_true(Some(v))),
        _ => false,
    }
}

fn is_null(value: Option<&Value>) -> bool {
    value.is_none_or(Value::is_null)
}

fn is_container(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Array(_) | Value::Object(_)))
}

fn walk(sides: &Sides<'_>, steps: &mut Vec<Step>, out: &mut Vec<ChangedPath>) {
    let Sides {
        before,
        after,
        after_unknown,
        before_sensitive,
        after_sensitive,
    } = *sides;
    let push = |out: &mut Vec<ChangedPath>, steps: &[Step], known_after_apply, sensitive| {
        out.push(ChangedPath {
            steps: steps.to_vec(),
            known_after_apply,
            sensitive,
        });
    };
    let sensitive = matches!(before_sensitive, Some(Value::Bool(true)))
        || matches!(after_sensitive, Some(Value::Bool(true)));
    if matches!(after_unknown, Some(Value::Bool(true))) {
        push(out, steps, true, sensitive);
        return;
    }
    if sensitive {
        if before != after || any_true(after_unknown) {
            push(out, steps, any_true(after_unknown), true);
        }
        return;
    }
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let unknown_keys = after_unknown
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys());
            let keys: BTreeSet<&String> = keys.into_iter().chain(unknown_keys).collect();
            for key in keys {
                let step = Step::Key(key.clone());
                descend(sides, step, steps, out);
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a)))
            if b.len() == a.len() && (b.iter().chain(a).any(|v| is_container(Some(v)))) =>
        {
            // A single-element list is almost always a `MaxItems: 1` block: name it without `[0]`.
            let single = a.len() == 1;
            for i in 0..a.len() {
                let step = Step::Index(i);
                let sub = Sides {
                    before: child(before, &step),
                    after: child(after, &step),
                    after_unknown: child(after_unknown, &step),
                    before_sensitive: child(before_sensitive, &step),
                    after_sensitive: child(after_sensitive, &step),
                };
                if !single {
                    steps.push(step);
                }
                walk(&sub, steps, out);
                if !single {
                    steps.pop();
                }
            }
        }
        _ => {
            let unknown = any_true(after_unknown);
            let same = before == after || (is_null(before) && is_null(after));
            if !same || unknown {
                push(
                    out,
                    steps,
                    unknown,
                    any_true(before_sensitive) || any_true(after_sensitive),
                );
            }
        }
    }
}

fn descend(sides: &Sides<'_>, step: Step, steps: &mut Vec<Step>, out: &mut Vec<ChangedPath>) {
    let sub = Sides {
        before: child(sides.before, &step),
        after: child(sides.after, &step),
        after_unknown: child(sides.after_unknown, &step),
        before_sensitive: child(sides.before_sensitive, &step),
        after_sensitive: child(sides.after_sensitive, &step),
    };
    steps.push(step);
    walk(&sub, steps, out);
    steps.pop();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn paths(
        before: &Value,
        after: &Value,
        unknown: &Value,
        sensitive: &Value,
    ) -> Vec<(String, bool, bool)> {
        changed_paths(&Sides {
            before: Some(before),
            after: Some(after),
            after_unknown: Some(unknown),
            before_sensitive: Some(sensitive),
            after_sensitive: Some(sensitive),
        })
        .into_iter()
        .map(|p| (p.render(), p.known_after_apply, p.sensitive))
        .collect()
    }

    #[test]
    fn nested_blocks_and_maps() {
        let before = json!({"ami": "a", "tags": {"env": "dev", "team": "x"}, "metadata_options": [{"http_tokens": "optional", "x": 1}]});
        let after = json!({"ami": "a", "tags": {"env": "prod", "team": "x"}, "metadata_options": [{"http_tokens": "required", "x": 1}]});
        assert_eq!(
            paths(&before, &after, &json!({}), &json!({})),
            vec![
                ("metadata_options.http_tokens".to_owned(), false, false),
                ("tags.env".to_owned(), false, false),
            ]
        );
    }

    #[test]
    fn unknown_values_are_reported_as_such() {
        let before = json!({"private_ip": "10.0.0.1", "ebs": [{"id": "a"}, {"id": "b"}]});
        let after = json!({"ebs": [{"id": "a"}, {}]});
        let unknown = json!({"private_ip": true, "ebs": [{}, {"id": true}]});
        assert_eq!(
            paths(&before, &after, &unknown, &json!({})),
            vec![
                ("ebs[1].id".to_owned(), true, false),
                ("private_ip".to_owned(), true, false)
            ]
        );
    }

    #[test]
    fn sensitive_values_stop_the_path() {
        let before = json!({"user_data": {"secret-key": "a"}});
        let after = json!({"user_data": {"secret-key": "b"}});
        assert_eq!(
            paths(&before, &after, &json!({}), &json!({"user_data": true})),
            vec![("user_data".to_owned(), false, true)]
        );
    }

    #[test]
    fn scalar_lists_and_odd_keys() {
        let before = json!({"sg": ["a"], "tags": {"a b": "1"}});
        let after = json!({"sg": ["b", "c"], "tags": {"a b": "2"}});
        assert_eq!(
            paths(&before, &after, &json!({}), &json!({})),
            vec![
                ("sg".to_owned(), false, false),
                ("tags[\"a b\"]".to_owned(), false, false)
            ]
        );
    }

    #[test]
    fn prefixes_ignore_indexes() {
        let p = ChangedPath {
            steps: vec![
                Step::Key("sku".into()),
                Step::Index(0),
                Step::Key("capacity".into()),
            ],
            known_after_apply: false,
            sensitive: false,
        };
        assert!(p.starts_with("sku.capacity"));
        assert!(p.starts_with("sku"));
        assert!(!p.starts_with("sku.name"));
        assert!(!p.starts_with("sk"));
    }
}
