//! Ring unification: the merge layer that zips rings back together after a
//! network partition heals.
//!
//! Shafaat, Ghodsi and Haridi, "Handling Network Partitions and Mergers in
//! Structured Overlay Networks", P2P 2007, and "Dealing with network
//! partitions in structured overlay networks", Peer-to-Peer Networking and
//! Applications 2(4), 2009 (§3 detection, §4 simple and gossip-based ring
//! unification, §5 loopy rings).
//!
//! # Why rings do not merge by themselves
//! During a partition each side suspects the other and repairs around it:
//! every pointer that crossed the cut is dropped, and each side stabilizes
//! into a ring of its own. When the network heals nothing points across any
//! more, so Chord's stabilization, which only ever asks a successor about its
//! predecessor, keeps the rings apart for good.
//!
//! # Detection: the passive list
//! [`Merging`] wraps any ring protocol that implements [`Mergeable`]. Each
//! node keeps a *passive list*: every peer its ring suspected (taken from its
//! pointers at the moment of the suspicion), at most `passive_capacity`
//! entries, each kept `passive_keep` long. Every `ping_every` the node pings
//! the entries; one that answers (`pong`), or that the failure detector
//! declares alive again, is *detected*: it lives, and it may belong to
//! another ring. The node removes it from the list and starts `mlookup` for
//! it. A `kick` request adds a contact by hand, which covers rings that never
//! shared a pointer (built apart, or whose passive entries all expired).
//!
//! The papers guard pings with nonces so that a restarted process at the same
//! address does not pass for the old node. Here an address ([`NodeId`]) is
//! never reused by another incarnation, so the `pong` of the very node that
//! was suspected is the only answer a ping can get: the node's identity is its
//! nonce.
//!
//! # Simple ring unification
//! `mlookup(q)` moves greedily toward q's identifier on the node's current
//! ring. A node n that handles it stops when q is n or its successor; when q
//! lies in (n, succ), n sends q `trymerge(n, succ)` and offers q to its own
//! ring as successor; when q lies in (pred, n), it sends q
//! `trymerge(pred, n)` and offers q as predecessor; otherwise it forwards
//! the `mlookup` to its closest preceding peer for q. A node receiving
//! `trymerge(cpred, csucc)` offers csucc to its ring as a successor (adopted when it lies in
//! (n, succ)), then runs `mlookup(csucc)`; offers cpred as a predecessor
//! (adopted when it lies in (pred, n)), then runs `mlookup(cpred)`. Each
//! `trymerge` thus brings two pointers closer and starts two new `mlookup`s
//! from where the rings meet, which zip the two rings together in both
//! directions, one neighbourhood after another: merge time grows about
//! linearly with the ring size.
//!
//! What "adopt" means is the wrapped protocol's business ([`Mergeable`]):
//! Chord takes a closer successor at once and notifies it, and treats a
//! predecessor offer as a `notify`; the relaxed ring takes a closer
//! successor with `fix` (its own two-peer agreement), and answers a
//! predecessor offer with a `hint` to that peer, whose `fix` then makes it
//! the predecessor. Stabilization, or the relaxed ring's `fix`, completes
//! the successor lists and predecessors afterwards.
//!
//! # Gossip-based ring unification
//! With fanout F > 0, a `trymerge` that brings news (a cpred or csucc that
//! was not already the node's predecessor or successor) also spreads the
//! merge: the node sends F `mlookup`s, each for one of its own fingers
//! chosen at random, to the peer of the other ring it just met (csucc). That
//! peer routes them on its own ring, so each one ends in a `trymerge` at a
//! random, far away point of the first ring: zipping proceeds in many places
//! at once and merge time grows about logarithmically with the ring size,
//! falling as F grows while messages rise. Each such `mlookup` carries a
//! budget, one less than the `trymerge` that spawned it, and a `trymerge`
//! that brings no news spawns none: a false detection dies out after a few
//! messages.
//!
//! # Loopy rings (2009 §5)
//! A ring whose successor pointers go around the identifier space more than
//! once is stable under stabilization: every node's successor has it as its
//! predecessor. With `loop_check`, each node compares its successor with its
//! other pointers every `ping_every`: a finger that lies strictly between the
//! node and its successor betrays a loop (or a join not yet stabilized), and
//! is detected as if it had answered a ping. The `trymerge` that follows
//! unwinds the loop as it would merge two rings. The same period runs the
//! ring's own tidying ([`Mergeable::tidy`]): the relaxed ring hints every
//! peer of its predlist that still points to it from a branch, since
//! branches that merges leave behind were started by no join and so have
//! no hint pending.
//!
//! # Where this reading departs from the papers
//! The papers' pseudocode was not at hand; this follows their published
//! description. The queue of pending detections is processed at once rather
//! than one per period; gossip targets are the node's fingers; the budget is
//! spent per generation of `trymerge`, not per hop. Each of the other
//! departures was forced by a failure the 1000-seed merge check found:
//! - The node where an `mlookup` ends offers the target to its own ring
//!   too: in a merge the `trymerge` round trip would tell it anyway, but in
//!   a loopy ring that round trip follows the same ring back and never
//!   arrives.
//! - Whenever a handler gives a node a closer successor s in place of o,
//!   the node sends s `trymerge(self, o)`: stabilization may link two rings
//!   before a `trymerge` does, and the zipping would stop there.
//! - A repeat of one of the last few `trymerge`s is ignored, and no
//!   `mlookup` is run for a csucc that already was the successor: two nodes
//!   with pointers not yet settled would otherwise bounce the same
//!   `trymerge`, each bounce starting two more.
//! - The merge layer never overrides the ring's failure detector: a peer
//!   the ring still suspects is not offered but put on the passive list, to
//!   come back as a detection once it answers and the suspicion is
//!   retracted. (Taking a suspicion back on hearsay let a node adopt a
//!   peer that crashed meanwhile and never be told.)
//! - Only members merge: a joiner answers pings as a non-member and ignores
//!   `mlookup` and `trymerge`. A member alone on a ring of its own puts the
//!   contact it joined through on its passive list.

//! # Messages
//! `merge_ping`, `merge_pong` (detection); `mlookup`, `trymerge`
//! (unification); then every message of the wrapped ring, under its own name.

use crate::ring::{self, Control, LookupOutcome, RingProtocol, RingView};
pub use sim_core::protocol::concat_kinds;
use sim_core::protocol::{Wrapping, delegate};
use sim_core::{Ctx, Draw, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};
use smallvec::SmallVec;

/// The merge layer's own message kinds; the wrapped ring's follow them.
pub const MERGE_KINDS: [&str; 4] = ["merge_ping", "merge_pong", "mlookup", "trymerge"];

/// What the merge layer asks of the ring protocol it wraps.
pub trait Mergeable: RingProtocol<Message: MergeKinds> {
    /// The next hop toward `key`: the closest live peer before it that this
    /// node knows, or its successor when it knows none.
    fn next_hop(&self, space: IdSpace, config: &Self::Config, key: RingId) -> Peer;
    /// `peer` may be a closer successor: adopt it if it lies in
    /// (self, successor) and is not suspected.
    fn offer_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer);
    /// `peer` may be a closer predecessor: take it, or make it take this
    /// node, if it lies in (predecessor, self) and is not suspected.
    fn offer_predecessor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer);
    /// Whether the ring suspects `node` (it then refuses offers of it).
    fn suspects(&self, node: NodeId) -> bool;
    /// The peer the node joined through, if any.
    fn contact(&self) -> Option<Peer>;
    /// The long-range pointers, without the allocation of
    /// [`RingView::finger_peers`] (read at every ping period).
    fn fingers(&self) -> impl Iterator<Item = Peer> + '_;
    /// Periodic repair the ring itself lacks, run with the loop check.
    fn tidy(&mut self, _ctx: &mut Ctx<'_, Self>) {}
}

/// The message kinds of a ring wrapped by the merge layer:
/// [`MERGE_KINDS`] followed by the ring's own.
pub trait MergeKinds: Message {
    const MERGING_KINDS: &'static [&'static str];
}

/// Parameters of the merge layer, around the wrapped ring's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeConfig<C> {
    pub ring: C,
    /// F: extra `mlookup`s per `trymerge` that changed a pointer; 0 is simple
    /// ring unification.
    pub fanout: u8,
    /// Generations of gossip a detection may spawn.
    pub gossip_budget: u8,
    /// How often the passive list is pinged (and the loop check runs).
    pub ping_every: SimTime,
    /// Entries kept at once; the oldest is dropped first.
    pub passive_capacity: usize,
    /// How long a suspected peer stays on the passive list.
    pub passive_keep: SimTime,
    /// Treat a finger between this node and its successor as a detection.
    pub loop_check: bool,
    /// An `mlookup` is dropped after this many hops.
    pub max_mlookup_hops: u16,
}

impl<C: Default> Default for MergeConfig<C> {
    fn default() -> Self {
        MergeConfig {
            ring: C::default(),
            fanout: 0,
            gossip_budget: 16,
            ping_every: SimTime::from_secs(1),
            passive_capacity: 16,
            passive_keep: SimTime::from_secs(600),
            loop_check: true,
            max_mlookup_hops: 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MergeMessage<M> {
    Ring(M),
    Ping,
    /// The answer to a ping; a peer still joining (not a member) is not a
    /// ring to merge with yet.
    Pong {
        member: bool,
    },
    /// Move toward `target` on the current ring.
    MLookup {
        target: Peer,
        budget: u8,
        hops: u16,
    },
    TryMerge {
        cpred: Peer,
        csucc: Peer,
        budget: u8,
    },
}

impl<M: MergeKinds> Message for MergeMessage<M> {
    const KINDS: &'static [&'static str] = M::MERGING_KINDS;
    fn kind_index(&self) -> usize {
        match self {
            MergeMessage::Ping => 0,
            MergeMessage::Pong { .. } => 1,
            MergeMessage::MLookup { .. } => 2,
            MergeMessage::TryMerge { .. } => 3,
            MergeMessage::Ring(message) => MERGE_KINDS.len() + message.kind_index(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MergeTimer<T> {
    Ring(T),
    Ping,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MergeRequest<R> {
    Ring(R),
    /// Put `contact` on the passive list (an external kick).
    Kick {
        contact: Peer,
    },
}

/// A peer seen suspected, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Passive {
    peer: Peer,
    since: SimTime,
}

/// A ring node with the merge layer around it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Merging<P> {
    ring: P,
    passive: SmallVec<[Passive; 4]>,
    /// The last `trymerge`s handled, as (cpred, csucc): a repeat is
    /// ignored, which stops two nodes from bouncing the same offer.
    recent: SmallVec<[(NodeId, NodeId); 2]>,
}

/// `trymerge`s remembered per node.
const RECENT_TRYMERGES: usize = 8;

impl<P: Mergeable> Merging<P> {
    /// The wrapped ring node.
    pub fn ring(&self) -> &P {
        &self.ring
    }

    /// Runs a handler of the wrapped ring with this node's context. When
    /// the handler gave the node a closer successor s in place of o (a join,
    /// stabilization, or a merge offer), s may have come from another ring:
    /// `trymerge(self, o)` to s carries the zipping on from there.
    fn with_ring<R>(&mut self, ctx: &mut Ctx<'_, Self>, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>) -> R) -> R {
        self.with_ring_budget(ctx, 0, handler)
    }

    /// [`Self::with_ring`], with the gossip budget the hook's `trymerge`
    /// carries on.
    fn with_ring_budget<R>(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        budget: u8,
        handler: impl FnOnce(&mut P, &mut Ctx<'_, P>) -> R,
    ) -> R {
        let old = self.ring.successor();
        let wrapping = Wrapping { message: MergeMessage::Ring, timer: MergeTimer::Ring, report: |r| r };
        let result = delegate(ctx, &mut self.ring, |c| &c.ring, wrapping, handler);
        let me = ctx.me;
        if let (Some(old), Some(new)) = (old, self.ring.successor())
            && old.node != me.node
            && new.node != me.node
            && new.node != old.node
            && ctx.space.in_open_open(new.id, me.id, old.id)
        {
            ctx.send(new.node, MergeMessage::TryMerge { cpred: me, csucc: old, budget });
        }
        result
    }

    fn arm_ping(ctx: &mut Ctx<'_, Self>) {
        let period = ctx.config.ping_every;
        if period > SimTime::ZERO {
            let after = ctx.jittered(period);
            ctx.set_timer(after, MergeTimer::Ping);
        }
    }

    /// The ring's pointer to `node`, if it has one.
    fn known(&self, node: NodeId) -> Option<Peer> {
        let ring = &self.ring;
        ring.successor_list()
            .iter()
            .chain(ring.predecessor().iter())
            .copied()
            .find(|p| p.node == node)
            .or_else(|| ring.fingers().find(|p| p.node == node))
    }

    fn remember(&mut self, ctx: &Ctx<'_, Self>, peer: Peer) {
        if peer.node == ctx.me.node || self.passive.iter().any(|p| p.peer.node == peer.node) {
            return;
        }
        ring::push_bounded(&mut self.passive, Passive { peer, since: ctx.now }, ctx.config.passive_capacity.max(1));
    }

    /// Takes `node` off the passive list, if it was there.
    fn take_passive(&mut self, node: NodeId) -> Option<Peer> {
        let index = self.passive.iter().position(|p| p.peer.node == node)?;
        Some(self.passive.remove(index).peer)
    }

    /// Offers `peer` to the ring as successor (or predecessor). A peer the
    /// ring still suspects goes on the passive list instead, to be offered
    /// again once it answers a ping and the failure detector has taken the
    /// suspicion back: the merge layer never overrides the ring's detector.
    fn offer(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer, as_successor: bool, budget: u8) {
        if self.ring.suspects(peer.node) {
            self.remember(ctx, peer);
        } else if as_successor {
            self.with_ring_budget(ctx, budget, |ring, inner| ring.offer_successor(inner, peer));
        } else {
            self.with_ring_budget(ctx, budget, |ring, inner| ring.offer_predecessor(inner, peer));
        }
    }

    /// `peer` lives and may be on another ring: look for it on ours.
    fn detected(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        let budget = ctx.config.gossip_budget;
        self.mlookup(ctx, peer, budget, 0);
    }

    fn mlookup(&mut self, ctx: &mut Ctx<'_, Self>, target: Peer, budget: u8, hops: u16) {
        let me = ctx.me;
        let space = ctx.space;
        let succ = self.ring.successor().unwrap_or(me);
        if target.node == me.node || target.node == succ.node {
            return;
        }
        if space.in_open_open(target.id, me.id, succ.id) {
            // Taking the target as successor sends it this trymerge already.
            self.offer(ctx, target, true, budget);
            if self.ring.successor().is_none_or(|s| s.node != target.node) {
                ctx.send(target.node, MergeMessage::TryMerge { cpred: me, csucc: succ, budget });
            }
            return;
        }
        if let Some(pred) = self.ring.predecessor().filter(|p| p.node != me.node)
            && space.in_open_open(target.id, pred.id, me.id)
        {
            ctx.send(target.node, MergeMessage::TryMerge { cpred: pred, csucc: me, budget });
            self.offer(ctx, target, false, budget);
            return;
        }
        if hops >= ctx.config.max_mlookup_hops {
            return;
        }
        let next = self.ring.next_hop(space, &ctx.config.ring, target.id);
        if next.node != me.node {
            ctx.send(next.node, MergeMessage::MLookup { target, budget, hops: hops + 1 });
        }
    }

    fn trymerge(&mut self, ctx: &mut Ctx<'_, Self>, cpred: Peer, csucc: Peer, budget: u8) {
        if self.recent.contains(&(cpred.node, csucc.node)) {
            return;
        }
        ring::push_bounded(&mut self.recent, (cpred.node, csucc.node), RECENT_TRYMERGES);
        let before = (self.ring.successor(), self.ring.predecessor());
        let known = |p: Peer| before.0.is_some_and(|s| s.node == p.node) || before.1.is_some_and(|q| q.node == p.node);
        if csucc.node != ctx.me.node && !known(csucc) {
            self.offer(ctx, csucc, true, budget);
            self.mlookup(ctx, csucc, budget, 0);
        }
        if cpred.node != ctx.me.node {
            self.offer(ctx, cpred, false, budget);
            self.mlookup(ctx, cpred, budget, 0);
        }
        // Gossip when the offer was news: a real merge names peers of the
        // other ring, a false detection names the neighbours we have.
        let news = !known(csucc) || !known(cpred);
        let fanout = ctx.config.fanout as usize;
        if fanout > 0 && budget > 0 && news && csucc.node != ctx.me.node {
            let mut fingers: Vec<Peer> = self.ring.fingers().collect();
            fingers.dedup();
            fingers.retain(|p| p.node != csucc.node && p.node != ctx.me.node);
            for k in 0..fanout.min(fingers.len()) {
                let pick = k + ctx.rng().below((fingers.len() - k) as u64) as usize;
                fingers.swap(k, pick);
                let message = MergeMessage::MLookup { target: fingers[k], budget: budget - 1, hops: 0 };
                ctx.send(csucc.node, message);
            }
        }
    }

    fn on_ping_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        let keep = ctx.config.passive_keep;
        let now = ctx.now;
        self.passive.retain(|p| now.saturating_sub(p.since) <= keep);
        for entry in &self.passive {
            ctx.send(entry.peer.node, MergeMessage::Ping);
        }
        // Alone: the contact it joined through may still answer (a kick
        // from its own past).
        let me = ctx.me.node;
        if self.ring.is_member()
            && self.ring.successor().is_none_or(|s| s.node == me)
            && let Some(contact) = self.ring.contact().filter(|c| c.node != me)
        {
            self.remember(ctx, contact);
        }
        if ctx.config.loop_check && self.ring.is_member() {
            self.with_ring(ctx, |ring, inner| ring.tidy(inner));
            let me = ctx.me;
            let space = ctx.space;
            let succ = self.ring.successor().unwrap_or(me);
            let closer = self
                .ring
                .fingers()
                .filter(|p| p.node != me.node && space.in_open_open(p.id, me.id, succ.id))
                .min_by_key(|p| space.distance(me.id, p.id));
            if let Some(closer) = closer {
                self.detected(ctx, closer);
            }
        }
        Self::arm_ping(ctx);
    }
}

impl<P: Mergeable> Protocol for Merging<P> {
    type Config = MergeConfig<P::Config>;
    type Message = MergeMessage<P::Message>;
    type Timer = MergeTimer<P::Timer>;
    type Request = MergeRequest<P::Request>;
    type Report = P::Report;

    fn create(me: Peer, contact: Option<Peer>, config: &Self::Config) -> Self {
        Merging { ring: P::create(me, contact, &config.ring), passive: SmallVec::new(), recent: SmallVec::new() }
    }

    fn is_member(&self) -> bool {
        self.ring.is_member()
    }

    /// The ring's own invariants; the passive list holds no peer twice,
    /// never this node, and at most `passive_capacity`; the remembered
    /// `trymerge`s stay bounded.
    fn check_invariants(&self, config: &Self::Config, space: IdSpace) {
        self.ring.check_invariants(&config.ring, space);
        let me = self.ring.ring_id();
        let passive = || self.passive.iter().map(|p| p.peer.node);
        debug_assert!(ring::distinct(passive()), "{me}: a passive peer twice");
        debug_assert!(self.passive.iter().all(|p| p.peer.id != me), "{me}: itself on its passive list");
        debug_assert!(self.passive.len() <= config.passive_capacity.max(1), "{me}: passive list over capacity");
        debug_assert!(self.recent.len() <= RECENT_TRYMERGES, "{me}: too many trymerges remembered");
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.with_ring(ctx, |ring, inner| ring.on_start(inner));
        Self::arm_ping(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: Self::Message) {
        match message {
            MergeMessage::Ring(message) => self.with_ring(ctx, |ring, inner| ring.on_message(inner, from, message)),
            MergeMessage::Ping => ctx.send(from, MergeMessage::Pong { member: self.ring.is_member() }),
            MergeMessage::Pong { member } => {
                if member
                    && self.ring.is_member()
                    && let Some(peer) = self.take_passive(from)
                {
                    self.detected(ctx, peer);
                }
            }
            // Only members merge rings: a joiner has no ring yet.
            MergeMessage::MLookup { target, budget, hops } => {
                if self.ring.is_member() {
                    self.mlookup(ctx, target, budget, hops);
                }
            }
            MergeMessage::TryMerge { cpred, csucc, budget } => {
                if self.ring.is_member() {
                    self.trymerge(ctx, cpred, csucc, budget);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer) {
        match timer {
            MergeTimer::Ring(timer) => self.with_ring(ctx, |ring, inner| ring.on_timer(inner, timer)),
            MergeTimer::Ping => self.on_ping_timer(ctx),
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        if let Some(known) = self.known(peer) {
            self.remember(ctx, known);
        }
        self.with_ring(ctx, |ring, inner| ring.on_suspect(inner, peer));
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.with_ring(ctx, |ring, inner| ring.on_alive(inner, peer));
        if self.ring.is_member()
            && let Some(peer) = self.take_passive(peer)
        {
            self.detected(ctx, peer);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Self::Request) {
        match request {
            MergeRequest::Ring(request) => self.with_ring(ctx, |ring, inner| ring.on_request(inner, request)),
            MergeRequest::Kick { contact } => self.remember(ctx, contact),
        }
    }

    fn on_leave(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.with_ring(ctx, |ring, inner| ring.on_leave(inner));
    }
}

impl<P: Mergeable> RingView for Merging<P> {
    fn ring_id(&self) -> RingId {
        self.ring.ring_id()
    }
    fn predecessor(&self) -> Option<Peer> {
        self.ring.predecessor()
    }
    fn successor_list(&self) -> &[Peer] {
        self.ring.successor_list()
    }
    fn finger_peers(&self) -> Vec<Peer> {
        self.ring.finger_peers()
    }
    fn connections(&self) -> usize {
        self.ring.connections()
    }
    fn claimed_range(&self) -> Option<(RingId, RingId)> {
        self.ring.claimed_range()
    }
    fn lookup_answers(&self) -> Option<crate::ring::LookupAnswers> {
        self.ring.lookup_answers()
    }
    fn drops_suspected_successor(&self) -> bool {
        self.ring.drops_suspected_successor()
    }
}

impl<P: Mergeable> RingProtocol for Merging<P> {
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &Self::Config) -> Self {
        Merging { ring: P::ideal(ring, index, space, &config.ring), passive: SmallVec::new(), recent: SmallVec::new() }
    }

    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]) {
        self.ring.set_ring_pointers(pred, successors);
    }

    fn lookup_request(tag: u64, key: RingId) -> Self::Request {
        MergeRequest::Ring(P::lookup_request(tag, key))
    }

    fn maintenance_request() -> Option<Self::Request> {
        P::maintenance_request().map(MergeRequest::Ring)
    }

    fn kick_request(contact: Peer) -> Option<Self::Request> {
        Some(MergeRequest::Kick { contact })
    }

    fn contact_request(contact: Peer) -> Option<Self::Request> {
        P::contact_request(contact).map(MergeRequest::Ring)
    }

    const BUILD_KINDS: &'static [&'static str] = P::BUILD_KINDS;
    const HINT_KINDS: &'static [&'static str] = P::HINT_KINDS;

    fn lookup_outcome(report: &Self::Report) -> Option<LookupOutcome> {
        P::lookup_outcome(report)
    }

    fn claims_lookup_consistency(faults: crate::ring::FaultHistory) -> bool {
        P::claims_lookup_consistency(faults)
    }

    fn control(config: &mut Self::Config, control: Control) {
        P::control(&mut config.ring, control);
    }
}
