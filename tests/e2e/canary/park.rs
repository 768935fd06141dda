//! Scenario 7: `keep_previous_for`. After a successful rollout the old generation is parked
//! (instances running, target groups detached, launching processes suspended, a scheduled
//! action to zero at the window's end); rolling back inside the window brings it back without
//! launching anything and parks the other; after the window the next apply deletes what is
//! parked.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::plan::{self, actions};
use e2e::sampler::{STATE_TAG, fleet_template_names};
use e2e::{ASG_NAME_TAG, Aws, FLEET_TAG, MOTO_AMI, MOTO_AMI_2};

use super::{Canary, Generation, TARGET, instance_ids, pause, state_of, string_attr};

/// The parking window of the scenario: long enough for the checks between the rollout and
/// the rollback, short enough to wait out.
const WINDOW: Duration = Duration::from_mins(1);
/// How far the scheduled action's start may be from rollout end + window.
const WINDOW_SLACK: Duration = Duration::from_mins(2);

#[test]
fn canary_keep_previous_parks_and_rolls_back_without_launching() {
    let mut canary = Canary::start("canary-park", "e2e-canary-park", "e2e-cn-park");
    let tg_arn = canary.scenario.aws.create_target_group("e2e-cn-park-app");
    canary.fleet.target_group_arns = vec![tg_arn.clone()];
    let rollout = canary.rollout();
    rollout.steps = vec![50];
    rollout.keep_previous_for = Some(format!("{}s", WINDOW.as_secs()));
    let first = canary.apply_first_generation();

    canary.step("rollout to the second image, keep_previous_for 60s");
    canary.change_image(MOTO_AMI_2, "2s");
    let output = canary.workdir.apply(&[]);
    let fresh_rollout = output.elapsed;
    let rollout_end = SystemTime::now();
    let second = current_generation(&canary);
    assert_ne!(second.asg_name, first.asg_name);
    assert_serving(&canary, &second, &tg_arn, MOTO_AMI_2);
    assert_parked(&canary, &first, &tg_arn, rollout_end + WINDOW);
    canary
        .workdir
        .assert_no_changes("a generation parked inside its window is no leftover");

    canary.step("roll back to the first image inside the window");
    canary.change_image(MOTO_AMI, "2s");
    let aws = &canary.scenario.aws;
    let before = fleet_instances_any_state(aws, &canary.fleet.name);
    let watch = canary.sample(canary.probe().with_instances().with_target_group(&tg_arn));
    canary.faults.reset_calls(canary.key);
    let output = canary.workdir.apply(&[]);
    let rollback = output.elapsed;
    canary.assert_nothing_created("a rollback to a parked generation");
    canary.report_calls("rollback inside the window");
    let rollback_end = SystemTime::now();
    let samples = watch.finish();
    // Printed for the closing note, never asserted: performance is measured, not tested.
    eprintln!(
        "[canary-park] wall time: rollback inside the window {:.1}s, fresh rollout of the same \
         fleet {:.1}s",
        rollback.as_secs_f64(),
        fresh_rollout.as_secs_f64()
    );

    let values = state_of(&canary.workdir, &canary.fleet.address());
    assert_eq!(
        string_attr(&values, "id"),
        first.asg_name,
        "the parked generation is the fleet again"
    );
    assert_eq!(
        string_attr(&values, "autoscaling_group_name"),
        first.asg_name
    );
    let after = fleet_instances_any_state(aws, &canary.fleet.name);
    assert_eq!(
        after, before,
        "no instance of the fleet was launched (or removed) by the rollback"
    );
    let known: BTreeSet<&str> = before.iter().map(String::as_str).collect();
    let groups = BTreeSet::from([first.asg_name.as_str(), second.asg_name.as_str()]);
    let templates = BTreeSet::from([first.template_name.as_str(), second.template_name.as_str()]);
    for sample in &samples {
        let snapshot = &sample.value;
        let live = snapshot.live_instances.as_deref().unwrap_or_default();
        assert!(
            live.iter().all(|id| known.contains(id.as_str())),
            "an instance was launched during the rollback: {snapshot:#?}"
        );
        assert!(
            snapshot
                .groups
                .iter()
                .all(|g| groups.contains(g.name.as_str()))
                && snapshot
                    .templates
                    .iter()
                    .all(|t| templates.contains(t.as_str())),
            "a generation was created during the rollback: {snapshot:#?}"
        );
    }
    assert_serving(&canary, &first, &tg_arn, MOTO_AMI);
    assert!(
        aws.scheduled_actions(&first.asg_name).is_empty(),
        "the returned generation's scheduled action is gone: {:#?}",
        aws.scheduled_actions(&first.asg_name)
    );
    let window_end = assert_parked(&canary, &second, &tg_arn, rollback_end + WINDOW);

    expire(&canary, &first, &second, window_end);
    canary.destroy();
}

/// After `second`'s window the next plan shows it in `leftovers` and the apply deletes it;
/// `first` keeps serving.
fn expire(canary: &Canary, first: &Generation, second: &Generation, window_end: SystemTime) {
    let aws = &canary.scenario.aws;
    canary.step("after the window, the next plan removes the parked generation");
    let now = SystemTime::now();
    if let Ok(left) = window_end.duration_since(now) {
        pause(
            canary,
            left + Duration::from_secs(5),
            "the parking window ends",
        );
    }
    let planned = canary.workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &canary.fleet.address());
    assert_eq!(actions(change), ["update"], "{change:#}");
    let leftovers = &change["change"]["before"]["leftovers"];
    assert!(
        leftovers
            .as_array()
            .is_some_and(|names| names.iter().any(|n| *n == *second.asg_name)),
        "the expired parked generation {} shows in leftovers: {change:#}",
        second.asg_name
    );
    canary.workdir.apply_saved_plan();
    assert!(
        aws.asg(&second.asg_name).is_none(),
        "the expired parked ASG is deleted"
    );
    let now = canary.generation(MOTO_AMI);
    assert_eq!(now.asg_name, first.asg_name);
    assert_eq!(now.instance_ids, first.instance_ids);
    assert!(
        !fleet_template_names(aws, &canary.fleet.name).contains(&second.template_name),
        "the expired parked generation's launch template is deleted"
    );
    canary
        .workdir
        .assert_no_changes("after the parked generation is gone");
}

/// The generation the state points at, as found in AWS.
fn current_generation(canary: &Canary) -> Generation {
    let values = state_of(&canary.workdir, &canary.fleet.address());
    let asg_name = string_attr(&values, "id").to_owned();
    let template_id = string_attr(&values, "launch_template_id");
    let aws = &canary.scenario.aws;
    let template_name = aws
        .block_on(
            aws.ec2
                .describe_launch_templates()
                .launch_template_ids(template_id)
                .send(),
        )
        .unwrap()
        .launch_templates()
        .iter()
        .find_map(|t| t.launch_template_name().map(str::to_owned))
        .unwrap_or_else(|| panic!("launch template {template_id} of {asg_name} not found"));
    Generation {
        instance_ids: instance_ids(&aws.live_instances_of_asg(&asg_name)),
        asg_name,
        template_name,
    }
}

/// `generation` serves: tagged serving, in the target group, nothing suspended, no scheduled
/// action, its instances running `image_id` and registered.
fn assert_serving(canary: &Canary, generation: &Generation, tg_arn: &str, image_id: &str) {
    let aws = &canary.scenario.aws;
    let name = &generation.asg_name;
    let asg = aws
        .asg(name)
        .unwrap_or_else(|| panic!("ASG {name} is missing"));
    assert_eq!(e2e::asg_tag(&asg, STATE_TAG), Some("serving"), "{asg:#?}");
    assert_eq!(asg.desired_capacity(), Some(TARGET), "{asg:#?}");
    assert_eq!(asg.target_group_arns(), [tg_arn.to_owned()], "{asg:#?}");
    let suspended = aws.suspended_processes(name);
    assert!(
        !suspended
            .iter()
            .any(|p| p == "Launch" || p == "AddToLoadBalancer"),
        "{name} serves with processes suspended: {suspended:?}"
    );
    let instances = aws.live_instances_of_asg(name);
    assert_eq!(instance_ids(&instances), generation.instance_ids);
    assert!(
        instances.iter().all(|i| i.image_id() == Some(image_id)),
        "{name} runs {image_id}"
    );
    let registered = aws.registered_targets(tg_arn);
    assert!(
        generation
            .instance_ids
            .iter()
            .all(|id| registered.contains(id)),
        "{name}'s instances are registered in the target group: {registered:?}"
    );
}

/// `generation` is parked: still there with its instances running, detached from the target
/// group, `Launch` and `AddToLoadBalancer` suspended, tagged `parked…`, and one scheduled
/// action to zero starting about `window_end`. Returns that start.
fn assert_parked(
    canary: &Canary,
    generation: &Generation,
    tg_arn: &str,
    window_end: SystemTime,
) -> SystemTime {
    let aws = &canary.scenario.aws;
    let name = &generation.asg_name;
    let asg = aws
        .asg(name)
        .unwrap_or_else(|| panic!("the parked ASG {name} was deleted"));
    assert!(
        e2e::asg_tag(&asg, STATE_TAG).is_some_and(|state| state.starts_with("parked")),
        "{name} is tagged parked: {asg:#?}"
    );
    assert!(
        asg.target_group_arns().is_empty(),
        "{name} is detached from its target groups: {asg:#?}"
    );
    let registered = aws.registered_targets(tg_arn);
    assert!(
        !generation
            .instance_ids
            .iter()
            .any(|id| registered.contains(id)),
        "{name}'s instances left the target group: {registered:?}"
    );
    assert_eq!(
        instance_ids(&aws.live_instances_of_asg(name)),
        generation.instance_ids,
        "{name}'s instances keep running"
    );
    let suspended = aws.suspended_processes(name);
    for process in ["Launch", "AddToLoadBalancer"] {
        assert!(
            suspended.iter().any(|p| p == process),
            "{name}: {process} is suspended: {suspended:?}"
        );
    }
    let actions = aws.scheduled_actions(name);
    let to_zero: Vec<_> = actions
        .iter()
        .filter(|a| a.desired_capacity() == Some(0))
        .collect();
    assert_eq!(
        to_zero.len(),
        1,
        "{name} has one scheduled action to zero: {actions:#?}"
    );
    let start_secs = to_zero[0]
        .start_time()
        .unwrap_or_else(|| panic!("the scheduled action has no start time: {actions:#?}"))
        .secs();
    let start = UNIX_EPOCH + Duration::from_secs(u64::try_from(start_secs).unwrap());
    let expected = unix_secs(window_end);
    assert!(
        start_secs.abs_diff(expected) <= WINDOW_SLACK.as_secs(),
        "{name}'s window ends at {start_secs} (unix), expected about {expected} (the rollout's \
         end + {}s): {actions:#?}",
        WINDOW.as_secs()
    );
    start
}

fn unix_secs(time: SystemTime) -> i64 {
    i64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// Every instance of the fleet that moto knows, in any state (launched by a `<fleet>-…` group
/// or tagged with the fleet), sorted.
fn fleet_instances_any_state(aws: &Aws, fleet: &str) -> Vec<String> {
    let prefix = format!("{fleet}-");
    let mut ids: Vec<String> = aws
        .all_instances()
        .iter()
        .filter(|i| {
            i.tags().iter().any(|t| {
                (t.key() == Some(FLEET_TAG) && t.value() == Some(fleet))
                    || (t.key() == Some(ASG_NAME_TAG)
                        && t.value().is_some_and(|v| v.starts_with(&prefix)))
            })
        })
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}
