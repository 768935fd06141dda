//! Scenarios 4 and 5: a canary interrupted in step 2. Terraform's Stop (Ctrl-C) rolls it
//! back; a provider SIGKILLed there leaves tagged resources that the next apply converges
//! from: one serving generation, nothing orphaned.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use e2e::sampler::STATE_TAG;
use e2e::{MOTO_AMI, MOTO_AMI_2};

use super::{
    Canary, TARGET, assert_mentions, assert_old_untouched, diagnostics, instance_ids, state_of,
    string_attr,
};

/// Scenario 4: SIGINT to terraform (which asks the provider to Stop) in step 2: the apply
/// fails, the new generation is rolled back, the old one was at full capacity throughout.
#[test]
fn canary_stop_during_a_step_rolls_back() {
    let mut canary = Canary::start("canary-stop", "e2e-canary-stop", "e2e-cn-stop");
    let old = canary.apply_first_generation();

    canary.step("image change, assess_for 10s; Ctrl-C in step 2 (50%)");
    canary.change_image(MOTO_AMI_2, "10s");
    let watch = canary.sample(canary.probe());
    let running = canary.spawn_apply();
    let new_name = canary.wait_for_step(&watch, &old, 2);
    thread::sleep(Duration::from_secs(1));
    let interrupted = Instant::now();
    running.interrupt();
    let output = running.wait();
    let samples = watch.finish();
    // Printed, not asserted: performance is measured, never asserted in tests.
    eprintln!(
        "[canary-stop] terraform exited {:.1}s after SIGINT",
        interrupted.elapsed().as_secs_f64()
    );
    assert_ne!(output.code, Some(0), "an interrupted apply fails\n{output}");
    assert_mentions(
        &output,
        &[
            &canary.fleet.name,
            "step 2/3 (50%)",
            "Interrupted (Terraform was asked to stop)",
            "rolled back",
        ],
    );
    eprintln!("{}", diagnostics(&output));

    assert_old_untouched(&samples, &old);
    let last = &samples.last().unwrap().value;
    assert!(
        last.group(&new_name).is_none(),
        "the new ASG {new_name} is gone: {last:#?}"
    );
    canary.assert_old_generation_current(&old, MOTO_AMI);
    canary.assert_replacement_planned();
    canary.destroy();
}

/// Scenario 5: the provider is SIGKILLed in step 2. Terraform fails with the old generation
/// whole; the next apply of the same configuration converges: exactly one generation, tagged
/// serving, nothing else of the fleet (ASG, launch template, instance) left, next plan empty.
#[test]
fn canary_provider_killed_mid_step_converges_on_reapply() {
    let mut canary = Canary::start("canary-sigkill", "e2e-canary-sigkill", "e2e-cn-sigkill");
    let old = canary.apply_first_generation();

    canary.step("image change, assess_for 8s; kill -KILL the provider in step 2 (50%)");
    canary.change_image(MOTO_AMI_2, "8s");
    let watch = canary.sample(canary.probe());
    let running = canary.spawn_apply();
    let leftover = canary.wait_for_step(&watch, &old, 2);
    let providers = running.provider_pids();
    assert!(
        !providers.is_empty(),
        "no provider process under terraform pid {}; its children: {:?}",
        running.pid(),
        running.children()
    );
    for provider in providers {
        canary.step(&format!("kill -KILL {provider}"));
        let _ = Command::new("kill")
            .args(["-KILL", &provider.to_string()])
            .status();
    }
    let output = running.wait();
    let samples = watch.finish();
    assert_ne!(output.code, Some(0), "terraform must fail\n{output}");
    eprintln!("{}", diagnostics(&output));
    assert_old_untouched(&samples, &old);
    let values = state_of(&canary.workdir, &canary.fleet.address());
    assert_eq!(
        string_attr(&values, "id"),
        old.asg_name,
        "the old generation is current in state"
    );

    canary.step(&format!(
        "{leftover} is left over; re-apply the same configuration"
    ));
    let watch = canary.sample(canary.probe());
    canary.workdir.apply(&[]);
    let samples = watch.finish();
    let converged = canary.generation(MOTO_AMI_2);
    let asg = canary.scenario.aws.asg(&converged.asg_name).unwrap();
    assert_eq!(
        e2e::asg_tag(&asg, STATE_TAG),
        Some("serving"),
        "the converged generation serves"
    );
    let live = instance_ids(
        &canary
            .scenario
            .aws
            .live_instances_of_fleet(&canary.fleet.name),
    );
    assert_eq!(live, converged.instance_ids, "no orphaned instance");
    assert!(
        canary.scenario.aws.asg(&old.asg_name).is_none(),
        "the old generation is deleted"
    );
    // While the re-apply ran, the fleet never had fewer than its target in service.
    for sample in &samples {
        let serving = sample.value.serving_instances().len();
        assert!(
            serving >= usize::try_from(TARGET).unwrap(),
            "{serving} instances in service during the re-apply: {:#?}",
            sample.value
        );
    }
    let values = state_of(&canary.workdir, &canary.fleet.address());
    assert_eq!(string_attr(&values, "id"), converged.asg_name);
    canary.workdir.assert_no_changes("after convergence");
    canary.destroy();
}
