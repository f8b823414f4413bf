//! Robustness: every protocol's handlers take messages reordered,
//! duplicated, delivered to the wrong node, or long stale; timers that were
//! cancelled or replaced; suspicions and retractions of any peer; and lookups
//! at any time, without panicking (a first slice of issue 6's robustness
//! line: the messages are the protocols' own, not random bytes).
//!
//! No engine here: a chaotic loop calls the handlers directly, keeps every
//! message any handler sent in one pool, and picks what happens next from a
//! seeded stream.

use protocols::RingProtocol;
use protocols::chord::Chord;
use protocols::dks::Dks;
use protocols::merge::{MergeConfig, Merging};
use protocols::palta::{Palta, PaltaConfig};
use protocols::relaxed_ring::RelaxedRing;
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::{Ctx, Effect, IdSpace, NodeId, NodeRng, Peer, RingId, SimTime};

/// Messages kept in flight at most; beyond it a random one is dropped.
const POOL: usize = 4000;

/// Runs `steps` chaotic inputs over a ring of `members` converged nodes and
/// `joiners` nodes joining through them; returns how many handler calls ran
/// and how many of them were message deliveries.
fn chaos<P: RingProtocol>(
    config: P::Config,
    seed: u64,
    members: usize,
    joiners: usize,
    steps: usize,
) -> (usize, usize) {
    let space = IdSpace::bits(16);
    let mut rng = Stream::new(seed, Purpose::Scenario);
    let mut ids: Vec<u64> = Vec::new();
    while ids.len() < members + joiners {
        let id = rng.below(1 << 16);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut sorted = ids[..members].to_vec();
    sorted.sort_unstable();
    let ring: Vec<Peer> = sorted.iter().enumerate().map(|(k, &id)| Peer::new(NodeId(k as u32), RingId(id))).collect();
    let mut nodes: Vec<P> = (0..members).map(|k| P::ideal(&ring, k, space, &config)).collect();
    let mut peers: Vec<Peer> = ring.clone();
    for (j, &id) in ids[members..].iter().enumerate() {
        let me = Peer::new(NodeId((members + j) as u32), RingId(id));
        let contact = ring[rng.below(members as u64) as usize];
        nodes.push(P::create(me, Some(contact), &config));
        peers.push(me);
    }
    let mut rngs: Vec<NodeRng> = (0..nodes.len()).map(|k| NodeRng::from_key(seed ^ k as u64)).collect();
    let mut timers: Vec<Vec<P::Timer>> = vec![Vec::new(); nodes.len()];
    let mut pool: Vec<(NodeId, NodeId, P::Message)> = Vec::new();
    let mut now = SimTime::ZERO;
    let mut effects: Vec<Effect<P>> = Vec::new();
    let mut calls = 0;
    let mut delivered = 0;

    // One handler call at node `at`, its effects kept.
    macro_rules! call {
        ($at:expr, |$node:ident, $ctx:ident| $body:expr) => {{
            let at: usize = $at;
            let mut $ctx = Ctx::new(now, peers[at], space, &config, &mut rngs[at], &mut effects);
            let $node = &mut nodes[at];
            $body;
            calls += 1;
            for effect in effects.drain(..) {
                match effect {
                    Effect::Send { to, message } => pool.push((peers[at].node, to, message)),
                    Effect::SetTimer { timer, .. } if !timers[at].contains(&timer) => timers[at].push(timer),
                    _ => {}
                }
            }
            while pool.len() > POOL {
                let drop = rng.below(pool.len() as u64) as usize;
                pool.swap_remove(drop);
            }
        }};
    }

    for at in 0..nodes.len() {
        call!(at, |node, ctx| node.on_start(&mut ctx));
    }
    for step in 0..steps {
        now += SimTime::from_millis_f64(rng.uniform(0.0, 50.0));
        let at = rng.below(nodes.len() as u64) as usize;
        match rng.below(10) {
            // Deliver an old or new message, maybe to another node, maybe twice.
            0..=5 if !pool.is_empty() => {
                let pick = rng.below(pool.len() as u64) as usize;
                let (from, to, message) = if rng.chance(0.2) { pool[pick].clone() } else { pool.swap_remove(pick) };
                let target = if rng.chance(0.1) { at } else { to.index().min(nodes.len() - 1) };
                if target != from.index() {
                    call!(target, |node, ctx| node.on_message(&mut ctx, from, message));
                    delivered += 1;
                }
            }
            // A timer that may have been cancelled or replaced since.
            6 if !timers[at].is_empty() => {
                let timer = timers[at][rng.below(timers[at].len() as u64) as usize];
                call!(at, |node, ctx| node.on_timer(&mut ctx, timer));
            }
            7 => {
                let peer = peers[rng.below(peers.len() as u64) as usize].node;
                if peer != peers[at].node {
                    if rng.chance(0.5) {
                        call!(at, |node, ctx| node.on_suspect(&mut ctx, peer));
                    } else {
                        call!(at, |node, ctx| node.on_alive(&mut ctx, peer));
                    }
                }
            }
            8 => {
                let key = RingId(rng.below(1 << 16));
                call!(at, |node, ctx| node.on_request(&mut ctx, P::lookup_request(step as u64, key)));
            }
            _ => {
                if let Some(request) = P::maintenance_request() {
                    call!(at, |node, ctx| node.on_request(&mut ctx, request.clone()));
                }
            }
        }
    }
    // The views the oracles read stay readable.
    for node in &nodes {
        let _ = (node.successor_list().len(), node.predecessor(), node.finger_peers().len(), node.connections());
    }
    (calls, delivered)
}

fn every_seed<P: RingProtocol>(config: impl Fn() -> P::Config) {
    // Rings of 1 to 8 members with 0 to 3 joiners: the lone node and the
    // tiny ring are where edge cases live.
    for seed in 1..=200u64 {
        let (members, joiners) = (1 + (seed % 8) as usize, (seed % 4) as usize);
        let (calls, delivered) = chaos::<P>(config(), seed, members, joiners, 3000);
        assert!(calls > 300, "seed {seed}: only {calls} handler calls ran");
        assert!(delivered > 50 || members + joiners == 1, "seed {seed}: only {delivered} messages delivered");
    }
}

#[test]
fn chord_survives_reordered_duplicated_misdelivered_and_stale_inputs() {
    every_seed::<Chord>(Default::default);
}

#[test]
fn the_relaxed_ring_survives_reordered_duplicated_misdelivered_and_stale_inputs() {
    every_seed::<RelaxedRing>(Default::default);
}

#[test]
fn dks_survives_reordered_duplicated_misdelivered_and_stale_inputs() {
    every_seed::<Dks>(Default::default);
}

#[test]
fn palta_survives_reordered_duplicated_misdelivered_and_stale_inputs() {
    every_seed::<Palta>(|| PaltaConfig { omega: 4, ..PaltaConfig::default() });
}

#[test]
fn the_merge_layer_survives_reordered_duplicated_misdelivered_and_stale_inputs() {
    every_seed::<Merging<Chord>>(|| MergeConfig { fanout: 2, ..MergeConfig::default() });
    every_seed::<Merging<RelaxedRing>>(|| MergeConfig { fanout: 2, ..MergeConfig::default() });
}
