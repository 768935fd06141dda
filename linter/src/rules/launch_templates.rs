//! Launch template changes that reach Auto Scaling groups through `$Latest`/`$Default`
//! (IMM001's plan-wide check).
//!
//! A group that launches `$Latest` (or `$Default`) of a template shows no change of its own
//! when the template gets a new version: the plan lists the group as `no-op`, yet every
//! instance it launches from then on runs the new version, next to the running ones.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::catalog::Catalog;
use crate::finding::PathReport;
use crate::plan::address::strip_keys;
use crate::plan::diff::ChangedPath;
use crate::plan::{ChangeKind, Configuration, ResourceChange, parse_raw};
use crate::rules::util::{blocks, change_paths, reports, str_at};

/// What a planned change of an `aws_launch_template` does to the versions groups launch.
#[derive(Debug)]
pub struct TemplateChange<'p, 'a> {
    pub rc: &'p ResourceChange<'a>,
    /// `latest_version` moves: `$Latest` launches something new.
    pub new_version: bool,
    /// `default_version` moves: `$Default` launches something new.
    pub moves_default: bool,
    /// The template's id and name as they are now (known values only).
    id: Option<String>,
    name: Option<String>,
    /// The changed attributes of the template that make the new version.
    pub paths: Vec<PathReport>,
    /// A replacement: the group would launch a new template of the same name.
    replaced: bool,
}

/// Attributes of a template that describe its versions, not what a version contains.
const VERSION_ATTRIBUTES: &[&str] = &[
    "latest_version",
    "default_version",
    "update_default_version",
];

fn is_true(value: Option<&Value>, key: &str) -> bool {
    value.and_then(|v| v.get(key)) == Some(&Value::Bool(true))
}

fn changed(before: Option<&Value>, after: Option<&Value>, key: &str) -> bool {
    fn get<'v>(v: Option<&'v Value>, key: &str) -> Option<&'v Value> {
        v.and_then(|v| v.get(key)).filter(|v| !v.is_null())
    }
    matches!((get(before, key), get(after, key)), (Some(b), Some(a)) if b != a)
}

/// The template change, if it moves `$Latest` or `$Default`.
pub fn template_change<'p, 'a>(
    catalog: &Catalog,
    rc: &'p ResourceChange<'a>,
) -> Option<TemplateChange<'p, 'a>> {
    if rc.type_name != "aws_launch_template" || rc.mode != crate::plan::Mode::Managed {
        return None;
    }
    let kind = rc.change.kind();
    let replaced = kind.is_replace();
    if kind != ChangeKind::Update && !replaced {
        return None;
    }
    let before = parse_raw(rc.change.before);
    let after = parse_raw(rc.change.after);
    let unknown = parse_raw(rc.change.after_unknown);
    let content: Vec<ChangedPath> = change_paths(&rc.change)
        .into_iter()
        .filter(|p| !VERSION_ATTRIBUTES.iter().any(|v| p.starts_with(v)))
        .filter(|p| !catalog.is_benign(&rc.type_name, p, after.as_ref()))
        .collect();
    // The AWS provider marks `latest_version` (and, with `update_default_version`,
    // `default_version`) known only after apply when the update makes a new version; a plan
    // without the marks still shows the changed content.
    let new_version = replaced
        || is_true(unknown.as_ref(), "latest_version")
        || changed(before.as_ref(), after.as_ref(), "latest_version")
        || !content.is_empty();
    let moves_default = replaced
        || is_true(unknown.as_ref(), "default_version")
        || changed(before.as_ref(), after.as_ref(), "default_version")
        || (new_version
            && after
                .as_ref()
                .and_then(|a| a.get("update_default_version"))
                .and_then(Value::as_bool)
                == Some(true));
    if !new_version && !moves_default {
        return None;
    }
    let known = |key: &str| -> Option<String> {
        let value = if replaced {
            after.as_ref()
        } else {
            before.as_ref().or(after.as_ref())
        };
        value
            .and_then(|v| str_at(v, key))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // A replaced template gets a new id; only its name can stay.
    let id = if replaced { None } else { known("id") };
    let name =
        known("name").filter(|_| !replaced || !changed(before.as_ref(), after.as_ref(), "name"));
    Some(TemplateChange {
        rc,
        new_version,
        moves_default,
        id,
        name,
        paths: reports(&content),
        replaced,
    })
}

/// One launch template specification of a group: where it is and what it says.
#[derive(Debug)]
pub struct Spec {
    /// `launch_template.version` or
    /// `mixed_instances_policy.launch_template.launch_template_specification.version`.
    pub path: &'static str,
    id: Option<String>,
    name: Option<String>,
    /// `$Latest` or `$Default` (an absent version is `$Default`, as AWS reads it).
    pub version: &'static str,
}

/// The two attributes of a group's planned object that name templates, read without parsing
/// the rest of it.
#[derive(serde::Deserialize)]
struct GroupTemplates<'a> {
    #[serde(borrow, default)]
    launch_template: Option<&'a RawValue>,
    #[serde(borrow, default)]
    mixed_instances_policy: Option<&'a RawValue>,
}

/// [`moving_specs`] of a group's raw planned object.
pub fn moving_specs_of(after: &RawValue) -> Vec<Spec> {
    let Ok(view) = serde_json::from_str::<GroupTemplates<'_>>(after.get()) else {
        return Vec::new();
    };
    let mut object = serde_json::Map::new();
    for (key, raw) in [
        ("launch_template", view.launch_template),
        ("mixed_instances_policy", view.mixed_instances_policy),
    ] {
        if let Some(value) = parse_raw(raw) {
            object.insert(key.to_owned(), value);
        }
    }
    moving_specs(&Value::Object(object))
}

/// The group's specifications that launch `$Latest` or `$Default`.
pub fn moving_specs(after: &Value) -> Vec<Spec> {
    let mut specs = Vec::new();
    let mut push = |path: &'static str, spec: &Value, id_key: &str, name_key: &str| {
        let version = match spec.get("version") {
            None | Some(Value::Null) => "$Default",
            Some(Value::String(v)) if v.is_empty() || v == "$Default" => "$Default",
            Some(Value::String(v)) if v == "$Latest" => "$Latest",
            _ => return,
        };
        let text = |key: &str| {
            str_at(spec, key)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        specs.push(Spec {
            path,
            id: text(id_key),
            name: text(name_key),
            version,
        });
    };
    for lt in blocks(after, "launch_template") {
        push("launch_template.version", lt, "id", "name");
    }
    for policy in blocks(after, "mixed_instances_policy") {
        for lt in blocks(policy, "launch_template") {
            for spec in blocks(lt, "launch_template_specification") {
                push(
                    "mixed_instances_policy.launch_template.launch_template_specification.version",
                    spec,
                    "launch_template_id",
                    "launch_template_name",
                );
            }
        }
    }
    specs
}

/// How a group's specification names a template in the configuration: the
/// `aws_launch_template` its id or name expression refers to, by configuration address
/// (`module.app.aws_launch_template.web`), one per specification path.
#[derive(Debug, Default)]
pub struct ConfigLinks {
    /// (group configuration address, specification path, template configuration address).
    links: Vec<(String, &'static str, String)>,
}

impl ConfigLinks {
    pub fn of(configuration: Option<&Configuration<'_>>) -> Self {
        let mut links = Vec::new();
        let Some(configuration) = configuration else {
            return Self { links };
        };
        configuration.root_module.walk("", &mut |module, resource| {
            if resource.type_name != "aws_autoscaling_group" {
                return;
            }
            let Some(expressions) = parse_raw(resource.expressions) else {
                return;
            };
            let group = join(module, &resource.address);
            let mut add = |path: &'static str, spec: &Value, keys: [&str; 2]| {
                for key in keys {
                    let references = spec
                        .get(key)
                        .and_then(|e| e.get("references"))
                        .and_then(Value::as_array);
                    for reference in references.into_iter().flatten().filter_map(Value::as_str) {
                        if let Some(template) = template_reference(reference) {
                            links.push((group.clone(), path, join(module, &template)));
                        }
                    }
                }
            };
            for lt in blocks(&expressions, "launch_template") {
                add("launch_template.version", lt, ["id", "name"]);
            }
            for policy in blocks(&expressions, "mixed_instances_policy") {
                for lt in blocks(policy, "launch_template") {
                    for spec in blocks(lt, "launch_template_specification") {
                        add(
                            "mixed_instances_policy.launch_template.launch_template_specification.version",
                            spec,
                            ["launch_template_id", "launch_template_name"],
                        );
                    }
                }
            }
        });
        links.sort();
        links.dedup();
        Self { links }
    }

    fn refers(&self, group: &str, path: &str, template: &str) -> bool {
        self.links
            .iter()
            .any(|(g, p, t)| g == group && *p == path && t == template)
    }
}

fn join(module: &str, address: &str) -> String {
    if module.is_empty() {
        address.to_owned()
    } else {
        format!("{module}.{address}")
    }
}

/// `aws_launch_template.web` from `aws_launch_template.web[0].id` and the like.
fn template_reference(reference: &str) -> Option<String> {
    let plain = strip_keys(reference);
    let mut parts = plain.split('.');
    match (parts.next(), parts.next()) {
        (Some("aws_launch_template"), Some(name)) if !name.is_empty() => {
            Some(format!("aws_launch_template.{name}"))
        }
        _ => None,
    }
}

/// The instance key part of an address (`["a"]`, `[0]`, or empty).
fn instance_key<'s>(rc: &'s ResourceChange<'_>) -> &'s str {
    let own = format!("{}.{}", rc.type_name, rc.name);
    rc.address
        .rfind(own.as_str())
        .map_or("", |i| &rc.address[i + own.len()..])
}

impl TemplateChange<'_, '_> {
    /// The template is replaced rather than updated.
    pub fn replaced(&self) -> bool {
        self.replaced
    }
}

/// Whether `spec` of `group` launches from `template`.
///
/// Known values decide when both sides have them: the group's template id (or name) equals
/// the template's. Otherwise the configuration decides: the group's id or name expression
/// refers to the template, in the same module instance, and with the same count/for_each
/// key when the template has one.
pub fn links(
    group: &ResourceChange<'_>,
    spec: &Spec,
    template: &TemplateChange<'_, '_>,
    config: &ConfigLinks,
) -> bool {
    let by_id = spec.id.as_ref().zip(template.id.as_ref());
    let by_name = spec.name.as_ref().zip(template.name.as_ref());
    if by_id.is_some() || by_name.is_some() {
        return by_id.is_some_and(|(a, b)| a == b) || by_name.is_some_and(|(a, b)| a == b);
    }
    if template.replaced {
        // A new template with a new id: the group's own change shows it, if it refers by id.
        return false;
    }
    group.module_address == template.rc.module_address
        && config.refers(
            &group.config_address(),
            spec.path,
            &template.rc.config_address(),
        )
        && {
            let key = instance_key(template.rc);
            key.is_empty() || key == instance_key(group)
        }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn specs_that_move() {
        let after = json!({
            "launch_template": [{"id": "lt-1", "name": "web", "version": "$Latest"}],
            "mixed_instances_policy": [{"launch_template": [{"launch_template_specification": [
                {"launch_template_id": "lt-2", "version": null}
            ]}]}]
        });
        let specs = moving_specs(&after);
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].version, "$Latest");
        assert_eq!(specs[0].id.as_deref(), Some("lt-1"));
        assert_eq!(specs[1].version, "$Default");
        assert_eq!(specs[1].id.as_deref(), Some("lt-2"));
        let pinned = json!({"launch_template": [{"id": "lt-1", "version": "7"}]});
        assert!(moving_specs(&pinned).is_empty());
    }

    /// Groups (in plan order) that IMM001 reports through a template, over a whole plan.
    fn reported(text: &str) -> Vec<String> {
        let plan = crate::plan::parse("p.json", text).unwrap();
        let catalog = Catalog::builtin();
        let ctx = crate::rules::Context {
            catalog: &catalog,
            strict: false,
        };
        let mut out = Vec::new();
        crate::rules::Rule::check_plan(&crate::rules::InPlaceUpdate, &ctx, &plan, &mut out);
        out.into_iter().map(|f| f.address).collect()
    }

    const TEMPLATE_UPDATE: &str = r#"{"address":"module.m[\"a\"].aws_launch_template.t","module_address":"module.m[\"a\"]","mode":"managed","type":"aws_launch_template","name":"t","change":{"actions":["update"],"before":{"image_id":"ami-1","latest_version":1},"after":{"image_id":"ami-2"},"after_unknown":{"latest_version":true}}}"#;

    #[test]
    fn configuration_references_link_when_values_do_not() {
        // Neither the group nor the template carries a known id or name (values redacted):
        // the configuration says the group's id refers to the template in its module.
        let group = |module: &str| {
            format!(
                r#"{{"address":"{module}.aws_autoscaling_group.g","module_address":"{module}","mode":"managed","type":"aws_autoscaling_group","name":"g","change":{{"actions":["no-op"],"before":{{"launch_template":[{{"version":"$Latest"}}]}},"after":{{"launch_template":[{{"version":"$Latest"}}]}}}}}}"#
            )
            .replace('\'', "\\\"")
        };
        let configuration = r#""configuration":{"root_module":{"module_calls":{"m":{"module":{"resources":[
            {"address":"aws_launch_template.t","mode":"managed","type":"aws_launch_template","name":"t"},
            {"address":"aws_autoscaling_group.g","mode":"managed","type":"aws_autoscaling_group","name":"g","expressions":{"launch_template":[{"id":{"references":["aws_launch_template.t.id","aws_launch_template.t"]},"version":{"constant_value":"$Latest"}}]}}]}}}}}"#;
        let text = format!(
            r#"{{"format_version":"1.2","resource_changes":[{TEMPLATE_UPDATE},{},{}],{configuration}}}"#,
            group("module.m['a']"),
            group("module.m['b']"),
        );
        // Only the group in the same module instance as the template.
        assert_eq!(
            reported(&text),
            [r#"module.m["a"].aws_autoscaling_group.g"#]
        );
        // Without the configuration nothing links them.
        let text = format!(
            r#"{{"format_version":"1.2","resource_changes":[{TEMPLATE_UPDATE},{}]}}"#,
            group("module.m['a']"),
        );
        assert!(reported(&text).is_empty());
    }

    #[test]
    fn known_ids_that_differ_do_not_link() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"aws_launch_template.t","type":"aws_launch_template","name":"t","change":{"actions":["update"],"before":{"id":"lt-1","image_id":"ami-1"},"after":{"id":"lt-1","image_id":"ami-2"},"after_unknown":{"latest_version":true}}},
            {"address":"aws_autoscaling_group.other","type":"aws_autoscaling_group","name":"other","change":{"actions":["no-op"],"before":{},"after":{"launch_template":[{"id":"lt-2","version":"$Latest"}]}}},
            {"address":"aws_autoscaling_group.same","type":"aws_autoscaling_group","name":"same","change":{"actions":["no-op"],"before":{},"after":{"launch_template":[{"id":"lt-1","version":"$Latest"}]}}}]}"#;
        assert_eq!(reported(text), ["aws_autoscaling_group.same"]);
    }

    #[test]
    fn a_template_replaced_under_the_same_name_reaches_groups_that_name_it() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"aws_launch_template.t","type":"aws_launch_template","name":"t","change":{"actions":["delete","create"],"before":{"id":"lt-1","name":"web"},"after":{"name":"web"},"after_unknown":{"id":true}}},
            {"address":"aws_autoscaling_group.by_name","type":"aws_autoscaling_group","name":"by_name","change":{"actions":["no-op"],"before":{},"after":{"launch_template":[{"name":"web","version":"$Default"}]}}},
            {"address":"aws_autoscaling_group.by_id","type":"aws_autoscaling_group","name":"by_id","change":{"actions":["no-op"],"before":{},"after":{"launch_template":[{"id":"lt-1","version":"$Latest"}]}}}]}"#;
        assert_eq!(reported(text), ["aws_autoscaling_group.by_name"]);
    }

    #[test]
    fn template_references() {
        assert_eq!(
            template_reference("aws_launch_template.web[0].id").as_deref(),
            Some("aws_launch_template.web")
        );
        assert_eq!(
            template_reference("aws_launch_template.web").as_deref(),
            Some("aws_launch_template.web")
        );
        assert_eq!(template_reference("var.template_id"), None);
        assert_eq!(template_reference("module.lt.id"), None);
    }
}
