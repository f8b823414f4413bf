//! A small driver shared by the protocol tests.

use protocols::{LookupOutcome, RingProtocol};
use sim_core::detector::DetectorConfig;
use sim_core::network::{Latency, NetworkConfig};
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::{IdSpace, Message, NodeId, Peer, Protocol, SimConfig, SimTime, Simulation};

/// The PPL 2008 setup: key space 100 000, 5–50 ms links, no loss.
pub fn ppl_engine(seed: u64, detection_delay_ms: u64) -> SimConfig {
    SimConfig {
        seed,
        space: IdSpace::modulus(100_000),
        network: NetworkConfig { latency: Latency::Uniform { min_ms: 5.0, max_ms: 50.0 }, loss: 0.0 },
        detector: DetectorConfig {
            detection_delay: SimTime::from_millis(detection_delay_ms),
            ..DetectorConfig::default()
        },
        ..SimConfig::default()
    }
}

/// Messages of `kind` sent so far.
pub fn sent<P: Protocol>(sim: &Simulation<P>, kind: &str) -> u64 {
    let kinds = <P as Protocol>::Message::KINDS;
    sim.message_counts()[kinds.iter().position(|k| *k == kind).expect("a message kind of the protocol")]
}

/// A simulation of `n` nodes started in the converged state.
pub fn ideal<P: RingProtocol>(config: SimConfig, protocol: P::Config, n: usize) -> Simulation<P> {
    let mut sim = Simulation::new(config, protocol);
    let space = sim.space();
    let mut ids = sim.draw_ring_ids(n);
    ids.sort_unstable();
    let ring: Vec<Peer> = ids.iter().enumerate().map(|(k, &id)| Peer::new(NodeId(k as u32), id)).collect();
    sim.spawn_all_with(&ids, 0, |k, _, c| P::ideal(&ring, k, space, c));
    sim
}

/// A simulation whose `n` nodes join one by one, `interval` apart.
pub fn by_joins<P: RingProtocol>(config: SimConfig, protocol: P::Config, n: usize, interval: SimTime) -> Simulation<P> {
    let mut sim: Simulation<P> = Simulation::new(config, protocol);
    let mut rng = Stream::new(99, Purpose::Bootstrap);
    for k in 0..n {
        sim.run_until(SimTime(interval.0 * k as u64));
        let contact = sim.random_alive(&mut rng, |p: &P| p.is_member());
        sim.spawn(contact);
    }
    sim
}

/// Issues `count` lookups for random keys from random members, runs until
/// `settle` after the last, and returns the outcomes.
pub fn lookups<P: RingProtocol>(
    sim: &mut Simulation<P>,
    count: u64,
    gap: SimTime,
    settle: SimTime,
) -> Vec<LookupOutcome> {
    let mut rng = Stream::new(7, Purpose::Workload);
    let mut outcomes = Vec::new();
    for tag in 0..count {
        let key = sim.space().from_uniform(rng.next_word());
        if let Some(node) = sim.random_alive(&mut rng, |p: &P| p.is_member()) {
            sim.request(node, P::lookup_request(tag, key));
        }
        let next = sim.now() + gap;
        sim.run_until(next);
        outcomes.extend(sim.drain_reports().filter_map(|(_, _, r)| P::lookup_outcome(&r)));
    }
    let end = sim.now() + settle;
    sim.run_until(end);
    outcomes.extend(sim.drain_reports().filter_map(|(_, _, r)| P::lookup_outcome(&r)));
    outcomes
}

/// The first live node at or after `key`.
pub fn true_successor<P: RingProtocol>(sim: &Simulation<P>, key: sim_core::RingId) -> NodeId {
    let ring = sim.ring();
    *ring.range(key..).next().or_else(|| ring.iter().next()).unwrap().1
}

/// Every live node is a member and points at the next live node.
pub fn perfect<P: RingProtocol>(sim: &Simulation<P>) -> bool {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    ring.iter().enumerate().all(|(i, &n)| {
        let next = ring[(i + 1) % ring.len()];
        sim.node(n).is_some_and(|p: &P| p.is_member() && p.successor().is_some_and(|s| s.node == next))
    })
}

/// Every live node's predecessor is the previous live node.
pub fn predecessors_correct<P: RingProtocol>(sim: &Simulation<P>) -> bool {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    ring.iter().enumerate().all(|(i, &n)| {
        let previous = ring[(i + ring.len() - 1) % ring.len()];
        sim.node(n).is_some_and(|p| p.predecessor().is_some_and(|s| s.node == previous))
    })
}

/// Whether two live members claim a common key: each member's claim
/// (pred, self] must not reach back past the previous claimant.
pub fn claims_overlap<P: RingProtocol>(sim: &Simulation<P>) -> bool {
    let space = sim.space();
    let claims: Vec<(sim_core::RingId, sim_core::RingId)> =
        sim.ring().values().filter_map(|&n| sim.node(n).and_then(|p| p.claimed_range())).collect();
    if claims.len() < 2 {
        return false;
    }
    claims.iter().enumerate().any(|(i, &(pred, me))| {
        let (_, previous) = claims[(i + claims.len() - 1) % claims.len()];
        pred == me || space.distance(pred, me) > space.distance(previous, me)
    })
}

/// Members whose successor is not the next live node: the branch starts.
pub fn branch_starts<P: RingProtocol>(sim: &Simulation<P>) -> usize {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    ring.iter()
        .enumerate()
        .filter(|&(i, &n)| {
            let next = ring[(i + 1) % ring.len()];
            sim.node(n).is_some_and(|p| p.successor().is_some_and(|s| s.node != next))
        })
        .count()
}
