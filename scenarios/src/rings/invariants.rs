//! What `overlaysim check` holds a ring to, one node at a time:
//! - **membership**: a member never loses its ring membership (what the
//!   merge layer must preserve as much as the rings);
//! - **ring**: a member never keeps as successor a peer its failure
//!   detector suspects (unless the protocol does not claim it);
//! - **lookup consistency**: no key for which two live members' lookups
//!   name different responsible nodes ([`lookup_conflict`]), checked only
//!   while the protocol claims it for the faults seen so far
//!   ([`RingProtocol::claims_lookup_consistency`]; the relaxed ring: no
//!   false suspicion and no partition yet, and no branch root gone since
//!   the ring was last one perfect ring, PPL 2008 §5 Theorems 1–3).
//!
//! Settled is one perfect ring of all live nodes with no inconsistent key;
//! what keeps a ring from it is read off the true ring.

use super::oracle;
use crate::check::{Invariants, at_most_twelve};
use crate::config::{EventAction, Scenario};
use protocols::ring::{FaultHistory, LookupAnswers, RingProtocol, lookup_conflict};
use sim_core::{NodeId, Peer, Simulation};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The ring family's invariants and what they remember between events.
#[derive(Debug)]
pub struct RingInvariants {
    faults: FaultHistory,
    /// What each node's lookups answered when it was last checked.
    answers: Vec<Option<LookupAnswers>>,
    members: Vec<bool>,
    departures: u64,
}

impl<P: RingProtocol> Invariants<P> for RingInvariants {
    const SETTLED: &'static str = "one perfect ring with consistent keys";

    fn new(scenario: &Scenario) -> Self {
        let partitions = scenario.nodes.connectivity < 1.0;
        RingInvariants {
            faults: FaultHistory { partitions, ..FaultHistory::default() },
            answers: Vec::new(),
            members: Vec::new(),
            departures: 0,
        }
    }

    fn on_action(&mut self, action: &EventAction) {
        if matches!(
            action,
            EventAction::Partition { .. } | EventAction::PartitionIds { .. } | EventAction::OneWayCut { .. }
        ) {
            self.faults.partitions = true;
        }
    }

    fn observe(&mut self, sim: &Simulation<P>) {
        let counters = sim.counters();
        let departures = counters.crashes + counters.leaves;
        if departures != self.departures {
            self.departures = departures;
            if branch_root_gone(sim) {
                self.faults.branch_root_crash = true;
            }
        }
        self.faults.crashes |= departures > 0;
        self.faults.losses |= sim.network().counters.lost > 0;
        self.faults.false_suspicions |= sim.detector().counters.false_suspicions > 0;
    }

    fn check_node(&mut self, sim: &Simulation<P>, node: NodeId, fail: &mut dyn FnMut(&'static str, String)) {
        let index = node.index();
        if self.answers.len() <= index {
            self.answers.resize(index + 1, None);
            self.members.resize(index + 1, false);
        }
        let Some(state) = sim.node(node) else {
            self.answers[index] = None;
            return;
        };
        let member = state.is_member();
        if self.members[index] && !member {
            fail("membership", format!("n{} lost its ring membership", node.0));
        }
        self.members[index] = member;
        if member
            && state.drops_suspected_successor()
            && let Some(successor) = state.successor()
            && successor.node != node
            && sim.detector().is_suspected(node, successor.node)
        {
            fail("ring", format!("n{} keeps successor n{}, which it suspects", node.0, successor.node.0));
        }
        let answers = if member { state.lookup_answers() } else { None };
        if answers == self.answers[index] {
            return;
        }
        self.answers[index] = answers;
        let Some(mine) = answers else { return };
        if !P::claims_lookup_consistency(self.faults) {
            return;
        }
        for &other in sim.alive_nodes() {
            let Some(theirs) = self.answers.get(other.index()).copied().flatten() else { continue };
            if other == node {
                continue;
            }
            if let Some((key, a, b)) = lookup_conflict(sim.space(), &[mine, theirs]) {
                let detail = format!(
                    "key {key}: n{}'s lookups name {} for ({}, {}], n{}'s name {} for ({}, {}]",
                    node.0, a.names, a.from, a.to, other.0, b.names, b.from, b.to
                );
                fail("lookup consistency", detail);
                return;
            }
        }
    }

    fn on_settled(&mut self) {
        self.faults.branch_root_crash = false;
    }

    fn pending(sim: &Simulation<P>) -> Vec<String> {
        pending(sim)
    }
}

/// Whether a gone peer was a branch root: Theorem 3's exception, until the
/// ring is whole again. It was one when two live members or more still
/// name it their successor, or when one does that sits in a branch itself:
/// its predecessor is gone or does not name it successor (a join whose
/// `new_succ` never reached a predecessor that had crashed, swarm seed
/// 4895). Read from the true pointers, not from predlists, which can hold
/// stale entries.
fn branch_root_gone<P: RingProtocol>(sim: &Simulation<P>) -> bool {
    let mut pointed: BTreeMap<NodeId, u32> = BTreeMap::new();
    let mut branch_tail_orphaned = false;
    for &node in sim.alive_nodes() {
        let Some(state) = sim.node(node).filter(|p| p.is_member()) else { continue };
        if let Some(successor) = state.successor()
            && !sim.is_alive(successor.node)
        {
            *pointed.entry(successor.node).or_default() += 1;
            let acknowledged = state.predecessor().is_some_and(|p| {
                p.node == node || sim.node(p.node).and_then(|q| q.successor()).is_some_and(|s| s.node == node)
            });
            branch_tail_orphaned |= !acknowledged;
        }
    }
    branch_tail_orphaned || pointed.values().any(|&count| count >= 2)
}

/// What keeps the ring from being one perfect ring: up to 12 lines.
pub fn pending<P: RingProtocol>(sim: &Simulation<P>) -> Vec<String> {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    if ring.is_empty() {
        return vec!["no node is alive".to_string()];
    }
    let name = |peer: Option<Peer>| peer.map_or("none".to_string(), |p| format!("n{}", p.node.0));
    let mut lines = Vec::new();
    for (i, &node) in ring.iter().enumerate() {
        let Some(state) = sim.node(node) else { continue };
        let next = ring[(i + 1) % ring.len()];
        let previous = ring[(i + ring.len() - 1) % ring.len()];
        let mut line = String::new();
        if !state.is_member() {
            let _ = write!(line, "n{} is still joining", node.0);
        } else {
            if state.successor().map(|s| s.node) != Some(next) {
                let _ = write!(line, "n{} has successor {} (should be n{})", node.0, name(state.successor()), next.0);
            }
            if state.predecessor().map(|p| p.node) != Some(previous) {
                let sep = if line.is_empty() { format!("n{} has", node.0) } else { ";".to_string() };
                let _ = write!(line, "{sep} predecessor {} (should be n{})", name(state.predecessor()), previous.0);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    let inconsistent = oracle::key_consistency(sim);
    if inconsistent.inconsistent_fraction > 0.0 {
        lines.insert(0, format!("{:.4} of the key space has two claimants", inconsistent.inconsistent_fraction));
    }
    at_most_twelve(lines)
}
