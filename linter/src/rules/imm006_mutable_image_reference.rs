use serde_json::Value;

use crate::config_resource::ConfigResource;
use crate::finding::{Finding, PathReport};
use crate::plan::ResourceChange;
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use crate::rules::util::{SENSITIVE_VALUE, SensitiveNodes, blocks, raw_may_contain};

declare_rule! {
    /// ### What it does
    /// Flags planned values that name an image by something that can change under the same
    /// name:
    ///
    /// - launch template versions `$Latest` and `$Default` (`aws_autoscaling_group`, including
    ///   `mixed_instances_policy`, `aws_instance`, `aws_ec2_fleet`, `aws_spot_fleet_request`);
    /// - container images with no digest whose tag is `latest` or missing (`nginx`,
    ///   `nginx:latest`; `nginx:1.27` and `nginx@sha256:…` are fine) in
    ///   `aws_ecs_task_definition` (inside `container_definitions`), Kubernetes workloads,
    ///   `docker_container`, `google_cloud_run_service`, `google_cloud_run_v2_service`,
    ///   `azurerm_container_group` and `aws_lambda_function` (`image_uri`);
    /// - Azure marketplace images with `version = "latest"` (`source_image_reference`,
    ///   `storage_image_reference`);
    /// - GCP boot disks created from an image family (`…/family/…`).
    ///
    /// Values known only after apply (e.g. `aws_launch_template.x.latest_version` before the
    /// template exists) are not flagged: once known they are concrete versions. A sensitive
    /// value is flagged all the same, but the finding does not quote it.
    ///
    /// ### Why is this bad?
    /// "Every instance runs a known version of a known image" needs an immutable reference.
    /// With `$Latest` or `:latest`, two instances launched an hour apart can run different
    /// software from the same, unchanged plan; the plan shows no diff when the image moves,
    /// and rolling back means finding out what "latest" used to be.
    ///
    /// ### Example
    /// ```hcl
    /// resource "aws_autoscaling_group" "web" {
    ///   launch_template {
    ///     id      = aws_launch_template.web.id
    ///     version = "$Latest"
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_autoscaling_group" "web" {
    ///   launch_template {
    ///     id      = aws_launch_template.web.id
    ///     version = aws_launch_template.web.latest_version
    ///   }
    /// }
    /// ```
    /// and container images by digest (`repo/app@sha256:…`) or by a release tag.
    ///
    /// ### Configuration mode
    /// Yes, for the same arguments written as literals (or literal variable defaults, locals,
    /// tfvars values, `jsonencode` of those for ECS container definitions). An image or
    /// version built from anything else (`"${var.repo}:latest"` with no literal `var.repo`,
    /// a data source) is not known and not flagged.
    pub struct MutableImageReference {
        code: "IMM006",
        name: "mutable-image-reference",
        severity: Warning,
        summary: "an image or launch template is referenced by a name that can move",
    }
}

/// Why a container image reference is mutable, if it is.
pub fn mutable_container_image(image: &str) -> Option<&'static str> {
    let image = image.trim();
    if image.is_empty() || image.contains("@sha256:") || image.contains('@') {
        return None;
    }
    // The tag follows the last ':' after the last '/' (a ':' before it is a registry port).
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        None => Some("has no tag, so it means :latest"),
        Some((_, tag)) if tag.eq_ignore_ascii_case("latest") => Some("uses the :latest tag"),
        Some(_) => None,
    }
}

fn mutable_version(version: &str) -> bool {
    matches!(version, "$Latest" | "$Default")
}

struct Hit {
    path: String,
    what: String,
    /// The value is sensitive: `what` does not quote it.
    sensitive: bool,
}

/// Collects hits; values are quoted only when they are not sensitive.
struct Hits<'s> {
    sensitive: &'s SensitiveNodes,
    list: Vec<Hit>,
}

impl Hits<'_> {
    /// `node` is the string value the hit is about (for its sensitivity).
    fn push(&mut self, path: String, node: &Value, what: impl FnOnce(&str) -> String) {
        let text = node.as_str().unwrap_or_default();
        let quoted = self.sensitive.quote(node, text);
        self.list.push(Hit {
            path,
            what: what(&quoted),
            sensitive: self.sensitive.contains(node),
        });
    }

    /// A container image at `path`; `inside_sensitive` is set when the image sits in a
    /// sensitive document (ECS `container_definitions`).
    fn image(&mut self, path: String, node: &Value, inside_sensitive: bool) {
        let Some(image) = node.as_str() else { return };
        let Some(why) = mutable_container_image(image) else {
            return;
        };
        let sensitive = inside_sensitive || self.sensitive.contains(node);
        let shown = if sensitive {
            SENSITIVE_VALUE.to_owned()
        } else {
            format!("\"{image}\"")
        };
        self.list.push(Hit {
            path,
            what: format!("container image {shown} {why}"),
            sensitive,
        });
    }
}

fn launch_template_hits(after: &Value, type_name: &str, hits: &mut Hits<'_>) {
    let mut check = |path: String, spec: &Value| {
        if let Some(node) = spec
            .get("version")
            .filter(|v| v.as_str().is_some_and(mutable_version))
        {
            hits.push(path, node, |v| format!("launch template version {v}"));
        }
    };
    match type_name {
        "aws_autoscaling_group" | "aws_instance" => {
            for lt in blocks(after, "launch_template") {
                check("launch_template.version".to_owned(), lt);
            }
            for policy in blocks(after, "mixed_instances_policy") {
                for lt in blocks(policy, "launch_template") {
                    for spec in blocks(lt, "launch_template_specification") {
                        check(
                            "mixed_instances_policy.launch_template.launch_template_specification.version"
                                .to_owned(),
                            spec,
                        );
                    }
                }
            }
        }
        "aws_ec2_fleet" | "aws_spot_fleet_request" => {
            for (i, config) in blocks(after, "launch_template_config")
                .into_iter()
                .enumerate()
            {
                for spec in blocks(config, "launch_template_specification") {
                    check(
                        format!(
                            "launch_template_config[{i}].launch_template_specification.version"
                        ),
                        spec,
                    );
                }
            }
        }
        _ => {}
    }
}

/// Container specs under Kubernetes workload specs, wherever the pod template sits.
fn kubernetes_containers(value: &Value, path: &str, hits: &mut Hits<'_>, depth: usize) {
    if depth > 8 {
        return;
    }
    if let Value::Array(list) = value {
        for item in list {
            kubernetes_containers(item, path, hits, depth + 1);
        }
        return;
    }
    let Value::Object(map) = value else { return };
    for (key, child) in map {
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if key == "container" || key == "init_container" {
            for (i, c) in child.as_array().into_iter().flatten().enumerate() {
                if let Some(image) = c.get("image") {
                    hits.image(format!("{child_path}[{i}].image"), image, false);
                }
            }
        } else {
            for item in child
                .as_array()
                .map_or_else(|| vec![child], |l| l.iter().collect())
            {
                kubernetes_containers(item, &child_path, hits, depth + 1);
            }
        }
    }
}

fn hits_for(type_name: &str, after: &Value, sensitive: &SensitiveNodes) -> Vec<Hit> {
    let mut hits = Hits {
        sensitive,
        list: Vec::new(),
    };
    launch_template_hits(after, type_name, &mut hits);
    container_hits(after, type_name, &mut hits);
    machine_image_hits(after, type_name, &mut hits);
    hits.list
}

/// Container images, wherever each type keeps them.
fn container_hits(after: &Value, type_name: &str, hits: &mut Hits<'_>) {
    match type_name {
        "aws_ecs_task_definition" => {
            // container_definitions is a JSON document inside a string.
            let Some(document) = after.get("container_definitions") else {
                return;
            };
            let defs = document
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            let inside_sensitive = hits.sensitive.contains(document);
            for (i, def) in defs
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(image) = def.get("image") {
                    hits.image(
                        format!("container_definitions[{i}].image"),
                        image,
                        inside_sensitive,
                    );
                }
            }
        }
        "aws_lambda_function" => {
            if let Some(image) = after.get("image_uri") {
                hits.image("image_uri".to_owned(), image, false);
            }
        }
        "docker_container" => {
            // Usually a sha256 image ID from docker_image; a repository name is mutable.
            if let Some(image) = after
                .get("image")
                .filter(|v| v.as_str().is_some_and(|s| !s.starts_with("sha256:")))
            {
                hits.image("image".to_owned(), image, false);
            }
        }
        "azurerm_container_group" => {
            for (i, c) in blocks(after, "container").into_iter().enumerate() {
                if let Some(image) = c.get("image") {
                    hits.image(format!("container[{i}].image"), image, false);
                }
            }
        }
        "google_cloud_run_service" | "google_cloud_run_v2_service" | "google_cloud_run_v2_job" => {
            let mut renamed = Vec::new();
            // Cloud Run spells the list `containers`.
            collect_named(after, "containers", "", &mut renamed, 0);
            for (path, c) in renamed {
                if let Some(image) = c.get("image") {
                    hits.image(format!("{path}.image"), image, false);
                }
            }
        }
        "kubernetes_manifest" => {
            // A raw manifest: Kubernetes' own camelCase names, objects rather than blocks.
            let mut found = Vec::new();
            if let Some(manifest) = after.get("manifest") {
                collect_named(manifest, "containers", "manifest", &mut found, 0);
                collect_named(manifest, "initContainers", "manifest", &mut found, 0);
            }
            for (path, c) in found {
                if let Some(image) = c.get("image") {
                    hits.image(format!("{path}.image"), image, false);
                }
            }
        }
        t if t.starts_with("kubernetes_") => {
            kubernetes_containers(after.get("spec").unwrap_or(&Value::Null), "spec", hits, 0);
        }
        _ => {}
    }
}

/// VM images named by something that moves: Azure `latest`, GCP image families.
fn machine_image_hits(after: &Value, type_name: &str, hits: &mut Hits<'_>) {
    match type_name {
        t if t.starts_with("azurerm_") && t.contains("virtual_machine") => {
            for block in ["source_image_reference", "storage_image_reference"] {
                for r in blocks(after, block) {
                    if let Some(node) = r
                        .get("version")
                        .filter(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case("latest")))
                    {
                        hits.push(format!("{block}.version"), node, |v| {
                            format!("marketplace image version {v}")
                        });
                    }
                }
            }
        }
        "google_compute_instance"
        | "google_compute_instance_template"
        | "google_compute_region_instance_template" => {
            let disks = blocks(after, "boot_disk")
                .into_iter()
                .flat_map(|d| blocks(d, "initialize_params"))
                .map(|p| ("boot_disk.initialize_params.image", p, "image"))
                .chain(
                    blocks(after, "disk")
                        .into_iter()
                        .map(|d| ("disk.source_image", d, "source_image")),
                );
            for (path, params, key) in disks {
                if let Some(node) = params
                    .get(key)
                    .filter(|i| i.as_str().is_some_and(|i| i.contains("/family/")))
                {
                    hits.push(path.to_owned(), node, |v| format!("image family {v}"));
                }
            }
        }
        _ => {}
    }
}

/// Every array named `name` (with its path), for nested container lists.
fn collect_named<'v>(
    value: &'v Value,
    name: &str,
    path: &str,
    out: &mut Vec<(String, &'v Value)>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key == name {
                    for (i, c) in child.as_array().into_iter().flatten().enumerate() {
                        out.push((format!("{child_path}[{i}]"), c));
                    }
                } else {
                    collect_named(child, name, &child_path, out, depth + 1);
                }
            }
        }
        Value::Array(list) => {
            for item in list {
                collect_named(item, name, path, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Substrings (lowercase) without which a candidate's `after` has no hit: what
/// [`mutable_version`], the image family and marketplace checks match, or the key every
/// container image check reads (`image`, `image_uri`).
fn needles(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "aws_autoscaling_group" | "aws_instance" | "aws_ec2_fleet" | "aws_spot_fleet_request" => {
            &["$latest", "$default"]
        }
        "google_compute_instance"
        | "google_compute_instance_template"
        | "google_compute_region_instance_template" => &["/family/"],
        t if t.starts_with("azurerm_") && t.contains("virtual_machine") => &["latest"],
        _ => &["image"],
    }
}

fn is_candidate(type_name: &str) -> bool {
    matches!(
        type_name,
        "aws_autoscaling_group"
            | "aws_instance"
            | "aws_ec2_fleet"
            | "aws_spot_fleet_request"
            | "aws_ecs_task_definition"
            | "aws_lambda_function"
            | "docker_container"
            | "azurerm_container_group"
            | "google_cloud_run_service"
            | "google_cloud_run_v2_service"
            | "google_cloud_run_v2_job"
            | "google_compute_instance"
            | "google_compute_instance_template"
            | "google_compute_region_instance_template"
    ) || type_name.starts_with("kubernetes_")
        || (type_name.starts_with("azurerm_") && type_name.contains("virtual_machine"))
}

impl Rule for MutableImageReference {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_change(&self, _ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if !is_candidate(&rc.type_name) || !rc.change.kind().has_after() {
            return;
        }
        if rc
            .change
            .after
            .is_none_or(|raw| !raw_may_contain(raw, needles(&rc.type_name)))
        {
            return;
        }
        let Some(after) = rc.change.after_value() else {
            return;
        };
        let sensitive = SensitiveNodes::of(&after, &rc.change);
        let hits = hits_for(&rc.type_name, &after, &sensitive);
        if hits.is_empty() {
            return;
        }
        let what: Vec<&str> = hits.iter().map(|h| h.what.as_str()).collect();
        let message = format!("{} references {}", rc.address, what.join(", "));
        let paths = hits
            .into_iter()
            .map(|h| PathReport {
                path: h.path,
                known_after_apply: false,
                sensitive: h.sensitive,
            })
            .collect();
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help(HELP),
        );
    }

    fn check_config(&self, _ctx: &Context<'_>, resource: &ConfigResource, out: &mut Vec<Finding>) {
        if !is_candidate(&resource.type_name) {
            return;
        }
        // An image or version that is not known is not flagged; say so on --verbose.
        for u in &resource.unknown {
            let leaf = u.path.rsplit('.').next().unwrap_or(&u.path);
            if IMAGE_KEYS.contains(&leaf.split('[').next().unwrap_or(leaf)) {
                resource.log_skip(&Self::INFO, &u.path, &u.reason);
            }
        }
        let hits = hits_for(
            &resource.type_name,
            &resource.value,
            &SensitiveNodes::default(),
        );
        if hits.is_empty() {
            return;
        }
        let what: Vec<&str> = hits.iter().map(|h| h.what.as_str()).collect();
        let message = format!("{} references {}", resource.address, what.join(", "));
        out.push(
            Finding::for_config(&Self::INFO, resource, message)
                .with_config_paths(hits.into_iter().map(|h| h.path))
                .with_help(HELP),
        );
    }
}

/// Arguments (last path segment) that name an image or a template version.
const IMAGE_KEYS: &[&str] = &[
    "image",
    "image_uri",
    "version",
    "container_definitions",
    "source_image",
    "launch_template",
    "container",
    "spec",
    "manifest",
];

const HELP: &str = "pin an exact version: a launch template version number, an image digest or release tag, a concrete image";

// Unit tests in imm006_mutable_image_reference/tests.rs.
#[cfg(test)]
mod tests;
