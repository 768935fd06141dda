//! Issue #10 item 9: an `import` block with `terraform plan -generate-config-out` (Terraform
//! ≥ 1.5, so the newer CLI, not `.venv`'s 1.0.3). Terraform writes a sensitive attribute as
//! `null # sensitive` and never a `lifecycle` block, so the generated configuration as written
//! replaces the imported fleet destroy-first. The migration guide's fixes (the real
//! `user_data`, `lifecycle { create_before_destroy = true }`) make the next plan import it with
//! no replacement.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag};
use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use base64::Engine as _;
use e2e::plan::{actions, replace_paths, resource_change};
use e2e::{Aws, MOTO_AMI, TerraformWorkdir, hcl};
use serde_json::Value;

use crate::Scenario;

/// A fleet created by this provider (Terraform 1.0.3), imported by its generation's group.
const FLEET: &str = "e2e-genconfig";
/// A group and launch template made without this provider, as in the migration guide.
const FOREIGN: &str = "e2e-genconfig-foreign";
/// Set to a Terraform ≥ 1.5 executable (default: /usr/local/bin/terraform, then `PATH`).
const NEWER_TERRAFORM_ENV: &str = "IMMUTABLE_NEWER_TERRAFORM";
/// Set to 1 to accept a machine without one (the test then says so on stderr and skips).
const ALLOW_NO_NEWER_ENV: &str = "IMMUTABLE_ALLOW_NO_NEWER_TERRAFORM";
const USER_DATA: &str = "#!/bin/sh\necho generated-config\n";

/// `(major, minor)` of `terraform version`'s first line, e.g. `Terraform v1.11.4`.
fn version_of(terraform: &Path) -> Option<(u32, u32)> {
    let out = Command::new(terraform)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let version = stdout.lines().next()?.trim().strip_prefix("Terraform v")?;
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// A Terraform that has `import` blocks and `-generate-config-out` (≥ 1.5). Panics when there is
/// none, unless `IMMUTABLE_ALLOW_NO_NEWER_TERRAFORM=1`: a missing CLI must never look like a pass.
fn terraform_with_generate_config() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(NEWER_TERRAFORM_ENV).map(PathBuf::from) {
        assert!(
            version_of(&path).is_some_and(|v| v >= (1, 5)),
            "{NEWER_TERRAFORM_ENV}={} is not Terraform 1.5 or newer",
            path.display()
        );
        return Some(path);
    }
    let candidates: Vec<PathBuf> = std::iter::once(PathBuf::from("/usr/local/bin/terraform"))
        .chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join("terraform")),
        )
        .collect();
    let found = candidates
        .iter()
        .find(|path| path.is_file() && version_of(path).is_some_and(|v| v >= (1, 5)))
        .cloned();
    if found.is_none() {
        let message = format!(
            "NO TERRAFORM >= 1.5: none of {candidates:?} is Terraform 1.5 or newer, so import \
             blocks with -generate-config-out were NOT tested. Install one at \
             /usr/local/bin/terraform (the machine image has 1.11.4 there) or set \
             {NEWER_TERRAFORM_ENV}; set {ALLOW_NO_NEWER_ENV}=1 to skip this test knowingly."
        );
        assert!(
            std::env::var(ALLOW_NO_NEWER_ENV).is_ok_and(|value| value == "1"),
            "{message}"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {message}\n");
    }
    found
}

/// Runs the newer `terraform <args>` in `workdir` with the workdir's hermetic environment.
/// Panics with the output unless it exits with one of `codes`.
fn run(terraform: &Path, workdir: &TerraformWorkdir, args: &[&str], codes: &[i32]) -> String {
    let started = Instant::now();
    let mut child = Command::new(terraform)
        .args(args)
        .current_dir(workdir.path())
        .env_clear()
        .envs(workdir.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", terraform.display()));
    let pid = child.id();
    let deadline = started + Duration::from_mins(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "terraform {} (pid {pid}) ran over 5 minutes",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "{} {}: {} (expected {codes:?})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        terraform.display(),
        args.join(" "),
        out.status
    );
    stdout
}

/// `plan -out` then `show -json` with the newer Terraform.
fn plan_json(terraform: &Path, workdir: &TerraformWorkdir) -> Value {
    run(
        terraform,
        workdir,
        &["plan", "-input=false", "-no-color", "-out=generated.tfplan"],
        &[0],
    );
    let shown = run(
        terraform,
        workdir,
        &["show", "-json", "generated.tfplan"],
        &[0],
    );
    serde_json::from_str(&shown).unwrap()
}

/// A launch template (pinned version 1, with user data) and a group on it, made with the SDK as
/// the AWS provider would; an EC2 health check with a 60 s grace period. Returns the template ID.
fn create_foreign_group(aws: &Aws, subnets: &[String]) -> String {
    let data = RequestLaunchTemplateData::builder()
        .image_id(MOTO_AMI)
        .instance_type(InstanceType::T3Micro)
        .user_data(base64::engine::general_purpose::STANDARD.encode(USER_DATA))
        .build();
    let template = aws
        .block_on(
            aws.ec2
                .create_launch_template()
                .launch_template_name(format!("{FOREIGN}-lt"))
                .launch_template_data(data)
                .send(),
        )
        .unwrap();
    let template_id = template
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap()
        .to_owned();
    aws.block_on(
        aws.autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(FOREIGN)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(&template_id)
                    .version("1")
                    .build(),
            )
            .min_size(1)
            .max_size(4)
            .desired_capacity(2)
            .vpc_zone_identifier(subnets.join(","))
            .health_check_type("EC2")
            .health_check_grace_period(60)
            .tags(
                Tag::builder()
                    .key("team")
                    .value("genconfig")
                    .propagate_at_launch(true)
                    .resource_id(FOREIGN)
                    .resource_type("auto-scaling-group")
                    .build(),
            )
            .send(),
    )
    .unwrap();
    template_id
}

/// The fixes the migration guide lists for generated configuration: the real user data for
/// Terraform's `null # sensitive`, `lifecycle { create_before_destroy = true }` in every
/// resource, and no `desired_capacity` where scaling policies own the capacity (both fleets
/// here are autoscaled).
fn apply_documented_fixes(generated: &str) -> String {
    let mut fixed = String::new();
    for line in generated.lines() {
        let attribute = line.split_whitespace().next().unwrap_or_default();
        match attribute {
            "user_data" => {
                assert!(line.ends_with("= null # sensitive"), "{line}");
                fixed.push_str("  user_data = file(\"user-data.sh\")\n");
            }
            "desired_capacity" => {}
            "}" if line == "}" => {
                fixed.push_str("  lifecycle {\n    create_before_destroy = true\n  }\n}\n");
            }
            _ => {
                fixed.push_str(line);
                fixed.push('\n');
            }
        }
    }
    fixed
}

/// A new working directory with only `import` blocks for `(address, id)` (and `user-data.sh`):
/// `terraform plan -generate-config-out=generated.tf`. Returns it and the generated file.
fn generate_config(
    terraform: &Path,
    scenario: &Scenario,
    imports: &[(&str, &str)],
) -> (TerraformWorkdir, String) {
    let importer = scenario.workdir();
    let mut main = hcl::config(&hcl::provider_block(), &[]);
    for (address, id) in imports {
        let _ = write!(main, "\nimport {{\n  to = {address}\n  id = {id:?}\n}}\n");
    }
    importer.write("main.tf", &main);
    importer.write("user-data.sh", USER_DATA);
    run(
        terraform,
        &importer,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-generate-config-out=generated.tf",
        ],
        &[0],
    );
    let generated = std::fs::read_to_string(importer.path().join("generated.tf")).unwrap();
    (importer, generated)
}

#[test]
fn import_block_generated_config_with_documented_fixes_plans_no_replacement() {
    let Some(terraform) = terraform_with_generate_config() else {
        return;
    };
    let scenario = Scenario::start("generate-config");
    let mut fleet = scenario.fleet("web", FLEET);
    fleet.desired_capacity = None;
    fleet.user_data = Some(USER_DATA.to_owned());
    fleet.tags.insert("team".to_owned(), "genconfig".to_owned());
    let address = fleet.address();
    let foreign_address = "immutable_fleet.foreign";

    scenario.step("a first working directory creates a fleet (Terraform 1.0.3)");
    let creator = scenario.workdir();
    scenario.write_config(&creator, &[&fleet]);
    creator.apply(&[]);
    let asg = scenario.aws.fleet_asgs(FLEET).into_iter().next().unwrap();
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    scenario.step("and a group with a launch template is made with the SDK");
    let foreign_template = create_foreign_group(&scenario.aws, &scenario.subnets);

    scenario.step(&format!(
        "a second directory has only import blocks ({asg_name}, {FOREIGN}): \
         plan -generate-config-out"
    ));
    let (importer, generated) = generate_config(
        &terraform,
        &scenario,
        &[(&address, &asg_name), (foreign_address, FOREIGN)],
    );
    eprintln!("--- generated.tf ---\n{generated}");
    assert!(
        generated.contains("= null # sensitive") && !generated.contains("lifecycle"),
        "Terraform writes user_data as null and no lifecycle block:\n{generated}"
    );
    assert!(
        generated.contains("grace_period        = \"1m\""),
        "the foreign group's own grace period (60 s) is read back into health_check, so the \
         first rollout keeps it instead of the 30s default:\n{generated}"
    );

    scenario.step("as generated, the plan replaces both fleets destroy-first");
    let plan = plan_json(&terraform, &importer);
    for resource in [address.as_str(), foreign_address] {
        let change = resource_change(&plan, resource);
        assert_eq!(actions(change), ["delete", "create"], "{change:#}");
        assert_eq!(
            replace_paths(change),
            [vec![Value::from("user_data")]],
            "{change:#}"
        );
    }

    scenario.step("with the migration guide's fixes: imported, no replacement, no change");
    importer.write("generated.tf", &apply_documented_fixes(&generated));
    let plan = plan_json(&terraform, &importer);
    for resource in [address.as_str(), foreign_address] {
        let change = resource_change(&plan, resource);
        assert_eq!(actions(change), ["no-op"], "{resource}: {change:#}");
        assert!(
            change["change"]["importing"].is_object(),
            "{resource} is imported: {change:#}"
        );
    }
    run(
        &terraform,
        &importer,
        &["apply", "-input=false", "-no-color", "generated.tfplan"],
        &[0],
    );
    run(
        &terraform,
        &importer,
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
        &[0],
    );

    scenario.step("destroy from the importing directory");
    run(
        &terraform,
        &importer,
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
        &[0],
    );
    assert!(
        scenario.aws.fleet_asgs(FLEET).is_empty(),
        "no fleet ASG left"
    );
    assert!(
        scenario.aws.asg(FOREIGN).is_none(),
        "the foreign group is gone"
    );
    scenario.aws.delete_launch_template(&foreign_template);
}
