//! The relaxed ring (Beernet): a ring maintained by agreements of two peers
//! at a time, with no locks and no periodic stabilization.
//!
//! Mejías and Van Roy, "The Relaxed-Ring: a Fault-Tolerant Topology for
//! Structured Overlay Networks", Parallel Processing Letters 18(3), 2008,
//! §3 (join, Algorithms 1–4), §4 (failure recovery, Algorithms 5–7), §5
//! (lookup consistency, Theorems 1–3); Beernet's `RlxRing` component.
//!
//! # Responsibility
//! A peer is responsible for (pred, self] and never names another peer as
//! responsible: a lookup travels until it reaches the peer whose own
//! predecessor pointer covers the key. Routing uses Chord-style fingers
//! (refreshed one per period) and the successor list. A peer that believes
//! the key lies in (self, succ] forwards it to its successor with the flag
//! `last`. A peer that receives a `last` message for a key it is not
//! responsible for sends it *backwards* to the entry of its predlist that
//! follows the key. The predlist holds the peers that still point to it, so
//! a lookup walks down a branch until it meets the responsible peer.
//!
//! # Join in two steps (PPL §3)
//! 1. The joiner j looks up its own key and sends `join` to the responsible
//!    peer r. If j lies in (pred(r), r), or r's predecessor is suspected
//!    and r is alone or j lies in (pred(r), r), r adopts j as predecessor;
//!    a joiner behind a suspected predecessor gets `try_later` (naming the
//!    gone one would hand it a range around the ring). It keeps the old predecessor p in its predlist
//!    and answers `join_ok(p, succlist, fingers)`; its fingers seed the
//!    joiner's. Otherwise it answers `goto`
//!    with a better peer, or `try_later` while its own successor is
//!    suspected.
//! 2. j takes r as successor and p as predecessor, and sends `new_succ` to
//!    p. If p accepts j (j ∈ (p, succ(p))), it switches its successor, tells
//!    r `pred_no_more` (Beernet's name for the join acknowledgement), and
//!    sends `upd_succ_list` backwards so predecessors refresh their
//!    successor lists.
//!
//! Two joiners in one gap, adopted in turn by r, can finish in either
//! order: when the second one's `new_succ` reaches the first before the
//! first's own `join_ok`, the first keeps that closer successor and tells
//! r `pred_no_more` at once.
//!
//! A joiner that asks again (its `join_ok` lost) gets a `join_ok` that
//! names no predecessor: the one r would name may be stale by then. It
//! claims nothing until a peer behind it fixes to it (the pending hint), and
//! any joiner keeps a predecessor a fix brought if it is closer than the
//! one `join_ok` names.
//!
//! A peer hinted by one it no longer points to answers `pred_no_more` again:
//! the first may have been lost, and a stale predlist entry must not become
//! a predecessor later.
//!
//! A joiner takes no part in the ring before its `join_ok`: it answers a
//! `fix` with `try_later`, and the sender falls back to its next successor
//! (otherwise every lookup for the joiner's key would end at the joiner).
//! Once joined with no predecessor, it names the refused peer its
//! predecessor with `new_succ`. A peer alone on its ring whose predecessor
//! is gone answers the lookups it cannot pass on, and names itself as the
//! old predecessor in `join_ok`.
//!
//! If j cannot reach p (a non-transitive link), p keeps r as successor
//! while r's predecessor is j: j sits in a *branch* rooted at r, and r's
//! predlist keeps both p and j. If r hears no `pred_no_more` within
//! `hint_after`, it sends p a `hint` naming the peer that follows p in its
//! predlist. p tries it as successor with `fix`, and falls back if the link
//! is cut; it tells r `pred_no_more` only once the new successor answers,
//! so that r, which would otherwise forget p, never hints a peer farther
//! back past p (found by `overlaysim explore`, three losses).
//!
//! A later joiner k between j and r lengthens the branch: r adopts k, j
//! takes k as successor, and p still skips both. So r also prunes its
//! branch whenever it adopts a joiner, as Beernet's join handler does: it
//! hints every peer of its predlist that points here from farther back
//! (not the old predecessor, which the joiner tells, nor one whose join is
//! unacknowledged), naming the closest predecessor it knows past that peer.
//! At k's adoption that is still j, which is about to move on to k, so p
//! hears of k one adoption later. Branches then hold 1.6 to 1.9 peers on
//! average (PPL 2008, Fig. 8: 1.5 to 1.8); hinting at every change instead
//! leaves them at 1.1 to 1.3, and hinting once per join at 2.0 to 2.4,
//! growing with N.
//!
//! # Failure recovery (PPL §4)
//! A peer watches its successor list, its predecessor, its predlist and its
//! fingers.
//! Only the predecessor of a crashed peer recovers: when its successor is
//! suspected, it takes the first live entry of its successor list and sends
//! it `fix`. The receiver adopts the sender as predecessor if its own
//! predecessor is suspected or the sender is closer; otherwise it keeps the
//! sender in its predlist, as a branch. Either way it answers `fix_ok`, and
//! the sender repeats `fix` until it does: Beernet sends `fix` once, and one
//! lost message would leave the range unclaimed for good. `fix_ok` says
//! whether the sender was adopted; one kept in a branch fixes again after
//! `hint_after` (`join_retry` when hints are off), since the receiver's
//! predecessor may be gone by then. A suspected predecessor stays in
//! place, still claiming its range, until a `fix` replaces it. A graceful
//! leave is a crash. An `alive` after a false suspicion of the successor
//! re-adopts it with `fix` and tells the interim successor `pred_no_more`.
//!
//! # Consistency (PPL §5)
//! - **Theorem 1:** joins never break lookup consistency. Every step changes
//!   the pointers of two peers, and a key changes responsible peer only
//!   when the old one's `pred` moves past it.
//! - **Theorem 2:** simultaneous failures do not break lookup consistency
//!   when there is no partition and no false suspicion.
//! - **Theorem 3:** the exceptions are the branch root and branch tail. A
//!   crashed branch root, or a falsely suspected predecessor, can leave two
//!   peers claiming a range until the branch is repaired.
//!
//! # Messages
//! `route`, `found` (lookups; an answer goes back through the previous hop
//! when the responsible peer suspects the issuer); `join`, `join_ok`, `goto`, `try_later`,
//! `new_succ`, `pred_no_more` (join); `upd_succ_list`; `fix`, `fix_ok`
//! (recovery); `hint` (branches).

use crate::fingers::FingerTable;
use crate::merge::{MERGE_KINDS, MergeKinds, Mergeable, concat_kinds};
use crate::ring::{self, Control, LookupOutcome, RingProtocol, RingView};
use sim_core::{Ctx, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};
use smallvec::SmallVec;
use std::sync::Arc;

/// Parameters shared by every relaxed-ring peer of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelaxedRingConfig {
    /// The successor list length (4 in the PPL 2008 experiments).
    pub successor_list: usize,
    /// Route with fingers; false routes along successor lists only.
    pub fingers: bool,
    /// Refresh one finger per period; zero means never.
    pub fix_fingers_every: SimTime,
    /// A lookup attempt with no answer by then is routed again, up to
    /// `lookup_retries` times, each attempt waiting twice as long as the
    /// one before; then it fails.
    pub lookup_timeout: SimTime,
    pub lookup_retries: u8,
    /// Wait before retrying a join that got `try_later` or no answer.
    pub join_retry: SimTime,
    /// Send a hint when no `pred_no_more` came this long after a join;
    /// zero means never.
    pub hint_after: SimTime,
    /// A routed message is dropped after this many hops.
    pub max_route_hops: u32,
    pub randomized_timers: bool,
    /// A planted bug, for testing the checkers: a peer lets a joiner in
    /// (answers `join_ok`) but keeps its old predecessor, so it goes on
    /// claiming the keys it just handed to the joiner. Never set it outside
    /// tests of `overlaysim check`.
    pub canary_keep_range_on_join: bool,
}

impl Default for RelaxedRingConfig {
    fn default() -> Self {
        RelaxedRingConfig {
            successor_list: 4,
            fingers: true,
            fix_fingers_every: SimTime::from_secs(1),
            lookup_timeout: SimTime::from_secs(1),
            lookup_retries: 2,
            join_retry: SimTime::from_secs(1),
            hint_after: SimTime::from_secs(2),
            max_route_hops: 256,
            randomized_timers: true,
            canary_keep_range_on_join: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelaxedTimer {
    FixFingers,
    /// The join answer did not come, or `try_later` asked for a pause.
    JoinRetry,
    LookupTimeout {
        query: u32,
    },
    /// Has `peer` acknowledged (`pred_no_more`) the join that replaced it?
    HintCheck {
        peer: NodeId,
    },
    /// No `fix_ok` yet from the successor: send `fix` again.
    FixRetry,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RelaxedMessage {
    Route {
        key: RingId,
        origin: Peer,
        query: u32,
        hops: u32,
        last: bool,
    },
    /// The answer, sent to `origin`, or relayed through the previous hop
    /// when the responsible peer suspects the origin (a cut link).
    Found {
        query: u32,
        responsible: Peer,
        hops: u32,
        origin: Peer,
    },
    Join {
        joiner: Peer,
    },
    /// From the responsible peer, which becomes the joiner's successor; it
    /// passes its fingers along, which suit the joiner too (SIGCOMM 2001
    /// §4.4 initializes a joiner's fingers the same way).
    JoinOk {
        pred: Option<Peer>,
        successors: Arc<[Peer]>,
        fingers: Arc<FingerTable>,
    },
    Goto {
        better: Peer,
    },
    TryLater,
    NewSucc {
        new_succ: Peer,
        successors: Arc<[Peer]>,
    },
    PredNoMore {
        old_pred: Peer,
    },
    UpdSuccList {
        successors: Arc<[Peer]>,
        counter: u8,
    },
    Fix {
        src: Peer,
    },
    FixOk {
        successors: Arc<[Peer]>,
        /// Whether the sender of the `fix` became the predecessor; if not
        /// (kept in a branch), it fixes again a while later.
        adopted: bool,
    },
    Hint {
        succ: Peer,
    },
}

impl Message for RelaxedMessage {
    const KINDS: &'static [&'static str] = &[
        "route",
        "found",
        "join",
        "join_ok",
        "goto",
        "try_later",
        "new_succ",
        "pred_no_more",
        "upd_succ_list",
        "fix",
        "fix_ok",
        "hint",
    ];
    fn kind_index(&self) -> usize {
        match self {
            RelaxedMessage::Route { .. } => 0,
            RelaxedMessage::Found { .. } => 1,
            RelaxedMessage::Join { .. } => 2,
            RelaxedMessage::JoinOk { .. } => 3,
            RelaxedMessage::Goto { .. } => 4,
            RelaxedMessage::TryLater => 5,
            RelaxedMessage::NewSucc { .. } => 6,
            RelaxedMessage::PredNoMore { .. } => 7,
            RelaxedMessage::UpdSuccList { .. } => 8,
            RelaxedMessage::Fix { .. } => 9,
            RelaxedMessage::FixOk { .. } => 10,
            RelaxedMessage::Hint { .. } => 11,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelaxedRequest {
    Lookup {
        tag: u64,
        key: RingId,
    },
    /// A joiner starts its join again through `contact`.
    NewContact {
        contact: Peer,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelaxedReport {
    Lookup(LookupOutcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Purpose {
    Client { tag: u64 },
    Join,
    Finger { index: u8 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pending {
    query: u32,
    purpose: Purpose,
    key: RingId,
    started: SimTime,
    /// Attempts that timed out so far.
    timeouts: u8,
}

/// Where a joiner stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Joining {
    /// Part of the ring.
    Done,
    /// Looking up its own key.
    LookingUp,
    /// `join` sent to this peer; `gotos` redirections so far.
    Asked { peer: Peer, gotos: u8 },
}

/// Redirections a joiner follows before it starts over with a lookup.
const MAX_GOTOS: u8 = 8;
/// Suspected peers remembered at once; the oldest is forgotten first.
const CRASHED_CAPACITY: usize = 16;

/// One relaxed-ring peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelaxedRing {
    me: Peer,
    joining: Joining,
    contact: Option<Peer>,
    pred: Option<Peer>,
    /// Closest first; `[me]` when alone.
    successors: Arc<[Peer]>,
    /// Peers that point to this one as successor (the branch), by distance
    /// from this peer going backwards, closest first.
    pred_list: SmallVec<[Peer; 2]>,
    /// Peers suspected and not yet cleared by `alive`.
    crashed: SmallVec<[Peer; 4]>,
    /// Old predecessors whose `pred_no_more` a join still waits for (each
    /// with a `HintCheck` armed): their branch is a join in progress, not
    /// one to tidy.
    awaiting_ack: SmallVec<[NodeId; 2]>,
    /// Predlist peers dropped on a suspicion: an `alive` puts them back
    /// (a hint may still be pending for them).
    dropped_preds: SmallVec<[NodeId; 2]>,
    /// The closest peer whose `fix` this joiner refused before it had
    /// joined: once joined with no predecessor, it sends that peer
    /// `new_succ`.
    refused_fix: Option<Peer>,
    /// Successors left for a closer one (a hint, a merge) whose `fix_ok`
    /// has not come yet: they hear `pred_no_more` once it comes. Told at
    /// once, the old successor forgot this peer, and if the fix was lost
    /// it later hinted a peer farther back towards the new one, which took
    /// that peer over this one (`explore`, `join-race-3+2`, three losses).
    /// Without hints (DKS) they are told at once. At most
    /// `CRASHED_CAPACITY`, the oldest forgotten first.
    leaving: SmallVec<[Peer; 2]>,
    fingers: FingerTable,
    watched: SmallVec<[NodeId; 8]>,
    pending: Vec<Pending>,
    next_query: u32,
}

impl RelaxedRing {
    fn succ(&self) -> Peer {
        self.successors.first().copied().unwrap_or(self.me)
    }

    fn is_crashed(&self, node: NodeId) -> bool {
        self.crashed.iter().any(|p| p.node == node)
    }

    /// The ring identity of `node`, if this peer points at it anywhere.
    fn known(&self, node: NodeId) -> Option<Peer> {
        let pointers = self.successors.iter().chain(self.pred.iter()).chain(self.pred_list.iter()).copied();
        pointers.chain(self.fingers.iter()).find(|p| p.node == node)
    }

    fn joined(&self) -> bool {
        self.joining == Joining::Done
    }

    fn is_responsible(&self, space: IdSpace, key: RingId) -> bool {
        self.joined() && self.pred.is_some_and(|p| space.in_open_closed(key, p.id, self.me.id))
    }

    /// Backward distance from this peer to `peer` (0 for itself).
    fn behind(&self, space: IdSpace, peer: Peer) -> u64 {
        space.distance(peer.id, self.me.id)
    }

    fn add_pred(&mut self, space: IdSpace, peer: Peer) {
        if peer.node == self.me.node || self.pred_list.iter().any(|p| p.node == peer.node) {
            return;
        }
        let distance = self.behind(space, peer);
        let at = self.pred_list.iter().position(|&p| self.behind(space, p) > distance).unwrap_or(self.pred_list.len());
        self.pred_list.insert(at, peer);
    }

    /// `[head, rest...]` without duplicates, suspected peers or this peer,
    /// at most r long; `[me]` when nothing is left.
    fn set_successors(&mut self, head: Option<Peer>, rest: &[Peer], r: usize) {
        let crashed = &self.crashed;
        self.successors =
            ring::successor_list(self.me, head, rest, r, |n| crashed.iter().any(|p| p.node == n), &self.successors);
    }

    /// Watches the neighbours, the predlist, the fingers (as Beernet's
    /// finger table monitors them: recursive routing never hears that a
    /// forward went to a dead finger) and the peers still suspected.
    fn sync_watches(&mut self, ctx: &mut Ctx<'_, Self>) {
        let peers = self.pred.iter().chain(self.successors.iter()).chain(self.pred_list.iter()).map(|p| p.node);
        let fingers = self.fingers.iter().map(|p| p.node);
        let wanted = peers.chain(fingers).chain(self.crashed.iter().map(|p| p.node));
        ring::sync_watches(ctx, self.me.node, &mut self.watched, wanted);
    }

    fn arm(ctx: &mut Ctx<'_, Self>, timer: RelaxedTimer, period: SimTime) {
        if period > SimTime::ZERO {
            let after = if ctx.config.randomized_timers { ctx.jittered(period) } else { period };
            ctx.set_timer(after, timer);
        }
    }

    // ----- routing -----

    /// The known peer closest before `key`, for greedy routing.
    fn closest_preceding(&self, space: IdSpace, key: RingId, use_fingers: bool) -> Option<Peer> {
        let fingers = self.fingers.iter().filter(|_| use_fingers);
        let candidates = fingers.chain(self.successors.iter().copied());
        ring::closest_preceding(self.me, space, key, candidates, |n| self.is_crashed(n))
    }

    /// Handles a routed lookup here (`from`: the previous hop): answer it,
    /// or pass it on.
    #[allow(clippy::too_many_arguments)]
    fn route(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        key: RingId,
        origin: Peer,
        query: u32,
        hops: u32,
        last: bool,
    ) {
        let space = ctx.space;
        if self.is_responsible(space, key) {
            self.answer_responsible(ctx, from, origin, query, hops);
            return;
        }
        if hops >= ctx.config.max_route_hops || !self.joined() {
            return; // lost: the issuer's timeout reports it
        }
        let (next, last) = if last {
            // Backwards into the branch: the predlist peer that follows the key.
            let target = self
                .pred_list
                .iter()
                .chain(self.pred.iter())
                .copied()
                .filter(|p| p.node != self.me.node && !self.is_crashed(p.node))
                .min_by_key(|p| space.distance(key, p.id));
            match target {
                // A joiner looking itself up again (its join_ok was lost):
                // this peer already took it as predecessor and answers.
                Some(peer) if peer.node == origin.node => {
                    ctx.send(origin.node, RelaxedMessage::Found { query, responsible: self.me, hops, origin });
                    return;
                }
                Some(peer) => (peer, true),
                None => (self.me, true),
            }
        } else if space.in_open_closed(key, self.me.id, self.succ().id) {
            (self.succ(), true)
        } else {
            match self.closest_preceding(space, key, ctx.config.fingers) {
                Some(peer) => (peer, false),
                None => (self.succ(), true),
            }
        };
        if next.node == self.me.node {
            // Alone on its ring, and the predecessor is gone: no live peer
            // this one knows claims the key, so it answers (a join is then
            // taken).
            if self.succ().node == self.me.node && self.pred.is_none_or(|p| self.is_crashed(p.node)) {
                self.answer_responsible(ctx, from, origin, query, hops);
            }
            return;
        }
        ctx.send(next.node, RelaxedMessage::Route { key, origin, query, hops: hops + 1, last });
    }

    /// Answers a routed lookup with this peer as the responsible one.
    fn answer_responsible(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, origin: Peer, query: u32, hops: u32) {
        if origin.node == self.me.node {
            self.answer(ctx, query, self.me, hops);
        } else {
            let to = if self.is_crashed(origin.node) { from } else { origin.node };
            ctx.send(to, RelaxedMessage::Found { query, responsible: self.me, hops, origin });
        }
    }

    fn start_lookup(&mut self, ctx: &mut Ctx<'_, Self>, purpose: Purpose, key: RingId, via: Peer) {
        let query = self.next_query;
        self.next_query = self.next_query.wrapping_add(1);
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(1);
        }
        self.pending.push(Pending { query, purpose, key, started: ctx.now, timeouts: 0 });
        ctx.set_timer(ctx.config.lookup_timeout, RelaxedTimer::LookupTimeout { query });
        if via.node == self.me.node {
            self.route(ctx, self.me.node, key, self.me, query, 0, false);
        } else {
            ctx.send(via.node, RelaxedMessage::Route { key, origin: self.me, query, hops: 1, last: false });
        }
    }

    fn answer(&mut self, ctx: &mut Ctx<'_, Self>, query: u32, responsible: Peer, hops: u32) {
        let Some(index) = self.pending.iter().position(|p| p.query == query) else { return };
        let pending = self.pending.swap_remove(index);
        ctx.cancel_timer(RelaxedTimer::LookupTimeout { query });
        self.finish(ctx, pending, Some(responsible), hops);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, Self>, pending: Pending, result: Option<Peer>, hops: u32) {
        match pending.purpose {
            Purpose::Client { tag } => ctx.report(RelaxedReport::Lookup(LookupOutcome {
                tag,
                key: pending.key,
                result,
                hops,
                timeouts: u32::from(pending.timeouts),
                latency: ctx.now - pending.started,
            })),
            Purpose::Join => match result {
                Some(peer) if self.joining == Joining::LookingUp => self.ask_to_join(ctx, peer, 0),
                _ => {
                    if self.joining == Joining::LookingUp {
                        ctx.set_timer(ctx.config.join_retry, RelaxedTimer::JoinRetry);
                    }
                }
            },
            Purpose::Finger { index } => {
                self.fingers.set(index, result, self.me, self.succ());
                self.sync_watches(ctx);
            }
        }
    }

    // ----- join -----

    fn start_join(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(contact) = self.contact {
            self.joining = Joining::LookingUp;
            self.start_lookup(ctx, Purpose::Join, self.me.id, contact);
        }
    }

    fn ask_to_join(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer, gotos: u8) {
        self.joining = Joining::Asked { peer, gotos };
        ctx.send(peer.node, RelaxedMessage::Join { joiner: self.me });
        ctx.set_timer(ctx.config.lookup_timeout, RelaxedTimer::JoinRetry);
    }

    fn on_join(&mut self, ctx: &mut Ctx<'_, Self>, joiner: Peer) {
        let space = ctx.space;
        if !self.joined() || self.is_crashed(self.succ().node) {
            ctx.send(joiner.node, RelaxedMessage::TryLater);
            return;
        }
        if self.pred.is_some_and(|p| p.node == joiner.node) {
            // Already adopted: the joiner missed our join_ok. Repeat it
            // without an old predecessor: the one we named may be stale (a
            // peer that joined between it and the joiner may have left our
            // predlist since), and naming it made two peers claim the same
            // keys (found by `overlaysim explore`, two losses). The joiner
            // claims nothing until a peer behind it fixes to it, which the
            // hint armed at the first adoption brings about.
            self.send_join_ok(ctx, joiner, None);
            return;
        }
        let pred_gone = self.pred.is_none_or(|p| p.node == self.me.node || self.is_crashed(p.node));
        let better = self.pred.is_none_or(|p| space.in_open_open(joiner.id, p.id, self.me.id));
        let alone = self.succ().node == self.me.node;
        if pred_gone && !better && !alone {
            // Behind a predecessor that is gone: naming it would hand the
            // joiner (gone, joiner], around the ring over live peers, and
            // taking the joiner's range would too (swarm seed 4420). The
            // peer behind will fix to this one; the joiner waits for that.
            ctx.send(joiner.node, RelaxedMessage::TryLater);
            return;
        }
        if !(pred_gone || better) {
            // Not ours: point the joiner at the peer that should know better.
            let goto = if space.in_open_closed(joiner.id, self.me.id, self.succ().id) {
                self.succ()
            } else {
                self.pred.unwrap_or(self.succ())
            };
            ctx.send(joiner.node, RelaxedMessage::Goto { better: goto });
            return;
        }
        // The old predecessor goes along even when suspected here: the
        // suspicion may be this peer's alone (a cut link), and the joiner's
        // own detector judges it. A peer alone on its ring whose predecessor
        // is gone is the joiner's predecessor itself: naming the gone one
        // left the joiner claiming its keys for good (swarm seed 5080).
        let old_pred = if alone && pred_gone { Some(self.me) } else { self.pred };
        self.send_join_ok(ctx, joiner, old_pred);
        if let Some(old) = old_pred.filter(|p| p.node != self.me.node) {
            self.add_pred(space, old);
            if ctx.config.hint_after > SimTime::ZERO {
                ctx.set_timer(ctx.config.hint_after, RelaxedTimer::HintCheck { peer: old.node });
                if !self.awaiting_ack.contains(&old.node) {
                    self.awaiting_ack.push(old.node);
                }
                // Beernet's join handler prunes the branch here: every
                // adoption is news for the peers that still point here from
                // farther back.
                self.hint_branch(ctx);
            }
        }
        if !ctx.config.canary_keep_range_on_join {
            self.pred = Some(joiner);
        }
        self.add_pred(space, joiner);
        if alone {
            // Alone until now: the joiner is also the successor.
            self.set_successors(Some(joiner), &[], ctx.config.successor_list);
        }
        self.sync_watches(ctx);
    }

    fn send_join_ok(&self, ctx: &mut Ctx<'_, Self>, joiner: Peer, old_pred: Option<Peer>) {
        let message = RelaxedMessage::JoinOk {
            pred: old_pred,
            successors: self.successors.clone(),
            fingers: Arc::new(self.fingers.clone()),
        };
        ctx.send(joiner.node, message);
    }

    fn on_join_ok(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        pred: Option<Peer>,
        list: &[Peer],
        fingers: &FingerTable,
    ) {
        let Joining::Asked { peer: succ, .. } = self.joining else { return };
        if succ.node != from {
            return;
        }
        ctx.cancel_timer(RelaxedTimer::JoinRetry);
        self.joining = Joining::Done;
        // A joiner between this peer and `succ`, adopted by `succ` after
        // this one, may have had its own join_ok first and sent `new_succ`
        // here already: keep that closer successor and release `succ`,
        // which awaits this peer's `pred_no_more`. Taking `succ` skipped the
        // other joiner for good, with no link cut (ppl2008-bootstrap at
        // c = 1.00, N = 7000, seed 8).
        let early = self.succ();
        let keep_early = early.node != self.me.node
            && !self.is_crashed(early.node)
            && ctx.space.in_open_open(early.id, self.me.id, succ.id);
        if keep_early {
            ctx.send(succ.node, RelaxedMessage::PredNoMore { old_pred: self.me });
        } else {
            self.set_successors(Some(succ), list, ctx.config.successor_list);
        }
        if ctx.config.fingers {
            self.fingers = fingers.clone();
            self.fingers.remove(self.me.node);
        }
        // With no old predecessor (a repeated join_ok does not name it), or
        // one farther than a predecessor a fix already brought, keep the
        // closer one: the farther one would claim keys the closer one owns.
        let closer_known = |p: Peer| {
            self.pred.is_some_and(|q| q.node != self.me.node && ctx.space.in_open_open(q.id, p.id, self.me.id))
        };
        if let Some(p) = pred.filter(|p| p.node != self.me.node && !closer_known(*p)) {
            self.pred = Some(p);
            self.add_pred(ctx.space, p);
            ctx.send(p.node, RelaxedMessage::NewSucc { new_succ: self.me, successors: self.successors.clone() });
        }
        // No predecessor yet, and a peer behind tried to fix to it before it
        // had joined (and fell back): that peer is its predecessor now. Its
        // fall-back fix may have crossed a `pred_no_more` on the way to the
        // successor, which then forgot it and would never hint it again
        // (merge-check seed 665).
        if let Some(p) = self.refused_fix.take()
            && self.pred.is_none()
            && p.node != self.me.node
            && !self.is_crashed(p.node)
        {
            self.pred = Some(p);
            self.add_pred(ctx.space, p);
            ctx.send(p.node, RelaxedMessage::NewSucc { new_succ: self.me, successors: self.successors.clone() });
        }
        self.sync_watches(ctx);
        // What the join established: predecessor, this peer and successor
        // in ring order (PPL 2008 Alg. 2; the two are one peer in a ring of
        // two), so the range it now claims, (pred, self], is one that
        // `succ` gave up.
        let (me, succ) = (self.me, self.succ());
        debug_assert!(
            self.pred.is_none_or(|p| succ.node == me.node || !ctx.space.in_open_open(p.id, me.id, succ.id)),
            "{me:?}: after join_ok its predecessor {:?} lies between it and its successor {succ:?}",
            self.pred
        );
        Self::arm(ctx, RelaxedTimer::FixFingers, ctx.config.fix_fingers_every);
    }

    fn on_new_succ(&mut self, ctx: &mut Ctx<'_, Self>, new_succ: Peer, list: &[Peer]) {
        let old = self.succ();
        let closer = old.node == self.me.node || ctx.space.in_open_open(new_succ.id, self.me.id, old.id);
        if !closer || self.is_crashed(new_succ.node) {
            return;
        }
        self.set_successors(Some(new_succ), list, ctx.config.successor_list);
        if old.node != self.me.node {
            ctx.send(old.node, RelaxedMessage::PredNoMore { old_pred: self.me });
        }
        self.propagate_successors(ctx, ctx.config.successor_list as u8);
        self.sync_watches(ctx);
    }

    /// Sends the successor list backwards, `counter` more steps.
    fn propagate_successors(&self, ctx: &mut Ctx<'_, Self>, counter: u8) {
        if let Some(p) = self.pred.filter(|p| p.node != self.me.node && !self.is_crashed(p.node)) {
            ctx.send(p.node, RelaxedMessage::UpdSuccList { successors: self.successors.clone(), counter });
        }
    }

    // ----- recovery -----

    /// Adopts `peer` as successor and asks it to take us as predecessor.
    fn fix_to(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer, rest: &[Peer]) {
        self.set_successors(Some(peer), rest, ctx.config.successor_list);
        self.send_fix(ctx);
        self.sync_watches(ctx);
    }

    /// Asks the successor to take us as predecessor, until it answers.
    fn send_fix(&mut self, ctx: &mut Ctx<'_, Self>) {
        let succ = self.succ();
        if succ.node != self.me.node {
            ctx.send(succ.node, RelaxedMessage::Fix { src: self.me });
            ctx.set_timer(ctx.config.lookup_timeout, RelaxedTimer::FixRetry);
        }
    }

    /// Takes `peer` as successor if it is closer than the current one and
    /// not suspected (a `hint`, or a merge): `fix` to it, `pred_no_more` to
    /// the old successor.
    fn try_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        let old = self.succ();
        let closer = old.node == self.me.node || ctx.space.in_open_open(peer.id, self.me.id, old.id);
        if self.joined() && closer && peer.node != self.me.node && !self.is_crashed(peer.node) {
            let rest: SmallVec<[Peer; 8]> = self.successors.iter().copied().collect();
            self.fix_to(ctx, peer, &rest);
            if old.node == self.me.node {
                return;
            }
            if ctx.config.hint_after == SimTime::ZERO {
                // No hints (DKS): nobody acts on an early `pred_no_more`.
                ctx.send(old.node, RelaxedMessage::PredNoMore { old_pred: self.me });
            } else if !self.leaving.iter().any(|p| p.node == old.node) {
                ring::push_bounded(&mut self.leaving, old, CRASHED_CAPACITY);
            }
        }
    }

    fn on_fix(&mut self, ctx: &mut Ctx<'_, Self>, src: Peer) {
        if !self.joined() {
            // Not part of a ring yet (its join_ok was lost, and a hint sent
            // the peer behind it here): the sender goes back to its other
            // successors, where this joiner's next lookup will find the peer
            // that adopted it (merge-check seed 665).
            ctx.send(src.node, RelaxedMessage::TryLater);
            // The closest such peer: a farther one would claim keys a
            // closer one owns (found by `overlaysim explore`, two losses).
            let closer = self.refused_fix.is_none_or(|r| ctx.space.in_open_open(src.id, r.id, self.me.id));
            if closer && src.node != self.me.node {
                self.refused_fix = Some(src);
            }
            return;
        }
        let space = ctx.space;
        self.add_pred(space, src);
        let adopt = match self.pred {
            None => true,
            Some(p) => {
                p.node == src.node
                    || p.node == self.me.node
                    || self.is_crashed(p.node)
                    || space.in_open_open(src.id, p.id, self.me.id)
            }
        };
        if adopt {
            self.pred = Some(src);
        }
        // Answered whether adopted or kept in the branch, so that the sender
        // stops retrying (a lost fix would otherwise stall recovery).
        let adopted = self.pred.is_some_and(|p| p.node == src.node);
        ctx.send(src.node, RelaxedMessage::FixOk { successors: self.successors.clone(), adopted });
        if self.succ().node == self.me.node {
            self.set_successors(Some(src), &[], ctx.config.successor_list);
        }
        self.sync_watches(ctx);
    }

    /// Sends `peer`, which points here from a branch, the live peer that
    /// follows it among this peer's predecessors: its better successor.
    fn hint(&self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        let space = ctx.space;
        let better = self
            .pred_list
            .iter()
            .chain(self.pred.iter())
            .copied()
            .filter(|p| p.node != peer.node && p.node != self.me.node && !self.is_crashed(p.node))
            .filter(|p| space.in_open_open(p.id, peer.id, self.me.id))
            .min_by_key(|p| space.distance(peer.id, p.id));
        if let Some(better) = better {
            ctx.send(peer.node, RelaxedMessage::Hint { succ: better });
        }
    }

    /// Hints every live peer of the predlist other than the predecessor:
    /// on every adoption of a joiner (pruning the branch) and after a
    /// merge. A join still waiting for its `pred_no_more` is left to its own
    /// hint: hinting its old predecessor at once pointed it at a joiner that
    /// had not yet joined, and if this peer then crashed the joiner never
    /// could (found by `overlaysim check`, swarm seed 92).
    fn hint_branch(&self, ctx: &mut Ctx<'_, Self>) {
        let pred = self.pred.map(|p| p.node);
        let branch = self
            .pred_list
            .iter()
            .filter(|p| Some(p.node) != pred && !self.is_crashed(p.node) && !self.awaiting_ack.contains(&p.node));
        for &peer in branch {
            self.hint(ctx, peer);
        }
    }

    fn forget(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        if !self.is_crashed(peer)
            && let Some(known) = self.known(peer)
        {
            ring::push_bounded(&mut self.crashed, known, CRASHED_CAPACITY);
        }
        self.fingers.remove(peer);
        if self.pred_list.iter().any(|p| p.node == peer) && !self.dropped_preds.contains(&peer) {
            ring::push_bounded(&mut self.dropped_preds, peer, CRASHED_CAPACITY);
        }
        self.pred_list.retain(|p| p.node != peer);
        let was_succ = self.succ().node == peer;
        if self.successors.iter().any(|p| p.node == peer) {
            let rest: SmallVec<[Peer; 8]> = self.successors.iter().copied().filter(|p| p.node != peer).collect();
            self.set_successors(None, &rest, ctx.config.successor_list);
        }
        if was_succ && self.joined() {
            self.send_fix(ctx);
        }
        if self.pred.is_some_and(|p| p.node == peer) {
            // Keep claiming the range until a fix replaces the dead
            // predecessor, unless a closer live peer of the branch points
            // here. Never a suspected one: the predlist may still hold a
            // peer gone long ago, and a fix from behind it would then be
            // taken over the live peer between (swarm seed 5454).
            if let Some(&closest) = self.pred_list.iter().find(|p| !self.is_crashed(p.node)) {
                self.pred = Some(closest);
            }
        }
        self.sync_watches(ctx);
    }
}

impl Protocol for RelaxedRing {
    type Config = RelaxedRingConfig;
    type Message = RelaxedMessage;
    type Timer = RelaxedTimer;
    type Request = RelaxedRequest;
    type Report = RelaxedReport;

    fn create(me: Peer, contact: Option<Peer>, _config: &RelaxedRingConfig) -> Self {
        let alone = contact.is_none();
        RelaxedRing {
            me,
            joining: if alone { Joining::Done } else { Joining::LookingUp },
            contact,
            pred: alone.then_some(me),
            successors: Arc::from([me].as_slice()),
            pred_list: SmallVec::new(),
            crashed: SmallVec::new(),
            awaiting_ack: SmallVec::new(),
            dropped_preds: SmallVec::new(),
            refused_fix: None,
            leaving: SmallVec::new(),
            fingers: FingerTable::default(),
            watched: SmallVec::new(),
            pending: Vec::new(),
            next_query: 0,
        }
    }

    fn is_member(&self) -> bool {
        self.joined()
    }

    /// The successor list keeps its shape; the predlist holds no peer
    /// twice and never this peer, closest behind first; the lists of
    /// suspected, dropped and left peers and of awaited acknowledgements
    /// hold no peer twice and stay bounded; every pointer (predecessor,
    /// successors, predlist, fingers)
    /// and every suspected peer is under the failure detector.
    fn check_invariants(&self, config: &RelaxedRingConfig, space: IdSpace) {
        let me = self.me;
        ring::assert_successor_list(me, &self.successors, config.successor_list);
        let preds = &self.pred_list;
        debug_assert!(preds.iter().all(|p| p.node != me.node), "{me:?}: itself in its predlist");
        debug_assert!(ring::distinct(preds.iter().map(|p| p.node)), "{me:?}: a predlist peer twice: {preds:?}");
        debug_assert!(
            preds.windows(2).all(|w| self.behind(space, w[0]) <= self.behind(space, w[1])),
            "{me:?}: a predlist out of order: {preds:?}"
        );
        debug_assert!(ring::distinct(self.crashed.iter().map(|p| p.node)), "{me:?}: a peer suspected twice");
        debug_assert!(ring::distinct(self.awaiting_ack.iter()), "{me:?}: an acknowledgement awaited twice");
        debug_assert!(ring::distinct(self.dropped_preds.iter()), "{me:?}: a predlist peer dropped twice");
        debug_assert!(ring::distinct(self.leaving.iter().map(|p| p.node)), "{me:?}: a successor left twice");
        debug_assert!(
            self.crashed.len() <= CRASHED_CAPACITY && self.leaving.len() <= CRASHED_CAPACITY,
            "{me:?}: a bounded list over capacity"
        );
        let pointers = self.pred.iter().chain(self.successors.iter()).chain(preds.iter()).map(|p| p.node);
        let watched = pointers.chain(self.fingers.iter().map(|p| p.node)).chain(self.crashed.iter().map(|p| p.node));
        for node in watched.filter(|&n| n != me.node) {
            debug_assert!(self.watched.contains(&node), "{me:?}: n{} is a pointer but not watched", node.0);
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.joined() {
            self.sync_watches(ctx);
            Self::arm(ctx, RelaxedTimer::FixFingers, ctx.config.fix_fingers_every);
        } else {
            self.start_join(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: RelaxedMessage) {
        match message {
            RelaxedMessage::Route { key, origin, query, hops, last } => {
                self.route(ctx, from, key, origin, query, hops, last)
            }
            RelaxedMessage::Found { query, responsible, hops, origin } => {
                if origin.node == self.me.node {
                    self.answer(ctx, query, responsible, hops);
                } else {
                    ctx.send(origin.node, RelaxedMessage::Found { query, responsible, hops, origin });
                }
            }
            RelaxedMessage::Join { joiner } => self.on_join(ctx, joiner),
            RelaxedMessage::JoinOk { pred, successors, fingers } => {
                self.on_join_ok(ctx, from, pred, &successors, &fingers)
            }
            RelaxedMessage::Goto { better } => {
                if let Joining::Asked { peer, gotos } = self.joining
                    && peer.node == from
                {
                    ctx.cancel_timer(RelaxedTimer::JoinRetry);
                    if gotos < MAX_GOTOS && better.node != self.me.node {
                        self.ask_to_join(ctx, better, gotos + 1);
                    } else {
                        self.start_join(ctx);
                    }
                }
            }
            RelaxedMessage::TryLater => {
                if matches!(self.joining, Joining::Asked { peer, .. } if peer.node == from) {
                    self.joining = Joining::LookingUp;
                    ctx.set_timer(ctx.config.join_retry, RelaxedTimer::JoinRetry);
                } else if self.joined() && self.succ().node == from {
                    // The successor a fix went to has not joined: fall back.
                    let rest: SmallVec<[Peer; 8]> = self.successors.iter().skip(1).copied().collect();
                    self.set_successors(None, &rest, ctx.config.successor_list);
                    ctx.cancel_timer(RelaxedTimer::FixRetry);
                    self.send_fix(ctx);
                    self.sync_watches(ctx);
                }
            }
            RelaxedMessage::NewSucc { new_succ, successors } => self.on_new_succ(ctx, new_succ, &successors),
            RelaxedMessage::PredNoMore { old_pred } => {
                self.pred_list.retain(|p| p.node != old_pred.node);
                ctx.cancel_timer(RelaxedTimer::HintCheck { peer: old_pred.node });
                self.awaiting_ack.retain(|n| *n != old_pred.node);
                self.sync_watches(ctx);
            }
            RelaxedMessage::UpdSuccList { successors, counter } => {
                if self.succ().node == from {
                    let before = self.successors.clone();
                    let succ = self.succ();
                    self.set_successors(Some(succ), &successors, ctx.config.successor_list);
                    if counter > 0 && self.successors != before {
                        self.propagate_successors(ctx, counter - 1);
                    }
                    self.sync_watches(ctx);
                }
            }
            RelaxedMessage::Fix { src } => self.on_fix(ctx, src),
            RelaxedMessage::FixOk { successors, adopted } => {
                if self.succ().node == from {
                    ctx.cancel_timer(RelaxedTimer::FixRetry);
                    for old in std::mem::take(&mut self.leaving) {
                        if old.node != from {
                            ctx.send(old.node, RelaxedMessage::PredNoMore { old_pred: self.me });
                        }
                    }
                    if !adopted {
                        // Kept in a branch: the successor's predecessor may
                        // be gone by the next try, and nobody else would
                        // tell it to take this peer (swarm seed 4001; DKS,
                        // which sends no hints, seed 7779).
                        let again = if ctx.config.hint_after > SimTime::ZERO {
                            ctx.config.hint_after
                        } else {
                            ctx.config.join_retry
                        };
                        ctx.set_timer(again, RelaxedTimer::FixRetry);
                    }
                    let succ = self.succ();
                    self.set_successors(Some(succ), &successors, ctx.config.successor_list);
                    self.propagate_successors(ctx, ctx.config.successor_list as u8);
                    self.sync_watches(ctx);
                }
            }
            RelaxedMessage::Hint { succ } => {
                // A hint from a peer this one no longer points to: its
                // `pred_no_more` was lost, and the stale predlist entry could
                // later become that peer's predecessor over a live peer in
                // between (found by `overlaysim check`, swarm seed 276).
                if self.joined() && self.succ().node != from && from != self.me.node {
                    ctx.send(from, RelaxedMessage::PredNoMore { old_pred: self.me });
                }
                self.try_successor(ctx, succ)
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: RelaxedTimer) {
        match timer {
            RelaxedTimer::FixFingers => {
                let busy = self.pending.iter().any(|p| matches!(p.purpose, Purpose::Finger { .. }));
                if ctx.config.fingers && self.joined() && !busy && self.succ().node != self.me.node {
                    let (index, key) = self.fingers.next_to_fix(ctx.space, self.me, self.succ());
                    self.start_lookup(ctx, Purpose::Finger { index }, key, self.me);
                }
                Self::arm(ctx, timer, ctx.config.fix_fingers_every);
            }
            RelaxedTimer::JoinRetry => match self.joining {
                // No join_ok: it may have been lost after the peer adopted
                // us, so ask the same peer again (it repeats join_ok) before
                // starting over with a lookup.
                Joining::Asked { peer, gotos } if gotos < MAX_GOTOS => self.ask_to_join(ctx, peer, gotos + 1),
                Joining::Done => {}
                _ => {
                    self.pending.retain(|p| p.purpose != Purpose::Join);
                    self.start_join(ctx);
                }
            },
            RelaxedTimer::LookupTimeout { query } => {
                let Some(index) = self.pending.iter().position(|p| p.query == query) else { return };
                self.pending[index].timeouts += 1;
                let pending = self.pending[index];
                // Each attempt waits twice as long as the one before: a route
                // down a long branch can take longer than one timeout, and
                // its late answer still counts (the query stays pending).
                let backoff = SimTime(ctx.config.lookup_timeout.0 << pending.timeouts.min(4));
                if pending.timeouts <= ctx.config.lookup_retries {
                    ctx.set_timer(backoff, RelaxedTimer::LookupTimeout { query });
                    if self.joined() {
                        // Route it again from here: the lost hop or crashed
                        // peer may be gone from the path by now.
                        self.route(ctx, self.me.node, pending.key, self.me, query, 0, false);
                    } else if let Some(contact) = self.contact {
                        let message =
                            RelaxedMessage::Route { key: pending.key, origin: self.me, query, hops: 1, last: false };
                        ctx.send(contact.node, message);
                    }
                } else {
                    self.pending.swap_remove(index);
                    self.finish(ctx, pending, None, 0);
                }
            }
            RelaxedTimer::FixRetry => {
                if self.joined() {
                    self.send_fix(ctx);
                }
            }
            RelaxedTimer::HintCheck { peer } => {
                if self.is_crashed(peer) && self.dropped_preds.contains(&peer) {
                    // Suspected just now, maybe falsely: wait for its `alive`
                    // (which puts it back in the predlist while the join
                    // still awaits it) instead of giving the hint up for good
                    // (swarm seed 8988).
                    ctx.set_timer(ctx.config.hint_after, RelaxedTimer::HintCheck { peer });
                    return;
                }
                self.awaiting_ack.retain(|n| *n != peer);
                let still_branch = self.pred.is_some_and(|p| p.node != peer) && !self.is_crashed(peer);
                if let Some(peer) = self.pred_list.iter().copied().find(|p| p.node == peer)
                    && still_branch
                {
                    self.hint(ctx, peer);
                }
            }
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.forget(ctx, peer);
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let Some(index) = self.crashed.iter().position(|p| p.node == peer) else { return };
        let known = self.crashed.remove(index);
        let was_behind = self.dropped_preds.contains(&peer);
        self.dropped_preds.retain(|n| *n != peer);
        if self.pred.is_some_and(|p| p.node == peer) {
            self.add_pred(ctx.space, known);
        } else if self.pred.is_some_and(|p| ctx.space.in_open_open(known.id, p.id, self.me.id)) {
            // A predecessor wrongly given up while a farther peer took its
            // place (Theorem 3's exception): it is closer, so it is ours again.
            self.pred = Some(known);
            self.add_pred(ctx.space, known);
        } else if was_behind && self.awaiting_ack.contains(&peer) {
            // Back in the predlist: a false suspicion must not cancel the
            // hint a join left pending for it (found by `overlaysim check`,
            // swarm seed 1133); if it no longer points here, the hint gets
            // its `pred_no_more` back. Only then: another peer put back
            // could later be taken as predecessor over a live one between
            // (one merge-check seed in 1000 ended split).
            self.add_pred(ctx.space, known);
        }
        // A successor wrongly given up: take it back if it is closer.
        {
            let old = self.succ();
            if self.joined() && ctx.space.in_open_open(known.id, self.me.id, old.id) {
                let rest: SmallVec<[Peer; 8]> = self.successors.iter().copied().collect();
                self.fix_to(ctx, known, &rest);
                ctx.send(old.node, RelaxedMessage::PredNoMore { old_pred: self.me });
            }
        }
        self.sync_watches(ctx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: RelaxedRequest) {
        match request {
            RelaxedRequest::NewContact { contact } => {
                if !self.joined() && contact.node != self.me.node {
                    self.contact = Some(contact);
                    self.pending.retain(|p| p.purpose != Purpose::Join);
                    ctx.cancel_timer(RelaxedTimer::JoinRetry);
                    self.start_join(ctx);
                }
            }
            RelaxedRequest::Lookup { tag, key } => {
                if self.joined() {
                    self.start_lookup(ctx, Purpose::Client { tag }, key, self.me);
                } else {
                    let outcome =
                        LookupOutcome { tag, key, result: None, hops: 0, timeouts: 0, latency: SimTime::ZERO };
                    ctx.report(RelaxedReport::Lookup(outcome));
                }
            }
        }
    }
}

impl RelaxedRing {
    /// The peers that still point here: the predecessor and its branch.
    pub fn pred_list(&self) -> &[Peer] {
        &self.pred_list
    }

    /// Takes the pointers of a converged state (a PALTA mesh peer knows the
    /// whole membership) and keeps everything else. An old predecessor whose
    /// acknowledgement a join still waits for stays in the predlist: the
    /// hint that tells it of the joiner goes there, and without it a joiner
    /// whose `join_ok` was lost waited for a predecessor until a fix came
    /// by chance (PALTA swarm seed 6045 with ω = 30).
    pub fn merge_converged(&mut self, space: IdSpace, converged: RelaxedRing) {
        self.joining = Joining::Done;
        self.pred = converged.pred;
        let waiting: SmallVec<[Peer; 2]> =
            self.pred_list.iter().copied().filter(|p| self.awaiting_ack.contains(&p.node)).collect();
        self.pred_list = converged.pred_list;
        for peer in waiting {
            self.add_pred(space, peer);
        }
        self.successors = converged.successors;
        self.fingers = converged.fingers;
    }
}

impl RingView for RelaxedRing {
    fn ring_id(&self) -> RingId {
        self.me.id
    }
    fn predecessor(&self) -> Option<Peer> {
        self.pred
    }
    fn successor_list(&self) -> &[Peer] {
        &self.successors
    }
    fn finger_peers(&self) -> Vec<Peer> {
        self.fingers.peers()
    }
    fn connections(&self) -> usize {
        let mut peers: Vec<NodeId> =
            self.pred.iter().chain(self.successors.iter()).chain(self.pred_list.iter()).map(|p| p.node).collect();
        peers.extend(self.fingers.iter().map(|p| p.node));
        peers.retain(|&n| n != self.me.node);
        peers.sort_unstable();
        peers.dedup();
        peers.len()
    }
}

/// A protocol built around one relaxed-ring peer (DKS's join lock, PALTA's
/// mesh): the oracles see that peer's pointers.
pub trait AroundRelaxedRing {
    fn relaxed_ring(&self) -> &RelaxedRing;
    /// Distinct peers this node keeps pointers to: the ring peer's own
    /// unless the wrapper keeps more.
    fn connection_count(&self) -> usize {
        self.relaxed_ring().connections()
    }
    /// See [`RingView::drops_suspected_successor`].
    fn drops_suspected_successor(&self) -> bool {
        true
    }
}

impl<T: AroundRelaxedRing + Protocol> RingView for T {
    fn ring_id(&self) -> RingId {
        self.relaxed_ring().ring_id()
    }
    fn predecessor(&self) -> Option<Peer> {
        self.relaxed_ring().predecessor()
    }
    fn successor_list(&self) -> &[Peer] {
        self.relaxed_ring().successor_list()
    }
    fn finger_peers(&self) -> Vec<Peer> {
        self.relaxed_ring().finger_peers()
    }
    fn connections(&self) -> usize {
        self.connection_count()
    }
    fn drops_suspected_successor(&self) -> bool {
        AroundRelaxedRing::drops_suspected_successor(self)
    }
}

impl RingProtocol for RelaxedRing {
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &RelaxedRingConfig) -> Self {
        let mut node = RelaxedRing::create(ring[index], None, config);
        if ring.len() == 1 {
            return node;
        }
        let (pred, successors) = ring::ideal_neighbours(ring, index, config.successor_list);
        node.pred = Some(pred);
        node.pred_list.push(pred);
        node.successors = Arc::from(successors.as_slice());
        if config.fingers {
            node.fingers = FingerTable::ideal(ring, index, space, successors[0]);
        }
        node
    }

    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]) {
        self.pred = Some(pred);
        self.pred_list = SmallVec::from_slice(&[pred]);
        self.successors = Arc::from(successors);
    }

    fn lookup_request(tag: u64, key: RingId) -> RelaxedRequest {
        RelaxedRequest::Lookup { tag, key }
    }

    fn contact_request(contact: Peer) -> Option<RelaxedRequest> {
        Some(RelaxedRequest::NewContact { contact })
    }

    /// The two-step join (PPL 2008 Fig. 9: about 4N).
    const BUILD_KINDS: &'static [&'static str] = &["join", "join_ok", "new_succ", "pred_no_more"];
    const HINT_KINDS: &'static [&'static str] = &["hint"];

    fn lookup_outcome(report: &RelaxedReport) -> Option<LookupOutcome> {
        match report {
            RelaxedReport::Lookup(outcome) => Some(*outcome),
        }
    }

    /// PPL 2008 §5: joins never break lookup consistency (Theorem 1), nor
    /// do crashes without false suspicions and partitions (Theorem 2),
    /// except a branch root's crash until the branch is repaired
    /// (Theorem 3).
    fn claims_lookup_consistency(faults: crate::ring::FaultHistory) -> bool {
        !faults.false_suspicions && !faults.partitions && !faults.branch_root_crash
    }

    fn control(_config: &mut RelaxedRingConfig, _control: Control) {
        // No periodic stabilization to stop or start.
    }
}

impl MergeKinds for RelaxedMessage {
    const MERGING_KINDS: &'static [&'static str] =
        &concat_kinds::<{ MERGE_KINDS.len() + RelaxedMessage::KINDS.len() }>(&MERGE_KINDS, RelaxedMessage::KINDS);
}

impl Mergeable for RelaxedRing {
    fn next_hop(&self, space: IdSpace, config: &RelaxedRingConfig, key: RingId) -> Peer {
        self.closest_preceding(space, key, config.fingers).unwrap_or_else(|| self.succ())
    }

    /// A closer successor is taken with `fix`, as a `hint` would.
    fn offer_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        self.try_successor(ctx, peer);
    }

    /// A closer predecessor gets a `hint` naming this peer: its `fix` makes
    /// it the predecessor, two peers agreeing as everywhere in this ring.
    fn offer_predecessor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        let closer =
            self.pred.is_none_or(|p| p.node == self.me.node || ctx.space.in_open_open(peer.id, p.id, self.me.id));
        if self.joined() && closer && peer.node != self.me.node && !self.is_crashed(peer.node) {
            ctx.send(peer.node, RelaxedMessage::Hint { succ: self.me });
        }
    }

    fn suspects(&self, node: NodeId) -> bool {
        self.is_crashed(node)
    }

    fn contact(&self) -> Option<Peer> {
        self.contact
    }

    fn fingers(&self) -> impl Iterator<Item = Peer> + '_ {
        self.fingers.iter()
    }

    /// After a merge, whose branches have no join's hint pending.
    fn tidy(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.hint_branch(ctx);
    }
}
