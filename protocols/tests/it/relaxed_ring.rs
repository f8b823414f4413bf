//! The relaxed ring against the claims of PPL 2008, at small N.

use crate::harness::{
    branch_starts, by_joins, claims_overlap, ideal, lookups, perfect, ppl_engine, predecessors_correct, true_successor,
};
use protocols::relaxed_ring::{RelaxedRing, RelaxedRingConfig};
use protocols::{RingProtocol, RingView};
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::{Message, Protocol, SimConfig, SimTime, Simulation};

fn engine(seed: u64) -> SimConfig {
    ppl_engine(seed, 200)
}

/// Runs until `end`, checking after every `step` that no key has two
/// responsible peers; returns how many checks ran.
fn run_checking_consistency(sim: &mut Simulation<RelaxedRing>, end: SimTime, step: SimTime) -> u32 {
    let mut checks = 0;
    while sim.now() < end {
        let next = sim.now() + step;
        sim.run_until(next);
        assert!(!claims_overlap(sim), "two peers claim one key at {}", sim.now());
        checks += 1;
    }
    checks
}

#[test]
fn an_ideal_ring_routes_every_lookup_to_the_responsible_peer() {
    let mut sim: Simulation<RelaxedRing> = ideal(engine(1), RelaxedRingConfig::default(), 200);
    let outcomes = lookups(&mut sim, 300, SimTime::from_millis(5), SimTime::from_secs(5));
    assert_eq!(outcomes.len(), 300);
    for o in &outcomes {
        assert_eq!(o.result.map(|p| p.node), Some(true_successor(&sim, o.key)), "{o:?}");
        assert!(o.hops <= 10, "{o:?}"); // ⌈log2 200⌉ + 1 for reaching the responsible
    }
}

#[test]
fn concurrent_joins_never_break_lookup_consistency() {
    // Reference: PPL 2008, Theorem 1 — a join involves two peers at a time
    // and never leaves a key with two responsible peers. 80 peers join 20 ms
    // apart, far faster than a join completes, so joins overlap.
    for seed in 1..=3 {
        let mut sim: Simulation<RelaxedRing> =
            by_joins(engine(seed), RelaxedRingConfig::default(), 80, SimTime::from_millis(20));
        let checks = run_checking_consistency(&mut sim, SimTime::from_secs(30), SimTime::from_millis(10));
        assert!(checks > 1000);
        assert!(perfect(&sim), "seed {seed}: not one ring after the joins");
        assert!(predecessors_correct(&sim));
        assert_eq!(sim.alive_count(), 80);
    }
}

#[test]
fn a_ring_of_joins_costs_about_four_messages_per_peer() {
    // Reference: PPL 2008, Fig. 9 — join, join_ok, new_succ and the
    // acknowledgement: about 4N messages to build the ring.
    let config = RelaxedRingConfig { fix_fingers_every: SimTime::ZERO, fingers: false, ..RelaxedRingConfig::default() };
    let mut sim: Simulation<RelaxedRing> = by_joins(engine(4), config, 100, SimTime::from_millis(20));
    sim.run_until(SimTime::from_secs(30));
    assert!(perfect(&sim));
    let counts = sim.message_counts();
    let kinds = <RelaxedRing as Protocol>::Message::KINDS;
    let count = |kind: &str| counts[kinds.iter().position(|k| *k == kind).unwrap()];
    let join_messages: u64 = ["join", "join_ok", "new_succ", "pred_no_more"].iter().map(|k| count(k)).sum();
    let n = 99.0; // the first peer does not join
    assert!((join_messages as f64 - 4.0 * n).abs() <= 0.1 * 4.0 * n, "{join_messages} join messages");
}

#[test]
fn a_blocked_link_makes_a_branch_that_lookups_still_reach() {
    // Reference: PPL 2008 §3 and Fig. 5 — a joiner that cannot reach its
    // predecessor stays in a branch; lookups walk down it (the `last` flag)
    // and consistency holds.
    let mut sim: Simulation<RelaxedRing> = ideal(engine(5), RelaxedRingConfig::default(), 30);
    let ring: Vec<_> = sim.ring().iter().map(|(&id, &node)| sim_core::Peer::new(node, id)).collect();
    let (p, r) = (ring[10], ring[11]);
    let joiner_id = sim_core::RingId(p.id.0 + (r.id.0 - p.id.0) / 2);
    let joiner = sim.next_node_id();
    sim.block_link(joiner, p.node);
    sim.block_link(p.node, joiner);
    sim.spawn_with(joiner_id, 0, |me, c| RelaxedRing::create(me, Some(ring[0]), c));
    run_checking_consistency(&mut sim, SimTime::from_secs(10), SimTime::from_millis(10));
    assert!(sim.node(joiner).unwrap().is_member());
    assert_eq!(sim.node(joiner).unwrap().predecessor(), Some(p));
    assert_eq!(sim.node(p.node).unwrap().successor(), Some(r), "p cannot know the joiner");
    assert_eq!(branch_starts(&sim), 1);
    // A lookup for the joiner's key from anywhere reaches the joiner.
    for origin in [ring[0].node, p.node, ring[20].node] {
        sim.request(origin, RelaxedRing::lookup_request(1, joiner_id));
        let until = sim.now() + SimTime::from_secs(2);
        sim.run_until(until);
        let outcome = sim.drain_reports().find_map(|(_, _, r)| RelaxedRing::lookup_outcome(&r)).unwrap();
        assert_eq!(outcome.result.map(|x| x.node), Some(joiner));
    }
}

#[test]
fn a_root_hints_its_branch_when_it_adopts_a_joiner() {
    // Reference: PPL 2008, Fig. 8 — branches stay short (1.5 to 1.8 peers
    // on average) though later joiners land behind them. Here b cannot
    // reach p, so p skips b; c then joins between b and the root r, and p
    // skips both. When d joins at r, r hints p with the closest peer it
    // knows past p, c, and p's branch is b alone again.
    let mut sim: Simulation<RelaxedRing> = ideal(engine(6), RelaxedRingConfig::default(), 30);
    let ring: Vec<_> = sim.ring().iter().map(|(&id, &node)| sim_core::Peer::new(node, id)).collect();
    let (p, r) = (ring[10], ring[11]);
    let at = |quarters: u64| sim_core::RingId(p.id.0 + (r.id.0 - p.id.0) / 4 * quarters);
    let join = |sim: &mut Simulation<RelaxedRing>, id: sim_core::RingId, cut_from: Option<sim_core::NodeId>| {
        let node = sim.next_node_id();
        if let Some(other) = cut_from {
            sim.block_link(node, other);
            sim.block_link(other, node);
        }
        sim.spawn_with(id, 0, |me, c| RelaxedRing::create(me, Some(ring[0]), c));
        let until = sim.now() + SimTime::from_secs(5);
        run_checking_consistency(sim, until, SimTime::from_millis(10));
        assert!(sim.node(node).unwrap().is_member());
        node
    };
    let b = join(&mut sim, at(1), Some(p.node));
    assert_eq!(sim.node(p.node).unwrap().successor(), Some(r), "p cannot know b");
    let c = join(&mut sim, at(2), None);
    assert_eq!(sim.node(b).unwrap().successor().map(|s| s.node), Some(c));
    assert_eq!(sim.node(p.node).unwrap().successor(), Some(r), "r named b to p when c joined");
    let d = join(&mut sim, at(3), None);
    assert_eq!(sim.node(p.node).unwrap().successor().map(|s| s.node), Some(c), "r named c to p when d joined");
    assert_eq!(sim.node(c).unwrap().successor().map(|s| s.node), Some(d));
    assert_eq!(branch_starts(&sim), 1);
}

#[test]
fn simultaneous_crashes_without_false_suspicions_keep_consistency() {
    // Reference: PPL 2008, Theorem 2 — without partitions or false
    // suspicions, failures never leave a key with two responsible peers; the
    // predecessors of crashed peers repair the ring with fix.
    let mut sim: Simulation<RelaxedRing> = ideal(engine(6), RelaxedRingConfig::default(), 60);
    sim.run_until(SimTime::from_secs(1));
    let mut rng = Stream::new(6, Purpose::Scenario);
    let mut alive: Vec<_> = sim.alive_nodes().to_vec();
    alive.sort();
    for _ in 0..12 {
        let victim = alive.swap_remove(rng.below(alive.len() as u64) as usize);
        sim.crash(victim);
    }
    run_checking_consistency(&mut sim, SimTime::from_secs(20), SimTime::from_millis(5));
    assert!(perfect(&sim), "the ring was not repaired");
    assert!(predecessors_correct(&sim));
    let outcomes = lookups(&mut sim, 100, SimTime::from_millis(10), SimTime::from_secs(5));
    assert!(outcomes.iter().all(|o| o.result.map(|p| p.node) == Some(true_successor(&sim, o.key))));
}

#[test]
fn a_retracted_suspicion_of_the_successor_heals_the_ring() {
    // The falsely suspected successor stays responsible for its range (its
    // predecessor pointer did not move), and the alive re-adopts it.
    let mut sim: Simulation<RelaxedRing> = ideal(engine(7), RelaxedRingConfig::default(), 10);
    sim.run_until(SimTime::from_millis(100));
    let ring: Vec<_> = sim.ring().values().copied().collect();
    assert!(sim.suspect(ring[3], ring[4], SimTime::from_secs(1)));
    assert_eq!(sim.node(ring[3]).unwrap().successor().map(|p| p.node), Some(ring[5]));
    run_checking_consistency(&mut sim, SimTime::from_millis(900), SimTime::from_millis(5));
    run_checking_consistency(&mut sim, SimTime::from_secs(5), SimTime::from_millis(5));
    assert!(perfect(&sim));
}

#[test]
fn recovery_survives_message_loss() {
    // One lost fix must not leave a range unclaimed: fix is repeated until
    // fix_ok comes back. 10 % of all messages are lost here.
    let mut config = engine(8);
    config.network.loss = 0.10;
    let mut sim: Simulation<RelaxedRing> = ideal(config, RelaxedRingConfig::default(), 40);
    sim.run_until(SimTime::from_secs(1));
    let mut alive: Vec<_> = sim.alive_nodes().to_vec();
    alive.sort();
    for node in alive.into_iter().step_by(5) {
        sim.crash(node);
    }
    sim.run_until(SimTime::from_secs(60));
    assert!(perfect(&sim), "the ring was not repaired under loss");
    assert!(predecessors_correct(&sim));
}

/// Joins 30 peers 200 ms apart under `loss`; returns how many never joined
/// and whether two peers claim one key at the end.
fn stranded_joiners(seed: u64, loss: f64) -> (usize, bool) {
    let mut config = engine(seed);
    config.network.loss = loss;
    let mut sim: Simulation<RelaxedRing> =
        by_joins(config, RelaxedRingConfig::default(), 30, SimTime::from_millis(200));
    sim.run_until(SimTime::from_secs(120));
    let stranded = sim.alive_nodes().iter().filter(|&&n| !sim.node(n).unwrap().is_member()).count();
    (stranded, claims_overlap(&sim))
}

#[test]
fn a_lost_join_ok_does_not_strand_the_joiner() {
    // The responsible peer adopts the joiner before the joiner hears
    // join_ok. If that message is lost, the joiner asks the same peer again
    // and a repeated join gets join_ok again; a backward route that reaches
    // the joiner itself is answered by the peer after it.
    for seed in 1..=4 {
        for loss in [0.02, 0.05] {
            assert_eq!(stranded_joiners(seed, loss), (0, false), "seed {seed}, loss {loss}");
        }
    }
    // FIXME: at 10–20 % loss in a ring of 30 built by fast joins, the join
    // handshake can still go wrong. A later joiner can take the place of
    // one whose join_ok was lost, and the repeated join_ok then carries no
    // old predecessor; or a peer that is not yet a member processes a fix.
    // The result is a member without a predecessor, a small loop, or (at
    // 20 %) two peers claiming one range, which strands later joiners.
    // Pinned until the handshake is hardened.
    let stranded: usize = (1..=4).map(|seed| stranded_joiners(seed, 0.10).0 + stranded_joiners(seed, 0.20).0).sum();
    assert!(stranded > 0);
}

#[test]
fn a_false_suspicion_of_a_predecessor_can_break_consistency_until_retracted() {
    // Reference: PPL 2008, Theorem 3 — the exception: when both neighbours
    // of b wrongly suspect it, a fixes towards c and c, its predecessor
    // suspected, adopts a; b, alive, still claims (a, b]: two peers claim
    // those keys. When the suspicions are retracted, a takes b back as
    // successor and c takes b back as predecessor.
    let mut sim: Simulation<RelaxedRing> = ideal(engine(10), RelaxedRingConfig::default(), 8);
    sim.run_until(SimTime::from_millis(100));
    let ring: Vec<_> = sim.ring().values().copied().collect();
    let (a, b, c) = (ring[2], ring[3], ring[4]);
    assert!(sim.suspect(c, b, SimTime::from_secs(2)));
    assert!(sim.suspect(a, b, SimTime::from_secs(2)));
    sim.run_until(SimTime::from_millis(1_000));
    assert!(claims_overlap(&sim), "the exception did not show");
    sim.run_until(SimTime::from_secs(5));
    assert!(!claims_overlap(&sim));
    assert!(perfect(&sim));
    assert!(predecessors_correct(&sim));
}

#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "itself in a successor list of others"))]
fn a_successor_list_through_itself_trips_the_local_invariant() {
    use protocols::RingProtocol;
    use protocols::relaxed_ring::{RelaxedRing, RelaxedRingConfig};
    use sim_core::{IdSpace, NodeId, Peer, Protocol, RingId};
    let ring: Vec<Peer> = (0..4u32).map(|i| Peer::new(NodeId(i), RingId(u64::from(i) * 1000))).collect();
    let (config, space) = (RelaxedRingConfig::default(), IdSpace::modulus(4000));
    let mut node = RelaxedRing::ideal(&ring, 0, space, &config);
    node.set_ring_pointers(ring[3], &[ring[1], ring[0]]);
    node.check_invariants(&config, space);
}
