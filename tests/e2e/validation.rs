//! Invalid arguments are rejected before anything is created, with diagnostics that point at
//! the offending attribute (Terraform shows the attribute's source line when the provider's
//! diagnostic carries its path).

use e2e::hcl::Fleet;

use crate::Scenario;

/// A diagnostic block of terraform's `-no-color` output ("Error: …" up to the next one).
fn diagnostics(stderr: &str) -> Vec<String> {
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

/// Whether a diagnostic's source snippet is the line assigning `attribute`, e.g.
/// `  12:   min_size           = 3`.
fn points_at(block: &str, attribute: &str) -> bool {
    block.lines().any(|line| {
        line.trim_start()
            .split_once(':')
            .filter(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(_, code)| code.trim_start().strip_prefix(attribute))
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

#[test]
fn invalid_arguments_fail_with_attribute_paths_and_create_nothing() {
    let scenario = Scenario::start("validation");
    let workdir = scenario.workdir();

    let mut bad_range = scenario.fleet("bad_range", "e2e-invalid-range");
    bad_range.min_size = 3;
    bad_range.max_size = 1;
    bad_range.desired_capacity = None;
    let mut bad_desired = scenario.fleet("bad_desired", "e2e-invalid-desired");
    bad_desired.desired_capacity = Some(5);
    let mut bad_image = scenario.fleet("bad_image", "e2e-invalid-image");
    bad_image.image_id = "not-an-image".to_owned();
    let mut bad_subnets = scenario.fleet("bad_subnets", "e2e-invalid-subnets");
    bad_subnets.subnet_ids = Vec::new();
    let fleets: [(&Fleet, &[&str]); 4] = [
        (&bad_range, &["min_size", "max_size"]),
        (&bad_desired, &["desired_capacity", "max_size"]),
        (&bad_image, &["image_id"]),
        (&bad_subnets, &["subnet_ids"]),
    ];

    scenario.step("apply four invalid fleets: terraform must exit 1");
    scenario.write_config(
        &workdir,
        &[&bad_range, &bad_desired, &bad_image, &bad_subnets],
    );
    let output = workdir.try_run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(
        output.code,
        Some(1),
        "apply of invalid fleets must fail\n{output}"
    );

    let blocks = diagnostics(&output.stderr);
    for (fleet, attributes) in fleets {
        let in_resource = format!("in resource \"immutable_fleet\" \"{}\":", fleet.resource);
        let found = blocks.iter().any(|block| {
            block.starts_with("Error: ")
                && block.contains(&in_resource)
                && attributes
                    .iter()
                    .any(|attribute| points_at(block, attribute))
        });
        assert!(
            found,
            "no error on {} pointing at one of {attributes:?}\n{output}",
            fleet.address()
        );
        assert!(
            scenario.aws.fleet_asgs(&fleet.name).is_empty(),
            "{} created an ASG",
            fleet.name
        );
        assert!(
            scenario.aws.fleet_launch_templates(&fleet.name).is_empty(),
            "{} created a launch template",
            fleet.name
        );
    }
    let state = workdir.show_json(&[]);
    assert!(
        e2e::plan::module_resources(&state["values"]["root_module"]).is_empty(),
        "nothing may enter the state: {state:#}"
    );
}

#[test]
fn diagnostic_parsing_finds_the_attribute_line() {
    let stderr = "\nError: Invalid capacity\n\n  on main.tf line 12, in resource \"immutable_fleet\" \"bad_range\":\n  12:   min_size           = 3\n\nmin_size must not exceed max_size\n\nError: Other\n\n  on main.tf line 3:\n   3:   min_size_extra = 1\n";
    let blocks = diagnostics(stderr);
    assert_eq!(blocks.len(), 2);
    assert!(points_at(&blocks[0], "min_size"));
    assert!(!points_at(&blocks[0], "max_size"));
    assert!(
        !points_at(&blocks[1], "min_size"),
        "min_size_extra is another attribute"
    );
}
