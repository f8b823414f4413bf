//! The `Protocol` trait: a node is a pure state machine.
//!
//! The engine hands a node one input at a time (its start, a message, a timer,
//! a failure-detector verdict, a client request, a request to leave) with a
//! [`Ctx`]: the current time, the node's identity and randomness, the shared
//! protocol configuration, and an outbox. A handler writes its intentions
//! into the outbox (`send`, `set_timer`, `cancel_timer`, `watch`, `unwatch`,
//! `report`); the engine performs them after the handler returns. A handler
//! reads no clock, does no I/O and owns no global generator.

use crate::id::{IdSpace, NodeId, Peer};
use crate::rng::{Draw, NodeRng};
use crate::time::SimTime;
use std::fmt::Debug;

/// A protocol's message type: it names its kind for counts and traces.
pub trait Message: Clone + Debug {
    /// Names of every kind, indexed by [`Message::kind_index`].
    const KINDS: &'static [&'static str];
    fn kind_index(&self) -> usize;
    fn kind_name(&self) -> &'static str {
        Self::KINDS[self.kind_index()]
    }
}

/// `first` followed by `second`, in a const context: the message kinds of a
/// protocol built around another one.
pub const fn concat_kinds<const N: usize>(first: &[&'static str], second: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < first.len() {
        out[i] = first[i];
        i += 1;
    }
    let mut j = 0;
    while j < second.len() {
        out[i + j] = second[j];
        j += 1;
    }
    out
}

/// A node of an overlay protocol.
pub trait Protocol: Sized + Debug {
    /// Parameters shared by every node of a run (read through `ctx.config`).
    type Config: Debug;
    type Message: Message;
    /// Timers are small values; setting a timer equal to a pending one
    /// replaces it.
    type Timer: Copy + Debug + Eq;
    /// A client operation, such as a lookup.
    type Request: Clone + Debug;
    /// An outcome for the metrics, such as a finished lookup.
    type Report: Debug;

    /// A new process: `contact` is the live node it joins through, or `None`
    /// for the first node of an overlay.
    fn create(me: Peer, contact: Option<Peer>, config: &Self::Config) -> Self;

    /// Whether the node is part of the overlay (a joiner is not until its
    /// join completes); churn picks join contacts among members.
    fn is_member(&self) -> bool {
        true
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: Self::Message);
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);
    /// The failure detector suspects a watched peer.
    fn on_suspect(&mut self, _ctx: &mut Ctx<'_, Self>, _peer: NodeId) {}
    /// The failure detector retracts a suspicion.
    fn on_alive(&mut self, _ctx: &mut Ctx<'_, Self>, _peer: NodeId) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Self::Request);
    /// The node is about to leave gracefully; what it sends now still goes
    /// out, then the process stops.
    fn on_leave(&mut self, _ctx: &mut Ctx<'_, Self>) {}

    /// Asserts (`debug_assert!`) the local facts the node's handlers rely
    /// on: the engine calls it after every handler in builds that keep
    /// debug assertions (tests, the `checked` profile), so that a broken
    /// invariant trips where it breaks, not later in an oracle. A protocol
    /// built around another asserts the inner one's too.
    fn check_invariants(&self, _config: &Self::Config, _space: IdSpace) {}
}

/// One intention of a handler. `Watch` puts a peer under the failure
/// detector; watches are counted, each `Unwatch` releasing one, so the
/// layers of a node watch independently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect<P: Protocol> {
    Send { to: NodeId, message: P::Message },
    SetTimer { after: SimTime, timer: P::Timer },
    CancelTimer { timer: P::Timer },
    Watch { peer: NodeId },
    Unwatch { peer: NodeId },
    Report { report: P::Report },
}

/// What a handler sees and where it writes.
#[derive(Debug)]
pub struct Ctx<'a, P: Protocol> {
    pub now: SimTime,
    pub me: Peer,
    pub space: IdSpace,
    pub config: &'a P::Config,
    rng: &'a mut NodeRng,
    out: Outbox<'a, P>,
}

/// Where a handler's effects go: the engine's buffer, or, for a protocol
/// run inside another (see [`delegate`]), straight into the outer
/// handler's outbox, re-wrapped, without a buffer of their own.
enum Outbox<'a, P: Protocol> {
    Buffer(&'a mut Vec<Effect<P>>),
    Forward(&'a mut dyn FnMut(Effect<P>)),
}

impl<P: Protocol> Outbox<'_, P> {
    fn push(&mut self, effect: Effect<P>) {
        match self {
            Outbox::Buffer(buffer) => buffer.push(effect),
            Outbox::Forward(forward) => forward(effect),
        }
    }
}

impl<P: Protocol> std::fmt::Debug for Outbox<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outbox::Buffer(buffer) => write!(f, "Buffer({} effects)", buffer.len()),
            Outbox::Forward(_) => f.write_str("Forward"),
        }
    }
}

/// How an outer protocol wraps an inner one's messages, timers and reports.
#[derive(Debug)]
pub struct Wrapping<M, T, R> {
    pub message: M,
    pub timer: T,
    pub report: R,
}

/// Runs a handler of an inner protocol `I` held inside an outer protocol `O`
/// (a protocol built around another one's peer, e.g. a join lock or a merge
/// layer around a ring): the handler gets its own `Ctx` with the same
/// instant, identity and random stream, and its effects come out re-wrapped
/// as `O`'s, in order.
pub fn delegate<O, I, M, T, W, R>(
    ctx: &mut Ctx<'_, O>,
    inner: &mut I,
    config: impl for<'c> FnOnce(&'c O::Config) -> &'c I::Config,
    wrapping: Wrapping<M, T, W>,
    handler: impl FnOnce(&mut I, &mut Ctx<'_, I>) -> R,
) -> R
where
    O: Protocol,
    I: Protocol,
    M: Fn(I::Message) -> O::Message,
    T: Fn(I::Timer) -> O::Timer,
    W: Fn(I::Report) -> O::Report,
{
    let Ctx { now, me, space, config: outer_config, rng, out } = ctx;
    let mut forward = |effect: Effect<I>| {
        out.push(match effect {
            Effect::Send { to, message } => Effect::Send { to, message: (wrapping.message)(message) },
            Effect::SetTimer { after, timer } => Effect::SetTimer { after, timer: (wrapping.timer)(timer) },
            Effect::CancelTimer { timer } => Effect::CancelTimer { timer: (wrapping.timer)(timer) },
            Effect::Watch { peer } => Effect::Watch { peer },
            Effect::Unwatch { peer } => Effect::Unwatch { peer },
            Effect::Report { report } => Effect::Report { report: (wrapping.report)(report) },
        })
    };
    let mut inner_ctx = Ctx {
        now: *now,
        me: *me,
        space: *space,
        config: config(outer_config),
        rng,
        out: Outbox::Forward(&mut forward),
    };
    handler(inner, &mut inner_ctx)
}

impl<'a, P: Protocol> Ctx<'a, P> {
    pub fn new(
        now: SimTime,
        me: Peer,
        space: IdSpace,
        config: &'a P::Config,
        rng: &'a mut NodeRng,
        out: &'a mut Vec<Effect<P>>,
    ) -> Self {
        Ctx { now, me, space, config, rng, out: Outbox::Buffer(out) }
    }

    pub fn send(&mut self, to: NodeId, message: P::Message) {
        self.out.push(Effect::Send { to, message });
    }
    pub fn set_timer(&mut self, after: SimTime, timer: P::Timer) {
        self.out.push(Effect::SetTimer { after, timer });
    }
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.out.push(Effect::CancelTimer { timer });
    }
    pub fn watch(&mut self, peer: NodeId) {
        self.out.push(Effect::Watch { peer });
    }
    pub fn unwatch(&mut self, peer: NodeId) {
        self.out.push(Effect::Unwatch { peer });
    }
    pub fn report(&mut self, report: P::Report) {
        self.out.push(Effect::Report { report });
    }
    /// The node's own random stream.
    pub fn rng(&mut self) -> &mut NodeRng {
        self.rng
    }
    /// A uniformly jittered delay in [period/2, 3·period/2): the randomized
    /// periodic timers of Chord's simulations.
    pub fn jittered(&mut self, period: SimTime) -> SimTime {
        let half = period.0 / 2;
        if period.0 == 0 {
            return period;
        }
        SimTime(half + self.rng.below(period.0.max(1)))
    }
}
