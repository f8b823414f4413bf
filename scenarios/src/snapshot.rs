//! The ring at one instant, as a picture: what `overlaysim snapshot` draws
//! and what `[output] snapshot_at_s` adds to a run's outputs.

use crate::oracle;
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
    let is_member = |n: NodeId| sim.node(n).is_some_and(|p| p.is_member());
    let members: Vec<NodeId> = alive.iter().copied().filter(|&n| is_member(n)).collect();
    let position: BTreeMap<NodeId, usize> = members.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut roles: Vec<Role> = alive.iter().map(|&n| if is_member(n) { Role::Core } else { Role::Joining }).collect();
    let mut successors = Vec::new();
    for (i, &node) in alive.iter().enumerate() {
        let Some(successor) = sim.node(node).and_then(|p| p.successor()) else { continue };
        let Some(&j) = index.get(&successor.node) else { continue };
        if successor.node != node {
            successors.push((i, j));
        }
        if let (Some(&from), Some(&to)) = (position.get(&node), position.get(&successor.node)) {
            let n = members.len();
            let skipped = (to + n - from - 1) % n;
            if skipped > 0 && successor.node != node {
                for k in 1..=skipped {
                    roles[index[&members[(from + k) % n]]] = Role::Branch;
                }
                roles[j] = Role::Root;
            }
        }
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
