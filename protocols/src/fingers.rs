//! Chord-style fingers, shared by the ring protocols that route with them.
//!
//! Finger i of node n is the first node at or after n + 2^i (SIGCOMM 2001
//! §4.2). Most of the m = ⌈log2 |space|⌉ fingers of a node fall between it
//! and its successor and equal the successor; only the distinct, useful ones
//! are stored, as (index, node) sorted by index: about log2 N entries.
//! `fix_fingers` refreshes one index per period, walking from the top index
//! down to the first that can differ from the successor.

use crate::ring::successor_index;
use sim_core::{IdSpace, NodeId, Peer, RingId};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FingerTable {
    entries: Vec<(u8, Peer)>,
    next_index: u8,
}

impl FingerTable {
    /// The correct fingers of `ring[index]` in a ring sorted by id; fingers
    /// equal to the node itself or to `successor` are left out.
    pub fn ideal(ring: &[Peer], index: usize, space: IdSpace, successor: Peer) -> Self {
        let me = ring[index];
        let mut table = FingerTable::default();
        for i in 0..space.finger_count() {
            let finger = ring[successor_index(ring, space.add(me.id, 1u128 << i))];
            if finger != successor && finger != me {
                table.entries.push((i as u8, finger));
            }
        }
        table
    }

    /// Distinct finger nodes, in index order.
    pub fn peers(&self) -> Vec<Peer> {
        let mut peers: Vec<Peer> = self.entries.iter().map(|&(_, p)| p).collect();
        peers.dedup();
        peers
    }

    pub fn iter(&self) -> impl Iterator<Item = Peer> + '_ {
        self.entries.iter().map(|&(_, p)| p)
    }

    /// Forgets every finger that is `node`.
    pub fn remove(&mut self, node: NodeId) {
        self.entries.retain(|(_, p)| p.node != node);
    }

    /// Records the lookup result for finger `index`: stored unless it is the
    /// node itself or its successor.
    pub fn set(&mut self, index: u8, result: Option<Peer>, me: Peer, successor: Peer) {
        self.entries.retain(|(i, _)| *i != index);
        if let Some(peer) = result.filter(|p| p.node != me.node && p.node != successor.node) {
            let at = self.entries.partition_point(|(i, _)| *i < index);
            self.entries.insert(at, (index, peer));
        }
    }

    /// The next finger to refresh and the key to look up for it.
    pub fn next_to_fix(&mut self, space: IdSpace, me: Peer, successor: Peer) -> (u8, RingId) {
        let m = space.finger_count();
        // Fingers below `lowest` fall in (me, successor] and equal the
        // successor; refreshing them would waste lookups.
        let gap = space.distance(me.id, successor.id).max(1);
        let lowest = (63 - gap.leading_zeros()).min(m - 1) as u8;
        let top = (m - 1) as u8;
        let index = if self.next_index < lowest || self.next_index > top { top } else { self.next_index };
        self.next_index = if index <= lowest { top } else { index - 1 };
        (index, space.add(me.id, 1u128 << index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[u64]) -> Vec<Peer> {
        ids.iter().enumerate().map(|(i, &id)| Peer::new(NodeId(i as u32), RingId(id))).collect()
    }

    #[test]
    fn ideal_fingers_skip_the_successor_and_self() {
        let space = IdSpace::bits(6); // 64 ids
        let r = ring(&[0, 10, 20, 40]);
        // Node 0: fingers at 1, 2, 4, 8 → 10 (successor); 16 → 20; 32 → 40.
        let table = FingerTable::ideal(&r, 0, space, r[1]);
        assert_eq!(table.peers(), vec![r[2], r[3]]);
    }

    #[test]
    fn fixing_walks_down_from_the_top_and_wraps() {
        let space = IdSpace::bits(6);
        let r = ring(&[0, 10]);
        let mut table = FingerTable::default();
        // Gap 10: indexes 3 (8) and below equal the successor; walk 5, 4, 3, 5 …
        let order: Vec<u8> = (0..4).map(|_| table.next_to_fix(space, r[0], r[1]).0).collect();
        assert_eq!(order, [5, 4, 3, 5]);
        table.set(5, Some(r[1]), r[0], r[1]);
        assert!(table.peers().is_empty(), "the successor is not stored as a finger");
    }
}
