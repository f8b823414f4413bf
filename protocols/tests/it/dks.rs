//! The DKS-style lock-based join (PPL 2008 §2), at small N.

use crate::harness::{by_joins, claims_overlap, ideal, perfect, ppl_engine, predecessors_correct, sent};
use protocols::dks::{Dks, DksConfig};
use sim_core::{Protocol, SimConfig, SimTime, Simulation};

fn engine(seed: u64) -> SimConfig {
    ppl_engine(seed, 500)
}

#[test]
fn locked_joins_are_atomic_and_serialized() {
    // Reference: PPL 2008 §2 — with the successor locked for the length of
    // a join, concurrent joins never expose a half-done join. 60 peers join
    // 10 ms apart; claims are checked every 10 ms.
    let mut sim: Simulation<Dks> = by_joins(engine(1), DksConfig::default(), 60, SimTime::from_millis(10));
    while sim.now() < SimTime::from_secs(60) {
        let next = sim.now() + SimTime::from_millis(10);
        sim.run_until(next);
        assert!(!claims_overlap(&sim), "two peers claim one key at {}", sim.now());
    }
    assert!(perfect(&sim));
    assert!(predecessors_correct(&sim));
    assert!(sent(&sim, "try_later") > 0, "no join ever met a lock");
}

#[test]
fn a_crashed_joiner_holds_the_lock_until_it_is_suspected() {
    // The price of locks: the responsible peer refuses joins while the lock
    // holder is gone, until its failure detector suspects it.
    let mut sim: Simulation<Dks> = ideal(engine(2), DksConfig::default(), 20);
    let ring: Vec<_> = sim.ring().iter().map(|(&id, &node)| sim_core::Peer::new(node, id)).collect();
    let (p, s) = (ring[5], ring[6]);
    let between = |k: u64| sim_core::RingId(p.id.0 + (s.id.0 - p.id.0) * k / 4);
    // The first joiner asks s, is accepted (s locks), then crashes before p
    // acknowledges: block the joiner's link to p so the acknowledgement
    // cannot come from a new_succ.
    let first = sim.next_node_id();
    sim.block_link(first, p.node);
    sim.spawn_with(between(1), 0, |me, c| Dks::create(me, Some(ring[0]), c));
    sim.run_until(SimTime::from_millis(400));
    assert!(sim.node(first).unwrap().is_member());
    sim.crash(first);
    let second = sim.spawn_with(between(3), 0, |me, c| Dks::create(me, Some(ring[0]), c));
    sim.run_until(SimTime::from_millis(700));
    assert!(!sim.node(second).unwrap().is_member(), "joined through a held lock");
    assert!(sent(&sim, "try_later") > 0);
    sim.run_until(SimTime::from_secs(10));
    assert!(sim.node(second).unwrap().is_member(), "the lock was never released");
    assert!(!claims_overlap(&sim));
}
