//! What every ring protocol shows the oracles, and what the runner asks of it.
//!
//! The oracles in `scenarios` measure Chord, DKS and the relaxed ring the same
//! way through [`RingView`]: a node's identifier, predecessor, successor list
//! and fingers, read without the node's knowledge (the oracle view that real
//! systems never have). [`RingProtocol`] adds what the runner needs to drive
//! any ring: build the converged ("ideal") state for stable-network
//! experiments, issue a lookup, read a lookup's outcome, and flip global
//! switches such as stopping stabilization.

use sim_core::{Ctx, IdSpace, NodeId, Peer, Protocol, RingId, SimTime};
use smallvec::SmallVec;
use std::sync::Arc;

/// Read-only view of a ring node's pointers (membership is
/// [`Protocol::is_member`]).
pub trait RingView: Protocol {
    fn ring_id(&self) -> RingId;
    fn predecessor(&self) -> Option<Peer>;
    /// The successor list, closest first; empty when the node knows none.
    fn successor_list(&self) -> &[Peer];
    fn successor(&self) -> Option<Peer> {
        self.successor_list().first().copied()
    }
    /// Distinct long-range pointers, in no particular order.
    fn finger_peers(&self) -> Vec<Peer>;
    /// Active connections: the distinct peers this node keeps pointers to
    /// (PALTA 2008's connections per peer).
    fn connections(&self) -> usize {
        let me = self.ring_id();
        let mut peers: Vec<NodeId> = self.predecessor().iter().chain(self.successor_list()).map(|p| p.node).collect();
        peers.extend(self.finger_peers().iter().map(|p| p.node));
        let own = self.successor_list().iter().chain(self.predecessor().iter()).find(|p| p.id == me).map(|p| p.node);
        peers.retain(|&n| Some(n) != own);
        peers.sort_unstable();
        peers.dedup();
        peers.len()
    }
    /// The range of keys this node believes it is responsible for, as the
    /// half-open interval (pred, self]; None when it claims nothing.
    fn claimed_range(&self) -> Option<(RingId, RingId)> {
        if !self.is_member() {
            return None;
        }
        self.predecessor().map(|p| (p.id, self.ring_id()))
    }
    /// The keys whose lookups this node ends, as the half-open interval
    /// (from, to], and the node it names responsible for them: what lookup
    /// consistency is about. By default a node answers for its claimed
    /// range and names itself; Chord answers for (self, succ] and names
    /// its successor.
    fn lookup_answers(&self) -> Option<LookupAnswers> {
        self.claimed_range().map(|(from, to)| LookupAnswers { from, to, names: to })
    }
    /// Whether the node claims never to keep as successor a peer its
    /// failure detector suspects (every ring peer does; a PALTA mesh peer,
    /// whose ring pointers are derived from its member list, does not).
    fn drops_suspected_successor(&self) -> bool {
        true
    }
}

/// Keys (from, to] and the node (by ring id) a lookup for them ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupAnswers {
    pub from: RingId,
    pub to: RingId,
    pub names: RingId,
}

/// A key for which two nodes' lookups would name different responsible
/// nodes, if any: lookup consistency (PPL 2008 §5) fails there.
pub fn lookup_conflict(space: IdSpace, answers: &[LookupAnswers]) -> Option<(RingId, LookupAnswers, LookupAnswers)> {
    // (a, b] ∩ (c, d] is empty or contains b or d, so the two right ends
    // are the only witnesses to try.
    let covers = |arc: &LookupAnswers, key: RingId| arc.from == arc.to || space.in_open_closed(key, arc.from, arc.to);
    for (i, first) in answers.iter().enumerate() {
        for second in &answers[i + 1..] {
            if first.names == second.names {
                continue;
            }
            for key in [first.to, second.to] {
                if covers(first, key) && covers(second, key) {
                    return Some((key, *first, *second));
                }
            }
        }
    }
    None
}

/// The outcome of one lookup, as reported by the node that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LookupOutcome {
    /// The tag the runner gave the request.
    pub tag: u64,
    pub key: RingId,
    /// The node the lookup named responsible, or None when it failed.
    pub result: Option<Peer>,
    /// Nodes traversed, counted as the Chord paper counts path length.
    pub hops: u32,
    pub timeouts: u32,
    pub latency: SimTime,
}

/// Global switches a scenario may flip mid-run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    StopStabilization,
    StartStabilization,
}

/// A ring protocol the generic runner and oracles can drive.
pub trait RingProtocol: RingView {
    /// The converged state for node `index` of `ring` (sorted by id): correct
    /// predecessor, successor list and fingers.
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &Self::Config) -> Self;
    /// Replaces the node's ring pointers (predecessor and successor list)
    /// and keeps everything else: builds rings that are wrong on purpose,
    /// such as a loopy ring.
    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]);
    fn lookup_request(tag: u64, key: RingId) -> Self::Request;
    /// One round of periodic maintenance at a node, if the protocol has any
    /// (the PPL 2008 Chord baseline stabilizes all nodes every s joins).
    fn maintenance_request() -> Option<Self::Request> {
        None
    }
    /// Gives the node `contact` to try as a member of another ring (an
    /// external kick), if the protocol can merge rings.
    fn kick_request(_contact: Peer) -> Option<Self::Request> {
        None
    }
    /// Gives a node still joining a fresh contact to join through (the
    /// bootstrap service a joiner asks again when its contact is gone), if
    /// the protocol takes one.
    fn contact_request(_contact: Peer) -> Option<Self::Request> {
        None
    }
    /// The message kinds the protocol's paper counts as the cost of
    /// building the ring (PPL 2008 Figs. 9 and 11).
    const BUILD_KINDS: &'static [&'static str];
    /// The message kinds that shorten branches (PPL 2008 Fig. 9).
    const HINT_KINDS: &'static [&'static str] = &[];
    fn lookup_outcome(report: &Self::Report) -> Option<LookupOutcome>;
    fn control(config: &mut Self::Config, control: Control);
    /// Whether the protocol claims lookup consistency (no key with two
    /// responsible peers, [`lookup_conflict`]) in a run that has seen
    /// `faults` so far: its safety claim under its fault model. Never,
    /// by default.
    fn claims_lookup_consistency(_faults: FaultHistory) -> bool {
        false
    }
}

/// The kinds of fault a run has injected so far: what a protocol's safety
/// claims are conditioned on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultHistory {
    pub crashes: bool,
    pub losses: bool,
    pub false_suspicions: bool,
    /// Partitions, one-way cuts and blocked links (non-transitive
    /// connectivity).
    pub partitions: bool,
    /// A branch root crashed or left, and the ring has not been one
    /// perfect ring with consistent keys since (PPL 2008 Theorem 3's
    /// temporary exception).
    pub branch_root_crash: bool,
}

/// The candidate closest before `key` going clockwise from `me`: the
/// greedy routing step of every ring here. Skips `me` and `excluded` peers.
pub fn closest_preceding(
    me: Peer,
    space: IdSpace,
    key: RingId,
    candidates: impl Iterator<Item = Peer>,
    excluded: impl Fn(NodeId) -> bool,
) -> Option<Peer> {
    candidates
        .filter(|p| p.node != me.node && !excluded(p.node) && space.in_open_open(p.id, me.id, key))
        .max_by_key(|p| space.distance(me.id, p.id))
}

/// The index in `ring` (sorted by id) of the first node at or after `key`
/// clockwise: the node responsible for `key` when each claims (pred, self].
pub fn successor_index(ring: &[Peer], key: RingId) -> usize {
    let i = ring.partition_point(|p| p.id < key);
    if i == ring.len() { 0 } else { i }
}

/// The converged neighbours of `ring[index]` in a ring sorted by id: its
/// predecessor and its first `r` successors (fewer in a smaller ring).
pub fn ideal_neighbours(ring: &[Peer], index: usize, r: usize) -> (Peer, Vec<Peer>) {
    let n = ring.len();
    let successors = (1..n).map(|k| ring[(index + k) % n]).take(r.max(1)).collect();
    (ring[(index + n - 1) % n], successors)
}

/// A successor list `[head, rest...]` without duplicates or `excluded`
/// peers, cut at the first occurrence of `me`, at most `r` long, and `[me]`
/// when nothing is left. Reuses `current` when nothing changed.
pub fn successor_list(
    me: Peer,
    head: Option<Peer>,
    rest: &[Peer],
    r: usize,
    excluded: impl Fn(NodeId) -> bool,
    current: &Arc<[Peer]>,
) -> Arc<[Peer]> {
    let mut list: SmallVec<[Peer; 16]> = SmallVec::new();
    for peer in head.iter().chain(rest.iter()) {
        if list.len() == r.max(1) || peer.node == me.node {
            break;
        }
        if !list.iter().any(|p| p.node == peer.node) && !excluded(peer.node) {
            list.push(*peer);
        }
    }
    if list.is_empty() {
        list.push(me);
    }
    if list.as_slice() == &current[..] { current.clone() } else { Arc::from(list.as_slice()) }
}

/// Whether no item comes twice (for the short lists of a node's state:
/// quadratic), for the invariants a protocol asserts.
pub fn distinct<T: PartialEq>(items: impl Iterator<Item = T> + Clone) -> bool {
    items.clone().enumerate().all(|(i, a)| items.clone().skip(i + 1).all(|b| a != b))
}

/// The invariants every successor list keeps: never empty, at most `r`
/// long, no peer twice, and the node itself only as the sole entry (alone).
pub fn assert_successor_list(me: Peer, successors: &[Peer], r: usize) {
    debug_assert!(!successors.is_empty(), "{me:?}: an empty successor list");
    debug_assert!(successors.len() <= r.max(1), "{me:?}: a successor list over r = {r}: {successors:?}");
    debug_assert!(distinct(successors.iter().map(|p| p.node)), "{me:?}: a successor twice: {successors:?}");
    debug_assert!(
        successors.len() == 1 || successors.iter().all(|p| p.node != me.node),
        "{me:?}: itself in a successor list of others: {successors:?}"
    );
}

/// Appends `item` to a list kept at most `capacity` (>= 1) long: a full
/// list forgets its oldest entry first.
pub fn push_bounded<A: smallvec::Array>(list: &mut SmallVec<A>, item: A::Item, capacity: usize) {
    if list.len() >= capacity {
        list.remove(0);
    }
    list.push(item);
}

/// Makes the failure detector watch exactly `wanted` (less `me`): unwatches
/// what `watched` has and `wanted` lacks, watches the rest, and records it.
pub fn sync_watches<P: Protocol>(
    ctx: &mut Ctx<'_, P>,
    me: NodeId,
    watched: &mut SmallVec<[NodeId; 8]>,
    wanted: impl Iterator<Item = NodeId>,
) {
    // On the stack for a successor list of up to 16 and a few suspects:
    // this runs after most handlers, and usually finds nothing to change.
    let mut next: SmallVec<[NodeId; 24]> = SmallVec::new();
    for node in wanted {
        if node != me && !next.contains(&node) {
            next.push(node);
        }
    }
    if next[..] == watched[..] {
        return;
    }
    for &node in watched.iter() {
        if !next.contains(&node) {
            ctx.unwatch(node);
        }
    }
    for &node in &next {
        if !watched.contains(&node) {
            ctx.watch(node);
        }
    }
    watched.clear();
    watched.extend_from_slice(&next);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;

    #[test]
    fn the_closest_preceding_peer_wraps_around_and_skips_excluded_ones() {
        let space = IdSpace::modulus(100);
        let peer = |n: u32, id: u64| Peer::new(NodeId(n), RingId(id));
        let me = peer(0, 90);
        let candidates = [peer(1, 95), peer(2, 5), peer(3, 20), peer(4, 40), me];
        // Key 30 from 90: 95, 5 and 20 lie before it; 20 is closest.
        assert_eq!(closest_preceding(me, space, RingId(30), candidates.into_iter(), |_| false), Some(peer(3, 20)));
        let without_3 = closest_preceding(me, space, RingId(30), candidates.into_iter(), |n| n == NodeId(3));
        assert_eq!(without_3, Some(peer(2, 5)));
        assert_eq!(closest_preceding(me, space, RingId(92), candidates.into_iter(), |_| false), None);
    }

    #[test]
    fn successor_lists_stop_at_self_and_skip_excluded_peers() {
        let peer = |n: u32| Peer::new(NodeId(n), RingId(n as u64 * 10));
        let me = peer(0);
        let current: Arc<[Peer]> = Arc::from([me].as_slice());
        let list = successor_list(
            me,
            Some(peer(1)),
            &[peer(1), peer(2), peer(3), me, peer(4)],
            8,
            |n| n == NodeId(2),
            &current,
        );
        assert_eq!(&list[..], &[peer(1), peer(3)]);
        let capped = successor_list(me, None, &[peer(1), peer(2), peer(3)], 2, |_| false, &current);
        assert_eq!(&capped[..], &[peer(1), peer(2)]);
        let alone = successor_list(me, None, &[], 4, |_| false, &current);
        assert!(Arc::ptr_eq(&alone, &current), "an unchanged list is not reallocated");
        let (pred, successors) = ideal_neighbours(&[peer(1), peer(2), peer(3)], 0, 8);
        assert_eq!((pred, successors), (peer(3), vec![peer(2), peer(3)]));
    }

    #[test]
    fn successor_index_wraps() {
        let ring: Vec<Peer> =
            [10, 20, 30].iter().enumerate().map(|(i, &id)| Peer::new(NodeId(i as u32), RingId(id))).collect();
        assert_eq!(successor_index(&ring, RingId(5)), 0);
        assert_eq!(successor_index(&ring, RingId(10)), 0);
        assert_eq!(successor_index(&ring, RingId(11)), 1);
        assert_eq!(successor_index(&ring, RingId(30)), 2);
        assert_eq!(successor_index(&ring, RingId(31)), 0);
    }
}
