//! Small readers over planned values shared by several rules.

use serde_json::Value;

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

/// The changed paths of a resource change (before → after).
pub fn change_paths(change: &Change<'_>) -> Vec<ChangedPath> {
    let before = parse_raw(change.before);
    let after = parse_raw(change.after);
    let after_unknown = parse_raw(change.after_unknown);
    let before_sensitive = parse_raw(change.before_sensitive);
    let after_sensitive = parse_raw(change.after_sensitive);
    changed_paths(&Sides {
        before: before.as_ref(),
        after: after.as_ref(),
        after_unknown: after_unknown.as_ref(),
        before_sensitive: before_sensitive.as_ref(),
        after_sensitive: after_sensitive.as_ref(),
    })
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
