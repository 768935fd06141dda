//! Small readers over planned values shared by several rules.

use std::collections::HashSet;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::finding::PathReport;
use crate::plan::diff::{ChangedPath, Sides, changed_paths};
use crate::plan::{Change, parse_raw};

/// A nested block's objects, whether the provider encodes it as a list (`MaxItems` blocks,
/// SDKv2) or as a single object (framework `SingleNestedBlock`).
pub fn blocks<'v>(value: &'v Value, name: &str) -> Vec<&'v Value> {
    match value.get(name) {
        Some(Value::Array(list)) => list.iter().filter(|v| v.is_object()).collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

pub fn str_at<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
    value.get(name).and_then(Value::as_str)
}

/// A number that providers write either as a JSON number or as a string.
pub fn int_at(value: &Value, name: &str) -> Option<i64> {
    match value.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// String elements of a list (or a single string) attribute.
pub fn strings_at<'v>(value: &'v Value, name: &str) -> Vec<&'v str> {
    match value.get(name) {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// Whether the JSON text of a raw value may contain one of `needles` (lowercase ASCII,
/// matched case-insensitively) in a key or a string. A cheap pre-check that lets rules skip
/// parsing the values of the many resources that cannot match: a `\\u` or `\\/` escape can
/// spell any needle in disguise, so an escaped value always "may contain".
pub fn raw_may_contain(raw: &RawValue, needles: &[&str]) -> bool {
    let text = raw.get().as_bytes();
    memchr::memchr_iter(b'\\', text).any(|i| matches!(text.get(i + 1), Some(b'u' | b'/')))
        || needles
            .iter()
            .any(|needle| contains_ignore_ascii_case(text, needle.as_bytes()))
}

/// Whether `haystack` contains `needle` (lowercase ASCII), ignoring ASCII case.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|i| {
        haystack
            .get(i + 1..i + 1 + rest.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    })
}

/// The changed paths of a resource change (before → after).
pub fn change_paths(change: &Change<'_>) -> Vec<ChangedPath> {
    change_paths_and_after(change).0
}

/// [`change_paths`], and `after` parsed (each raw value is parsed once).
pub fn change_paths_and_after(change: &Change<'_>) -> (Vec<ChangedPath>, Option<Value>) {
    let before = parse_raw(change.before);
    let after = parse_raw(change.after);
    let after_unknown = parse_raw(change.after_unknown);
    let before_sensitive = parse_raw(change.before_sensitive);
    let after_sensitive = parse_raw(change.after_sensitive);
    let paths = changed_paths(&Sides {
        before: before.as_ref(),
        after: after.as_ref(),
        after_unknown: after_unknown.as_ref(),
        before_sensitive: before_sensitive.as_ref(),
        after_sensitive: after_sensitive.as_ref(),
    });
    (paths, after)
}

/// Which nodes of a planned value (`after`) are sensitive, from `after_sensitive`: a node
/// marked `true` and everything below it. Rules that quote a value in a message ask here
/// first, so a sensitive value is named but never printed.
#[derive(Debug, Default)]
pub struct SensitiveNodes {
    /// Addresses of the `after` nodes that are sensitive. Only compared, never dereferenced.
    nodes: HashSet<*const Value>,
}

impl SensitiveNodes {
    /// Marks of `after` (which must outlive every lookup) from the change's `after_sensitive`.
    pub fn of(after: &Value, change: &Change<'_>) -> Self {
        let mut nodes = HashSet::new();
        if let Some(marks) = parse_raw(change.after_sensitive) {
            collect_sensitive(after, &marks, false, &mut nodes);
        }
        Self { nodes }
    }

    /// Whether `node` (a reference into the `after` given to [`Self::of`]) is sensitive.
    pub fn contains(&self, node: &Value) -> bool {
        self.nodes.contains(&std::ptr::from_ref(node))
    }

    /// `"value"` quoted, or `(sensitive value)` when `node` is sensitive.
    pub fn quote(&self, node: &Value, text: &str) -> String {
        if self.contains(node) {
            SENSITIVE_VALUE.to_owned()
        } else {
            format!("\"{text}\"")
        }
    }
}

/// What a message says instead of a sensitive value.
pub const SENSITIVE_VALUE: &str = "(sensitive value)";

fn collect_sensitive(
    value: &Value,
    marks: &Value,
    inherited: bool,
    out: &mut HashSet<*const Value>,
) {
    let sensitive = inherited || matches!(marks, Value::Bool(true));
    if sensitive {
        out.insert(std::ptr::from_ref(value));
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                collect_sensitive(
                    child,
                    marks.get(key).unwrap_or(&Value::Null),
                    sensitive,
                    out,
                );
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                collect_sensitive(child, marks.get(i).unwrap_or(&Value::Null), sensitive, out);
            }
        }
        _ => {}
    }
}

pub fn reports(paths: &[ChangedPath]) -> Vec<PathReport> {
    paths.iter().map(PathReport::from).collect()
}

/// Whether an inclusive port range (missing bounds mean "all ports") contains `port`.
pub fn range_contains(from: Option<i64>, to: Option<i64>, port: i64) -> bool {
    let from = from.unwrap_or(0);
    let to = to.unwrap_or(65535);
    // -1/-1 and 0/0 with protocol "all" mean every port on AWS and Alibaba.
    if (from == -1 && to == -1) || (from == 0 && to == 0) {
        return true;
    }
    from <= port && port <= to
}

/// A port spec such as `22`, `20-30`, `1/65535`, `22,80,443`, `*`, `any`, `all` or empty.
pub fn port_spec_contains(spec: &str, port: i64) -> bool {
    let spec = spec.trim();
    if spec.is_empty()
        || matches!(
            spec.to_ascii_lowercase().as_str(),
            "*" | "any" | "all" | "-1" | "-1/-1"
        )
    {
        return true;
    }
    spec.split(',').any(|item| {
        let item = item.trim();
        match item.split_once(['-', '/']) {
            Some((a, b)) => match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
                (Ok(a), Ok(b)) => range_contains(Some(a), Some(b), port),
                _ => false,
            },
            None => item.parse::<i64>().is_ok_and(|p| p == port),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_nodes_cover_marked_subtrees_only() {
        let after = json!({"a": {"b": "x", "c": "y"}, "l": ["p", "q"], "t": "open"});
        let marks = json!({"a": {"b": true}, "l": true});
        let mut nodes = HashSet::new();
        collect_sensitive(&after, &marks, false, &mut nodes);
        let sensitive = SensitiveNodes { nodes };
        assert!(sensitive.contains(&after["a"]["b"]));
        assert!(!sensitive.contains(&after["a"]["c"]));
        assert!(sensitive.contains(&after["l"][1]));
        assert!(!sensitive.contains(&after["t"]));
        assert_eq!(sensitive.quote(&after["t"], "open"), "\"open\"");
        assert_eq!(sensitive.quote(&after["l"][0], "p"), SENSITIVE_VALUE);
    }

    #[test]
    fn port_specs() {
        assert!(port_spec_contains("22", 22));
        assert!(port_spec_contains("20-30", 22));
        assert!(port_spec_contains("1/65535", 22));
        assert!(port_spec_contains("80, 22", 22));
        assert!(port_spec_contains("", 22));
        assert!(port_spec_contains("-1/-1", 22));
        assert!(!port_spec_contains("80", 22));
        assert!(!port_spec_contains("2222", 22));
        assert!(!port_spec_contains("23-30", 22));
    }
}
