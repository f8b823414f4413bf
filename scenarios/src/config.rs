//! Scenario files: TOML read into typed, validated structs.
//!
//! [`load`] and [`parse`] turn a scenario file, plus `--set key.path=value`
//! overrides, into a [`Scenario`]. Every table rejects unknown keys, every
//! number is range-checked, and every failure is one [`ConfigError`] line
//! that names the file, the line and column, and the dotted key, e.g.
//! `quickstart.toml:12:1: churn.crashes_per_s: must be >= 0, got -0.5`. An
//! error about a value that came from an override names the `--set`
//! argument instead of a line. Nothing here panics, whatever the input.
//!
//! How: the text is parsed into a `toml::Table`, the overrides are applied
//! onto it, serde (wrapped by `serde_path_to_error` for the key path) reads
//! the raw structs, and `build` validates them and fills in the defaults. A
//! second, spanned parse of the text maps a key path back to its line.

mod build;
mod overrides;
mod path;
mod raw;
mod spans;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::Deserialize;
use sim_core::churn::{ChurnConfig, SessionTime};
use sim_core::detector::DetectorConfig;
use sim_core::network::{Latency, NetworkConfig};
use sim_core::{IdSpace, RingId, SimConfig, SimTime};

pub use overrides::apply_override;

use path::KeyPath;
use spans::SpanIndex;

/// A parsed and validated scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `name`: a short non-empty name.
    pub name: String,
    /// `description`: free text.
    pub description: Option<String>,
    /// `protocol`: which overlay runs.
    pub protocol: ProtocolName,
    /// `seed`: the one seed of the run [1].
    pub seed: u64,
    /// `duration_s`: simulated seconds, > 0.
    pub duration_s: f64,
    /// `sample_every_s`: seconds between metric samples, > 0 [1].
    pub sample_every_s: f64,
    /// `[nodes]`: the initial population.
    pub nodes: Nodes,
    /// `[ring]`: the identifier space.
    pub ring: Ring,
    /// `[protocol_params]`, decoded for `protocol`.
    pub protocol_params: ProtocolParams,
    /// `[network]`: latency and loss.
    pub network: NetworkSpec,
    /// `[detector]`: the failure-detector model.
    pub detector: DetectorSpec,
    /// `[churn]`: Poisson churn and session times.
    pub churn: ChurnSpec,
    /// `[workload]`: the lookup load.
    pub workload: WorkloadSpec,
    /// `[[events]]`: scheduled faults, in file order (not sorted by time).
    pub events: Vec<EventSpec>,
    /// `[output]`: what to write besides the metrics.
    pub output: OutputSpec,
    /// Online checks (`overlaysim check` sets them; no scenario key).
    pub check: Option<CheckSettings>,
    /// `[merge]`: the ring-unification layer (chord and relaxed_ring), off
    /// when the table is absent or has `enabled = false`.
    pub merge: Option<MergeSpec>,
}

/// What `overlaysim check` asks of a run (no scenario key sets it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckSettings {
    /// One perfect ring with no inconsistent key within this many seconds
    /// of the last `stop_faults`.
    pub converge_within_s: f64,
    /// Record the fault schedule (for shrinking).
    pub record: bool,
}

/// `[merge]`: ring unification after partitions (Shafaat et al. 2007/2009).
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSpec {
    /// `fanout`: F, extra mlookups per trymerge; 0 = simple ring
    /// unification, 1..=64 = gossip-based [0].
    pub fanout: u8,
    /// `gossip_budget`: generations of gossip per detection, 0..=255 [16].
    pub gossip_budget: u8,
    /// `ping_every_s`: period of the passive-list pings and the loop check, > 0 [1].
    pub ping_every_s: f64,
    /// `passive_capacity`: suspected peers remembered per node, 1..=1024 [16].
    pub passive_capacity: usize,
    /// `passive_keep_s`: how long a suspected peer stays on the passive list, > 0 [600].
    pub passive_keep_s: f64,
    /// `loop_check`: a finger between a node and its successor counts as a
    /// detection (repairs loopy rings) [true].
    pub loop_check: bool,
}

impl Default for MergeSpec {
    fn default() -> Self {
        MergeSpec {
            fanout: 0,
            gossip_budget: 16,
            ping_every_s: 1.0,
            passive_capacity: 16,
            passive_keep_s: 600.0,
            loop_check: true,
        }
    }
}

impl Scenario {
    /// The identifier space of `[ring]`.
    pub fn id_space(&self) -> IdSpace {
        self.ring.id_space
    }

    /// The run length as simulated time.
    pub fn duration(&self) -> SimTime {
        SimTime::from_secs_f64(self.duration_s)
    }

    /// The sampling period as simulated time (at least one microsecond).
    pub fn sample_every(&self) -> SimTime {
        SimTime::from_secs_f64(self.sample_every_s).max(SimTime(1))
    }

    /// The engine configuration: seed, id space, network, detector, churn.
    pub fn sim_config(&self) -> SimConfig {
        SimConfig {
            seed: self.seed,
            space: self.id_space(),
            network: self.network.to_config(),
            detector: self.detector.to_config(),
            churn: self.churn.to_config(),
        }
    }
}

/// The overlay protocols a scenario can name (`protocol = "..."`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolName {
    /// Chord (Stoica et al.), with successor lists.
    Chord,
    /// The relaxed ring (Mejías and Van Roy).
    RelaxedRing,
    /// DKS (Distributed k-ary System).
    Dks,
    /// PALTA.
    Palta,
    /// Flat push-pull gossip dissemination (no ring).
    Gossip,
}

impl ProtocolName {
    /// Every protocol, in schema order.
    pub const ALL: [ProtocolName; 5] =
        [ProtocolName::Chord, ProtocolName::RelaxedRing, ProtocolName::Dks, ProtocolName::Palta, ProtocolName::Gossip];

    /// The snake_case name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolName::Chord => "chord",
            ProtocolName::RelaxedRing => "relaxed_ring",
            ProtocolName::Dks => "dks",
            ProtocolName::Palta => "palta",
            ProtocolName::Gossip => "gossip",
        }
    }

    /// Whether the protocol is a ring (the ring family's keys and events
    /// apply to it).
    pub fn is_ring(self) -> bool {
        !matches!(self, ProtocolName::Gossip)
    }
}

impl fmt::Display for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[nodes]`: the initial population and how it is built.
#[derive(Clone, Debug, PartialEq)]
pub struct Nodes {
    /// `initial`: how many nodes, 1..=10_000_000 (required).
    pub initial: u32,
    /// `bootstrap`: how the initial ring is formed ["ideal"].
    pub bootstrap: Bootstrap,
    /// `join_interval_ms`: the gap between joins when bootstrapping by joins, >= 0 [100].
    pub join_interval_ms: f64,
    /// `join_interval_start_ms`: the first gap; each gap halves until it
    /// reaches `join_interval_ms` (the PPL 2008 schedule: 640 ms, halving,
    /// then 10 ms) [none: constant gaps].
    pub join_interval_start_ms: Option<f64>,
    /// `connectivity`: the probability that a joiner can reach its
    /// predecessor, per link or per direction (`connectivity_per`); a link
    /// that fails is cut both ways, in [0, 1] [1].
    pub connectivity: f64,
    /// `connectivity_per`: what one draw of `connectivity` decides ["link"].
    pub connectivity_per: ConnectivityPer,
    /// `join_via`: how a joiner finds its contact ["random"].
    pub join_via: JoinVia,
    /// `loops`: with an ideal bootstrap, successor pointers that go around
    /// the identifier space this many times (a loopy ring), 1..=16, at most
    /// initial / 2 [1].
    pub loops: u32,
    /// `rings`: with an ideal bootstrap, build this many separate rings,
    /// each node in a random one, that know nothing of each other (overlays
    /// built apart, to be merged by a `kick`), 1..=64 [1].
    pub rings: u16,
    /// `rejoin_after_s`: a bootstrap service: a node still joining this
    /// long (its contact may be gone), or a member left alone on a ring of
    /// its own while others live, is given a fresh random member as its
    /// contact, and again every `rejoin_after_s` while it stays so; the
    /// alone member needs `[merge]` to use it. With gossip: a node whose
    /// view stays short of full. > 0 [none: no service].
    pub rejoin_after_s: Option<f64>,
    /// `ids`: the initial nodes' ring identifiers, as strings ("0x…" or
    /// decimal), `initial` of them (ideal bootstrap only; a recorded
    /// schedule replayed) [drawn from the seed].
    pub ids: Option<Vec<RingId>>,
}

/// A joiner's contact (`nodes.join_via`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinVia {
    /// A random member: the join starts with a full lookup.
    Random,
    /// The closest member before the joiner's identifier that it can reach:
    /// a bootstrap service that places joiners at once, so that an
    /// experiment measures ring maintenance rather than routing (the PPL
    /// 2008 bootstrap).
    Nearest,
}

/// What one draw of `nodes.connectivity` decides (`nodes.connectivity_per`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityPer {
    /// One draw per joiner: with probability 1 − c the link to its
    /// predecessor is cut both ways.
    Link,
    /// One draw per direction: each way works with probability c, and a
    /// link that fails either way is cut both ways (the failure detector
    /// suspects it, and a connection needs both directions), so it is cut
    /// with probability 1 − c².
    Direction,
}

/// How the initial population is built (`nodes.bootstrap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bootstrap {
    /// Every node starts with correct routing state.
    Ideal,
    /// Nodes join one by one through the protocol, `join_interval_ms` apart.
    Joins,
}

/// `[ring]`: the identifier space.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ring {
    /// `id_space`: an integer modulus >= 2 or `"2^m"`, 1 <= m <= 64 ["2^64"].
    pub id_space: IdSpace,
}

/// `[protocol_params]`, decoded for the scenario's protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum ProtocolParams {
    /// Chord's parameters.
    Chord(ChordParams),
    /// The relaxed ring's parameters.
    RelaxedRing(RelaxedRingParams),
    /// DKS's parameters.
    Dks(DksParams),
    /// PALTA's parameters.
    Palta(PaltaParams),
    /// Flat gossip's parameters.
    Gossip(GossipParams),
}

/// Flat gossip's `[protocol_params]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GossipParams {
    /// `round_ms`: the period of a node's gossip round, > 0 [1000].
    pub round_ms: f64,
    /// `view_size`: the most peers a node's partial view holds, 1..=1000 [20].
    pub view_size: usize,
    /// `sample_size`: peers sent with each exchange, the sender included, 1..=4 [4].
    pub sample_size: usize,
    /// `randomized_timers`: jitter the rounds [true].
    pub randomized_timers: bool,
    /// `canary_invent_version`: plant a known bug that `overlaysim check`
    /// must catch: a node answering an exchange claims a version one newer
    /// than it has [false].
    pub canary_invent_version: bool,
}

impl Default for GossipParams {
    fn default() -> Self {
        GossipParams {
            round_ms: 1000.0,
            view_size: 20,
            sample_size: 4,
            randomized_timers: true,
            canary_invent_version: false,
        }
    }
}

/// DKS's `[protocol_params]` (routing and recovery keep the relaxed ring's
/// defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct DksParams {
    /// `lock_lease_ms`: a join lock not released by then is released, > 0 [5000].
    pub lock_lease_ms: f64,
}

impl Default for DksParams {
    fn default() -> Self {
        DksParams { lock_lease_ms: 5000.0 }
    }
}

/// PALTA's `[protocol_params]` (the relaxed ring beyond ω keeps its defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct PaltaParams {
    /// `omega`: the mesh size from which joiners join the relaxed ring, 2..=1000000 [100].
    pub omega: usize,
    /// `mesh_sync_every_s`: how often a mesh peer sends its member list to
    /// a random member, ≥ 0, 0 = never [1].
    pub mesh_sync_every_s: f64,
}

impl Default for PaltaParams {
    fn default() -> Self {
        PaltaParams { omega: 100, mesh_sync_every_s: 1.0 }
    }
}

impl ProtocolParams {
    /// The default parameters of `protocol` (what an absent table gives).
    pub fn defaults(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::Chord => ProtocolParams::Chord(ChordParams::default()),
            ProtocolName::RelaxedRing => ProtocolParams::RelaxedRing(RelaxedRingParams::default()),
            ProtocolName::Dks => ProtocolParams::Dks(DksParams::default()),
            ProtocolName::Palta => ProtocolParams::Palta(PaltaParams::default()),
            ProtocolName::Gossip => ProtocolParams::Gossip(GossipParams::default()),
        }
    }

    /// The successor-list length the protocol keeps when the ring is large
    /// enough (DKS and PALTA keep the relaxed ring's).
    pub fn successor_list(&self) -> usize {
        match self {
            ProtocolParams::Chord(params) => params.successor_list,
            ProtocolParams::RelaxedRing(params) => params.successor_list,
            ProtocolParams::Dks(_) | ProtocolParams::Palta(_) => RelaxedRingParams::default().successor_list,
            ProtocolParams::Gossip(_) => 0,
        }
    }

    /// Chord's parameters, if these are Chord's.
    pub fn chord(&self) -> Option<&ChordParams> {
        match self {
            ProtocolParams::Chord(params) => Some(params),
            _ => None,
        }
    }
}

/// Chord's `[protocol_params]`; a period of 0 means never.
#[derive(Clone, Debug, PartialEq)]
pub struct ChordParams {
    /// `successor_list`: successor-list length, 1..=64 [8].
    pub successor_list: usize,
    /// `fingers`: keep a finger table; false routes along successors only [true].
    pub fingers: bool,
    /// `route_via_successor_list`: with fingers, the next hop is the
    /// closest preceding node among the fingers and the whole successor
    /// list (ToN 2003 §IV-E, as its Tables II and III ran); false: the
    /// fingers and the first successor (SIGCOMM 2001 Fig. 4) [false].
    pub route_via_successor_list: bool,
    /// `stabilize_every_s`: stabilization period, >= 0 [1].
    pub stabilize_every_s: f64,
    /// `fix_fingers_every_s`: finger-repair period, >= 0 [1].
    pub fix_fingers_every_s: f64,
    /// `check_predecessor_every_s`: predecessor-check period, >= 0 [1].
    pub check_predecessor_every_s: f64,
    /// `lookup_timeout_ms`: per-hop timeout of a lookup, > 0 [500].
    pub lookup_timeout_ms: f64,
    /// `max_lookup_hops`: a lookup fails past this many hops, 1..=1024 [64].
    pub max_lookup_hops: u32,
    /// `randomized_timers`: jitter the periodic timers [true].
    pub randomized_timers: bool,
    /// `stabilize_every_joins`: during a bootstrap by joins, one
    /// stabilization round over all members after every s joins (the PPL
    /// 2008 Chord baseline); 0 = off [0]. A round starts halfway between
    /// the s-th join and the next one.
    pub stabilize_every_joins: u32,
    /// `alone_adopts_notifier`: a node that is its own successor takes the
    /// first peer that notifies it as successor at once; false waits for
    /// its own next stabilize, which takes its predecessor (SIGCOMM 2001
    /// Fig. 7 as written) [true].
    pub alone_adopts_notifier: bool,
    /// `join_copies_successor_list`: a joiner copies the successor list
    /// that comes with its join's answer (ToN 2003 §IV-E); false: it learns
    /// the rest from its first stabilize (SIGCOMM 2001 Fig. 6) [true].
    pub join_copies_successor_list: bool,
    /// `failure_detection`: how a node learns that a peer failed: the
    /// engine's failure detector (`detector`), or timeouts on its own
    /// messages (`timeouts`: get_predecessor, ping, lookups), as the papers'
    /// simulators did; such a suspicion lasts until the node's next
    /// stabilize ["detector"].
    pub failure_detection: FailureDetection,
    /// `probe_answer`: a lookup pings the node its answer names before it
    /// ends, and on a timeout takes the next entry of the answering node's
    /// successor list (the final-answer probe, ToN 2003 §V) [false].
    pub probe_answer: bool,
}

/// How a Chord node learns of failures (`protocol_params.chord.failure_detection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureDetection {
    /// The engine's failure detector: suspicions after the detection delay.
    Detector,
    /// Timeouts on the node's own messages.
    Timeouts,
}

/// The relaxed ring's `[protocol_params]`; a period of 0 means never.
#[derive(Clone, Debug, PartialEq)]
pub struct RelaxedRingParams {
    /// `successor_list`: successor-list length, 1..=64 [4].
    pub successor_list: usize,
    /// `fingers`: keep a finger table [true].
    pub fingers: bool,
    /// `fix_fingers_every_s`: finger-repair period, >= 0 [1].
    pub fix_fingers_every_s: f64,
    /// `lookup_timeout_ms`: a lookup attempt with no answer by then is
    /// routed again, > 0 [1000].
    pub lookup_timeout_ms: f64,
    /// `lookup_retries`: attempts after the first before a lookup fails,
    /// 0..=16 [2].
    pub lookup_retries: u8,
    /// `join_retry_ms`: pause before a join is retried, > 0 [1000].
    pub join_retry_ms: f64,
    /// `hint_after_ms`: hint a predecessor that did not acknowledge a join
    /// this long after it, >= 0, 0 = never [2000].
    pub hint_after_ms: f64,
    /// `max_route_hops`: a routed message is dropped past this, 1..=100000 [256].
    pub max_route_hops: u32,
    /// `randomized_timers`: jitter the periodic timers [true].
    pub randomized_timers: bool,
    /// `canary_keep_range_on_join`: plant a known bug that `overlaysim
    /// check` must catch: a peer lets a joiner in but keeps claiming the
    /// joiner's keys [false].
    pub canary_keep_range_on_join: bool,
}

impl Default for RelaxedRingParams {
    fn default() -> Self {
        RelaxedRingParams {
            successor_list: 4,
            fingers: true,
            fix_fingers_every_s: 1.0,
            lookup_timeout_ms: 1000.0,
            lookup_retries: 2,
            join_retry_ms: 1000.0,
            hint_after_ms: 2000.0,
            max_route_hops: 256,
            randomized_timers: true,
            canary_keep_range_on_join: false,
        }
    }
}

impl Default for ChordParams {
    fn default() -> Self {
        ChordParams {
            successor_list: 8,
            fingers: true,
            route_via_successor_list: false,
            stabilize_every_s: 1.0,
            fix_fingers_every_s: 1.0,
            check_predecessor_every_s: 1.0,
            lookup_timeout_ms: 500.0,
            max_lookup_hops: 64,
            randomized_timers: true,
            stabilize_every_joins: 0,
            alone_adopts_notifier: true,
            join_copies_successor_list: true,
            failure_detection: FailureDetection::Detector,
            probe_answer: false,
        }
    }
}

/// `[network]`: message latency and loss.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// `latency = { kind = ..., ... }` [uniform 10..100 ms].
    pub latency: Latency,
    /// `loss`: per-message loss probability in [0, 1] [0].
    pub loss: f64,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec { latency: Latency::Uniform { min_ms: 10.0, max_ms: 100.0 }, loss: 0.0 }
    }
}

impl NetworkSpec {
    /// The engine's network configuration.
    pub fn to_config(&self) -> NetworkConfig {
        NetworkConfig { latency: self.latency.clone(), loss: self.loss }
    }
}

/// `[detector]`: the failure-detector model, times in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorSpec {
    /// `detection_delay_ms`: crash-to-suspicion delay, >= 0 [500].
    pub detection_delay_ms: f64,
    /// `false_suspicions_per_link_per_hour`: false-suspicion rate, >= 0 [0].
    pub false_suspicions_per_link_per_hour: f64,
    /// `false_suspicion_mean_ms`: mean length of a false suspicion, > 0 [1000].
    pub false_suspicion_mean_ms: f64,
}

impl Default for DetectorSpec {
    fn default() -> Self {
        DetectorSpec {
            detection_delay_ms: 500.0,
            false_suspicions_per_link_per_hour: 0.0,
            false_suspicion_mean_ms: 1000.0,
        }
    }
}

impl DetectorSpec {
    /// The engine's detector configuration (milliseconds to `SimTime`).
    pub fn to_config(&self) -> DetectorConfig {
        DetectorConfig {
            detection_delay: SimTime::from_millis_f64(self.detection_delay_ms),
            false_suspicions_per_link_per_hour: self.false_suspicions_per_link_per_hour,
            false_suspicion_mean: SimTime::from_millis_f64(self.false_suspicion_mean_ms),
        }
    }
}

/// `[churn]`: Poisson joins, crashes and leaves, and session times.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChurnSpec {
    /// `joins_per_s`: system-wide join rate, >= 0 [0].
    pub joins_per_s: f64,
    /// `crashes_per_s`: system-wide crash rate, >= 0 [0].
    pub crashes_per_s: f64,
    /// `leaves_per_s`: system-wide graceful-leave rate, >= 0 [0].
    pub leaves_per_s: f64,
    /// `session = { kind = ..., ... }`: per-node session length [none].
    pub session: Option<SessionTime>,
    /// `session_leave_fraction`: probability a session ends gracefully, in [0, 1] [0].
    pub session_leave_fraction: f64,
}

impl ChurnSpec {
    /// The engine's churn configuration.
    pub fn to_config(&self) -> ChurnConfig {
        ChurnConfig {
            joins_per_s: self.joins_per_s,
            crashes_per_s: self.crashes_per_s,
            leaves_per_s: self.leaves_per_s,
            session: self.session.clone(),
            session_leave_fraction: self.session_leave_fraction,
        }
    }
}

/// `[workload]`: what clients ask of the overlay during the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkloadSpec {
    /// `lookups_per_s`: lookup events per second (each looks one key up
    /// from two nodes; rings only), >= 0 [0].
    pub lookups_per_s: f64,
    /// `updates_per_s`: updates published per second, each at a random
    /// node (gossip only), >= 0 [0].
    pub updates_per_s: f64,
    /// `keys`: a key store of this many keys, each held by its successor
    /// and handed on to the new successor while its holder lives, lost
    /// when its holder crashes (no replication, as in SIGCOMM 2001 Fig.
    /// 11); lookups then ask for these keys. 0 = no store, every lookup
    /// a fresh random key (rings only), 0..=10000000 [0].
    pub keys: u32,
    /// `start_when_stable`: the workload starts at the first sample at or
    /// after `start_s` at which the run has settled (rings: one perfect
    /// ring, every successor pointer right, no inconsistent key; gossip:
    /// every live node holding the same version) [false].
    pub start_when_stable: bool,
    /// `start_s`: when the workload starts, >= 0 [0].
    pub start_s: f64,
}

/// `[output]`: optional outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputSpec {
    /// `trace`: write a JSON-lines trace [false].
    pub trace: bool,
    /// `snapshot_at_s`: draw the ring at this instant (`ring.png`, `ring.svg`).
    pub snapshot_at_s: Option<f64>,
}

/// One `[[events]]` entry: a fault scheduled at `at_s`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSpec {
    /// `at_s`: when, in [0, duration_s].
    pub at_s: f64,
    /// `kind` and its fields.
    pub action: EventAction,
}

impl EventSpec {
    /// When, as simulated time.
    pub fn at(&self) -> SimTime {
        SimTime::from_secs_f64(self.at_s)
    }
}

/// What a scheduled event does, one variant per `kind`.
#[derive(Clone, Debug, PartialEq)]
pub enum EventAction {
    /// `crash_fraction`: crash this fraction of the live nodes, in (0, 1].
    CrashFraction {
        /// `fraction`, in (0, 1].
        fraction: f64,
    },
    /// `crash`: crash `count` random live nodes.
    Crash {
        /// `count`, >= 1.
        count: u32,
    },
    /// `join`: start `count` new nodes.
    Join {
        /// `count`, >= 1.
        count: u32,
    },
    /// `leave`: `count` random live nodes leave gracefully.
    Leave {
        /// `count`, >= 1.
        count: u32,
    },
    /// `partition`: split the nodes into `groups` and cut between them.
    Partition {
        /// `groups`, 2..=64 (with `assign = "lists"`: the lists plus one).
        groups: u16,
        /// `assign`: how nodes are put in groups ["random"].
        assign: PartitionAssign,
    },
    /// `kick`: `count` random members each get another random member as a
    /// contact to try (needs `[merge]`).
    Kick {
        /// `count`, >= 1 [1].
        count: u32,
        /// `across`: the contact is a member the node's own ring does not
        /// reach (a true merge); false: any other member, which may be on
        /// the same ring (a false detection) [true].
        across: bool,
    },
    /// `one_way_cut`: drop traffic from one group to another.
    OneWayCut {
        /// `from_group`, 0..=63.
        from_group: u16,
        /// `to_group`, 0..=63, not `from_group`.
        to_group: u16,
    },
    /// `heal`: remove every partition and cut.
    Heal,
    /// `set_loss`: change the message loss probability.
    SetLoss {
        /// `loss`, in [0, 1].
        loss: f64,
    },
    /// `stop_stabilization`: stop the protocol's periodic repair.
    StopStabilization,
    /// `start_stabilization`: resume the protocol's periodic repair.
    StartStabilization,
    /// `stop_churn`: stop the Poisson churn processes.
    StopChurn,
    /// `crash_ids`: crash the live nodes at these ring identifiers (a
    /// recorded schedule replayed; missing ones are skipped).
    CrashIds {
        /// `ids`: ring identifiers, as strings ("0x…" or decimal).
        ids: Vec<RingId>,
    },
    /// `leave_ids`: the live nodes at these identifiers leave gracefully.
    LeaveIds {
        /// `ids`: ring identifiers.
        ids: Vec<RingId>,
    },
    /// `join_ids`: new nodes join at these identifiers, through `via` if it
    /// is a live member, else through a random member.
    JoinIds {
        /// `ids`: ring identifiers.
        ids: Vec<RingId>,
        /// `via`: the contact's ring identifier [a random member].
        via: Option<RingId>,
    },
    /// `partition_ids`: list k (by ring identifier) is group k + 1, every
    /// other node group 0.
    PartitionIds {
        /// `lists`: lists of ring identifiers.
        lists: Vec<Vec<RingId>>,
    },
    /// `suspect`: `watcher` falsely suspects `peer` for `lasts_ms`.
    Suspect {
        /// `watcher`: a ring identifier.
        watcher: RingId,
        /// `peer`: a ring identifier.
        peer: RingId,
        /// `lasts_ms`, > 0.
        lasts_ms: f64,
    },
    /// `stop_faults`: every fault stops: churn, message loss, false
    /// suspicions, partitions (healed). `overlaysim check` expects
    /// convergence within `--converge-within` seconds of the last one.
    StopFaults,
}

impl EventAction {
    /// The `kind` string that names this action in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            EventAction::CrashFraction { .. } => "crash_fraction",
            EventAction::Crash { .. } => "crash",
            EventAction::Join { .. } => "join",
            EventAction::Leave { .. } => "leave",
            EventAction::Partition { .. } => "partition",
            EventAction::OneWayCut { .. } => "one_way_cut",
            EventAction::Heal => "heal",
            EventAction::SetLoss { .. } => "set_loss",
            EventAction::StopStabilization => "stop_stabilization",
            EventAction::StartStabilization => "start_stabilization",
            EventAction::StopChurn => "stop_churn",
            EventAction::StopFaults => "stop_faults",
            EventAction::CrashIds { .. } => "crash_ids",
            EventAction::LeaveIds { .. } => "leave_ids",
            EventAction::JoinIds { .. } => "join_ids",
            EventAction::PartitionIds { .. } => "partition_ids",
            EventAction::Suspect { .. } => "suspect",
            EventAction::Kick { .. } => "kick",
        }
    }
}

/// How a partition assigns nodes to groups.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PartitionAssign {
    /// Each node to a uniformly random group.
    Random,
    /// Contiguous identifier ranges, one per group.
    Ranges,
    /// Given lists of nodes (by creation index, 0 for the first node):
    /// list k is group k + 1; every node not listed is in group 0.
    Lists(Vec<Vec<u32>>),
}

/// `assign` as written in a scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AssignName {
    Random,
    Ranges,
    Lists,
}

/// A scenario that could not be loaded, as one line of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The whole message, without an `error: ` prefix, on one line.
    pub message: String,
}

impl ConfigError {
    /// Wraps a message, escaping control characters so it stays one line.
    fn new(message: impl AsRef<str>) -> Self {
        let mut line = String::new();
        for c in message.as_ref().chars() {
            if c.is_control() {
                line.extend(c.escape_default());
            } else {
                line.push(c);
            }
        }
        ConfigError { message: line }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads and validates the scenario file at `path`, then applies the
/// `--set` overrides (`key.path=value`, value in TOML syntax).
pub fn load(path: &std::path::Path, overrides: &[String]) -> Result<Scenario, ConfigError> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ConfigError::new(format!("{source}: cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        // The valid prefix is text: count lines and columns in it.
        let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
        let (line, column) = spans::line_col(prefix, valid);
        ConfigError::new(format!("{source}:{line}:{column}: not valid UTF-8"))
    })?;
    parse(&source, &text, overrides)
}

/// Parses and validates scenario `text` (named `source_name` in messages),
/// then applies the `--set` overrides.
pub fn parse(source_name: &str, text: &str, overrides: &[String]) -> Result<Scenario, ConfigError> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| {
        let head = match e.span() {
            Some(span) => {
                let (line, column) = spans::line_col(text, span.start);
                format!("{source_name}:{line}:{column}")
            }
            None => source_name.to_owned(),
        };
        ConfigError::new(format!("{head}: {}", e.message()))
    })?;
    let mut applied = Vec::with_capacity(overrides.len());
    for assignment in overrides {
        let path = overrides::apply(&mut table, assignment)
            .map_err(|message| ConfigError::new(format!("--set {assignment}: {message}")))?;
        applied.push((path, assignment.as_str()));
    }
    build::scenario(table).map_err(|problem| {
        let spans = SpanIndex::build(text);
        Context { source: source_name, text, spans: &spans, overrides: &applied }.render(&problem)
    })
}

/// A validation failure, before it is located in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Problem {
    path: KeyPath,
    anchor: Anchor,
    message: String,
}

/// Which end of an entry a [`Problem`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// The key: unknown, missing or out-of-range entries.
    Key,
    /// The value: type errors.
    Value,
}

impl Problem {
    fn at_key(path: KeyPath, message: impl Into<String>) -> Self {
        Problem { path, anchor: Anchor::Key, message: message.into() }
    }

    fn at_value(path: KeyPath, message: impl Into<String>) -> Self {
        Problem { path, anchor: Anchor::Value, message: message.into() }
    }
}

/// Where a [`Problem`] is reported.
#[derive(Debug)]
enum Place<'a> {
    /// A byte offset in the file.
    Offset(usize),
    /// A `--set` argument.
    Set(&'a str),
    /// Nowhere in particular: line 1.
    Top,
}

/// What is needed to turn a [`Problem`] into a [`ConfigError`].
#[derive(Debug)]
struct Context<'a> {
    source: &'a str,
    text: &'a str,
    spans: &'a SpanIndex,
    overrides: &'a [(KeyPath, &'a str)],
}

impl Context<'_> {
    fn render(&self, problem: &Problem) -> ConfigError {
        let head = match self.place(problem) {
            Place::Offset(offset) => {
                let (line, column) = spans::line_col(self.text, offset);
                format!("{}:{line}:{column}", self.source)
            }
            Place::Set(assignment) => format!("--set {assignment}"),
            Place::Top => format!("{}:1:1", self.source),
        };
        if problem.path.is_root() {
            ConfigError::new(format!("{head}: {}", problem.message))
        } else {
            ConfigError::new(format!("{head}: {}: {}", problem.path, problem.message))
        }
    }

    /// The last override that set this path or an enclosing one wins; then
    /// the entry in the file; then the nearest enclosing entry that exists,
    /// in the file or created by an override.
    fn place(&self, problem: &Problem) -> Place<'_> {
        let path = &problem.path;
        if let Some((_, assignment)) = self.overrides.iter().rev().find(|(set, _)| path.starts_with(set)) {
            return Place::Set(assignment);
        }
        // A key that only an override brought in (an unknown `--set foo.bar`).
        if self.spans.get(path).is_none()
            && !path.is_root()
            && let Some((_, assignment)) = self.overrides.iter().rev().find(|(set, _)| set.starts_with(path))
        {
            return Place::Set(assignment);
        }
        if let Some(spot) = self.spans.get(path) {
            let range = match (problem.anchor, &spot.key) {
                (Anchor::Key, Some(key)) => key,
                _ => &spot.value,
            };
            return Place::Offset(range.start);
        }
        let mut ancestor = path.parent();
        while let Some(enclosing) = ancestor.filter(|a| !a.is_root()) {
            if let Some(spot) = self.spans.get(&enclosing) {
                return Place::Offset(spot.key.as_ref().unwrap_or(&spot.value).start);
            }
            if let Some((_, assignment)) = self.overrides.iter().rev().find(|(set, _)| set.starts_with(&enclosing)) {
                return Place::Set(assignment);
            }
            ancestor = enclosing.parent();
        }
        Place::Top
    }
}
