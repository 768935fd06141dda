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
        ("source", "cannot read source"),
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
    assert!(
        stdout.contains("::error file=source/modules/app/main.tf,line=6,col=1,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::error file=source/main.tf,line=3,col=1,"),
        "{stdout}"
    );
}
