//! Unit tests of IMM006 (`mutable-image-reference`), in their own file to keep the rule
//! file, whose doc comment is the rule's documentation, short enough to read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    let none = SensitiveNodes::default();
    let ecs = json!({"container_definitions": "[{\"name\":\"a\",\"image\":\"app:latest\"},{\"image\":\"b:2\"}]"});
    let hits = hits_for("aws_ecs_task_definition", &ecs, &none);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "container_definitions[0].image");
    let k8s = json!({"spec": [{"template": [{"spec": [{"container": [{"image": "busybox"}]}]}]}]});
    let hits = hits_for("kubernetes_deployment_v1", &k8s, &none);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "spec.template.spec.container[0].image");
}

#[test]
fn launch_template_versions() {
    let none = SensitiveNodes::default();
    let asg = json!({"launch_template": [{"id": "lt-1", "version": "$Latest"}]});
    assert_eq!(hits_for("aws_autoscaling_group", &asg, &none).len(), 1);
    let pinned = json!({"launch_template": [{"id": "lt-1", "version": "3"}]});
    assert!(hits_for("aws_autoscaling_group", &pinned, &none).is_empty());
}

/// Hits over the first resource change of a one-resource plan.
fn plan_hits(type_name: &str, after: &str, after_sensitive: &str) -> Vec<Hit> {
    let text = format!(
        r#"{{"format_version":"1.2","resource_changes":[{{"address":"{type_name}.x","type":"{type_name}","name":"x","change":{{"actions":["create"],"before":null,"after":{after},"after_sensitive":{after_sensitive}}}}}]}}"#
    );
    let plan = crate::plan::parse("p.json", &text).unwrap();
    let change = &plan.resource_changes[0].change;
    let after = change.after_value().unwrap();
    let sensitive = SensitiveNodes::of(&after, change);
    hits_for(type_name, &after, &sensitive)
}

#[test]
fn sensitive_images_are_flagged_without_their_value() {
    let hits = plan_hits(
        "kubernetes_deployment_v1",
        r#"{"spec":[{"template":[{"spec":[{"container":[{"image":"corp.example:5000/app"}]}]}]}]}"#,
        r#"{"spec":[{"template":[{"spec":[{"container":[{"image":true}]}]}]}]}"#,
    );
    assert_eq!(hits.len(), 1);
    assert!(hits[0].sensitive);
    assert!(!hits[0].what.contains("corp.example"), "{}", hits[0].what);
    // The whole resource sensitive, the image inside a JSON document in a string.
    let hits = plan_hits(
        "aws_ecs_task_definition",
        r#"{"container_definitions":"[{\"image\":\"secret.example/app\"}]"}"#,
        "true",
    );
    assert!(hits[0].sensitive && !hits[0].what.contains("secret.example"));
    let hits = plan_hits(
        "aws_autoscaling_group",
        r#"{"launch_template":[{"version":"$Latest"}]}"#,
        r#"{"launch_template":[{"version":true}]}"#,
    );
    assert_eq!(hits[0].what, "launch template version (sensitive value)");
    // Not sensitive: quoted.
    let hits = plan_hits("docker_container", r#"{"image":"nginx"}"#, "{}");
    assert!(!hits[0].sensitive && hits[0].what.contains("\"nginx\""));
}

#[test]
fn kubernetes_manifest_containers_and_azure_storage_image_paths() {
    let none = SensitiveNodes::default();
    let manifest = json!({"manifest": {"spec": {"template": {"spec": {
        "containers": [{"image": "nginx:1.27"}, {"image": "busybox"}],
        "initContainers": [{"image": "alpine:latest"}]
    }}}}});
    let paths: Vec<String> = hits_for("kubernetes_manifest", &manifest, &none)
        .into_iter()
        .map(|h| h.path)
        .collect();
    assert_eq!(
        paths,
        vec![
            "manifest.spec.template.spec.containers[1].image".to_owned(),
            "manifest.spec.template.spec.initContainers[0].image".to_owned()
        ]
    );
    let vm = json!({"storage_image_reference": [{"version": "latest"}]});
    let hits = hits_for("azurerm_virtual_machine", &vm, &none);
    assert_eq!(hits[0].path, "storage_image_reference.version");
}
