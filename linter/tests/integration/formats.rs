//! Snapshots of every output format over every fixture plan.

use crate::util::{fixture, run};

/// Fixture plans and their exit status (warnings alone exit 0).
const PLANS: &[(&str, u8)] = &[
    ("imm001_in_place_update", 1),
    ("imm002_destroy_before_create", 1),
    ("imm003_runtime_provisioner", 1),
    ("imm004_ungated_replacement", 0),
    ("imm005_ssh_open_to_world", 0),
    ("imm006_mutable_image_reference", 0),
    ("imm007_out_of_band_drift", 1),
    ("opentofu", 1),
    ("clean", 0),
    // Terraform 1.0.0: `resource_drift` entries without `address` (issue #14).
    ("terraform_1_0_0_drift", 1),
    // A template change reaching groups through `$Latest`/`$Default` (issue #14).
    ("launch_template_latest", 1),
    // Autoscaler capacity in `resource_drift` is not drift (issue #14).
    ("autoscaled_drift", 1),
];

const FORMATS: &[&str] = &[
    "human",
    "json",
    "sarif",
    "github",
    "junit",
    "markdown",
    "codequality",
];

pub fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        filters => vec![
            (env!("CARGO_PKG_VERSION"), "[VERSION]"),
            // SARIF's originalUriBaseIds: the repository root, an absolute file URI.
            (r#""uri": "file://[^"]*""#, r#""uri": "[SRCROOT]""#),
            // Paths are relative to the Git work tree (the workspace root); without a `.git`
            // (a source tarball) they are relative to the working directory, the crate root.
            (r#"("uri": "|file=|"path": ")linter/"#, "$1"),
            // Code Quality fingerprints hash that root-relative path, so they differ the same
            // way; `code_quality_fingerprints_ignore_line_moves` checks them instead.
            (r#""fingerprint": "[0-9a-f]{32}""#, r#""fingerprint": "[FINGERPRINT]""#),
        ],
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn every_format_of_every_fixture() {
    for &(plan, expected) in PLANS {
        let path = fixture(&format!("{plan}.json"));
        for format in FORMATS {
            let r = run(&["--no-config", "--color", "never", "--format", format, &path]);
            assert_eq!(r.code, expected, "{plan} --format {format}: {}", r.stderr);
            assert_eq!(r.stderr, "", "{plan} --format {format}");
            snapshot(&format!("{plan}.{format}"), &r.stdout);
        }
    }
}

#[test]
fn every_format_with_source_and_waivers() {
    for format in FORMATS {
        let r = run(&[
            "--config",
            &fixture("waivers.toml"),
            "--source",
            &fixture("source"),
            "--color",
            "never",
            "--format",
            format,
            &fixture("imm001_in_place_update.json"),
        ]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        snapshot(&format!("imm001_with_source.{format}"), &r.stdout);
    }
}

#[test]
fn machine_formats_are_valid_documents() {
    let path = fixture("imm001_in_place_update.json");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["--no-config", "--format", "json", &path]).stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    let first = &json["findings"][0];
    for key in [
        "rule",
        "name",
        "severity",
        "address",
        "resource_type",
        "actions",
        "paths",
        "message",
        "location",
    ] {
        assert!(first.get(key).is_some(), "findings[] lacks {key}");
    }
    assert_eq!(json["summary"]["errors"], 4);
    let sarif: serde_json::Value =
        serde_json::from_str(&run(&["--no-config", "--format", "sarif", &path]).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // Every result's ruleIndex names its rule; every region starts somewhere; every URI is
    // one (no spaces, no backslashes).
    for plan in [
        "imm001_in_place_update",
        "imm003_runtime_provisioner",
        "imm005_ssh_open_to_world",
    ] {
        let sarif: serde_json::Value = serde_json::from_str(
            &run(&[
                "--no-config",
                "--source",
                &fixture("source"),
                "--format",
                "sarif",
                &fixture(&format!("{plan}.json")),
            ])
            .stdout,
        )
        .unwrap();
        let sarif_run = &sarif["runs"][0];
        let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
        for result in sarif_run["results"].as_array().unwrap() {
            let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(rules[index]["id"], result["ruleId"], "{result}");
            let physical = &result["locations"][0]["physicalLocation"];
            if let Some(region) = physical.get("region") {
                assert!(region["startLine"].as_u64().unwrap() >= 1, "{result}");
            }
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.contains([' ', '\\']), "{uri}");
        }
    }
    // GitLab Code Quality: the fields GitLab requires, on every issue.
    let issues: serde_json::Value = serde_json::from_str(
        &run(&[
            "--no-config",
            "--source",
            &fixture("source"),
            "--format",
            "codequality",
            &path,
        ])
        .stdout,
    )
    .unwrap();
    let issues = issues.as_array().unwrap();
    // 4 errors, one waived inline in the source (waived findings are left out).
    assert_eq!(issues.len(), 3, "{issues:#?}");
    let mut fingerprints = std::collections::BTreeSet::new();
    for issue in issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[key].is_string(), "{key}: {issue}");
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap()),
            "{issue}"
        );
        let path = issue["location"]["path"].as_str().unwrap();
        assert!(!path.is_empty() && !path.starts_with('/'), "{issue}");
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(
            fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_owned()),
            "fingerprints are unique: {issue}"
        );
    }
    let junit = run(&["--no-config", "--format", "junit", &path]).stdout;
    assert!(junit.starts_with("<?xml") && junit.trim_end().ends_with("</testsuites>"));
}

#[test]
fn sensitive_values_never_reach_any_output() {
    // user_data of aws_instance.web is sensitive; its values are "echo old"/"echo new".
    for format in FORMATS {
        let r = run(&[
            "--no-config",
            "--format",
            format,
            &fixture("imm001_in_place_update.json"),
        ]);
        assert!(
            !r.stdout.contains("echo old") && !r.stdout.contains("echo new"),
            "{format} leaks user_data"
        );
        assert!(
            r.stdout.contains("user_data"),
            "{format} should name the sensitive attribute"
        );
    }
}

/// Every rule that quotes a value (IMM004 the timeout, IMM006 images, launch template
/// versions, image families) must not quote a sensitive one. Every sensitive value of the
/// fixture contains "SECRET".
#[test]
fn sensitive_values_quoted_by_rules_never_reach_any_output() {
    for format in FORMATS {
        let r = run(&[
            "--no-config",
            "--format",
            format,
            &fixture("sensitive_values.json"),
        ]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            !r.stdout.contains("SECRET"),
            "{format} leaks:\n{}",
            r.stdout
        );
        assert!(!r.stderr.contains("SECRET"), "{format} leaks on stderr");
    }
    let json: serde_json::Value = serde_json::from_str(
        &run(&[
            "--no-config",
            "--format",
            "json",
            &fixture("sensitive_values.json"),
        ])
        .stdout,
    )
    .unwrap();
    let findings = json["findings"].as_array().unwrap();
    // IMM001, IMM004, 5 × IMM006, IMM007: flagged all the same, values withheld.
    assert_eq!(findings.len(), 8, "{findings:#?}");
    for f in findings.iter().filter(|f| f["rule"] == "IMM006") {
        assert_eq!(f["paths"][0]["sensitive"], true, "{f}");
        assert!(f["message"].as_str().unwrap().contains("(sensitive value)"));
    }
}

#[test]
fn strict_mode_reports_benign_updates() {
    let normal = run(&[
        "--no-config",
        "--format",
        "json",
        &fixture("imm001_in_place_update.json"),
    ]);
    let strict = run(&[
        "--no-config",
        "--strict",
        "--format",
        "json",
        &fixture("imm001_in_place_update.json"),
    ]);
    let count = |r: &crate::util::Run| {
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["summary"]["errors"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&normal), 4);
    // + aws_instance.tagged, aws_autoscaling_group.capacity and .refreshed (launch templates stay out)
    assert_eq!(count(&strict), 7);
}

/// GitLab tracks an issue across pipelines by its fingerprint: moving the block down a file
/// must keep it (and its reported line must follow the block).
#[test]
fn code_quality_fingerprints_ignore_line_moves() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    copy_tree(std::path::Path::new(&fixture("source")), &source);
    let lint = || -> serde_json::Value {
        let r = run(&[
            "--no-config",
            "--source",
            source.to_str().unwrap(),
            "--format",
            "codequality",
            &fixture("imm001_in_place_update.json"),
        ]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let before = lint();
    let main_tf = source.join("main.tf");
    let text = std::fs::read_to_string(&main_tf).unwrap();
    std::fs::write(&main_tf, format!("# moved\n\n\n{text}")).unwrap();
    let after = lint();
    let key = |issues: &serde_json::Value| -> Vec<(String, u64)> {
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["fingerprint"].as_str().unwrap().to_owned(),
                    i["location"]["lines"]["begin"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (before, after) = (key(&before), key(&after));
    assert_eq!(before.len(), after.len());
    let mut moved = 0;
    for ((fp_before, line_before), (fp_after, line_after)) in before.iter().zip(&after) {
        assert_eq!(fp_before, fp_after, "the fingerprint survives a line move");
        if line_after != line_before {
            assert_eq!(*line_after, line_before + 3);
            moved += 1;
        }
    }
    assert!(
        moved >= 1,
        "an issue in main.tf moved: {before:?} -> {after:?}"
    );
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
