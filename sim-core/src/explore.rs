//! Exhaustive exploration of small configurations: every order of message
//! deliveries, breadth-first, states deduplicated by fingerprint.
//!
//! The same pure state machines that run in [`crate::Simulation`] run here,
//! unchanged: a [`World`] holds every node's state, the multiset of messages
//! in flight, the armed timers, the failure detector's watches and verdicts.
//! From a state, each *enabled action* (deliver one message in flight, fire
//! a timer, and within a bounded budget lose a message, crash a node or
//! suspect a live peer falsely) gives one successor, computed by running the
//! node's handler with a [`Ctx`] exactly as the engine does. Safety
//! properties are checked at every state reached; breadth-first order makes
//! the first counterexample a shortest one.
//!
//! # Abstractions
//! - **Time** does not exist: every handler sees the same instant, so states
//!   that differ only in when they were reached are one state. Timers are
//!   events that may fire whenever the [`TimerPolicy`] allows.
//! - **Randomness**: each handler runs with a fresh stream keyed by its
//!   node, so a random choice is a function of the node's state (random
//!   choices are not branched on).
//! - **Network**: any message in flight may be delivered next (no FIFO
//!   links, as in the engine, where latencies are drawn per message). A
//!   message to a crashed node or over a cut link is dropped when sent.
//! - **Dedupe** keeps 64-bit fingerprints only (hash compaction, as in SPIN
//!   and TLC): two distinct states collide with probability about n²/2⁶⁵,
//!   below 10⁻⁵ for 10⁷ states, and a collision can only prune, never add,
//!   a behaviour.
//!
//! Nothing here reads a clock: the caller measures states per second.

use crate::id::{IdSpace, NodeId, Peer};
use crate::protocol::{Ctx, Effect, Message, Protocol};
use crate::rng::{NodeRng, mix64};
use crate::time::SimTime;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

/// What exploration needs of a protocol: states, messages and timers that
/// can be copied, compared and hashed.
pub trait Explorable: Protocol<Message: Eq + std::hash::Hash, Timer: std::hash::Hash> + Clone + Eq + Hash {}
impl<P> Explorable for P where P: Protocol<Message: Eq + std::hash::Hash, Timer: std::hash::Hash> + Clone + Eq + Hash {}

/// When an armed timer may fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerPolicy {
    /// Never: only message deliveries (and faults) move the system.
    Never,
    /// Only while no message is in flight: timeouts are longer than any
    /// message delay (the default; a timeout then means a loss or a crash).
    WhenQuiet,
    /// At any moment, early timeouts included (fully asynchronous).
    Anytime,
}

/// Faults that exploration may inject, each at most this many times on a
/// path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FaultBudget {
    pub losses: u8,
    pub crashes: u8,
    pub false_suspicions: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    pub max_depth: u32,
    /// Stop after this many unique states (the result then says it is not
    /// exhaustive).
    pub max_states: u64,
    pub timers: TimerPolicy,
    pub faults: FaultBudget,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            max_depth: 64,
            max_states: 2_000_000,
            timers: TimerPolicy::WhenQuiet,
            faults: FaultBudget::default(),
        }
    }
}

/// One message in flight; `key` orders the multiset canonically.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Flight<M> {
    key: u64,
    from: NodeId,
    to: NodeId,
    message: M,
}

/// One step from a state to a successor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action<T> {
    /// Deliver the message at this index of the canonical multiset.
    Deliver(u32),
    Lose(u32),
    Timer(NodeId, T),
    Crash(NodeId),
    /// A true verdict: the watched peer has crashed or is cut off.
    Suspect(NodeId, NodeId),
    FalseSuspect(NodeId, NodeId),
    Alive(NodeId, NodeId),
}

/// A global state: every node, every message in flight, every timer.
#[derive(Debug)]
pub struct World<P: Protocol> {
    space: IdSpace,
    peers: Vec<Peer>,
    nodes: Vec<Option<P>>,
    inflight: Vec<Flight<P::Message>>,
    /// Sorted by (node, timer fingerprint).
    timers: Vec<(NodeId, u64, P::Timer)>,
    /// (watcher, peer), sorted.
    watches: Vec<(NodeId, NodeId)>,
    /// True verdicts not yet delivered, sorted.
    verdicts: Vec<(NodeId, NodeId)>,
    /// Links currently suspected, sorted; the flag says falsely.
    suspected: Vec<(NodeId, NodeId, bool)>,
    /// Directed links that carry nothing, sorted.
    cut: Vec<(NodeId, NodeId)>,
    left: FaultBudget,
    used: FaultBudget,
    outbox: Vec<Effect<P>>,
}

impl<P: Explorable> Clone for World<P> {
    fn clone(&self) -> Self {
        World {
            space: self.space,
            peers: self.peers.clone(),
            nodes: self.nodes.clone(),
            inflight: self.inflight.clone(),
            timers: self.timers.clone(),
            watches: self.watches.clone(),
            verdicts: self.verdicts.clone(),
            suspected: self.suspected.clone(),
            cut: self.cut.clone(),
            left: self.left,
            used: self.used,
            outbox: Vec::new(),
        }
    }
}

/// The fingerprint hasher: SplitMix64 over 8-byte words, the same on every
/// machine and toolchain.
#[derive(Default)]
struct Fingerprinter(u64);

impl Hasher for Fingerprinter {
    fn finish(&self) -> u64 {
        mix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word) ^ ((chunk.len() as u64) << 59));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = mix64(self.0 ^ value).wrapping_add(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(value as u64);
    }
    fn write_u8(&mut self, value: u8) {
        self.write_u64(value as u64);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

fn fingerprint_of(value: &impl Hash) -> u64 {
    let mut hasher = Fingerprinter::default();
    value.hash(&mut hasher);
    hasher.finish()
}

fn insert_sorted<T: Ord>(items: &mut Vec<T>, item: T) -> bool {
    match items.binary_search(&item) {
        Ok(_) => false,
        Err(at) => {
            items.insert(at, item);
            true
        }
    }
}

impl<P: Explorable> World<P> {
    pub fn new(space: IdSpace, faults: FaultBudget) -> Self {
        World {
            space,
            peers: Vec::new(),
            nodes: Vec::new(),
            inflight: Vec::new(),
            timers: Vec::new(),
            watches: Vec::new(),
            verdicts: Vec::new(),
            suspected: Vec::new(),
            cut: Vec::new(),
            left: faults,
            used: FaultBudget::default(),
            outbox: Vec::new(),
        }
    }

    // ----- building the initial state -----

    /// Adds a process (not started); its `NodeId` is the next index.
    pub fn add(&mut self, peer: Peer, state: P) {
        assert_eq!(peer.node.index(), self.nodes.len(), "nodes are added in NodeId order");
        self.peers.push(peer);
        self.nodes.push(Some(state));
    }

    /// Runs `on_start` on a node.
    pub fn start(&mut self, node: NodeId, config: &P::Config) {
        self.dispatch(node, config, |state, ctx| state.on_start(ctx));
    }

    /// Cuts the link between two nodes, both ways, for the whole run.
    pub fn cut_link(&mut self, a: NodeId, b: NodeId) {
        insert_sorted(&mut self.cut, (a, b));
        insert_sorted(&mut self.cut, (b, a));
        self.inflight.retain(|f| !((f.from == a && f.to == b) || (f.from == b && f.to == a)));
        for (watcher, peer) in [(a, b), (b, a)] {
            if self.watches.binary_search(&(watcher, peer)).is_ok() {
                insert_sorted(&mut self.verdicts, (watcher, peer));
            }
        }
    }

    /// Crashes a node now (outside the fault budget: part of the setup).
    pub fn crash(&mut self, node: NodeId) {
        self.nodes[node.index()] = None;
        self.timers.retain(|t| t.0 != node);
        self.inflight.retain(|f| f.to != node);
        self.watches.retain(|w| w.0 != node);
        self.verdicts.retain(|v| v.0 != node);
        self.suspected.retain(|s| s.0 != node);
        for &(watcher, peer) in &self.watches {
            if peer == node && !self.is_suspected(watcher, peer) {
                insert_sorted(&mut self.verdicts, (watcher, peer));
            }
        }
    }

    /// Delivers messages, in canonical order, until none is in flight or
    /// `max_steps` were delivered; fires no timer. Builds a state that a
    /// deterministic prefix reaches (e.g. a branch after a join over a cut
    /// link).
    pub fn settle(&mut self, config: &P::Config, max_steps: usize) {
        for _ in 0..max_steps {
            if self.inflight.is_empty() {
                break;
            }
            self.apply(Action::Deliver(0), config);
        }
    }

    // ----- reading -----

    pub fn space(&self) -> IdSpace {
        self.space
    }
    pub fn peer(&self, node: NodeId) -> Peer {
        self.peers[node.index()]
    }
    pub fn node(&self, node: NodeId) -> Option<&P> {
        self.nodes.get(node.index()).and_then(Option::as_ref)
    }
    /// Live nodes, in NodeId order.
    pub fn live(&self) -> impl Iterator<Item = (NodeId, &P)> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| n.as_ref().map(|p| (NodeId(i as u32), p)))
    }
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }
    /// Faults injected on the path to this state.
    pub fn faults_used(&self) -> FaultBudget {
        self.used
    }
    pub fn has_cut_links(&self) -> bool {
        !self.cut.is_empty()
    }
    /// Whether some live watcher currently suspects a live peer (a false
    /// suspicion, or a true one about a cut link).
    pub fn has_wrong_suspicion(&self) -> bool {
        self.suspected.iter().any(|&(w, p, _)| self.node(w).is_some() && self.node(p).is_some())
    }

    fn is_suspected(&self, watcher: NodeId, peer: NodeId) -> bool {
        self.suspected.iter().any(|s| s.0 == watcher && s.1 == peer)
    }

    /// The state's fingerprint.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = Fingerprinter::default();
        self.nodes.hash(&mut hasher);
        for flight in &self.inflight {
            hasher.write_u64(flight.key);
        }
        for (node, key, _) in &self.timers {
            hasher.write_u32(node.0);
            hasher.write_u64(*key);
        }
        self.watches.hash(&mut hasher);
        self.verdicts.hash(&mut hasher);
        self.suspected.hash(&mut hasher);
        self.left.hash(&mut hasher);
        hasher.write_u8(0xee);
        hasher.finish()
    }

    // ----- stepping -----

    fn enabled(&self, policy: TimerPolicy, out: &mut Vec<Action<P::Timer>>) {
        out.clear();
        for (i, flight) in self.inflight.iter().enumerate() {
            if i > 0 && self.inflight[i - 1].key == flight.key {
                continue; // a duplicate of the one before: same successor
            }
            out.push(Action::Deliver(i as u32));
            if self.left.losses > 0 {
                out.push(Action::Lose(i as u32));
            }
        }
        let timers_now = match policy {
            TimerPolicy::Never => false,
            TimerPolicy::WhenQuiet => self.inflight.is_empty(),
            TimerPolicy::Anytime => true,
        };
        if timers_now {
            out.extend(self.timers.iter().map(|&(node, _, timer)| Action::Timer(node, timer)));
        }
        out.extend(self.verdicts.iter().map(|&(w, p)| Action::Suspect(w, p)));
        for &(w, p, falsely) in &self.suspected {
            if falsely && self.node(p).is_some() {
                out.push(Action::Alive(w, p));
            }
        }
        if self.left.false_suspicions > 0 {
            for &(w, p) in &self.watches {
                if self.node(p).is_some() && !self.is_suspected(w, p) && !self.verdicts.contains(&(w, p)) {
                    out.push(Action::FalseSuspect(w, p));
                }
            }
        }
        if self.left.crashes > 0 {
            out.extend(self.live().map(|(node, _)| Action::Crash(node)));
        }
    }

    fn apply(&mut self, action: Action<P::Timer>, config: &P::Config) {
        match action {
            Action::Deliver(index) => {
                let flight = self.inflight.remove(index as usize);
                self.dispatch(flight.to, config, |state, ctx| state.on_message(ctx, flight.from, flight.message));
            }
            Action::Lose(index) => {
                self.inflight.remove(index as usize);
                self.left.losses -= 1;
                self.used.losses += 1;
            }
            Action::Timer(node, timer) => {
                let key = fingerprint_of(&timer);
                self.timers.retain(|t| !(t.0 == node && t.1 == key));
                self.dispatch(node, config, |state, ctx| state.on_timer(ctx, timer));
            }
            Action::Crash(node) => {
                self.left.crashes -= 1;
                self.used.crashes += 1;
                self.crash(node);
            }
            Action::Suspect(watcher, peer) => {
                self.verdicts.retain(|&v| v != (watcher, peer));
                insert_sorted(&mut self.suspected, (watcher, peer, false));
                self.dispatch(watcher, config, |state, ctx| state.on_suspect(ctx, peer));
            }
            Action::FalseSuspect(watcher, peer) => {
                self.left.false_suspicions -= 1;
                self.used.false_suspicions += 1;
                insert_sorted(&mut self.suspected, (watcher, peer, true));
                self.dispatch(watcher, config, |state, ctx| state.on_suspect(ctx, peer));
            }
            Action::Alive(watcher, peer) => {
                self.suspected.retain(|s| !(s.0 == watcher && s.1 == peer));
                self.dispatch(watcher, config, |state, ctx| state.on_alive(ctx, peer));
            }
        }
    }

    /// Runs one handler on a live node and performs its effects.
    fn dispatch(&mut self, node: NodeId, config: &P::Config, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        let me = self.peers[node.index()];
        let Some(state) = self.nodes[node.index()].as_mut() else { return };
        let mut rng = NodeRng::from_key(mix64(node.0 as u64 ^ 0x5eed));
        let mut out = std::mem::take(&mut self.outbox);
        let mut ctx = Ctx::new(SimTime::ZERO, me, self.space, config, &mut rng, &mut out);
        handler(state, &mut ctx);
        if cfg!(debug_assertions) {
            state.check_invariants(config, self.space);
        }
        for effect in out.drain(..) {
            self.perform(node, effect);
        }
        self.outbox = out;
    }

    fn reachable(&self, from: NodeId, to: NodeId) -> bool {
        self.node(to).is_some() && self.cut.binary_search(&(from, to)).is_err()
    }

    fn perform(&mut self, node: NodeId, effect: Effect<P>) {
        match effect {
            Effect::Send { to, message } => {
                if self.reachable(node, to) {
                    let key = fingerprint_of(&(node, to, &message));
                    let at = self.inflight.partition_point(|f| f.key <= key);
                    self.inflight.insert(at, Flight { key, from: node, to, message });
                }
            }
            Effect::SetTimer { timer, .. } => {
                let key = fingerprint_of(&timer);
                if let Err(at) = self.timers.binary_search_by(|t| (t.0, t.1).cmp(&(node, key))) {
                    self.timers.insert(at, (node, key, timer));
                }
            }
            Effect::CancelTimer { timer } => {
                let key = fingerprint_of(&timer);
                self.timers.retain(|t| !(t.0 == node && t.1 == key));
            }
            Effect::Watch { peer } => {
                if insert_sorted(&mut self.watches, (node, peer)) && !self.reachable(node, peer) {
                    insert_sorted(&mut self.verdicts, (node, peer));
                }
            }
            Effect::Unwatch { peer } => {
                self.watches.retain(|&w| w != (node, peer));
                self.verdicts.retain(|&v| v != (node, peer));
                self.suspected.retain(|s| !(s.0 == node && s.1 == peer));
            }
            Effect::Report { .. } => {}
        }
    }

    /// A line describing `action` taken from this state.
    fn describe(&self, action: &Action<P::Timer>) -> String {
        let name = |node: NodeId| format!("n{}@{}", node.0, self.peers[node.index()].id);
        match action {
            Action::Deliver(i) | Action::Lose(i) => {
                let flight = &self.inflight[*i as usize];
                let verb = if matches!(action, Action::Deliver(_)) { "deliver" } else { "lose" };
                let message = compact(&format!("{:?}", flight.message));
                format!("{verb} {} {} → {}: {message}", flight.message.kind_name(), name(flight.from), name(flight.to))
            }
            Action::Timer(node, timer) => format!("timer {} fires at {}", compact(&format!("{timer:?}")), name(*node)),
            Action::Crash(node) => format!("{} crashes", name(*node)),
            Action::Suspect(w, p) => format!("{} suspects {} (it is gone)", name(*w), name(*p)),
            Action::FalseSuspect(w, p) => format!("{} suspects {} falsely", name(*w), name(*p)),
            Action::Alive(w, p) => format!("{} hears {} is alive", name(*w), name(*p)),
        }
    }
}

/// Shortens the `Debug` text of messages for traces: `Peer { node:
/// NodeId(3), id: RingId(28) }` becomes `n3@28`, `NodeId(3)` becomes `n3`
/// and `RingId(28)` becomes `28`.
pub fn compact(text: &str) -> String {
    fn number_after<'a>(rest: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
        let rest = rest.strip_prefix(prefix)?;
        let end = rest.find(')')?;
        let digits = &rest[..end];
        digits.bytes().all(|b| b.is_ascii_digit()).then_some((digits, &rest[end + 1..]))
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("Peer { node: ")
            && let Some((node, after)) = number_after(after, "NodeId(")
            && let Some(after) = after.strip_prefix(", id: ")
            && let Some((id, after)) = number_after(after, "RingId(")
            && let Some(after) = after.strip_prefix(" }")
        {
            let _ = write!(out, "n{node}@{id}");
            rest = after;
        } else if let Some((node, after)) = number_after(rest, "NodeId(") {
            let _ = write!(out, "n{node}");
            rest = after;
        } else if let Some((id, after)) = number_after(rest, "RingId(") {
            out.push_str(id);
            rest = after;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The set of fingerprints seen: open addressing, linear probing.
struct FingerprintSet {
    slots: Vec<u64>,
    len: usize,
}

impl FingerprintSet {
    fn new() -> Self {
        FingerprintSet { slots: vec![0; 1 << 16], len: 0 }
    }

    /// True when `fingerprint` was not in the set.
    fn insert(&mut self, fingerprint: u64) -> bool {
        let fingerprint = fingerprint.max(1); // 0 marks an empty slot
        if (self.len + 1) * 2 > self.slots.len() {
            let doubled = vec![0; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, doubled);
            self.len = 0;
            for value in old.into_iter().filter(|&v| v != 0) {
                self.insert(value);
            }
        }
        let mask = self.slots.len() - 1;
        let mut at = (mix64(fingerprint) as usize) & mask;
        loop {
            match self.slots[at] {
                0 => {
                    self.slots[at] = fingerprint;
                    self.len += 1;
                    return true;
                }
                v if v == fingerprint => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }
}

/// A shortest path to a state that breaks a property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// One readable line per step, from the initial state.
    pub steps: Vec<String>,
    /// What the property said about the last state.
    pub violation: String,
}

impl Counterexample {
    /// The trace as numbered lines, then the violation.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(text, "{:>3}. {step}", i + 1);
        }
        let _ = writeln!(text, "violated: {}", self.violation);
        text
    }
}

/// What an exploration saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explored {
    /// Unique states reached, the initial one included.
    pub states: u64,
    /// Successors computed (before dedupe).
    pub transitions: u64,
    /// The deepest level reached.
    pub depth: u32,
    /// Every reachable state was visited: no depth or state limit cut the
    /// search short.
    pub exhaustive: bool,
    /// States with no message in flight.
    pub quiet: u64,
    pub violation: Option<Counterexample>,
}

/// Breadth-first search from `initial`: every enabled action of every
/// state, each new state checked by `property` (Err names what is wrong).
/// Stops at the first violation, which is then a shortest one.
pub fn explore<P: Explorable>(
    initial: &World<P>,
    config: &P::Config,
    options: &ExploreOptions,
    property: impl Fn(&World<P>) -> Result<(), String>,
) -> Explored {
    let mut seen = FingerprintSet::new();
    seen.insert(initial.fingerprint());
    // (parent index, action) per state, to rebuild a trace by replay.
    let mut records: Vec<(u32, Option<Action<P::Timer>>)> = vec![(0, None)];
    let mut explored = Explored { states: 1, transitions: 0, depth: 0, exhaustive: false, quiet: 0, violation: None };
    if let Err(violation) = property(initial) {
        explored.violation = Some(Counterexample { steps: Vec::new(), violation });
        return explored;
    }
    let mut frontier: Vec<(u32, World<P>)> = vec![(0, initial.clone())];
    let mut actions = Vec::new();
    while !frontier.is_empty() {
        if explored.depth >= options.max_depth {
            return explored;
        }
        let mut next = Vec::new();
        for (index, world) in &frontier {
            world.enabled(options.timers, &mut actions);
            if world.inflight.is_empty() {
                explored.quiet += 1;
            }
            for &action in &actions {
                let mut successor = world.clone();
                successor.apply(action, config);
                explored.transitions += 1;
                if !seen.insert(successor.fingerprint()) {
                    continue;
                }
                records.push((*index, Some(action)));
                explored.states += 1;
                if let Err(violation) = property(&successor) {
                    explored.depth += 1;
                    explored.violation = Some(replay(initial, config, &records, violation));
                    return explored;
                }
                if explored.states >= options.max_states {
                    explored.depth += 1;
                    return explored;
                }
                next.push(((records.len() - 1) as u32, successor));
            }
        }
        if next.is_empty() {
            explored.exhaustive = true;
            return explored;
        }
        explored.depth += 1;
        frontier = next;
    }
    explored.exhaustive = true;
    explored
}

/// Rebuilds the path to the last recorded state and describes each step.
fn replay<P: Explorable>(
    initial: &World<P>,
    config: &P::Config,
    records: &[(u32, Option<Action<P::Timer>>)],
    violation: String,
) -> Counterexample {
    let mut path = Vec::new();
    let mut at = records.len() - 1;
    while let (parent, Some(action)) = records[at] {
        path.push(action);
        at = parent as usize;
    }
    path.reverse();
    let mut world = initial.clone();
    let mut steps = Vec::with_capacity(path.len());
    for action in path {
        steps.push(world.describe(&action));
        world.apply(action, config);
    }
    Counterexample { steps, violation }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::RingId;

    /// A toy protocol: each node sends its `sends` at start; a node records
    /// what it receives, in order or as a sorted set.
    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    struct Toy {
        sends: Vec<(NodeId, u32)>,
        received: Vec<u32>,
        ordered: bool,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    struct Tag(u32);

    impl Message for Tag {
        const KINDS: &'static [&'static str] = &["tag"];
        fn kind_index(&self) -> usize {
            0
        }
    }

    impl Protocol for Toy {
        type Config = ();
        type Message = Tag;
        type Timer = ();
        type Request = ();
        type Report = ();
        fn create(_me: Peer, _contact: Option<Peer>, _config: &()) -> Self {
            Toy { sends: Vec::new(), received: Vec::new(), ordered: true }
        }
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            for &(to, value) in &self.sends {
                ctx.send(to, Tag(value));
            }
        }
        fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, message: Tag) {
            self.received.push(message.0);
            if !self.ordered {
                self.received.sort_unstable();
            }
        }
        fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}
        fn on_request(&mut self, _ctx: &mut Ctx<'_, Self>, _request: ()) {}
    }

    /// A sink (node 0) and one source per entry of `values`, each sending
    /// its value to the sink.
    fn fan_in(values: &[&[u32]], ordered: bool, faults: FaultBudget) -> World<Toy> {
        let mut world = World::new(IdSpace::bits(8), faults);
        let peer = |i: usize| Peer::new(NodeId(i as u32), RingId(i as u64));
        world.add(peer(0), Toy { sends: Vec::new(), received: Vec::new(), ordered });
        for (i, sends) in values.iter().enumerate() {
            let sends = sends.iter().map(|&v| (NodeId(0), v)).collect();
            world.add(peer(i + 1), Toy { sends, received: Vec::new(), ordered });
        }
        for i in 0..=values.len() {
            world.start(NodeId(i as u32), &());
        }
        world
    }

    fn sink(world: &World<Toy>) -> &[u32] {
        &world.node(NodeId(0)).expect("the sink lives").received
    }

    #[test]
    fn commuting_deliveries_collapse_to_the_subsets_of_messages() {
        let world = fan_in(&[&[1], &[2], &[3]], false, FaultBudget::default());
        let explored = explore(&world, &(), &ExploreOptions::default(), |_| Ok(()));
        // Every subset of the three messages delivered, reached by
        // 3 · 2² transitions; the last level delivers the third.
        assert_eq!((explored.states, explored.transitions, explored.depth), (8, 12, 3));
        assert!(explored.exhaustive && explored.violation.is_none());
        assert_eq!(explored.quiet, 1);
    }

    #[test]
    fn ordered_deliveries_are_every_prefix_of_every_permutation() {
        let world = fan_in(&[&[1], &[2], &[3]], true, FaultBudget::default());
        let explored = explore(&world, &(), &ExploreOptions::default(), |_| Ok(()));
        // 1 + 3 + 3·2 + 3·2·1 prefixes.
        assert_eq!(explored.states, 16);
        assert!(explored.exhaustive);
    }

    #[test]
    fn identical_messages_in_flight_are_one_action() {
        let world = fan_in(&[&[7, 7]], true, FaultBudget::default());
        let explored = explore(&world, &(), &ExploreOptions::default(), |_| Ok(()));
        assert_eq!((explored.states, explored.transitions), (3, 2));
    }

    #[test]
    fn a_loss_budget_adds_the_paths_where_a_message_vanishes() {
        let world = fan_in(&[&[1]], true, FaultBudget { losses: 1, ..FaultBudget::default() });
        let explored = explore(&world, &(), &ExploreOptions::default(), |_| Ok(()));
        // Initial, delivered, lost.
        assert_eq!(explored.states, 3);
    }

    #[test]
    fn the_counterexample_is_a_shortest_path_and_replays() {
        let world = fan_in(&[&[1], &[2], &[3]], true, FaultBudget::default());
        // Broken when 3 arrives right after 1.
        let property = |w: &World<Toy>| match sink(w) {
            [.., 1, 3] => Err("3 right after 1".to_string()),
            _ => Ok(()),
        };
        let explored = explore(&world, &(), &ExploreOptions::default(), property);
        let counterexample = explored.violation.expect("the bad order is reachable");
        assert_eq!(counterexample.steps.len(), 2, "{}", counterexample.render());
        assert!(counterexample.steps[0].contains("Tag(1)") && counterexample.steps[1].contains("Tag(3)"));
        assert_eq!(counterexample.violation, "3 right after 1");
        // No shorter path exists: one level less finds nothing.
        let shallow = ExploreOptions { max_depth: 1, ..ExploreOptions::default() };
        assert!(explore(&world, &(), &shallow, property).violation.is_none());
    }

    #[test]
    fn limits_stop_the_search_and_say_it_is_not_exhaustive() {
        let world = fan_in(&[&[1], &[2], &[3]], true, FaultBudget::default());
        let capped = ExploreOptions { max_states: 5, ..ExploreOptions::default() };
        let explored = explore(&world, &(), &capped, |_| Ok(()));
        assert_eq!(explored.states, 5);
        assert!(!explored.exhaustive);
    }

    #[test]
    fn a_crashed_node_receives_nothing_and_its_watchers_get_a_verdict() {
        let mut world = fan_in(&[&[1]], true, FaultBudget::default());
        world.watches.push((NodeId(1), NodeId(0)));
        world.crash(NodeId(0));
        assert_eq!(world.in_flight(), 0);
        assert_eq!(world.verdicts, vec![(NodeId(1), NodeId(0))]);
    }

    #[test]
    fn compact_shortens_peers_and_ids() {
        let text = "Join { joiner: Peer { node: NodeId(3), id: RingId(28) }, at: NodeId(4), key: RingId(9) }";
        assert_eq!(compact(text), "Join { joiner: n3@28, at: n4, key: 9 }");
        assert_eq!(compact("NodeId(x)"), "NodeId(x)");
    }
}
