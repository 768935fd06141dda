//! The provider's `endpoints` block takes precedence: `AWS_ENDPOINT_URL` points at a closed
//! loopback port, so only the explicit endpoints can reach moto.

use e2e::{MOTO_AMI, free_loopback_port, hcl};

use crate::Scenario;

const FLEET: &str = "e2e-endpoints";

#[test]
fn explicit_endpoints_reach_moto() {
    let scenario = Scenario::start("endpoints");
    let mut workdir = scenario.workdir();
    let closed = format!("http://127.0.0.1:{}", free_loopback_port());
    workdir.set_env("AWS_ENDPOINT_URL", &closed);
    let fleet = scenario.fleet("this", FLEET);

    scenario.step(&format!(
        "apply with endpoints = moto, AWS_ENDPOINT_URL = {closed}"
    ));
    let provider = hcl::provider_block_with_endpoints(scenario.moto.endpoint());
    workdir.write("main.tf", &hcl::config(&provider, &[&fleet]));
    workdir.apply(&[]);
    scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    workdir.assert_no_changes("with explicit endpoints");

    scenario.step("destroy");
    workdir.destroy(&[]);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty(), "no ASG left");
}
