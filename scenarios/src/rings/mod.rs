//! The ring family: Chord, the relaxed ring, DKS, PALTA, the merge layer
//! around any of them, and whatever else implements
//! [`protocols::RingProtocol`].
//!
//! What a ring run is, beyond the engine's verbs: the population is a ring,
//! built converged at once (`bootstrap`; also loopy, or as rings apart) or
//! by joins; the workload is lookups, issued in pairs for one key from two
//! random members; `kick`, `stop_stabilization` and `start_stabilization`
//! are the family's own events; the oracle reads every node's pointers
//! (`oracle`: key consistency, perfect ring, branches, rings); stored keys
//! follow their successor and are lost with their holder (`keys`, with
//! `workload.keys`); the checks are membership, suspected successors and
//! lookup consistency (`invariants`); the picture is the ring (`snapshot`).

mod bootstrap;
pub mod invariants;
mod keys;
mod measures;
pub mod oracle;
pub mod snapshot;

use crate::config::{Bootstrap, EventAction, Scenario};
use crate::runner::{Action, Family, Table, TimeseriesChart, World};
use measures::Measures;
use protocols::{Control, RingProtocol};
use reports::ring::RingPicture;
use sim_core::{NodeId, SimTime, Simulation};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

/// One run of ring protocol `P`: its measures and its own timelines.
#[derive(Debug)]
pub struct Rings<P> {
    measures: Measures,
    /// A stabilization round of a bootstrap by joins; at most one is due
    /// at a time, as a round always comes before the next join.
    next_round: Option<SimTime>,
    bootstrap_joins: u64,
    stabilize_every_joins: u64,
    /// The bootstrap service's stuck nodes, since when.
    stuck: BTreeMap<NodeId, SimTime>,
    protocol: PhantomData<fn(&P)>,
}

/// The charts of a ring run's time series: key consistency, population,
/// traffic and ring structure.
const CHARTS: &[TimeseriesChart] = &[
    TimeseriesChart {
        title: "keys with no or several responsible peers",
        y_label: "Fraction of the key space",
        curves: &[
            ("inconsistent_key_fraction", "inconsistent (2+ responsible)"),
            ("unavailable_key_fraction", "unavailable (none responsible)"),
        ],
    },
    TimeseriesChart {
        title: "population",
        y_label: "Nodes",
        curves: &[("alive_nodes", "alive"), ("members", "ring members")],
    },
    TimeseriesChart {
        title: "traffic",
        y_label: "Messages per second",
        curves: &[("messages_per_s", "messages sent per second (since the last sample)")],
    },
    TimeseriesChart {
        title: "ring structure",
        y_label: "Count",
        curves: &[
            ("rings", "rings (successor cycles)"),
            ("perfect_ring", "perfect ring (1 = yes)"),
            ("inconsistent_intervals", "inconsistent key ranges"),
        ],
    },
];

impl<P: RingProtocol> Family for Rings<P> {
    type Node = P;
    type Invariants = invariants::RingInvariants;
    const CHARTS: &'static [TimeseriesChart] = CHARTS;

    fn new(scenario: &Scenario) -> Self {
        Rings {
            measures: Measures::new(),
            next_round: None,
            bootstrap_joins: 0,
            stabilize_every_joins: scenario.protocol_params.chord().map_or(0, |c| c.stabilize_every_joins as u64),
            stuck: BTreeMap::new(),
            protocol: PhantomData,
        }
    }

    fn bootstrap(&mut self, world: &mut World<P>, scenario: &Scenario) {
        let nodes = &scenario.nodes;
        match nodes.bootstrap {
            Bootstrap::Ideal => bootstrap::spawn_ideal(&mut world.sim, nodes, &mut world.streams.bootstrap),
            Bootstrap::Joins => {
                let schedule = crate::runner::join_schedule(
                    nodes.initial as usize,
                    nodes.join_interval_start_ms,
                    nodes.join_interval_ms,
                );
                world.actions.extend(schedule.into_iter().map(|at| (at, Action::BootstrapJoin)));
            }
        }
        if scenario.workload.keys > 0 {
            self.measures.keys = Some(keys::KeyStore::new(&world.sim, scenario.workload.keys, scenario.seed));
        }
    }

    fn bootstrap_join(&mut self, world: &mut World<P>, scenario: &Scenario, at: SimTime, next_join: Option<SimTime>) {
        let streams = &mut world.streams;
        let joined =
            bootstrap::bootstrap_join(&mut world.sim, &mut streams.bootstrap, &mut streams.contact, &scenario.nodes);
        // The first peer starts the ring; it is no join.
        self.bootstrap_joins += u64::from(joined);
        let every = self.stabilize_every_joins;
        if joined && every > 0 && self.bootstrap_joins % every == 0 {
            // Halfway to the next join: the s-th join has its successor by
            // then unless messages are slow.
            let next_join = next_join.unwrap_or(at + SimTime::from_millis_f64(scenario.nodes.join_interval_ms));
            self.next_round = Some(at + SimTime((next_join.0 - at.0) / 2));
        }
    }

    fn next_own_step(&self) -> Option<SimTime> {
        self.next_round
    }

    fn own_step(&mut self, world: &mut World<P>) {
        self.next_round = None;
        bootstrap::stabilization_round(&mut world.sim);
    }

    fn workload(scenario: &Scenario) -> (f64, f64) {
        (scenario.workload.lookups_per_s, scenario.workload.start_s)
    }

    /// One lookup event: a random key looked up from two random members.
    fn workload_event(&mut self, world: &mut World<P>, _at: SimTime) {
        use sim_core::rng::Draw;
        let sim = &mut world.sim;
        let key = match &self.measures.keys {
            Some(store) => store.pick(&mut world.streams.workload),
            None => sim.space().from_uniform(world.streams.workload.next_word()),
        };
        let first = sim.random_alive(&mut world.streams.origin, |p| p.is_member());
        let second = sim.random_alive(&mut world.streams.origin, |p| p.is_member());
        if let (Some(a), Some(b)) = (first, second) {
            let pair = self.measures.issue_pair();
            sim.request(a, P::lookup_request(pair * 2, key));
            sim.request(b, P::lookup_request(pair * 2 + 1, key));
        }
    }

    fn collect(&mut self, sim: &mut Simulation<P>) {
        self.measures.reports.extend(sim.drain_reports().filter_map(|(_, _, report)| P::lookup_outcome(&report)));
    }

    fn perform(&mut self, world: &mut World<P>, action: &EventAction) {
        let sim = &mut world.sim;
        match action {
            &EventAction::Kick { count, across } => {
                let contact_rng = &mut world.streams.contact;
                for _ in 0..count {
                    let Some(node) = sim.random_alive(contact_rng, |p| p.is_member()) else { break };
                    // Across: a member the node's successor pointers never reach.
                    let own = if across { bootstrap::successor_cycle(sim, node) } else { BTreeSet::from([node]) };
                    let other = sim.random_alive_where(contact_rng, |n, p| !own.contains(&n) && p.is_member());
                    if let Some(request) = other.and_then(|o| P::kick_request(sim.peer(o))) {
                        sim.request(node, request);
                    }
                }
            }
            EventAction::StopStabilization => P::control(sim.protocol_config_mut(), Control::StopStabilization),
            EventAction::StartStabilization => P::control(sim.protocol_config_mut(), Control::StartStabilization),
            _ => {}
        }
    }

    fn on_action(&mut self, sim: &Simulation<P>, action: &EventAction, at: SimTime) {
        self.measures.on_action(sim, action, at);
    }

    fn tally(&mut self, sim: &Simulation<P>) {
        self.measures.tally(sim);
    }

    fn before_sample(&mut self, world: &mut World<P>, scenario: &Scenario) {
        if let Some(after_s) = scenario.nodes.rejoin_after_s {
            bootstrap::bootstrap_service(
                &mut world.sim,
                &mut self.stuck,
                SimTime::from_secs_f64(after_s),
                scenario.protocol_params.successor_list(),
                &mut world.streams.contact,
            );
        }
    }

    fn sample(&mut self, sim: &Simulation<P>, at: SimTime) -> bool {
        self.measures.sample(sim, at)
    }

    fn snapshot(&self, sim: &Simulation<P>, name: &str, at: SimTime) -> Option<RingPicture> {
        Some(snapshot::picture(sim, name, at))
    }

    fn tables(self, scenario: &Scenario, sim: &Simulation<P>) -> (Table, Table, Table) {
        let summary = self.measures.summary(scenario, sim);
        let hops = self.measures.hops_table();
        (summary, self.measures.timeseries, hops)
    }
}

/// Runs a scenario with ring protocol `P` (the family's shorthand for
/// [`crate::runner::run`]).
pub fn run<P: RingProtocol>(
    scenario: &Scenario,
    protocol_config: P::Config,
    trace: Option<sim_core::trace::TraceWriter>,
    progress: &mut dyn crate::runner::Progress,
) -> crate::runner::RunResult {
    crate::runner::run::<Rings<P>>(scenario, protocol_config, trace, progress)
}
