//! The gossip family end to end: `run`, `sweep`, `check` and `figures`
//! drive flat push-pull gossip through the same seam as the rings.

use crate::support::{number, overlaysim, refused, run_builtin, stderr};
use std::fs;

/// A quiet population: no churn, no loss.
const QUIET: [&str; 3] = ["churn.joins_per_s=0", "churn.crashes_per_s=0", "network.loss=0"];

#[test]
fn push_pull_reaches_every_node_in_about_log3_n_rounds() {
    let mut overrides = QUIET.to_vec();
    overrides.extend(["nodes.initial=729", "workload.updates_per_s=0.05", "duration_s=205"]);
    let result = run_builtin("gossip-flat", &overrides);
    let updates = number(&result, "updates");
    assert!(updates >= 5.0, "{updates} updates");
    // Without faults every update but the last few reaches every node.
    assert!(number(&result, "updates_complete") >= updates - 2.0);
    // Reference: Karp et al., FOCS 2000, Thm. 2.1 — push-pull with uniform
    // partners needs log3(N) + O(log log N) rounds: log3(729) = 6. Partial
    // views, jitter and latency add a few; a broken exchange (push only,
    // or no view mixing) takes far more.
    let rounds = number(&result, "mean_rounds_to_all");
    assert!((6.0..11.0).contains(&rounds), "{rounds} rounds at N = 729");
    // One exchange and one reply per node and round.
    let per_node_round = number(&result, "messages_per_node_per_round");
    assert!((1.8..2.1).contains(&per_node_round), "{per_node_round}");
    assert!(result.summary.get("perfect_ring").is_none(), "no ring column in a gossip summary");
    assert_eq!(result.hops.header[..2], ["hops", "nodes"]);
}

#[test]
fn check_passes_swarm_seeds_and_catches_a_planted_invented_version() {
    let dir = tempfile::tempdir().unwrap();
    let output = overlaysim(&["check", "check-gossip", "--seeds", "1..40", "--swarm", "--quiet"], dir.path());
    assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), stderr(&output));
    let canary = "protocol_params.gossip.canary_invent_version=true";
    let output = overlaysim(&["check", "check-gossip", "--seeds", "1", "--set", canary], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    // The monitor names the invented version; where the build keeps the
    // protocol's own assertions, a later publish trips one first.
    let caught = text.contains("safety: no invented update")
        || text.contains("safety: assertion: ") && text.contains("is not newer");
    assert!(caught, "{text}");
}

#[test]
fn run_and_sweep_write_gossip_tables_with_their_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let small = ["--set", "nodes.initial=60", "--set", "duration_s=30"];
    let mut args = vec!["run", "gossip-flat", "--out", "one", "--plot", "--quiet"];
    args.extend_from_slice(&small);
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = fs::read_to_string(dir.path().join("one/summary.csv")).unwrap();
    assert!(summary.starts_with("scenario,protocol,seed,") && summary.contains(",gossip,"), "{summary}");
    assert!(summary.lines().next().unwrap().ends_with(",provenance"));
    assert!(dir.path().join("one/timeseries.png").is_file());
    let mut args = vec!["sweep", "gossip-flat", "--vary", "protocol_params.gossip.view_size=4,16", "--seeds", "1..2"];
    args.extend_from_slice(&small);
    args.extend(["--out", "sweep", "--quiet"]);
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let results = fs::read_to_string(dir.path().join("sweep/results.csv")).unwrap();
    assert_eq!(results.lines().count(), 1 + 4, "{results}");
    assert!(results.lines().next().unwrap().contains("mean_rounds_to_all"));
}

#[test]
fn a_quick_gossip_figure_draws_against_log3_n() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["figures", "--quick", "--only", "gossip-rounds", "--out", "fig", "--quiet"];
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("fig/gossip-rounds-1.png").is_file());
    let points = fs::read_to_string(dir.path().join("fig/gossip-rounds.csv")).unwrap();
    // Reference: Karp et al., FOCS 2000 — log3(64) = 3.79, log3(256) = 5.05.
    assert!(points.contains(",3.7856,") && points.contains(",5.0474,"), "{points}");
}

#[test]
fn ring_settings_are_refused_for_gossip_and_updates_for_rings() {
    let dir = tempfile::tempdir().unwrap();
    for (scenario, set, key) in [
        ("gossip-flat", "workload.lookups_per_s=1", "workload.lookups_per_s: is a ring setting"),
        ("gossip-flat", "nodes.connectivity=0.9", "nodes.connectivity: is a ring setting"),
        ("gossip-flat", "output.snapshot_at_s=1", "output.snapshot_at_s: is a ring setting"),
        ("gossip-flat", "merge.fanout=1", "merge: is a ring setting"),
        ("quickstart", "workload.updates_per_s=1", "workload.updates_per_s: protocol chord is a ring"),
    ] {
        refused(&overlaysim(&["run", scenario, "--set", set], dir.path()), &[key]);
    }
    let file = dir.path().join("kick.toml");
    fs::write(
        &file,
        "name = \"kick\"\nprotocol = \"gossip\"\nduration_s = 10\n[nodes]\ninitial = 8\n\
         [[events]]\nat_s = 1\nkind = \"stop_stabilization\"\n",
    )
    .unwrap();
    let output = overlaysim(&["run", file.to_str().unwrap()], dir.path());
    refused(&output, &["kick.toml:8:1: events[0].kind", "`stop_stabilization` is a ring event"]);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "nothing written");
}

#[test]
fn the_library_sweeps_and_checks_without_the_command_line() {
    use scenarios::api::load_scenario;
    use scenarios::sweep::{SweepRequest, Vary, run};
    use scenarios::verify::{CheckRequest, check_seeds};
    let dir = tempfile::tempdir().unwrap();
    let request = SweepRequest {
        file: "gossip-flat".into(),
        overrides: vec!["nodes.initial=40".into(), "duration_s=20".into()],
        vary: vec![Vary::parse("protocol_params.gossip.round_ms=500,1000").unwrap()],
        seeds: vec![1, 2],
        shard: None,
        out: Some(dir.path().join("sweep")),
        jobs: 2,
        quiet: true,
    };
    let report = run(&request).unwrap_or_else(|f| panic!("{}", f.message));
    assert_eq!((report.points.len(), report.run_now, report.rows), (2, 4, 4));
    assert!(report.failures.is_empty());
    let again = run(&request).unwrap_or_else(|f| panic!("{}", f.message));
    assert_eq!((again.done_before, again.run_now), (4, 0), "a finished sweep resumes to nothing");
    let base = load_scenario("check-gossip", &[]).unwrap_or_else(|f| panic!("{}", f.message));
    let request = CheckRequest {
        seeds: (1..=6).collect(),
        swarm: true,
        swarm_without: vec![],
        converge_within_s: 30.0,
        jobs: 2,
        quiet: true,
    };
    let checks = check_seeds("check-gossip", &base, &request).unwrap_or_else(|f| panic!("{}", f.message));
    assert_eq!(checks.iter().map(|c| c.seed).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert!(checks.iter().all(|c| c.outcome.passed() && c.knobs.is_some() && c.outcome.events > 0));
}
