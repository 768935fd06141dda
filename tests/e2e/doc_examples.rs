//! The snippets the registry docs show (`examples/provider/provider.tf`,
//! `examples/resources/immutable_fleet/resource.tf`) are valid configuration for the real
//! Terraform with this provider: `terraform validate` runs the provider's own checks.

use e2e::repo_root;

use crate::Scenario;

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

#[test]
fn registry_doc_examples_pass_terraform_validate() {
    let scenario = Scenario::start("doc-examples");
    let provider = read("examples/provider/provider.tf");
    let resource = read("examples/resources/immutable_fleet/resource.tf");

    scenario.step("terraform validate: provider.tf + resource.tf");
    let workdir = scenario.workdir();
    workdir.write("provider.tf", &provider);
    workdir.write("resource.tf", &resource);
    let out = workdir.run(&["validate", "-no-color"]);
    assert!(out.stdout.contains("Success!"), "{out}");

    scenario.step("the same with a bad image ID fails in the provider's validation");
    let broken = resource.replace("ami-0abcdef1234567890", "ami-nothex");
    assert_ne!(broken, resource, "the example uses the expected image ID");
    workdir.write("resource.tf", &broken);
    let out = workdir.run_expecting(&["validate", "-no-color"], &[1]);
    assert!(out.stderr.contains("Invalid image ID"), "{out}");
}
