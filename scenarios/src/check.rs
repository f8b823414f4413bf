//! Online safety checks and the liveness check of `overlaysim check`.
//!
//! A [`Monitor`] watches a run after every event. The engine's own safety
//! properties hold for every family: time never goes back, and no message
//! is delivered to a dead node. Each family adds its own through
//! [`Invariants`]: the rings check membership, suspected successors and
//! lookup consistency under each protocol's claimed fault model (the
//! `rings` module's invariants); flat gossip checks that no node invents
//! an update or loses one it had (the `gossip` module). A step changes one node's state,
//! so a family checks that node against what the others showed last.
//!
//! Liveness: after the last `stop_faults` event, the run must reach the
//! family's settled state (one perfect ring with no inconsistent key; every
//! node holding the last update) within the stated bound; if not, the
//! report names what is still pending.

use crate::config::{EventAction, Scenario};
use sim_core::{NodeId, Protocol, SimTime, Simulation};

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
    /// When, if the run got to say (a failed assertion stops it).
    pub at: Option<SimTime>,
    /// `engine`, `assertion`, or a family's property (`ring`,
    /// `membership`, `lookup consistency`; `no invented update`, …).
    pub property: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    /// `property at 12.500000 s: detail`, or without the time when the run
    /// could not say.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some(at) => write!(f, "{} at {:.6} s: {}", self.property, at.as_secs_f64(), self.detail),
            None => write!(f, "{}: {}", self.property, self.detail),
        }
    }
}

/// What a checked run found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckOutcome {
    /// The first safety violation.
    pub violation: Option<Violation>,
    /// When faults stopped (the last `stop_faults`), if they did.
    pub faults_stop_s: Option<f64>,
    /// Seconds from then to the family's settled state.
    pub converged_after_s: Option<f64>,
    /// What settled means for the family ([`Invariants::SETTLED`]).
    pub settled: &'static str,
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

/// What a family checks of a run (see [`Monitor`]): its safety
/// properties, read one node at a time, and what keeps it from settling.
pub trait Invariants<P: Protocol>: Sized {
    /// What the liveness check waits for, in a few words.
    const SETTLED: &'static str;
    fn new(scenario: &Scenario) -> Self;
    /// A scheduled action ran (a verb outside the event loop).
    fn on_action(&mut self, _action: &EventAction) {}
    /// Reads what the whole run has seen so far (the faults its claims
    /// are conditioned on), before any node is checked.
    fn observe(&mut self, sim: &Simulation<P>);
    /// Checks one node whose state changed (or that died) against what
    /// the others showed last; each broken property goes to `fail`.
    fn check_node(&mut self, sim: &Simulation<P>, node: NodeId, fail: &mut dyn FnMut(&'static str, String));
    /// The run is settled now (its liveness target holds).
    fn on_settled(&mut self) {}
    /// What keeps the run from settling: up to a dozen lines.
    fn pending(sim: &Simulation<P>) -> Vec<String>;
}

/// The online checker of one run: the engine's own properties (time never
/// goes back, no message reaches a dead node) and the family's
/// [`Invariants`] after every event; the liveness clock at every sample.
#[derive(Debug)]
pub struct Monitor<P: Protocol, I: Invariants<P>> {
    family: I,
    last_now: SimTime,
    faults_stop: Option<SimTime>,
    deadline: Option<SimTime>,
    converged_at: Option<SimTime>,
    outcome: CheckOutcome,
    node: std::marker::PhantomData<fn(&P)>,
}

impl<P: Protocol, I: Invariants<P>> Monitor<P, I> {
    pub fn new(scenario: &Scenario, settings: CheckSettings) -> Self {
        let faults_stop =
            scenario.events.iter().filter(|e| matches!(e.action, EventAction::StopFaults)).map(|e| e.at()).max();
        Monitor {
            family: I::new(scenario),
            last_now: SimTime::ZERO,
            faults_stop,
            deadline: faults_stop.map(|t| t + SimTime::from_secs_f64(settings.converge_within_s)),
            converged_at: None,
            outcome: CheckOutcome {
                faults_stop_s: faults_stop.map(SimTime::as_secs_f64),
                converge_within_s: settings.converge_within_s,
                settled: I::SETTLED,
                ..CheckOutcome::default()
            },
            node: std::marker::PhantomData,
        }
    }

    /// A scheduled action ran (a verb outside the event loop).
    pub fn on_action(&mut self, sim: &Simulation<P>, action: &EventAction) {
        self.family.on_action(action);
        self.rescan(sim);
    }

    /// Re-reads every live node (after verbs that touch several).
    pub fn rescan(&mut self, sim: &Simulation<P>) {
        self.family.observe(sim);
        let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
        alive.sort_unstable();
        for node in alive {
            self.check_node(sim, node);
        }
    }

    fn check_node(&mut self, sim: &Simulation<P>, node: NodeId) {
        let now = sim.now();
        let Monitor { family, outcome, .. } = self;
        family.check_node(sim, node, &mut |property, detail| {
            if outcome.violation.is_none() {
                outcome.violation = Some(Violation { at: Some(now), property, detail });
            }
        });
    }

    /// After every event of the loop.
    pub fn after_event(&mut self, sim: &Simulation<P>) {
        self.outcome.events += 1;
        let now = sim.now();
        if now < self.last_now && self.outcome.violation.is_none() {
            let detail = format!("time went back from {} to {}", self.last_now, now);
            self.outcome.violation = Some(Violation { at: Some(now), property: "engine", detail });
        }
        self.last_now = now;
        if let Some((from, to)) = sim.last_delivery()
            && !sim.is_alive(to)
            && self.outcome.violation.is_none()
        {
            let detail = format!("a message from n{} was delivered to dead n{}", from.0, to.0);
            self.outcome.violation = Some(Violation { at: Some(now), property: "engine", detail });
        }
        self.family.observe(sim);
        if let Some(node) = sim.last_dispatched() {
            self.check_node(sim, node);
        }
    }

    /// At every sample: the liveness clock. `settled`: the family's
    /// liveness target holds now.
    pub fn on_sample(&mut self, sim: &Simulation<P>, settled: bool) {
        let now = sim.now();
        if settled {
            self.family.on_settled();
        }
        let Some(stop) = self.faults_stop else { return };
        if now < stop || self.converged_at.is_some() {
            return;
        }
        if settled {
            self.converged_at = Some(now);
            self.outcome.converged_after_s = Some((now - stop).as_secs_f64());
        } else if self.deadline.is_some_and(|d| now >= d) && self.outcome.pending.is_empty() {
            self.outcome.pending = I::pending(sim);
        }
    }

    pub fn finish(mut self, sim: &Simulation<P>) -> CheckOutcome {
        if self.faults_stop.is_some() && self.converged_at.is_none() && self.outcome.pending.is_empty() {
            self.outcome.pending = I::pending(sim);
        }
        self.outcome
    }
}

/// Cuts a list of pending lines at 12, saying how many more there were.
pub fn at_most_twelve(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > 12 {
        let more = lines.len() - 12;
        lines.truncate(12);
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// The fault kinds a swarm mix turns on or off, and `chord_modes` (Chord's
/// failure detection, final-answer probe and routing, drawn per seed).
pub const FAULT_KINDS: &[&str] = &["loss", "churn", "false_suspicions", "partitions", "chord_modes"];

/// The Chord modes a swarm seed draws (issue 20's lookup modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChordModes {
    /// Failure detection by the node's own timeouts (only without
    /// partitions: the merge layer needs the detector's suspicions).
    pub detect_by_timeouts: bool,
    /// The final-answer probe.
    pub probe_answer: bool,
    /// The next hop among the fingers and the whole successor list.
    pub route_via_successor_list: bool,
}

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
    /// Chord's modes, for a Chord scenario (None: the scenario's own).
    pub chord: Option<ChordModes>,
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
        let chord = ChordModes {
            detect_by_timeouts: uniform(0.0, 1.0) < 0.5,
            probe_answer: uniform(0.0, 1.0) < 0.5,
            route_via_successor_list: uniform(0.0, 1.0) < 0.5,
        };
        Knobs {
            loss: loss_on.then_some(loss),
            churn: churn_on.then_some(churn),
            false_suspicions: suspicions_on.then_some(suspicions),
            partitions: partitions_on.then_some(Flapping { groups, first_s, down_s, up_s, cycles: cycles.min(room) }),
            chord: Some(chord),
        }
    }

    /// The mix for a scenario of `protocol`: Chord's modes only for Chord.
    pub fn for_protocol(mut self, protocol: crate::config::ProtocolName) -> Knobs {
        if protocol != crate::config::ProtocolName::Chord {
            self.chord = None;
        }
        self
    }

    /// Whether Chord detects failures by timeouts in this mix: when drawn,
    /// and only without partitions.
    fn chord_timeouts(&self) -> bool {
        self.chord.is_some_and(|c| c.detect_by_timeouts) && self.partitions.is_none()
    }

    /// The mix with these kinds (names from [`FAULT_KINDS`]) off.
    pub fn without(mut self, kinds: &[String]) -> Knobs {
        for kind in kinds {
            match kind.as_str() {
                "loss" => self.loss = None,
                "churn" => self.churn = None,
                "false_suspicions" => self.false_suspicions = None,
                "partitions" => self.partitions = None,
                "chord_modes" => self.chord = None,
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
        if let (Some(modes), crate::config::ProtocolParams::Chord(params)) = (self.chord, &mut scenario.protocol_params)
        {
            use crate::config::FailureDetection;
            params.failure_detection =
                if self.chord_timeouts() { FailureDetection::Timeouts } else { FailureDetection::Detector };
            params.probe_answer = modes.probe_answer;
            params.route_via_successor_list = modes.route_via_successor_list;
        }
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
        let chord = self.chord.map_or(String::new(), |c| {
            let detection = if self.chord_timeouts() { "timeouts" } else { "detector" };
            let on_off = |on: bool| if on { "on" } else { "off" };
            let (probe, list) = (on_off(c.probe_answer), on_off(c.route_via_successor_list));
            format!(" · chord: {detection}, probe {probe}, routing via successor list {list}")
        });
        format!("{loss} · {churn} · {suspicions} · {partitions}{chord}")
    }
}
