//! Reading `terraform show -json` output (plan format 0.2 from Terraform 1.0.x).

use serde_json::Value;

/// The `resource_changes` entry for `address`; panics listing the addresses that do exist.
pub fn resource_change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    let changes = plan["resource_changes"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    changes
        .iter()
        .find(|change| change["address"] == address && change.get("deposed").is_none())
        .unwrap_or_else(|| {
            let addresses: Vec<&str> = changes
                .iter()
                .filter_map(|change| change["address"].as_str())
                .collect();
            panic!("the plan has no change for {address}; it has {addresses:?}")
        })
}

/// `change.actions` of a resource change, e.g. `["create", "delete"]`.
pub fn actions(resource_change: &Value) -> Vec<String> {
    strings(&resource_change["change"]["actions"])
}

/// `change.replace_paths` of a resource change as paths of steps (`[["image_id"]]`); empty when
/// absent. Steps are attribute names (strings) or element keys/indexes (kept as JSON).
pub fn replace_paths(resource_change: &Value) -> Vec<Vec<Value>> {
    resource_change["change"]["replace_paths"]
        .as_array()
        .map(|paths| {
            paths
                .iter()
                .map(|path| path.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `replace_paths` contains exactly the one-step path `[attribute]`.
pub fn replaces_because_of(resource_change: &Value, attribute: &str) -> bool {
    replace_paths(resource_change)
        .iter()
        .any(|path| path.len() == 1 && path.first().and_then(Value::as_str) == Some(attribute))
}

/// Top-level attributes whose value differs between `change.before` and `change.after`, plus
/// those unknown after apply. For readable failure messages about unexpected diffs.
pub fn changed_attributes(resource_change: &Value) -> Vec<String> {
    let change = &resource_change["change"];
    let empty = serde_json::Map::new();
    let before = change["before"].as_object().unwrap_or(&empty);
    let after = change["after"].as_object().unwrap_or(&empty);
    let after_unknown = change["after_unknown"].as_object().unwrap_or(&empty);
    let mut names: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|name| {
            before.get(*name) != after.get(*name)
                || after_unknown.get(*name) == Some(&Value::Bool(true))
        })
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every resource of a module in state or `planned_values` JSON, child modules included.
pub fn module_resources(module: &Value) -> Vec<&Value> {
    let mut resources: Vec<&Value> = module["resources"]
        .as_array()
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    if let Some(children) = module["child_modules"].as_array() {
        for child in children {
            resources.extend(module_resources(child));
        }
    }
    resources
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replacement() -> Value {
        json!({
            "format_version": "0.2",
            "resource_changes": [
                {
                    "address": "immutable_fleet.web",
                    "action_reason": "replace_because_cannot_update",
                    "change": {
                        "actions": ["create", "delete"],
                        "before": {"image_id": "ami-1", "min_size": 1, "id": "web-1"},
                        "after": {"image_id": "ami-2", "min_size": 1},
                        "after_unknown": {"id": true},
                        "replace_paths": [["image_id"], ["tags", "team"]]
                    }
                }
            ]
        })
    }

    #[test]
    fn reads_actions_and_replace_paths() {
        let plan = replacement();
        let change = resource_change(&plan, "immutable_fleet.web");
        assert_eq!(actions(change), ["create", "delete"]);
        assert!(replaces_because_of(change, "image_id"));
        assert!(
            !replaces_because_of(change, "tags"),
            "a two-step path is not [tags]"
        );
        assert_eq!(replace_paths(change).len(), 2);
        assert_eq!(changed_attributes(change), ["id", "image_id"]);
    }

    #[test]
    #[should_panic(expected = "has no change for immutable_fleet.other")]
    fn names_the_existing_addresses_when_one_is_missing() {
        let plan = replacement();
        let _ = resource_change(&plan, "immutable_fleet.other");
    }

    #[test]
    fn finds_resources_in_child_modules() {
        let state = json!({
            "resources": [{"address": "a.b"}],
            "child_modules": [{"resources": [{"address": "module.m.a.c"}]}]
        });
        let addresses: Vec<&Value> = module_resources(&state)
            .into_iter()
            .map(|resource| &resource["address"])
            .collect();
        assert_eq!(addresses, [&json!("a.b"), &json!("module.m.a.c")]);
    }
}
