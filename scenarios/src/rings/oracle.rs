//! The oracle: measurements that read every live node at once.
//!
//! Real systems never see all their nodes at one instant; a simulator can,
//! and these functions are that view. They know no protocol beyond
//! [`RingView`], so Chord, DKS and the relaxed ring are measured alike.

use protocols::RingView;
use sim_core::{IdSpace, NodeId, Protocol, RingId, Simulation};
use std::collections::BTreeMap;

/// Who is responsible for each key, exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KeyConsistency {
    /// Fraction of the key space claimed by two or more live nodes.
    pub inconsistent_fraction: f64,
    /// Fraction of the key space claimed by no live node.
    pub unavailable_fraction: f64,
    /// Maximal runs of keys with two or more claimants.
    pub inconsistent_intervals: u64,
}

/// Sweeps every live node's claimed range (pred, self] over the whole key
/// space: 0 claimants is unavailable, 1 consistent, 2 or more inconsistent.
/// Exact (no sampling of keys), O(N log N).
pub fn key_consistency<P: Protocol + RingView>(sim: &Simulation<P>) -> KeyConsistency {
    let claims = sim.alive_nodes().iter().filter_map(|&n| sim.node(n).and_then(|p| p.claimed_range()));
    sweep_claims(sim.space(), claims)
}

/// The sweep behind [`key_consistency`], over explicit (pred, self] claims.
pub fn sweep_claims(space: IdSpace, claims: impl Iterator<Item = (RingId, RingId)>) -> KeyConsistency {
    sweep(space, claims).0
}

/// The key ranges with two or more claimants, as [from, to) on the linear
/// key space [0, size) (a range through zero comes as two pieces).
pub fn inconsistent_ranges<P: Protocol + RingView>(sim: &Simulation<P>) -> Vec<(u128, u128)> {
    let claims = sim.alive_nodes().iter().filter_map(|&n| sim.node(n).and_then(|p| p.claimed_range()));
    sweep(sim.space(), claims).1
}

fn sweep(space: IdSpace, claims: impl Iterator<Item = (RingId, RingId)>) -> (KeyConsistency, Vec<(u128, u128)>) {
    let size = space.size();
    // Each claim (a, b] becomes half-open linear pieces [a+1, b+1) on [0, size).
    let mut boundaries: Vec<(u128, i32)> = Vec::new();
    let mut add = |start: u128, end: u128| {
        if start < end {
            boundaries.push((start, 1));
            boundaries.push((end, -1));
        }
    };
    for (a, b) in claims {
        let (a, b) = (a.0 as u128, b.0 as u128);
        if a == b {
            add(0, size);
        } else if a < b {
            add(a + 1, b + 1);
        } else {
            add(a + 1, size);
            add(0, b + 1);
        }
    }
    boundaries.sort_unstable();
    let mut unavailable: u128 = 0;
    let mut inconsistent: u128 = 0;
    let mut runs: Vec<(u128, u128)> = Vec::new();
    let mut coverage: i32 = 0;
    let mut position: u128 = 0;
    let mut account = |from: u128, to: u128, coverage: i32| {
        if to <= from {
            return;
        }
        if coverage == 0 {
            unavailable += to - from;
        } else if coverage >= 2 {
            inconsistent += to - from;
            match runs.last_mut() {
                Some(last) if last.1 == from => last.1 = to,
                _ => runs.push((from, to)),
            }
        }
    };
    for &(at, delta) in &boundaries {
        account(position, at, coverage);
        position = at;
        coverage += delta;
    }
    account(position, size, coverage);
    let mut intervals = runs.len() as u64;
    if runs.len() >= 2 && runs[0].0 == 0 && runs[runs.len() - 1].1 == size {
        intervals -= 1; // one run that wraps through zero
    }
    let consistency = KeyConsistency {
        inconsistent_fraction: inconsistent as f64 / size as f64,
        unavailable_fraction: unavailable as f64 / size as f64,
        inconsistent_intervals: intervals,
    };
    (consistency, runs)
}

/// The true successor of `key`: the first live node at or after it.
pub fn true_successor<P: Protocol>(sim: &Simulation<P>, key: RingId) -> Option<NodeId> {
    let ring = sim.ring();
    ring.range(key..).next().or_else(|| ring.iter().next()).map(|(_, &n)| n)
}

/// One perfect ring: every live node is a member and its successor is the
/// next live node in identifier order.
pub fn is_perfect_ring<P: Protocol + RingView>(sim: &Simulation<P>) -> bool {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    if ring.is_empty() {
        return false;
    }
    ring.iter().enumerate().all(|(i, &node)| {
        let next = ring[(i + 1) % ring.len()];
        sim.node(node).is_some_and(|p| p.is_member() && p.successor().is_some_and(|s| s.node == next))
    })
}

/// Members whose successor pointer is not the next live node (the PPL 2008
/// Fig. 10 count of peers with inconsistent lookup).
pub fn wrong_successors<P: Protocol + RingView>(sim: &Simulation<P>) -> u64 {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    ring.iter()
        .enumerate()
        .filter(|&(i, &node)| {
            let next = ring[(i + 1) % ring.len()];
            sim.node(node).is_some_and(|p| p.is_member() && p.successor().is_none_or(|s| s.node != next))
        })
        .count() as u64
}

/// Branches of a relaxed ring (PPL 2008 Figs. 7 and 8): a branch starts
/// at a member whose successor is not the next live member; its size is
/// the number of members skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Branches {
    pub branches: u64,
    pub skipped: u64,
}

impl Branches {
    /// Sum of sizes over branches.
    pub fn average_size(&self) -> f64 {
        if self.branches == 0 { 0.0 } else { self.skipped as f64 / self.branches as f64 }
    }
    /// Sum of sizes over all peers, core peers counted as branches of size 0:
    /// skipped / (branches + members − skipped).
    pub fn total_average_size(&self, members: usize) -> f64 {
        let denominator = self.branches as f64 + members as f64 - self.skipped as f64;
        if denominator <= 0.0 { 0.0 } else { self.skipped as f64 / denominator }
    }
}

pub fn branches<P: Protocol + RingView>(sim: &Simulation<P>) -> Branches {
    let starts = branch_starts(sim, &members(sim));
    Branches { branches: starts.len() as u64, skipped: starts.iter().map(|b| b.skipped as u64).sum() }
}

/// Live members in identifier order.
pub fn members<P: Protocol + RingView>(sim: &Simulation<P>) -> Vec<NodeId> {
    sim.ring().values().copied().filter(|&n| sim.node(n).is_some_and(|p| p.is_member())).collect()
}

/// A member whose successor pointer skips live members: indices into the
/// members in id order, and how many it skips (the branch's size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchStart {
    pub from: usize,
    pub to: usize,
    pub skipped: usize,
}

/// Every branch start among `members` (from [`members`]).
pub fn branch_starts<P: Protocol + RingView>(sim: &Simulation<P>, members: &[NodeId]) -> Vec<BranchStart> {
    let position: BTreeMap<NodeId, usize> = members.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let n = members.len();
    let mut starts = Vec::new();
    for (from, &node) in members.iter().enumerate() {
        let Some(successor) = sim.node(node).and_then(|p| p.successor()) else { continue };
        let Some(&to) = position.get(&successor.node) else { continue };
        let skipped = (to + n - from - 1) % n;
        if skipped > 0 && successor.node != node {
            starts.push(BranchStart { from, to, skipped });
        }
    }
    starts
}

/// Rings: connected components of the graph whose vertices are the live
/// members and whose edges are their successor pointers to live members.
/// One for a healthy ring (and for one broken by a pointer to a crashed
/// node), one per side after a partition splits it; 0 without members.
pub fn rings<P: Protocol + RingView>(sim: &Simulation<P>) -> usize {
    let members = members(sim);
    let index: BTreeMap<NodeId, usize> = members.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut parent: Vec<usize> = (0..members.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut components = members.len();
    for (i, &node) in members.iter().enumerate() {
        let successor = sim.node(node).and_then(|p| p.successor());
        if let Some(&j) = successor.and_then(|s| index.get(&s.node)) {
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            if a != b {
                parent[a] = b;
                components -= 1;
            }
        }
    }
    components
}

/// Members with an inconsistent lookup (PPL 2008 Fig. 10): members whose
/// own lookup rule ends some lookup at the wrong peer. Each member ends the
/// lookups for the keys (from, to] of its [`RingView::lookup_answers`] and
/// names one peer for them; the answer is wrong when that peer is not a
/// member or another member lies between `from` and it, since that member
/// is the first at or after some of those keys.
///
/// Chord answers (self, succ] with its successor, so a Chord member counts
/// when its successor skips a member: the paper's "peers with inconsistent
/// successor". A relaxed-ring member answers only for (pred, self]; a peer
/// whose successor skips a branch hands the lookup on to the branch root,
/// which walks it back down the branch, so the branch itself is no
/// inconsistency (Theorem 1).
pub fn inconsistent_peers<P: Protocol + RingView>(sim: &Simulation<P>) -> u64 {
    let members: Vec<(RingId, &P)> =
        sim.ring().iter().filter_map(|(&id, &n)| sim.node(n).filter(|p| p.is_member()).map(|p| (id, p))).collect();
    let ids: Vec<RingId> = members.iter().map(|&(id, _)| id).collect();
    let first_after = |id: RingId| match ids.partition_point(|&m| m <= id) {
        i if i < ids.len() => ids[i],
        _ => ids[0],
    };
    let mut count = 0;
    for (_, state) in &members {
        let Some(answers) = state.lookup_answers() else { continue };
        let names_member = ids.binary_search(&answers.names).is_ok();
        let whole_ring = answers.from == answers.to;
        let consistent = names_member
            && answers.names == answers.to
            && if whole_ring { ids.len() == 1 } else { first_after(answers.from) == answers.to };
        count += u64::from(!consistent);
    }
    count
}

/// The most members whose successor pointer names one same peer: 1 on a
/// perfect ring. A Chord bootstrap with rare stabilization rounds leaves
/// a *fan-in*, many members pointing at one peer (PPL 2008 Fig. 10).
pub fn largest_fan_in<P: Protocol + RingView>(sim: &Simulation<P>) -> u64 {
    let mut pointing: BTreeMap<NodeId, u64> = BTreeMap::new();
    for node in members(sim) {
        if let Some(successor) = sim.node(node).and_then(|p| p.successor()) {
            *pointing.entry(successor.node).or_default() += 1;
        }
    }
    pointing.values().copied().max().unwrap_or(0)
}

/// Mean active connections per member (PALTA 2008).
pub fn connections_per_peer<P: Protocol + RingView>(sim: &Simulation<P>) -> f64 {
    let counts: Vec<usize> = sim
        .alive_nodes()
        .iter()
        .filter_map(|&n| sim.node(n))
        .filter(|p| p.is_member())
        .map(|p| p.connections())
        .collect();
    if counts.is_empty() { 0.0 } else { counts.iter().sum::<usize>() as f64 / counts.len() as f64 }
}

/// Live nodes that completed their join.
pub fn member_count<P: Protocol + RingView>(sim: &Simulation<P>) -> usize {
    sim.alive_nodes().iter().filter(|&&n| sim.node(n).is_some_and(|p| p.is_member())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(u64, u64)]) -> impl Iterator<Item = (RingId, RingId)> + '_ {
        pairs.iter().map(|&(a, b)| (RingId(a), RingId(b)))
    }

    #[test]
    fn branch_averages_follow_the_paper_definitions() {
        // Reference: PPL 2008 Fig. 8 — 3 branches skipping 5 peers in 100:
        // average 5/3, total average 5 / (3 + 100 − 5).
        let b = Branches { branches: 3, skipped: 5 };
        assert!((b.average_size() - 5.0 / 3.0).abs() < 1e-12);
        assert!((b.total_average_size(100) - 5.0 / 98.0).abs() < 1e-12);
        assert_eq!(Branches::default().average_size(), 0.0);
    }

    #[test]
    fn a_partition_of_the_ring_is_consistent() {
        let space = IdSpace::modulus(100);
        let k = sweep_claims(space, claims(&[(10, 40), (40, 90), (90, 10)]));
        assert_eq!(k, KeyConsistency::default());
    }

    #[test]
    fn overlaps_and_gaps_are_measured_exactly() {
        let space = IdSpace::modulus(100);
        // (10,40] and (30,50] overlap on (30,40]: 10 keys; (50,90] missing
        // apart from (60,90]: (50,60] unavailable: 10 keys; (90,10] covered.
        let k = sweep_claims(space, claims(&[(10, 40), (30, 50), (60, 90), (90, 10)]));
        assert_eq!(k.inconsistent_fraction, 0.10);
        assert_eq!(k.unavailable_fraction, 0.10);
        assert_eq!(k.inconsistent_intervals, 1);
    }

    #[test]
    fn a_run_through_zero_counts_once() {
        let space = IdSpace::modulus(100);
        // Two claims both covering (95, 5]: one inconsistent interval of 10.
        let k = sweep_claims(space, claims(&[(90, 5), (95, 10), (10, 90)]));
        assert_eq!(k.inconsistent_intervals, 1);
        assert!((k.inconsistent_fraction - 0.10).abs() < 1e-12);
        assert_eq!(k.unavailable_fraction, 0.0);
    }

    #[test]
    fn a_lone_node_claims_everything_and_no_claims_mean_nothing_is_available() {
        let space = IdSpace::full();
        assert_eq!(sweep_claims(space, claims(&[(7, 7)])), KeyConsistency::default());
        assert_eq!(sweep_claims(space, claims(&[])).unavailable_fraction, 1.0);
        let twice = sweep_claims(space, claims(&[(7, 7), (7, 7)]));
        assert_eq!(twice.inconsistent_fraction, 1.0);
    }
}
