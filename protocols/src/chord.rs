//! Chord: consistent hashing on a ring, with periodic stabilization.
//!
//! Stoica, Morris, Karger, Kaashoek, Balakrishnan, "Chord: A Scalable
//! Peer-to-peer Lookup Service for Internet Applications", SIGCOMM 2001,
//! §4 (protocol) and §5–6 (simulations); the ToN 2003 version, §IV (successor
//! lists, failures and replication) and §V.
//!
//! # The ring
//! Nodes and keys share one identifier space modulo 2^m (here any modulus).
//! Key k belongs to its *successor*, the first node whose identifier is equal
//! to or follows k clockwise; a node n therefore answers for (pred(n), n].
//! Each node keeps its successor, a list of its r nearest successors (ToN
//! §IV-E, so that it survives r − 1 simultaneous failures), its predecessor,
//! and up to m *fingers*: finger i is the successor of n + 2^i.
//!
//! # Lookups (iterative, SIGCOMM §4.3 and Fig. 4; ToN §IV-C)
//! The node that issues a lookup for key k keeps the lookup state and asks
//! nodes one after another. A node x asked `find_successor(k)` answers
//! `found(succ(x))` when k ∈ (x, succ(x)], and otherwise names its closest
//! preceding node for k (`next_hop`) among its fingers and its successor
//! (SIGCOMM Fig. 4), or among its fingers and its whole successor list
//! (`route_via_successor_list`, ToN §IV-E's modified
//! `closest_preceding_node`), with its successor list attached as
//! fallbacks. The issuer counts every node that answers: that count is
//! *path length* in both papers. SIGCOMM Fig. 10's ½ log₂ N is the first
//! routing, ToN Table II's 3.84 at 1000 nodes the second; the count is the
//! same. A node that does not answer within the lookup timeout is counted as
//! a timeout (ToN Table II), dropped from the issuer's fingers, and the
//! lookup goes on with the alternate closest before the key; a lookup with
//! no alternate left, or longer than `max_lookup_hops`, fails. With
//! `probe_answer`, the issuer pings the node named before it takes the
//! answer, and on a timeout goes on along the answering node's list. With
//! failure detection by timeouts, a next hop the lookup already found dead
//! is not asked again: a key before the first live entry of the responder's
//! list belongs to that entry, and otherwise the next alternate is asked.
//!
//! # Joining and stabilization (SIGCOMM §4.4, Fig. 7)
//! A joiner looks up its own identifier through a contact and takes the
//! answer as its successor; it does not yet have a predecessor. Periodically
//! (randomized around the period, as in the paper's simulator) each node
//! runs `stabilize`: it asks its successor s for s's predecessor x and
//! successor list; if x ∈ (n, s), x becomes the successor; the successor
//! list becomes s followed by s's list; then n `notify`s its successor, which
//! adopts n as predecessor when n ∈ (pred, self). A node that is its own
//! successor also takes the first node that notifies it as successor at once
//! (`alone_adopts_notifier`, on by default); off, it waits for its own
//! `stabilize`, which takes its predecessor, as Fig. 7 has it.
//! `fix_fingers` refreshes one finger per period by a lookup of n + 2^i,
//! walking i from the top index down to the first that can differ from the
//! successor. `check_predecessor` pings the predecessor and forgets it if no
//! pong came back within a period.
//!
//! # Failures
//! A node watches its predecessor and its successor list through the
//! engine's failure detector. A suspected successor is dropped from the list
//! (the next entry takes over); a suspected predecessor is forgotten; a
//! suspected finger is removed. A suspicion is not undone when retracted:
//! Chord relies on stabilization to bring a wrongly suspected node back,
//! which is exactly where its lookup inconsistencies come from.
//!
//! # Graceful leave (ToN §IV-E.3)
//! A leaving node sends `leaving` with its predecessor and successor list to
//! both neighbours, which splice it out at once.
//!
//! # Messages
//! `find_successor`, `next_hop`, `found` (lookups); `get_predecessor`,
//! `predecessor`, `notify` (stabilization); `ping`, `pong`
//! (check_predecessor); `leaving`.

use crate::fingers::FingerTable;
use crate::merge::{MERGE_KINDS, MergeKinds, Mergeable, concat_kinds};
use crate::ring::{self, Control, LookupOutcome, RingProtocol, RingView};
use sim_core::{Ctx, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};
use smallvec::SmallVec;
use std::sync::Arc;

/// Parameters shared by every Chord node of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChordConfig {
    /// r, the successor list length.
    pub successor_list: usize,
    /// Route with fingers; false routes along successor lists only.
    pub fingers: bool,
    /// With fingers, the closest preceding node is sought among the fingers
    /// and the whole successor list, not the first successor alone: ToN
    /// 2003 §IV-E's modified `closest_preceding_node`, which its
    /// simultaneous-failure and churn experiments (Tables II and III) ran.
    pub route_via_successor_list: bool,
    /// Zero means never.
    pub stabilize_every: SimTime,
    pub fix_fingers_every: SimTime,
    pub check_predecessor_every: SimTime,
    pub lookup_timeout: SimTime,
    pub max_lookup_hops: u32,
    /// Draw each period uniformly in [period/2, 3·period/2).
    pub randomized_timers: bool,
    /// Cleared by a scheduled `stop_stabilization`: the periodic timers keep
    /// ticking but do nothing.
    pub maintenance_enabled: bool,
    /// A node that is its own successor takes the first peer that notifies
    /// it as successor at once, which speeds a lone node's recovery after a
    /// partition (merge-check seed 580). False: it waits for its own next
    /// `stabilize`, which takes its predecessor, the closest notifier so far
    /// (SIGCOMM Fig. 7 as written; the PPL 2008 Chord baseline).
    pub alone_adopts_notifier: bool,
    /// A joiner copies the successor list that came with its join's answer
    /// (ToN 2003 §IV-E). False: it learns its successor alone and the
    /// rest from its first stabilize (SIGCOMM 2001 Fig. 6, the PPL 2008
    /// baseline).
    pub join_copies_successor_list: bool,
    /// Detect failures by timeouts on the node's own messages, as the
    /// papers' simulators did, instead of the engine's failure detector: a
    /// successor that does not answer `get_predecessor` within the lookup
    /// timeout, a predecessor that misses a `pong`, and a node a lookup
    /// times out on are suspected by this node alone, until it hears from
    /// them again.
    pub detect_by_timeouts: bool,
    /// A lookup's answer is probed before the lookup ends: the issuer pings
    /// the node named, and on a timeout tries the next entry of the
    /// answering node's successor list (the final-answer probe of the
    /// papers' iterative lookups, ToN 2003 §V). Off: the answer is taken as
    /// given, dead or alive.
    pub probe_answer: bool,
}

impl Default for ChordConfig {
    fn default() -> Self {
        ChordConfig {
            successor_list: 8,
            fingers: true,
            route_via_successor_list: false,
            stabilize_every: SimTime::from_secs(1),
            fix_fingers_every: SimTime::from_secs(1),
            check_predecessor_every: SimTime::from_secs(1),
            lookup_timeout: SimTime::from_millis(500),
            max_lookup_hops: 64,
            randomized_timers: true,
            maintenance_enabled: true,
            alone_adopts_notifier: true,
            join_copies_successor_list: true,
            detect_by_timeouts: false,
            probe_answer: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChordTimer {
    Stabilize,
    FixFingers,
    CheckPredecessor,
    LookupTimeout {
        query: u32,
    },
    /// The successor asked by `stabilize` did not answer in time (failure
    /// detection by timeouts only).
    StabilizeTimeout,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChordMessage {
    FindSuccessor {
        query: u32,
        key: RingId,
    },
    NextHop {
        query: u32,
        next: Peer,
        successors: Arc<[Peer]>,
    },
    /// The answer, with the answering node's successor list (which starts
    /// at `successor`): a joiner copies it (ToN 2003 §IV-E).
    Found {
        query: u32,
        successor: Peer,
        successors: Arc<[Peer]>,
    },
    GetPredecessor,
    /// `predecessor` counts only when `has_predecessor` (an `Option<Peer>`
    /// would make every event 16 bytes longer: see `Leaving`).
    Predecessor {
        has_predecessor: bool,
        predecessor: Peer,
        successors: Arc<[Peer]>,
    },
    Notify {
        candidate: Peer,
    },
    Ping,
    Pong,
    /// Boxed: graceful leaves are rare, and the largest variant sets the
    /// size of every event in the queue (40 bytes for the message, 48 for
    /// the event, instead of 56 and 64).
    Leaving(Box<Leaving>),
}

/// A graceful leave: the leaving node's predecessor and successor list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Leaving {
    pub leaving: Peer,
    pub predecessor: Option<Peer>,
    pub successors: Arc<[Peer]>,
}

impl Message for ChordMessage {
    const KINDS: &'static [&'static str] =
        &["find_successor", "next_hop", "found", "get_predecessor", "predecessor", "notify", "ping", "pong", "leaving"];
    fn kind_index(&self) -> usize {
        match self {
            ChordMessage::FindSuccessor { .. } => 0,
            ChordMessage::NextHop { .. } => 1,
            ChordMessage::Found { .. } => 2,
            ChordMessage::GetPredecessor => 3,
            ChordMessage::Predecessor { .. } => 4,
            ChordMessage::Notify { .. } => 5,
            ChordMessage::Ping => 6,
            ChordMessage::Pong => 7,
            ChordMessage::Leaving(_) => 8,
        }
    }
}

/// Client operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChordRequest {
    Lookup {
        tag: u64,
        key: RingId,
    },
    /// One stabilization step now, whatever the timers say (the PPL 2008
    /// baseline runs one round over all nodes every s joins).
    StabilizeNow,
    /// A joiner starts its join again through `contact`.
    NewContact {
        contact: Peer,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChordReport {
    Lookup(LookupOutcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Purpose {
    Client { tag: u64 },
    Join,
    Finger { index: u8 },
}

/// An iterative lookup in progress, held by the node that issued it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Lookup {
    query: u32,
    purpose: Purpose,
    key: RingId,
    /// The node asked last, whose answer is awaited.
    asking: Peer,
    /// Nodes to ask if `asking` times out, best first.
    alternates: SmallVec<[Peer; ALTERNATES]>,
    hops: u32,
    timeouts: u32,
    started: SimTime,
    /// The answer is named and `asking` is being probed (pinged); the
    /// alternates are the answering node's next successors.
    probing: bool,
    /// Nodes this lookup timed out on (failure detection by timeouts): a
    /// later answer naming one of them goes straight to the next alternate.
    dead: SmallVec<[NodeId; 4]>,
}

/// Where a node sends a lookup for a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Found(Peer),
    Next(Peer),
}

/// Alternates an issuer keeps per lookup.
const ALTERNATES: usize = 8;

/// Suspected peers remembered at once; older suspicions are forgotten first.
const SUSPECTED_CAPACITY: usize = 16;

/// One Chord node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chord {
    me: Peer,
    joined: bool,
    contact: Option<Peer>,
    predecessor: Option<Peer>,
    /// Closest first; never contains `me` unless the node is alone.
    successors: Arc<[Peer]>,
    fingers: FingerTable,
    suspected: SmallVec<[NodeId; 4]>,
    watched: SmallVec<[NodeId; 8]>,
    lookups: Vec<Lookup>,
    next_query: u32,
    awaiting_pong: bool,
    /// The successor `stabilize` asked last, until it answers (failure
    /// detection by timeouts only).
    awaiting_predecessor: Option<NodeId>,
}

impl Chord {
    fn successor_peer(&self) -> Peer {
        self.successors.first().copied().unwrap_or(self.me)
    }

    fn is_suspected(&self, node: NodeId) -> bool {
        self.suspected.contains(&node)
    }

    /// Builds `[head, rest...]` without duplicates, cut at the first
    /// occurrence of this node, at most r long; `[me]` when nothing is left.
    fn set_successors(&mut self, head: Option<Peer>, rest: &[Peer], r: usize) {
        let suspected = &self.suspected;
        self.successors = ring::successor_list(self.me, head, rest, r, |n| suspected.contains(&n), &self.successors);
    }

    /// The known node closest before `key`. With fingers on, the candidates
    /// are the fingers and the successor, as in SIGCOMM 2001 Fig. 4 (the
    /// rest of the successor list serves as fallbacks only), or the fingers
    /// and the whole successor list with `route_via_successor_list` (ToN
    /// 2003 §IV-E); with fingers off, the successor list.
    fn closest_preceding(&self, space: IdSpace, key: RingId, config: &ChordConfig) -> Option<Peer> {
        let fingers = self.fingers.iter().filter(|_| config.fingers);
        let whole_list = !config.fingers || config.route_via_successor_list;
        let successors = if whole_list { &self.successors[..] } else { &self.successors[..1] };
        let candidates = fingers.chain(successors.iter().copied());
        ring::closest_preceding(self.me, space, key, candidates, |n| self.is_suspected(n))
    }

    fn route(&self, space: IdSpace, key: RingId, config: &ChordConfig) -> Route {
        let successor = self.successor_peer();
        if successor.node == self.me.node || space.in_open_closed(key, self.me.id, successor.id) {
            return Route::Found(successor);
        }
        match self.closest_preceding(space, key, config) {
            Some(next) => Route::Next(next),
            None => Route::Found(successor),
        }
    }

    /// Puts `offered` (a responder's successor list) in front of a lookup's
    /// alternates: those preceding the key, closest to it first.
    fn add_alternates(lookup: &mut Lookup, space: IdSpace, from: RingId, offered: &[Peer], me: NodeId) {
        let mut fresh: SmallVec<[Peer; ALTERNATES]> = offered
            .iter()
            .copied()
            .filter(|p| p.node != me && p != &lookup.asking && space.in_open_open(p.id, from, lookup.key))
            .take(ALTERNATES)
            .collect();
        fresh.reverse(); // a successor list runs away from `from`: the last is closest to the key
        for old in lookup.alternates.drain(..) {
            if fresh.len() < ALTERNATES && !fresh.contains(&old) {
                fresh.push(old);
            }
        }
        lookup.alternates = fresh;
    }

    /// Keeps the failure detector watching exactly the predecessor, the
    /// successor list, and the peers still suspected (so that a retraction,
    /// `alive`, reaches this node).
    fn sync_watches(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.config.detect_by_timeouts {
            return; // nothing is watched: the node's own timeouts decide
        }
        let pointers = self.predecessor.iter().chain(self.successors.iter()).map(|p| p.node);
        let wanted = pointers.chain(self.suspected.iter().copied());
        ring::sync_watches(ctx, self.me.node, &mut self.watched, wanted);
    }

    fn period(ctx: &mut Ctx<'_, Self>, period: SimTime) -> SimTime {
        if ctx.config.randomized_timers { ctx.jittered(period) } else { period }
    }

    fn arm(ctx: &mut Ctx<'_, Self>, timer: ChordTimer) {
        let period = match timer {
            ChordTimer::Stabilize => ctx.config.stabilize_every,
            ChordTimer::FixFingers => ctx.config.fix_fingers_every,
            ChordTimer::CheckPredecessor => ctx.config.check_predecessor_every,
            ChordTimer::LookupTimeout { .. } | ChordTimer::StabilizeTimeout => ctx.config.lookup_timeout,
        };
        if period > SimTime::ZERO {
            let after = Self::period(ctx, period);
            ctx.set_timer(after, timer);
        }
    }

    // ----- lookups -----

    fn start_lookup(&mut self, ctx: &mut Ctx<'_, Self>, purpose: Purpose, key: RingId, first: Peer) {
        let query = self.next_query;
        self.next_query = self.next_query.wrapping_add(1);
        if self.lookups.capacity() == 0 {
            // Most nodes have one lookup at a time (fix_fingers): room for one.
            self.lookups.reserve_exact(1);
        }
        self.lookups.push(Lookup {
            query,
            purpose,
            key,
            asking: first,
            alternates: SmallVec::new(),
            hops: 0,
            timeouts: 0,
            started: ctx.now,
            probing: false,
            dead: SmallVec::new(),
        });
        self.ask(ctx, query);
    }

    fn lookup_index(&self, query: u32) -> Option<usize> {
        self.lookups.iter().position(|l| l.query == query)
    }

    /// Asks the lookup's current node; answers locally while that is us.
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>, query: u32) {
        let space = ctx.space;
        // A local answer either finishes or moves to a remote node; the
        // bound guards against a corrupted state, never reached otherwise.
        for _ in 0..4 {
            let Some(index) = self.lookup_index(query) else { return };
            let lookup = &self.lookups[index];
            if lookup.asking.node != self.me.node {
                let (to, key) = (lookup.asking.node, lookup.key);
                ctx.send(to, ChordMessage::FindSuccessor { query, key });
                ctx.set_timer(ctx.config.lookup_timeout, ChordTimer::LookupTimeout { query });
                return;
            }
            match self.route(space, lookup.key, ctx.config) {
                Route::Found(successor) => {
                    let list = self.successors.clone();
                    return self.answered(ctx, index, successor, &list);
                }
                Route::Next(next) => {
                    let (me, successors) = (self.me, self.successors.clone());
                    let lookup = &mut self.lookups[index];
                    lookup.asking = next;
                    Self::add_alternates(lookup, space, me.id, &successors, me.node);
                }
            }
        }
        if let Some(index) = self.lookup_index(query) {
            self.finish(ctx, index, None, &[]);
        }
    }

    fn on_lookup_answer(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, query: u32, answer: Route, offered: &[Peer]) {
        let Some(index) = self.lookup_index(query) else { return };
        if self.lookups[index].asking.node != from {
            return; // a late answer from a node we already gave up on
        }
        ctx.cancel_timer(ChordTimer::LookupTimeout { query });
        let me = self.me.node;
        let lookup = &mut self.lookups[index];
        lookup.hops += 1;
        match answer {
            Route::Found(successor) => self.answered(ctx, index, successor, offered),
            Route::Next(next) => {
                if lookup.hops >= ctx.config.max_lookup_hops {
                    return self.finish(ctx, index, None, &[]);
                }
                let responder = lookup.asking.id;
                lookup.asking = next;
                Self::add_alternates(lookup, ctx.space, responder, offered, me);
                if ctx.config.detect_by_timeouts
                    && next.node != me
                    && self.not_worth_asking(index, responder, next, ctx.space)
                {
                    return self.skip_hop(ctx, index, responder, next.node, offered);
                }
                self.ask(ctx, query);
            }
        }
    }

    /// Whether this node takes `node` for dead: this lookup timed out on
    /// it, or the node suspects it (failure detection by timeouts).
    fn taken_for_dead(&self, lookup: &Lookup, node: NodeId) -> bool {
        lookup.dead.contains(&node) || self.suspected.contains(&node)
    }

    /// Detecting by timeouts: whether `next`, named by `responder`, is not
    /// worth asking: taken for dead, or no closer to the key (stale
    /// pointers can send a lookup round in a loop).
    fn not_worth_asking(&self, index: usize, responder: RingId, next: Peer, space: IdSpace) -> bool {
        let lookup = &self.lookups[index];
        !space.in_open_open(next.id, responder, lookup.key) || self.taken_for_dead(lookup, next.node)
    }

    /// Goes past a next hop not worth asking (ToN §V: on to the next best
    /// node). A key before the first live entry of the responder's
    /// successor list belongs to that entry (ToN §IV-E: a dead successor
    /// is replaced by the next on the list); without this, a responder
    /// whose successor died names it again and again, and the alternates
    /// lead back to the responder until the hop budget runs out (swarm seed
    /// 29, timeouts mode). Otherwise the next alternate is asked.
    fn skip_hop(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        index: usize,
        responder: RingId,
        skipped: NodeId,
        offered: &[Peer],
    ) {
        let lookup = &self.lookups[index];
        let live_successor = offered.iter().find(|p| !self.taken_for_dead(lookup, p.node)).copied();
        if let Some(successor) = live_successor
            && ctx.space.in_open_closed(lookup.key, responder, successor.id)
        {
            return self.answered(ctx, index, successor, offered);
        }
        let lookup = &mut self.lookups[index];
        lookup.alternates.retain(|p| p.node != skipped);
        if lookup.alternates.is_empty() {
            return self.finish(ctx, index, None, &[]);
        }
        lookup.asking = lookup.alternates.remove(0);
        let query = lookup.query;
        self.ask(ctx, query);
    }

    /// A lookup's answer names `successor`, with the answering node's
    /// successor `list`: the lookup ends, or, with the final-answer probe,
    /// the successor is pinged first.
    fn answered(&mut self, ctx: &mut Ctx<'_, Self>, index: usize, successor: Peer, list: &[Peer]) {
        if !ctx.config.probe_answer || successor.node == self.me.node {
            return self.finish(ctx, index, Some(successor), list);
        }
        let lookup = &mut self.lookups[index];
        lookup.probing = true;
        lookup.asking = successor;
        // The issuer itself may be next: it is then the answer (seen wrong
        // when it was left out, `chord-failures-ton` seed 1).
        let after = list.iter().copied().skip_while(|p| p.node != successor.node).skip(1);
        lookup.alternates = after.take(ALTERNATES).collect();
        let query = lookup.query;
        ctx.send(successor.node, ChordMessage::Ping);
        ctx.set_timer(ctx.config.lookup_timeout, ChordTimer::LookupTimeout { query });
    }

    /// A `pong` from `from`: the lookups probing it end with it.
    fn on_probe_answer(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId) {
        while let Some(index) = self.lookups.iter().position(|l| l.probing && l.asking.node == from) {
            let (query, answer) = (self.lookups[index].query, self.lookups[index].asking);
            ctx.cancel_timer(ChordTimer::LookupTimeout { query });
            self.finish(ctx, index, Some(answer), &[]);
        }
    }

    fn on_lookup_timeout(&mut self, ctx: &mut Ctx<'_, Self>, query: u32) {
        let Some(index) = self.lookup_index(query) else { return };
        let dead = self.lookups[index].asking.node;
        if ctx.config.detect_by_timeouts && dead != self.me.node {
            self.forget(ctx, dead);
        }
        self.fingers.remove(dead);
        let lookup = &mut self.lookups[index];
        lookup.timeouts += 1;
        lookup.alternates.retain(|p| p.node != dead);
        if ctx.config.detect_by_timeouts && !lookup.dead.contains(&dead) {
            lookup.dead.push(dead);
        }
        if lookup.alternates.is_empty() || lookup.timeouts + lookup.hops >= ctx.config.max_lookup_hops {
            return self.finish(ctx, index, None, &[]);
        }
        lookup.asking = lookup.alternates.remove(0);
        if lookup.probing {
            // The answer was dead: the next successor after it is the answer
            // if it lives.
            let next = lookup.asking;
            if next.node == self.me.node {
                return self.finish(ctx, index, Some(next), &[]);
            }
            ctx.send(next.node, ChordMessage::Ping);
            ctx.set_timer(ctx.config.lookup_timeout, ChordTimer::LookupTimeout { query });
            return;
        }
        self.ask(ctx, query);
    }

    /// Ends a lookup with `result`; `list` is the answering node's
    /// successor list, which a join copies.
    fn finish(&mut self, ctx: &mut Ctx<'_, Self>, index: usize, result: Option<Peer>, list: &[Peer]) {
        let lookup = self.lookups.swap_remove(index);
        match lookup.purpose {
            Purpose::Client { tag } => ctx.report(ChordReport::Lookup(LookupOutcome {
                tag,
                key: lookup.key,
                result,
                hops: lookup.hops,
                timeouts: lookup.timeouts,
                latency: ctx.now - lookup.started,
            })),
            Purpose::Join => {
                // SIGCOMM 2001 Fig. 6: the joiner only learns its successor;
                // stabilization does the rest.
                // A successor it suspects by now is no successor: taken, it
                // left the node joined and alone, a ring of its own (the
                // local invariant below caught it in the chaos test). The
                // next stabilize tick retries the join instead.
                let usable = |s: &Peer| s.node != self.me.node && !self.is_suspected(s.node);
                if let Some(successor) = result.filter(usable) {
                    self.joined = true;
                    // ToN 2003 §IV-E: the joiner copies its successor's list
                    // (the answering node's list runs from the successor on).
                    // With the successor alone, a crash of that one peer
                    // before the first stabilize left the joiner alone, a
                    // ring of its own: 2-hour churn runs ended with up to 7.
                    let rest: SmallVec<[Peer; 16]> = if ctx.config.join_copies_successor_list {
                        list.iter().copied().skip_while(|p| p.node != successor.node).skip(1).collect()
                    } else {
                        SmallVec::new()
                    };
                    self.set_successors(Some(successor), &rest, ctx.config.successor_list);
                    self.sync_watches(ctx);
                    debug_assert_eq!(self.successor_peer(), successor, "{:?}: joined without its successor", self.me);
                }
                // A failed join is retried by the next stabilize tick.
            }
            Purpose::Finger { index } => self.fingers.set(index, result, self.me, self.successor_peer()),
        }
    }

    // ----- maintenance -----

    fn stabilize(&mut self, ctx: &mut Ctx<'_, Self>) {
        let successor = self.successor_peer();
        if successor.node == self.me.node {
            // Alone, or every successor failed: a known predecessor is the
            // best successor there is (SIGCOMM Fig. 7 with s = n).
            if let Some(predecessor) = self.predecessor.filter(|p| p.node != self.me.node) {
                self.set_successors(Some(predecessor), &[], ctx.config.successor_list);
                self.sync_watches(ctx);
                ctx.send(predecessor.node, ChordMessage::Notify { candidate: self.me });
            }
            return;
        }
        ctx.send(successor.node, ChordMessage::GetPredecessor);
        if ctx.config.detect_by_timeouts {
            self.awaiting_predecessor = Some(successor.node);
            ctx.set_timer(ctx.config.lookup_timeout, ChordTimer::StabilizeTimeout);
        }
    }

    fn on_predecessor_reply(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, x: Option<Peer>, list: &[Peer]) {
        let successor = self.successor_peer();
        if from != successor.node {
            return;
        }
        if self.awaiting_predecessor.take().is_some() {
            ctx.cancel_timer(ChordTimer::StabilizeTimeout);
        }
        let r = ctx.config.successor_list;
        match x {
            Some(x)
                if x.node != self.me.node
                    && !self.is_suspected(x.node)
                    && ctx.space.in_open_open(x.id, self.me.id, successor.id) =>
            {
                let mut rest: SmallVec<[Peer; 16]> = SmallVec::new();
                rest.push(successor);
                rest.extend_from_slice(list);
                self.set_successors(Some(x), &rest, r);
            }
            _ => self.set_successors(Some(successor), list, r),
        }
        self.sync_watches(ctx);
        let new_successor = self.successor_peer();
        if new_successor.node != self.me.node {
            ctx.send(new_successor.node, ChordMessage::Notify { candidate: self.me });
        }
    }

    fn on_notify(&mut self, ctx: &mut Ctx<'_, Self>, candidate: Peer) {
        if self.is_suspected(candidate.node) || candidate.node == self.me.node {
            return;
        }
        let adopt = match self.predecessor {
            None => true,
            Some(p) => p.node == self.me.node || ctx.space.in_open_open(candidate.id, p.id, self.me.id),
        };
        if adopt {
            self.predecessor = Some(candidate);
            self.awaiting_pong = false;
        }
        if ctx.config.alone_adopts_notifier && self.successor_peer().node == self.me.node {
            self.set_successors(Some(candidate), &[], ctx.config.successor_list);
        }
        self.sync_watches(ctx);
    }

    fn fix_next_finger(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (index, key) = self.fingers.next_to_fix(ctx.space, self.me, self.successor_peer());
        self.start_lookup(ctx, Purpose::Finger { index }, key, self.me);
    }

    fn forget(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        if !self.suspected.contains(&peer) {
            ring::push_bounded(&mut self.suspected, peer, SUSPECTED_CAPACITY);
        }
        if self.predecessor.is_some_and(|p| p.node == peer) {
            self.predecessor = None;
        }
        self.fingers.remove(peer);
        if self.successors.iter().any(|p| p.node == peer) {
            let rest: SmallVec<[Peer; 16]> = self.successors.iter().copied().filter(|p| p.node != peer).collect();
            self.set_successors(None, &rest, ctx.config.successor_list);
        }
        self.sync_watches(ctx);
    }
}

impl Protocol for Chord {
    type Config = ChordConfig;
    type Message = ChordMessage;
    type Timer = ChordTimer;
    type Request = ChordRequest;
    type Report = ChordReport;

    fn create(me: Peer, contact: Option<Peer>, _config: &ChordConfig) -> Self {
        let alone = contact.is_none();
        Chord {
            me,
            joined: alone,
            contact,
            // The first node of a ring answers for the whole ring: (me, me].
            predecessor: alone.then_some(me),
            successors: Arc::from([me].as_slice()),
            fingers: FingerTable::default(),
            suspected: SmallVec::new(),
            watched: SmallVec::new(),
            lookups: Vec::new(),
            next_query: 0,
            awaiting_pong: false,
            awaiting_predecessor: None,
        }
    }

    fn is_member(&self) -> bool {
        self.joined
    }

    /// The successor list is never empty, at most r long, free of
    /// duplicates, and holds this node only as `[me]` (alone); fingers never
    /// name this node; the suspected list is bounded and free of
    /// duplicates; every pointer and every suspected peer is under the
    /// failure detector (a crashed successor or predecessor must be
    /// noticed); a pending lookup has hops left (a probe of an answer may
    /// have used the last).
    fn check_invariants(&self, config: &ChordConfig, _space: IdSpace) {
        let me = self.me;
        let successors = &self.successors[..];
        ring::assert_successor_list(me, successors, config.successor_list);
        debug_assert!(self.fingers.iter().all(|p| p.node != me.node), "{me:?}: a finger names itself");
        debug_assert!(self.suspected.len() <= SUSPECTED_CAPACITY, "{me:?}: suspected list over capacity");
        debug_assert!(ring::distinct(self.suspected.iter().copied()), "{me:?}: a peer suspected twice");
        let pointers = self.predecessor.iter().chain(successors).map(|p| p.node).chain(self.suspected.iter().copied());
        if config.detect_by_timeouts {
            debug_assert!(self.watched.is_empty(), "{me:?}: watches peers while detecting by timeouts");
        } else {
            for node in pointers.filter(|&n| n != me.node) {
                debug_assert!(self.watched.contains(&node), "{me:?}: n{} is a pointer but not watched", node.0);
            }
        }
        debug_assert!(ring::distinct(self.watched.iter().copied()), "{me:?}: a peer watched twice");
        debug_assert!(
            self.lookups.iter().all(|l| {
                // A probe may follow an answer that came at the last hop.
                let hop_bound = if l.probing { config.max_lookup_hops } else { config.max_lookup_hops - 1 };
                l.hops <= hop_bound && l.alternates.len() <= ALTERNATES
            }),
            "{me:?}: a pending lookup past its bounds"
        );
        debug_assert!(ring::distinct(self.lookups.iter().map(|l| l.query)), "{me:?}: two lookups share a query number");
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.joined
            && let Some(contact) = self.contact
        {
            self.start_lookup(ctx, Purpose::Join, self.me.id, contact);
        }
        self.sync_watches(ctx);
        Self::arm(ctx, ChordTimer::Stabilize);
        Self::arm(ctx, ChordTimer::FixFingers);
        Self::arm(ctx, ChordTimer::CheckPredecessor);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: ChordMessage) {
        if ctx.config.detect_by_timeouts && self.suspected.contains(&from) {
            // Heard from: alive after all (a lost message, a slow answer).
            self.suspected.retain(|n| *n != from);
        }
        match message {
            ChordMessage::FindSuccessor { query, key } => {
                let reply = match self.route(ctx.space, key, ctx.config) {
                    Route::Found(successor) => {
                        ChordMessage::Found { query, successor, successors: self.successors.clone() }
                    }
                    Route::Next(next) => ChordMessage::NextHop { query, next, successors: self.successors.clone() },
                };
                ctx.send(from, reply);
            }
            ChordMessage::NextHop { query, next, successors } => {
                self.on_lookup_answer(ctx, from, query, Route::Next(next), &successors)
            }
            ChordMessage::Found { query, successor, successors } => {
                self.on_lookup_answer(ctx, from, query, Route::Found(successor), &successors)
            }
            ChordMessage::GetPredecessor => {
                let reply = ChordMessage::Predecessor {
                    has_predecessor: self.predecessor.is_some(),
                    predecessor: self.predecessor.unwrap_or(self.me),
                    successors: self.successors.clone(),
                };
                ctx.send(from, reply);
            }
            ChordMessage::Predecessor { has_predecessor, predecessor, successors } => {
                self.on_predecessor_reply(ctx, from, has_predecessor.then_some(predecessor), &successors)
            }
            ChordMessage::Notify { candidate } => self.on_notify(ctx, candidate),
            ChordMessage::Ping => ctx.send(from, ChordMessage::Pong),
            ChordMessage::Pong => {
                if self.predecessor.is_some_and(|p| p.node == from) {
                    self.awaiting_pong = false;
                }
                self.on_probe_answer(ctx, from);
            }
            ChordMessage::Leaving(message) => {
                let Leaving { leaving, predecessor, successors } = *message;
                if self.successor_peer().node == leaving.node {
                    let rest: SmallVec<[Peer; 16]> =
                        successors.iter().copied().filter(|p| p.node != leaving.node).collect();
                    self.set_successors(None, &rest, ctx.config.successor_list);
                    let successor = self.successor_peer();
                    if successor.node != self.me.node {
                        ctx.send(successor.node, ChordMessage::Notify { candidate: self.me });
                    }
                }
                if self.predecessor.is_some_and(|p| p.node == leaving.node) {
                    self.predecessor = predecessor.filter(|p| p.node != self.me.node);
                }
                self.fingers.remove(leaving.node);
                self.sync_watches(ctx);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: ChordTimer) {
        let maintain = ctx.config.maintenance_enabled;
        match timer {
            ChordTimer::Stabilize => {
                if ctx.config.detect_by_timeouts {
                    // A timeout is no verdict: a lost message looks the
                    // same. Each period starts afresh, and a live peer comes
                    // back through the successor's answers, as in the
                    // papers' Chord, which keeps no suspicions (a joiner too:
                    // it would refuse the successor its join finds).
                    self.suspected.clear();
                }
                if !self.joined {
                    let pending_join = self.lookups.iter().any(|l| l.purpose == Purpose::Join);
                    if let (false, Some(contact)) = (pending_join, self.contact) {
                        self.start_lookup(ctx, Purpose::Join, self.me.id, contact);
                    }
                } else if maintain {
                    self.stabilize(ctx);
                }
                Self::arm(ctx, timer);
            }
            ChordTimer::FixFingers => {
                let pending = self.lookups.iter().any(|l| matches!(l.purpose, Purpose::Finger { .. }));
                if maintain && self.joined && ctx.config.fingers && !pending {
                    self.fix_next_finger(ctx);
                }
                Self::arm(ctx, timer);
            }
            ChordTimer::CheckPredecessor => {
                if maintain {
                    if self.awaiting_pong {
                        self.predecessor = None;
                        self.awaiting_pong = false;
                        self.sync_watches(ctx);
                    }
                    if let Some(p) = self.predecessor.filter(|p| p.node != self.me.node) {
                        ctx.send(p.node, ChordMessage::Ping);
                        self.awaiting_pong = true;
                    }
                }
                Self::arm(ctx, timer);
            }
            ChordTimer::LookupTimeout { query } => self.on_lookup_timeout(ctx, query),
            ChordTimer::StabilizeTimeout => {
                // The successor is taken for dead: the next one in the list
                // is asked at once.
                if let Some(silent) = self.awaiting_predecessor.take()
                    && self.successor_peer().node == silent
                {
                    self.forget(ctx, silent);
                    if maintain {
                        self.stabilize(ctx);
                    }
                }
            }
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.forget(ctx, peer);
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.suspected.retain(|n| *n != peer);
        self.sync_watches(ctx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ChordRequest) {
        match request {
            ChordRequest::Lookup { tag, key } => {
                if self.joined {
                    self.start_lookup(ctx, Purpose::Client { tag }, key, self.me);
                } else {
                    let outcome =
                        LookupOutcome { tag, key, result: None, hops: 0, timeouts: 0, latency: SimTime::ZERO };
                    ctx.report(ChordReport::Lookup(outcome));
                }
            }
            ChordRequest::StabilizeNow => {
                if self.joined {
                    self.stabilize(ctx);
                }
            }
            ChordRequest::NewContact { contact } => {
                if !self.joined && contact.node != self.me.node {
                    self.contact = Some(contact);
                    self.lookups.retain(|l| l.purpose != Purpose::Join);
                    self.start_lookup(ctx, Purpose::Join, self.me.id, contact);
                }
            }
        }
    }

    fn on_leave(&mut self, ctx: &mut Ctx<'_, Self>) {
        let message = ChordMessage::Leaving(Box::new(Leaving {
            leaving: self.me,
            predecessor: self.predecessor,
            successors: self.successors.clone(),
        }));
        let successor = self.successor_peer();
        if successor.node != self.me.node {
            ctx.send(successor.node, message.clone());
        }
        if let Some(p) = self.predecessor.filter(|p| p.node != self.me.node && p.node != successor.node) {
            ctx.send(p.node, message);
        }
    }
}

impl RingView for Chord {
    fn ring_id(&self) -> RingId {
        self.me.id
    }
    fn predecessor(&self) -> Option<Peer> {
        self.predecessor
    }
    fn successor_list(&self) -> &[Peer] {
        &self.successors
    }
    fn finger_peers(&self) -> Vec<Peer> {
        self.fingers.peers()
    }
    /// A lookup asked of this node ends here when the key lies in
    /// (self, succ], and names the successor (SIGCOMM 2001 Fig. 4).
    fn lookup_answers(&self) -> Option<ring::LookupAnswers> {
        let successor = self.successor_peer();
        self.joined.then_some(ring::LookupAnswers { from: self.me.id, to: successor.id, names: successor.id })
    }
}

impl RingProtocol for Chord {
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &ChordConfig) -> Self {
        let mut node = Chord::create(ring[index], None, config);
        if ring.len() == 1 {
            return node;
        }
        let (predecessor, successors) = ring::ideal_neighbours(ring, index, config.successor_list);
        node.predecessor = Some(predecessor);
        node.successors = Arc::from(successors.as_slice());
        if config.fingers {
            node.fingers = FingerTable::ideal(ring, index, space, successors[0]);
        }
        node
    }

    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]) {
        self.predecessor = Some(pred);
        self.successors = Arc::from(successors);
    }

    fn lookup_request(tag: u64, key: RingId) -> ChordRequest {
        ChordRequest::Lookup { tag, key }
    }

    fn maintenance_request() -> Option<ChordRequest> {
        Some(ChordRequest::StabilizeNow)
    }

    fn contact_request(contact: Peer) -> Option<ChordRequest> {
        Some(ChordRequest::NewContact { contact })
    }

    /// Stabilization traffic, which PPL 2008 Fig. 11 compares.
    const BUILD_KINDS: &'static [&'static str] = &["get_predecessor", "predecessor", "notify"];

    fn lookup_outcome(report: &ChordReport) -> Option<LookupOutcome> {
        match report {
            ChordReport::Lookup(outcome) => Some(*outcome),
        }
    }

    fn control(config: &mut ChordConfig, control: Control) {
        config.maintenance_enabled = matches!(control, Control::StartStabilization);
    }
}

impl MergeKinds for ChordMessage {
    const MERGING_KINDS: &'static [&'static str] =
        &concat_kinds::<{ MERGE_KINDS.len() + ChordMessage::KINDS.len() }>(&MERGE_KINDS, ChordMessage::KINDS);
}

impl Mergeable for Chord {
    fn next_hop(&self, space: IdSpace, config: &ChordConfig, key: RingId) -> Peer {
        self.closest_preceding(space, key, config).unwrap_or_else(|| self.successor_peer())
    }

    /// A closer successor is taken at once and notified; stabilization
    /// brings its successor list.
    fn offer_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        let successor = self.successor_peer();
        let closer = successor.node == self.me.node || ctx.space.in_open_open(peer.id, self.me.id, successor.id);
        if !self.joined || !closer || peer.node == self.me.node || self.is_suspected(peer.node) {
            return;
        }
        let rest = self.successors.clone();
        self.set_successors(Some(peer), &rest, ctx.config.successor_list);
        self.sync_watches(ctx);
        ctx.send(peer.node, ChordMessage::Notify { candidate: self.me });
    }

    /// A predecessor offer is a `notify`.
    fn offer_predecessor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        if self.joined {
            self.on_notify(ctx, peer);
        }
    }

    fn suspects(&self, node: NodeId) -> bool {
        self.is_suspected(node)
    }

    fn contact(&self) -> Option<Peer> {
        self.contact
    }

    fn fingers(&self) -> impl Iterator<Item = Peer> + '_ {
        self.fingers.iter()
    }
}
