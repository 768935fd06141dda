//! Issue #10 item 8: values AWS cannot hold (or would silently change) fail `terraform plan`
//! with a diagnostic at the attribute's source line, before anything is created. They used to
//! pass the plan: 46 user tags failed the apply with `TagLimitExceeded`, long tag values and
//! user data over 16 KB failed at apply, `grace_period = "1000000h"` was clamped to 2^31 s (a
//! difference on every plan) and `timeout = "0.0001ms"` passed the "not zero" check.

use e2e::MOTO_AMI;
use e2e::hcl::{self, HealthCheck};

use crate::Scenario;

/// Terraform's `-no-color` diagnostics: each "Error: …" block up to the next one.
fn error_blocks(stderr: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in stderr.lines() {
        if line.starts_with("Error: ") || line.starts_with("Warning: ") {
            blocks.push(String::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// The source line Terraform quotes in a diagnostic (`  12:   min_size = 3`), trimmed.
fn quoted_source(block: &str) -> Option<&str> {
    block.lines().find_map(|line| {
        let (number, code) = line.trim_start().split_once(':')?;
        (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then(|| code.trim())
    })
}

#[test]
fn values_aws_cannot_hold_fail_the_plan_at_their_attribute_lines() {
    let scenario = Scenario::start("limits");
    let workdir = scenario.workdir();

    let mut many_tags = scenario.fleet("many_tags", "e2e-limit-tags");
    for i in 0..46 {
        many_tags.tags.insert(format!("k{i:02}"), "v".to_owned());
    }
    let mut big_user_data = scenario.fleet("big_user_data", "e2e-limit-userdata");
    big_user_data.user_data = Some("#".repeat(16 * 1024 + 1));
    let mut long_grace = scenario.fleet("long_grace", "e2e-limit-grace");
    long_grace.health_check = Some(HealthCheck {
        grace_period: "1000000h".to_owned(),
        ..HealthCheck::default()
    });
    let mut tiny_timeout = scenario.fleet("tiny_timeout", "e2e-limit-timeout");
    tiny_timeout.health_check = Some(HealthCheck {
        timeout: "0.0001ms".to_owned(),
        ..HealthCheck::default()
    });
    let fleets = [&many_tags, &big_user_data, &long_grace, &tiny_timeout];
    // A map written one key per line, so that Terraform can quote the offending key's line.
    let long_value = format!(
        "resource \"immutable_fleet\" \"long_tag_value\" {{\n  name          = \"e2e-limit-tagvalue\"\n  \
         image_id      = \"{MOTO_AMI}\"\n  instance_type = \"t3.micro\"\n  subnet_ids    = [\"{}\"]\n  \
         min_size      = 1\n  max_size      = 1\n  tags = {{\n    team  = \"web\"\n    notes = \"{}\"\n  }}\n}}\n",
        scenario.subnets[0],
        "x".repeat(257)
    );
    workdir.write(
        "main.tf",
        &format!(
            "{}\n{long_value}",
            hcl::config(&hcl::provider_block(), &fleets)
        ),
    );

    scenario.step("plan five fleets holding values AWS cannot hold: terraform must exit 1");
    let output = workdir.try_run(&["plan", "-input=false"]);
    assert_eq!(output.code, Some(1), "the plan must fail\n{output}");
    let blocks = error_blocks(&output.stderr);
    let expected = [
        (
            "many_tags",
            "Error: Too many tags",
            "tags",
            "46 tags are set; at most 45 fit",
        ),
        (
            "big_user_data",
            "Error: User data too large",
            "user_data",
            "user_data is 16385 bytes; AWS accepts at most 16384 bytes",
        ),
        (
            "long_grace",
            "Error: Duration too long",
            "grace_period",
            "596523h14m7s",
        ),
        (
            "tiny_timeout",
            "Error: Duration not in whole seconds",
            "timeout",
            "Use \"1s\".",
        ),
        (
            "long_tag_value",
            "Error: Tag value too long",
            "notes",
            "The value of tag \"notes\" has 257 characters",
        ),
    ];
    for (resource, summary, line_starts, detail) in expected {
        let in_resource = format!("in resource \"immutable_fleet\" \"{resource}\":");
        let found = blocks.iter().any(|block| {
            block.starts_with(summary)
                && block.contains(&in_resource)
                && quoted_source(block).is_some_and(|code| code.starts_with(line_starts))
                && block.replace('\n', " ").contains(detail)
        });
        assert!(
            found,
            "no {summary:?} on immutable_fleet.{resource} quoting its `{line_starts}` line and \
             saying {detail:?}\n{output}"
        );
    }
    // Terraform quotes the configuration's source line; the provider's detail never repeats
    // the (sensitive) value.
    let user_data_lines = output
        .stderr
        .lines()
        .filter(|line| line.contains(&"#".repeat(100)))
        .count();
    assert_eq!(user_data_lines, 1, "only the quoted source line\n{output}");
    for fleet in fleets {
        assert!(scenario.aws.fleet_asgs(&fleet.name).is_empty());
    }
}
