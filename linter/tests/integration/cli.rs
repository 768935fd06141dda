//! The binary: exit codes, stdout/stderr separation, inputs.

use std::path::Path;

use crate::util::{fixtures, process};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Diagnostic text with miette's line wrapping and gutters undone, for `contains` checks.
fn flat(bytes: &[u8]) -> String {
    text(bytes)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn exit_codes_and_streams() {
    let dir = fixtures();
    // 0: only warnings; the report is on stdout, stderr stays empty.
    let clean = process(
        &dir,
        &["--no-config", "imm005_ssh_open_to_world.json"],
        None,
    );
    assert_eq!(clean.status.code(), Some(0));
    assert!(text(&clean.stdout).contains("IMM005"));
    assert!(clean.stderr.is_empty(), "{}", text(&clean.stderr));
    // 1: error findings.
    let findings = process(
        &dir,
        &["--no-config", "imm002_destroy_before_create.json"],
        None,
    );
    assert_eq!(findings.status.code(), Some(1));
    assert!(findings.stderr.is_empty());
    // 2: bad input; the diagnostic is on stderr and stdout has no report.
    let bad = process(&dir, &["--no-config", "truncated.json"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(text(&bad.stderr).contains("truncated JSON"));
}

#[test]
fn bad_inputs_are_exit_2_with_a_precise_diagnostic() {
    let dir = fixtures();
    let cases: &[(&str, &str)] = &[
        ("empty.json", "the file is empty"),
        ("truncated.json", "truncated.json:132:"),
        ("human_plan.txt", "human_plan.txt:1:1: not valid JSON"),
        ("state_show.json", "state file, not a plan"),
        ("raw.tfstate", "state file, not a plan"),
        ("format_2.json", "format_version \"2.0\" is not supported"),
        ("does-not-exist.json", "cannot read does-not-exist.json"),
        // A directory is configuration mode; one without Terraform files is an error.
        ("config", "config has no Terraform files"),
    ];
    for (input, needle) in cases {
        let out = process(&dir, &["--no-config", input], None);
        assert_eq!(out.status.code(), Some(2), "{input}");
        let stderr = flat(&out.stderr);
        assert!(stderr.contains(needle), "{input}: {stderr}");
        assert!(!stderr.contains("panicked"), "{input}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{input}: a failed run must not print a report"
        );
    }
}

#[test]
fn one_bad_plan_among_good_ones_still_exits_2() {
    let out = process(
        &fixtures(),
        &["--no-config", "clean.json", "empty.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("1 input could not be read"));
    assert!(text(&out.stderr).contains("empty.json"));
}

#[test]
fn several_plans_and_stdin() {
    let dir = fixtures();
    let stdin = std::fs::read(dir.join("imm002_destroy_before_create.json")).unwrap();
    let out = process(
        &dir,
        &["--no-config", "--format", "json", "clean.json", "-"],
        Some(&stdin),
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["plans"][0]["path"], "clean.json");
    assert_eq!(json["plans"][1]["path"], "<stdin>");
    assert_eq!(json["findings"][0]["plan"]["path"], "<stdin>");
}

#[test]
fn ci_wrapper_lines_around_the_json_are_tolerated() {
    let dir = fixtures();
    let plan = std::fs::read_to_string(dir.join("imm002_destroy_before_create.json")).unwrap();
    let wrapped =
        format!("[command]/usr/bin/terraform show -json tfplan\n{plan}::debug::exitcode: 0\n");
    let out = process(
        &dir,
        &["--no-config", "--format", "json", "-"],
        Some(wrapped.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Line numbers still count the wrapper's first line.
    let immutable_fleet = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "immutable_fleet.web")
        .unwrap();
    assert_eq!(immutable_fleet["plan"]["line"], 10);
}

fn binary_plan(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("tfplan");
    std::fs::write(&path, b"PK\x03\x04\x14\x00\x00\x00binary plan").unwrap();
    path
}

#[test]
fn binary_plan_without_terraform_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    binary_plan(tmp.path());
    let out = process(
        tmp.path(),
        &[
            "--no-config",
            "--terraform-bin",
            "no-such-terraform-binary",
            "tfplan",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = flat(&out.stderr);
    assert!(stderr.contains("binary plan file"), "{stderr}");
    assert!(
        stderr.contains("terraform show -json tfplan > plan.json"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn binary_plan_is_converted_with_terraform_show() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    binary_plan(tmp.path());
    // A stand-in for terraform/tofu that checks its arguments and prints a plan.
    let fake = tmp.path().join("fake-tofu");
    let fixture = fixtures().join("imm002_destroy_before_create.json");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n[ \"$1 $2 $3\" = \"show -json -no-color\" ] || {{ echo \"bad args: $*\" >&2; exit 3; }}\ncat '{}'\n",
            fixture.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = process(
        tmp.path(),
        &[
            "--no-config",
            "--terraform-bin",
            fake.to_str().unwrap(),
            "tfplan",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("immutable_fleet.web would be destroyed"));

    // A failing conversion is an input error with terraform's own message.
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'Error: Failed to load plugin schemas' >&2\nexit 1\n",
    )
    .unwrap();
    let out = process(
        tmp.path(),
        &[
            "--no-config",
            "--terraform-bin",
            fake.to_str().unwrap(),
            "tfplan",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        flat(&out.stderr).contains("Failed to load plugin schemas"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_and_informational_flags() {
    let dir = fixtures();
    let none = process(&dir, &["--no-config"], None);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no plan given"));
    let bad_flag = process(&dir, &["--format", "xml", "clean.json"], None);
    assert_eq!(bad_flag.status.code(), Some(2));
    assert!(bad_flag.stdout.is_empty());
    let help = process(&dir, &["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--source <DIR>"));
    let version = process(&dir, &["--version"], None);
    assert_eq!(version.status.code(), Some(0));
    let rules = process(&dir, &["--list-rules"], None);
    assert_eq!(text(&rules.stdout).lines().count(), 7);
    let types = process(&dir, &["--list-types"], None);
    assert!(text(&types.stdout).contains("immutable_fleet"));
}

#[test]
fn config_is_found_upward_and_errors_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let nested = tmp.path().join("env/prod");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(
        fixtures().join("imm005_ssh_open_to_world.json"),
        nested.join("plan.json"),
    )
    .unwrap();
    // Upward discovery: raising IMM005 to error turns warnings into a failing run.
    std::fs::write(
        tmp.path().join(".immutable-lint.toml"),
        "[rules]\nIMM005 = \"error\"\n",
    )
    .unwrap();
    let out = process(&nested, &["plan.json"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // `off` silences a rule.
    std::fs::write(
        tmp.path().join(".immutable-lint.toml"),
        "[rules]\nssh-open-to-world = \"off\"\n",
    )
    .unwrap();
    let out = process(&nested, &["plan.json"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(!text(&out.stdout).contains("IMM005"));
    // A waiver without a reason is a config error pointing at the entry.
    std::fs::write(
        tmp.path().join(".immutable-lint.toml"),
        "[[waivers]]\nrule = \"IMM005\"\naddress = \"*\"\n",
    )
    .unwrap();
    let out = process(&nested, &["plan.json"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = flat(&out.stderr);
    assert!(
        stderr.contains("a waiver needs a reason") && stderr.contains(".immutable-lint.toml"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn output_file_receives_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("results.sarif");
    let out = process(
        &fixtures(),
        &[
            "--no-config",
            "--format",
            "sarif",
            "--output",
            target.to_str().unwrap(),
            "imm002_destroy_before_create.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
}

#[test]
fn source_locations_follow_local_modules() {
    let out = process(
        &fixtures(),
        &[
            "--no-config",
            "--source",
            "source",
            "--format",
            "github",
            "imm001_in_place_update.json",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    // Relative to the repository root (`linter/tests/fixtures/source/…`), or to the working
    // directory when the tree is not a Git checkout.
    assert!(
        stdout.contains("source/modules/app/main.tf,line=6,col=1,"),
        "{stdout}"
    );
    assert!(stdout.contains("source/main.tf,line=3,col=1,"), "{stdout}");
    assert!(!stdout.contains("file=/"), "{stdout}");
}

/// A workflow step with `working-directory: infra` and `--source .`: GitHub resolves SARIF
/// URIs and annotation paths against the repository root, so they must say `infra/main.tf`,
/// percent-encoded where a URI needs it.
#[test]
fn sarif_and_annotation_paths_are_relative_to_the_repository_root() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let infra = repo.path().join("my infra");
    std::fs::create_dir_all(&infra).unwrap();
    std::fs::copy(fixtures().join("source/main.tf"), infra.join("main.tf")).unwrap();
    std::fs::create_dir_all(infra.join("modules/app")).unwrap();
    std::fs::copy(
        fixtures().join("source/modules/app/main.tf"),
        infra.join("modules/app/main.tf"),
    )
    .unwrap();
    let plan = fixtures().join("imm001_in_place_update.json");
    let plan = plan.to_str().unwrap();
    let github = process(
        &infra,
        &["--no-config", "--source", ".", "--format", "github", plan],
        None,
    );
    let stdout = text(&github.stdout);
    assert!(
        stdout.contains("::error file=my infra/main.tf,line=3,col=1,"),
        "{stdout}"
    );
    let sarif = process(
        &infra,
        &["--no-config", "--source", ".", "--format", "sarif", plan],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let run = &sarif["runs"][0];
    let artifact = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], "my%20infra/main.tf");
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    // The plan lies outside the repository: an absolute file URI.
    let plan_only = process(&infra, &["--no-config", "--format", "sarif", plan], None);
    let plan_only: serde_json::Value = serde_json::from_slice(&plan_only.stdout).unwrap();
    let uri =
        plan_only["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"]
            .as_str()
            .unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/imm001_in_place_update.json"),
        "{uri}"
    );
}

/// SARIF 2.1.0 requires a region to have a start, and a URI to be a URI: a finding from
/// `configuration` with no resource change has no region; standard input has no artifact.
#[test]
fn sarif_locations_are_valid_without_a_position_or_a_file() {
    let plan = r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{"resources":[{"address":"aws_instance.gone","mode":"managed","type":"aws_instance","name":"gone","provisioners":[{"type":"remote-exec"}]}]}}}"#;
    let out = process(
        &fixtures(),
        &["--no-config", "--format", "sarif", "-"],
        Some(plan.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0];
    assert!(location.get("physicalLocation").is_none(), "{location}");
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "aws_instance.gone"
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("plan.json"), plan).unwrap();
    let out = process(
        tmp.path(),
        &["--no-config", "--format", "sarif", "plan.json"],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let physical = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "plan.json");
    assert!(physical.get("region").is_none(), "{physical}");
}

/// An input that could not be read leaves its findings out: SARIF says the run failed.
#[test]
fn sarif_reports_an_unsuccessful_run_when_an_input_is_bad() {
    let out = process(
        &fixtures(),
        &[
            "--no-config",
            "--format",
            "sarif",
            "clean.json",
            "empty.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

/// Windows tools write a UTF-8 byte-order mark, and Windows PowerShell 5's `>` writes UTF-16:
/// both are read, and findings keep the file's line numbers.
#[test]
fn byte_order_marks_and_utf16_plans_are_read() {
    let plan =
        std::fs::read_to_string(fixtures().join("imm002_destroy_before_create.json")).unwrap();
    let expected = process(
        &fixtures(),
        &[
            "--no-config",
            "--format",
            "json",
            "imm002_destroy_before_create.json",
        ],
        None,
    );
    let expected: serde_json::Value = serde_json::from_slice(&expected.stdout).unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(plan.as_bytes());
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in plan.replace('\n', "\r\n").encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    for (name, bytes) in [("bom", bom), ("utf-16", utf16)] {
        let out = process(
            &fixtures(),
            &["--no-config", "--format", "json", "-"],
            Some(&bytes),
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["findings"].as_array().unwrap().len(), 3, "{name}");
        for (got, want) in json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .zip(expected["findings"].as_array().unwrap())
        {
            assert_eq!(got["address"], want["address"], "{name}");
            assert_eq!(got["plan"]["line"], want["plan"]["line"], "{name}");
            assert_eq!(got["plan"]["column"], want["plan"]["column"], "{name}");
        }
    }
}

/// A syntax error in plan JSON that hashicorp/setup-terraform's wrapper surrounded with its
/// own lines is reported at the file's line, not the JSON's.
#[test]
fn syntax_errors_after_wrapper_lines_point_at_the_file_line() {
    let wrapped = "[command]/usr/bin/terraform show -json tfplan\n{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [ x ]\n}\n::debug::exitcode: 0\n";
    let out = process(&fixtures(), &["--no-config", "-"], Some(wrapped.as_bytes()));
    assert_eq!(out.status.code(), Some(2));
    let stderr = flat(&out.stderr);
    assert!(stderr.contains("<stdin>:4:25: not valid JSON"), "{stderr}");
    // Damaged JSON is not blamed on the human-readable plan.
    assert!(stderr.contains("damaged"), "{stderr}");
}

/// A plan that could not be read must not leave a report that looks like a pass: every
/// format names it as a failure, not only the exit status.
#[test]
fn an_unread_input_never_looks_like_a_pass_in_any_format() {
    for (format, needle) in [
        ("human", "1 input could not be read: empty.json"),
        ("json", "\"input_errors\": 1"),
        ("sarif", "\"executionSuccessful\": false"),
        (
            "github",
            "::error title=immutable-lint::empty.json could not be read",
        ),
        ("junit", "<error type=\"input\""),
        ("markdown", "❌ 1 plan could not be read"),
        (
            "codequality",
            "\"check_name\": \"immutable-lint/input-error\"",
        ),
    ] {
        let out = process(
            &fixtures(),
            &[
                "--no-config",
                "--format",
                format,
                "clean.json",
                "empty.json",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{format}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains(needle), "{format}: {stdout}");
        assert!(!stdout.contains("no findings"), "{format}: {stdout}");
    }
}

fn json_findings(out: &std::process::Output) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["findings"].as_array().unwrap().clone()
}

/// (rule, address) of every finding.
fn rule_addresses(findings: &[serde_json::Value]) -> Vec<(String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["address"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Issue #14: Terraform 1.0.0 wrote `resource_drift` entries without `address`; such a plan
/// was rejected with exit 2 ("missing field `address`").
#[test]
fn terraform_1_0_0_drift_entries_without_an_address_are_linted() {
    let out = process(
        &fixtures(),
        &[
            "--no-config",
            "--format",
            "json",
            "terraform_1_0_0_drift.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let findings = json_findings(&out);
    let pairs = rule_addresses(&findings);
    let pair = |rule: &str, address: &str| (rule.to_owned(), address.to_owned());
    assert!(
        pairs.contains(&pair("IMM001", "aws_instance.web")),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&pair("IMM007", "aws_instance.web")),
        "{pairs:?}"
    );
    // The address is built with the module's key and the instance's for_each key.
    assert!(
        pairs.contains(&pair(
            "IMM007",
            r#"module.app["blue"].aws_instance.node["a"]"#
        )),
        "{pairs:?}"
    );
    // Unchanged entries (1.0.0 listed every resource) are not drift.
    assert!(
        !pairs
            .iter()
            .any(|(_, a)| a.starts_with("aws_instance.worker"))
    );
    // The plan position of an entry without address is its `type`.
    let plan = std::fs::read_to_string(fixtures().join("terraform_1_0_0_drift.json")).unwrap();
    let node = findings
        .iter()
        .find(|f| f["rule"] == "IMM007" && f["address"].as_str().unwrap().contains("node"))
        .unwrap();
    let offset = usize::try_from(node["plan"]["byte_offset"].as_u64().unwrap()).unwrap();
    assert!(plan[offset..].starts_with("\"aws_instance\",\"name\":\"node\""));
}

#[test]
fn an_entry_with_neither_address_nor_type_is_exit_2_at_the_entry() {
    let plan = r#"{"format_version":"0.2","resource_changes":[],"resource_drift":[{"name":"web","change":{"actions":["update"]}}]}"#;
    let out = process(&fixtures(), &["--no-config", "-"], Some(plan.as_bytes()));
    assert_eq!(out.status.code(), Some(2));
    let stderr = flat(&out.stderr);
    assert!(
        stderr.contains("a resource change needs an `address`, or a `type` and a `name`"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:1:"), "{stderr}");
}

/// Issue #14: a template change behind `$Latest`/`$Default` was only an IMM006 warning (exit 0).
#[test]
fn a_template_change_behind_latest_or_default_is_an_in_place_update_of_the_group() {
    let out = process(
        &fixtures(),
        &[
            "--no-config",
            "--format",
            "json",
            "launch_template_latest.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let findings = json_findings(&out);
    let imm001: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["rule"] == "IMM001").collect();
    let addresses: Vec<&str> = imm001
        .iter()
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        [
            "aws_autoscaling_group.web",
            // instance_refresh does not start for a new version behind $Latest.
            "aws_autoscaling_group.web_refresh",
            "module.batch.aws_autoscaling_group.this",
        ]
    );
    let web = imm001[0];
    assert!(
        web["message"].as_str().unwrap().contains(
            "aws_launch_template.web gets a new version (image_id) and the group launches $Latest"
        ),
        "{web}"
    );
    assert_eq!(web["paths"][0]["path"], "launch_template.version");
    assert_eq!(web["actions"][0], "no-op");
    let batch = imm001[2];
    assert_eq!(
        batch["paths"][0]["path"],
        "mixed_instances_policy.launch_template.launch_template_specification.version"
    );
    assert!(
        batch["message"]
            .as_str()
            .unwrap()
            .contains("gets a new default version (user_data)")
    );
    // Pinned, tags-only and scaled groups are left alone; IMM006 still warns on $Latest.
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "IMM006" && f["address"] == "aws_autoscaling_group.tools")
    );
}

#[test]
fn a_waiver_covers_a_group_reached_through_its_template() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("waivers.toml");
    std::fs::write(
        &config,
        "[[waivers]]\nrule = \"IMM001\"\naddress = \"*aws_autoscaling_group.*\"\nreason = \"rolled by hand\"\n",
    )
    .unwrap();
    let out = process(
        &fixtures(),
        &[
            "--config",
            config.to_str().unwrap(),
            "launch_template_latest.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// Issue #14: IMM007 fired on every plan of an autoscaled group.
#[test]
fn capacity_drift_of_groups_is_not_out_of_band_drift() {
    let out = process(
        &fixtures(),
        &["--no-config", "--format", "json", "autoscaled_drift.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let findings = json_findings(&out);
    let drift: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["rule"] == "IMM007").collect();
    // immutable_fleet.web (desired_capacity) and aws_autoscaling_group.api (desired_capacity,
    // min_size) drifted in capacity only.
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0]["address"], "aws_autoscaling_group.batch");
    // Its capacity drift is left out; the launch template version, which is baked, is not.
    let paths: Vec<&str> = drift[0]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["launch_template.version"]);
}
