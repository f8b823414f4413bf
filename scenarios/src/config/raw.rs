//! The file as serde reads it: every optional key an `Option`, integers as
//! i64 and the tagged tables (latency, session, events, protocol_params)
//! still raw. `build` validates these and fills in the defaults.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};

/// A TOML integer, for fields whose range `build` checks (so that -1 gives
/// "must be >= 1, got -1" rather than a serde type error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Int(pub(super) i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v).map(Int).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
        }
        deserializer.deserialize_i64(IntVisitor)
    }
}

/// `ring.id_space`: an integer modulus or a `"2^m"` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RawIdSpace {
    Int(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawIdSpace {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdSpaceVisitor;
        impl Visitor<'_> for IdSpaceVisitor {
            type Value = RawIdSpace;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer >= 2 or a string \"2^m\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawIdSpace, E> {
                Ok(RawIdSpace::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawIdSpace, E> {
                i64::try_from(v).map(RawIdSpace::Int).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawIdSpace, E> {
                Ok(RawIdSpace::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(IdSpaceVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) name: String,
    pub(super) description: Option<String>,
    /// Decoded into `ProtocolName` by `build`, like every enum here, so that
    /// a non-string gets a plain type error.
    pub(super) protocol: String,
    pub(super) seed: Option<Int>,
    pub(super) duration_s: f64,
    pub(super) sample_every_s: Option<f64>,
    pub(super) nodes: RawNodes,
    pub(super) ring: Option<RawRing>,
    pub(super) protocol_params: Option<toml::Table>,
    pub(super) network: Option<RawNetwork>,
    pub(super) detector: Option<RawDetector>,
    pub(super) churn: Option<RawChurn>,
    pub(super) workload: Option<RawWorkload>,
    pub(super) events: Option<Vec<toml::Table>>,
    pub(super) output: Option<RawOutput>,
    pub(super) merge: Option<RawMerge>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMerge {
    pub(super) enabled: Option<bool>,
    pub(super) fanout: Option<Int>,
    pub(super) gossip_budget: Option<Int>,
    pub(super) ping_every_s: Option<f64>,
    pub(super) passive_capacity: Option<Int>,
    pub(super) passive_keep_s: Option<f64>,
    pub(super) loop_check: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNodes {
    pub(super) initial: Int,
    pub(super) bootstrap: Option<String>,
    pub(super) join_interval_ms: Option<f64>,
    pub(super) join_interval_start_ms: Option<f64>,
    pub(super) connectivity: Option<f64>,
    pub(super) connectivity_per: Option<String>,
    pub(super) join_via: Option<String>,
    pub(super) loops: Option<Int>,
    pub(super) rings: Option<Int>,
    pub(super) rejoin_after_s: Option<f64>,
    pub(super) ids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRing {
    pub(super) id_space: Option<RawIdSpace>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChord {
    pub(super) successor_list: Option<Int>,
    pub(super) fingers: Option<bool>,
    pub(super) route_via_successor_list: Option<bool>,
    pub(super) stabilize_every_s: Option<f64>,
    pub(super) fix_fingers_every_s: Option<f64>,
    pub(super) check_predecessor_every_s: Option<f64>,
    pub(super) lookup_timeout_ms: Option<f64>,
    pub(super) max_lookup_hops: Option<Int>,
    pub(super) randomized_timers: Option<bool>,
    pub(super) stabilize_every_joins: Option<Int>,
    pub(super) alone_adopts_notifier: Option<bool>,
    pub(super) join_copies_successor_list: Option<bool>,
    pub(super) failure_detection: Option<String>,
    pub(super) probe_answer: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDks {
    pub(super) lock_lease_ms: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGossip {
    pub(super) round_ms: Option<f64>,
    pub(super) view_size: Option<Int>,
    pub(super) sample_size: Option<Int>,
    pub(super) randomized_timers: Option<bool>,
    pub(super) canary_invent_version: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPalta {
    pub(super) omega: Option<Int>,
    pub(super) mesh_sync_every_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRelaxedRing {
    pub(super) successor_list: Option<Int>,
    pub(super) fingers: Option<bool>,
    pub(super) fix_fingers_every_s: Option<f64>,
    pub(super) lookup_timeout_ms: Option<f64>,
    pub(super) lookup_retries: Option<Int>,
    pub(super) join_retry_ms: Option<f64>,
    pub(super) hint_after_ms: Option<f64>,
    pub(super) max_route_hops: Option<Int>,
    pub(super) randomized_timers: Option<bool>,
    pub(super) canary_keep_range_on_join: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) latency: Option<toml::Table>,
    pub(super) loss: Option<f64>,
}

/// `network.latency.kind`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum LatencyKind {
    Constant,
    Uniform,
    Exponential,
    Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConstant {
    pub(super) ms: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUniform {
    pub(super) min_ms: f64,
    pub(super) max_ms: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExponential {
    pub(super) mean_ms: f64,
    pub(super) min_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) ms: Vec<Vec<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDetector {
    pub(super) detection_delay_ms: Option<f64>,
    pub(super) false_suspicions_per_link_per_hour: Option<f64>,
    pub(super) false_suspicion_mean_ms: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChurn {
    pub(super) joins_per_s: Option<f64>,
    pub(super) crashes_per_s: Option<f64>,
    pub(super) leaves_per_s: Option<f64>,
    pub(super) session: Option<toml::Table>,
    pub(super) session_leave_fraction: Option<f64>,
}

/// `churn.session.kind`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum SessionKind {
    Exponential,
    Pareto,
    Weibull,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMean {
    pub(super) mean_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShapeScale {
    pub(super) shape: f64,
    pub(super) scale_s: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    pub(super) lookups_per_s: Option<f64>,
    pub(super) updates_per_s: Option<f64>,
    pub(super) keys: Option<Int>,
    pub(super) start_when_stable: Option<bool>,
    pub(super) start_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) trace: Option<bool>,
    pub(super) snapshot_at_s: Option<f64>,
}

/// `events[i].kind`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum EventKind {
    CrashFraction,
    Crash,
    Join,
    Leave,
    Partition,
    OneWayCut,
    Heal,
    SetLoss,
    StopStabilization,
    StartStabilization,
    StopChurn,
    StopFaults,
    Flapping,
    CrashIds,
    LeaveIds,
    JoinIds,
    PartitionIds,
    Suspect,
    Kick,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAt {
    pub(super) at_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFraction {
    pub(super) at_s: f64,
    pub(super) fraction: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCount {
    pub(super) at_s: f64,
    pub(super) count: Int,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIds {
    pub(super) at_s: f64,
    pub(super) ids: Vec<String>,
    pub(super) via: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdLists {
    pub(super) at_s: f64,
    pub(super) lists: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuspect {
    pub(super) at_s: f64,
    pub(super) watcher: String,
    pub(super) peer: String,
    pub(super) lasts_ms: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPartition {
    pub(super) at_s: f64,
    pub(super) groups: Option<Int>,
    pub(super) assign: Option<String>,
    pub(super) lists: Option<Vec<Vec<Int>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlapping {
    pub(super) at_s: f64,
    pub(super) groups: Option<Int>,
    pub(super) assign: Option<String>,
    pub(super) lists: Option<Vec<Vec<Int>>>,
    pub(super) down_s: f64,
    pub(super) up_s: f64,
    pub(super) cycles: Int,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKick {
    pub(super) at_s: f64,
    pub(super) count: Option<Int>,
    pub(super) across: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCut {
    pub(super) at_s: f64,
    pub(super) from_group: Int,
    pub(super) to_group: Int,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoss {
    pub(super) at_s: f64,
    pub(super) loss: f64,
}
