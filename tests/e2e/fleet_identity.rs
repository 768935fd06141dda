//! Regressions of issue #10 about what a fleet *is*: its name, its generations and the launch
//! template they launch from. Real Terraform against moto, each scenario with its own fleet.

use e2e::hcl;
use e2e::plan::{self, actions, replaces_because_of};
use e2e::{MOTO_AMI, MOTO_AMI_2};

use crate::{Scenario, state_of, string_attr};

/// Item 5: a launch template deleted out of band leaves a group that cannot launch; the next
/// plan must replace the generation (before the fix it said "No changes").
#[test]
fn a_launch_template_deleted_out_of_band_is_planned_as_a_replacement() {
    let s = Scenario::start("lt-deleted-out-of-band");
    let workdir = s.workdir();
    let fleet = s.fleet("this", "e2e-lt-deleted");
    s.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let values = state_of(&workdir, &fleet.address());
    let template = string_attr(&values, "launch_template_id").to_owned();
    let old_asg = string_attr(&values, "id").to_owned();

    s.step(&format!(
        "delete launch template {template} behind Terraform's back"
    ));
    s.aws.delete_launch_template(&template);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &fleet.address());
    assert_eq!(actions(change), ["create", "delete"], "{change:#}");
    assert!(replaces_because_of(change, "image_id"), "{change:#}");

    s.step("apply restores a generation that can launch");
    workdir.apply(&[]);
    let (asg, lt, _) = s.assert_one_generation(&fleet.name, MOTO_AMI, 1);
    assert_ne!(asg.auto_scaling_group_name(), Some(old_asg.as_str()));
    assert_ne!(lt.launch_template_id(), Some(template.as_str()));
    workdir.assert_no_changes("after the replacement");
    workdir.destroy(&[]);
}

/// Item 2: renaming an autoscaled fleet (desired capacity unset, the autoscaler at 4) used to
/// replace it with a generation at `min_size`. Now a rename is an in-place relabelling, and
/// the next generation, named after the new name, starts at the live capacity.
#[test]
fn renaming_an_autoscaled_fleet_never_shrinks_it() {
    let s = Scenario::start("rename-autoscaled");
    let workdir = s.workdir();
    let mut fleet = s.fleet("this", "e2e-rename-old");
    fleet.desired_capacity = None;
    fleet.max_size = 6;
    s.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let asg_name = string_attr(&state_of(&workdir, &fleet.address()), "id").to_owned();
    s.step(&format!("the autoscaler moves {asg_name} to 4"));
    s.aws
        .block_on(
            s.aws
                .autoscaling
                .set_desired_capacity()
                .auto_scaling_group_name(&asg_name)
                .desired_capacity(4)
                .send(),
        )
        .unwrap();

    s.step("rename together with an image change: refused at plan time, at `name`");
    let mut renamed = fleet.clone();
    "e2e-rename-new".clone_into(&mut renamed.name);
    renamed.image_id = MOTO_AMI_2.to_owned();
    s.write_config(&workdir, &[&renamed]);
    let refused = workdir.try_run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(
        refused
            .stderr
            .contains("Rename and replacement in one apply"),
        "{refused}"
    );

    s.step("rename alone: an in-place update, same group, same 4 instances");
    renamed.image_id = MOTO_AMI.to_owned();
    s.write_config(&workdir, &[&renamed]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &renamed.address());
    assert_eq!(actions(change), ["update"], "{change:#}");
    workdir.apply(&[]);
    let asg = s.aws.asg(&asg_name).expect("the group survives a rename");
    assert_eq!(asg.instances().len(), 4, "no instance replaced or lost");
    assert_eq!(
        e2e::asg_tag(&asg, "immutable:fleet"),
        Some("e2e-rename-new")
    );
    let still_old: Vec<_> = s
        .aws
        .all_asgs()
        .into_iter()
        .filter(|g| e2e::asg_tag(g, "immutable:fleet") == Some("e2e-rename-old"))
        .collect();
    assert!(still_old.is_empty(), "{still_old:?}");
    workdir.assert_no_changes("after the rename");

    s.step("the next generation takes the new name and the live capacity");
    renamed.image_id = MOTO_AMI_2.to_owned();
    s.write_config(&workdir, &[&renamed]);
    workdir.apply(&[]);
    let (asg, _, instances) = s.assert_one_generation("e2e-rename-new", MOTO_AMI_2, 4);
    assert_eq!(asg.auto_scaling_group_name(), Some("e2e-rename-new-g2"));
    assert_eq!(instances.len(), 4);
    workdir.assert_no_changes("after the rollout");
    workdir.destroy(&[]);
    assert!(s.aws.fleet_asgs("e2e-rename-new").is_empty());
}

/// Item 6: with `count` and a constant `name`, three resources create one fleet name. The
/// apply must fail with an error naming the name and the fix, and must not leave a second
/// generation behind (before the fix: `InvalidLaunchTemplateName.AlreadyExistsException`).
#[test]
fn duplicate_fleet_names_in_one_configuration_are_refused_by_name() {
    let s = Scenario::start("duplicate-names");
    let workdir = s.workdir();
    let fleet = s.fleet("this", "e2e-dup");
    let block = fleet
        .to_hcl()
        .replacen("{\n", "{\n  count              = 3\n", 1);
    workdir.write(
        "main.tf",
        &format!("{}\n{block}", hcl::config(&hcl::provider_block(), &[])),
    );
    let output = workdir.try_run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(output.code, Some(1), "{output}");
    let text = output
        .stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Duplicate fleet name") || text.contains("already exists"),
        "{output}"
    );
    assert!(text.contains("\"e2e-dup\""), "{output}");
    assert!(text.contains("count.index"), "{output}");
    assert!(!text.contains("AlreadyExistsException"), "{output}");
    let asgs = s.aws.fleet_asgs("e2e-dup");
    assert_eq!(asgs.len(), 1, "one resource won, nothing else was left");
    workdir.destroy(&[]);
    assert!(s.aws.fleet_asgs("e2e-dup").is_empty());
}

/// Item 6: after `terraform state rm` and a new apply, two generations of one name serve. The
/// plan says so (which one, where, what to do), import refuses the older one and names the
/// current one, and destroy leaves no generation of the fleet running.
#[test]
fn a_second_serving_generation_is_reported_and_destroy_removes_every_generation() {
    let s = Scenario::start("two-serving");
    let workdir = s.workdir();
    let mut fleet = s.fleet("this", "e2e-two-serving");
    s.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let first = string_attr(&state_of(&workdir, &fleet.address()), "id").to_owned();

    s.step(&format!(
        "terraform state rm, then apply a new image: {first} stays behind"
    ));
    workdir.run(&["state", "rm", &fleet.address()]);
    fleet.image_id = MOTO_AMI_2.to_owned();
    s.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let second = string_attr(&state_of(&workdir, &fleet.address()), "id").to_owned();
    assert_ne!(first, second);

    s.step("every plan names the other serving generation");
    let output = workdir.run(&["plan", "-input=false", "-no-color"]);
    let text = format!("{}\n{}", output.stdout, output.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("another generation serves"), "{output}");
    assert!(
        text.contains(&format!("Auto Scaling group {first}")),
        "{output}"
    );
    assert!(text.contains("us-east-1"), "{output}");

    s.step(&format!(
        "import of the older {first} is refused and names {second}"
    ));
    let other = s.workdir();
    let mut imported = fleet.clone();
    "other".clone_into(&mut imported.resource);
    s.write_config(&other, &[&imported]);
    let refused = other.try_run(&[
        "import",
        "-input=false",
        "-no-color",
        &imported.address(),
        &first,
    ]);
    assert_ne!(refused.code, Some(0), "{refused}");
    let text = refused
        .stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains(&format!("its newest serving generation is {second}")),
        "{refused}"
    );

    s.step("destroy removes both generations");
    workdir.destroy(&[]);
    assert!(
        s.aws.fleet_asgs(&fleet.name).is_empty(),
        "a generation of the fleet still runs: {:?}",
        s.aws.fleet_asgs(&fleet.name)
    );
    assert!(s.aws.live_instances_of_fleet(&fleet.name).is_empty());
}
