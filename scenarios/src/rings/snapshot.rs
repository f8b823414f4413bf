//! The ring at one instant, as a picture: what `overlaysim snapshot` draws
//! and what `[output] snapshot_at_s` adds to a run's outputs.

use super::oracle;
use protocols::RingView;
use reports::ring::{PeerMark, RingPicture, Role};
use sim_core::{NodeId, Protocol, SimTime, Simulation};
use std::collections::BTreeMap;

/// Reads every live node: position by id, successor pointers, branches
/// (members skipped by a member's successor pointer) and their roots,
/// partition groups, and the keys with two or more responsible peers.
pub fn picture<P: Protocol + RingView>(sim: &Simulation<P>, name: &str, now: SimTime) -> RingPicture {
    let size = sim.space().size() as f64;
    let alive: Vec<NodeId> = sim.ring().values().copied().collect();
    let index: BTreeMap<NodeId, usize> = alive.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut roles: Vec<Role> = alive
        .iter()
        .map(|&n| if sim.node(n).is_some_and(|p| p.is_member()) { Role::Core } else { Role::Joining })
        .collect();
    let successors: Vec<(usize, usize)> = alive
        .iter()
        .enumerate()
        .filter_map(|(i, &node)| {
            let successor = sim.node(node).and_then(|p| p.successor()).filter(|s| s.node != node)?;
            index.get(&successor.node).map(|&j| (i, j))
        })
        .collect();
    let members = oracle::members(sim);
    for start in oracle::branch_starts(sim, &members) {
        for k in 1..=start.skipped {
            roles[index[&members[(start.from + k) % members.len()]]] = Role::Branch;
        }
        roles[index[&members[start.to]]] = Role::Root;
    }
    let peers = alive
        .iter()
        .zip(&roles)
        .map(|(&n, &role)| {
            let id = sim.node(n).map_or(0, |p| p.ring_id().0);
            PeerMark { position: id as f64 / size, role, group: sim.network().group(n) as usize }
        })
        .collect();
    let inconsistent: Vec<(f64, f64)> =
        oracle::inconsistent_ranges(sim).into_iter().map(|(a, b)| (a as f64 / size, b as f64 / size)).collect();
    let branch_peers = roles.iter().filter(|r| **r == Role::Branch).count();
    let roots = roles.iter().filter(|r| **r == Role::Root).count();
    RingPicture {
        title: format!("{name} at {:.3} s", now.as_secs_f64()),
        subtitle: format!(
            "{} alive, {} members, {} in branches under {} roots, {} inconsistent key ranges",
            alive.len(),
            members.len(),
            branch_peers,
            roots,
            inconsistent.len()
        ),
        peers,
        successors,
        inconsistent,
    }
}
