//! The examples a user copies (`examples/target-group`, `examples/existing-codebase`) applied
//! as a user applies them, against moto: what exists afterwards, a new image rolled out through
//! the health gate, the linter over those plans, and the CI configurations' own lint commands
//! (`examples/ci/*.yml`, parsed with PyYAML from `.venv`) run against a real plan.
//!
//! Not run here: anything in the CI files that needs a hosted runner (checkout, setup,
//! `cargo install`, `terraform init` with a backend, the SARIF upload, the PR comment), and
//! `examples/target-group/wiring.tf.example` (it needs the hashicorp/aws provider, which this
//! machine cannot download). The target group those would create is created with the SDK.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use e2e::plan::{actions, resource_change};
use e2e::{MOTO_AMI, MOTO_AMI_2, TerraformWorkdir, provider_dir, repo_root};
use serde_json::Value;

use crate::{Scenario, state_of};

/// Copies `source` (recursively: the examples have modules and env files) into the workdir.
fn copy_example(workdir: &TerraformWorkdir, example: &str) {
    copy_tree(&repo_root().join("examples").join(example), workdir.path());
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn linter_dir() -> PathBuf {
    let dir = provider_dir();
    assert!(
        dir.join("immutable-lint").is_file(),
        "immutable-lint is missing from {}: run cargo build -p immutable-lint",
        dir.display()
    );
    dir
}

/// Runs `immutable-lint --format json <extra> <plan>` in the workdir (so it finds the
/// example's `.immutable-lint.toml`, as it would in the user's repository).
fn lint(workdir: &TerraformWorkdir, extra: &[&str]) -> (i32, Vec<String>, Value) {
    let output = Command::new(linter_dir().join("immutable-lint"))
        .current_dir(workdir.path())
        .env_clear()
        .envs(workdir.env())
        .arg("--format=json")
        .arg("--terraform-bin")
        .arg(e2e::terraform_binary())
        .args(["--source", "."])
        .args(extra)
        // The binary plan that TerraformWorkdir::plan_json saved.
        .arg("e2e.tfplan")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "immutable-lint printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let rules = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    (output.status.code().unwrap_or(-1), rules, report)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap()
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn assert_no_changes(workdir: &TerraformWorkdir, args: &[&str], context: &str) {
    let (changed, output) = workdir.plan_has_changes(args);
    assert!(!changed, "{context}: terraform proposes changes\n{output}");
}

/// The instance ids registered `healthy` in a target group.
fn healthy_targets(scenario: &Scenario, tg_arn: &str) -> Vec<String> {
    let aws = &scenario.aws;
    let health = aws
        .block_on(
            aws.elbv2
                .describe_target_health()
                .target_group_arn(tg_arn)
                .send(),
        )
        .unwrap();
    let mut ids: Vec<String> = health
        .target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy)
        })
        .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

fn instance_ids(scenario: &Scenario, asg: &AutoScalingGroup) -> Vec<String> {
    let mut ids: Vec<String> = scenario
        .aws
        .live_instances_of_asg(asg.auto_scaling_group_name().unwrap())
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[test]
fn target_group_example_rolls_a_new_image_behind_the_target_group() {
    const FLEET: &str = "ex-tg-app";
    let scenario = Scenario::start("examples-target-group");
    let tg_arn = scenario.aws.create_target_group("ex-tg-app");
    let workdir = scenario.workdir();
    copy_example(&workdir, "target-group");
    let subnets = format!("subnet_ids={}", json_list(&scenario.subnets));
    let tgs = format!(
        "target_group_arns={}",
        json_list(std::slice::from_ref(&tg_arn))
    );
    // A bake of 0s keeps the test fast; the example's default is 60s.
    let vars = |image: &str| {
        vec![
            format!("-var=name={FLEET}"),
            format!("-var=image_id={image}"),
            format!("-var={subnets}"),
            format!("-var={tgs}"),
            "-var=healthy_for=0s".to_owned(),
        ]
    };

    scenario.step("apply examples/target-group");
    let first = vars(MOTO_AMI);
    let first = as_strs(&first);
    workdir.apply(&first);
    let (old_asg, _, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 2);
    assert_eq!(
        old_asg.target_group_arns(),
        std::slice::from_ref(&tg_arn),
        "ASG attached to the TG"
    );
    assert_eq!(old_asg.health_check_type(), Some("ELB"));
    let old_ids = instance_ids(&scenario, &old_asg);
    assert_eq!(
        healthy_targets(&scenario, &tg_arn),
        old_ids,
        "the fleet serves"
    );
    assert_no_changes(&workdir, &first, "after applying examples/target-group");

    scenario.step("new image: create-before-destroy through the gate");
    let second = vars(MOTO_AMI_2);
    let second = as_strs(&second);
    let plan = workdir.plan_json(&second);
    assert_eq!(
        actions(resource_change(&plan, "immutable_fleet.app")),
        ["create", "delete"]
    );
    let (code, rules, report) = lint(&workdir, &[]);
    assert_eq!((code, rules), (0, vec![]), "{report:#}");
    workdir.apply_saved_plan();
    let (new_asg, _, _) = scenario.assert_one_generation(FLEET, MOTO_AMI_2, 2);
    assert_ne!(
        new_asg.auto_scaling_group_name(),
        old_asg.auto_scaling_group_name()
    );
    assert!(
        scenario
            .aws
            .asg(old_asg.auto_scaling_group_name().unwrap())
            .is_none()
    );
    let new_ids = instance_ids(&scenario, &new_asg);
    assert_eq!(
        healthy_targets(&scenario, &tg_arn),
        new_ids,
        "only the new generation is registered in the target group"
    );

    scenario.step("destroy");
    workdir.destroy(&second);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty());
    assert!(healthy_targets(&scenario, &tg_arn).is_empty());
}

const CODEBASE_FLEETS: [&str; 2] = ["api-staging", "worker-staging"];
const API: &str = "module.api.immutable_fleet.this";
const WORKER: &str = "module.worker.immutable_fleet.this";

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one user's journey through the example, step by step"
)]
fn existing_codebase_example_runs_two_services_and_its_ci_lint_steps() {
    let scenario = Scenario::start("examples-existing-codebase");
    let tg_arn = scenario.aws.create_target_group("ex-api-staging");
    let workdir = scenario.workdir();
    copy_example(&workdir, "existing-codebase");
    // envs/staging.tfvars as a user has it; the network inputs that would be outputs of their
    // network stack point at moto's instead.
    let base = [
        "-var-file=envs/staging.tfvars".to_owned(),
        format!("-var=subnet_ids={}", json_list(&scenario.subnets)),
        format!(
            "-var=api_target_group_arns={}",
            json_list(std::slice::from_ref(&tg_arn))
        ),
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .cloned()
            .chain(extra.iter().map(|s| (*s).to_owned()))
            .collect()
    };

    // Local modules need installing; `terraform get` does it without `init`, which
    // dev_overrides rule out for an unpublished provider (Terraform's
    // internal/command/e2etest/provider_dev_test.go).
    scenario.step("terraform get (installs ./modules/service)");
    workdir.run(&["get"]);

    scenario.step("apply envs/staging.tfvars: api and worker");
    let staging = with(&[]);
    let staging = as_strs(&staging);
    workdir.apply(&staging);
    let (api, _, _) = scenario.assert_one_generation("api-staging", MOTO_AMI, 2);
    let (worker, _, _) = scenario.assert_one_generation("worker-staging", MOTO_AMI, 1);
    for (asg, service, owner) in [(&api, "api", "team-api"), (&worker, "worker", "team-jobs")] {
        for (key, value) in [
            ("service", service),
            ("environment", "staging"),
            ("owner", owner),
            ("managed-by", "terraform"),
        ] {
            assert_eq!(e2e::asg_tag(asg, key), Some(value), "{service}: tag {key}");
        }
    }
    assert_eq!(e2e::asg_tag(&worker, "queue"), Some("jobs-staging"));
    assert_eq!(api.target_group_arns(), std::slice::from_ref(&tg_arn));
    assert_eq!(api.health_check_type(), Some("ELB"), "gate on the TG");
    assert!(worker.target_group_arns().is_empty());
    assert_eq!(worker.health_check_type(), Some("EC2"));
    assert_eq!(
        healthy_targets(&scenario, &tg_arn),
        instance_ids(&scenario, &api)
    );
    let outputs = workdir.outputs();
    assert_eq!(
        outputs["fleets"]["value"]["api"]["asg"].as_str(),
        api.auto_scaling_group_name()
    );
    assert_no_changes(&workdir, &staging, "after applying envs/staging.tfvars");
    let old_generation = state_of(&workdir, API)["generation"].as_f64().unwrap();

    scenario.step("release a new api image: only the api is replaced, lint passes");
    let release = with(&[&format!("-var=api_image_id={MOTO_AMI_2}")]);
    let release = as_strs(&release);
    let plan = workdir.plan_json(&release);
    assert_eq!(actions(resource_change(&plan, API)), ["create", "delete"]);
    assert_eq!(actions(resource_change(&plan, WORKER)), ["no-op"]);
    let (code, rules, report) = lint(&workdir, &[]);
    assert_eq!((code, rules), (0, vec![]), "{report:#}");
    workdir.apply_saved_plan();
    let (new_api, _, _) = scenario.assert_one_generation("api-staging", MOTO_AMI_2, 2);
    assert_ne!(
        new_api.auto_scaling_group_name(),
        api.auto_scaling_group_name()
    );
    assert!(
        scenario
            .aws
            .asg(api.auto_scaling_group_name().unwrap())
            .is_none()
    );
    assert_eq!(
        scenario.aws.fleet_asgs("worker-staging")[0].auto_scaling_group_name(),
        worker.auto_scaling_group_name(),
        "the worker was left alone"
    );
    assert!(state_of(&workdir, API)["generation"].as_f64().unwrap() > old_generation);
    assert_eq!(
        healthy_targets(&scenario, &tg_arn),
        instance_ids(&scenario, &new_api)
    );

    scenario.step("a capacity change updates in place: clean, IMM001 under --strict");
    let bigger = r#"-var=api={instance_type="t3.small",min_size=1,max_size=4,desired_capacity=3}"#;
    let scale = with(&[&format!("-var=api_image_id={MOTO_AMI_2}"), bigger]);
    let scale = as_strs(&scale);
    let plan = workdir.plan_json(&scale);
    assert_eq!(actions(resource_change(&plan, API)), ["update"]);
    let (code, rules, report) = lint(&workdir, &[]);
    assert_eq!((code, rules), (0, vec![]), "{report:#}");
    let (code, rules, report) = lint(&workdir, &["--strict"]);
    assert_eq!((code, rules), (1, vec!["IMM001".to_owned()]), "{report:#}");

    scenario.step("someone drops create_before_destroy from the module: IMM002 in CI");
    let module = workdir.path().join("modules/service/main.tf");
    let text = fs::read_to_string(&module).unwrap();
    assert!(text.contains("create_before_destroy = true"));
    fs::write(
        &module,
        text.replace(
            "create_before_destroy = true",
            "create_before_destroy = false",
        ),
    )
    .unwrap();
    let unsafe_release = with(&[&format!("-var=api_image_id={MOTO_AMI}")]);
    let unsafe_release = as_strs(&unsafe_release);
    let plan = workdir.plan_json(&unsafe_release);
    assert_eq!(actions(resource_change(&plan, API)), ["delete", "create"]);
    let (code, rules, report) = lint(&workdir, &[]);
    assert_eq!((code, rules), (1, vec!["IMM002".to_owned()]), "{report:#}");
    let file = report["findings"][0]["location"]["file"].as_str().unwrap();
    assert!(
        Path::new(file).ends_with("modules/service/main.tf"),
        "{report:#}"
    );

    // The CI jobs lint `plan.json`, written by their `terraform show -json tfplan` step.
    fs::write(
        workdir.path().join("plan.json"),
        serde_json::to_vec(&plan).unwrap(),
    )
    .unwrap();
    run_github_actions_lint_step(&workdir);
    run_gitlab_ci_lint_job(&workdir);
    fs::write(&module, text).unwrap();

    scenario.step("destroy");
    workdir.destroy(&staging);
    for fleet in CODEBASE_FLEETS {
        assert!(scenario.aws.fleet_asgs(fleet).is_empty(), "{fleet} is gone");
    }
}

/// A YAML file of the repository as JSON, parsed by PyYAML (a dependency of pre-commit, so it
/// is in `.venv`).
fn yaml(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let output = Command::new(e2e::venv_tool("python"))
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{relative} is not valid YAML:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `bash` with the linter on `PATH`, in the workdir.
fn shell(workdir: &TerraformWorkdir, flags: &[&str], script: &str) -> Command {
    let path = format!(
        "{}:{}",
        linter_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .current_dir(workdir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", workdir.path())
        .args(flags)
        .arg("-c")
        .arg(script);
    command
}

/// Runs the `lint` step of examples/ci/github-actions.yml — the immutable-lint Action with the
/// example's `with:` inputs — on a plan with an IMM002 finding: the Action's lint step as the
/// runner would run it (tests/action/run-action.py, bash -eo pipefail; the linter build on
/// PATH instead of the wheel install), then checks what the later steps consume.
#[allow(
    clippy::too_many_lines,
    reason = "the workflow's shape, then the Action's run and everything later steps consume"
)]
fn run_github_actions_lint_step(workdir: &TerraformWorkdir) {
    let workflow = yaml("examples/ci/github-actions.yml");
    let steps = workflow["jobs"]["lint-plan"]["steps"].as_array().unwrap();
    let position = |pred: &dyn Fn(&Value) -> bool| {
        steps
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("a step is missing: {steps:#?}"))
    };
    let plan_step = position(&|s| s["name"] == "Plan");
    let lint_step = position(&|s| s["id"] == "lint");
    let upload = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
    });
    let comment = position(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("gh pr comment"))
    });
    let fail = position(&|s| s["if"] == "steps.lint.outputs.status == '1'");
    assert!(
        plan_step < lint_step && lint_step < upload && upload < comment && comment < fail,
        "order: plan, lint, upload, comment, fail"
    );
    assert!(
        steps[plan_step]["run"]
            .as_str()
            .unwrap()
            .contains("terraform show -json tfplan > plan.json")
    );
    assert!(
        steps[lint_step]["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("immutable-infra/immutable@")),
        "the lint step is the Action: {:#}",
        steps[lint_step]
    );
    assert_eq!(
        steps[upload]["with"]["sarif_file"],
        "infra/immutable-lint.sarif"
    );
    assert_eq!(
        steps[comment]["env"]["REPORT"],
        "${{ steps.lint.outputs.markdown }}"
    );
    let with = steps[lint_step]["with"].as_object().unwrap();
    assert_eq!(with["working-directory"], "infra");

    // The workdir is the example's `infra` directory: the workspace is its parent.
    let workspace = workdir.path().parent().unwrap();
    let summary = workdir.path().join("github-step-summary");
    let runner_temp = workdir.path().join("runner-temp");
    fs::create_dir_all(&runner_temp).unwrap();
    let mut command = shell(
        workdir,
        &[],
        "exec \"$PYTHON\" \"$RUN_ACTION\" --only lint \"$ACTION\"",
    );
    command
        .env("PYTHON", e2e::venv_tool("python"))
        .env("RUN_ACTION", repo_root().join("tests/action/run-action.py"))
        .env("ACTION", repo_root().join("action.yml"))
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", &runner_temp);
    for (name, value) in with {
        let value = if name == "working-directory" {
            workdir.path().file_name().unwrap().to_str().unwrap()
        } else {
            value.as_str().unwrap()
        };
        command.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    let result = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "the lint step itself succeeds on findings (a later step fails the job):\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.lines().any(|l| l == "output status=1"),
        "status output 1:\n{stdout}"
    );
    let sarif: Value = serde_json::from_str(
        &fs::read_to_string(workdir.path().join("immutable-lint.sarif")).unwrap(),
    )
    .unwrap();
    let result0 = &sarif["runs"][0]["results"][0];
    assert_eq!(result0["ruleId"], "IMM002", "{sarif:#}");
    let uri = result0["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with("modules/service/main.tf"), "{uri}");
    let markdown_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("output markdown="))
        .unwrap_or_else(|| panic!("no markdown output:\n{stdout}"));
    let markdown = fs::read_to_string(markdown_path).unwrap();
    assert!(markdown.contains("IMM002"), "{markdown}");
    assert_eq!(fs::read_to_string(&summary).unwrap(), markdown);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=") && l.contains("modules/service/main.tf")),
        "annotations on the module's block:\n{stdout}"
    );
}

/// Runs the lint lines of examples/ci/gitlab-ci.yml's job (everything after its `terraform
/// show -json` line) as the runner would, on a plan with an IMM002 finding.
fn run_gitlab_ci_lint_job(workdir: &TerraformWorkdir) {
    let pipeline = yaml("examples/ci/gitlab-ci.yml");
    let job = &pipeline["immutable-lint"];
    let reports = &job["artifacts"]["reports"];
    assert_eq!(
        reports["codequality"],
        "$TF_ROOT/gl-code-quality-report.json"
    );
    assert_eq!(
        job["artifacts"]["when"], "always",
        "reports also of a failed job"
    );
    let lines: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let show = lines
        .iter()
        .position(|l| l.starts_with("terraform show -json tfplan > plan.json"))
        .expect("the job converts the plan");
    let script = lines[show + 1..].join("\n");
    let result = shell(workdir, &["-e"], &script).output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(1),
        "the job fails on an error finding:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    let issues: Value = serde_json::from_str(
        &fs::read_to_string(workdir.path().join("gl-code-quality-report.json")).unwrap(),
    )
    .unwrap();
    let issue = &issues[0];
    assert_eq!(issue["check_name"], "immutable-lint/IMM002", "{issues:#}");
    assert_eq!(issue["severity"], "critical");
    assert!(
        issue["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("modules/service/main.tf"),
        "{issue:#}"
    );
    assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    let junit = fs::read_to_string(workdir.path().join("immutable-lint.xml")).unwrap();
    assert!(junit.contains("IMM002"), "{junit}");
}
