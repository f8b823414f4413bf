//! The failure-detector model: eventually perfect, with false suspicions.
//!
//! A node *watches* the peers it depends on. The engine keeps one link per
//! (watcher, peer) pair and decides every verdict. A link counts its
//! watches: the layers of one node (a mesh around a ring peer) watch and
//! unwatch on their own, and the link lasts while any of them holds it.
//! - a crashed or departed peer is suspected by each of its watchers after
//!   the detection delay (completeness);
//! - false suspicions arrive as a Poisson process of rate λ per watched link
//!   (λ = `false_suspicions_per_link_per_hour`) and are retracted with an
//!   `alive` after an exponential time of mean `false_suspicion_mean`
//!   (eventual accuracy);
//! - a partition makes every link that crosses it suspected after the
//!   detection delay, and the heal retracts those suspicions after the same
//!   delay.
//!
//! The false-suspicion process runs at rate λ·L for L links. Its next event
//! is drawn for the current L and drawn again (the old one becomes stale)
//! whenever L drifts by more than an eighth since the draw; the exponential
//! gap is memoryless, so redrawing keeps the process Poisson with a rate
//! within 12.5 % of λ·L at every instant.
//!
//! This module is the bookkeeping (which links exist, which are suspected,
//! a uniform pick among them); `sim` schedules the verdicts.

use crate::id::NodeId;
use crate::rng::Draw;
use crate::time::SimTime;

#[derive(Clone, Debug, PartialEq)]
pub struct DetectorConfig {
    pub detection_delay: SimTime,
    pub false_suspicions_per_link_per_hour: f64,
    pub false_suspicion_mean: SimTime,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            detection_delay: SimTime::from_millis(500),
            false_suspicions_per_link_per_hour: 0.0,
            false_suspicion_mean: SimTime::from_secs(1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LinkState {
    /// Position in `order`, for O(1) uniform picks and swap-removal.
    position: u32,
    suspected: bool,
    /// How many watches hold the link.
    holds: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectorCounters {
    pub suspicions: u64,
    pub false_suspicions: u64,
    pub retractions: u64,
}

#[derive(Debug)]
pub struct Detector {
    pub config: DetectorConfig,
    /// Per watcher (dense by node index): the peers it watches, by peer.
    /// A node watches a handful of peers, so a sorted list beats any map:
    /// one index and a short scan, in memory next to its neighbours' lists.
    watching: Vec<Vec<(NodeId, LinkState)>>,
    /// Per peer (dense by node index): its watchers, by watcher.
    watched_by: Vec<Vec<NodeId>>,
    order: Vec<(NodeId, NodeId)>,
    /// The link count the pending false-suspicion event was drawn for, and
    /// its generation (older events are stale).
    drawn_for_links: usize,
    pub false_suspicion_generation: u32,
    pub counters: DetectorCounters,
}

/// The list of `node` in a per-node table, grown on demand.
fn list_of<T>(table: &mut Vec<Vec<T>>, node: NodeId) -> &mut Vec<T> {
    if table.len() <= node.index() {
        table.resize_with(node.index() + 1, Vec::new);
    }
    &mut table[node.index()]
}

impl Detector {
    pub fn new(config: DetectorConfig) -> Self {
        Detector {
            config,
            watching: Vec::new(),
            watched_by: Vec::new(),
            order: Vec::new(),
            drawn_for_links: 0,
            false_suspicion_generation: 0,
            counters: DetectorCounters::default(),
        }
    }

    /// Whether the pending false-suspicion event should be drawn again: the
    /// process is on and the link count drifted by more than an eighth.
    pub fn false_suspicion_rate_drifted(&self) -> bool {
        if self.config.false_suspicions_per_link_per_hour <= 0.0 {
            return false;
        }
        let (now, then) = (self.order.len(), self.drawn_for_links);
        now.abs_diff(then) * 8 > then.max(1)
    }

    fn peers_of(&self, watcher: NodeId) -> &[(NodeId, LinkState)] {
        self.watching.get(watcher.index()).map_or(&[], Vec::as_slice)
    }

    fn link(&self, watcher: NodeId, peer: NodeId) -> Option<&LinkState> {
        let peers = self.peers_of(watcher);
        peers.binary_search_by_key(&peer, |&(p, _)| p).ok().map(|i| &peers[i].1)
    }

    fn link_mut(&mut self, watcher: NodeId, peer: NodeId) -> Option<&mut LinkState> {
        let peers = self.watching.get_mut(watcher.index())?;
        let i = peers.binary_search_by_key(&peer, |&(p, _)| p).ok()?;
        Some(&mut peers[i].1)
    }

    /// Adds the link, or one more hold on it; false when it already existed.
    pub fn watch(&mut self, watcher: NodeId, peer: NodeId) -> bool {
        if watcher == peer {
            return false;
        }
        let position = self.order.len() as u32;
        let peers = list_of(&mut self.watching, watcher);
        match peers.binary_search_by_key(&peer, |&(p, _)| p) {
            Ok(i) => {
                peers[i].1.holds += 1;
                return false;
            }
            Err(i) => peers.insert(i, (peer, LinkState { position, suspected: false, holds: 1 })),
        }
        self.order.push((watcher, peer));
        let watchers = list_of(&mut self.watched_by, peer);
        let at = watchers.partition_point(|&w| w < watcher);
        watchers.insert(at, watcher);
        true
    }

    /// Releases one hold; the last one removes the link.
    pub fn unwatch(&mut self, watcher: NodeId, peer: NodeId) {
        let Some(state) = self.link_mut(watcher, peer) else { return };
        state.holds -= 1;
        if state.holds == 0 {
            self.remove_link(watcher, peer);
        }
    }

    /// Removes the link, whatever holds it.
    fn remove_link(&mut self, watcher: NodeId, peer: NodeId) {
        let Some(peers) = self.watching.get_mut(watcher.index()) else { return };
        let Ok(i) = peers.binary_search_by_key(&peer, |&(p, _)| p) else { return };
        let (_, state) = peers.remove(i);
        if let Some(watchers) = self.watched_by.get_mut(peer.index())
            && let Ok(at) = watchers.binary_search(&watcher)
        {
            watchers.remove(at);
        }
        let position = state.position as usize;
        self.order.swap_remove(position);
        if let Some(&(w, p)) = self.order.get(position) {
            self.link_mut(w, p).expect("moved link exists").position = state.position;
        }
    }

    /// Drops every link the node watches (it stopped), in peer order. Links
    /// that watch it stay, so its watchers can suspect it.
    pub fn remove_watcher(&mut self, watcher: NodeId) {
        while let Some(&(peer, _)) = self.peers_of(watcher).first() {
            self.remove_link(watcher, peer);
        }
    }

    /// The watchers of `peer`, in node order.
    pub fn watchers_of(&self, peer: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.watched_by.get(peer.index()).map_or(&[][..], Vec::as_slice).iter().copied()
    }

    /// Every link, in (watcher, peer) order.
    pub fn links(&self) -> impl Iterator<Item = (NodeId, NodeId, bool)> + '_ {
        self.watching
            .iter()
            .enumerate()
            .flat_map(|(w, peers)| peers.iter().map(move |&(p, s)| (NodeId(w as u32), p, s.suspected)))
    }

    pub fn is_watching(&self, watcher: NodeId, peer: NodeId) -> bool {
        self.link(watcher, peer).is_some()
    }

    pub fn is_suspected(&self, watcher: NodeId, peer: NodeId) -> bool {
        self.link(watcher, peer).is_some_and(|s| s.suspected)
    }

    /// Marks the link suspected; false if it is gone or already suspected.
    pub fn set_suspected(&mut self, watcher: NodeId, peer: NodeId, suspected: bool) -> bool {
        match self.link_mut(watcher, peer) {
            Some(state) if state.suspected != suspected => {
                state.suspected = suspected;
                true
            }
            _ => false,
        }
    }

    pub fn link_count(&self) -> usize {
        self.order.len()
    }

    /// A uniformly chosen link, if any.
    pub fn pick_link(&self, rng: &mut impl Draw) -> Option<(NodeId, NodeId)> {
        if self.order.is_empty() {
            return None;
        }
        Some(self.order[rng.below(self.order.len() as u64) as usize])
    }

    /// Time to the next false suspicion for the current number of links;
    /// remembers the link count it was drawn for
    /// and starts a new generation. None when the process is off or there is
    /// no link (a watch will draw again).
    pub fn next_false_suspicion_in(&mut self, rng: &mut impl Draw) -> Option<SimTime> {
        let per_hour = self.config.false_suspicions_per_link_per_hour;
        self.drawn_for_links = self.order.len();
        self.false_suspicion_generation = self.false_suspicion_generation.wrapping_add(1);
        if per_hour <= 0.0 || self.order.is_empty() {
            return None;
        }
        let mean_s = 3600.0 / (per_hour * self.order.len() as f64);
        Some(SimTime::from_secs_f64(rng.exponential(mean_s)).max(SimTime(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    #[test]
    fn links_are_added_removed_and_indexed_by_peer() {
        let mut d = Detector::new(DetectorConfig::default());
        assert!(d.watch(NodeId(1), NodeId(2)));
        assert!(!d.watch(NodeId(1), NodeId(2)));
        assert!(!d.watch(NodeId(1), NodeId(1)));
        d.watch(NodeId(3), NodeId(2));
        d.watch(NodeId(1), NodeId(4));
        assert_eq!(d.watchers_of(NodeId(2)).collect::<Vec<_>>(), [NodeId(1), NodeId(3)]);
        // Watched twice (two layers of node 1): the first unwatch leaves it.
        d.unwatch(NodeId(1), NodeId(2));
        assert!(d.is_watching(NodeId(1), NodeId(2)));
        d.unwatch(NodeId(1), NodeId(2));
        assert_eq!(d.watchers_of(NodeId(2)).collect::<Vec<_>>(), [NodeId(3)]);
        assert_eq!(d.link_count(), 2);
        d.remove_watcher(NodeId(1));
        assert_eq!(d.link_count(), 1);
        assert!(d.is_watching(NodeId(3), NodeId(2)));
        // The swap-removal kept positions consistent: picking still works.
        let mut rng = Stream::new(1, Purpose::Detector);
        assert_eq!(d.pick_link(&mut rng), Some((NodeId(3), NodeId(2))));
    }

    #[test]
    fn suspicion_flags_change_once() {
        let mut d = Detector::new(DetectorConfig::default());
        d.watch(NodeId(1), NodeId(2));
        assert!(d.set_suspected(NodeId(1), NodeId(2), true));
        assert!(!d.set_suspected(NodeId(1), NodeId(2), true));
        assert!(d.is_suspected(NodeId(1), NodeId(2)));
        assert!(d.set_suspected(NodeId(1), NodeId(2), false));
        assert!(!d.set_suspected(NodeId(9), NodeId(2), true));
    }

    #[test]
    fn false_suspicion_rate_scales_with_links() {
        let config = DetectorConfig { false_suspicions_per_link_per_hour: 3600.0, ..DetectorConfig::default() };
        let mut d = Detector::new(config);
        for i in 1..=10 {
            d.watch(NodeId(0), NodeId(i));
        }
        let mut rng = Stream::new(5, Purpose::Detector);
        assert!(!d.false_suspicion_rate_drifted() || d.next_false_suspicion_in(&mut rng).is_some());
        let n = 20_000;
        let mean = (0..n).map(|_| d.next_false_suspicion_in(&mut rng).unwrap().as_secs_f64()).sum::<f64>() / n as f64;
        // One per link per second over ten links: a mean gap of 0.1 s.
        assert!((mean - 0.1).abs() < 0.003, "mean gap {mean}");
        let mut off = Detector::new(DetectorConfig::default());
        assert_eq!(off.next_false_suspicion_in(&mut rng), None);
        // Drift: ten links drawn for, two more is within an eighth? No: 2*8 > 10.
        assert!(!d.false_suspicion_rate_drifted());
        d.watch(NodeId(0), NodeId(11));
        assert!(!d.false_suspicion_rate_drifted());
        d.watch(NodeId(0), NodeId(12));
        assert!(d.false_suspicion_rate_drifted());
    }
}
