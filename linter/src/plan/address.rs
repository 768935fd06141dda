//! Resource addresses: `module.app["blue"].aws_instance.web[0]` and its configuration
//! form `module.app.aws_instance.web` (count/for_each keys removed).

/// A resource's mode: `"managed"` or `"data"` (whose addresses start with `data.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

/// The characters of an address with their byte offsets, each marked `true` when it belongs
/// to an instance key (`[…]`, brackets included). Quoted keys may contain brackets, dots and
/// escaped quotes. The one scanner of addresses: everything below reads them through it.
fn scan(address: &str) -> impl Iterator<Item = (usize, char, bool)> + '_ {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    address.char_indices().map(move |(i, ch)| {
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
            return (i, ch, true);
        }
        match ch {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            '"' if depth > 0 => in_string = true,
            _ => return (i, ch, depth > 0),
        }
        (i, ch, true)
    })
}

/// A top-level, dot-separated segment of an address.
struct Segment<'a> {
    /// Without its instance key: `app` of `app["blue"]`.
    name: &'a str,
    /// Byte range of the whole segment, key included.
    start: usize,
    end: usize,
}

/// The top-level segments of an address (dots inside keys do not separate).
fn segments(address: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut name_end = None;
    for (i, ch, in_key) in scan(address) {
        if in_key {
            name_end.get_or_insert(i);
        } else if ch == '.' {
            segments.push(Segment {
                name: &address[start..name_end.unwrap_or(i)],
                start,
                end: i,
            });
            start = i + 1;
            name_end = None;
        }
    }
    segments.push(Segment {
        name: &address[start..name_end.unwrap_or(address.len())],
        start,
        end: address.len(),
    });
    segments
}

/// Removes every `[key]` instance key from an address, honouring quoted keys that contain
/// brackets, dots or escaped quotes.
pub fn strip_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    out.extend(
        scan(address)
            .filter(|&(_, _, in_key)| !in_key)
            .map(|(_, ch, _)| ch),
    );
    out
}

/// The resource part of an address, without its module path:
/// `module.app["a.b"].aws_instance.web[0]` → `aws_instance.web[0]`.
pub fn resource_name(address: &str) -> &str {
    let segments = segments(address);
    let mut k = 0;
    while k + 2 < segments.len() && address[segments[k].start..segments[k].end] == *"module" {
        k += 2;
    }
    address.get(segments[k].start..).unwrap_or(address)
}

/// The address as written in configuration: module path without keys, then `type.name`
/// (`data.type.name` for data sources).
pub fn config_address(
    module_address: Option<&str>,
    mode: Mode,
    type_name: &str,
    name: &str,
) -> String {
    let mut out = String::new();
    if let Some(module) = module_address.filter(|m| !m.is_empty()) {
        out.push_str(&strip_keys(module));
        out.push('.');
    }
    if mode == Mode::Data {
        out.push_str("data.");
    }
    out.push_str(type_name);
    out.push('.');
    out.push_str(name);
    out
}

/// A count/for_each instance key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceKey<'k> {
    /// `[0]`.
    Int(u64),
    /// `["blue"]`.
    Str(&'k str),
    /// Anything else a plan may hold (a negative or fractional number), written as given.
    Other(&'k str),
}

/// Appends `[0]` or `["key"]`, quoting a string key the way Terraform writes addresses
/// (`"` and `\` escaped, control characters as `\n`, `\t`, `\uXXXX`).
fn push_key(out: &mut String, key: &InstanceKey<'_>) {
    use std::fmt::Write as _;
    match key {
        InstanceKey::Int(i) => {
            let _ = write!(out, "[{i}]");
        }
        InstanceKey::Other(text) => {
            let _ = write!(out, "[{text}]");
        }
        InstanceKey::Str(text) => {
            out.push_str("[\"");
            for ch in text.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => {
                        let _ = write!(out, "\\u{:04x}", u32::from(c));
                    }
                    c => out.push(c),
                }
            }
            out.push_str("\"]");
        }
    }
}

/// The full address of a resource instance from its parts, for entries that carry no
/// `address` (Terraform 1.0.0's `resource_drift`): `module.app["blue"].aws_instance.web[0]`,
/// `data.aws_ami.ubuntu`. `module_address` keeps its keys, as plans write it.
pub fn instance_address(
    module_address: Option<&str>,
    mode: Mode,
    type_name: &str,
    name: &str,
    key: Option<&InstanceKey<'_>>,
) -> String {
    let mut out = String::new();
    if let Some(module) = module_address.filter(|m| !m.is_empty()) {
        out.push_str(module);
        out.push('.');
    }
    if mode == Mode::Data {
        out.push_str("data.");
    }
    out.push_str(type_name);
    out.push('.');
    out.push_str(name);
    if let Some(key) = key {
        push_key(&mut out, key);
    }
    out
}

/// The parts of a full resource instance address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts<'a> {
    /// `module.app["blue"]`, with keys; `None` at the root.
    pub module: Option<&'a str>,
    pub mode: Mode,
    pub type_name: &'a str,
    pub name: &'a str,
}

/// Splits `module.app["a.b"].data.aws_ami.u[0]` into its parts, honouring quoted keys that
/// contain dots or brackets. `None` when it is not shaped like a resource address.
pub fn split(address: &str) -> Option<Parts<'_>> {
    let segments = segments(address);
    let mut i = 0;
    let mut module_end = None;
    while i + 2 < segments.len() && segments[i].name == "module" {
        module_end = Some(segments[i + 1].end);
        i += 2;
    }
    let (mode, rest) = match &segments[i..] {
        [data, rest @ ..] if data.name == "data" => (Mode::Data, rest),
        rest => (Mode::Managed, rest),
    };
    let [type_name, name] = rest else {
        return None;
    };
    let (type_name, name) = (type_name.name, name.name);
    if type_name.is_empty() || name.is_empty() {
        return None;
    }
    Some(Parts {
        module: module_end.map(|end| &address[..end]),
        mode,
        type_name,
        name,
    })
}

/// The module part of a configuration address (`module.a.module.b`), empty at the root,
/// and every ancestor module path, innermost first.
pub fn module_ancestors(config_address: &str) -> Vec<String> {
    let parts: Vec<&str> = config_address.split('.').collect();
    let mut modules = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        modules.push(parts[..i + 2].join("."));
        i += 2;
    }
    modules.reverse();
    modules
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_stripped_even_when_they_contain_brackets() {
        assert_eq!(
            strip_keys(r#"module.app["a.b[1]\"x"].module.db[0].aws_instance.web["k"]"#),
            "module.app.module.db.aws_instance.web"
        );
        assert_eq!(strip_keys("aws_instance.web"), "aws_instance.web");
    }

    #[test]
    fn config_addresses() {
        assert_eq!(
            config_address(Some("module.a[\"x\"]"), Mode::Managed, "aws_instance", "w"),
            "module.a.aws_instance.w"
        );
        assert_eq!(
            config_address(None, Mode::Data, "aws_ami", "u"),
            "data.aws_ami.u"
        );
    }

    #[test]
    fn addresses_are_built_from_their_parts() {
        assert_eq!(
            instance_address(
                Some("module.app[\"blue\"]"),
                Mode::Managed,
                "aws_instance",
                "web",
                Some(&InstanceKey::Int(0))
            ),
            "module.app[\"blue\"].aws_instance.web[0]"
        );
        assert_eq!(
            instance_address(None, Mode::Data, "aws_ami", "u", None),
            "data.aws_ami.u"
        );
        assert_eq!(
            instance_address(
                None,
                Mode::Managed,
                "aws_instance",
                "w",
                Some(&InstanceKey::Str("a \"b\"\\c\n"))
            ),
            r#"aws_instance.w["a \"b\"\\c\n"]"#
        );
    }

    #[test]
    fn addresses_split_into_their_parts() {
        let parts = split(r#"module.app["a.b[1]"].module.db[0].data.aws_ami.u["x.y"]"#).unwrap();
        assert_eq!(parts.module, Some(r#"module.app["a.b[1]"].module.db[0]"#));
        assert_eq!(parts.mode, Mode::Data);
        assert_eq!((parts.type_name, parts.name), ("aws_ami", "u"));
        let parts = split("aws_instance.web[3]").unwrap();
        assert_eq!(parts.module, None);
        assert_eq!((parts.type_name, parts.name), ("aws_instance", "web"));
        // A resource literally named like a module keyword is still a resource.
        assert_eq!(split("module.x").map(|p| p.type_name), Some("module"));
        assert!(split("aws_instance").is_none());
        assert!(split("module.a.aws_instance").is_none());
        assert!(split("").is_none());
    }

    #[test]
    fn ancestors_innermost_first() {
        assert_eq!(
            module_ancestors("module.a.module.b.aws_instance.w"),
            vec!["module.a.module.b".to_owned(), "module.a".to_owned()]
        );
        assert!(module_ancestors("aws_instance.w").is_empty());
    }
}
