//! ApplyResourceChange, ReadResource, ImportResourceState and Stop against moto.

use std::time::{Duration, Instant};

use e2e::{FLEET_TAG, GENERATION_TAG, asg_tag};
use tfplugin_cty::Value;
use tfplugin_proto::tfplugin5 as pb;

use crate::fixture::{COMPUTED, assert_no_errors, fixture, proposed, spawn_server, with};

#[test]
fn create_read_update_delete_a_generation() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config(
        "life",
        &[(
            "tags",
            Value::Map([("team".to_owned(), Value::string("web"))].into()),
        )],
    );
    let state = f.create(&config);

    let asg_name = state.get("id").unwrap().as_str().unwrap().to_owned();
    assert_eq!(asg_name, "life-g1");
    assert_eq!(state.get("generation").unwrap().as_i64(), Some(1));
    let asg = aws.asg(&asg_name).expect("ASG exists");
    assert_eq!(asg_tag(&asg, FLEET_TAG), Some("life"));
    assert_eq!(asg_tag(&asg, GENERATION_TAG), Some("1"));
    assert_eq!(asg_tag(&asg, "team"), Some("web"));
    assert_eq!(asg.desired_capacity(), Some(2));
    let template = state.get("launch_template_id").unwrap().as_str().unwrap();
    assert_eq!(
        aws.launch_template_image(template).as_deref(),
        Some(e2e::MOTO_AMI)
    );

    // Read sees what was created, unchanged.
    let read = f.read(&state);
    assert_no_errors(&read.diagnostics);
    assert_eq!(f.value(read.new_state.as_ref()), state);

    // Drift: someone scales the group by hand; Read reports it.
    aws.block_on(
        aws.autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name(&asg_name)
            .desired_capacity(3)
            .send(),
    )
    .unwrap();
    let drifted = f.value(f.read(&state).new_state.as_ref());
    assert_eq!(drifted.get("desired_capacity").unwrap().as_i64(), Some(3));

    // In-place update back to 2 and a new tag.
    let new_config = with(
        &config,
        &[(
            "tags",
            Value::Map([("team".to_owned(), Value::string("api"))].into()),
        )],
    );
    let plan = f.plan(
        &drifted,
        &proposed(&drifted, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let planned = f.value(plan.planned_state.as_ref());
    let applied = f.apply(&drifted, &planned, &new_config);
    assert_no_errors(&applied.diagnostics);
    let updated = f.value(applied.new_state.as_ref());
    assert_eq!(updated.get("id"), state.get("id"));
    let asg = aws.asg(&asg_name).unwrap();
    assert_eq!(asg.desired_capacity(), Some(2));
    assert_eq!(asg_tag(&asg, "team"), Some("api"));

    // Delete: nothing of the fleet is left.
    let deleted = f.apply(&updated, &Value::Null, &Value::Null);
    assert_no_errors(&deleted.diagnostics);
    assert!(f.value(deleted.new_state.as_ref()).is_null());
    assert!(aws.fleet_asgs("life").is_empty());
    assert!(aws.fleet_launch_templates("life").is_empty());
    assert!(aws.live_instances_of_fleet("life").is_empty());

    // Read after the fact: gone means removed from state.
    let read = f.read(&updated);
    assert_no_errors(&read.diagnostics);
    assert!(f.value(read.new_state.as_ref()).is_null());
}

#[test]
fn a_new_generation_gets_the_next_number_and_the_predecessors_live_capacity() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config(
        "carry",
        &[
            ("desired_capacity", Value::Null),
            ("max_size", Value::number(5)),
        ],
    );
    let first = f.create(&config);
    assert_eq!(
        first.get("desired_capacity").unwrap().as_i64(),
        Some(1),
        "starts at min_size"
    );
    aws.block_on(
        aws.autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name("carry-g1")
            .desired_capacity(4)
            .send(),
    )
    .unwrap();
    // The replacement comes in a later apply: Terraform runs each walk in a new provider
    // process, whose duplicate-name check starts empty.
    f.configure(f.address());
    let second = f.create(&with(
        &config,
        &[("image_id", Value::string(e2e::MOTO_AMI_2))],
    ));
    assert_eq!(second.get("id").unwrap().as_str(), Some("carry-g2"));
    assert_eq!(
        second.get("desired_capacity").unwrap().as_i64(),
        Some(4),
        "carried over at peak"
    );
    assert_eq!(
        aws.fleet_asgs("carry").len(),
        2,
        "old and new coexist until Terraform deletes the old"
    );
    for state in [first, second] {
        f.destroy(&state);
    }
    assert!(aws.fleet_asgs("carry").is_empty());
}

#[test]
fn import_rebuilds_the_state_from_aws() {
    let f = fixture();
    let config = f.fleet_config(
        "imported",
        &[
            ("user_data", Value::string("#!/bin/sh\necho hello")),
            (
                "health_check",
                f.health_check(&[("healthy_for", Value::string("1s"))]),
            ),
        ],
    );
    let state = f.create(&config);
    let request = pb::import_resource_state::Request {
        type_name: "immutable_fleet".into(),
        id: "imported-g1".into(),
        ..Default::default()
    };
    let response = f.call(|mut c| async move { c.import_resource_state(request).await });
    assert_no_errors(&response.diagnostics);
    assert_eq!(response.imported_resources.len(), 1);
    let imported = f.value(response.imported_resources[0].state.as_ref());
    for name in [
        "id",
        "name",
        "image_id",
        "instance_type",
        "subnet_ids",
        "user_data",
        "min_size",
        "max_size",
        "desired_capacity",
        "generation",
        "launch_template_id",
        "health_check",
    ] {
        assert_eq!(imported.get(name), state.get(name), "{name}");
    }

    let missing = pb::import_resource_state::Request {
        type_name: "immutable_fleet".into(),
        id: "no-such-asg".into(),
        ..Default::default()
    };
    let response = f.call(|mut c| async move { c.import_resource_state(missing).await });
    assert!(response.imported_resources.is_empty());
    assert!(response.diagnostics[0].detail.contains("no-such-asg"));
    f.destroy(&state);
}

#[test]
fn stop_interrupts_a_gate_and_rolls_the_new_generation_back() {
    let f = fixture();
    let aws = f.moto.aws();
    // A server of its own: Stop cancels everything that server does from then on.
    let addr = spawn_server(&f.runtime);
    f.configure(addr);
    let config = f.fleet_config(
        "stopped",
        &[(
            "health_check",
            f.health_check(&[
                ("healthy_for", Value::string("10m")),
                ("timeout", Value::string("20m")),
            ]),
        )],
    );
    let plan = f.call_at(addr, |mut c| {
        let request = pb::plan_resource_change::Request {
            type_name: "immutable_fleet".into(),
            prior_state: Some(f.dv(&Value::Null)),
            proposed_new_state: Some(f.dv(&config)),
            config: Some(f.dv(&config)),
            ..Default::default()
        };
        async move { c.plan_resource_change(request).await }
    });
    let planned = f.value(plan.planned_state.as_ref());
    let apply = pb::apply_resource_change::Request {
        type_name: "immutable_fleet".into(),
        prior_state: Some(f.dv(&Value::Null)),
        planned_state: Some(f.dv(&planned)),
        config: Some(f.dv(&config)),
        ..Default::default()
    };
    let started = Instant::now();
    let applying = f.runtime.spawn(async move {
        let mut client = pb::provider_client::ProviderClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        client
            .apply_resource_change(apply)
            .await
            .unwrap()
            .into_inner()
    });
    // Wait until the generation exists (the gate is running), then press Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(30);
    while aws.fleet_asgs("stopped").is_empty() {
        assert!(Instant::now() < deadline, "the generation never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
    f.call_at(
        addr,
        |mut c| async move { c.stop(pb::stop::Request {}).await },
    );
    let response = f.runtime.block_on(applying).unwrap();
    let elapsed = started.elapsed();
    assert!(
        f.value(response.new_state.as_ref()).is_null(),
        "a rolled-back create returns a null state"
    );
    let error = response
        .diagnostics
        .iter()
        .find(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .expect("an error diagnostic");
    assert!(error.summary.contains("rolled back"), "{error:?}");
    assert!(error.detail.contains("Interrupted"), "{error:?}");
    assert!(aws.fleet_asgs("stopped").is_empty(), "new ASG deleted");
    assert!(
        aws.fleet_launch_templates("stopped").is_empty(),
        "new launch template deleted"
    );
    eprintln!("stop → rolled back in {elapsed:?}");
}

#[test]
fn new_bounds_without_desired_capacity_take_the_live_value() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config("bounds", &[("desired_capacity", Value::Null)]);
    let state = f.create(&config);
    let new_config = with(&config, &[("min_size", Value::number(2))]);
    let plan = f.plan(
        &state,
        &proposed(&state, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    let planned = f.value(plan.planned_state.as_ref());
    assert!(planned.get("desired_capacity").unwrap().is_unknown());
    let applied = f.apply(&state, &planned, &new_config);
    assert_no_errors(&applied.diagnostics);
    let updated = f.value(applied.new_state.as_ref());
    let live = aws.asg("bounds-g1").unwrap().desired_capacity();
    assert_eq!(
        updated.get("desired_capacity").unwrap().as_i64(),
        live.map(i64::from),
        "state reports what AWS has"
    );
    f.destroy(&updated);
}

#[test]
fn a_launch_template_swapped_out_of_band_reads_back_as_drift_that_forces_replacement() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config("swapped", &[]);
    let state = f.create(&config);
    let template = state
        .get("launch_template_id")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    // Someone publishes version 2 with another image (and otherwise the same settings: IMDSv2
    // required) and points the group at it.
    aws.block_on(
        aws.ec2
            .create_launch_template_version()
            .launch_template_id(&template)
            .launch_template_data(
                aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                    .image_id(e2e::MOTO_AMI_2)
                    .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                    .metadata_options(
                        aws_sdk_ec2::types::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                            .http_tokens(
                                aws_sdk_ec2::types::LaunchTemplateHttpTokensState::Required,
                            )
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name("swapped-g1")
            .launch_template(
                aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                    .launch_template_id(&template)
                    .version("2")
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let read = f.read(&state);
    assert_no_errors(&read.diagnostics);
    let refreshed = f.value(read.new_state.as_ref());
    assert_eq!(
        refreshed.get("image_id").unwrap().as_str(),
        Some(e2e::MOTO_AMI_2)
    );
    let plan = f.plan(
        &refreshed,
        &proposed(&refreshed, &config, COMPUTED),
        &config,
    );
    assert_eq!(
        plan.requires_replace.len(),
        1,
        "the declared image is restored by a replacement"
    );
    f.destroy(&refreshed);
}

/// A saved plan applied after the autoscaler moved: an in-place update (here: tags) must not
/// push the capacity read at refresh back onto the group (terraform-provider-aws#20110).
#[test]
fn an_in_place_update_leaves_autoscaled_capacity_alone() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config(
        "autoscaled",
        &[
            ("desired_capacity", Value::Null),
            ("max_size", Value::number(5)),
        ],
    );
    let state = f.create(&config);
    assert_eq!(state.get("desired_capacity").unwrap().as_i64(), Some(1));
    let new_config = with(
        &config,
        &[(
            "tags",
            Value::Map([("team".to_owned(), Value::string("web"))].into()),
        )],
    );
    let plan = f.plan(
        &state,
        &proposed(&state, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    let planned = f.value(plan.planned_state.as_ref());
    assert_eq!(planned.get("desired_capacity").unwrap().as_i64(), Some(1));
    // Between plan and apply, a scaling policy scales the fleet out.
    aws.block_on(
        aws.autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name("autoscaled-g1")
            .desired_capacity(3)
            .send(),
    )
    .unwrap();
    let applied = f.apply(&state, &planned, &new_config);
    assert_no_errors(&applied.diagnostics);
    let asg = aws.asg("autoscaled-g1").unwrap();
    assert_eq!(
        asg.desired_capacity(),
        Some(3),
        "the autoscaler's value stays"
    );
    assert_eq!(asg_tag(&asg, "team"), Some("web"));
    let updated = f.value(applied.new_state.as_ref());
    let refreshed = f.value(f.read(&updated).new_state.as_ref());
    assert_eq!(refreshed.get("desired_capacity").unwrap().as_i64(), Some(3));
    let replan = f.plan(
        &refreshed,
        &proposed(&refreshed, &new_config, COMPUTED),
        &new_config,
    );
    assert_eq!(
        f.value(replan.planned_state.as_ref()),
        refreshed,
        "no diff after the refresh"
    );
    f.destroy(&refreshed);
}

/// What a provider killed mid-gate leaves behind: a launch template and an ASG tagged with
/// the fleet and generation, still marked gating. Returns the template ID.
fn crashed_rollout_leftover(fleet: &str, generation: u32) -> String {
    crashed_rollout_leftover_with(fleet, generation, &[])
}

fn crashed_rollout_leftover_with(
    fleet: &str,
    generation: u32,
    extra_tags: &[(&str, &str)],
) -> String {
    use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag};
    let f = fixture();
    let aws = f.moto.aws();
    let name = format!("{fleet}-g{generation}");
    let ec2_tag = |k: &str, v: &str| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    let template = aws
        .block_on(
            aws.ec2
                .create_launch_template()
                .launch_template_name(&name)
                .launch_template_data(
                    aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                        .image_id(e2e::MOTO_AMI)
                        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                        .build(),
                )
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::LaunchTemplate)
                        .tags(ec2_tag(FLEET_TAG, fleet))
                        .tags(ec2_tag(GENERATION_TAG, &generation.to_string()))
                        .build(),
                )
                .send(),
        )
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    let asg_tag = |k: &str, v: &str| {
        Tag::builder()
            .resource_id(&name)
            .resource_type("auto-scaling-group")
            .key(k)
            .value(v)
            .propagate_at_launch(false)
            .build()
    };
    aws.block_on(
        aws.autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(&name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(&template)
                    .version("1")
                    .build(),
            )
            .min_size(0)
            .max_size(2)
            .desired_capacity(1)
            .vpc_zone_identifier(
                f.subnets
                    .iter()
                    .take(2)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .set_tags(Some(
                extra_tags.iter().map(|(k, v)| asg_tag(k, v)).collect(),
            ))
            .tags(asg_tag(FLEET_TAG, fleet))
            .tags(asg_tag(GENERATION_TAG, &generation.to_string()))
            .tags(asg_tag("immutable:state", "gating"))
            .send(),
    )
    .unwrap();
    template
}

/// A rollout crashed mid-gate, then the user gave up and destroyed the fleet: the destroy
/// removes the crashed generation too, not only the one in state.
#[test]
fn destroy_after_a_crashed_rollout_leaves_nothing_behind() {
    let f = fixture();
    let aws = f.moto.aws();
    let state = f.create(&f.fleet_config("crashdestroy", &[]));
    crashed_rollout_leftover("crashdestroy", 2);
    assert_eq!(aws.fleet_asgs("crashdestroy").len(), 2);
    let deleted = f.apply(&state, &Value::Null, &Value::Null);
    assert_no_errors(&deleted.diagnostics);
    assert!(deleted.diagnostics.is_empty(), "{:?}", deleted.diagnostics);
    assert!(aws.fleet_asgs("crashdestroy").is_empty());
    assert!(aws.fleet_launch_templates("crashdestroy").is_empty());
}

/// An imported generation is Terraform's from then on: even one a crashed rollout had left
/// marked gating must survive the next rollout's leftover cleanup until Terraform deletes it.
#[test]
fn an_imported_generation_is_never_removed_as_a_leftover() {
    let f = fixture();
    let aws = f.moto.aws();
    crashed_rollout_leftover("adoptedbyimport", 1);
    let request = pb::import_resource_state::Request {
        type_name: "immutable_fleet".into(),
        id: "adoptedbyimport-g1".into(),
        ..Default::default()
    };
    let response = f.call(|mut c| async move { c.import_resource_state(request).await });
    assert_no_errors(&response.diagnostics);
    let imported = f.value(response.imported_resources[0].state.as_ref());
    assert_eq!(
        asg_tag(&aws.asg("adoptedbyimport-g1").unwrap(), "immutable:state"),
        Some("serving")
    );
    // The replacement (create-before-destroy) runs while the imported one is deposed.
    let config = f.fleet_config(
        "adoptedbyimport",
        &[("image_id", Value::string(e2e::MOTO_AMI_2))],
    );
    let second = f.create(&config);
    assert_eq!(
        second.get("id").unwrap().as_str(),
        Some("adoptedbyimport-g2")
    );
    assert!(
        aws.asg("adoptedbyimport-g1").is_some(),
        "the deposed generation serves until Terraform deletes it"
    );
    for state in [imported, second] {
        f.destroy(&state);
    }
    assert!(aws.fleet_asgs("adoptedbyimport").is_empty());
}

/// A leftover built from the same configuration is adopted; tags and gate settings are not
/// in the fingerprint, so adoption brings them to what the plan says (the returned state
/// must be true).
#[test]
fn an_adopted_leftover_gets_the_configured_tags_and_health_check() {
    use terraform_provider_immutable::resources::fleet::FleetSpec;
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config(
        "adopted",
        &[(
            "tags",
            Value::Map([("team".to_owned(), Value::string("web"))].into()),
        )],
    );
    let fingerprint = FleetSpec::from_value(&config).unwrap().fingerprint();
    crashed_rollout_leftover_with(
        "adopted",
        1,
        &[
            ("immutable:fingerprint", &fingerprint),
            ("team", "old"),
            ("stale", "x"),
            (
                "immutable:health-check",
                "type=EC2 grace_period=9s timeout=1m healthy_for=0s min_healthy_percent=100",
            ),
        ],
    );
    let state = f.create(&config);
    assert_eq!(
        state.get("id").unwrap().as_str(),
        Some("adopted-g1"),
        "adopted"
    );
    let asg = aws.asg("adopted-g1").unwrap();
    assert_eq!(asg_tag(&asg, "team"), Some("web"));
    assert_eq!(asg_tag(&asg, "stale"), None);
    assert_eq!(
        asg_tag(&asg, "immutable:health-check"),
        None,
        "no block configured"
    );
    assert_eq!(asg_tag(&asg, "immutable:state"), Some("serving"));
    assert_eq!(asg.health_check_grace_period(), Some(30));
    let refreshed = f.value(f.read(&state).new_state.as_ref());
    assert_eq!(
        refreshed, state,
        "the state returned by the adoption is what AWS has"
    );
    f.destroy(&state);
    assert!(aws.fleet_asgs("adopted").is_empty());
}

/// Removing the `health_check` block removes its record on the group, so a later import
/// does not bring the old settings back.
#[test]
fn removing_the_health_check_block_removes_its_tag() {
    let f = fixture();
    let aws = f.moto.aws();
    let config = f.fleet_config(
        "healthtag",
        &[(
            "health_check",
            f.health_check(&[("healthy_for", Value::string("1s"))]),
        )],
    );
    let state = f.create(&config);
    assert!(asg_tag(&aws.asg("healthtag-g1").unwrap(), "immutable:health-check").is_some());
    let new_config = with(&config, &[("health_check", Value::Null)]);
    let plan = f.plan(
        &state,
        &proposed(&state, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    let planned = f.value(plan.planned_state.as_ref());
    let applied = f.apply(&state, &planned, &new_config);
    assert_no_errors(&applied.diagnostics);
    assert_eq!(
        asg_tag(&aws.asg("healthtag-g1").unwrap(), "immutable:health-check"),
        None
    );
    let updated = f.value(applied.new_state.as_ref());
    f.destroy(&updated);
}
