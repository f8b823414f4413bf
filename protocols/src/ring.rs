//! What every ring protocol shows the oracles, and what the runner asks of it.
//!
//! The oracles in `scenarios` measure Chord, DKS and the relaxed ring the same
//! way through [`RingView`]: a node's identifier, predecessor, successor list
//! and fingers, read without the node's knowledge (the oracle view that real
//! systems never have). [`RingProtocol`] adds what the runner needs to drive
//! any ring: build the converged ("ideal") state for stable-network
//! experiments, issue a lookup, read a lookup's outcome, and flip global
//! switches such as stopping stabilization.

use sim_core::{IdSpace, Peer, Protocol, RingId, SimTime};

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
    /// The range of keys this node believes it is responsible for, as the
    /// half-open interval (pred, self]; None when it claims nothing.
    fn claimed_range(&self) -> Option<(RingId, RingId)> {
        if !self.is_member() {
            return None;
        }
        self.predecessor().map(|p| (p.id, self.ring_id()))
    }
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
    fn lookup_request(tag: u64, key: RingId) -> Self::Request;
    /// One round of periodic maintenance at a node, if the protocol has any
    /// (the PPL 2008 Chord baseline stabilizes all nodes every s joins).
    fn maintenance_request() -> Option<Self::Request> {
        None
    }
    /// The message kinds the protocol's paper counts as the cost of
    /// building the ring (PPL 2008 Figs. 9 and 11).
    const BUILD_KINDS: &'static [&'static str];
    /// The message kinds that shorten branches (PPL 2008 Fig. 9).
    const HINT_KINDS: &'static [&'static str] = &[];
    fn lookup_outcome(report: &Self::Report) -> Option<LookupOutcome>;
    fn control(config: &mut Self::Config, control: Control);
}

/// The index in `ring` (sorted by id) of the first node at or after `key`
/// clockwise: the node responsible for `key` when each claims (pred, self].
pub fn successor_index(ring: &[Peer], key: RingId) -> usize {
    let i = ring.partition_point(|p| p.id < key);
    if i == ring.len() { 0 } else { i }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;

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
