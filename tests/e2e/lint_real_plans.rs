//! `immutable-lint` over real plans that Terraform 1.0.3 made with this provider: a
//! create-before-destroy replacement and a capacity change pass, a destroy-first replacement
//! fails with IMM002 located in `main.tf`, and `--strict` flags the capacity change.

use std::path::PathBuf;
use std::process::Command;

use e2e::{MOTO_AMI_2, TerraformWorkdir, provider_dir, terraform_binary};
use serde_json::Value;

use crate::Scenario;

const FLEET: &str = "e2e-lint";

fn linter() -> PathBuf {
    let path = provider_dir().join("immutable-lint");
    assert!(
        path.is_file(),
        "{} is missing: run cargo build -p immutable-lint (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Lints the workdir's saved binary plan (the linter runs `terraform show -json` itself, in the
/// workdir's environment so the provider's schema is found) and returns exit code and JSON.
fn lint_binary_plan(workdir: &TerraformWorkdir, extra: &[&str]) -> (i32, Value) {
    let output = Command::new(linter())
        .current_dir(workdir.path())
        .env_clear()
        .envs(workdir.env())
        .arg("--format=json")
        .arg("--no-config")
        .arg("--terraform-bin")
        .arg(terraform_binary())
        .arg("--source")
        .arg(workdir.path())
        .args(extra)
        .arg("e2e.tfplan")
        .output()
        .expect("run immutable-lint");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "immutable-lint printed no JSON ({e}):\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn linter_judges_real_plans_of_this_provider() {
    let scenario = Scenario::start("lint-real-plans");
    let mut fleet = scenario.fleet("linted", FLEET);
    let workdir = scenario.workdir();
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);

    scenario.step("create-before-destroy replacement: clean");
    fleet.image_id = MOTO_AMI_2.to_owned();
    scenario.write_config(&workdir, &[&fleet]);
    workdir.plan_json(&[]);
    let (code, report) = lint_binary_plan(&workdir, &[]);
    assert_eq!((code, rules(&report)), (0, vec![]), "{report:#}");

    scenario.step("capacity change in place: clean, but a finding under --strict");
    fleet.image_id = e2e::MOTO_AMI.to_owned();
    fleet.desired_capacity = Some(2);
    scenario.write_config(&workdir, &[&fleet]);
    let plan = workdir.plan_json(&[]);
    let actions = e2e::plan::actions(e2e::plan::resource_change(&plan, &fleet.address()));
    assert_eq!(actions, ["update"]);
    let (code, report) = lint_binary_plan(&workdir, &[]);
    assert_eq!((code, rules(&report)), (0, vec![]), "{report:#}");
    let (code, report) = lint_binary_plan(&workdir, &["--strict"]);
    assert_eq!(
        (code, rules(&report)),
        (1, vec!["IMM001".to_owned()]),
        "{report:#}"
    );

    scenario.step("destroy-first replacement: IMM002, located in main.tf");
    fleet.desired_capacity = Some(1);
    fleet.image_id = MOTO_AMI_2.to_owned();
    fleet.create_before_destroy = false;
    scenario.write_config(&workdir, &[&fleet]);
    let plan = workdir.plan_json(&[]);
    let change = e2e::plan::resource_change(&plan, &fleet.address());
    assert_eq!(e2e::plan::actions(change), ["delete", "create"]);
    let (code, report) = lint_binary_plan(&workdir, &[]);
    assert_eq!(
        (code, rules(&report)),
        (1, vec!["IMM002".to_owned()]),
        "{report:#}"
    );
    let finding = &report["findings"][0];
    assert_eq!(finding["address"], fleet.address());
    let file = finding["location"]["file"].as_str().unwrap();
    assert!(
        std::path::Path::new(file).ends_with("main.tf"),
        "{finding:#}"
    );
    assert!(finding["location"]["line"].as_u64().unwrap() >= 1);

    scenario.step("the same plan as JSON from a file");
    let json_path = workdir.path().join("plan.json");
    std::fs::write(&json_path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let output = Command::new(linter())
        .arg("--no-config")
        .arg(&json_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("IMM002"));

    workdir.destroy(&[]);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty());
}
