//! The rollout benchmark's Markdown tables: the whole apply, the gates' steady reads, the
//! detection latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{GATE_READS, RunResult, is_gate_read, is_read, median};

pub(super) fn rollout_tables(results: &[RunResult]) -> String {
    let mut out = apply_table(results);
    out.push('\n');
    out.push_str(&window_table(results));
    out.push('\n');
    out.push_str(&latency_table(results));
    let errors: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.errors
                .iter()
                .map(move |e| format!("- {} fleets, {}: {e}", r.fleets, r.label))
        })
        .collect();
    if !errors.is_empty() {
        out.push_str("\nErrors reported by Terraform:\n\n");
        for e in errors.iter().take(20) {
            out.push_str(e);
            out.push('\n');
        }
        if errors.len() > 20 {
            let _ = writeln!(out, "- … and {} more", errors.len() - 20);
        }
    }
    out
}

/// The whole apply: outcome, calls by action, the busiest second.
fn apply_table(results: &[RunResult]) -> String {
    let mut out = String::from(
        "#### The whole apply\n\n\
         | fleets | run | exit | wall s | fleets on the new image | rolled back | all calls | throttled answers | peak calls/s (second) | gate reads in that second | peak gate reads/s |",
    );
    for (_, short) in GATE_READS {
        let _ = write!(out, " {short} |");
    }
    out.push_str(" other reads | writes |\n|---|---|---|---|---|---|---|---|---|---|---|");
    out.push_str(&"---|".repeat(GATE_READS.len() + 2));
    out.push('\n');
    for r in results {
        let _ = write!(
            out,
            "| {} | {} | {} | {:.1} | {}/{} | {} | {} | {} | {} ({}) | {} | {} |",
            r.fleets,
            r.label,
            r.exit
                .map_or_else(|| "killed".to_owned(), |c| c.to_string()),
            r.wall.as_secs_f64(),
            r.replaced,
            r.fleets,
            r.rolled_back,
            r.calls.values().sum::<u64>(),
            r.throttled,
            r.peak.calls,
            r.peak.at_s,
            r.peak.gate_reads,
            r.peak.most_gate_reads,
        );
        for (key, _) in GATE_READS {
            let _ = write!(out, " {} |", r.calls.get(key).copied().unwrap_or(0));
        }
        let (reads, writes) = split_others(&r.calls);
        let _ = writeln!(out, " {reads} | {writes} |");
    }
    out
}

/// Rates while only the gates run: from the last new group's creation to T.
fn window_table(results: &[RunResult]) -> String {
    let mut out = String::from(
        "#### While only the gates run (the second half of the hold: from the last new group's creation + hold/2 to T), per second\n\n\
         | fleets | run | window s | gate reads/s | per fleet/s |",
    );
    for (_, short) in GATE_READS {
        let _ = write!(out, " {short} |");
    }
    out.push_str(" other calls/s |\n|---|---|---|---|---|");
    out.push_str(&"---|".repeat(GATE_READS.len() + 1));
    out.push('\n');
    for r in results {
        let secs = r.window.secs.max(f64::EPSILON);
        #[allow(clippy::cast_precision_loss, reason = "call counts are small")]
        let rate = |n: u64| n as f64 / secs;
        let gate: u64 = GATE_READS
            .iter()
            .map(|(key, _)| r.window.calls.get(*key).copied().unwrap_or(0))
            .sum();
        let all: u64 = r.window.calls.values().sum();
        #[allow(clippy::cast_precision_loss, reason = "fleet counts are small")]
        let per_fleet = rate(gate) / r.fleets.max(1) as f64;
        let _ = write!(
            out,
            "| {} | {} | {:.1} | {:.2} | {:.3} |",
            r.fleets,
            r.label,
            r.window.secs,
            rate(gate),
            per_fleet
        );
        for (key, _) in GATE_READS {
            let _ = write!(
                out,
                " {:.2} |",
                rate(r.window.calls.get(key).copied().unwrap_or(0))
            );
        }
        let _ = writeln!(out, " {:.2} |", rate(all - gate));
    }
    out
}

/// Each gate's pass after T: median, max, min.
fn latency_table(results: &[RunResult]) -> String {
    let mut out = String::from(
        "#### Gate detection latency (T: the new targets turn healthy; latency: a fleet's `gate passed` − T)\n\n\
         | fleets | run | gates passed after T | median s | max s | min s | last new group created before T by s |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in results {
        let _ = writeln!(
            out,
            "| {} | {} | {}/{}{} | {:.2} | {:.2} | {:.2} | {:.1} |",
            r.fleets,
            r.label,
            r.latencies.len(),
            r.fleets,
            if r.early > 0 {
                format!(" ({} before T!)", r.early)
            } else {
                String::new()
            },
            median(&r.latencies),
            r.latencies.last().copied().unwrap_or(f64::NAN),
            r.latencies.first().copied().unwrap_or(f64::NAN),
            r.create_margin_s,
        );
    }
    out
}

/// Calls outside the gate columns: (other reads, writes).
pub(super) fn split_others(calls: &BTreeMap<String, u64>) -> (u64, u64) {
    let mut reads = 0;
    let mut writes = 0;
    for (action, n) in calls.iter().filter(|(a, _)| !is_gate_read(a)) {
        if is_read(action) {
            reads += n;
        } else {
            writes += n;
        }
    }
    (reads, writes)
}
