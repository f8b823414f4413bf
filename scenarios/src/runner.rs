//! The runner: one scenario, one seed, one simulation, its metrics.
//!
//! The runner merges its timelines into the engine's: the bootstrap (built
//! at once, or joins one by one), the scheduled `[[events]]`, the family's
//! own timeline, the workload (a Poisson process) and the oracle's samples.
//! At one instant it acts in that order, after every engine event of that
//! instant. Everything it draws comes from its own seeded streams, so a run
//! is a function of the scenario and the seed alone.
//!
//! The runner knows no kind of overlay. What a run needs from one — how the
//! initial population is built, what a workload event asks of a node, the
//! scheduled events that are the family's own, what the oracle measures
//! and checks, the time-series charts — is a [`Family`]: the rings (the
//! `rings` module) are one, flat gossip (the `gossip` module) another.

use crate::check::{Invariants, Monitor};
use crate::config::{EventAction, EventSpec, PartitionAssign, Scenario};
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::trace::TraceWriter;
use sim_core::{NodeId, Peer, Protocol, RingId, SimTime, Simulation};

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

/// One chart of `run --plot`: curves of time-series columns against time.
#[derive(Clone, Copy, Debug)]
pub struct TimeseriesChart {
    /// The title after the scenario's name.
    pub title: &'static str,
    pub y_label: &'static str,
    /// (column, legend) of each curve.
    pub curves: &'static [(&'static str, &'static str)],
}

/// What a run produced. Everything except `perf` is a function of the
/// scenario and seed.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub summary: Table,
    pub timeseries: Table,
    /// The family's distribution (`hops.csv`): for rings, hops → lookups
    /// that got an answer after that many hops.
    pub hops: Table,
    pub digest: String,
    pub perf: Perf,
    /// The ring at `[output] snapshot_at_s`, if asked.
    pub snapshot: Option<reports::ring::RingPicture>,
    /// What the online checks found, when the scenario asked for them.
    pub check: Option<crate::check::CheckOutcome>,
    /// The fault schedule, when the checks asked to record it.
    pub recorded: Option<crate::check::Recorded>,
    /// The charts `run --plot` draws from the time series.
    pub charts: &'static [TimeseriesChart],
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

/// A protocol family: what a run needs from a kind of overlay besides the
/// engine's [`Protocol`]. The runner calls these at fixed places of its
/// loop; a family keeps its own measures between the calls.
pub trait Family: Sized {
    /// The node the engine runs.
    type Node: Protocol;
    /// The family's safety properties and liveness target (`check`).
    type Invariants: Invariants<Self::Node>;
    /// The charts `run --plot` draws from the family's time series.
    const CHARTS: &'static [TimeseriesChart];

    fn new(scenario: &Scenario) -> Self;
    /// The initial population: spawned at once, or bootstrap joins
    /// ([`Action::BootstrapJoin`]) added to `world.actions`.
    fn bootstrap(&mut self, world: &mut World<Self::Node>, scenario: &Scenario);
    /// One bootstrap join at `at`; `next_join` is the instant of the
    /// next one, if any is left.
    fn bootstrap_join(
        &mut self,
        world: &mut World<Self::Node>,
        scenario: &Scenario,
        at: SimTime,
        next_join: Option<SimTime>,
    );
    /// The next instant of the family's own timeline, if one is due.
    fn next_own_step(&self) -> Option<SimTime> {
        None
    }
    /// The family's own step, at [`Family::next_own_step`].
    fn own_step(&mut self, _world: &mut World<Self::Node>) {}
    /// Workload events per second, and when they start.
    fn workload(scenario: &Scenario) -> (f64, f64);
    /// One workload event at `at` (its draws from `world.streams`).
    fn workload_event(&mut self, world: &mut World<Self::Node>, at: SimTime);
    /// Takes the reports the nodes made since the last call.
    fn collect(&mut self, sim: &mut Simulation<Self::Node>);
    /// A scheduled event that is no engine verb: the family's own.
    fn perform(&mut self, world: &mut World<Self::Node>, action: &EventAction);
    /// A scheduled event ran (the measures may start or stop a clock).
    fn on_action(&mut self, _sim: &Simulation<Self::Node>, _action: &EventAction, _at: SimTime) {}
    /// Accounts for the reports collected.
    fn tally(&mut self, sim: &Simulation<Self::Node>);
    /// Before a periodic sample (a bootstrap service may act here).
    fn before_sample(&mut self, _world: &mut World<Self::Node>, _scenario: &Scenario) {}
    /// One sample: a time-series row. Returns whether the run is settled
    /// (the family's liveness target holds now).
    fn sample(&mut self, sim: &Simulation<Self::Node>, at: SimTime) -> bool;
    /// A picture of the overlay at `at`, if the family draws one.
    fn snapshot(&self, _sim: &Simulation<Self::Node>, _name: &str, _at: SimTime) -> Option<reports::ring::RingPicture> {
        None
    }
    /// summary.csv (one row), timeseries.csv and the distribution (hops.csv).
    fn tables(self, scenario: &Scenario, sim: &Simulation<Self::Node>) -> (Table, Table, Table);
}

/// A scheduled action of the runner.
#[derive(Clone, Debug)]
pub enum Action {
    BootstrapJoin,
    Event(EventAction),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Index into the scheduled actions.
    Action(usize),
    /// The family's own timeline.
    Own,
    Workload,
    Sample,
    Snapshot,
    End,
}

/// The runner's own seeded streams, one per purpose.
#[derive(Debug)]
pub struct Streams {
    pub scenario: Stream,
    pub bootstrap: Stream,
    pub workload: Stream,
    pub origin: Stream,
    pub contact: Stream,
}

/// What a run drives: the engine, the runner's streams, and the scheduled
/// actions in time order (stable for equal times).
#[derive(Debug)]
pub struct World<P: Protocol> {
    pub sim: Simulation<P>,
    pub streams: Streams,
    pub actions: Vec<(SimTime, Action)>,
}

/// Runs a scenario of family `F` to its end, in phases: build the world
/// (the engine, the runner's streams, the family's bootstrap), schedule
/// the actions (bootstrap joins and the scenario's events), drive the
/// merged timelines, sampling as it goes, then make the tables.
pub fn run<F: Family>(
    scenario: &Scenario,
    protocol_config: <F::Node as Protocol>::Config,
    trace: Option<TraceWriter>,
    progress: &mut dyn Progress,
) -> RunResult {
    #[allow(clippy::disallowed_methods)] // perf.csv is the one output that reads the clock
    let wall_start = std::time::Instant::now();
    let rss_before = sim_core::memory::resident_kb();
    let mut family = F::new(scenario);
    let mut world = World::<F::Node>::build(scenario, protocol_config, trace);
    family.bootstrap(&mut world, scenario);
    let rss_after_bootstrap = sim_core::memory::resident_kb();
    world.schedule_events(scenario);
    let mut schedule = Schedule::new::<F>(scenario, &mut world.streams.workload);
    let mut checks = Checks::new(scenario, &mut world.sim);
    let mut snapshot = None;
    loop {
        let (at, what) = schedule.next_step(&world.actions, family.next_own_step());
        match &mut checks.monitor {
            Some(monitor) => world.sim.run_until_observed(at, |sim| monitor.after_event(sim)),
            None => world.sim.run_until(at),
        }
        family.collect(&mut world.sim);
        match what {
            Step::Action(index) => {
                schedule.next_action += 1;
                world.act(&mut family, scenario, index, at, &mut checks);
            }
            Step::Workload => {
                family.workload_event(&mut world, at);
                schedule.next_workload = Some(at + schedule.workload_gap(&mut world.streams.workload));
            }
            Step::Own => family.own_step(&mut world),
            Step::Snapshot => {
                schedule.next_snapshot = None;
                snapshot = family.snapshot(&world.sim, &scenario.name, at);
            }
            Step::Sample | Step::End => {}
        }
        if let (Some(monitor), Step::Action(_) | Step::Workload) = (&mut checks.monitor, what) {
            monitor.rescan(&world.sim);
        }
        family.collect(&mut world.sim);
        family.tally(&world.sim);
        if what == Step::Sample {
            family.before_sample(&mut world, scenario);
        }
        if what == Step::Sample || (what == Step::End && schedule.last_sample < at) {
            let settled = family.sample(&world.sim, at);
            if let Some(monitor) = &mut checks.monitor {
                monitor.on_sample(&world.sim, settled);
            }
            schedule.on_settled(at, settled, &mut world.streams.workload);
            schedule.last_sample = at;
            if what == Step::Sample {
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
    let (summary, timeseries, hops) = family.tables(scenario, &sim);
    let perf = Perf::measured::<F::Node>(scenario, wall_start, &sim, (rss_before, rss_after_bootstrap));
    let Checks { monitor, mut recorded } = checks;
    let check = monitor.map(|monitor| monitor.finish(&sim));
    if let Some(recorded) = &mut recorded {
        crate::check::record_events(sim.take_fault_log(), &mut recorded.events);
    }
    RunResult {
        summary,
        timeseries,
        hops,
        digest: sim.digest().hex(),
        perf,
        snapshot,
        check,
        recorded,
        charts: F::CHARTS,
    }
}

impl Perf {
    /// The wall time since `wall_start`, events per second, peak memory,
    /// and the memory the bootstrap took per initial node (`rss`: before
    /// and after it).
    fn measured<P: Protocol>(
        scenario: &Scenario,
        wall_start: std::time::Instant,
        sim: &Simulation<P>,
        rss: (Option<u64>, Option<u64>),
    ) -> Perf {
        let wall_s = wall_start.elapsed().as_secs_f64();
        let events = sim.counters().events;
        let nodes = scenario.nodes.initial.max(1) as f64;
        Perf {
            wall_s,
            events,
            events_per_s: events as f64 / wall_s.max(1e-9),
            peak_rss_mb: sim_core::memory::peak_resident_kb().unwrap_or(0) as f64 / 1024.0,
            bytes_per_node: match rss {
                (Some(a), Some(b)) if scenario.nodes.bootstrap == crate::config::Bootstrap::Ideal => {
                    (b.saturating_sub(a) * 1024) as f64 / nodes
                }
                _ => 0.0,
            },
            slot_bytes: Simulation::<P>::slot_bytes(),
            event_bytes: Simulation::<P>::event_bytes(),
        }
    }
}

impl<P: Protocol> World<P> {
    /// The engine and the runner's streams; the family adds the nodes.
    fn build(scenario: &Scenario, protocol_config: P::Config, trace: Option<TraceWriter>) -> Self {
        let mut sim: Simulation<P> = Simulation::new(scenario.sim_config(), protocol_config);
        if let Some(trace) = trace {
            sim.set_trace(trace);
        }
        let seed = scenario.seed;
        let streams = Streams {
            scenario: Stream::new(seed, Purpose::Scenario),
            bootstrap: Stream::new(seed, Purpose::Bootstrap),
            workload: Stream::new(seed, Purpose::Workload),
            origin: Stream::new(seed, Purpose::LookupOrigins),
            contact: Stream::new(seed, Purpose::ScenarioContacts),
        };
        World { sim, streams, actions: Vec::new() }
    }

    /// Adds the scenario's `[[events]]` to the actions and sorts them by time.
    fn schedule_events(&mut self, scenario: &Scenario) {
        for event in &scenario.events {
            self.actions.push((SimTime::from_secs_f64(event.at_s), Action::Event(event.action.clone())));
        }
        self.actions.sort_by_key(|(at, _)| *at);
    }

    /// Performs the scheduled action `index` at `at`.
    fn act<F: Family<Node = P>>(
        &mut self,
        family: &mut F,
        scenario: &Scenario,
        index: usize,
        at: SimTime,
        checks: &mut Checks<P, F::Invariants>,
    ) {
        match self.actions[index].1.clone() {
            Action::BootstrapJoin => {
                let next_join = self.actions[index + 1..]
                    .iter()
                    .find(|(_, action)| matches!(action, Action::BootstrapJoin))
                    .map(|(t, _)| *t);
                family.bootstrap_join(self, scenario, at, next_join);
            }
            Action::Event(action) => {
                if let Some(recorded) = &mut checks.recorded {
                    crate::check::record_events(self.sim.take_fault_log(), &mut recorded.events);
                }
                if !perform(&mut self.sim, &action, &mut self.streams.scenario, &mut self.streams.contact) {
                    family.perform(self, &action);
                }
                if let Some(recorded) = &mut checks.recorded {
                    record_action(&mut self.sim, recorded, &action, at);
                }
                if let Some(monitor) = &mut checks.monitor {
                    monitor.on_action(&self.sim, &action);
                }
                family.on_action(&self.sim, &action, at);
            }
        }
    }
}

/// Records what a scheduled event did as explicit events by ring
/// identifier, for a schedule that replays it.
fn record_action<P: Protocol>(
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
        recorded.events.push(EventSpec { at_s: at.as_secs_f64(), action });
    }
}

/// When each timeline next acts.
struct Schedule {
    duration: SimTime,
    sample_every: SimTime,
    workload_rate: f64,
    next_workload: Option<SimTime>,
    /// `workload.start_when_stable`: the workload waits for the first
    /// sample at or after this instant at which the run has settled.
    waiting_for_stable: Option<SimTime>,
    next_sample: SimTime,
    last_sample: SimTime,
    next_action: usize,
    next_snapshot: Option<SimTime>,
}

impl Schedule {
    fn new<F: Family>(scenario: &Scenario, workload_rng: &mut Stream) -> Self {
        let duration = scenario.duration();
        let (workload_rate, start_s) = F::workload(scenario);
        let mut schedule = Schedule {
            duration,
            sample_every: scenario.sample_every(),
            workload_rate,
            next_workload: None,
            waiting_for_stable: None,
            next_sample: scenario.sample_every().min(duration),
            last_sample: SimTime::ZERO,
            next_action: 0,
            next_snapshot: scenario.output.snapshot_at_s.map(SimTime::from_secs_f64),
        };
        if schedule.workload_rate > 0.0 {
            let start = SimTime::from_secs_f64(start_s);
            if scenario.workload.start_when_stable {
                schedule.waiting_for_stable = Some(start);
            } else {
                schedule.next_workload = Some(start + schedule.workload_gap(workload_rng));
            }
        }
        schedule
    }

    /// A sample at `at` found the run `settled`: a workload waiting for a
    /// stable network starts now.
    fn on_settled(&mut self, at: SimTime, settled: bool, workload_rng: &mut Stream) {
        if let Some(start) = self.waiting_for_stable
            && settled
            && at >= start
        {
            self.waiting_for_stable = None;
            self.next_workload = Some(at + self.workload_gap(workload_rng));
        }
    }

    /// The gap to the next event of the Poisson workload.
    fn workload_gap(&self, rng: &mut Stream) -> SimTime {
        SimTime::from_secs_f64(rng.exponential(1.0 / self.workload_rate)).max(SimTime(1))
    }

    /// The earliest next step; at one instant, in `Step` order.
    fn next_step(&self, actions: &[(SimTime, Action)], own: Option<SimTime>) -> (SimTime, Step) {
        let mut step = (self.duration, Step::End);
        if let Some((at, _)) = actions.get(self.next_action) {
            step = step.min((*at, Step::Action(self.next_action)));
        }
        if let Some(at) = own {
            step = step.min((at, Step::Own));
        }
        if let Some(at) = self.next_workload {
            step = step.min((at, Step::Workload));
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
struct Checks<P: Protocol, I: Invariants<P>> {
    monitor: Option<Monitor<P, I>>,
    recorded: Option<crate::check::Recorded>,
}

impl<P: Protocol, I: Invariants<P>> Checks<P, I> {
    fn new(scenario: &Scenario, sim: &mut Simulation<P>) -> Self {
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

/// Bootstrap join instants: the first gap `start_ms` (when given), each
/// following gap half the previous, down to `interval_ms`, then constant.
pub fn join_schedule(count: usize, start_ms: Option<f64>, interval_ms: f64) -> Vec<SimTime> {
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

/// `1`, `0.5`: seconds as written in a table.
pub fn format_secs(t: SimTime) -> String {
    let us = t.as_micros();
    if us % 1_000_000 == 0 { (us / 1_000_000).to_string() } else { format!("{:.6}", t.as_secs_f64()) }
}

/// Chooses `count` distinct live nodes uniformly (partial Fisher–Yates).
pub fn choose_alive<P: Protocol>(sim: &Simulation<P>, count: usize, rng: &mut Stream) -> Vec<NodeId> {
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

/// Performs one scheduled event that is an engine verb; false for the
/// events a family gives meaning to (`kick`, `stop_stabilization`,
/// `start_stabilization`).
fn perform<P: Protocol>(
    sim: &mut Simulation<P>,
    action: &EventAction,
    rng: &mut Stream,
    contact_rng: &mut Stream,
) -> bool {
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
        EventAction::Partition { groups, assign } => partition(sim, *groups, assign, rng),
        &EventAction::OneWayCut { from_group, to_group } => sim.cut_one_way(from_group, to_group),
        EventAction::Heal => sim.heal(),
        &EventAction::SetLoss { loss } => sim.set_loss(loss),
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
        EventAction::Kick { .. } | EventAction::StopStabilization | EventAction::StartStabilization => return false,
    }
    true
}

/// Splits the live nodes into `groups` (random, by identifier range, or
/// given lists) and cuts the traffic between them.
fn partition<P: Protocol>(sim: &mut Simulation<P>, groups: u16, assign: &PartitionAssign, rng: &mut Stream) {
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

/// The initial population's identifiers (`nodes.ids`, or drawn), sorted,
/// and the peers they will be once spawned in that order.
pub fn initial_peers<P: Protocol>(sim: &mut Simulation<P>, nodes: &crate::config::Nodes) -> (Vec<RingId>, Vec<Peer>) {
    let mut ids = match &nodes.ids {
        Some(ids) => ids.clone(),
        None => sim.draw_ring_ids(nodes.initial as usize),
    };
    ids.sort_unstable();
    let base = sim.next_node_id().0;
    let peers = ids.iter().enumerate().map(|(k, &id)| Peer::new(NodeId(base + k as u32), id)).collect();
    (ids, peers)
}

#[cfg(test)]
mod tests {
    use super::*;

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
