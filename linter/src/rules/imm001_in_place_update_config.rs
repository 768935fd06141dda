//! The configuration form of IMM001 (in-place-update): arguments whose change a provider
//! applies in place to a running server that only reads them at first boot, so that the
//! configuration alone decides that a later change will be an in-place update.

use serde_json::Value;

use crate::config_resource::ConfigResource;
use crate::finding::Finding;
use crate::rules::imm001_in_place_update::InPlaceUpdate;

/// GCE metadata keys a guest agent reads at boot; changed in place, they reach new boots only.
const GCE_BOOT_KEYS: &[&str] = &["startup-script", "user-data"];

impl InPlaceUpdate {
    /// Called by [`crate::rules::Rule::check_config`].
    pub(super) fn config_form(resource: &ConfigResource, out: &mut Vec<Finding>) {
        let found = match resource.type_name.as_str() {
            "aws_instance" => aws_user_data(resource),
            "google_compute_instance" => gce_metadata(resource),
            _ => None,
        };
        let Some((path, why, help)) = found else {
            return;
        };
        let message = format!("{}: {why}", resource.address);
        out.push(
            Finding::for_config(&Self::INFO, resource, message)
                .with_config_paths([path])
                .with_help(help),
        );
    }
}

/// `user_data` (or `user_data_base64`) without `user_data_replace_on_change = true`: the AWS
/// provider then stops the instance, swaps the data and starts it again; cloud-init does not
/// run it a second time.
fn aws_user_data(resource: &ConfigResource) -> Option<(String, String, &'static str)> {
    let info = &InPlaceUpdate::INFO;
    let attr = ["user_data", "user_data_base64"].into_iter().find(|a| {
        let set = resource.is_set(a);
        if set.is_none() {
            resource.skips_on(info, a);
        }
        set == Some(true)
    })?;
    match resource.value.get("user_data_replace_on_change") {
        Some(Value::Bool(true)) => return None,
        _ if resource.skips_on(info, "user_data_replace_on_change") => return None,
        _ => {}
    }
    Some((
        attr.to_owned(),
        format!(
            "{attr} is set without user_data_replace_on_change = true: a change to it would update the instance in place, and it only runs at first boot"
        ),
        "set `user_data_replace_on_change = true` so a new user_data replaces the instance (with lifecycle { create_before_destroy = true })",
    ))
}

/// `metadata = { startup-script = … }` is updated in place; `metadata_startup_script` forces
/// a new instance.
fn gce_metadata(resource: &ConfigResource) -> Option<(String, String, &'static str)> {
    let info = &InPlaceUpdate::INFO;
    if resource.skips_on(info, "metadata") {
        return None;
    }
    let metadata = resource.value.get("metadata");
    let key = GCE_BOOT_KEYS.iter().find(|k| {
        metadata
            .and_then(|m| m.get(**k))
            .is_some_and(|v| !v.is_null())
            || resource.unknown_at(&format!("metadata.{k}")).is_some()
    })?;
    Some((
        format!("metadata.{key}"),
        format!(
            "metadata.{key} is updated in place: a change reaches the running instance only at its next boot"
        ),
        "use `metadata_startup_script`, whose change replaces the instance (with lifecycle { create_before_destroy = true })",
    ))
}
