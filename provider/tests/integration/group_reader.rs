//! The refresh read path (`aws::GroupReader`) against moto, with API calls counted per access
//! key at the fault proxy: one snapshot listing serves many concurrent reads, missing groups
//! are confirmed by name, writes of this process void the snapshot, a failed listing falls
//! back to direct reads.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag};
use e2e::{Faults, Moto, Rule, Service};
use terraform_provider_immutable::aws::{AwsClients, ClientSettings, Endpoints};
use terraform_provider_immutable::resources::fleet::TAG_FLEET as FLEET_TAG_KEY;

use crate::fixture::fixture;

const DESCRIBE_GROUPS: &str = "autoscaling:DescribeAutoScalingGroups";

/// Clients like the provider's after Configure, signing with `key` (the proxy counts by it).
pub(crate) async fn clients(moto: &Moto, key: &str) -> AwsClients {
    let endpoint = moto.endpoint().to_owned();
    AwsClients::load(&ClientSettings {
        region: Some("us-east-1".to_owned()),
        endpoints: Endpoints {
            ec2: Some(endpoint.clone()),
            autoscaling: Some(endpoint.clone()),
            elbv2: Some(endpoint.clone()),
            cloudwatch: Some(endpoint),
        },
        credentials: Some(Credentials::new(key, "testing", None, None, "test")),
        inventory_tag: FLEET_TAG_KEY,
    })
    .await
    .unwrap()
}

/// Creates `count` tagged groups named `<prefix>-<i>` (one launch template for all of them),
/// through the test's own clients so that the reader under test sees no write of its own.
pub(crate) async fn create_groups(
    clients: &AwsClients,
    subnet: &str,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let template = clients
        .ec2
        .create_launch_template()
        .launch_template_name(format!("{prefix}-lt"))
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(e2e::MOTO_AMI)
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let template_id = template
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap()
        .to_owned();
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("{prefix}-{i}");
        clients
            .autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(&name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(&template_id)
                    .version("1")
                    .build(),
            )
            .min_size(0)
            .max_size(1)
            .desired_capacity(0)
            .vpc_zone_identifier(subnet)
            .tags(
                Tag::builder()
                    .key(FLEET_TAG_KEY)
                    .value(prefix)
                    .propagate_at_launch(false)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        names.push(name);
    }
    names
}

fn calls(faults: &Faults, key: &str) -> BTreeMap<String, u64> {
    faults.calls(key)
}

fn describe_calls(faults: &Faults, key: &str) -> u64 {
    calls(faults, key)
        .get(DESCRIBE_GROUPS)
        .copied()
        .unwrap_or(0)
}

#[test]
fn concurrent_reads_share_one_listing() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "reader-concurrent";
    fx.runtime.block_on(async {
        let setup = clients(fx.moto, "reader-setup-1").await;
        let names = create_groups(&setup, &fx.subnets[0], "rd-many", 40).await;
        let reader = clients(fx.moto, key).await;
        faults.reset_calls(key);
        let reads = names.iter().map(|name| {
            let groups = reader.groups.clone();
            let name = name.clone();
            tokio::spawn(async move { groups.describe(&name).await })
        });
        for (name, read) in names.iter().zip(futures::future::join_all(reads).await) {
            let group = read.unwrap().unwrap().expect("an existing group is found");
            assert_eq!(group.auto_scaling_group_name(), Some(name.as_str()));
        }
        // The shared moto holds fewer than 100 fleet groups, so the listing is one page; the
        // other tests of this binary may add a second one at most.
        let listed = describe_calls(&faults, key);
        assert!(
            (1..=2).contains(&listed),
            "40 reads should cost one listing, made {listed}: {:?}",
            calls(&faults, key)
        );

        // Someone scales a group by hand; a second read of it in this process sees that,
        // though the snapshot is still young.
        setup
            .autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name(&names[7])
            .desired_capacity(1)
            .send()
            .await
            .unwrap();
        let again = reader.groups.describe(&names[7]).await.unwrap().unwrap();
        assert_eq!(again.desired_capacity(), Some(1));
        assert_eq!(
            describe_calls(&faults, key),
            listed + 1,
            "a re-read goes to AWS"
        );
    });
}

#[test]
fn missing_and_late_groups_are_confirmed_by_name() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "reader-missing";
    fx.runtime.block_on(async {
        let setup = clients(fx.moto, "reader-setup-2").await;
        let names = create_groups(&setup, &fx.subnets[0], "rd-late", 1).await;
        let reader = clients(fx.moto, key).await;
        faults.reset_calls(key);
        assert!(reader.groups.describe(&names[0]).await.unwrap().is_some());
        assert_eq!(describe_calls(&faults, key), 1, "the first read lists");

        // Not in the snapshot and not in AWS: a direct read says so.
        assert!(
            reader
                .groups
                .describe("rd-late-nonexistent")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            describe_calls(&faults, key),
            2,
            "a miss is confirmed by name"
        );

        // Created by someone else after the snapshot: found by the confirming read.
        let late = create_groups(&setup, &fx.subnets[0], "rd-later", 1).await;
        let found = reader.groups.describe(&late[0]).await.unwrap();
        assert_eq!(
            found.as_ref().and_then(|g| g.auto_scaling_group_name()),
            Some(late[0].as_str())
        );
    });
}

#[test]
fn a_write_of_this_process_voids_the_snapshot() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "reader-write";
    fx.runtime.block_on(async {
        let setup = clients(fx.moto, "reader-setup-3").await;
        let names = create_groups(&setup, &fx.subnets[0], "rd-write", 2).await;
        let reader = clients(fx.moto, key).await;
        assert!(reader.groups.describe(&names[0]).await.unwrap().is_some());

        // The provider's own clients delete a group: the snapshot still lists it, but must
        // not be believed any more.
        reader
            .autoscaling
            .delete_auto_scaling_group()
            .auto_scaling_group_name(&names[0])
            .force_delete(true)
            .send()
            .await
            .unwrap();
        faults.reset_calls(key);
        assert!(
            reader.groups.describe(&names[0]).await.unwrap().is_none(),
            "a group this process deleted reads as gone"
        );
        assert!(reader.groups.describe(&names[1]).await.unwrap().is_some());
    });
    assert!(
        describe_calls(&faults, key) >= 1,
        "reads after a write go to AWS again"
    );
}

#[test]
fn a_failed_listing_falls_back_to_direct_reads() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "reader-fail";
    fx.runtime.block_on(async {
        let setup = clients(fx.moto, "reader-setup-4").await;
        let names = create_groups(&setup, &fx.subnets[0], "rd-fail", 2).await;
        let reader = clients(fx.moto, key).await;
        // Only the listing (it has a Filters parameter) fails, and not with a retryable code.
        faults.add(
            key,
            Rule::error(Service::AutoScaling, "AccessDenied", 403)
                .actions(&["DescribeAutoScalingGroups"])
                .param("Filters.member.1.Name", "tag-key"),
        );
        faults.reset_calls(key);
        for name in &names {
            let group = reader.groups.describe(name).await.unwrap();
            assert_eq!(
                group.as_ref().and_then(|g| g.auto_scaling_group_name()),
                Some(name.as_str())
            );
        }
        // Not listed again for every read while the failure is remembered.
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    let fired = faults.fired(key);
    faults.clear(key);
    assert_eq!(fired, 1, "the listing is tried once per snapshot lifetime");
    assert_eq!(
        describe_calls(&faults, key),
        3,
        "one failed listing and one direct read per group: {:?}",
        calls(&faults, key)
    );
}
