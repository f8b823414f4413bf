//! The runner: one scenario, one seed, one simulation, its metrics.
//!
//! The runner merges four timelines into the engine's: the bootstrap (ideal,
//! or joins one by one), the scheduled `[[events]]`, the lookup workload
//! (a Poisson process; each event looks one random key up from two random
//! members at the same instant) and the oracle's samples. At one instant it
//! acts in that order, after every engine event of that instant. Everything
//! it draws comes from its own seeded streams, so a run is a function of the
//! scenario and the seed alone.

use crate::check::Monitor;
use crate::config::{Bootstrap, ConnectivityPer, EventAction, JoinVia, Nodes, PartitionAssign, Scenario};
use crate::oracle;
use protocols::{Control, LookupOutcome, RingProtocol};
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::trace::TraceWriter;
use sim_core::{Message, NodeId, Peer, Protocol, RingId, SimTime, Simulation};
use std::collections::{BTreeMap, BTreeSet};

/// A table: a header and rows of already formatted cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }
    /// The value of `column` in the first row.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == column)?;
        self.rows.first().map(|r| r[i].as_str())
    }
    /// A column parsed as f64, for every row.
    pub fn column_f64(&self, column: &str) -> Vec<f64> {
        let Some(i) = self.header.iter().position(|h| h == column) else { return Vec::new() };
        self.rows.iter().filter_map(|r| r[i].parse().ok()).collect()
    }
}

/// What a run produced. Everything except `perf` is a function of the
/// scenario and seed.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub summary: Table,
    pub timeseries: Table,
    /// hops → lookups that got an answer after that many hops.
    pub hops: Table,
    pub digest: String,
    pub perf: Perf,
    /// The ring at `[output] snapshot_at_s`, if asked.
    pub snapshot: Option<reports::ring::RingPicture>,
    /// What the online checks found, when the scenario asked for them.
    pub check: Option<crate::check::CheckOutcome>,
    /// The fault schedule, when the checks asked to record it.
    pub recorded: Option<crate::check::Recorded>,
}

/// Wall-clock performance: the one output that differs between two runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Perf {
    pub wall_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub peak_rss_mb: f64,
    pub bytes_per_node: f64,
    pub slot_bytes: usize,
    pub event_bytes: usize,
}

impl Perf {
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "wall_s",
            "events",
            "events_per_s",
            "peak_rss_mb",
            "bytes_per_node",
            "slot_bytes",
            "event_bytes",
        ]);
        t.rows.push(vec![
            format!("{:.3}", self.wall_s),
            self.events.to_string(),
            format!("{:.0}", self.events_per_s),
            format!("{:.1}", self.peak_rss_mb),
            format!("{:.0}", self.bytes_per_node),
            self.slot_bytes.to_string(),
            self.event_bytes.to_string(),
        ]);
        t
    }
}

/// Hooks for what the run shows while it goes.
pub trait Progress {
    /// Called after each step of the runner with the simulated time reached.
    fn advance(&mut self, _now: SimTime, _events: u64) {}
}

/// Shows nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Index into the scheduled actions.
    Action(usize),
    /// A stabilization round of a bootstrap by joins.
    Round,
    Lookup,
    Sample,
    Snapshot,
    End,
}

#[derive(Clone, Debug)]
enum Action {
    BootstrapJoin,
    Event(EventAction),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_service_reads_a_small_ring_from_the_successor_list() {
        let peer = |n: u32| Peer { node: NodeId(n), id: RingId(u64::from(n) * 10) };
        let me = NodeId(1);
        assert_eq!(ring_seen(me, &[], 4), 1, "alone");
        assert_eq!(ring_seen(me, &[peer(1)], 4), 1, "its own successor");
        assert_eq!(ring_seen(me, &[peer(2), peer(1), peer(2), peer(1)], 4), 2, "wraps to itself");
        assert_eq!(ring_seen(me, &[peer(2), peer(3), peer(2)], 4), 3, "repeats a peer");
        assert_eq!(ring_seen(me, &[peer(2)], 4), 2, "shorter than a full list");
        assert_eq!(ring_seen(me, &[peer(2), peer(3), peer(4), peer(5)], 4), usize::MAX, "a full list");
    }

    #[test]
    fn a_loopy_cycle_visits_every_node_once_and_winds_around_the_ring_loops_times() {
        for (n, loops) in [(7, 2), (8, 2), (9, 3), (10, 3)] {
            let cycle = loopy_cycle(n, loops);
            let mut seen = cycle.order.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            // Each step that goes to a lower index wraps past zero once.
            let wraps = (0..n).filter(|&at| cycle.order[(at + 1) % n] < cycle.order[at]).count();
            assert_eq!(wraps, loops, "n = {n}");
        }
    }

    #[test]
    fn the_ppl_join_schedule_halves_from_640_ms_down_to_10() {
        // Reference: PPL 2008 §6 — the first joins 640 ms apart, halving,
        // then every 10 ms.
        let times: Vec<u64> = join_schedule(10, Some(640.0), 10.0).iter().map(|t| t.0 / 1000).collect();
        assert_eq!(times, [0, 640, 960, 1120, 1200, 1240, 1260, 1270, 1280, 1290]);
        let constant: Vec<u64> = join_schedule(3, None, 100.0).iter().map(|t| t.0 / 1000).collect();
        assert_eq!(constant, [0, 100, 200]);
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct LookupTotals {
    lookups: u64,
    failed: u64,
    wrong: u64,
    inconsistent_pairs: u64,
    pairs: u64,
    answered: u64,
    hops: u64,
    timeouts: u64,
    latency_us: u64,
}

/// From the last heal (or kick) to the first sample with one perfect ring
/// of all live nodes and no inconsistent key.
#[derive(Clone, Copy, Debug)]
struct MergeClock {
    healed_at: SimTime,
    /// Started by a heal (not a kick).
    from_heal: bool,
    messages_at_heal: u64,
    unification_at_heal: u64,
    /// When it merged, the messages sent since the heal, and of those the
    /// merge layer's own.
    merged: Option<(SimTime, u64, u64)>,
}

/// The merge layer's message kinds (see `protocols::merge`).
const UNIFICATION_KINDS: [&str; 4] = protocols::merge::MERGE_KINDS;

fn unification_messages<P: Protocol>(sim: &Simulation<P>) -> u64 {
    let kinds = P::Message::KINDS;
    kinds.iter().zip(sim.message_counts()).filter(|(k, _)| UNIFICATION_KINDS.contains(k)).map(|(_, c)| c).sum()
}

#[derive(Clone, Copy, Debug)]
struct PendingPair {
    first: Option<Option<Peer>>,
}

/// Runs a ring-protocol scenario to its end, in phases: build the world
/// (the engine, the runner's streams, the bootstrap), schedule the actions
/// (bootstrap joins and the scenario's events), drive the merged
/// timelines, sampling as it goes, then write the tables.
pub fn run<P: RingProtocol>(
    scenario: &Scenario,
    protocol_config: P::Config,
    trace: Option<TraceWriter>,
    progress: &mut dyn Progress,
) -> RunResult {
    #[allow(clippy::disallowed_methods)] // perf.csv is the one output that reads the clock
    let wall_start = std::time::Instant::now();
    let rss_before = resident_kb();
    let mut world = World::<P>::build(scenario, protocol_config, trace);
    let rss_after_bootstrap = resident_kb();
    world.schedule_events(scenario);
    let mut schedule = Schedule::new(scenario, &mut world.streams.workload);
    let mut measures = Measures::new();
    let mut checks = Checks::new(scenario, &mut world.sim);
    loop {
        let (at, what) = schedule.next_step(&world.actions);
        match &mut checks.monitor {
            Some(monitor) => world.sim.run_until_observed(at, |sim| monitor.after_event(sim)),
            None => world.sim.run_until(at),
        }
        collect(&mut world.sim, &mut measures.reports);
        match what {
            Step::Action(index) => {
                schedule.next_action += 1;
                world.act(scenario, index, at, &mut schedule, &mut measures, &mut checks);
            }
            Step::Lookup => world.issue_lookup(at, &mut schedule, &mut measures),
            Step::Round => {
                schedule.next_round = None;
                stabilization_round(&mut world.sim);
            }
            Step::Snapshot => {
                schedule.next_snapshot = None;
                measures.snapshot = Some(crate::snapshot::picture(&world.sim, &scenario.name, at));
            }
            Step::Sample | Step::End => {}
        }
        if let (Some(monitor), Step::Action(_) | Step::Lookup) = (&mut checks.monitor, what) {
            monitor.rescan(&world.sim);
        }
        collect(&mut world.sim, &mut measures.reports);
        measures.tally(&world.sim);
        if let (Step::Sample, Some(after_s)) = (what, scenario.nodes.rejoin_after_s) {
            bootstrap_service(
                &mut world.sim,
                &mut measures.stuck,
                SimTime::from_secs_f64(after_s),
                scenario.protocol_params.successor_list(),
                &mut world.streams.contact,
            );
        }
        if matches!(what, Step::Sample) || (what == Step::End && measures.at_last_sample.2 < at) {
            measures.sample(&world.sim, at, checks.monitor.as_mut());
            if matches!(what, Step::Sample) {
                schedule.advance_sample(at);
            }
        }
        progress.advance(at, world.sim.counters().events);
        if what == Step::End {
            break;
        }
    }
    let mut sim = world.sim;
    let trace_error = sim.take_trace().and_then(|mut t| t.flush().err());
    if let Some(error) = trace_error {
        eprintln!("warning: the trace could not be written completely: {error}");
    }
    let summary = measures.summary(scenario, &sim);
    let mut hops = Table::new(&["hops", "lookups"]);
    hops.rows = measures.hops_histogram.iter().map(|(h, n)| vec![h.to_string(), n.to_string()]).collect();
    let wall_s = wall_start.elapsed().as_secs_f64();
    let events = sim.counters().events;
    let nodes = scenario.nodes.initial.max(1) as f64;
    let perf = Perf {
        wall_s,
        events,
        events_per_s: events as f64 / wall_s.max(1e-9),
        peak_rss_mb: peak_resident_kb().unwrap_or(0) as f64 / 1024.0,
        bytes_per_node: match (rss_before, rss_after_bootstrap) {
            (Some(a), Some(b)) if scenario.nodes.bootstrap == Bootstrap::Ideal => {
                (b.saturating_sub(a) * 1024) as f64 / nodes
            }
            _ => 0.0,
        },
        slot_bytes: Simulation::<P>::slot_bytes(),
        event_bytes: Simulation::<P>::event_bytes(),
    };
    let Checks { monitor, mut recorded } = checks;
    let check = monitor.map(|monitor| monitor.finish(&sim));
    if let Some(recorded) = &mut recorded {
        crate::check::record_events(sim.take_fault_log(), &mut recorded.events);
    }
    let snapshot = measures.snapshot.take();
    RunResult {
        summary,
        timeseries: measures.timeseries,
        hops,
        digest: sim.digest().hex(),
        perf,
        snapshot,
        check,
        recorded,
    }
}

/// The runner's own seeded streams, one per purpose.
struct Streams {
    scenario: Stream,
    bootstrap: Stream,
    workload: Stream,
    origin: Stream,
    contact: Stream,
}

/// What a run drives: the engine, the runner's streams, and the scheduled
/// actions in time order (stable for equal times).
struct World<P: RingProtocol> {
    sim: Simulation<P>,
    streams: Streams,
    actions: Vec<(SimTime, Action)>,
}

impl<P: RingProtocol> World<P> {
    /// The engine with the initial population: converged at once (ideal),
    /// or a schedule of joins one by one.
    fn build(scenario: &Scenario, protocol_config: P::Config, trace: Option<TraceWriter>) -> Self {
        let mut sim: Simulation<P> = Simulation::new(scenario.sim_config(), protocol_config);
        if let Some(trace) = trace {
            sim.set_trace(trace);
        }
        let seed = scenario.seed;
        let mut streams = Streams {
            scenario: Stream::new(seed, Purpose::Scenario),
            bootstrap: Stream::new(seed, Purpose::Bootstrap),
            workload: Stream::new(seed, Purpose::Workload),
            origin: Stream::new(seed, Purpose::LookupOrigins),
            contact: Stream::new(seed, Purpose::ScenarioContacts),
        };
        let mut actions = Vec::new();
        let initial = scenario.nodes.initial as usize;
        match scenario.nodes.bootstrap {
            Bootstrap::Ideal => spawn_ideal(&mut sim, &scenario.nodes, &mut streams.bootstrap),
            Bootstrap::Joins => {
                let nodes = &scenario.nodes;
                for at in join_schedule(initial, nodes.join_interval_start_ms, nodes.join_interval_ms) {
                    actions.push((at, Action::BootstrapJoin));
                }
            }
        }
        World { sim, streams, actions }
    }

    /// Adds the scenario's `[[events]]` to the actions and sorts them by time.
    fn schedule_events(&mut self, scenario: &Scenario) {
        for event in &scenario.events {
            self.actions.push((SimTime::from_secs_f64(event.at_s), Action::Event(event.action.clone())));
        }
        self.actions.sort_by_key(|(at, _)| *at);
    }

    /// Performs the scheduled action `index` at `at`.
    fn act(
        &mut self,
        scenario: &Scenario,
        index: usize,
        at: SimTime,
        schedule: &mut Schedule,
        measures: &mut Measures,
        checks: &mut Checks,
    ) {
        match self.actions[index].1.clone() {
            Action::BootstrapJoin => {
                let streams = &mut self.streams;
                let joined =
                    bootstrap_join(&mut self.sim, &mut streams.bootstrap, &mut streams.contact, &scenario.nodes);
                // The first peer starts the ring; it is no join.
                schedule.bootstrap_joins += u64::from(joined);
                let every = schedule.stabilize_every_joins;
                if joined && every > 0 && schedule.bootstrap_joins % every == 0 {
                    // Halfway to the next join: the s-th join has its
                    // successor by then unless messages are slow.
                    let next_join = self.actions[schedule.next_action..]
                        .iter()
                        .find(|(_, action)| matches!(action, Action::BootstrapJoin))
                        .map_or(at + SimTime::from_millis_f64(scenario.nodes.join_interval_ms), |(t, _)| *t);
                    schedule.next_round = Some(at + SimTime((next_join.0 - at.0) / 2));
                }
            }
            Action::Event(action) => {
                if let Some(recorded) = &mut checks.recorded {
                    crate::check::record_events(self.sim.take_fault_log(), &mut recorded.events);
                }
                perform(&mut self.sim, &action, &mut self.streams.scenario, &mut self.streams.contact);
                if let Some(recorded) = &mut checks.recorded {
                    record_action(&mut self.sim, recorded, &action, at);
                }
                if let Some(monitor) = &mut checks.monitor {
                    monitor.on_action(&self.sim, &action);
                }
                measures.on_action(&self.sim, &action, at);
            }
        }
    }

    /// One lookup event: a random key looked up from two random members.
    fn issue_lookup(&mut self, at: SimTime, schedule: &mut Schedule, measures: &mut Measures) {
        let key = self.sim.space().from_uniform(self.streams.workload.next_word());
        let first = self.sim.random_alive(&mut self.streams.origin, |p| p.is_member());
        let second = self.sim.random_alive(&mut self.streams.origin, |p| p.is_member());
        if let (Some(a), Some(b)) = (first, second) {
            let pair = measures.next_pair;
            measures.next_pair += 1;
            measures.pairs.insert(pair, PendingPair { first: None });
            measures.totals.pairs += 1;
            self.sim.request(a, P::lookup_request(pair * 2, key));
            self.sim.request(b, P::lookup_request(pair * 2 + 1, key));
        }
        schedule.next_lookup = Some(at + schedule.lookup_gap(&mut self.streams.workload));
    }
}

/// The converged initial ring (or loopy ring, or rings built apart).
fn spawn_ideal<P: RingProtocol>(sim: &mut Simulation<P>, nodes: &Nodes, bootstrap_rng: &mut Stream) {
    let space = sim.space();
    let initial = nodes.initial as usize;
    let mut ids = match &nodes.ids {
        Some(ids) => ids.clone(),
        None => sim.draw_ring_ids(initial),
    };
    ids.sort_unstable();
    let base = sim.next_node_id().0;
    let ring: Vec<Peer> = ids.iter().enumerate().map(|(k, &id)| Peer::new(NodeId(base + k as u32), id)).collect();
    let loops = nodes.loops as usize;
    let cycle = loopy_cycle(initial, loops);
    // Rings built apart: each node in a random one, with the converged
    // state of its own ring only.
    let ring_count = nodes.rings as u64;
    let ring_of: Vec<u64> =
        if ring_count > 1 { (0..initial).map(|_| bootstrap_rng.below(ring_count)).collect() } else { Vec::new() };
    let mut apart: Vec<Vec<Peer>> = vec![Vec::new(); ring_count as usize];
    let mut place: Vec<usize> = Vec::with_capacity(ring_of.len());
    for (peer, &of) in ring.iter().zip(&ring_of) {
        place.push(apart[of as usize].len());
        apart[of as usize].push(*peer);
    }
    sim.spawn_all_with(&ids, 0, |k, _, config| {
        if ring_count > 1 {
            return P::ideal(&apart[ring_of[k] as usize], place[k], space, config);
        }
        let mut node = P::ideal(&ring, k, space, config);
        if loops > 1 {
            let (pred, successors) = loopy_neighbours(&ring, &cycle, k, node.successor_list().len());
            node.set_ring_pointers(pred, &successors);
        }
        node
    });
}

/// Records what a scheduled event did as explicit events by ring
/// identifier, for a schedule that replays it.
fn record_action<P: RingProtocol>(
    sim: &mut Simulation<P>,
    recorded: &mut crate::check::Recorded,
    action: &EventAction,
    at: SimTime,
) {
    crate::check::record_events(sim.take_fault_log(), &mut recorded.events);
    let explicit = match action {
        EventAction::Partition { .. } | EventAction::PartitionIds { .. } => Some(partition_by_ids(sim)),
        EventAction::Crash { .. }
        | EventAction::CrashFraction { .. }
        | EventAction::Leave { .. }
        | EventAction::Join { .. }
        | EventAction::CrashIds { .. }
        | EventAction::LeaveIds { .. }
        | EventAction::JoinIds { .. }
        | EventAction::Suspect { .. } => None,
        other => Some(other.clone()),
    };
    if let Some(action) = explicit {
        recorded.events.push(crate::config::EventSpec { at_s: at.as_secs_f64(), action });
    }
}

/// When each timeline next acts.
struct Schedule {
    duration: SimTime,
    sample_every: SimTime,
    lookup_rate: f64,
    next_lookup: Option<SimTime>,
    next_sample: SimTime,
    next_action: usize,
    next_snapshot: Option<SimTime>,
    /// A stabilization round of a bootstrap by joins; at most one is due
    /// at a time, as a round always comes before the next join.
    next_round: Option<SimTime>,
    bootstrap_joins: u64,
    stabilize_every_joins: u64,
}

impl Schedule {
    fn new(scenario: &Scenario, workload_rng: &mut Stream) -> Self {
        let duration = scenario.duration();
        let mut schedule = Schedule {
            duration,
            sample_every: scenario.sample_every(),
            lookup_rate: scenario.workload.lookups_per_s,
            next_lookup: None,
            next_sample: scenario.sample_every().min(duration),
            next_action: 0,
            next_snapshot: scenario.output.snapshot_at_s.map(SimTime::from_secs_f64),
            next_round: None,
            bootstrap_joins: 0,
            stabilize_every_joins: scenario.protocol_params.chord().map_or(0, |c| c.stabilize_every_joins as u64),
        };
        if schedule.lookup_rate > 0.0 {
            let start = SimTime::from_secs_f64(scenario.workload.start_s);
            schedule.next_lookup = Some(start + schedule.lookup_gap(workload_rng));
        }
        schedule
    }

    /// The gap to the next lookup event of the Poisson workload.
    fn lookup_gap(&self, rng: &mut Stream) -> SimTime {
        SimTime::from_secs_f64(rng.exponential(1.0 / self.lookup_rate)).max(SimTime(1))
    }

    /// The earliest next step; at one instant, in `Step` order.
    fn next_step(&self, actions: &[(SimTime, Action)]) -> (SimTime, Step) {
        let mut step = (self.duration, Step::End);
        if let Some((at, _)) = actions.get(self.next_action) {
            step = step.min((*at, Step::Action(self.next_action)));
        }
        if let Some(at) = self.next_round {
            step = step.min((at, Step::Round));
        }
        if let Some(at) = self.next_lookup {
            step = step.min((at, Step::Lookup));
        }
        step = step.min((self.next_sample, Step::Sample));
        if let Some(at) = self.next_snapshot {
            step = step.min((at, Step::Snapshot));
        }
        step
    }

    /// The sample after the one taken at `at`.
    fn advance_sample(&mut self, at: SimTime) {
        self.next_sample = (self.next_sample + self.sample_every).min(self.duration);
        if self.next_sample == at {
            self.next_sample = SimTime::MAX;
        }
    }
}

/// The online checks of `overlaysim check`, when the scenario asks.
struct Checks {
    monitor: Option<Monitor>,
    recorded: Option<crate::check::Recorded>,
}

impl Checks {
    fn new<P: RingProtocol>(scenario: &Scenario, sim: &mut Simulation<P>) -> Self {
        let mut monitor = scenario.check.map(|settings| Monitor::new(scenario, settings));
        let recorded = scenario.check.filter(|c| c.record).map(|_| {
            sim.record_faults();
            crate::check::Recorded { initial_ids: sim.ring().keys().copied().collect(), events: Vec::new() }
        });
        if let Some(monitor) = &mut monitor {
            monitor.rescan(sim);
        }
        Checks { monitor, recorded }
    }
}

/// The columns of `timeseries.csv`.
const TIMESERIES_COLUMNS: &[&str] = &[
    "time_s",
    "alive_nodes",
    "members",
    "perfect_ring",
    "rings",
    "inconsistent_key_fraction",
    "unavailable_key_fraction",
    "inconsistent_intervals",
    "wrong_successors",
    "lookups",
    "lookups_failed",
    "lookups_wrong",
    "lookups_inconsistent",
    "messages",
    "messages_per_s",
    "events",
];

/// What the run has measured so far.
struct Measures {
    timeseries: Table,
    totals: LookupTotals,
    /// The totals, messages and time at the last sample.
    at_last_sample: (LookupTotals, u64, SimTime),
    hops_histogram: BTreeMap<u32, u64>,
    pairs: BTreeMap<u64, PendingPair>,
    next_pair: u64,
    reports: Vec<LookupOutcome>,
    samples: u64,
    perfect_samples: u64,
    inconsistent_sum: f64,
    unavailable_sum: f64,
    inconsistent_max: f64,
    rings_max: usize,
    merge: Option<MergeClock>,
    /// Heals, and heals followed by one perfect ring before the next cut.
    heals: u64,
    heals_merged: u64,
    snapshot: Option<reports::ring::RingPicture>,
    /// The bootstrap service's stuck nodes, since when.
    stuck: BTreeMap<NodeId, SimTime>,
}

impl Measures {
    fn new() -> Self {
        Measures {
            timeseries: Table::new(TIMESERIES_COLUMNS),
            totals: LookupTotals::default(),
            at_last_sample: (LookupTotals::default(), 0, SimTime::ZERO),
            hops_histogram: BTreeMap::new(),
            pairs: BTreeMap::new(),
            next_pair: 0,
            reports: Vec::new(),
            samples: 0,
            perfect_samples: 0,
            inconsistent_sum: 0.0,
            unavailable_sum: 0.0,
            inconsistent_max: 0.0,
            rings_max: 0,
            merge: None,
            heals: 0,
            heals_merged: 0,
            snapshot: None,
            stuck: BTreeMap::new(),
        }
    }

    /// A heal or kick starts the merge clock; a new cut stops it.
    fn on_action<P: RingProtocol>(&mut self, sim: &Simulation<P>, action: &EventAction, at: SimTime) {
        match action {
            EventAction::Heal | EventAction::Kick { .. } => {
                let from_heal = matches!(action, EventAction::Heal);
                self.heals += u64::from(from_heal);
                self.merge = Some(MergeClock {
                    healed_at: at,
                    from_heal,
                    messages_at_heal: sim.message_counts().iter().sum(),
                    unification_at_heal: unification_messages(sim),
                    merged: None,
                });
            }
            EventAction::Partition { .. } | EventAction::OneWayCut { .. } => self.merge = None,
            _ => {}
        }
    }

    /// Counts the finished lookups: failed, wrong (against the oracle's
    /// true successor), and inconsistent pairs.
    fn tally<P: RingProtocol>(&mut self, sim: &Simulation<P>) {
        let totals = &mut self.totals;
        for outcome in self.reports.drain(..) {
            totals.lookups += 1;
            totals.timeouts += outcome.timeouts as u64;
            match outcome.result {
                None => totals.failed += 1,
                Some(result) => {
                    totals.answered += 1;
                    totals.hops += outcome.hops as u64;
                    totals.latency_us += outcome.latency.0;
                    *self.hops_histogram.entry(outcome.hops).or_default() += 1;
                    if oracle::true_successor(sim, outcome.key) != Some(result.node) {
                        totals.wrong += 1;
                    }
                }
            }
            let pair = outcome.tag / 2;
            if let Some(pending) = self.pairs.get_mut(&pair) {
                match pending.first {
                    None => pending.first = Some(outcome.result),
                    Some(first) => {
                        if let (Some(a), Some(b)) = (first, outcome.result)
                            && a.node != b.node
                        {
                            totals.inconsistent_pairs += 1;
                        }
                        self.pairs.remove(&pair);
                    }
                }
            }
        }
    }

    /// One oracle sample: a time-series row, the merge clock, the checks.
    fn sample<P: RingProtocol>(&mut self, sim: &Simulation<P>, at: SimTime, monitor: Option<&mut Monitor>) {
        let consistency = oracle::key_consistency(sim);
        let perfect = oracle::is_perfect_ring(sim);
        let messages: u64 = sim.message_counts().iter().sum();
        let (previous, previous_messages, previous_time) = self.at_last_sample;
        let rings = oracle::rings(sim);
        self.rings_max = self.rings_max.max(rings);
        let elapsed_s = (at - previous_time).as_secs_f64().max(1e-9);
        let totals = self.totals;
        self.timeseries.rows.push(vec![
            format_secs(at),
            sim.alive_count().to_string(),
            oracle::member_count(sim).to_string(),
            u8::from(perfect).to_string(),
            rings.to_string(),
            consistency.inconsistent_fraction.to_string(),
            consistency.unavailable_fraction.to_string(),
            consistency.inconsistent_intervals.to_string(),
            oracle::wrong_successors(sim).to_string(),
            (totals.lookups - previous.lookups).to_string(),
            (totals.failed - previous.failed).to_string(),
            (totals.wrong - previous.wrong).to_string(),
            (totals.inconsistent_pairs - previous.inconsistent_pairs).to_string(),
            (messages - previous_messages).to_string(),
            format!("{:.3}", (messages - previous_messages) as f64 / elapsed_s),
            sim.counters().events.to_string(),
        ]);
        if let Some(monitor) = monitor {
            monitor.on_sample(sim, perfect && consistency.inconsistent_fraction == 0.0);
        }
        if let Some(clock) = &mut self.merge
            && clock.merged.is_none()
            && perfect
            && consistency.inconsistent_fraction == 0.0
        {
            let unification = unification_messages(sim) - clock.unification_at_heal;
            clock.merged = Some((at, messages - clock.messages_at_heal, unification));
            self.heals_merged += u64::from(clock.from_heal);
        }
        self.samples += 1;
        self.perfect_samples += u64::from(perfect);
        self.inconsistent_sum += consistency.inconsistent_fraction;
        self.unavailable_sum += consistency.unavailable_fraction;
        self.inconsistent_max = self.inconsistent_max.max(consistency.inconsistent_fraction);
        self.at_last_sample = (totals, messages, at);
    }

    /// The one row of `summary.csv`.
    fn summary<P: RingProtocol>(&self, scenario: &Scenario, sim: &Simulation<P>) -> Table {
        let kinds = P::Message::KINDS;
        let messages: u64 = sim.message_counts().iter().sum();
        let mean = |sum: f64, n: u64| if n == 0 { 0.0 } else { sum / n as f64 };
        let mut summary_header: Vec<String> = SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect();
        let branches = oracle::branches(sim);
        let members = oracle::member_count(sim);
        let count_kinds = |wanted: &[&str]| -> u64 {
            kinds.iter().zip(sim.message_counts()).filter(|(k, _)| wanted.contains(k)).map(|(_, c)| c).sum()
        };
        let counters = sim.counters();
        let detector = &sim.detector().counters;
        let network = &sim.network().counters;
        let issued = self.totals.pairs * 2;
        let mut summary_row: Vec<String> = vec![
            scenario.name.clone(),
            scenario.protocol.name().to_string(),
            scenario.seed.to_string(),
            scenario.nodes.initial.to_string(),
            scenario.duration_s.to_string(),
            sim.alive_count().to_string(),
            members.to_string(),
            u8::from(oracle::is_perfect_ring(sim)).to_string(),
            mean(self.perfect_samples as f64, self.samples).to_string(),
            mean(self.inconsistent_sum, self.samples).to_string(),
            self.inconsistent_max.to_string(),
            oracle::key_consistency(sim).inconsistent_fraction.to_string(),
            mean(self.unavailable_sum, self.samples).to_string(),
            oracle::wrong_successors(sim).to_string(),
            self.totals.lookups.to_string(),
            self.totals.failed.to_string(),
            self.totals.wrong.to_string(),
            issued.saturating_sub(self.totals.lookups).to_string(),
            self.totals.pairs.to_string(),
            self.totals.inconsistent_pairs.to_string(),
            format!("{:.4}", mean(self.totals.hops as f64, self.totals.answered)),
            format!("{:.4}", mean(self.totals.timeouts as f64, self.totals.lookups)),
            format!("{:.3}", mean(self.totals.latency_us as f64 / 1000.0, self.totals.answered)),
            counters.joins.to_string(),
            counters.crashes.to_string(),
            counters.leaves.to_string(),
            detector.suspicions.to_string(),
            detector.false_suspicions.to_string(),
            branches.branches.to_string(),
            format!("{:.4}", branches.average_size()),
            format!("{:.4}", branches.total_average_size(members)),
            oracle::inconsistent_peers(sim).to_string(),
            oracle::largest_fan_in(sim).to_string(),
            format!("{:.3}", oracle::connections_per_peer(sim)),
            count_kinds(P::BUILD_KINDS).to_string(),
            count_kinds(P::HINT_KINDS).to_string(),
            messages.to_string(),
            network.lost.to_string(),
            network.cut.to_string(),
            counters.events.to_string(),
            self.rings_max.to_string(),
        ];
        // merged, merge_time_s, merge_messages, unification_messages: empty
        // when no partition healed and no kick came.
        summary_row.extend(match self.merge {
            None => [String::new(), String::new(), String::new(), String::new()],
            Some(MergeClock { merged: None, .. }) => ["0".into(), String::new(), String::new(), String::new()],
            Some(MergeClock { healed_at, merged: Some((at, messages, unification)), .. }) => [
                "1".into(),
                format!("{:.3}", (at - healed_at).as_secs_f64()),
                messages.to_string(),
                unification.to_string(),
            ],
        });
        summary_row.push(self.heals.to_string());
        summary_row.push(self.heals_merged.to_string());
        for (kind, count) in kinds.iter().zip(sim.message_counts()) {
            summary_header.push(format!("messages_{kind}"));
            summary_row.push(count.to_string());
        }
        summary_header.push("digest".into());
        summary_row.push(sim.digest().hex());
        Table { header: summary_header, rows: vec![summary_row] }
    }
}

/// The columns of `summary.csv` before the per-kind message counts.
const SUMMARY_COLUMNS: &[&str] = &[
    "scenario",
    "protocol",
    "seed",
    "nodes_initial",
    "duration_s",
    "alive_nodes",
    "members",
    "perfect_ring",
    "perfect_ring_fraction",
    "inconsistent_key_fraction",
    "inconsistent_key_fraction_max",
    "inconsistent_key_fraction_end",
    "unavailable_key_fraction",
    "wrong_successors",
    "lookups",
    "lookups_failed",
    "lookups_wrong",
    "lookups_unfinished",
    "lookup_pairs",
    "lookups_inconsistent",
    "mean_hops",
    "mean_timeouts",
    "mean_lookup_latency_ms",
    "joins",
    "crashes",
    "leaves",
    "suspicions",
    "false_suspicions",
    "branches",
    "avg_branch_size",
    "total_avg_branch_size",
    "inconsistent_peers",
    "largest_fan_in",
    "connections_per_peer",
    "build_messages",
    "hint_messages",
    "messages",
    "messages_lost",
    "messages_cut",
    "events",
    "rings_max",
    "merged",
    "merge_time_s",
    "merge_messages",
    "unification_messages",
    "heals",
    "heals_merged",
];

/// The order of a ring of `n` nodes (indices in id order) whose successor
/// pointers go around the identifier space `loops` times: the nodes whose
/// index is 0 mod `loops` in id order, then those that are 1 mod `loops`,
/// and so on, each class going around once. `position[k]` is node k's
/// place in `order`.
struct LoopyCycle {
    order: Vec<usize>,
    position: Vec<usize>,
}

fn loopy_cycle(n: usize, loops: usize) -> LoopyCycle {
    if loops <= 1 {
        return LoopyCycle { order: Vec::new(), position: Vec::new() };
    }
    let order: Vec<usize> = (0..loops).flat_map(|class| (class..n).step_by(loops)).collect();
    let mut position = vec![0; n];
    for (at, &k) in order.iter().enumerate() {
        position[k] = at;
    }
    LoopyCycle { order, position }
}

/// Node k's predecessor and first `r` successors along a loopy cycle.
fn loopy_neighbours(ring: &[Peer], cycle: &LoopyCycle, k: usize, r: usize) -> (Peer, Vec<Peer>) {
    let n = cycle.order.len();
    let at = cycle.position[k];
    let pred = ring[cycle.order[(at + n - 1) % n]];
    let successors = (1..n).take(r.max(1)).map(|step| ring[cycle.order[(at + step) % n]]).collect();
    (pred, successors)
}

/// Bootstrap join instants: the first gap `start_ms` (when given), each
/// following gap half the previous, down to `interval_ms`, then constant.
fn join_schedule(count: usize, start_ms: Option<f64>, interval_ms: f64) -> Vec<SimTime> {
    let mut at = 0.0f64;
    let mut gap = start_ms.unwrap_or(interval_ms).max(interval_ms);
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        times.push(SimTime::from_millis_f64(at));
        at += gap;
        gap = (gap / 2.0).max(interval_ms);
    }
    times
}

/// Whether a joiner's link to its predecessor is cut: one draw of
/// `connectivity` per link, or one per direction (see [`ConnectivityPer`]).
fn link_is_cut(nodes: &Nodes, rng: &mut Stream) -> bool {
    let c = nodes.connectivity;
    c < 1.0
        && match nodes.connectivity_per {
            ConnectivityPer::Link => !rng.chance(c),
            // Both draws are always made, so that a run's stream does not
            // depend on the first one's outcome.
            ConnectivityPer::Direction => {
                let forward = rng.chance(c);
                let backward = rng.chance(c);
                !(forward && backward)
            }
        }
}

/// One bootstrap join, through the contact `nodes.join_via` picks. If
/// [`link_is_cut`], the joiner cannot reach its predecessor (the member
/// just before its identifier): the link is cut both ways. False when
/// there was no member to join through: the peer starts the ring.
fn bootstrap_join<P: RingProtocol>(
    sim: &mut Simulation<P>,
    rng: &mut Stream,
    contact_rng: &mut Stream,
    nodes: &Nodes,
) -> bool {
    let id = sim.draw_ring_ids(1)[0];
    let mut cut_from = None;
    if link_is_cut(nodes, rng) {
        // The member it will sit behind; joiners still in progress do not count.
        let is_member = |&(_, &n): &(&RingId, &NodeId)| sim.node(n).is_some_and(|p| p.is_member());
        let predecessor = sim
            .ring()
            .range(..id)
            .rev()
            .find(is_member)
            .or_else(|| sim.ring().iter().rev().find(is_member))
            .map(|(_, &n)| n);
        // With one member, its predecessor would be its successor too: cut
        // off from both, it could not join at all (there is no branch root
        // to hang from), and would start a ring of its own.
        let another = sim.ring().iter().filter(is_member).nth(1).is_some();
        if let Some(predecessor) = predecessor.filter(|_| another) {
            let joiner = sim.next_node_id();
            sim.block_link(joiner, predecessor);
            sim.block_link(predecessor, joiner);
            cut_from = Some(predecessor);
        }
    }
    // The contact is a member the joiner can reach.
    let contact = match nodes.join_via {
        JoinVia::Random => sim.random_alive_where(contact_rng, |node, p| p.is_member() && Some(node) != cut_from),
        JoinVia::Nearest => {
            let usable =
                |&(_, &n): &(&RingId, &NodeId)| Some(n) != cut_from && sim.node(n).is_some_and(|p| p.is_member());
            sim.ring().range(..id).rev().find(usable).or_else(|| sim.ring().iter().rev().find(usable)).map(|(_, &n)| n)
        }
    };
    let contact_peer = contact.map(|c| sim.peer(c));
    sim.spawn_with(id, 0, |me, config| P::create(me, contact_peer, config));
    contact.is_some()
}

/// One stabilization round: every member stabilizes once (the PPL 2008
/// Chord baseline's round every s joins).
fn stabilization_round<P: RingProtocol>(sim: &mut Simulation<P>) {
    let Some(request) = P::maintenance_request() else { return };
    let mut members: Vec<NodeId> = sim.alive_nodes().to_vec();
    members.sort_unstable();
    for node in members {
        if sim.node(node).is_some_and(|p| p.is_member()) {
            sim.request(node, request.clone());
        }
    }
}

fn collect<P: RingProtocol>(sim: &mut Simulation<P>, into: &mut Vec<LookupOutcome>) {
    into.extend(sim.drain_reports().filter_map(|(_, _, report)| P::lookup_outcome(&report)));
}

fn format_secs(t: SimTime) -> String {
    let us = t.as_micros();
    if us % 1_000_000 == 0 { (us / 1_000_000).to_string() } else { format!("{:.6}", t.as_secs_f64()) }
}

/// Chooses `count` distinct live nodes uniformly (partial Fisher–Yates).
fn choose_alive<P: Protocol>(sim: &Simulation<P>, count: usize, rng: &mut Stream) -> Vec<NodeId> {
    let mut pool: Vec<NodeId> = sim.alive_nodes().to_vec();
    pool.sort_unstable();
    let count = count.min(pool.len());
    for i in 0..count {
        let j = i + rng.below((pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(count);
    pool
}

/// `nodes.rejoin_after_s`: a node still joining, or a member whose own
/// successor list shows a ring smaller than the live system (it wraps around
/// to the node, or repeats a peer: alone, or a ring of two or three that no
/// member of the larger ring remembers), for `after` gets a fresh random
/// member as its contact (a join restarted through it, or a kick), and again
/// every `after` while it stays so. The service sees nothing of a node but
/// what the node itself knows, and how many nodes live.
fn bootstrap_service<P: RingProtocol>(
    sim: &mut Simulation<P>,
    stuck: &mut BTreeMap<NodeId, SimTime>,
    after: SimTime,
    full_list: usize,
    rng: &mut Stream,
) {
    let now = sim.now();
    let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
    alive.sort_unstable();
    let live = alive.len();
    let now_stuck: Vec<NodeId> = alive
        .into_iter()
        .filter(|&node| {
            sim.node(node).is_some_and(|p| !p.is_member() || ring_seen(node, p.successor_list(), full_list) < live)
        })
        .collect();
    stuck.retain(|node, _| now_stuck.binary_search(node).is_ok());
    for node in now_stuck {
        let since = *stuck.entry(node).or_insert(now);
        if now.saturating_sub(since) < after {
            continue;
        }
        stuck.insert(node, now);
        let Some(contact) = sim.random_alive_where(rng, |n, p| n != node && p.is_member()) else { continue };
        let contact = sim.peer(contact);
        let member = sim.node(node).is_some_and(|p| p.is_member());
        let request = if member { P::kick_request(contact) } else { P::contact_request(contact) };
        if let Some(request) = request {
            sim.request(node, request);
        }
    }
}

/// How large a ring `node`'s successor list shows: the node and every peer
/// up to the first repeat or the node itself, or the node and the whole list
/// when it is shorter than the `full` length kept on a large ring; else
/// `usize::MAX` (the ring is larger than the list).
fn ring_seen(node: NodeId, successors: &[Peer], full: usize) -> usize {
    for (i, peer) in successors.iter().enumerate() {
        if peer.node == node || successors[..i].iter().any(|p| p.node == peer.node) {
            return i + 1;
        }
    }
    if successors.len() < full { successors.len() + 1 } else { usize::MAX }
}

/// The nodes reached from `node` by following successor pointers.
fn successor_cycle<P: RingProtocol>(sim: &Simulation<P>, node: NodeId) -> BTreeSet<NodeId> {
    let mut seen = BTreeSet::from([node]);
    let mut at = node;
    while let Some(next) = sim.node(at).and_then(|p| p.successor()).map(|s| s.node) {
        if !sim.is_alive(next) || !seen.insert(next) {
            break;
        }
        at = next;
    }
    seen
}

/// Performs one scheduled event.
fn perform<P: RingProtocol>(sim: &mut Simulation<P>, action: &EventAction, rng: &mut Stream, contact_rng: &mut Stream) {
    match action {
        &EventAction::CrashFraction { fraction } => {
            let count = (fraction * sim.alive_count() as f64).round() as usize;
            for node in choose_alive(sim, count, rng) {
                sim.crash(node);
            }
        }
        &EventAction::Crash { count } => {
            for node in choose_alive(sim, count as usize, rng) {
                sim.crash(node);
            }
        }
        &EventAction::Leave { count } => {
            for node in choose_alive(sim, count as usize, rng) {
                sim.leave(node);
            }
        }
        &EventAction::Join { count } => {
            for _ in 0..count {
                let contact = sim.random_alive(contact_rng, |p| p.is_member());
                sim.spawn(contact);
            }
        }
        EventAction::Partition { groups, assign } => {
            let groups = *groups;
            let space = sim.space();
            let mut by_node: Vec<u16> = vec![0; sim.arena_len()];
            if let PartitionAssign::Lists(lists) = assign {
                for (k, list) in lists.iter().enumerate() {
                    for &node in list {
                        if let Some(slot) = by_node.get_mut(node as usize) {
                            *slot = k as u16 + 1;
                        }
                    }
                }
            } else {
                let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
                alive.sort_unstable();
                for node in alive {
                    by_node[node.index()] = match assign {
                        PartitionAssign::Ranges => {
                            let id = sim.peer(node).id;
                            ((id.0 as u128 * groups as u128) / space.size()) as u16
                        }
                        _ => rng.below(groups as u64) as u16,
                    };
                }
            }
            sim.partition(groups, |node, _| by_node.get(node.index()).copied().unwrap_or(0));
        }
        &EventAction::Kick { count, across } => {
            for _ in 0..count {
                let Some(node) = sim.random_alive(contact_rng, |p| p.is_member()) else { break };
                // Across: a member the node's successor pointers never reach.
                let own = if across { successor_cycle(sim, node) } else { BTreeSet::from([node]) };
                let other = sim.random_alive_where(contact_rng, |n, p| !own.contains(&n) && p.is_member());
                if let Some(request) = other.and_then(|o| P::kick_request(sim.peer(o))) {
                    sim.request(node, request);
                }
            }
        }
        &EventAction::OneWayCut { from_group, to_group } => sim.cut_one_way(from_group, to_group),
        EventAction::Heal => sim.heal(),
        &EventAction::SetLoss { loss } => sim.set_loss(loss),
        EventAction::StopStabilization => P::control(sim.protocol_config_mut(), Control::StopStabilization),
        EventAction::StartStabilization => P::control(sim.protocol_config_mut(), Control::StartStabilization),
        EventAction::StopChurn => sim.stop_churn(),
        EventAction::CrashIds { ids } => {
            for node in nodes_at(sim, ids) {
                sim.crash(node);
            }
        }
        EventAction::LeaveIds { ids } => {
            for node in nodes_at(sim, ids) {
                sim.leave(node);
            }
        }
        EventAction::JoinIds { ids, via } => {
            for &id in ids {
                if !sim.ring().contains_key(&id) {
                    let named = via
                        .and_then(|v| sim.ring().get(&v).copied())
                        .filter(|&c| sim.node(c).is_some_and(|p| p.is_member()));
                    let contact = named.or_else(|| sim.random_alive(contact_rng, |p| p.is_member()));
                    sim.spawn_at(id, contact.map(|c| sim.peer(c)));
                }
            }
        }
        EventAction::PartitionIds { lists } => {
            let mut by_node: Vec<u16> = vec![0; sim.arena_len()];
            for (k, list) in lists.iter().enumerate() {
                for node in nodes_at(sim, list) {
                    by_node[node.index()] = k as u16 + 1;
                }
            }
            sim.partition(lists.len() as u16 + 1, |node, _| by_node.get(node.index()).copied().unwrap_or(0));
        }
        &EventAction::Suspect { watcher, peer, lasts_ms } => {
            if let (Some(&w), Some(&p)) = (sim.ring().get(&watcher), sim.ring().get(&peer)) {
                sim.suspect(w, p, SimTime::from_millis_f64(lasts_ms).max(SimTime(1)));
            }
        }
        EventAction::StopFaults => {
            sim.stop_churn();
            sim.set_loss(0.0);
            sim.stop_false_suspicions();
            sim.heal();
        }
    }
}

/// The live nodes at these ring identifiers (absent ones skipped).
fn nodes_at<P: Protocol>(sim: &Simulation<P>, ids: &[RingId]) -> Vec<NodeId> {
    ids.iter().filter_map(|id| sim.ring().get(id).copied()).collect()
}

/// The groups a partition put live nodes in, by ring identifier: the
/// explicit `partition_ids` that replays it.
fn partition_by_ids<P: Protocol>(sim: &Simulation<P>) -> EventAction {
    let mut lists: Vec<Vec<RingId>> = Vec::new();
    for (&id, &node) in sim.ring() {
        let group = sim.network().group(node) as usize;
        if group > 0 {
            if lists.len() < group {
                lists.resize(group, Vec::new());
            }
            lists[group - 1].push(id);
        }
    }
    EventAction::PartitionIds { lists }
}

/// Current resident memory in KiB (Linux), for bytes per node.
fn resident_kb() -> Option<u64> {
    status_field("VmRSS:")
}

/// Peak resident memory in KiB (Linux).
fn peak_resident_kb() -> Option<u64> {
    status_field("VmHWM:")
}

fn status_field(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
