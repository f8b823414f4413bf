//! How a ring run's population comes about: the converged ring at once
//! (also as a loopy ring, or as rings built apart), or joins one by one
//! with the PPL 2008 schedule and cut links; the stabilization round of
//! the PPL 2008 Chord baseline; the bootstrap service that gives stuck
//! joiners a fresh contact and small rings a kick.

use crate::config::{ConnectivityPer, JoinVia, Nodes};
use protocols::RingProtocol;
use sim_core::rng::{Draw, Stream};
use sim_core::{NodeId, Peer, RingId, SimTime, Simulation};
use std::collections::{BTreeMap, BTreeSet};

/// The converged initial ring (or loopy ring, or rings built apart).
pub(super) fn spawn_ideal<P: RingProtocol>(sim: &mut Simulation<P>, nodes: &Nodes, bootstrap_rng: &mut Stream) {
    let space = sim.space();
    let initial = nodes.initial as usize;
    let (ids, ring) = crate::runner::initial_peers(sim, nodes);
    let loops = nodes.loops as usize;
    let cycle = loopy_cycle(initial, loops);
    // Rings built apart: each node in a random one, with the converged
    // state of its own ring only.
    let ring_count = nodes.rings as u64;
    let ring_of: Vec<u64> =
        if ring_count > 1 { (0..initial).map(|_| bootstrap_rng.below(ring_count)).collect() } else { Vec::new() };
    let mut apart: Vec<Vec<Peer>> = vec![Vec::new(); ring_count as usize];
    let mut place: Vec<usize> = Vec::with_capacity(ring_of.len());
    for (peer, &of) in ring.iter().zip(&ring_of) {
        place.push(apart[of as usize].len());
        apart[of as usize].push(*peer);
    }
    sim.spawn_all_with(&ids, 0, |k, _, config| {
        if ring_count > 1 {
            return P::ideal(&apart[ring_of[k] as usize], place[k], space, config);
        }
        let mut node = P::ideal(&ring, k, space, config);
        if loops > 1 {
            let (pred, successors) = loopy_neighbours(&ring, &cycle, k, node.successor_list().len());
            node.set_ring_pointers(pred, &successors);
        }
        node
    });
}

/// The order of a ring of `n` nodes (indices in id order) whose successor
/// pointers go around the identifier space `loops` times: the nodes whose
/// index is 0 mod `loops` in id order, then those that are 1 mod `loops`,
/// and so on, each class going around once. `position[k]` is node k's
/// place in `order`.
struct LoopyCycle {
    order: Vec<usize>,
    position: Vec<usize>,
}

fn loopy_cycle(n: usize, loops: usize) -> LoopyCycle {
    if loops <= 1 {
        return LoopyCycle { order: Vec::new(), position: Vec::new() };
    }
    let order: Vec<usize> = (0..loops).flat_map(|class| (class..n).step_by(loops)).collect();
    let mut position = vec![0; n];
    for (at, &k) in order.iter().enumerate() {
        position[k] = at;
    }
    LoopyCycle { order, position }
}

/// Node k's predecessor and first `r` successors along a loopy cycle.
fn loopy_neighbours(ring: &[Peer], cycle: &LoopyCycle, k: usize, r: usize) -> (Peer, Vec<Peer>) {
    let n = cycle.order.len();
    let at = cycle.position[k];
    let pred = ring[cycle.order[(at + n - 1) % n]];
    let successors = (1..n).take(r.max(1)).map(|step| ring[cycle.order[(at + step) % n]]).collect();
    (pred, successors)
}

/// Whether a joiner's link to its predecessor is cut: one draw of
/// `connectivity` per link, or one per direction (see [`ConnectivityPer`]).
fn link_is_cut(nodes: &Nodes, rng: &mut Stream) -> bool {
    let c = nodes.connectivity;
    c < 1.0
        && match nodes.connectivity_per {
            ConnectivityPer::Link => !rng.chance(c),
            // Both draws are always made, so that a run's stream does not
            // depend on the first one's outcome.
            ConnectivityPer::Direction => {
                let forward = rng.chance(c);
                let backward = rng.chance(c);
                !(forward && backward)
            }
        }
}

/// One bootstrap join, through the contact `nodes.join_via` picks. If
/// [`link_is_cut`], the joiner cannot reach its predecessor (the member
/// just before its identifier): the link is cut both ways. False when
/// there was no member to join through: the peer starts the ring.
pub(super) fn bootstrap_join<P: RingProtocol>(
    sim: &mut Simulation<P>,
    rng: &mut Stream,
    contact_rng: &mut Stream,
    nodes: &Nodes,
) -> bool {
    let id = sim.draw_ring_ids(1)[0];
    let mut cut_from = None;
    if link_is_cut(nodes, rng) {
        // The member it will sit behind; joiners still in progress do not count.
        let is_member = |&(_, &n): &(&RingId, &NodeId)| sim.node(n).is_some_and(|p| p.is_member());
        let predecessor = sim
            .ring()
            .range(..id)
            .rev()
            .find(is_member)
            .or_else(|| sim.ring().iter().rev().find(is_member))
            .map(|(_, &n)| n);
        // With one member, its predecessor would be its successor too: cut
        // off from both, it could not join at all (there is no branch root
        // to hang from), and would start a ring of its own.
        let another = sim.ring().iter().filter(is_member).nth(1).is_some();
        if let Some(predecessor) = predecessor.filter(|_| another) {
            let joiner = sim.next_node_id();
            sim.block_link(joiner, predecessor);
            sim.block_link(predecessor, joiner);
            cut_from = Some(predecessor);
        }
    }
    // The contact is a member the joiner can reach.
    let contact = match nodes.join_via {
        JoinVia::Random => sim.random_alive_where(contact_rng, |node, p| p.is_member() && Some(node) != cut_from),
        JoinVia::Nearest => {
            let usable =
                |&(_, &n): &(&RingId, &NodeId)| Some(n) != cut_from && sim.node(n).is_some_and(|p| p.is_member());
            sim.ring().range(..id).rev().find(usable).or_else(|| sim.ring().iter().rev().find(usable)).map(|(_, &n)| n)
        }
    };
    let contact_peer = contact.map(|c| sim.peer(c));
    sim.spawn_with(id, 0, |me, config| P::create(me, contact_peer, config));
    contact.is_some()
}

/// One stabilization round: every member stabilizes once (the PPL 2008
/// Chord baseline's round every s joins).
pub(super) fn stabilization_round<P: RingProtocol>(sim: &mut Simulation<P>) {
    let Some(request) = P::maintenance_request() else { return };
    let mut members: Vec<NodeId> = sim.alive_nodes().to_vec();
    members.sort_unstable();
    for node in members {
        if sim.node(node).is_some_and(|p| p.is_member()) {
            sim.request(node, request.clone());
        }
    }
}

/// `nodes.rejoin_after_s`: a node still joining, or a member whose own
/// successor list shows a ring smaller than the live system (it wraps around
/// to the node, or repeats a peer: alone, or a ring of two or three that no
/// member of the larger ring remembers), for `after` gets a fresh random
/// member as its contact (a join restarted through it, or a kick), and again
/// every `after` while it stays so. The service sees nothing of a node but
/// what the node itself knows, and how many nodes live.
pub(super) fn bootstrap_service<P: RingProtocol>(
    sim: &mut Simulation<P>,
    stuck: &mut BTreeMap<NodeId, SimTime>,
    after: SimTime,
    full_list: usize,
    rng: &mut Stream,
) {
    let now = sim.now();
    let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
    alive.sort_unstable();
    let live = alive.len();
    let now_stuck: Vec<NodeId> = alive
        .into_iter()
        .filter(|&node| {
            sim.node(node).is_some_and(|p| !p.is_member() || ring_seen(node, p.successor_list(), full_list) < live)
        })
        .collect();
    stuck.retain(|node, _| now_stuck.binary_search(node).is_ok());
    for node in now_stuck {
        let since = *stuck.entry(node).or_insert(now);
        if now.saturating_sub(since) < after {
            continue;
        }
        stuck.insert(node, now);
        let Some(contact) = sim.random_alive_where(rng, |n, p| n != node && p.is_member()) else { continue };
        let contact = sim.peer(contact);
        let member = sim.node(node).is_some_and(|p| p.is_member());
        let request = if member { P::kick_request(contact) } else { P::contact_request(contact) };
        if let Some(request) = request {
            sim.request(node, request);
        }
    }
}

/// How large a ring `node`'s successor list shows: the node and every peer
/// up to the first repeat or the node itself, or the node and the whole list
/// when it is shorter than the `full` length kept on a large ring; else
/// `usize::MAX` (the ring is larger than the list).
fn ring_seen(node: NodeId, successors: &[Peer], full: usize) -> usize {
    for (i, peer) in successors.iter().enumerate() {
        if peer.node == node || successors[..i].iter().any(|p| p.node == peer.node) {
            return i + 1;
        }
    }
    if successors.len() < full { successors.len() + 1 } else { usize::MAX }
}

/// The nodes reached from `node` by following successor pointers.
pub(super) fn successor_cycle<P: RingProtocol>(sim: &Simulation<P>, node: NodeId) -> BTreeSet<NodeId> {
    let mut seen = BTreeSet::from([node]);
    let mut at = node;
    while let Some(next) = sim.node(at).and_then(|p| p.successor()).map(|s| s.node) {
        if !sim.is_alive(next) || !seen.insert(next) {
            break;
        }
        at = next;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_service_reads_a_small_ring_from_the_successor_list() {
        let peer = |n: u32| Peer { node: NodeId(n), id: RingId(u64::from(n) * 10) };
        let me = NodeId(1);
        assert_eq!(ring_seen(me, &[], 4), 1, "alone");
        assert_eq!(ring_seen(me, &[peer(1)], 4), 1, "its own successor");
        assert_eq!(ring_seen(me, &[peer(2), peer(1), peer(2), peer(1)], 4), 2, "wraps to itself");
        assert_eq!(ring_seen(me, &[peer(2), peer(3), peer(2)], 4), 3, "repeats a peer");
        assert_eq!(ring_seen(me, &[peer(2)], 4), 2, "shorter than a full list");
        assert_eq!(ring_seen(me, &[peer(2), peer(3), peer(4), peer(5)], 4), usize::MAX, "a full list");
    }

    #[test]
    fn a_loopy_cycle_visits_every_node_once_and_winds_around_the_ring_loops_times() {
        for (n, loops) in [(7, 2), (8, 2), (9, 3), (10, 3)] {
            let cycle = loopy_cycle(n, loops);
            let mut seen = cycle.order.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            // Each step that goes to a lower index wraps past zero once.
            let wraps = (0..n).filter(|&at| cycle.order[(at + 1) % n] < cycle.order[at]).count();
            assert_eq!(wraps, loops, "n = {n}");
        }
    }
}
