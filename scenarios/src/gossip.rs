//! The gossip family: flat push-pull dissemination
//! ([`protocols::gossip`]), a family that is not a ring.
//!
//! What a gossip run is, beyond the engine's verbs:
//! - **population**: every node starts with a uniformly random view of
//!   `view_size` others (an ideal bootstrap, as a peer-sampling service
//!   would give), or joins one by one through a random member;
//! - **workload**: `workload.updates_per_s` updates (a Poisson process),
//!   each published at a random live node with the next version number;
//! - **metric**: for each update, the rounds until every node that was
//!   there when it was published, and still lives, holds it or a newer one
//!   (the last such node's first time at or past it, minus the
//!   publication, over the round period; a node that joins later gets the
//!   newest version at its first exchange); the hops each node's
//!   version travelled (`hops.csv`); the share of live nodes with the
//!   newest version at every sample;
//! - **invariants** (`check`): no node holds a version nobody published,
//!   no node's version goes down, no view holds its node or a peer twice;
//!   settled is every live node holding the same version (anti-entropy's
//!   convergence; an update whose only holders crashed is gone for good,
//!   which the fault model allows and `updates_complete` shows).
//!
//! The runner, the sweeps, `check` and `figures` drive it through the same
//! [`Family`] seam as the rings; no ring code knows of it.

use crate::check::{Invariants, at_most_twelve};
use crate::config::{Bootstrap, EventAction, ProtocolParams, Scenario};
use crate::runner::{Action, Family, Table, TimeseriesChart, World, format_secs, initial_peers, join_schedule};
use protocols::gossip::{Gossip, GossipConfig, GossipRequest, Learned};
use sim_core::rng::Draw;
use sim_core::{Message, NodeId, Peer, Protocol, SimTime, Simulation};
use std::collections::BTreeMap;

/// The protocol's configuration from a scenario's `[protocol_params]`.
pub fn config(scenario: &Scenario) -> GossipConfig {
    let ProtocolParams::Gossip(params) = &scenario.protocol_params else { return GossipConfig::default() };
    GossipConfig {
        round: SimTime::from_millis_f64(params.round_ms).max(SimTime(1)),
        view_size: params.view_size,
        sample_size: params.sample_size,
        randomized_timers: params.randomized_timers,
        canary_invent_version: params.canary_invent_version,
    }
}

/// One published update (version k + 1 is the k-th).
#[derive(Clone, Copy, Debug)]
struct Update {
    published_at: SimTime,
    /// Nodes created before it (arena handles below this): those it must reach.
    population: u32,
    /// When the last live node first held it (or a newer one), once every
    /// live node does.
    reached_all_at: Option<SimTime>,
}

/// One run of flat gossip: its measures.
#[derive(Debug)]
pub struct GossipRun {
    round: SimTime,
    updates: Vec<Update>,
    /// The oldest update not yet at every live node (an index into `updates`).
    first_pending: usize,
    /// Per node: (version, when) each time its version grew, oldest first;
    /// entries below the oldest pending update are dropped.
    learned: Vec<Vec<(u32, SimTime)>>,
    hops: BTreeMap<u32, u64>,
    timeseries: Table,
    /// Messages and time at the last sample.
    last_sample: (u64, SimTime),
    /// The bootstrap service's lonely nodes (a view short of full), since when.
    lonely: BTreeMap<NodeId, SimTime>,
}

const TIMESERIES_COLUMNS: &[&str] = &[
    "time_s",
    "alive_nodes",
    "updates",
    "updates_complete",
    "newest_version",
    "nodes_with_newest_fraction",
    "messages",
    "messages_per_s",
    "events",
];

const SUMMARY_COLUMNS: &[&str] = &[
    "scenario",
    "protocol",
    "seed",
    "nodes_initial",
    "duration_s",
    "alive_nodes",
    "joins",
    "crashes",
    "leaves",
    "updates",
    "updates_complete",
    "mean_rounds_to_all",
    "max_rounds_to_all",
    "mean_time_to_all_s",
    "mean_hops",
    "max_hops",
    "nodes_with_newest_fraction",
    "mean_view_size",
    "messages",
    "messages_per_node_per_round",
    "messages_lost",
    "messages_cut",
    "events",
];

const CHARTS: &[TimeseriesChart] = &[
    TimeseriesChart {
        title: "nodes holding the newest version",
        y_label: "Fraction of live nodes",
        curves: &[("nodes_with_newest_fraction", "holding the newest version")],
    },
    TimeseriesChart {
        title: "updates",
        y_label: "Updates",
        curves: &[("updates", "published"), ("updates_complete", "at every live node")],
    },
    TimeseriesChart { title: "population", y_label: "Nodes", curves: &[("alive_nodes", "alive")] },
    TimeseriesChart {
        title: "traffic",
        y_label: "Messages per second",
        curves: &[("messages_per_s", "messages sent per second (since the last sample)")],
    },
];

impl Family for GossipRun {
    type Node = Gossip;
    type Invariants = GossipInvariants;
    const CHARTS: &'static [TimeseriesChart] = CHARTS;

    fn new(scenario: &Scenario) -> Self {
        GossipRun {
            round: config(scenario).round,
            updates: Vec::new(),
            first_pending: 0,
            learned: Vec::new(),
            hops: BTreeMap::new(),
            timeseries: Table::new(TIMESERIES_COLUMNS),
            last_sample: (0, SimTime::ZERO),
            lonely: BTreeMap::new(),
        }
    }

    fn bootstrap(&mut self, world: &mut World<Gossip>, scenario: &Scenario) {
        let nodes = &scenario.nodes;
        match nodes.bootstrap {
            Bootstrap::Ideal => spawn_ideal(world, nodes),
            Bootstrap::Joins => {
                let schedule =
                    join_schedule(nodes.initial as usize, nodes.join_interval_start_ms, nodes.join_interval_ms);
                world.actions.extend(schedule.into_iter().map(|at| (at, Action::BootstrapJoin)));
            }
        }
    }

    fn bootstrap_join(&mut self, world: &mut World<Gossip>, _: &Scenario, _: SimTime, _: Option<SimTime>) {
        let contact = world.sim.random_alive(&mut world.streams.contact, |p| p.is_member());
        world.sim.spawn(contact);
    }

    fn workload(scenario: &Scenario) -> (f64, f64) {
        (scenario.workload.updates_per_s, scenario.workload.start_s)
    }

    /// Publishes the next version at a random live node.
    fn workload_event(&mut self, world: &mut World<Gossip>, at: SimTime) {
        let Some(origin) = world.sim.random_alive(&mut world.streams.origin, |p| p.is_member()) else { return };
        let version = u32::try_from(self.updates.len() + 1).expect("fewer than 2^32 updates (checked up front)");
        let population = world.sim.next_node_id().0;
        self.updates.push(Update { published_at: at, population, reached_all_at: None });
        world.sim.request(origin, GossipRequest::Publish { version });
    }

    fn collect(&mut self, sim: &mut Simulation<Gossip>) {
        for (at, node, Learned { version, hops }) in sim.drain_reports() {
            if self.learned.len() <= node.index() {
                self.learned.resize(node.index() + 1, Vec::new());
            }
            self.learned[node.index()].push((version, at));
            *self.hops.entry(hops).or_default() += 1;
        }
    }

    /// Gossip has no events of its own: the scenario checks refuse the
    /// ring's (`kick`, `stop_stabilization`, `start_stabilization`).
    fn perform(&mut self, _: &mut World<Gossip>, action: &EventAction) {
        debug_assert!(false, "`{}` reached a gossip run", action.kind());
    }

    fn tally(&mut self, _: &Simulation<Gossip>) {}

    /// `nodes.rejoin_after_s`: a node whose view has been short of full
    /// that long (it sees only what the node itself knows) gets a fresh
    /// random live node as its contact, and again every `rejoin_after_s`
    /// while it stays so.
    fn before_sample(&mut self, world: &mut World<Gossip>, scenario: &Scenario) {
        let Some(after_s) = scenario.nodes.rejoin_after_s else { return };
        let after = SimTime::from_secs_f64(after_s);
        let now = world.sim.now();
        let sim = &mut world.sim;
        // A view that stays short of full while enough nodes live: the node
        // sits in an island of the view graph (a joiner whose contact died;
        // a few nodes that only know each other), or knows nobody.
        let full = sim.protocol_config().view_size.min(sim.alive_count().saturating_sub(1));
        let mut alone: Vec<NodeId> =
            sim.alive_nodes().iter().copied().filter(|&n| sim.node(n).is_some_and(|p| p.view().len() < full)).collect();
        alone.sort_unstable();
        self.lonely.retain(|node, _| alone.binary_search(node).is_ok());
        for node in alone {
            let since = *self.lonely.entry(node).or_insert(now);
            if now.saturating_sub(since) < after {
                continue;
            }
            self.lonely.insert(node, now);
            if let Some(contact) = sim.random_alive_where(&mut world.streams.contact, |n, _| n != node) {
                let peer = sim.peer(contact);
                sim.request(node, GossipRequest::Contact { peer });
            }
        }
    }

    fn sample(&mut self, sim: &Simulation<Gossip>, at: SimTime) -> bool {
        self.settle_updates(sim);
        let (newest, with_newest) = newest_version(sim);
        let messages: u64 = sim.message_counts().iter().sum();
        let (previous_messages, previous_at) = self.last_sample;
        let elapsed_s = (at - previous_at).as_secs_f64().max(1e-9);
        self.timeseries.rows.push(vec![
            format_secs(at),
            sim.alive_count().to_string(),
            self.updates.len().to_string(),
            self.first_pending.to_string(),
            newest.to_string(),
            fraction(with_newest, sim.alive_count()).to_string(),
            (messages - previous_messages).to_string(),
            format!("{:.3}", (messages - previous_messages) as f64 / elapsed_s),
            sim.counters().events.to_string(),
        ]);
        self.last_sample = (messages, at);
        with_newest == sim.alive_count()
    }

    fn tables(mut self, scenario: &Scenario, sim: &Simulation<Gossip>) -> (Table, Table, Table) {
        self.settle_updates(sim);
        let summary = self.summary(scenario, sim);
        let mut hops = Table::new(&["hops", "nodes"]);
        hops.rows = self.hops.iter().map(|(h, n)| vec![h.to_string(), n.to_string()]).collect();
        (summary, self.timeseries, hops)
    }
}

impl GossipRun {
    /// Marks the updates that every live node of their time now holds (or
    /// a newer one), oldest first, with the time the last of them first did.
    fn settle_updates(&mut self, sim: &Simulation<Gossip>) {
        let mut alive: Vec<NodeId> = sim.alive_nodes().to_vec();
        alive.sort_unstable();
        while let Some(update) = self.updates.get(self.first_pending) {
            let version = self.first_pending as u32 + 1;
            let mut last = update.published_at;
            for &node in alive.iter().take_while(|n| n.0 < update.population) {
                let first = self.learned.get(node.index()).and_then(|l| l.iter().find(|(v, _)| *v >= version));
                match first {
                    Some(&(_, at)) => last = last.max(at),
                    None => return,
                }
            }
            self.updates[self.first_pending].reached_all_at = Some(last);
            self.first_pending += 1;
            let next = version + 1;
            for list in &mut self.learned {
                // Keep the first entry at or past the next update.
                let keep_from = list.iter().position(|(v, _)| *v >= next).unwrap_or(list.len());
                list.drain(..keep_from);
            }
        }
    }

    fn summary(&self, scenario: &Scenario, sim: &Simulation<Gossip>) -> Table {
        let spreads: Vec<f64> = self
            .updates
            .iter()
            .filter_map(|u| u.reached_all_at.map(|at| (at - u.published_at).as_secs_f64()))
            .collect();
        let round_s = self.round.as_secs_f64();
        let mean = |values: &[f64]| (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
        let max = |values: &[f64]| values.iter().copied().reduce(f64::max);
        let blank_or = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.4}"));
        let learned: u64 = self.hops.values().sum();
        let hop_sum: u64 = self.hops.iter().map(|(h, n)| u64::from(*h) * n).sum();
        let (_, with_newest) = newest_version(sim);
        let views: usize = sim.alive_nodes().iter().filter_map(|&n| sim.node(n)).map(|p| p.view().len()).sum();
        let messages: u64 = sim.message_counts().iter().sum();
        let node_rounds = scenario.nodes.initial as f64 * scenario.duration_s / round_s;
        let counters = sim.counters();
        let network = &sim.network().counters;
        let mut header: Vec<String> = SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect();
        let mut row: Vec<String> = vec![
            scenario.name.clone(),
            scenario.protocol.name().to_string(),
            scenario.seed.to_string(),
            scenario.nodes.initial.to_string(),
            scenario.duration_s.to_string(),
            sim.alive_count().to_string(),
            counters.joins.to_string(),
            counters.crashes.to_string(),
            counters.leaves.to_string(),
            self.updates.len().to_string(),
            self.first_pending.to_string(),
            blank_or(mean(&spreads).map(|s| s / round_s)),
            blank_or(max(&spreads).map(|s| s / round_s)),
            blank_or(mean(&spreads)),
            format!("{:.4}", if learned == 0 { 0.0 } else { hop_sum as f64 / learned as f64 }),
            self.hops.keys().next_back().copied().unwrap_or(0).to_string(),
            fraction(with_newest, sim.alive_count()).to_string(),
            format!("{:.3}", fraction(views, sim.alive_count())),
            messages.to_string(),
            format!("{:.4}", if node_rounds > 0.0 { messages as f64 / node_rounds } else { 0.0 }),
            network.lost.to_string(),
            network.cut.to_string(),
            counters.events.to_string(),
        ];
        for (kind, count) in <Gossip as Protocol>::Message::KINDS.iter().zip(sim.message_counts()) {
            header.push(format!("messages_{kind}"));
            row.push(count.to_string());
        }
        header.push("digest".into());
        row.push(sim.digest().hex());
        Table { header, rows: vec![row] }
    }
}

fn fraction(part: usize, whole: usize) -> f64 {
    if whole == 0 { 1.0 } else { part as f64 / whole as f64 }
}

/// The newest version a live node holds, and how many live nodes hold it.
fn newest_version(sim: &Simulation<Gossip>) -> (u32, usize) {
    let versions = || sim.alive_nodes().iter().filter_map(|&n| sim.node(n)).map(Gossip::version);
    let newest = versions().max().unwrap_or(0);
    (newest, versions().filter(|&v| v == newest).count())
}

/// Every initial node with a view of `view_size` others drawn uniformly
/// (from the bootstrap stream).
fn spawn_ideal(world: &mut World<Gossip>, nodes: &crate::config::Nodes) {
    let sim = &mut world.sim;
    let initial = nodes.initial as usize;
    let (ids, peers) = initial_peers(sim, nodes);
    let view_size = sim.protocol_config().view_size.min(initial.saturating_sub(1));
    let rng = &mut world.streams.bootstrap;
    let views: Vec<Vec<Peer>> = (0..initial)
        .map(|k| {
            // view_size distinct others: draw from the n - 1 others by index.
            let mut chosen: Vec<usize> = Vec::with_capacity(view_size);
            while chosen.len() < view_size {
                let mut other = rng.below(initial as u64 - 1) as usize;
                if other >= k {
                    other += 1;
                }
                if !chosen.contains(&other) {
                    chosen.push(other);
                }
            }
            chosen.into_iter().map(|i| peers[i]).collect()
        })
        .collect();
    sim.spawn_all_with(&ids, 0, |k, me, config| Gossip::with_view(me, &views[k], config));
}

/// What `check` holds a gossip run to (see the module essay).
#[derive(Debug, Default)]
pub struct GossipInvariants {
    /// Each node's version when it was last checked.
    versions: Vec<u32>,
    /// The newest version any node has held.
    newest: u32,
    /// Client requests made when the newest version appeared.
    requests_at_newest: u64,
}

impl Invariants<Gossip> for GossipInvariants {
    const SETTLED: &'static str = "every live node holding the same version";

    fn new(_: &Scenario) -> Self {
        GossipInvariants::default()
    }

    fn observe(&mut self, _: &Simulation<Gossip>) {}

    fn check_node(&mut self, sim: &Simulation<Gossip>, node: NodeId, fail: &mut dyn FnMut(&'static str, String)) {
        let Some(state) = sim.node(node) else { return };
        let index = node.index();
        if self.versions.len() <= index {
            self.versions.resize(index + 1, 0);
        }
        let version = state.version();
        // A version newer than every one seen appears only by a client's
        // publish: the next number, one per request.
        let requests = sim.counters().requests;
        if version > self.newest {
            if version != self.newest + 1 || requests == self.requests_at_newest {
                fail(
                    "no invented update",
                    format!("n{} holds version {version}; the newest published before was {}", node.0, self.newest),
                );
            }
            self.newest = version;
            self.requests_at_newest = requests;
        }
        if version < self.versions[index] {
            fail("monotone versions", format!("n{}'s version went from {} to {version}", node.0, self.versions[index]));
        }
        self.versions[index] = version;
        let view = state.view();
        if view.iter().any(|p| p.node == node) {
            fail("view", format!("n{}'s view holds itself", node.0));
        }
        if let Some(twice) = view.iter().enumerate().find(|(i, p)| view[..*i].iter().any(|q| q.node == p.node)) {
            fail("view", format!("n{}'s view holds n{} twice", node.0, twice.1.node.0));
        }
    }

    fn pending(sim: &Simulation<Gossip>) -> Vec<String> {
        let (newest, _) = newest_version(sim);
        let lines = sim
            .ring()
            .values()
            .filter_map(|&n| sim.node(n).map(|p| (n, p)))
            .filter(|(_, p)| p.version() < newest)
            .map(|(n, p)| {
                format!("n{} has version {} of {newest} ({} peers in its view)", n.0, p.version(), p.view().len())
            })
            .collect();
        at_most_twelve(lines)
    }
}
