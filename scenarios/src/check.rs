//! Online safety checks and the liveness check of `overlaysim check`.
//!
//! A [`Monitor`] watches a run after every event. Safety properties:
//! - **engine**: time never goes back; no message is delivered to a dead
//!   node;
//! - **ring** (every protocol): a member never keeps as successor a peer its
//!   failure detector suspects, and never loses its membership (what the
//!   merge layer must preserve as much as the rings);
//! - **lookup consistency**: no key for which two live members' lookups
//!   name different responsible nodes ([`protocols::ring::lookup_conflict`]),
//!   checked only while the protocol claims it for the faults seen so far
//!   ([`RingProtocol::claims_lookup_consistency`]; the relaxed ring: no
//!   false suspicion and no partition yet, and no branch root gone since
//!   the ring was last one perfect ring, PPL 2008 §5 Theorems 1–3).
//!
//! A step changes one node's state, so each check looks at that node
//! against the cached answers of the others: O(N) per event.
//!
//! Liveness: after the last `stop_faults` event, the run must reach one
//! perfect ring with no inconsistent key within the stated bound; if not,
//! the report names what is still pending (which nodes, which pointers).

use crate::config::{EventAction, Scenario};
use crate::oracle;
use protocols::ring::{FaultHistory, LookupAnswers, RingProtocol, lookup_conflict};
use sim_core::{NodeId, Peer, SimTime, Simulation};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use crate::config::CheckSettings;

/// A run's faults as they happened, as explicit events by ring identifier:
/// replayed by a scenario with `nodes.ids` and these events, and no
/// random fault process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    pub initial_ids: Vec<sim_core::RingId>,
    pub events: Vec<crate::config::EventSpec>,
}

/// Turns the engine's fault records into events.
pub fn record_events(log: Vec<sim_core::FaultRecord>, into: &mut Vec<crate::config::EventSpec>) {
    use crate::config::EventSpec;
    use sim_core::FaultRecord;
    for record in log {
        let (at, action) = match record {
            FaultRecord::Join { at, id, contact } => (at, EventAction::JoinIds { ids: vec![id], via: contact }),
            FaultRecord::Crash { at, id } => (at, EventAction::CrashIds { ids: vec![id] }),
            FaultRecord::Leave { at, id } => (at, EventAction::LeaveIds { ids: vec![id] }),
            FaultRecord::FalseSuspicion { at, watcher, peer, lasts } => {
                (at, EventAction::Suspect { watcher, peer, lasts_ms: lasts.as_secs_f64() * 1000.0 })
            }
        };
        into.push(EventSpec { at_s: at.as_secs_f64(), action });
    }
}

/// A broken safety property.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub at: SimTime,
    /// `engine`, `ring`, `membership` or `lookup consistency`.
    pub property: &'static str,
    pub detail: String,
}

/// What a checked run found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckOutcome {
    /// The first safety violation.
    pub violation: Option<Violation>,
    /// When faults stopped (the last `stop_faults`), if they did.
    pub faults_stop_s: Option<f64>,
    /// Seconds from then to one perfect ring with no inconsistent key.
    pub converged_after_s: Option<f64>,
    /// The bound it had.
    pub converge_within_s: f64,
    /// What was still wrong at the deadline, when it was missed.
    pub pending: Vec<String>,
    /// Events checked.
    pub events: u64,
}

impl CheckOutcome {
    pub fn converged(&self) -> bool {
        match (self.faults_stop_s, self.converged_after_s) {
            (None, _) => true,
            (Some(_), Some(after)) => after <= self.converge_within_s,
            (Some(_), None) => false,
        }
    }
    pub fn passed(&self) -> bool {
        self.violation.is_none() && self.converged()
    }
}

/// The online checker of one run.
#[derive(Debug)]
pub struct Monitor {
    faults: FaultHistory,
    last_now: SimTime,
    answers: Vec<Option<LookupAnswers>>,
    members: Vec<bool>,
    departures: u64,
    faults_stop: Option<SimTime>,
    deadline: Option<SimTime>,
    converged_at: Option<SimTime>,
    outcome: CheckOutcome,
}

impl Monitor {
    pub fn new(scenario: &Scenario, settings: CheckSettings) -> Self {
        let faults_stop =
            scenario.events.iter().filter(|e| matches!(e.action, EventAction::StopFaults)).map(|e| e.at()).max();
        let partitions = scenario.nodes.connectivity < 1.0;
        Monitor {
            faults: FaultHistory { partitions, ..FaultHistory::default() },
            last_now: SimTime::ZERO,
            answers: Vec::new(),
            members: Vec::new(),
            departures: 0,
            faults_stop,
            deadline: faults_stop.map(|t| t + SimTime::from_secs_f64(settings.converge_within_s)),
            converged_at: None,
            outcome: CheckOutcome {
                faults_stop_s: faults_stop.map(SimTime::as_secs_f64),
                converge_within_s: settings.converge_within_s,
                ..CheckOutcome::default()
            },
        }
    }

    fn fail(&mut self, at: SimTime, property: &'static str, detail: String) {
        if self.outcome.violation.is_none() {
            self.outcome.violation = Some(Violation { at, property, detail });
        }
    }

    /// A scheduled action ran (a verb outside the event loop).
    pub fn on_action<P: RingProtocol>(&mut self, sim: &Simulation<P>, action: &EventAction) {
        if matches!(
            action,
            EventAction::Partition { .. } | EventAction::PartitionIds { .. } | EventAction::OneWayCut { .. }
        ) {
            self.faults.partitions = true;
        }
        self.rescan(sim);
    }

    /// Re-reads every live node (after verbs that touch several).
    pub fn rescan<P: RingProtocol>(&mut self, sim: &Simulation<P>) {
        self.update_faults(sim);
        let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
        alive.sort_unstable();
        for node in alive {
            self.check_node(sim, node);
        }
    }

    fn update_faults<P: RingProtocol>(&mut self, sim: &Simulation<P>) {
        let counters = sim.counters();
        let departures = counters.crashes + counters.leaves;
        if departures != self.departures {
            self.departures = departures;
            // A branch root gone: Theorem 3's exception, until the ring is
            // whole again. A gone peer was a branch root when two live
            // members or more still name it their successor, or when one
            // does that sits in a branch itself: its predecessor is gone or
            // does not name it successor (a join whose `new_succ` never
            // reached a predecessor that had crashed, swarm seed 4895).
            // Read from the true pointers, not from predlists, which can
            // hold stale entries.
            let mut pointed: BTreeMap<NodeId, u32> = BTreeMap::new();
            let mut branch_tail_orphaned = false;
            for &node in sim.alive_nodes() {
                let Some(state) = sim.node(node).filter(|p| p.is_member()) else { continue };
                if let Some(successor) = state.successor()
                    && !sim.is_alive(successor.node)
                {
                    *pointed.entry(successor.node).or_default() += 1;
                    let acknowledged = state.predecessor().is_some_and(|p| {
                        p.node == node || sim.node(p.node).and_then(|q| q.successor()).is_some_and(|s| s.node == node)
                    });
                    branch_tail_orphaned |= !acknowledged;
                }
            }
            if branch_tail_orphaned || pointed.values().any(|&count| count >= 2) {
                self.faults.branch_root_crash = true;
            }
        }
        self.faults.crashes |= departures > 0;
        self.faults.losses |= sim.network().counters.lost > 0;
        self.faults.false_suspicions |= sim.detector().counters.false_suspicions > 0;
    }

    /// After every event of the loop.
    pub fn after_event<P: RingProtocol>(&mut self, sim: &Simulation<P>) {
        self.outcome.events += 1;
        let now = sim.now();
        if now < self.last_now {
            self.fail(now, "engine", format!("time went back from {} to {}", self.last_now, now));
        }
        self.last_now = now;
        if let Some((from, to)) = sim.last_delivery()
            && !sim.is_alive(to)
        {
            self.fail(now, "engine", format!("a message from n{} was delivered to dead n{}", from.0, to.0));
        }
        self.update_faults(sim);
        if let Some(node) = sim.last_dispatched() {
            self.check_node(sim, node);
        }
    }

    fn check_node<P: RingProtocol>(&mut self, sim: &Simulation<P>, node: NodeId) {
        let index = node.index();
        if self.answers.len() <= index {
            self.answers.resize(index + 1, None);
            self.members.resize(index + 1, false);
        }
        let now = sim.now();
        let Some(state) = sim.node(node) else {
            self.answers[index] = None;
            return;
        };
        let member = state.is_member();
        if self.members[index] && !member {
            self.fail(now, "membership", format!("n{} lost its ring membership", node.0));
        }
        self.members[index] = member;
        if member
            && state.drops_suspected_successor()
            && let Some(successor) = state.successor()
            && successor.node != node
            && sim.detector().is_suspected(node, successor.node)
        {
            self.fail(now, "ring", format!("n{} keeps successor n{}, which it suspects", node.0, successor.node.0));
        }
        let answers = if member { state.lookup_answers() } else { None };
        if answers == self.answers[index] {
            return;
        }
        self.answers[index] = answers;
        let Some(mine) = answers else { return };
        if !P::claims_lookup_consistency(self.faults) {
            return;
        }
        for &other in sim.alive_nodes() {
            let Some(theirs) = self.answers.get(other.index()).copied().flatten() else { continue };
            if other == node {
                continue;
            }
            if let Some((key, a, b)) = lookup_conflict(sim.space(), &[mine, theirs]) {
                let detail = format!(
                    "key {key}: n{}'s lookups name {} for ({}, {}], n{}'s name {} for ({}, {}]",
                    node.0, a.names, a.from, a.to, other.0, b.names, b.from, b.to
                );
                self.fail(now, "lookup consistency", detail);
                return;
            }
        }
    }

    /// At every sample: the liveness clock. `settled`: one perfect ring
    /// with no inconsistent key now.
    pub fn on_sample<P: RingProtocol>(&mut self, sim: &Simulation<P>, settled: bool) {
        let now = sim.now();
        if settled {
            self.faults.branch_root_crash = false;
        }
        let Some(stop) = self.faults_stop else { return };
        if now < stop || self.converged_at.is_some() {
            return;
        }
        if settled {
            self.converged_at = Some(now);
            self.outcome.converged_after_s = Some((now - stop).as_secs_f64());
        } else if self.deadline.is_some_and(|d| now >= d) && self.outcome.pending.is_empty() {
            self.outcome.pending = pending(sim);
        }
    }

    pub fn finish<P: RingProtocol>(mut self, sim: &Simulation<P>) -> CheckOutcome {
        if self.faults_stop.is_some() && self.converged_at.is_none() && self.outcome.pending.is_empty() {
            self.outcome.pending = pending(sim);
        }
        self.outcome
    }
}

/// What keeps the ring from being one perfect ring: up to 12 lines.
pub fn pending<P: RingProtocol>(sim: &Simulation<P>) -> Vec<String> {
    let ring: Vec<NodeId> = sim.ring().values().copied().collect();
    if ring.is_empty() {
        return vec!["no node is alive".to_string()];
    }
    let name = |peer: Option<Peer>| peer.map_or("none".to_string(), |p| format!("n{}", p.node.0));
    let mut lines = Vec::new();
    for (i, &node) in ring.iter().enumerate() {
        let Some(state) = sim.node(node) else { continue };
        let next = ring[(i + 1) % ring.len()];
        let previous = ring[(i + ring.len() - 1) % ring.len()];
        let mut line = String::new();
        if !state.is_member() {
            let _ = write!(line, "n{} is still joining", node.0);
        } else {
            if state.successor().map(|s| s.node) != Some(next) {
                let _ = write!(line, "n{} has successor {} (should be n{})", node.0, name(state.successor()), next.0);
            }
            if state.predecessor().map(|p| p.node) != Some(previous) {
                let sep = if line.is_empty() { format!("n{} has", node.0) } else { ";".to_string() };
                let _ = write!(line, "{sep} predecessor {} (should be n{})", name(state.predecessor()), previous.0);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    let inconsistent = oracle::key_consistency(sim);
    if inconsistent.inconsistent_fraction > 0.0 {
        lines.insert(0, format!("{:.4} of the key space has two claimants", inconsistent.inconsistent_fraction));
    }
    if lines.len() > 12 {
        let more = lines.len() - 12;
        lines.truncate(12);
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// The fault kinds a swarm mix turns on or off.
pub const FAULT_KINDS: &[&str] = &["loss", "churn", "false_suspicions", "partitions"];

/// The fault mix a swarm seed draws: each kind of fault on or off, and its
/// rate (swarm testing, Groce et al., ISSTA 2012: leaving some faults out
/// of a run lets the others reach states they would otherwise mask).
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    /// Message loss probability.
    pub loss: Option<f64>,
    /// Joins, crashes and graceful leaves per second.
    pub churn: Option<(f64, f64, f64)>,
    /// False suspicions per watched link per hour, and their mean length
    /// in milliseconds.
    pub false_suspicions: Option<(f64, f64)>,
    /// A flapping partition.
    pub partitions: Option<Flapping>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flapping {
    pub groups: u16,
    pub first_s: f64,
    pub down_s: f64,
    pub up_s: f64,
    pub cycles: u32,
}

impl Knobs {
    /// Draws the mix of `seed` for faults that stop at `faults_stop_s`.
    pub fn draw(seed: u64, faults_stop_s: f64) -> Knobs {
        use sim_core::rng::{Draw, Purpose, Stream};
        let mut rng = Stream::new(seed, Purpose::Swarm);
        let mut uniform = |low: f64, high: f64| low + (high - low) * rng.unit();
        let loss_on = uniform(0.0, 1.0) < 0.5;
        let loss = uniform(0.002, 0.05);
        // Departures at 0.5 to 1.2 times the join rate, some of them
        // graceful: the population drifts but does not die out.
        let churn_on = uniform(0.0, 1.0) < 0.5;
        let joins = uniform(0.05, 0.5);
        let departures = joins * uniform(0.5, 1.2);
        let leave_share = if uniform(0.0, 1.0) < 0.5 { uniform(0.1, 0.5) } else { 0.0 };
        let churn = (joins, departures * (1.0 - leave_share), departures * leave_share);
        let suspicions_on = uniform(0.0, 1.0) < 0.5;
        let suspicions = (uniform(2.0, 60.0), uniform(200.0, 3000.0));
        let partitions_on = uniform(0.0, 1.0) < 0.5;
        let groups = if uniform(0.0, 1.0) < 0.5 { 2 } else { 3 };
        let first_s = uniform(2.0, (faults_stop_s / 3.0).max(2.0));
        let down_s = uniform(1.0, 10.0);
        let up_s = uniform(3.0, 20.0);
        let room = ((faults_stop_s - first_s) / (down_s + up_s)).floor().max(1.0) as u32;
        let cycles = 1 + (uniform(0.0, 1.0) * room.min(3) as f64) as u32;
        Knobs {
            loss: loss_on.then_some(loss),
            churn: churn_on.then_some(churn),
            false_suspicions: suspicions_on.then_some(suspicions),
            partitions: partitions_on.then_some(Flapping { groups, first_s, down_s, up_s, cycles: cycles.min(room) }),
        }
    }

    /// The mix with these kinds (names from [`FAULT_KINDS`]) off.
    pub fn without(mut self, kinds: &[String]) -> Knobs {
        for kind in kinds {
            match kind.as_str() {
                "loss" => self.loss = None,
                "churn" => self.churn = None,
                "false_suspicions" => self.false_suspicions = None,
                "partitions" => self.partitions = None,
                _ => {}
            }
        }
        self
    }

    /// Replaces the scenario's faults before `faults_stop_s` with this mix.
    pub fn apply(&self, scenario: &mut Scenario, faults_stop_s: f64) {
        use crate::config::{EventSpec, PartitionAssign};
        scenario.network.loss = self.loss.unwrap_or(0.0);
        let (joins, crashes, leaves) = self.churn.unwrap_or((0.0, 0.0, 0.0));
        scenario.churn.joins_per_s = joins;
        scenario.churn.crashes_per_s = crashes;
        scenario.churn.leaves_per_s = leaves;
        scenario.churn.session = None;
        let (per_hour, mean_ms) = self.false_suspicions.unwrap_or((0.0, scenario.detector.false_suspicion_mean_ms));
        scenario.detector.false_suspicions_per_link_per_hour = per_hour;
        scenario.detector.false_suspicion_mean_ms = mean_ms;
        scenario.events.retain(|e| {
            !matches!(e.action, EventAction::Partition { .. } | EventAction::Heal | EventAction::OneWayCut { .. })
        });
        if let Some(flapping) = self.partitions {
            let mut at = flapping.first_s;
            for _ in 0..flapping.cycles {
                if at >= faults_stop_s {
                    break;
                }
                let action = EventAction::Partition { groups: flapping.groups, assign: PartitionAssign::Random };
                scenario.events.push(EventSpec { at_s: at, action });
                let heal_at = (at + flapping.down_s).min(faults_stop_s);
                scenario.events.push(EventSpec { at_s: heal_at, action: EventAction::Heal });
                at = heal_at + flapping.up_s;
            }
        }
    }

    /// One line: what is on, at which rate.
    pub fn describe(&self) -> String {
        let loss = self.loss.map_or("loss off".to_string(), |l| format!("loss {l:.3}"));
        let churn = self.churn.map_or("churn off".to_string(), |(j, c, l)| {
            format!("churn {j:.2} joins, {c:.2} crashes, {l:.2} leaves per s")
        });
        let suspicions = self.false_suspicions.map_or("false suspicions off".to_string(), |(rate, mean)| {
            format!("false suspicions {rate:.1} per link per hour, {mean:.0} ms each")
        });
        let partitions = self.partitions.map_or("partitions off".to_string(), |f| {
            format!(
                "partitions {} × {} groups from {:.1} s, {:.1} s down, {:.1} s up",
                f.cycles, f.groups, f.first_s, f.down_s, f.up_s
            )
        });
        format!("{loss} · {churn} · {suspicions} · {partitions}")
    }
}
