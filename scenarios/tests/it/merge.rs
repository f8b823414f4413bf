//! Partitions, heals and ring unification (Shafaat, Ghodsi and Haridi, P2P
//! 2007; PPNA 2009): the rings merge after every heal, with the simple and
//! the gossip-based algorithm, for Chord and the relaxed ring; a loopy ring
//! is repaired; a false detection dies out.

use crate::support::{number, run_builtin};

/// The run ended on one perfect ring with no inconsistent key.
fn assert_one_perfect_ring(result: &scenarios::runner::RunResult, what: &str) {
    assert_eq!(result.summary.get("perfect_ring"), Some("1"), "{what}");
    assert_eq!(number(result, "inconsistent_key_fraction_end"), 0.0, "{what}");
    let rings = result.timeseries.column_f64("rings");
    assert_eq!(rings.last(), Some(&1.0), "{what}: {rings:?}");
}

#[test]
fn chord_without_ring_unification_stays_split_after_the_heal() {
    // Reference: Shafaat, Ghodsi and Haridi, P2P 2007, §1 — during a
    // partition each side repairs itself into a ring of its own, and
    // periodic stabilization alone does not bring the rings back together
    // once the network heals: that is what ring unification is for.
    let result = run_builtin("merge-two-rings", &["nodes.initial=100", "duration_s=150", "merge.enabled=false"]);
    assert_eq!(number(&result, "rings_max"), 2.0);
    assert_eq!(result.summary.get("merged"), Some("0"));
    assert_eq!(result.summary.get("merge_time_s"), Some(""));
    let rings = result.timeseries.column_f64("rings");
    assert_eq!(rings.last(), Some(&2.0), "{rings:?}");
}

#[test]
fn the_relaxed_ring_keeps_suspected_pointers_and_needs_no_unification_after_a_short_partition() {
    let result = run_builtin(
        "merge-two-rings",
        &["protocol=\"relaxed_ring\"", "nodes.initial=100", "duration_s=120", "merge.enabled=false"],
    );
    // The relaxed ring keeps suspected pointers instead of dropping them,
    // so when the suspicions are retracted at the heal its pointers are
    // whole again: one perfect ring within a sample or two.
    assert!(number(&result, "rings_max") >= 2.0);
    assert_eq!(result.summary.get("merged"), Some("1"));
    let merge_time_s = number(&result, "merge_time_s");
    assert!((0.0..=5.0).contains(&merge_time_s), "{merge_time_s}");
    assert!(number(&result, "merge_messages") > 0.0);
    assert_eq!(number(&result, "unification_messages"), 0.0);
    let quiet = run_builtin("quickstart", &["nodes.initial=100", "duration_s=10"]);
    assert_eq!(quiet.summary.get("merged"), Some(""));
    assert_eq!(quiet.summary.get("merge_messages"), Some(""));
}

#[test]
fn both_rings_merge_after_a_partition_heals_with_simple_and_gossip_unification() {
    for protocol in ["chord", "relaxed_ring"] {
        for fanout in [0, 4] {
            let what = format!("{protocol}, F = {fanout}");
            let result = run_builtin(
                "merge-two-rings",
                &[
                    &format!("protocol=\"{protocol}\""),
                    &format!("merge.fanout={fanout}"),
                    "nodes.initial=120",
                    "duration_s=100",
                ],
            );
            assert!(number(&result, "rings_max") >= 2.0, "{what}");
            assert_eq!(result.summary.get("merged"), Some("1"), "{what}");
            assert!(number(&result, "merge_time_s") <= 10.0, "{what}: {}", number(&result, "merge_time_s"));
            assert!(number(&result, "unification_messages") > 0.0, "{what}");
            assert_one_perfect_ring(&result, &what);
        }
    }
}

#[test]
fn a_single_kick_merges_rings_built_apart_and_gossip_zips_them_faster() {
    // Reference: PPNA 2009 §6 — simple ring unification zips from the one
    // place where the rings met, so its time grows with the ring size;
    // gossip-based unification zips in many places at once, faster, and
    // spends more messages to do so.
    for protocol in ["chord", "relaxed_ring"] {
        let run = |fanout: u32| {
            run_builtin(
                "merge-rings-apart",
                &[
                    &format!("protocol=\"{protocol}\""),
                    &format!("merge.fanout={fanout}"),
                    "nodes.initial=600",
                    "duration_s=40",
                ],
            )
        };
        let (simple, gossip) = (run(0), run(4));
        for (result, what) in [(&simple, "simple"), (&gossip, "gossip")] {
            assert_eq!(result.summary.get("merged"), Some("1"), "{protocol} {what}");
            assert_one_perfect_ring(result, &format!("{protocol} {what}"));
        }
        let (t_simple, t_gossip) = (number(&simple, "merge_time_s"), number(&gossip, "merge_time_s"));
        assert!(t_gossip < t_simple / 2.0, "{protocol}: gossip {t_gossip} s, simple {t_simple} s");
        let (m_simple, m_gossip) = (number(&simple, "unification_messages"), number(&gossip, "unification_messages"));
        assert!(m_gossip > m_simple, "{protocol}: gossip {m_gossip} messages, simple {m_simple}");
    }
}

#[test]
fn a_false_detection_dies_out_quickly_and_cheaply() {
    // Reference: P2P 2007, abstract — "even when falsely detecting a
    // merger, the algorithm quickly terminates and does not clutter the
    // network with many messages".
    for protocol in ["chord", "relaxed_ring"] {
        let result = run_builtin(
            "merge-rings-apart",
            &[
                &format!("protocol=\"{protocol}\""),
                "merge.fanout=4",
                "nodes.rings=1",
                "nodes.initial=300",
                "duration_s=20",
                "events=[{ at_s = 1, kind = \"kick\", count = 10, across = false }]",
            ],
        );
        // Ten kicks, each naming a member of the one ring.
        let mlookups = number(&result, "messages_mlookup");
        let trymerges = number(&result, "messages_trymerge");
        assert!(mlookups > 0.0, "{protocol}: the kicks were followed");
        assert!(mlookups + trymerges <= 10.0 * 40.0, "{protocol}: {mlookups} mlookups, {trymerges} trymerges");
        assert_eq!(result.summary.get("perfect_ring"), Some("1"), "{protocol}");
        assert_eq!(number(&result, "perfect_ring_fraction"), 1.0, "{protocol}");
    }
}

#[test]
fn a_loopy_ring_is_repaired_by_the_loop_check_and_kept_without_it() {
    // Reference: PPNA 2009 §5 — a ring whose successors go around the
    // identifier space twice is stable under stabilization.
    for protocol in ["chord", "relaxed_ring"] {
        let protocol_set = format!("protocol=\"{protocol}\"");
        let repaired = run_builtin("merge-loopy", &[&protocol_set, "nodes.initial=100", "duration_s=30"]);
        assert_one_perfect_ring(&repaired, protocol);
        let kept =
            run_builtin("merge-loopy", &[&protocol_set, "nodes.initial=100", "duration_s=30", "merge.enabled=false"]);
        assert_eq!(number(&kept, "perfect_ring_fraction"), 0.0, "{protocol}");
        assert!(number(&kept, "wrong_successors") >= 90.0, "{protocol}");
    }
}

#[test]
fn rings_merge_after_four_way_and_flapping_partitions_during_churn() {
    let flapping = [
        "events=[{ at_s = 10, kind = \"flapping\", groups = 3, down_s = 8, up_s = 4, cycles = 3 }, \
         { at_s = 45, kind = \"stop_churn\" }]",
        "churn.joins_per_s=0.5",
        "churn.crashes_per_s=0.5",
    ];
    let four_way = ["events=[{ at_s = 10, kind = \"partition\", groups = 4, assign = \"ranges\" }, \
         { at_s = 40, kind = \"heal\" }]"];
    for protocol in ["chord", "relaxed_ring"] {
        let protocol_set = format!("protocol=\"{protocol}\"");
        for (name, events) in [("flapping", &flapping[..]), ("four-way", &four_way[..])] {
            let mut overrides = vec![protocol_set.as_str(), "nodes.initial=100", "duration_s=90"];
            overrides.extend_from_slice(events);
            let result = run_builtin("merge-two-rings", &overrides);
            let what = format!("{protocol}, {name}");
            assert!(number(&result, "rings_max") >= 2.0, "{what}");
            assert_eq!(result.summary.get("merged"), Some("1"), "{what}");
            assert_one_perfect_ring(&result, &what);
        }
    }
}

#[test]
fn the_merge_check_prints_each_failing_seed_with_its_replay_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("check");
    let common = ["sweep", "merge-two-rings", "--seeds", "1..3", "--require-merge-within", "10", "-q", "--out"];
    let split =
        [&common[..], &[out.to_str().unwrap(), "--set", "nodes.initial=60", "--set", "merge.enabled=false"]].concat();
    let failed = crate::support::overlaysim(&split, dir.path());
    assert!(!failed.status.success());
    let stderr = crate::support::stderr(&failed);
    for seed in 1..=3 {
        let replay = format!(
            "seed {seed}: merged never (bound 10 s), perfect ring at the end 0, inconsistent key fraction at the end \
             1, 0 of 1 heals followed by one perfect ring; replay: overlaysim run merge-two-rings --seed {seed} --set 'nodes.initial=60' --set \
             'merge.enabled=false'"
        );
        assert!(stderr.contains(&replay), "{stderr}");
    }
    assert!(stderr.contains("3 of 3 runs did not merge in time"), "{stderr}");
    let out = dir.path().join("merged");
    let merged = [&common[..], &[out.to_str().unwrap(), "--set", "nodes.initial=60"]].concat();
    let passed = crate::support::overlaysim(&merged, dir.path());
    assert!(passed.status.success(), "{}", crate::support::stderr(&passed));
}

#[test]
fn every_seed_of_the_merge_check_converges_after_flapping_partitions_during_churn() {
    // The README runs 1000 seeds per protocol; the test runs the first 100.
    for protocol in ["chord", "relaxed_ring"] {
        let dir = tempfile::tempdir().unwrap();
        let results = merge_check_passes(protocol, "1..100", dir.path());
        assert_eq!(results.rows.len(), 100);
        let rings_max = results.column_f64("rings_max");
        assert!(rings_max.iter().filter(|&&r| r >= 2.0).count() >= 75, "{protocol}: partitions split the ring");
        // Three heals per run, each followed by one perfect ring.
        assert!(results.column_f64("heals").iter().all(|&h| h == 3.0), "{protocol}");
        assert_eq!(results.column_f64("heals"), results.column_f64("heals_merged"), "{protocol}");
    }
}

// Found by the 1000-seed merge check: a joiner's join_ok was lost to a cut,
// and the branch root's hint made the peer behind it take the joiner as
// successor before it had joined; every lookup for the joiner's key then
// ended at the joiner, which drops lookups until it joins. A joiner now
// refuses a fix (`try_later`) and the peer falls back; once joined, the
// joiner names that peer its predecessor, since the peer's fall-back fix
// may have crossed a `pred_no_more` and been forgotten by the root.
#[test]
fn relaxed_ring_merge_check_seed_665_a_joiner_is_not_taken_as_successor_before_it_joined() {
    let dir = tempfile::tempdir().unwrap();
    merge_check_passes("relaxed_ring", "665..665", dir.path());
}

/// `sweep merge-check --seeds SEEDS --require-merge-within 30` with
/// `protocol` passes; its results.
fn merge_check_passes(protocol: &str, seeds: &str, dir: &std::path::Path) -> scenarios::runner::Table {
    let out = dir.join("check");
    let protocol_set = format!("protocol=\"{protocol}\"");
    let args = [
        "sweep",
        "merge-check",
        "--seeds",
        seeds,
        "--require-merge-within",
        "30",
        "-q",
        "--set",
        &protocol_set,
        "--out",
        out.to_str().unwrap(),
    ];
    let check = crate::support::overlaysim(&args, dir);
    assert!(check.status.success(), "{protocol}: {}", crate::support::stderr(&check));
    scenarios::output::read_csv(&out.join("results.csv")).unwrap()
}
