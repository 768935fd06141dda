//! The gates' shared reads (`aws::TickReader`) against moto, calls counted per access key at
//! the fault proxy: reads asked for together share one batch of calls, whatever their number;
//! a target group's name and port are read once per process; a throttled call fails only the
//! reads that needed it.

use std::collections::BTreeMap;

use e2e::{Rule, Service};
use futures::future::join_all;
use terraform_provider_immutable::aws::ErrorKind;
use terraform_provider_immutable::aws::tick_reader::Watch;

use crate::fixture::fixture;
use crate::group_reader::{clients, create_groups};

fn count(calls: &BTreeMap<String, u64>, action: &str) -> u64 {
    calls.get(action).copied().unwrap_or(0)
}

/// Sixty gates of one process, each its own group, sharing two target groups and two alarms:
/// one tick costs two DescribeAutoScalingGroups (50 names a call), one DescribeTargetHealth per
/// target group, one DescribeAlarms; the next tick the same, without DescribeTargetGroups.
#[test]
fn sixty_gates_cost_one_batch_of_calls_a_tick() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "ticks-sixty";
    let aws = fx.moto.aws();
    let target_groups = [
        aws.create_target_group("ticks-a"),
        aws.create_target_group("ticks-b"),
    ];
    let alarms = ["ticks-5xx".to_owned(), "ticks-latency".to_owned()];
    for alarm in &alarms {
        aws.put_alarm(alarm);
    }
    let (rounds, calls) = fx.runtime.block_on(async {
        let clients = clients(fx.moto, key).await;
        let names = create_groups(&clients, &fx.subnets[0], "ticks", 60).await;
        let watches: Vec<Watch> = names
            .iter()
            .enumerate()
            .map(|(i, name)| Watch {
                group: Some(name.clone()),
                target_groups: vec![target_groups[i % 2].clone()],
                alarms: alarms.to_vec(),
            })
            .collect();
        let mut rounds = Vec::new();
        let mut calls = Vec::new();
        for _ in 0..2 {
            faults.reset_calls(key);
            let reads = watches.iter().map(|w| clients.ticks.read(w.clone()));
            rounds.push(join_all(reads).await);
            calls.push(faults.calls(key));
        }
        (rounds, calls)
    });

    for (round, readings) in rounds.iter().enumerate() {
        for (i, reading) in readings.iter().enumerate() {
            let reading = reading
                .as_ref()
                .unwrap_or_else(|e| panic!("round {round}, gate {i}: {e}"));
            let group = reading.group.as_ref().expect("the group exists");
            assert_eq!(
                group.auto_scaling_group_name(),
                Some(format!("ticks-{i}").as_str())
            );
            let names: Vec<&str> = reading
                .target_health
                .iter()
                .map(|(tg, _)| tg.name.as_str())
                .collect();
            assert_eq!(names, [["ticks-a", "ticks-b"][i % 2]]);
            let states: Vec<&str> = reading.alarms.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(states, ["ticks-5xx", "ticks-latency"]);
        }
    }
    let first = &calls[0];
    assert_eq!(
        count(first, "autoscaling:DescribeAutoScalingGroups"),
        2,
        "{first:?}"
    );
    assert_eq!(
        count(first, "elasticloadbalancing:DescribeTargetHealth"),
        2,
        "{first:?}"
    );
    assert_eq!(
        count(first, "elasticloadbalancing:DescribeTargetGroups"),
        1,
        "{first:?}"
    );
    assert_eq!(count(first, "monitoring:DescribeAlarms"), 1, "{first:?}");
    assert_eq!(first.values().sum::<u64>(), 6, "nothing else: {first:?}");
    let second = &calls[1];
    assert_eq!(
        count(second, "elasticloadbalancing:DescribeTargetGroups"),
        0,
        "{second:?}"
    );
    assert_eq!(second.values().sum::<u64>(), 5, "{second:?}");
}

/// A target-health call throttled beyond the SDK's retries fails the reads that watch that
/// target group, with a throttling error the gate can tell apart; the other reads of the
/// same tick get their answers.
#[test]
fn a_throttled_call_fails_only_the_reads_that_needed_it() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "ticks-throttled";
    let tg = fx.moto.aws().create_target_group("ticks-throttled");
    faults.add(
        key,
        Rule::throttle(Service::Elbv2).actions(&["DescribeTargetHealth"]),
    );
    let (with_tg, without) = fx.runtime.block_on(async {
        let clients = clients(fx.moto, key).await;
        let names = create_groups(&clients, &fx.subnets[0], "ticks-throttled", 2).await;
        let with_tg = Watch {
            group: Some(names[0].clone()),
            target_groups: vec![tg.clone()],
            alarms: Vec::new(),
        };
        let without = Watch {
            group: Some(names[1].clone()),
            ..Watch::default()
        };
        futures::join!(clients.ticks.read(with_tg), clients.ticks.read(without))
    });
    faults.clear(key);
    let err = with_tg.expect_err("its target health was throttled");
    assert_eq!(err.kind(), ErrorKind::Throttled, "{err}");
    assert_eq!(err.operation, "DescribeTargetHealth");
    let reading = without.expect("no target group, no throttled call");
    assert_eq!(
        reading.group.and_then(|g| g.auto_scaling_group_name),
        Some("ticks-throttled-1".to_owned())
    );
}
