//! `Simulation<P>`: the node arena, the event loop and every fault source.
//!
//! The engine owns time. It pops the earliest event, hands it to one node's
//! handler with a fresh [`Ctx`], then performs the handler's effects: each
//! message goes through the network model (lost, or scheduled after its
//! latency), timers are (re)armed or cancelled, watches update the failure
//! detector, reports queue up for the metrics. Faults come from the engine
//! alone: churn processes, the failure detector's verdicts, partitions and
//! blocked links. The scenario layer drives everything else (scheduled
//! faults, the workload, sampling) through `run_until` and the verbs
//! `spawn`, `crash`, `leave`, `request`, `partition`, `heal`.

use crate::churn::{ChurnConfig, ChurnKind};
use crate::detector::{Detector, DetectorConfig};
use crate::id::{IdSpace, NodeId, Peer, RingId};
use crate::network::{Drop, Group, Network, NetworkConfig};
use crate::protocol::{Ctx, Effect, Message, Protocol};
use crate::queue::EventQueue;
use crate::rng::{Draw, NodeRng, Purpose, Stream};
use crate::time::SimTime;
use crate::trace::{Digest, TraceKind, TraceWriter};
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// Everything the engine needs besides the protocol's own configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub seed: u64,
    pub space: IdSpace,
    pub network: NetworkConfig,
    pub detector: DetectorConfig,
    pub churn: ChurnConfig,
}

/// Why a suspicion was scheduled; checked again when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    Crash,
    Cut,
    False,
}

#[derive(Debug)]
enum Event<P: Protocol> {
    Deliver { from: NodeId, to: NodeId, message: P::Message },
    Timer { node: NodeId, timer: P::Timer, generation: u32 },
    Suspect { watcher: NodeId, peer: NodeId, cause: Cause },
    Alive { watcher: NodeId, peer: NodeId },
    FalseSuspicion { generation: u32 },
    Churn(ChurnKind),
    Depart { node: NodeId },
}

/// One process in the arena. A crashed node keeps its slot (NodeIds are never
/// reused) but drops its state.
#[derive(Debug)]
struct Slot<P: Protocol> {
    state: Option<P>,
    peer: Peer,
    rng: NodeRng,
    timers: SmallVec<[(P::Timer, u32); 4]>,
    next_timer_generation: u32,
    /// Position in `alive`, meaningful while the node is alive.
    alive_position: u32,
}

/// One fault as it happened, by ring identifier (stable when other faults
/// are removed): what `overlaysim check --shrink` replays and reduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultRecord {
    Join { at: SimTime, id: RingId, contact: Option<RingId> },
    Crash { at: SimTime, id: RingId },
    Leave { at: SimTime, id: RingId },
    FalseSuspicion { at: SimTime, watcher: RingId, peer: RingId, lasts: SimTime },
}

/// Engine-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimCounters {
    /// Events handed to a handler.
    pub events: u64,
    /// Events popped but skipped (cancelled timers, stale verdicts).
    pub stale_events: u64,
    pub joins: u64,
    pub crashes: u64,
    pub leaves: u64,
    pub requests: u64,
}

/// A deterministic discrete-event simulation of protocol `P`.
#[derive(Debug)]
pub struct Simulation<P: Protocol> {
    now: SimTime,
    space: IdSpace,
    protocol_config: P::Config,
    churn: ChurnConfig,
    queue: EventQueue<Event<P>>,
    slots: Vec<Slot<P>>,
    alive: Vec<NodeId>,
    ring: BTreeMap<RingId, NodeId>,
    network: Network,
    detector: Detector,
    network_rng: Stream,
    churn_rng: Stream,
    contact_rng: Stream,
    detector_rng: Stream,
    node_id_rng: Stream,
    node_key_rng: Stream,
    outbox: Vec<Effect<P>>,
    scratch: Vec<NodeId>,
    reports: Vec<(SimTime, NodeId, P::Report)>,
    message_counts: Vec<u64>,
    counters: SimCounters,
    digest: Digest,
    trace: Option<TraceWriter>,
    last_delivery: Option<(NodeId, NodeId)>,
    last_dispatched: Option<NodeId>,
    fault_log: Option<Vec<FaultRecord>>,
}

impl<P: Protocol> Simulation<P> {
    pub fn new(config: SimConfig, protocol_config: P::Config) -> Self {
        let seed = config.seed;
        let mut sim = Simulation {
            now: SimTime::ZERO,
            space: config.space,
            protocol_config,
            churn: config.churn,
            queue: EventQueue::new(),
            slots: Vec::new(),
            alive: Vec::new(),
            ring: BTreeMap::new(),
            network: Network::new(config.network),
            detector: Detector::new(config.detector),
            network_rng: Stream::new(seed, Purpose::Network),
            churn_rng: Stream::new(seed, Purpose::Churn),
            contact_rng: Stream::new(seed, Purpose::Contacts),
            detector_rng: Stream::new(seed, Purpose::Detector),
            node_id_rng: Stream::new(seed, Purpose::NodeIds),
            node_key_rng: Stream::new(seed, Purpose::NodeKeys),
            outbox: Vec::new(),
            scratch: Vec::new(),
            reports: Vec::new(),
            message_counts: vec![0; P::Message::KINDS.len()],
            counters: SimCounters::default(),
            digest: Digest::default(),
            trace: None,
            last_delivery: None,
            last_dispatched: None,
            fault_log: None,
        };
        for kind in [ChurnKind::Join, ChurnKind::Crash, ChurnKind::Leave] {
            if let Some(gap) = sim.churn.next_in(kind, &mut sim.churn_rng) {
                sim.queue.push(gap, Event::Churn(kind));
            }
        }
        sim
    }

    // ----- read access: the oracle's view -----

    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn space(&self) -> IdSpace {
        self.space
    }
    pub fn protocol_config(&self) -> &P::Config {
        &self.protocol_config
    }
    /// Changes the shared protocol configuration mid-run (e.g. a scheduled
    /// `stop_stabilization`).
    pub fn protocol_config_mut(&mut self) -> &mut P::Config {
        &mut self.protocol_config
    }
    pub fn node(&self, node: NodeId) -> Option<&P> {
        self.slots.get(node.index()).and_then(|s| s.state.as_ref())
    }
    pub fn peer(&self, node: NodeId) -> Peer {
        self.slots[node.index()].peer
    }
    pub fn is_alive(&self, node: NodeId) -> bool {
        self.node(node).is_some()
    }
    /// Live nodes, in an order that is deterministic but not sorted.
    pub fn alive_nodes(&self) -> &[NodeId] {
        &self.alive
    }
    pub fn alive_count(&self) -> usize {
        self.alive.len()
    }
    /// Live nodes by ring identifier: the true ring.
    pub fn ring(&self) -> &BTreeMap<RingId, NodeId> {
        &self.ring
    }
    /// Nodes ever created, dead ones included.
    pub fn arena_len(&self) -> usize {
        self.slots.len()
    }
    pub fn network(&self) -> &Network {
        &self.network
    }
    pub fn detector(&self) -> &Detector {
        &self.detector
    }
    pub fn counters(&self) -> &SimCounters {
        &self.counters
    }
    /// Messages sent, by kind (indexed like `P::Message::KINDS`).
    pub fn message_counts(&self) -> &[u64] {
        &self.message_counts
    }
    pub fn digest(&self) -> Digest {
        self.digest
    }
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }
    /// The bytes one arena slot takes inline (state included, heap not).
    pub fn slot_bytes() -> usize {
        std::mem::size_of::<Slot<P>>()
    }
    pub fn event_bytes() -> usize {
        std::mem::size_of::<Event<P>>()
    }

    pub fn set_trace(&mut self, trace: TraceWriter) {
        self.trace = Some(trace);
    }
    pub fn take_trace(&mut self) -> Option<TraceWriter> {
        self.trace.take()
    }

    /// Reports produced since the last drain, in the order they were made.
    pub fn drain_reports(&mut self) -> std::vec::Drain<'_, (SimTime, NodeId, P::Report)> {
        self.reports.drain(..)
    }

    /// A uniformly chosen live node satisfying `accept`, by rejection with a
    /// bounded number of tries, then by a scan.
    pub fn random_alive(&self, rng: &mut impl Draw, accept: impl Fn(&P) -> bool) -> Option<NodeId> {
        pick_alive(&self.alive, &self.slots, rng, |_, p| accept(p))
    }

    /// Like [`Simulation::random_alive`], with the node's handle too.
    pub fn random_alive_where(&self, rng: &mut impl Draw, accept: impl Fn(NodeId, &P) -> bool) -> Option<NodeId> {
        pick_alive(&self.alive, &self.slots, rng, accept)
    }

    // ----- the verbs -----

    /// Draws `count` fresh ring identifiers, distinct from each other and
    /// from every live node's.
    pub fn draw_ring_ids(&mut self, count: usize) -> Vec<RingId> {
        let space_size = self.space.size();
        assert!(
            (self.ring.len() + count) as u128 <= space_size,
            "cannot place {count} more nodes in an id space of {space_size}"
        );
        let mut taken: std::collections::BTreeSet<RingId> = std::collections::BTreeSet::new();
        let mut ids = Vec::with_capacity(count);
        while ids.len() < count {
            let id = self.space.from_uniform(self.node_id_rng.next_word());
            if !self.ring.contains_key(&id) && taken.insert(id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Creates a node at `id` whose state `make` builds, and starts it.
    pub fn spawn_with(&mut self, id: RingId, group: Group, make: impl FnOnce(Peer, &P::Config) -> P) -> NodeId {
        let node = self.insert(id, group, make);
        self.start(node);
        node
    }

    /// Creates one node per identifier first, then starts them all in that
    /// order, so that no node watches or messages one that does not exist
    /// yet (the converged bootstrap of a whole ring).
    pub fn spawn_all_with(
        &mut self,
        ids: &[RingId],
        group: Group,
        mut make: impl FnMut(usize, Peer, &P::Config) -> P,
    ) -> Vec<NodeId> {
        let nodes: Vec<NodeId> = ids
            .iter()
            .enumerate()
            .map(|(k, &id)| self.insert(id, group, |peer, config| make(k, peer, config)))
            .collect();
        for &node in &nodes {
            self.start(node);
        }
        nodes
    }

    /// The arena handle the next created node will get.
    pub fn next_node_id(&self) -> NodeId {
        NodeId(u32::try_from(self.slots.len()).expect("fewer than 2^32 nodes"))
    }

    fn insert(&mut self, id: RingId, group: Group, make: impl FnOnce(Peer, &P::Config) -> P) -> NodeId {
        assert!(!self.ring.contains_key(&id), "ring id {id} is taken");
        let node = self.next_node_id();
        let peer = Peer::new(node, id);
        let state = make(peer, &self.protocol_config);
        self.slots.push(Slot {
            state: Some(state),
            peer,
            rng: NodeRng::from_key(self.node_key_rng.next_word()),
            timers: SmallVec::new(),
            next_timer_generation: 0,
            alive_position: self.alive.len() as u32,
        });
        self.alive.push(node);
        self.ring.insert(id, node);
        self.network.add_node(node, group);
        self.counters.joins += 1;
        if let Some(session) = self.churn.session.clone() {
            let stay = session.draw(&mut self.churn_rng);
            self.queue.push(self.now + stay, Event::Depart { node });
        }
        node
    }

    fn start(&mut self, node: NodeId) {
        self.record(TraceKind::Start, node, None, None);
        self.dispatch(node, |state, ctx| state.on_start(ctx));
    }

    /// A new node joins through `contact` (None: the first node of an
    /// overlay), at a fresh random identifier, in the contact's partition
    /// group.
    pub fn spawn(&mut self, contact: Option<NodeId>) -> NodeId {
        let id = self.draw_ring_ids(1)[0];
        self.spawn_at(id, contact.map(|c| self.peer(c)))
    }

    /// A new node joins through `contact` at a given identifier (which must
    /// be free).
    pub fn spawn_at(&mut self, id: RingId, contact_peer: Option<Peer>) -> NodeId {
        let group = contact_peer.map_or(0, |c| self.network.group(c.node));
        self.log_fault(FaultRecord::Join { at: self.now, id, contact: contact_peer.map(|c| c.id) });
        self.spawn_with(id, group, |me, config| P::create(me, contact_peer, config))
    }

    /// The node stops at once, without a word.
    pub fn crash(&mut self, node: NodeId) {
        if !self.is_alive(node) {
            return;
        }
        self.record(TraceKind::Crash, node, None, None);
        self.log_fault(FaultRecord::Crash { at: self.now, id: self.peer(node).id });
        self.counters.crashes += 1;
        self.kill(node);
    }

    /// The node runs its leave handler, its last messages go out, it stops.
    pub fn leave(&mut self, node: NodeId) {
        if !self.is_alive(node) {
            return;
        }
        self.record(TraceKind::Leave, node, None, None);
        self.log_fault(FaultRecord::Leave { at: self.now, id: self.peer(node).id });
        self.counters.leaves += 1;
        self.dispatch(node, |state, ctx| state.on_leave(ctx));
        self.kill(node);
    }

    /// Hands a client request to a live node now.
    pub fn request(&mut self, node: NodeId, request: P::Request) {
        if !self.is_alive(node) {
            return;
        }
        self.counters.requests += 1;
        self.record(TraceKind::Request, node, None, None);
        self.dispatch(node, |state, ctx| state.on_request(ctx, request));
    }

    /// Puts each node into a partition group (by `group_of`) and cuts all
    /// traffic between different groups. Links that cross the cut become
    /// suspected after the detection delay.
    pub fn partition(&mut self, group_count: Group, group_of: impl Fn(NodeId, RingId) -> Group) {
        for slot in &self.slots {
            if slot.state.is_some() {
                self.network.set_group(slot.peer.node, group_of(slot.peer.node, slot.peer.id).min(group_count - 1));
            }
        }
        self.network.cut_all_groups(group_count);
        self.suspect_cut_links();
    }

    /// Cuts traffic from group `from` to group `to` only.
    pub fn cut_one_way(&mut self, from: Group, to: Group) {
        self.network.cut_one_way(from, to);
        self.suspect_cut_links();
    }

    /// Blocks the ordered link `from → to` (non-transitive connectivity).
    pub fn block_link(&mut self, from: NodeId, to: NodeId) {
        self.network.block_link(from, to);
    }

    /// A false suspicion now: `watcher` suspects the live `peer` it watches,
    /// and the suspicion is retracted after `lasts`. False when there is no
    /// such link or it is already suspected.
    pub fn suspect(&mut self, watcher: NodeId, peer: NodeId, lasts: SimTime) -> bool {
        if !self.is_alive(watcher) || !self.is_alive(peer) || self.detector.is_suspected(watcher, peer) {
            return false;
        }
        if !self.detector.is_watching(watcher, peer) {
            return false;
        }
        self.fire_suspect(watcher, peer, Cause::False);
        self.queue.push(self.now + lasts, Event::Alive { watcher, peer });
        self.log_false_suspicion(watcher, peer, lasts);
        true
    }

    fn log_false_suspicion(&mut self, watcher: NodeId, peer: NodeId, lasts: SimTime) {
        let (watcher, peer) = (self.peer(watcher).id, self.peer(peer).id);
        self.log_fault(FaultRecord::FalseSuspicion { at: self.now, watcher, peer, lasts });
    }

    /// Stops every churn process and session departure from now on.
    pub fn stop_churn(&mut self) {
        self.churn = ChurnConfig::default();
    }

    pub fn set_loss(&mut self, loss: f64) {
        self.network.set_loss(loss);
    }

    /// No more false suspicions from now on; those in progress are still
    /// retracted when their time comes.
    pub fn stop_false_suspicions(&mut self) {
        self.detector.config.false_suspicions_per_link_per_hour = 0.0;
        // The pending draw is for the old rate: make it stale.
        self.detector.false_suspicion_generation = self.detector.false_suspicion_generation.wrapping_add(1);
    }

    /// Removes every partition; suspicions caused by it are retracted after
    /// the detection delay.
    pub fn heal(&mut self) {
        self.network.heal();
        let delay = self.detector.config.detection_delay;
        let suspected: Vec<(NodeId, NodeId)> =
            self.detector.links().filter(|&(_, _, s)| s).map(|(w, p, _)| (w, p)).collect();
        for (watcher, peer) in suspected {
            if self.is_alive(peer) {
                self.queue.push(self.now + delay, Event::Alive { watcher, peer });
            }
        }
    }

    // ----- the loop -----

    /// Processes every event up to and including `until`, then sets the
    /// clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        while let Some(at) = self.queue.peek_time() {
            if at > until {
                break;
            }
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// As [`Simulation::run_until`], calling `observe` after every event:
    /// for checks of invariants online.
    pub fn run_until_observed(&mut self, until: SimTime, mut observe: impl FnMut(&Self)) {
        while let Some(at) = self.queue.peek_time() {
            if at > until {
                break;
            }
            self.step();
            observe(self);
        }
        self.now = self.now.max(until);
    }

    /// The (sender, receiver) of the message the last step delivered, if it
    /// delivered one.
    pub fn last_delivery(&self) -> Option<(NodeId, NodeId)> {
        self.last_delivery
    }

    /// Starts recording every join, crash, leave and false suspicion.
    pub fn record_faults(&mut self) {
        self.fault_log.get_or_insert_with(Vec::new);
    }

    /// The faults recorded so far (empty unless recording).
    pub fn take_fault_log(&mut self) -> Vec<FaultRecord> {
        self.fault_log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn log_fault(&mut self, record: FaultRecord) {
        if let Some(log) = self.fault_log.as_mut() {
            log.push(record);
        }
    }

    /// The node whose handler the last step ran, if it ran one: the only
    /// node whose state the step can have changed.
    pub fn last_dispatched(&self) -> Option<NodeId> {
        self.last_dispatched
    }

    /// Processes one event; false when the queue is empty.
    pub fn step(&mut self) -> bool {
        let Some((at, event)) = self.queue.pop() else { return false };
        self.now = at;
        self.last_delivery = None;
        self.last_dispatched = None;
        match event {
            Event::Deliver { from, to, message } => self.deliver(from, to, message),
            Event::Timer { node, timer, generation } => self.fire_timer(node, timer, generation),
            Event::Suspect { watcher, peer, cause } => self.fire_suspect(watcher, peer, cause),
            Event::Alive { watcher, peer } => self.fire_alive(watcher, peer),
            Event::FalseSuspicion { generation } => self.fire_false_suspicion(generation),
            Event::Churn(kind) => self.fire_churn(kind),
            Event::Depart { node } => self.fire_depart(node),
        }
        true
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, message: P::Message) {
        if !self.is_alive(to) {
            self.network.record_drop(Drop::DeadDestination);
            self.counters.stale_events += 1;
            return;
        }
        if !self.network.can_reach(from, to) {
            self.network.record_drop(Drop::Cut);
            self.counters.stale_events += 1;
            return;
        }
        self.network.counters.delivered += 1;
        self.last_delivery = Some((from, to));
        self.record(TraceKind::Deliver, to, Some(from.0), Some(message.kind_index()));
        self.dispatch(to, |state, ctx| state.on_message(ctx, from, message));
    }

    fn fire_timer(&mut self, node: NodeId, timer: P::Timer, generation: u32) {
        let Some(slot) = self.slots.get_mut(node.index()) else { return };
        let Some(position) = slot.timers.iter().position(|&(t, g)| t == timer && g == generation) else {
            self.counters.stale_events += 1;
            return;
        };
        slot.timers.swap_remove(position);
        self.record(TraceKind::Timer, node, None, None);
        self.dispatch(node, |state, ctx| state.on_timer(ctx, timer));
    }

    fn fire_suspect(&mut self, watcher: NodeId, peer: NodeId, cause: Cause) {
        let still_true = match cause {
            Cause::Crash => !self.is_alive(peer),
            Cause::Cut => !self.network.can_reach(peer, watcher) || !self.network.can_reach(watcher, peer),
            Cause::False => true,
        };
        if !self.is_alive(watcher) || !still_true || !self.detector.set_suspected(watcher, peer, true) {
            self.counters.stale_events += 1;
            return;
        }
        self.detector.counters.suspicions += 1;
        if cause == Cause::False {
            self.detector.counters.false_suspicions += 1;
        }
        self.record(TraceKind::Suspect, watcher, Some(peer.0), None);
        self.dispatch(watcher, |state, ctx| state.on_suspect(ctx, peer));
    }

    fn fire_alive(&mut self, watcher: NodeId, peer: NodeId) {
        let reachable = self.network.can_reach(peer, watcher) && self.network.can_reach(watcher, peer);
        if !self.is_alive(watcher)
            || !self.is_alive(peer)
            || !reachable
            || !self.detector.set_suspected(watcher, peer, false)
        {
            self.counters.stale_events += 1;
            return;
        }
        self.detector.counters.retractions += 1;
        self.record(TraceKind::Alive, watcher, Some(peer.0), None);
        self.dispatch(watcher, |state, ctx| state.on_alive(ctx, peer));
    }

    fn fire_false_suspicion(&mut self, generation: u32) {
        if generation != self.detector.false_suspicion_generation {
            self.counters.stale_events += 1;
            return;
        }
        if let Some((watcher, peer)) = self.detector.pick_link(&mut self.detector_rng)
            && self.is_alive(peer)
            && !self.detector.is_suspected(watcher, peer)
        {
            let duration = self.detector.config.false_suspicion_mean.as_secs_f64();
            let lasts = SimTime::from_secs_f64(self.detector_rng.exponential(duration)).max(SimTime(1));
            self.fire_suspect(watcher, peer, Cause::False);
            self.queue.push(self.now + lasts, Event::Alive { watcher, peer });
            self.log_false_suspicion(watcher, peer, lasts);
        }
        self.draw_false_suspicion();
    }

    /// (Re)draws the next false suspicion for the current number of links.
    fn draw_false_suspicion(&mut self) {
        if let Some(gap) = self.detector.next_false_suspicion_in(&mut self.detector_rng) {
            let generation = self.detector.false_suspicion_generation;
            self.queue.push(self.now + gap, Event::FalseSuspicion { generation });
        }
    }

    fn fire_churn(&mut self, kind: ChurnKind) {
        if self.churn.rate_per_s(kind) <= 0.0 {
            return; // stopped since this event was scheduled
        }
        match kind {
            ChurnKind::Join => {
                // A joiner needs a contact that is already in the overlay.
                let contact = pick_alive(&self.alive, &self.slots, &mut self.contact_rng, |_, p| p.is_member());
                if contact.is_some() || self.alive.is_empty() {
                    self.spawn(contact);
                }
            }
            ChurnKind::Crash => {
                if let Some(node) = pick_alive(&self.alive, &self.slots, &mut self.churn_rng, |_, _| true) {
                    self.crash(node);
                }
            }
            ChurnKind::Leave => {
                if let Some(node) = pick_alive(&self.alive, &self.slots, &mut self.churn_rng, |_, _| true) {
                    self.leave(node);
                }
            }
        }
        if let Some(gap) = self.churn.next_in(kind, &mut self.churn_rng) {
            self.queue.push(self.now + gap, Event::Churn(kind));
        }
    }

    fn fire_depart(&mut self, node: NodeId) {
        if !self.is_alive(node) || self.churn.session.is_none() {
            self.counters.stale_events += 1;
            return;
        }
        if self.churn_rng.chance(self.churn.session_leave_fraction) {
            self.leave(node);
        } else {
            self.crash(node);
        }
    }

    fn kill(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        slot.state = None;
        slot.timers = SmallVec::new();
        let position = slot.alive_position as usize;
        let id = slot.peer.id;
        self.alive.swap_remove(position);
        if let Some(&moved) = self.alive.get(position) {
            self.slots[moved.index()].alive_position = position as u32;
        }
        self.ring.remove(&id);
        self.detector.remove_watcher(node);
        let delay = self.detector.config.detection_delay;
        self.scratch.clear();
        self.scratch.extend(self.detector.watchers_of(node));
        for i in 0..self.scratch.len() {
            let watcher = self.scratch[i];
            self.queue.push(self.now + delay, Event::Suspect { watcher, peer: node, cause: Cause::Crash });
        }
        if self.detector.false_suspicion_rate_drifted() {
            self.draw_false_suspicion();
        }
    }

    /// After a cut: every watched link that no longer gets through both ways
    /// is suspected after the detection delay.
    fn suspect_cut_links(&mut self) {
        let delay = self.detector.config.detection_delay;
        let cut: Vec<(NodeId, NodeId)> = self
            .detector
            .links()
            .filter(|&(w, p, s)| !s && (!self.network.can_reach(w, p) || !self.network.can_reach(p, w)))
            .map(|(w, p, _)| (w, p))
            .collect();
        for (watcher, peer) in cut {
            self.queue.push(self.now + delay, Event::Suspect { watcher, peer, cause: Cause::Cut });
        }
    }

    /// Runs one handler on a live node and performs its effects.
    fn dispatch(&mut self, node: NodeId, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        let slot = &mut self.slots[node.index()];
        let Some(state) = slot.state.as_mut() else { return };
        self.counters.events += 1;
        self.last_dispatched = Some(node);
        let mut ctx = Ctx::new(self.now, slot.peer, self.space, &self.protocol_config, &mut slot.rng, &mut self.outbox);
        handler(state, &mut ctx);
        if cfg!(debug_assertions) {
            state.check_invariants(&self.protocol_config, self.space);
        }
        self.apply_effects(node);
    }

    fn apply_effects(&mut self, node: NodeId) {
        let mut effects = std::mem::take(&mut self.outbox);
        for effect in effects.drain(..) {
            match effect {
                Effect::Send { to, message } => {
                    self.message_counts[message.kind_index()] += 1;
                    if let Some(latency) = self.network.transmit(node, to, &mut self.network_rng) {
                        self.queue.push(self.now + latency, Event::Deliver { from: node, to, message });
                    }
                }
                Effect::SetTimer { after, timer } => {
                    let slot = &mut self.slots[node.index()];
                    let generation = slot.next_timer_generation;
                    slot.next_timer_generation = generation.wrapping_add(1);
                    match slot.timers.iter_mut().find(|(t, _)| *t == timer) {
                        Some(entry) => entry.1 = generation,
                        None => slot.timers.push((timer, generation)),
                    }
                    self.queue.push(self.now + after, Event::Timer { node, timer, generation });
                }
                Effect::CancelTimer { timer } => {
                    self.slots[node.index()].timers.retain(|(t, _)| *t != timer);
                }
                Effect::Watch { peer } => {
                    if self.detector.watch(node, peer) {
                        let delay = self.detector.config.detection_delay;
                        if !self.is_alive(peer) {
                            self.queue
                                .push(self.now + delay, Event::Suspect { watcher: node, peer, cause: Cause::Crash });
                        } else if !self.network.can_reach(node, peer) || !self.network.can_reach(peer, node) {
                            self.queue
                                .push(self.now + delay, Event::Suspect { watcher: node, peer, cause: Cause::Cut });
                        }
                    }
                }
                Effect::Unwatch { peer } => self.detector.unwatch(node, peer),
                Effect::Report { report } => self.reports.push((self.now, node, report)),
            }
        }
        self.outbox = effects;
        if self.detector.false_suspicion_rate_drifted() {
            self.draw_false_suspicion();
        }
    }

    /// Folds an event into the digest (and the trace, when on).
    /// `message_kind` indexes `P::Message::KINDS`.
    fn record(&mut self, kind: TraceKind, node: NodeId, other: Option<u32>, message_kind: Option<usize>) {
        self.digest.fold(self.now.0);
        self.digest.fold(((kind as u64) << 56) | ((message_kind.unwrap_or(0) as u64) << 32) | node.0 as u64);
        if let Some(other) = other {
            self.digest.fold(other as u64);
        }
        if let Some(trace) = self.trace.as_mut() {
            let detail = message_kind.map_or("", |k| P::Message::KINDS[k]);
            trace.line(self.now.0, kind, node.0, other, detail);
        }
    }
}

/// A uniformly chosen live node whose state satisfies `accept`: rejection
/// sampling with a bounded number of tries, then a scan.
fn pick_alive<P: Protocol>(
    alive: &[NodeId],
    slots: &[Slot<P>],
    rng: &mut impl Draw,
    accept: impl Fn(NodeId, &P) -> bool,
) -> Option<NodeId> {
    if alive.is_empty() {
        return None;
    }
    let accepted = |node: NodeId| slots[node.index()].state.as_ref().is_some_and(|p| accept(node, p));
    for _ in 0..32 {
        let node = alive[rng.below(alive.len() as u64) as usize];
        if accepted(node) {
            return Some(node);
        }
    }
    let members: Vec<NodeId> = alive.iter().copied().filter(|&n| accepted(n)).collect();
    (!members.is_empty()).then(|| members[rng.below(members.len() as u64) as usize])
}
