//! Partitions and heals: the merge columns and the baseline behaviour that
//! the ring-unification algorithms will change.

use crate::support::{number, run_builtin};

#[test]
fn chord_without_a_merge_algorithm_stays_split_after_the_heal() {
    // Reference: Shafaat, Ghodsi and Haridi, P2P 2007, §1 — during a
    // partition each side repairs itself into a ring of its own, and
    // periodic stabilization alone does not bring the rings back together
    // once the network heals: that is what ring unification is for.
    let result = run_builtin("merge-two-rings", &["nodes.initial=100", "duration_s=150"]);
    assert_eq!(number(&result, "rings_max"), 2.0);
    assert_eq!(result.summary.get("merged"), Some("0"));
    assert_eq!(result.summary.get("merge_time_s"), Some(""));
    let rings = result.timeseries.column_f64("rings");
    assert_eq!(rings.last(), Some(&2.0), "{rings:?}");
}

#[test]
fn merge_time_is_measured_from_the_heal_and_empty_without_one() {
    let text = scenarios::library::builtin("merge-two-rings")
        .unwrap()
        .replace("protocol = \"chord\"", "protocol = \"relaxed_ring\"")
        .replace(
            "[protocol_params]\nsuccessor_list = 8\nstabilize_every_s = 2\nfix_fingers_every_s = 5\ncheck_predecessor_every_s = 2\n",
            "",
        );
    let overrides = ["nodes.initial=100".to_string(), "duration_s=120".to_string()];
    let scenario = scenarios::config::parse("relaxed.toml", &text, &overrides).unwrap();
    let result = scenarios::cli::run_scenario(&scenario, None, &mut scenarios::runner::Quiet).unwrap();
    // The relaxed ring keeps suspected pointers instead of dropping them,
    // so when the suspicions are retracted at the heal its pointers are
    // whole again: one perfect ring within a sample or two.
    assert!(number(&result, "rings_max") >= 2.0);
    assert_eq!(result.summary.get("merged"), Some("1"));
    let merge_time_s = number(&result, "merge_time_s");
    assert!((0.0..=5.0).contains(&merge_time_s), "{merge_time_s}");
    assert!(number(&result, "merge_messages") > 0.0);
    let quiet = run_builtin("quickstart", &["nodes.initial=100", "duration_s=10"]);
    assert_eq!(quiet.summary.get("merged"), Some(""));
    assert_eq!(quiet.summary.get("merge_messages"), Some(""));
}
