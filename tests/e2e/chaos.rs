//! The seeded fault campaign of issue #16, short: a fixed list of seeds, each a random
//! scenario (fleet settings, changes, faults at random moments) played with the real Terraform
//! CLI against the shared moto behind the fault proxy, and checked against the invariants of
//! RELIABILITY.md (capacity while every apply runs, convergence after the last, no panic, no
//! failure without a diagnostic). The long campaign is `scripts/chaos.sh --runs 200`; its
//! table is in RELIABILITY.md.
//!
//! A seed that broke an invariant becomes a named regression test below, which replays its
//! scenario (`scripts/chaos.sh --replay S` plays it by hand, with its logs kept).

use e2e::Moto;
use e2e::chaos::run_campaign;

/// Seeds of the CI campaign, from the long campaign of RELIABILITY.md: together they injected
/// every fault kind there (a fault whose moment comes after its apply ended is not injected, so
/// a replay can inject fewer), and they play two at a time in one to two minutes on a 2-core
/// machine. Seeds 24 and 28 are the two that found the campaign's own race (a fault on "new"
/// instances that took instances the provider had just gated for new ones; RELIABILITY.md).
const CI_SEEDS: [u64; 6] = [24, 28, 32, 118, 140, 154];

#[test]
fn chaos_short_campaign_keeps_every_invariant() {
    let report = run_campaign(Moto::shared(), &CI_SEEDS, 2);
    eprintln!("{report}");
    assert!(
        report.failed_seeds().is_empty(),
        "the campaign broke invariants (replay a seed with scripts/chaos.sh --replay S):\n{report}"
    );
}

/// Seed 82: Ctrl-C 0.1 s into an apply, before Terraform had installed its handler, so Terraform
/// (or `.venv`'s Python wrapper around it) ended without a word — by the signal, or with exit
/// 255 — before any provider started. The campaign counted that as a failure without a
/// diagnostic; nothing had run. The invariant now exempts exactly that case (interrupted, no
/// output, no provider log line); this replay keeps the rest of the seed's scenario (an alarm
/// failing the create's gate, throttling and 5xx during three replacements with
/// `shrink_previous`) checked.
#[test]
fn chaos_seed_82_ctrl_c_before_terraform_starts_is_not_a_silent_failure() {
    let report = run_campaign(Moto::shared(), &[82], 1);
    eprintln!("{report}");
    assert!(report.failed_seeds().is_empty(), "{report}");
}
