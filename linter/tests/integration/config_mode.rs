//! Configuration mode (`immutable-lint DIR`): snapshots of every format over the configuration
//! fixtures and the examples, exit codes, syntax errors, modules, tfvars and robustness.

use std::path::Path;

use immutable_lint::config::Config;
use immutable_lint::lint::Linter;
use immutable_lint::output::{self, Format, RenderOptions};
use immutable_lint::tfconfig;
use proptest::prelude::*;

use crate::formats::snapshot;
use crate::util::{fixture, process, run};

const FORMATS: &[&str] = &[
    "human",
    "json",
    "sarif",
    "github",
    "junit",
    "markdown",
    "codequality",
];

/// Configuration inputs (extra arguments first), their snapshot name and exit status.
const CONFIGS: &[(&[&str], &str, u8)] = &[
    (&["tests/fixtures/config/findings"], "config_findings", 1),
    (
        &["tests/fixtures/config/tfvars"],
        "config_tfvars_defaults",
        0,
    ),
    (
        &[
            "--var-file",
            "tests/fixtures/config/tfvars/open.tfvars",
            "tests/fixtures/config/tfvars",
        ],
        "config_tfvars_file",
        0,
    ),
    (&["tests/fixtures/config/broken"], "config_syntax_error", 2),
    (&["../examples/quickstart"], "config_example_quickstart", 0),
    (
        &["../examples/existing-codebase"],
        "config_example_existing_codebase",
        0,
    ),
    (
        &[
            "--var-file",
            "../examples/existing-codebase/envs/production.tfvars",
            "../examples/existing-codebase",
        ],
        "config_example_existing_codebase_production",
        0,
    ),
    (
        &["../examples/target-group"],
        "config_example_target_group",
        0,
    ),
];

#[test]
fn every_format_of_every_configuration() {
    for &(args, name, expected) in CONFIGS {
        for format in FORMATS {
            let mut command = vec!["--no-config", "--color", "never", "--format", format];
            command.extend_from_slice(args);
            let r = run(&command);
            assert_eq!(r.code, expected, "{name} --format {format}: {}", r.stderr);
            if expected == 2 {
                assert!(r.stderr.contains("invalid HCL"), "{name}: {}", r.stderr);
            } else {
                assert_eq!(r.stderr, "", "{name} --format {format}");
            }
            snapshot(&format!("{name}.{format}"), &mask_fingerprints(&r.stdout));
        }
    }
}

/// Code Quality fingerprints hash a root-relative path (see `formats.rs`); masked before the
/// snapshot's filters run, since one could contain the version string.
fn mask_fingerprints(text: &str) -> String {
    const KEY: &str = "\"fingerprint\": \"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        out.push_str("[FINGERPRINT]");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn a_syntax_error_is_located_and_does_not_hide_other_findings() {
    let r = run(&["--no-config", "--format", "json", &fixture("config/broken")]);
    assert_eq!(r.code, 2);
    // The diagnostic points at the file, line and column.
    assert!(
        r.stderr
            .contains("tests/fixtures/config/broken/broken.tf:3:3: invalid HCL"),
        "{}",
        r.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "IMM003");
    assert_eq!(
        report["unread_inputs"][0],
        "tests/fixtures/config/broken/broken.tf"
    );
    assert_eq!(report["summary"]["exit_code"], 2);
}

#[test]
fn repeated_resources_are_reported_once_at_their_block() {
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        &fixture("config/findings"),
    ]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let asg: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["address"] == "aws_autoscaling_group.web")
        .collect();
    // for_each over two zones: one finding per rule, at the block.
    assert_eq!(asg.len(), 2);
    for f in asg {
        assert_eq!(f["location"]["line"], 33);
        assert_eq!(f["location"]["column"], 1);
        assert_eq!(f["plan"]["line"], serde_json::Value::Null);
    }
    assert_eq!(report["plans"][0]["kind"], "configuration");
}

#[test]
fn verbose_says_what_was_not_checked_and_why() {
    let r = run(&["--no-config", "-v", &fixture("config/findings")]);
    // Logging goes through the process's stderr, so ask a real process.
    let out = process(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["--no-config", "-v", &fixture("config/findings")],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(r.code, 1);
    assert!(
        stderr.contains("aws_security_group_rule.maybe: IMM005 not checked: from_port")
            && stderr.contains("var.port has no default"),
        "{stderr}"
    );
    assert!(
        stderr.contains("docker_container.unknown_tag: IMM006 not checked"),
        "{stderr}"
    );
}

#[test]
fn downloaded_modules_are_found_through_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let module = root.join(".terraform/modules/bastion");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        root.join("main.tf"),
        "module \"bastion\" {\n  source  = \"example/bastion/aws\"\n  version = \"1.0.0\"\n  cidr    = \"0.0.0.0/0\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        module.join("main.tf"),
        "variable \"cidr\" {}\nresource \"aws_security_group_rule\" \"ssh\" {\n  type        = \"ingress\"\n  from_port   = 22\n  to_port     = 22\n  protocol    = \"tcp\"\n  cidr_blocks = [var.cidr]\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"bastion","Source":"registry/example/bastion/aws","Version":"1.0.0","Dir":".terraform/modules/bastion"}]}"#,
    )
    .unwrap();
    let out = process(root, &["--no-config", "--format", "github", "."], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "::warning file=.terraform/modules/bastion/main.tf,line=2,col=1,title=IMM005"
        ),
        "{stdout}"
    );
}

#[test]
fn waivers_and_inline_ignores_apply_as_in_plan_mode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("waivers.toml"),
        "[[waivers]]\nrule = \"IMM001\"\naddress = \"aws_instance.*\"\nreason = \"bastion goes away in Q3\"\n",
    )
    .unwrap();
    let waivers = dir.path().join("waivers.toml");
    let r = run(&[
        "--config",
        waivers.to_str().unwrap(),
        "--format",
        "json",
        &fixture("config/findings"),
    ]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let suppressed: Vec<(&str, &str)> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["suppressed"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(suppressed.contains(&("IMM001", "config")), "{suppressed:?}");
    assert!(suppressed.contains(&("IMM002", "inline")), "{suppressed:?}");
    let waiver_states: Vec<&str> = report["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["status"].as_str().unwrap())
        .collect();
    assert_eq!(waiver_states, ["applied", "applied"]);
}

#[test]
fn plans_and_directories_mix_and_bad_directories_are_exit_2() {
    let r = run(&[
        "--no-config",
        &fixture("clean.json"),
        "../examples/quickstart",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("in 2 plans (4 resource changes, 1 resource)"),
        "{}",
        r.stdout
    );
    let empty = tempfile::tempdir().unwrap();
    let r = run(&["--no-config", empty.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("has no Terraform files"), "{}", r.stderr);
    let r = run(&[
        "--no-config",
        "--var-file",
        "does-not-exist.tfvars",
        "../examples/quickstart",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does-not-exist.tfvars"), "{}", r.stderr);
}

/// Loads `text` as the only `.tf` (or `.tf.json`) file of `dir`, lints and renders it.
fn lint_text(dir: &Path, name: &str, text: &[u8]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    std::fs::write(dir.join(name), text).unwrap();
    let Ok(configuration) = tfconfig::load(dir, &[]) else {
        return;
    };
    let config = Config::default();
    let mut linter = Linter::new(&config, None, time::macros::date!(2026 - 01 - 01));
    linter.lint_configuration("fuzz", &configuration);
    let report = linter.finish();
    for format in [Format::Human, Format::Json, Format::Sarif, Format::Github] {
        let mut out = Vec::new();
        output::render(
            format,
            &report,
            Some(&configuration.source),
            RenderOptions::default(),
            &mut out,
        )
        .unwrap();
    }
}

fn seed() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/findings/main.tf"),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        lint_text(dir.path(), "main.tf", &bytes);
        lint_text(dir.path(), "main.tf.json", &bytes);
    }

    #[test]
    fn mutated_hcl_never_panics(
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..4),
        insert in "[{}\\[\\]\"$%=#\n a-z0-9.*()]{0,8}",
    ) {
        let mut text = seed().into_bytes();
        for (at, len) in cuts {
            let start = at.index(text.len());
            let end = (start + len.index(16)).min(text.len());
            text.splice(start..end, insert.bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        lint_text(dir.path(), "main.tf", &text);
    }
}

#[test]
fn unknowns_count_zero_sensitive_values_overrides_and_module_loops() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("loop")).unwrap();
    let files: &[(&str, &str)] = &[
        (
            "main.tf",
            r#"
variable "enabled" { default = false }
variable "secret_cidr" {
  default   = "0.0.0.0/0"
  sensitive = true
}
variable "cbd" {}

# Off: a known count of 0.
resource "aws_instance" "off" {
  count = var.enabled ? 1 : 0
  ami   = "ami-1"
}

# create_before_destroy from a variable is not known: not checked.
resource "aws_instance" "unknown_cbd" {
  ami = "ami-1"
  lifecycle {
    create_before_destroy = var.cbd
  }
}

# A sensitive value is never read, so never printed.
resource "aws_security_group_rule" "secret" {
  type        = "ingress"
  from_port   = 22
  to_port     = 22
  protocol    = "tcp"
  cidr_blocks = [var.secret_cidr]
}

# user_data_replace_on_change = true: a new user_data replaces the instance.
resource "aws_instance" "replaced" {
  ami                         = "ami-1"
  user_data                   = "echo hi"
  user_data_replace_on_change = true
  lifecycle {
    create_before_destroy = true
  }
}

module "loop" {
  source = "./loop"
}
"#,
        ),
        // Terraform would merge this into main.tf; configuration mode skips it.
        (
            "override.tf",
            "resource \"aws_instance\" \"replaced\" {\n  user_data_replace_on_change = false\n}\n",
        ),
        (
            "loop/main.tf",
            "module \"again\" {\n  source = \"../loop\"\n}\n",
        ),
        (
            "json.tf.json",
            r#"{"resource": [{"null_resource": {"setup": [{
                "provisioner": [{"file": {"source": "a", "destination": "/b"}}],
                "lifecycle": [{"create_before_destroy": true}]}]}}]}"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    let out = process(root, &["--no-config", "-v", "--format", "json", "."], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["address"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("IMM003".to_owned(), "null_resource.setup".to_owned())],
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("aws_instance.off: count makes no instance"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws_instance.unknown_cbd: IMM002 not checked"),
        "{stderr}"
    );
    assert!(stderr.contains("override files are not merged"), "{stderr}");
    assert!(stderr.contains("calls itself"), "{stderr}");
    assert!(!stdout.contains("0.0.0.0/0") && !stderr.contains("0.0.0.0/0"));
}
