//! Resource addresses: `module.app["blue"].aws_instance.web[0]` and its configuration
//! form `module.app.aws_instance.web` (count/for_each keys removed).

use super::Mode;

/// Removes every `[key]` instance key from an address, honouring quoted keys that contain
/// brackets, dots or escaped quotes.
pub fn strip_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for ch in address.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
            continue;
        }
        match ch {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            '"' if depth > 0 => in_string = true,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
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
    fn ancestors_innermost_first() {
        assert_eq!(
            module_ancestors("module.a.module.b.aws_instance.w"),
            vec!["module.a.module.b".to_owned(), "module.a".to_owned()]
        );
        assert!(module_ancestors("aws_instance.w").is_empty());
    }
}
