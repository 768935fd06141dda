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
];

const FORMATS: &[&str] = &["human", "json", "sarif", "github", "junit", "markdown"];

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        filters => vec![
            (env!("CARGO_PKG_VERSION"), "[VERSION]"),
            // SARIF's originalUriBaseIds: the repository root, an absolute file URI.
            (r#""uri": "file://[^"]*""#, r#""uri": "[SRCROOT]""#),
            // Paths are relative to the Git work tree (the workspace root); without a `.git`
            // (a source tarball) they are relative to the working directory, the crate root.
            (r#"("uri": "|file=)linter/"#, "$1"),
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
