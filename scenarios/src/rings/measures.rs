//! What a ring run measures: lookups (failed, wrong, inconsistent pairs,
//! hops), the oracle's key consistency and ring shape at every sample, the
//! merge clock from a heal or kick to one perfect ring, and the one row of
//! `summary.csv`.

use super::keys::KeyStore;
use super::oracle;
use crate::config::{EventAction, Scenario};
use crate::runner::{Table, format_secs};
use protocols::{LookupOutcome, RingProtocol};
use sim_core::{Message, Peer, Protocol, SimTime, Simulation};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LookupTotals {
    lookups: u64,
    failed: u64,
    wrong: u64,
    inconsistent_pairs: u64,
    pairs: u64,
    answered: u64,
    hops: u64,
    timeouts: u64,
    latency_us: u64,
    /// Lookups for a stored key whose holder crashed.
    lost_key: u64,
    /// Answered lookups for a key not lost that named another node than
    /// the key's true successor.
    wrong_node: u64,
    /// Lookups that waited out at least one timeout.
    with_timeout: u64,
    /// Lookups with no answer, a timeout, or a wrong node: SIGCOMM 2001
    /// Fig. 12's failed lookups.
    unsuccessful: u64,
    /// Lookups by timeouts waited out: 1, 2, 3 or more.
    timeouts_histogram: [u64; 3],
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
#[derive(Debug)]
pub(super) struct Measures {
    pub(super) timeseries: Table,
    totals: LookupTotals,
    /// The totals, messages and time at the last sample.
    at_last_sample: (LookupTotals, u64, SimTime),
    hops_histogram: BTreeMap<u32, u64>,
    pairs: BTreeMap<u64, PendingPair>,
    next_pair: u64,
    pub(super) reports: Vec<LookupOutcome>,
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
    /// The key store, when the workload has one.
    pub(super) keys: Option<KeyStore>,
}

impl Measures {
    pub(super) fn new() -> Self {
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
            keys: None,
        }
    }

    /// A heal or kick starts the merge clock; a new cut stops it.
    pub(super) fn on_action<P: RingProtocol>(&mut self, sim: &Simulation<P>, action: &EventAction, at: SimTime) {
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
    pub(super) fn tally<P: RingProtocol>(&mut self, sim: &Simulation<P>) {
        let totals = &mut self.totals;
        for outcome in self.reports.drain(..) {
            totals.lookups += 1;
            totals.timeouts += outcome.timeouts as u64;
            let lost = self.keys.as_mut().is_some_and(|store| store.is_lost(sim, outcome.key));
            totals.lost_key += u64::from(lost);
            totals.with_timeout += u64::from(outcome.timeouts > 0);
            if outcome.timeouts > 0 {
                totals.timeouts_histogram[(outcome.timeouts.min(3) - 1) as usize] += 1;
            }
            let wrong = outcome.result.is_some_and(|r| oracle::true_successor(sim, outcome.key) != Some(r.node));
            totals.unsuccessful += u64::from(outcome.result.is_none() || outcome.timeouts > 0 || wrong);
            if outcome.result.is_none() {
                totals.failed += 1;
            } else {
                totals.answered += 1;
                totals.hops += outcome.hops as u64;
                totals.latency_us += outcome.latency.0;
                *self.hops_histogram.entry(outcome.hops).or_default() += 1;
                totals.wrong += u64::from(wrong);
                totals.wrong_node += u64::from(wrong && !lost);
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

    /// One oracle sample: a time-series row and the merge clock. Returns
    /// whether the ring is settled: one perfect ring, no inconsistent key.
    pub(super) fn sample<P: RingProtocol>(&mut self, sim: &Simulation<P>, at: SimTime) -> bool {
        if let Some(store) = &mut self.keys {
            store.hand_over(sim);
        }
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
        perfect && consistency.inconsistent_fraction == 0.0
    }

    /// A lookup pair issued now: its number (the tags of its two lookups
    /// are twice it and one more).
    pub(super) fn issue_pair(&mut self) -> u64 {
        let pair = self.next_pair;
        self.next_pair += 1;
        self.pairs.insert(pair, PendingPair { first: None });
        self.totals.pairs += 1;
        pair
    }

    /// hops.csv: hops → lookups answered after that many.
    pub(super) fn hops_table(&self) -> Table {
        let mut hops = Table::new(&["hops", "lookups"]);
        hops.rows = self.hops_histogram.iter().map(|(h, n)| vec![h.to_string(), n.to_string()]).collect();
        hops
    }

    /// The one row of `summary.csv`.
    pub(super) fn summary<P: RingProtocol>(&self, scenario: &Scenario, sim: &Simulation<P>) -> Table {
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
        let (stored, lost) = self.keys.as_ref().map_or((0, 0), KeyStore::counts);
        summary_row.extend([
            self.totals.lost_key.to_string(),
            self.totals.wrong_node.to_string(),
            stored.to_string(),
            lost.to_string(),
            self.totals.with_timeout.to_string(),
            self.totals.unsuccessful.to_string(),
        ]);
        summary_row.extend(self.totals.timeouts_histogram.iter().map(u64::to_string));
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
    "lookups_lost_key",
    "lookups_wrong_node",
    "keys_stored",
    "keys_lost",
    "lookups_with_timeout",
    "lookups_unsuccessful",
    "lookups_timeouts_1",
    "lookups_timeouts_2",
    "lookups_timeouts_3_or_more",
];
