//! DKS-style atomic join: the lock-based baseline of PPL 2008 §2.
//!
//! Alima, Ghodsi, Haridi: DKS(N, k, f) (CCGRID 2003) and Ghodsi's atomic
//! ring maintenance (thesis, 2006, ch. 4). PPL 2008 §2 summarizes the idea
//! the relaxed ring departs from: *a joining peer takes its own lock and its
//! successor's; lookups touching the locked range wait*. While the
//! successor is locked, no other join can change the same pointers, so a
//! join is atomic: no lookup ever sees a half-done join.
//!
//! # What runs here
//! The join messages are the relaxed ring's (see [`crate::relaxed_ring`]):
//! the joiner looks its key up, sends `join` to the responsible peer s,
//! which answers `join_ok`; the joiner sends `new_succ` to the old
//! predecessor p, which acknowledges to s with `pred_no_more`. What DKS adds
//! is the lock: s locks itself when it accepts a joiner and unlocks only on
//! p's acknowledgement. While locked,
//! - another `join` gets `try_later`;
//! - a lookup for a key in the range being handed over, (p, joiner], waits
//!   at s and is routed on when the lock is released.
//!
//! # The price of locks (what the baseline is for)
//! - Without failures, joins are atomic and lookups never see an
//!   inconsistent ring.
//! - A crashed lock holder blocks joins at s until s suspects it (the lock
//!   is released on suspicion of the joiner or of p).
//! - With non-transitive links, p may never hear the joiner, and never
//!   acknowledge: the lock is released after `lock_lease`, the cost being
//!   the joins refused meanwhile.
//!
//! Failure recovery (`fix`) and routing are the relaxed ring's. A graceful
//! leave is a crash here: the engine stops a leaving process at once, so the
//! leave-side lock protocol is not modelled.
//!
//! # Merging
//! Inside the merge layer ([`crate::merge`]), DKS takes part as the
//! relaxed ring does: offers, the loop check and the periodic tidy act on
//! the relaxed-ring peer inside, outside the lock.
//!
//! # Messages
//! Every relaxed-ring message; DKS adds none, only the lock.

use crate::merge::{MERGE_KINDS, MergeKinds, Mergeable, concat_kinds};
use crate::relaxed_ring::{
    AroundRelaxedRing, RelaxedMessage, RelaxedReport, RelaxedRequest, RelaxedRing, RelaxedRingConfig, RelaxedTimer,
};
use crate::ring::{Control, LookupOutcome, RingProtocol, RingView};
use sim_core::protocol::{Wrapping, delegate};
use sim_core::{Ctx, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DksConfig {
    pub ring: RelaxedRingConfig,
    /// A lock not released by then is released anyway.
    pub lock_lease: SimTime,
}

impl Default for DksConfig {
    fn default() -> Self {
        DksConfig {
            ring: RelaxedRingConfig { hint_after: SimTime::ZERO, ..RelaxedRingConfig::default() },
            lock_lease: SimTime::from_secs(5),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DksMessage(pub RelaxedMessage);

impl Message for DksMessage {
    const KINDS: &'static [&'static str] = RelaxedMessage::KINDS;
    fn kind_index(&self) -> usize {
        self.0.kind_index()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DksTimer {
    Ring(RelaxedTimer),
    LockLease,
}

/// A lock held for a join: the range (old_pred, joiner] is being handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Lock {
    joiner: Peer,
    old_pred: Option<Peer>,
}

/// A lookup waiting for the lock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Parked {
    from: NodeId,
    message: RelaxedMessage,
}

/// Lookups a locked peer holds at most; more are dropped (their issuers
/// retry).
const PARKED_CAPACITY: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dks {
    ring: RelaxedRing,
    lock: Option<Lock>,
    parked: Vec<Parked>,
}

impl Dks {
    fn with_ring<R>(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        handler: impl FnOnce(&mut RelaxedRing, &mut Ctx<'_, RelaxedRing>) -> R,
    ) -> R {
        let wrapping = Wrapping { message: DksMessage, timer: DksTimer::Ring, report: |r| r };
        delegate(ctx, &mut self.ring, |c| &c.ring, wrapping, handler)
    }

    fn in_locked_range(&self, space: IdSpace, key: RingId) -> bool {
        match self.lock {
            Some(Lock { joiner, old_pred: Some(p) }) => space.in_open_closed(key, p.id, joiner.id),
            Some(Lock { joiner, old_pred: None }) => key == joiner.id,
            None => false,
        }
    }

    fn release(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.lock.take().is_none() {
            return;
        }
        ctx.cancel_timer(DksTimer::LockLease);
        for Parked { from, message } in std::mem::take(&mut self.parked) {
            self.with_ring(ctx, |ring, inner| ring.on_message(inner, from, message));
        }
    }
}

impl Protocol for Dks {
    type Config = DksConfig;
    type Message = DksMessage;
    type Timer = DksTimer;
    type Request = RelaxedRequest;
    type Report = RelaxedReport;

    fn create(me: Peer, contact: Option<Peer>, config: &DksConfig) -> Self {
        Dks { ring: RelaxedRing::create(me, contact, &config.ring), lock: None, parked: Vec::new() }
    }

    fn is_member(&self) -> bool {
        self.ring.is_member()
    }

    /// The relaxed ring's invariants; a lock is for one joiner, never this
    /// peer, handing over a range that ends at the joiner; lookups are
    /// parked only while a lock is held, and at most `PARKED_CAPACITY`.
    fn check_invariants(&self, config: &DksConfig, space: IdSpace) {
        self.ring.check_invariants(&config.ring, space);
        let me = self.ring.ring_id();
        if let Some(Lock { joiner, old_pred }) = self.lock {
            debug_assert!(joiner.id != me, "{me}: holds a lock for itself");
            debug_assert!(
                old_pred.is_none_or(|p| p.node != joiner.node),
                "{me}: a lock whose joiner is its old predecessor"
            );
        }
        debug_assert!(self.lock.is_some() || self.parked.is_empty(), "{me}: lookups parked without a lock");
        debug_assert!(self.parked.len() <= PARKED_CAPACITY, "{me}: parked lookups over capacity");
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.with_ring(ctx, |ring, inner| ring.on_start(inner));
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: DksMessage) {
        let DksMessage(message) = message;
        match message {
            RelaxedMessage::Join { .. } if self.lock.is_some() => ctx.send(from, DksMessage(RelaxedMessage::TryLater)),
            RelaxedMessage::Join { joiner } => {
                let before = self.ring.predecessor();
                self.with_ring(ctx, |ring, inner| ring.on_message(inner, from, RelaxedMessage::Join { joiner }));
                let adopted = self.ring.predecessor().is_some_and(|p| p.node == joiner.node)
                    && before.is_none_or(|b| b.node != joiner.node);
                // A lone peer has no predecessor to wait for.
                if adopted && before.is_some_and(|b| b.node != ctx.me.node) {
                    // A join arrives here only while no lock is held: one joiner at a time.
                    debug_assert!(self.lock.is_none(), "{:?}: a second lock, for {joiner:?}", ctx.me);
                    self.lock = Some(Lock { joiner, old_pred: before });
                    ctx.set_timer(ctx.config.lock_lease, DksTimer::LockLease);
                }
            }
            RelaxedMessage::PredNoMore { old_pred } => {
                let ends_lock = self.lock.is_some_and(|l| l.old_pred.is_some_and(|p| p.node == old_pred.node));
                self.with_ring(ctx, |ring, inner| {
                    ring.on_message(inner, from, RelaxedMessage::PredNoMore { old_pred })
                });
                if ends_lock {
                    self.release(ctx);
                }
            }
            RelaxedMessage::Route { key, .. } if self.in_locked_range(ctx.space, key) => {
                if self.parked.len() < PARKED_CAPACITY {
                    self.parked.push(Parked { from, message });
                }
            }
            message => self.with_ring(ctx, |ring, inner| ring.on_message(inner, from, message)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: DksTimer) {
        match timer {
            DksTimer::Ring(timer) => self.with_ring(ctx, |ring, inner| ring.on_timer(inner, timer)),
            DksTimer::LockLease => self.release(ctx),
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let holder_gone =
            self.lock.is_some_and(|l| l.joiner.node == peer || l.old_pred.is_some_and(|p| p.node == peer));
        self.with_ring(ctx, |ring, inner| ring.on_suspect(inner, peer));
        if holder_gone {
            self.release(ctx);
        }
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.with_ring(ctx, |ring, inner| ring.on_alive(inner, peer));
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: RelaxedRequest) {
        self.with_ring(ctx, |ring, inner| ring.on_request(inner, request));
    }
}

impl AroundRelaxedRing for Dks {
    fn relaxed_ring(&self) -> &RelaxedRing {
        &self.ring
    }
}

impl RingProtocol for Dks {
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &DksConfig) -> Self {
        Dks { ring: RelaxedRing::ideal(ring, index, space, &config.ring), lock: None, parked: Vec::new() }
    }

    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]) {
        self.ring.set_ring_pointers(pred, successors);
    }

    fn lookup_request(tag: u64, key: RingId) -> RelaxedRequest {
        RelaxedRing::lookup_request(tag, key)
    }

    fn lookup_outcome(report: &RelaxedReport) -> Option<LookupOutcome> {
        RelaxedRing::lookup_outcome(report)
    }

    fn contact_request(contact: Peer) -> Option<RelaxedRequest> {
        RelaxedRing::contact_request(contact)
    }

    const BUILD_KINDS: &'static [&'static str] = RelaxedRing::BUILD_KINDS;

    /// As the relaxed ring's (PPL 2008 Theorems 1–3).
    fn claims_lookup_consistency(faults: crate::ring::FaultHistory) -> bool {
        RelaxedRing::claims_lookup_consistency(faults)
    }

    fn control(_config: &mut DksConfig, _control: Control) {}
}

impl MergeKinds for DksMessage {
    const MERGING_KINDS: &'static [&'static str] =
        &concat_kinds::<{ MERGE_KINDS.len() + RelaxedMessage::KINDS.len() }>(&MERGE_KINDS, RelaxedMessage::KINDS);
}

impl Mergeable for Dks {
    fn next_hop(&self, space: IdSpace, config: &DksConfig, key: RingId) -> Peer {
        self.ring.next_hop(space, &config.ring, key)
    }

    fn offer_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        self.with_ring(ctx, |ring, inner| ring.offer_successor(inner, peer));
    }

    fn offer_predecessor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        self.with_ring(ctx, |ring, inner| ring.offer_predecessor(inner, peer));
    }

    fn suspects(&self, node: NodeId) -> bool {
        self.ring.suspects(node)
    }

    fn contact(&self) -> Option<Peer> {
        self.ring.contact()
    }

    fn fingers(&self) -> impl Iterator<Item = Peer> + '_ {
        Mergeable::fingers(&self.ring)
    }

    fn tidy(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.with_ring(ctx, |ring, inner| ring.tidy(inner));
    }
}
