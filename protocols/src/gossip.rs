//! Flat push-pull gossip: one replicated value spread by anti-entropy over
//! a partial view.
//!
//! # The algorithm
//! Every node holds one replicated value as a *version* (the newest update
//! it has seen; 0 = none yet), the number of exchanges that version
//! travelled to reach it (*hops*, 0 at the node that published it), and a
//! *partial view*: at most `view_size` peers it may gossip with. Once per
//! round (a timer of period `round`, jittered when `randomized_timers`)
//! it picks a peer of its view uniformly and does a push-pull exchange
//! with it: it sends `exchange` with its version, hops and a sample of its
//! view (itself first), and the peer answers `reply` with the same of its
//! own. Each side keeps the newer version (taking the other's hops plus
//! one) and merges the sample into its view: peers it does not know are
//! added while there is room and otherwise replace a random entry, so
//! views keep mixing as in a peer-sampling service. This is the
//! anti-entropy of Demers et al. (PODC 1987, §1.3) in its push-pull form;
//! with a peer drawn uniformly from all nodes, push-pull reaches all of
//! n nodes in log₃ n + O(log log n) rounds (Karp, Schindelhauer, Shenker
//! and Vöcking, FOCS 2000, Theorem 2.1), the baseline Astrolabe's flat
//! gossip is measured against (Van Renesse et al., TOCS 2003, §7).
//!
//! A client publishes an update at any node (`Publish`, with a version
//! newer than every earlier one); the node takes it with hops 0. Every
//! time a node's version grows it reports `Learned` with the version and
//! its hops: the oracle's measure of how fast an update spreads.
//!
//! # Failures and joins
//! The protocol detects failures by its own messages, not by the engine's
//! failure detector: a peer that has not answered an exchange by the
//! node's next round leaves its view for its *dormant* list (crashed, cut
//! off, or the message was lost), which keeps the last `view_size` such
//! peers. A node probes a random dormant peer instead of a view peer in
//! one round out of four, and in every round while its view is empty; a
//! peer that answers, or that sends anything, is back in the view. Without
//! the probes a partition that outlasts a round or two splits the views
//! for good: each side forgets the other, and an update published on one
//! side never crosses (the swarm `check` found this). A new node's view is
//! its contact; its first exchange brings it a sample. A node with no peer
//! at all (its contact died before answering) waits for a fresh contact
//! (`Contact`, the bootstrap service a scenario may run). A node that
//! leaves just stops.
//!
//! # Local invariants
//! A view never holds the node itself or a peer twice and is at most
//! `view_size` long; the dormant list likewise, and no peer is in both; a
//! version never goes down; a node has hops only with a version (asserted
//! after every handler in builds with debug assertions:
//! [`Protocol::check_invariants`]).
//!
//! This is the template for a family that is not a ring: the runner's
//! gossip family (`scenarios/src/gossip.rs`) drives it, and Astrolabe's
//! zones replace the one value by rows of a zone tree.

use sim_core::{Ctx, Draw, IdSpace, Message, NodeId, Peer, Protocol, SimTime};
use smallvec::SmallVec;

/// Parameters every node of a gossip run shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipConfig {
    /// The period of a node's gossip round.
    pub round: SimTime,
    /// The most peers a view holds.
    pub view_size: usize,
    /// Peers sent with an exchange or reply, the sender included
    /// (1..=[`SAMPLE_CAPACITY`]).
    pub sample_size: usize,
    /// Jitter each round uniformly in [round/2, 3·round/2).
    pub randomized_timers: bool,
    /// A planted bug that `overlaysim check` must catch: a node answering
    /// an exchange claims a version one newer than it has.
    pub canary_invent_version: bool,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            round: SimTime::from_secs(1),
            view_size: 20,
            sample_size: 4,
            randomized_timers: true,
            canary_invent_version: false,
        }
    }
}

/// The most peers one message carries (kept inline: no allocation per send).
pub const SAMPLE_CAPACITY: usize = 4;

/// A few peers, inline.
pub type Sample = SmallVec<[Peer; SAMPLE_CAPACITY]>;

/// The two messages of an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GossipMessage {
    /// The push half: the initiator's version, hops and view sample.
    Exchange { version: u32, hops: u32, sample: Sample },
    /// The pull half: the same of the peer that was asked.
    Reply { version: u32, hops: u32, sample: Sample },
}

impl Message for GossipMessage {
    const KINDS: &'static [&'static str] = &["exchange", "reply"];
    fn kind_index(&self) -> usize {
        match self {
            GossipMessage::Exchange { .. } => 0,
            GossipMessage::Reply { .. } => 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GossipTimer {
    Round,
}

/// A client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GossipRequest {
    /// Publish an update at this node.
    Publish { version: u32 },
    /// A fresh contact from a bootstrap service (for a node left alone).
    Contact { peer: Peer },
}

/// A node's version grew: to `version`, which travelled `hops` exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Learned {
    pub version: u32,
    pub hops: u32,
}

/// One gossip node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gossip {
    me: Peer,
    version: u32,
    hops: u32,
    view: SmallVec<[Peer; 24]>,
    /// Peers that went silent, newest last; probed now and then.
    dormant: SmallVec<[Peer; 8]>,
    /// The peer asked in this round, until it answers.
    awaiting: Option<NodeId>,
}

impl Gossip {
    /// A node that starts with `view` (the converged start of a run: a
    /// uniformly random view, as a peer-sampling service would give).
    pub fn with_view(me: Peer, view: &[Peer], config: &GossipConfig) -> Self {
        let mut node =
            Gossip { me, version: 0, hops: 0, view: SmallVec::new(), dormant: SmallVec::new(), awaiting: None };
        for &peer in view.iter().take(config.view_size) {
            if peer.node != me.node && !node.knows(peer.node) {
                node.view.push(peer);
            }
        }
        node.assert_local_facts(config);
        node
    }

    /// The newest version this node has (0: none).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The exchanges that version travelled to reach this node.
    pub fn hops(&self) -> u32 {
        self.hops
    }

    /// The peers this node may gossip with.
    pub fn view(&self) -> &[Peer] {
        &self.view
    }

    fn knows(&self, node: NodeId) -> bool {
        self.view.iter().any(|p| p.node == node)
    }

    /// Takes `version` if it is newer, having travelled `hops` exchanges.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, version: u32, hops: u32) {
        if version > self.version {
            self.version = version;
            self.hops = hops;
            ctx.report(Learned { version, hops });
        }
    }

    /// Itself and up to `sample_size - 1` random peers of its view.
    fn sample(&self, ctx: &mut Ctx<'_, Self>) -> Sample {
        let mut sample = Sample::new();
        sample.push(self.me);
        let wanted = ctx.config.sample_size.clamp(1, SAMPLE_CAPACITY) - 1;
        let mut pool: SmallVec<[Peer; 24]> = self.view.clone();
        while sample.len() <= wanted && !pool.is_empty() {
            let pick = ctx.rng().below(pool.len() as u64) as usize;
            sample.push(pool.swap_remove(pick));
        }
        sample
    }

    /// The peers a node may probe when its view has gone silent.
    pub fn dormant(&self) -> &[Peer] {
        &self.dormant
    }

    /// Adds the peers of `sample` it does not know: while there is room,
    /// else in place of a random entry. The first is the sender, who just
    /// showed it lives: it always comes in.
    fn merge(&mut self, ctx: &mut Ctx<'_, Self>, sample: &[Peer]) {
        let capacity = ctx.config.view_size;
        for (i, &peer) in sample.iter().enumerate() {
            if peer.node == self.me.node || self.knows(peer.node) || capacity == 0 {
                continue;
            }
            if i == 0 {
                self.dormant.retain(|p| p.node != peer.node);
            } else if self.dormant.iter().any(|p| p.node == peer.node) {
                // Gone silent here: hearsay does not bring it back.
                continue;
            }
            if self.view.len() < capacity {
                self.view.push(peer);
            } else {
                let slot = ctx.rng().below(self.view.len() as u64) as usize;
                if Some(self.view[slot].node) == self.awaiting {
                    continue;
                }
                self.view[slot] = peer;
            }
        }
    }

    /// `peer` did not answer: from the view to the dormant list.
    fn silent(&mut self, ctx: &Ctx<'_, Self>, peer: NodeId) {
        let Some(at) = self.view.iter().position(|p| p.node == peer) else { return };
        let gone = self.view.remove(at);
        if !self.dormant.iter().any(|p| p.node == peer) {
            crate::ring::push_bounded(&mut self.dormant, gone, ctx.config.view_size.clamp(1, 8));
        }
    }

    /// This round's partner: a dormant peer in one round out of four (and
    /// whenever the view is empty), else a view peer; None when it knows
    /// nobody.
    fn partner(&mut self, ctx: &mut Ctx<'_, Self>) -> Option<NodeId> {
        let probe = !self.dormant.is_empty() && (self.view.is_empty() || ctx.rng().below(4) == 0);
        let pool: &[Peer] = if probe { &self.dormant } else { &self.view };
        if pool.is_empty() {
            return None;
        }
        let pick = ctx.rng().below(pool.len() as u64) as usize;
        Some(pool[pick].node)
    }

    fn arm_round(&self, ctx: &mut Ctx<'_, Self>) {
        let round = ctx.config.round;
        let after = if ctx.config.randomized_timers { ctx.jittered(round) } else { round };
        ctx.set_timer(after.max(SimTime(1)), GossipTimer::Round);
    }

    /// The local facts every handler leaves true.
    fn assert_local_facts(&self, config: &GossipConfig) {
        debug_assert!(self.view.len() <= config.view_size.max(1), "{:?}: view over {}", self.me, config.view_size);
        debug_assert!(self.view.iter().all(|p| p.node != self.me.node), "{:?}: its view holds itself", self.me);
        debug_assert!(
            self.view.iter().enumerate().all(|(i, p)| self.view[..i].iter().all(|q| q.node != p.node)),
            "{:?}: a peer twice in its view",
            self.me
        );
        debug_assert!(self.dormant.len() <= 8, "{:?}: dormant list over 8", self.me);
        debug_assert!(
            self.dormant.iter().all(|d| d.node != self.me.node && !self.knows(d.node)),
            "{:?}: a dormant peer is itself or in its view",
            self.me
        );
        debug_assert!(
            self.dormant.iter().enumerate().all(|(i, p)| self.dormant[..i].iter().all(|q| q.node != p.node)),
            "{:?}: a peer twice in its dormant list",
            self.me
        );
        debug_assert!(self.version > 0 || self.hops == 0, "{:?}: hops without a version", self.me);
        debug_assert!(self.awaiting.is_none_or(|n| n != self.me.node), "{:?}: awaits itself", self.me);
    }
}

impl Protocol for Gossip {
    type Config = GossipConfig;
    type Message = GossipMessage;
    type Timer = GossipTimer;
    type Request = GossipRequest;
    type Report = Learned;

    fn create(me: Peer, contact: Option<Peer>, config: &Self::Config) -> Self {
        Gossip::with_view(me, contact.as_slice(), config)
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.arm_round(ctx);
    }

    fn check_invariants(&self, config: &GossipConfig, _space: IdSpace) {
        self.assert_local_facts(config);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: Self::Message) {
        match message {
            GossipMessage::Exchange { version, hops, sample } => {
                let claimed = self.version + u32::from(ctx.config.canary_invent_version && self.version > 0);
                let answer = GossipMessage::Reply { version: claimed, hops: self.hops, sample: self.sample(ctx) };
                ctx.send(from, answer);
                self.learn(ctx, version, hops + 1);
                self.merge(ctx, &sample);
            }
            GossipMessage::Reply { version, hops, sample } => {
                if self.awaiting == Some(from) {
                    self.awaiting = None;
                }
                self.learn(ctx, version, hops + 1);
                self.merge(ctx, &sample);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer) {
        let GossipTimer::Round = timer;
        if let Some(silent) = self.awaiting.take() {
            self.silent(ctx, silent);
        }
        if let Some(peer) = self.partner(ctx) {
            let exchange = GossipMessage::Exchange { version: self.version, hops: self.hops, sample: self.sample(ctx) };
            ctx.send(peer, exchange);
            self.awaiting = Some(peer);
        }
        self.arm_round(ctx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Self::Request) {
        match request {
            GossipRequest::Publish { version } => {
                debug_assert!(version > self.version, "{:?}: published version {version} is not newer", self.me);
                self.learn(ctx, version, 0);
            }
            GossipRequest::Contact { peer } => self.merge(ctx, &[peer]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::rng::NodeRng;
    use sim_core::{Effect, RingId};

    fn peer(n: u32) -> Peer {
        Peer::new(NodeId(n), RingId(u64::from(n) * 100))
    }

    /// Runs one handler of `node` and returns its effects.
    fn handle(
        node: &mut Gossip,
        config: &GossipConfig,
        handler: impl FnOnce(&mut Gossip, &mut Ctx<'_, Gossip>),
    ) -> Vec<Effect<Gossip>> {
        let mut rng = NodeRng::from_key(7);
        let mut out = Vec::new();
        let mut ctx = Ctx::new(SimTime::ZERO, node.me, IdSpace::default(), config, &mut rng, &mut out);
        handler(node, &mut ctx);
        out
    }

    #[test]
    fn an_exchange_takes_the_newer_version_both_ways_and_answers() {
        let config = GossipConfig::default();
        let mut older = Gossip::with_view(peer(1), &[peer(2)], &config);
        let effects = handle(&mut older, &config, |n, ctx| {
            n.on_message(
                ctx,
                NodeId(2),
                GossipMessage::Exchange { version: 3, hops: 2, sample: Sample::from_slice(&[peer(2), peer(5)]) },
            );
        });
        assert_eq!((older.version(), older.hops()), (3, 3), "took the pushed version one hop further");
        assert!(older.view().iter().any(|p| p.node == NodeId(5)), "merged the sample");
        assert!(matches!(effects[0], Effect::Send { to: NodeId(2), message: GossipMessage::Reply { version: 0, .. } }));
        assert!(effects.contains(&Effect::Report { report: Learned { version: 3, hops: 3 } }));
        // An older version changes nothing.
        let effects = handle(&mut older, &config, |n, ctx| {
            n.on_message(ctx, NodeId(2), GossipMessage::Reply { version: 2, hops: 0, sample: Sample::new() });
        });
        assert_eq!(older.version(), 3);
        assert!(effects.is_empty());
    }

    #[test]
    fn a_silent_peer_leaves_the_view_at_the_next_round() {
        let config = GossipConfig { randomized_timers: false, ..GossipConfig::default() };
        let mut node = Gossip::with_view(peer(1), &[peer(2)], &config);
        let effects = handle(&mut node, &config, |n, ctx| n.on_timer(ctx, GossipTimer::Round));
        assert!(matches!(effects[0], Effect::Send { to: NodeId(2), message: GossipMessage::Exchange { .. } }));
        assert_eq!(node.awaiting, Some(NodeId(2)));
        let effects = handle(&mut node, &config, |n, ctx| n.on_timer(ctx, GossipTimer::Round));
        assert!(node.view().is_empty(), "no answer by the next round: out of the view");
        assert_eq!(node.dormant(), &[peer(2)]);
        assert!(
            matches!(effects[0], Effect::Send { to: NodeId(2), message: GossipMessage::Exchange { .. } }),
            "with an empty view, the dormant peer is probed"
        );
        // It answers: back in the view.
        handle(&mut node, &config, |n, ctx| {
            n.on_message(
                ctx,
                NodeId(2),
                GossipMessage::Reply { version: 0, hops: 0, sample: Sample::from_slice(&[peer(2)]) },
            );
        });
        assert_eq!((node.view(), node.dormant()), (&[peer(2)][..], &[][..]));
    }

    #[test]
    fn a_full_view_replaces_entries_and_never_holds_itself_or_a_peer_twice() {
        let config = GossipConfig { view_size: 3, ..GossipConfig::default() };
        let mut node = Gossip::with_view(peer(1), &[peer(2), peer(3), peer(4), peer(5)], &config);
        assert_eq!(node.view().len(), 3);
        for round in 0..20u32 {
            let sample = Sample::from_slice(&[peer(1), peer(6 + round % 5), peer(2)]);
            handle(&mut node, &config, |n, ctx| n.merge(ctx, &sample));
            node.assert_local_facts(&config);
        }
        assert!(node.view().iter().any(|p| p.node.0 >= 6), "new peers came in");
    }
}
