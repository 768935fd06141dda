use serde_json::Value;

use crate::finding::{Finding, PathReport};
use crate::plan::ResourceChange;
use crate::rules::util::{blocks, str_at};
use crate::rules::{Context, Rule, RuleInfo, declare_rule};

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
    /// - Azure marketplace images with `version = "latest"` (`source_image_reference`);
    /// - GCP boot disks created from an image family (`…/family/…`).
    ///
    /// Values known only after apply (e.g. `aws_launch_template.x.latest_version` before the
    /// template exists) are not flagged: once known they are concrete versions.
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
}

fn launch_template_hits(after: &Value, type_name: &str, hits: &mut Vec<Hit>) {
    let mut check = |path: String, spec: &Value| {
        if let Some(v) = str_at(spec, "version").filter(|v| mutable_version(v)) {
            hits.push(Hit {
                path,
                what: format!("launch template version \"{v}\""),
            });
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

fn image_hit(path: String, image: &str, hits: &mut Vec<Hit>) {
    if let Some(why) = mutable_container_image(image) {
        hits.push(Hit {
            path,
            what: format!("container image \"{image}\" {why}"),
        });
    }
}

/// Container specs under Kubernetes workload specs, wherever the pod template sits.
fn kubernetes_containers(value: &Value, path: &str, hits: &mut Vec<Hit>, depth: usize) {
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
                if let Some(image) = str_at(c, "image") {
                    image_hit(format!("{child_path}[{i}].image"), image, hits);
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

fn hits_for(type_name: &str, after: &Value) -> Vec<Hit> {
    let mut hits = Vec::new();
    launch_template_hits(after, type_name, &mut hits);
    match type_name {
        "aws_ecs_task_definition" => {
            // container_definitions is a JSON document inside a string.
            let defs = str_at(after, "container_definitions")
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            for (i, def) in defs
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(image) = str_at(def, "image") {
                    image_hit(
                        format!("container_definitions[{i}].image"),
                        image,
                        &mut hits,
                    );
                }
            }
        }
        "aws_lambda_function" => {
            if let Some(image) = str_at(after, "image_uri").filter(|s| !s.is_empty()) {
                image_hit("image_uri".to_owned(), image, &mut hits);
            }
        }
        "docker_container" => {
            // Usually a sha256 image ID from docker_image; a repository name is mutable.
            if let Some(image) = str_at(after, "image").filter(|s| !s.starts_with("sha256:")) {
                image_hit("image".to_owned(), image, &mut hits);
            }
        }
        "azurerm_container_group" => {
            for (i, c) in blocks(after, "container").into_iter().enumerate() {
                if let Some(image) = str_at(c, "image") {
                    image_hit(format!("container[{i}].image"), image, &mut hits);
                }
            }
        }
        "google_cloud_run_service" | "google_cloud_run_v2_service" | "google_cloud_run_v2_job" => {
            let mut renamed = Vec::new();
            // Cloud Run spells the list `containers`.
            collect_named(after, "containers", "", &mut renamed, 0);
            for (path, c) in renamed {
                if let Some(image) = str_at(c, "image") {
                    image_hit(format!("{path}.image"), image, &mut hits);
                }
            }
        }
        t if t.starts_with("kubernetes_") => {
            kubernetes_containers(
                after.get("spec").unwrap_or(&Value::Null),
                "spec",
                &mut hits,
                0,
            );
        }
        t if t.starts_with("azurerm_") && t.contains("virtual_machine") => {
            for r in blocks(after, "source_image_reference")
                .into_iter()
                .chain(blocks(after, "storage_image_reference"))
            {
                if str_at(r, "version").is_some_and(|v| v.eq_ignore_ascii_case("latest")) {
                    hits.push(Hit {
                        path: "source_image_reference.version".to_owned(),
                        what: "marketplace image version \"latest\"".to_owned(),
                    });
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
                if let Some(image) = str_at(params, key).filter(|i| i.contains("/family/")) {
                    hits.push(Hit {
                        path: path.to_owned(),
                        what: format!("image family \"{image}\""),
                    });
                }
            }
        }
        _ => {}
    }
    hits
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
        let Some(after) = rc.change.after_value() else {
            return;
        };
        let hits = hits_for(&rc.type_name, &after);
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
                sensitive: false,
            })
            .collect();
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help("pin an exact version: a launch template version number, an image digest or release tag, a concrete image"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_images() {
        assert!(mutable_container_image("nginx").is_some());
        assert!(mutable_container_image("nginx:latest").is_some());
        assert!(mutable_container_image("registry:5000/team/app").is_some());
        assert!(mutable_container_image("registry:5000/team/app:1.2").is_none());
        assert!(mutable_container_image("nginx@sha256:abc").is_none());
        assert!(mutable_container_image("nginx:1.27").is_none());
    }

    #[test]
    fn ecs_and_kubernetes() {
        let ecs = json!({"container_definitions": "[{\"name\":\"a\",\"image\":\"app:latest\"},{\"image\":\"b:2\"}]"});
        let hits = hits_for("aws_ecs_task_definition", &ecs);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].path, "container_definitions[0].image");
        let k8s =
            json!({"spec": [{"template": [{"spec": [{"container": [{"image": "busybox"}]}]}]}]});
        let hits = hits_for("kubernetes_deployment_v1", &k8s);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].path, "spec.template.spec.container[0].image");
    }

    #[test]
    fn launch_template_versions() {
        let asg = json!({"launch_template": [{"id": "lt-1", "version": "$Latest"}]});
        assert_eq!(hits_for("aws_autoscaling_group", &asg).len(), 1);
        let pinned = json!({"launch_template": [{"id": "lt-1", "version": "3"}]});
        assert!(hits_for("aws_autoscaling_group", &pinned).is_empty());
    }
}
