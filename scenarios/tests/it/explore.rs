//! Exhaustive exploration of the shipped small configurations: what PPL
//! 2008 §5 claims of the relaxed ring and what it says Chord lacks.

use crate::support::{overlaysim, stderr};
use scenarios::config::ProtocolName;
use scenarios::explore::{Setup, explore_setup};
use sim_core::explore::{ExploreOptions, FaultBudget, TimerPolicy};

fn options() -> ExploreOptions {
    ExploreOptions::default()
}

// Reference: PPL 2008, §5, Theorem 1 (joins never break lookup consistency).
#[test]
fn the_relaxed_ring_join_race_keeps_lookup_consistency_in_every_reachable_state() {
    for protocol in [ProtocolName::RelaxedRing, ProtocolName::Dks] {
        let explored = explore_setup(protocol, Setup::JoinRace, &options()).expect("explorable");
        assert!(explored.violation.is_none(), "{protocol}: {}", explored.violation.unwrap().render());
        assert!(explored.exhaustive, "{protocol}: the whole state space is finite and small");
        // Both joiners join in some order and the ring settles: more than
        // one interleaving was seen, and states with nothing in flight.
        assert!(explored.states > 100 && explored.quiet > 0, "{protocol}: {explored:?}");
    }
}

// Reference: PPL 2008, §2 and §5 (Chord's concurrent joins with periodic
// stabilization break lookup consistency until stabilization catches up).
#[test]
fn chord_with_concurrent_joins_and_lagging_stabilization_breaks_lookup_consistency() {
    let explored = explore_setup(ProtocolName::Chord, Setup::JoinRace, &options()).expect("explorable");
    let counterexample = explored.violation.expect("Chord's join race has a counterexample");
    let trace = counterexample.render();
    assert!(counterexample.violation.starts_with("lookup consistency"), "{trace}");
    assert!(trace.contains("timer Stabilize") && trace.contains("notify"), "stabilization is in the story:\n{trace}");
    // Breadth-first: no shorter trace exists.
    let shorter = ExploreOptions { max_depth: counterexample.steps.len() as u32 - 1, ..options() };
    let explored = explore_setup(ProtocolName::Chord, Setup::JoinRace, &shorter).unwrap();
    assert!(explored.violation.is_none(), "a shorter counterexample exists");
}

// Reference: PPL 2008, §5, Theorem 3 (a crashed branch root can leave two
// peers claiming a range until the branch is repaired).
#[test]
fn a_crashed_branch_root_shows_the_inconsistency_theorem_3_admits() {
    for protocol in [ProtocolName::RelaxedRing, ProtocolName::Dks] {
        let explored = explore_setup(protocol, Setup::BranchRootCrash, &options()).unwrap();
        let counterexample = explored.violation.expect("the branch-root crash is Theorem 3's exception");
        let trace = counterexample.render();
        assert!(trace.contains("suspects n1@32 (it is gone)"), "{protocol}: the root's crash starts it:\n{trace}");
        // The branch peer (16) is one of the two claimants.
        assert!(counterexample.violation.contains("by 16 from"), "{protocol}: {trace}");
    }
}

// Found by this explorer: with two lost messages, a joiner whose join_ok
// was lost asked again, and the repeated join_ok named a stale old
// predecessor, so two peers claimed the same keys. With three, a peer that
// took a hinted successor told its old one `pred_no_more` before its fix
// was answered; the fix was lost, and the old one hinted a peer farther
// back towards the joiner, which took it over the hinted peer. Kept as
// regressions.
#[test]
fn the_relaxed_ring_join_race_survives_three_lost_messages() {
    for (losses, max_depth) in [(2, 40), (3, 64)] {
        let lossy = ExploreOptions { faults: FaultBudget { losses, ..FaultBudget::default() }, max_depth, ..options() };
        let explored = explore_setup(ProtocolName::RelaxedRing, Setup::JoinRace, &lossy).unwrap();
        assert!(explored.violation.is_none(), "{losses} losses: {}", explored.violation.unwrap().render());
        assert!(explored.states > 1000 * u64::from(losses), "losses add paths: {explored:?}");
    }
}

// Reference: PPL 2008, §5, Theorem 2's condition (no false suspicions): one
// false suspicion during the join race is enough to break consistency.
#[test]
fn one_false_suspicion_during_the_join_race_can_break_consistency() {
    let suspicious =
        ExploreOptions { faults: FaultBudget { false_suspicions: 1, ..FaultBudget::default() }, ..options() };
    let explored = explore_setup(ProtocolName::RelaxedRing, Setup::JoinRace, &suspicious).unwrap();
    let counterexample = explored.violation.expect("a false suspicion is outside Theorem 1's model");
    assert!(counterexample.render().contains("falsely"));
}

#[test]
fn timers_that_never_fire_leave_chord_joiners_without_stabilization() {
    let never = ExploreOptions { timers: TimerPolicy::Never, ..options() };
    let explored = explore_setup(ProtocolName::Chord, Setup::JoinRace, &never).unwrap();
    // Without stabilization the joiners only learn their successor: no
    // pointer of a member changes, so nothing can disagree.
    assert!(explored.violation.is_none() && explored.exhaustive, "{explored:?}");
}

#[test]
fn the_command_exits_1_with_a_trace_0_when_it_holds_and_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let chord = overlaysim(&["explore", "--protocol", "chord", "--config", "join-race-3+2"], dir.path());
    assert_eq!(chord.status.code(), Some(1), "{}", stderr(&chord));
    let text = String::from_utf8_lossy(&chord.stdout);
    assert!(text.contains("counterexample") && text.contains("violated: lookup consistency"), "{text}");
    assert!(text.contains("states/s"), "{text}");

    let relaxed = overlaysim(&["explore", "--protocol", "relaxed_ring", "--config", "join-race-3+2"], dir.path());
    assert!(relaxed.status.success(), "{}", stderr(&relaxed));
    assert!(String::from_utf8_lossy(&relaxed.stdout).contains("holds in every reachable state"));

    for bad in [
        &["explore", "--protocol", "kademlia", "--config", "join-race-3+2"][..],
        &["explore", "--protocol", "chord", "--config", "nope"],
        &["explore", "--protocol", "chord", "--config", "join-race-3+2", "--timers", "sometimes"],
        &["explore", "--protocol", "chord", "--config", "join-race-3+2", "--max-depth", "0"],
    ] {
        let output = overlaysim(bad, dir.path());
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {}", stderr(&output));
        assert!(stderr(&output).starts_with("error: --"), "{bad:?}: {}", stderr(&output));
    }
    let list = overlaysim(&["explore", "--list"], dir.path());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("join-race-3+2") && text.contains("branch-root-crash-4"), "{text}");
}
