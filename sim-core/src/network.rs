//! The network: latency, loss, partitions and blocked links.
//!
//! A seeded state machine configured by one options struct. Latency is drawn
//! per message (constant, uniform, exponential, or a per-pair table between
//! sites); loss is a per-message probability; a partition assigns nodes to
//! groups and cuts traffic between groups (directed cuts give one-way
//! partitions); a blocked link cuts one ordered pair of nodes, the
//! non-transitive connectivity of the relaxed ring's experiments. Cuts are
//! checked when a message is delivered, so a partition also swallows what was
//! in flight.

use crate::id::NodeId;
use crate::rng::Draw;
use crate::time::SimTime;
use std::collections::BTreeSet;

/// How long a message takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    Constant {
        ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    /// `min_ms` plus an exponential with mean `mean_ms`.
    Exponential {
        min_ms: f64,
        mean_ms: f64,
    },
    /// Node n sits at site n mod sites; `ms[a][b]` is the one-way latency
    /// from site a to site b.
    Table {
        ms: Vec<Vec<f64>>,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform { min_ms: 10.0, max_ms: 100.0 }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkConfig {
    pub latency: Latency,
    /// Probability that a message is lost, in [0, 1].
    pub loss: f64,
}

/// A partition group.
pub type Group = u16;

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    Lost,
    Cut,
    DeadDestination,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkCounters {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub cut: u64,
    pub to_dead: u64,
}

#[derive(Debug)]
pub struct Network {
    config: NetworkConfig,
    groups: Vec<Group>,
    /// Directed cuts between groups: (from, to).
    cuts: BTreeSet<(Group, Group)>,
    /// Directed blocked node pairs: (from, to).
    blocked: BTreeSet<(NodeId, NodeId)>,
    pub counters: NetworkCounters,
}

impl Network {
    pub fn new(config: NetworkConfig) -> Self {
        Network {
            config,
            groups: Vec::new(),
            cuts: BTreeSet::new(),
            blocked: BTreeSet::new(),
            counters: NetworkCounters::default(),
        }
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    pub fn set_loss(&mut self, loss: f64) {
        self.config.loss = loss.clamp(0.0, 1.0);
    }

    /// Registers a new node in `group`.
    pub fn add_node(&mut self, node: NodeId, group: Group) {
        debug_assert_eq!(node.index(), self.groups.len());
        self.groups.push(group);
    }

    pub fn group(&self, node: NodeId) -> Group {
        self.groups[node.index()]
    }

    pub fn set_group(&mut self, node: NodeId, group: Group) {
        self.groups[node.index()] = group;
    }

    /// Cuts traffic both ways between every pair of distinct groups in use.
    pub fn cut_all_groups(&mut self, group_count: Group) {
        for a in 0..group_count {
            for b in 0..group_count {
                if a != b {
                    self.cuts.insert((a, b));
                }
            }
        }
    }

    /// Cuts traffic from group `from` to group `to` only.
    pub fn cut_one_way(&mut self, from: Group, to: Group) {
        self.cuts.insert((from, to));
    }

    /// Blocks the ordered link from `from` to `to`.
    pub fn block_link(&mut self, from: NodeId, to: NodeId) {
        self.blocked.insert((from, to));
    }

    pub fn unblock_link(&mut self, from: NodeId, to: NodeId) {
        self.blocked.remove(&(from, to));
    }

    /// Removes every group cut and puts every node back in group 0. Blocked
    /// links stay: they model lasting non-transitive connectivity.
    pub fn heal(&mut self) {
        self.cuts.clear();
        self.groups.iter_mut().for_each(|g| *g = 0);
    }

    pub fn is_partitioned(&self) -> bool {
        !self.cuts.is_empty()
    }

    /// Whether a message from `from` to `to` can get through now.
    pub fn can_reach(&self, from: NodeId, to: NodeId) -> bool {
        if !self.cuts.is_empty() {
            let pair = (self.groups[from.index()], self.groups[to.index()]);
            if pair.0 != pair.1 && self.cuts.contains(&pair) {
                return false;
            }
        }
        self.blocked.is_empty() || !self.blocked.contains(&(from, to))
    }

    /// Decides the fate of a message at send time: lost, or its latency.
    pub fn transmit(&mut self, from: NodeId, to: NodeId, rng: &mut impl Draw) -> Option<SimTime> {
        self.counters.sent += 1;
        if self.config.loss > 0.0 && rng.chance(self.config.loss) {
            self.record_drop(Drop::Lost);
            return None;
        }
        let ms = match &self.config.latency {
            Latency::Constant { ms } => *ms,
            Latency::Uniform { min_ms, max_ms } => rng.uniform(*min_ms, *max_ms),
            Latency::Exponential { min_ms, mean_ms } => min_ms + rng.exponential(*mean_ms),
            Latency::Table { ms } => {
                let sites = ms.len();
                ms[from.index() % sites][to.index() % sites]
            }
        };
        // At least one microsecond: a message never arrives at its send time.
        Some(SimTime::from_millis_f64(ms).max(SimTime(1)))
    }

    pub fn record_drop(&mut self, why: Drop) {
        match why {
            Drop::Lost => self.counters.lost += 1,
            Drop::Cut => self.counters.cut += 1,
            Drop::DeadDestination => self.counters.to_dead += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    #[test]
    fn partitions_cut_between_groups_and_heal() {
        let mut net = Network::new(NetworkConfig::default());
        for i in 0..4 {
            net.add_node(NodeId(i), 0);
        }
        net.set_group(NodeId(2), 1);
        net.set_group(NodeId(3), 1);
        net.cut_all_groups(2);
        assert!(net.can_reach(NodeId(0), NodeId(1)));
        assert!(!net.can_reach(NodeId(0), NodeId(2)));
        assert!(!net.can_reach(NodeId(3), NodeId(1)));
        net.heal();
        assert!(net.can_reach(NodeId(0), NodeId(2)));
    }

    #[test]
    fn one_way_cuts_and_blocked_links_are_directed() {
        let mut net = Network::new(NetworkConfig::default());
        for i in 0..3 {
            net.add_node(NodeId(i), if i == 2 { 1 } else { 0 });
        }
        net.cut_one_way(0, 1);
        assert!(!net.can_reach(NodeId(0), NodeId(2)));
        assert!(net.can_reach(NodeId(2), NodeId(0)));
        net.block_link(NodeId(0), NodeId(1));
        assert!(!net.can_reach(NodeId(0), NodeId(1)));
        assert!(net.can_reach(NodeId(1), NodeId(0)));
    }

    #[test]
    fn loss_rate_is_respected_and_latency_is_in_range() {
        let config = NetworkConfig { latency: Latency::Uniform { min_ms: 5.0, max_ms: 6.0 }, loss: 0.25 };
        let mut net = Network::new(config);
        net.add_node(NodeId(0), 0);
        net.add_node(NodeId(1), 0);
        let mut rng = Stream::new(1, Purpose::Network);
        let mut delivered = 0;
        for _ in 0..40_000 {
            if let Some(latency) = net.transmit(NodeId(0), NodeId(1), &mut rng) {
                assert!((5_000..=6_000).contains(&latency.0));
                delivered += 1;
            }
        }
        let loss = 1.0 - delivered as f64 / 40_000.0;
        assert!((loss - 0.25).abs() < 0.01, "loss {loss}");
        assert_eq!(net.counters.lost + delivered, 40_000);
    }

    #[test]
    fn a_latency_table_is_read_by_site() {
        let config =
            NetworkConfig { latency: Latency::Table { ms: vec![vec![1.0, 50.0], vec![60.0, 2.0]] }, loss: 0.0 };
        let mut net = Network::new(config);
        let mut rng = Stream::new(1, Purpose::Network);
        for i in 0..4 {
            net.add_node(NodeId(i), 0);
        }
        assert_eq!(net.transmit(NodeId(0), NodeId(1), &mut rng), Some(SimTime::from_millis(50)));
        assert_eq!(net.transmit(NodeId(3), NodeId(2), &mut rng), Some(SimTime::from_millis(60)));
        assert_eq!(net.transmit(NodeId(2), NodeId(0), &mut rng), Some(SimTime::from_millis(1)));
    }
}
