//! From a TOML table to a validated [`Scenario`]: serde reads the raw
//! structs, then every value is range-checked and every default filled in.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use sim_core::churn::SessionTime;
use sim_core::network::Latency;
use sim_core::{IdSpace, RingId};

use super::path::KeyPath;
use super::raw::{
    EventKind, Int, LatencyKind, RawAt, RawChord, RawConstant, RawCount, RawCut, RawDks, RawExponential, RawFlapping,
    RawFraction, RawGossip, RawIdLists, RawIdSpace, RawIds, RawKick, RawLoss, RawMean, RawMerge, RawNodes, RawPalta,
    RawPartition, RawRelaxedRing, RawScenario, RawShapeScale, RawSuspect, RawTable, RawUniform, SessionKind,
};
use super::{
    AssignName, Bootstrap, ChordParams, ChurnSpec, ConnectivityPer, DetectorSpec, DksParams, EventAction, EventSpec,
    GossipParams, JoinVia, MergeSpec, NetworkSpec, Nodes, OutputSpec, PaltaParams, PartitionAssign, Problem,
    ProtocolName, ProtocolParams, RelaxedRingParams, Ring, Scenario, WorkloadSpec,
};

type Result<T> = std::result::Result<T, Problem>;

/// The largest `nodes.initial`.
const MAX_NODES: i64 = 10_000_000;

/// The longest run, in simulated seconds (about 116 days).
const MAX_DURATION_S: f64 = 1e7;

/// The highest system-wide rate of joins, crashes, leaves or lookups, per second.
const MAX_RATE_PER_S: f64 = 1e6;

/// The most node-seconds a run may simulate (initial nodes × duration): at
/// a few events per node and second, about 10^10 events, hours of wall
/// time. Beyond, a run would look like a hang.
const MAX_NODE_SECONDS: f64 = 1e10;

/// The most metric samples in a run (each is O(N log N) and one row).
const MAX_SAMPLES: f64 = 1e6;

/// The most lookups a run may issue.
const MAX_LOOKUPS: f64 = 1e9;

/// The most nodes a run may create over its length (every node keeps its
/// arena slot): the initial ones, the scheduled joins and the Poisson joins.
const MAX_NODES_CREATED: f64 = 2e7;

/// How much larger than the most nodes a run can hold the identifier space
/// must be, so that fresh identifiers are drawn quickly and never run out.
const ID_SPACE_HEADROOM: u128 = 8;

/// Reads and validates a whole scenario.
pub(super) fn scenario(table: toml::Table) -> Result<Scenario> {
    let raw: RawScenario = decode(toml::Value::Table(table), &KeyPath::root(), &[])?;
    let top = KeyPath::root();
    let protocol: ProtocolName = variant(raw.protocol, &top.key("protocol"))?;

    let name = raw.name;
    check_name(&top.key("name"), &name)?;
    let seed = int_or(&top.key("seed"), raw.seed, 1, 0, i64::MAX)?;
    let duration_s =
        at_most(&top.key("duration_s"), positive(&top.key("duration_s"), raw.duration_s)?, MAX_DURATION_S)?;
    let sample_every_s = opt(raw.sample_every_s, 1.0, |v| positive(&top.key("sample_every_s"), v))?;

    let nodes = nodes(raw.nodes, &top.key("nodes"))?;

    let ring_given = raw.ring.as_ref().is_some_and(|r| r.id_space.is_some());
    let ring = match raw.ring.and_then(|r| r.id_space) {
        Some(id_space) => Ring { id_space: self::id_space(&top.key("ring").key("id_space"), id_space)? },
        None => Ring::default(),
    };

    let protocol_params = protocol_params(protocol, raw.protocol_params)?;

    let path = top.key("network");
    let raw_network = raw.network.unwrap_or_default();
    let network = NetworkSpec {
        latency: match raw_network.latency {
            Some(table) => latency(table, &path.key("latency"))?,
            None => NetworkSpec::default().latency,
        },
        loss: opt(raw_network.loss, 0.0, |v| probability(&path.key("loss"), v))?,
    };

    let path = top.key("detector");
    let raw_detector = raw.detector.unwrap_or_default();
    let defaults = DetectorSpec::default();
    let detector = DetectorSpec {
        detection_delay_ms: opt(raw_detector.detection_delay_ms, defaults.detection_delay_ms, |v| {
            non_negative(&path.key("detection_delay_ms"), v)
        })?,
        false_suspicions_per_link_per_hour: opt(
            raw_detector.false_suspicions_per_link_per_hour,
            defaults.false_suspicions_per_link_per_hour,
            |v| non_negative(&path.key("false_suspicions_per_link_per_hour"), v),
        )?,
        false_suspicion_mean_ms: opt(raw_detector.false_suspicion_mean_ms, defaults.false_suspicion_mean_ms, |v| {
            positive(&path.key("false_suspicion_mean_ms"), v)
        })?,
    };

    let path = top.key("churn");
    let raw_churn = raw.churn.unwrap_or_default();
    let churn = ChurnSpec {
        joins_per_s: opt(raw_churn.joins_per_s, 0.0, |v| rate(&path.key("joins_per_s"), v))?,
        crashes_per_s: opt(raw_churn.crashes_per_s, 0.0, |v| rate(&path.key("crashes_per_s"), v))?,
        leaves_per_s: opt(raw_churn.leaves_per_s, 0.0, |v| rate(&path.key("leaves_per_s"), v))?,
        session: raw_churn.session.map(|table| session(table, &path.key("session"))).transpose()?,
        session_leave_fraction: opt(raw_churn.session_leave_fraction, 0.0, |v| {
            probability(&path.key("session_leave_fraction"), v)
        })?,
    };

    let path = top.key("workload");
    let raw_workload = raw.workload.unwrap_or_default();
    let workload = WorkloadSpec {
        lookups_per_s: opt(raw_workload.lookups_per_s, 0.0, |v| rate(&path.key("lookups_per_s"), v))?,
        updates_per_s: opt(raw_workload.updates_per_s, 0.0, |v| rate(&path.key("updates_per_s"), v))?,
        keys: int_or(&path.key("keys"), raw_workload.keys, 0, 0, 10_000_000)?,
        start_when_stable: raw_workload.start_when_stable.unwrap_or(false),
        start_s: opt(raw_workload.start_s, 0.0, |v| non_negative(&path.key("start_s"), v))?,
    };

    let merge = match raw.merge {
        Some(raw_merge) if raw_merge.enabled != Some(false) => {
            let path = top.key("merge");
            Some(merge_spec(raw_merge, &path)?)
        }
        _ => None,
    };

    let path = top.key("events");
    let mut events = Vec::new();
    for (i, table) in raw.events.unwrap_or_default().into_iter().enumerate() {
        let at = path.index(i);
        let expanded = event(table, &at, duration_s)?;
        if merge.is_none() && expanded.iter().any(|e| matches!(e.action, EventAction::Kick { .. })) {
            return Err(Problem::at_key(at.key("kind"), "a kick needs the [merge] table"));
        }
        if let Some(ring_only) = expanded.iter().find(|e| !protocol.is_ring() && is_ring_event(&e.action)) {
            return Err(Problem::at_key(
                at.key("kind"),
                format!("`{}` is a ring event; protocol {protocol} has no ring", ring_only.action.kind()),
            ));
        }
        events.extend(expanded);
    }

    let path = top.key("output");
    let raw_output = raw.output.unwrap_or_default();
    let snapshot_at_s = raw_output
        .snapshot_at_s
        .map(|v| {
            let v = non_negative(&path.key("snapshot_at_s"), v)?;
            if v > duration_s {
                return Err(Problem::at_key(
                    path.key("snapshot_at_s"),
                    format!("must be <= duration_s ({}), got {}", num(duration_s), num(v)),
                ));
            }
            Ok(v)
        })
        .transpose()?;
    let output = OutputSpec { trace: raw_output.trace.unwrap_or(false), snapshot_at_s };
    let scenario = Scenario {
        name,
        description: raw.description,
        protocol,
        seed,
        duration_s,
        sample_every_s,
        nodes,
        ring,
        protocol_params,
        network,
        detector,
        churn,
        workload,
        events,
        output,
        merge,
        check: None,
    };
    family_rules(&scenario)?;
    check_size(&scenario, ring_given)?;
    Ok(scenario)
}

/// The events only a ring gives meaning to.
fn is_ring_event(action: &EventAction) -> bool {
    matches!(action, EventAction::Kick { .. } | EventAction::StopStabilization | EventAction::StartStabilization)
}

/// What one family of protocols takes and the other does not: the ring
/// family's keys (cut links, loopy rings, rings apart, the nearest-member
/// bootstrap, `[merge]`, lookups, the ring picture)
/// mean nothing to gossip, and updates mean nothing to a ring.
fn family_rules(scenario: &Scenario) -> Result<()> {
    let protocol = scenario.protocol;
    let nodes = KeyPath::root().key("nodes");
    let workload = KeyPath::root().key("workload");
    if protocol.is_ring() {
        if scenario.workload.updates_per_s > 0.0 {
            return Err(Problem::at_key(
                workload.key("updates_per_s"),
                format!("protocol {protocol} is a ring: it takes lookups (lookups_per_s), not updates"),
            ));
        }
        return Ok(());
    }
    let defaults = [
        (nodes.key("connectivity"), scenario.nodes.connectivity < 1.0),
        (nodes.key("connectivity_per"), scenario.nodes.connectivity_per != ConnectivityPer::Link),
        (nodes.key("join_via"), scenario.nodes.join_via != JoinVia::Random),
        (nodes.key("loops"), scenario.nodes.loops != 1),
        (nodes.key("rings"), scenario.nodes.rings != 1),
        (KeyPath::root().key("merge"), scenario.merge.is_some()),
        (workload.key("lookups_per_s"), scenario.workload.lookups_per_s > 0.0),
        (workload.key("keys"), scenario.workload.keys > 0),
        (KeyPath::root().key("output").key("snapshot_at_s"), scenario.output.snapshot_at_s.is_some()),
    ];
    if let Some((path, _)) = defaults.into_iter().find(|(_, set)| *set) {
        return Err(Problem::at_key(path, format!("is a ring setting; protocol {protocol} has no ring")));
    }
    Ok(())
}

/// `[nodes]`, with its cross-key rules.
fn nodes(raw: RawNodes, path: &KeyPath) -> Result<Nodes> {
    let nodes = Nodes {
        initial: int(&path.key("initial"), raw.initial, 1, MAX_NODES)?,
        bootstrap: match raw.bootstrap {
            Some(text) => variant(text, &path.key("bootstrap"))?,
            None => Bootstrap::Ideal,
        },
        join_interval_ms: opt(raw.join_interval_ms, 100.0, |v| non_negative(&path.key("join_interval_ms"), v))?,
        join_interval_start_ms: match raw.join_interval_start_ms {
            Some(v) => Some(non_negative(&path.key("join_interval_start_ms"), v)?),
            None => None,
        },
        connectivity: opt(raw.connectivity, 1.0, |v| probability(&path.key("connectivity"), v))?,
        connectivity_per: match raw.connectivity_per {
            Some(text) => variant(text, &path.key("connectivity_per"))?,
            None => ConnectivityPer::Link,
        },
        join_via: match raw.join_via {
            Some(text) => variant(text, &path.key("join_via"))?,
            None => JoinVia::Random,
        },
        loops: int_or(&path.key("loops"), raw.loops, 1, 1, 16)?,
        rings: int_or(&path.key("rings"), raw.rings, 1, 1, 64)?,
        rejoin_after_s: raw.rejoin_after_s.map(|v| positive(&path.key("rejoin_after_s"), v)).transpose()?,
        ids: raw.ids.map(|ids| ring_ids(&path.key("ids"), ids)).transpose()?,
    };
    if let Some(ids) = &nodes.ids {
        if ids.len() != nodes.initial as usize {
            return Err(Problem::at_key(
                path.key("ids"),
                format!("must list `initial` ({}) identifiers, got {}", nodes.initial, ids.len()),
            ));
        }
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != ids.len() {
            return Err(Problem::at_key(path.key("ids"), "identifiers must be distinct"));
        }
        if nodes.bootstrap != Bootstrap::Ideal || nodes.loops > 1 || nodes.rings > 1 {
            return Err(Problem::at_key(
                path.key("ids"),
                "explicit identifiers need bootstrap = \"ideal\", one ring, no loops",
            ));
        }
    }
    if nodes.rings > 1 && nodes.bootstrap != Bootstrap::Ideal {
        return Err(Problem::at_key(path.key("rings"), "rings built apart need bootstrap = \"ideal\""));
    }
    if nodes.rings > 1 && nodes.loops > 1 {
        return Err(Problem::at_key(path.key("rings"), "a loopy ring is one ring: set rings or loops, not both"));
    }
    if nodes.loops > 1 {
        if nodes.bootstrap != Bootstrap::Ideal {
            return Err(Problem::at_key(path.key("loops"), "a loopy ring needs bootstrap = \"ideal\""));
        }
        if nodes.initial < 2 * nodes.loops {
            return Err(Problem::at_key(
                path.key("loops"),
                format!("must be <= initial / 2 ({}), got {}", nodes.initial / 2, nodes.loops),
            ));
        }
    }

    Ok(nodes)
}

fn merge_spec(raw: RawMerge, path: &KeyPath) -> Result<MergeSpec> {
    let d = MergeSpec::default();
    Ok(MergeSpec {
        fanout: int_or(&path.key("fanout"), raw.fanout, d.fanout, 0, 64)?,
        gossip_budget: int_or(&path.key("gossip_budget"), raw.gossip_budget, d.gossip_budget, 0, 255)?,
        ping_every_s: opt(raw.ping_every_s, d.ping_every_s, |v| positive(&path.key("ping_every_s"), v))?,
        passive_capacity: int_or(&path.key("passive_capacity"), raw.passive_capacity, d.passive_capacity, 1, 1024)?,
        passive_keep_s: opt(raw.passive_keep_s, d.passive_keep_s, |v| positive(&path.key("passive_keep_s"), v))?,
        loop_check: raw.loop_check.unwrap_or(d.loop_check),
    })
}

/// The groups of a partition: `groups` with `assign = "random"` or
/// `"ranges"`, or `lists` with `assign = "lists"`.
fn partition(
    path: &KeyPath,
    groups: Option<Int>,
    assign: Option<String>,
    lists: Option<Vec<Vec<Int>>>,
) -> Result<EventAction> {
    let name = match assign {
        Some(text) => variant(text, &path.key("assign"))?,
        None => AssignName::Random,
    };
    match (name, lists) {
        (AssignName::Lists, None) => Err(Problem::at_key(path.key("assign"), "assign = \"lists\" needs `lists`")),
        (AssignName::Lists, Some(lists)) => {
            if groups.is_some() {
                return Err(Problem::at_key(path.key("groups"), "with assign = \"lists\" the groups are the lists"));
            }
            if lists.is_empty() || lists.len() > 63 {
                return Err(Problem::at_key(path.key("lists"), format!("must hold 1..=63 lists, got {}", lists.len())));
            }
            let mut parsed = Vec::with_capacity(lists.len());
            for (k, list) in lists.into_iter().enumerate() {
                let at = path.key("lists").index(k);
                let nodes = list
                    .into_iter()
                    .enumerate()
                    .map(|(j, n)| int(&at.index(j), n, 0, MAX_NODES - 1))
                    .collect::<Result<Vec<u32>>>()?;
                parsed.push(nodes);
            }
            Ok(EventAction::Partition { groups: parsed.len() as u16 + 1, assign: PartitionAssign::Lists(parsed) })
        }
        (_, Some(_)) => Err(Problem::at_key(path.key("lists"), "`lists` needs assign = \"lists\"")),
        (name, None) => {
            let Some(groups) = groups else {
                return Err(Problem::at_key(path.key("groups"), "missing required key"));
            };
            let groups = int(&path.key("groups"), groups, 2, 64)?;
            let assign = if name == AssignName::Ranges { PartitionAssign::Ranges } else { PartitionAssign::Random };
            Ok(EventAction::Partition { groups, assign })
        }
    }
}

/// `[protocol_params]`: flat keys are the running protocol's; a sub-table
/// named after a protocol (`[protocol_params.relaxed_ring]`) holds that
/// protocol's keys, used when it runs, so one file can be switched between
/// protocols (`--set protocol=…`, `run --compare`). Every sub-table is
/// checked against its protocol's keys, whichever runs; a key given both
/// flat and in the running protocol's sub-table is a contradiction.
fn protocol_params(protocol: ProtocolName, table: Option<toml::Table>) -> Result<ProtocolParams> {
    let path = KeyPath::of(&["protocol_params"]);
    let mut flat = table.unwrap_or_default();
    let mut active = None;
    for candidate in ProtocolName::ALL {
        let Some(value) = flat.remove(candidate.name()) else { continue };
        let sub_path = path.key(candidate.name());
        let toml::Value::Table(sub) = value else {
            return Err(Problem::at_value(sub_path, format!("must be a table of {candidate}'s parameters")));
        };
        params_of(candidate, sub.clone(), &sub_path)?;
        if candidate == protocol {
            active = Some(sub);
        }
    }
    if let Some(sub) = active {
        for (key, value) in sub {
            if flat.contains_key(&key) {
                return Err(Problem::at_key(
                    path.key(&key),
                    format!("given both here and as protocol_params.{protocol}.{key}: set one of them"),
                ));
            }
            flat.insert(key, value);
        }
    }
    params_of(protocol, flat, &path)
}

/// One protocol's parameters from `table`, errors named under `path`.
fn params_of(protocol: ProtocolName, table: toml::Table, path: &KeyPath) -> Result<ProtocolParams> {
    let value = toml::Value::Table(table);
    match protocol {
        ProtocolName::Chord => Ok(ProtocolParams::Chord(chord(decode(value, path, &[])?, path)?)),
        ProtocolName::RelaxedRing => Ok(ProtocolParams::RelaxedRing(relaxed_ring(decode(value, path, &[])?, path)?)),
        ProtocolName::Palta => {
            let raw: RawPalta = decode(value, path, &[])?;
            let defaults = PaltaParams::default();
            let omega = int_or(&path.key("omega"), raw.omega, defaults.omega, 2, 1_000_000)?;
            let mesh_sync_every_s = opt(raw.mesh_sync_every_s, defaults.mesh_sync_every_s, |v| {
                non_negative(&path.key("mesh_sync_every_s"), v)
            })?;
            Ok(ProtocolParams::Palta(PaltaParams { omega, mesh_sync_every_s }))
        }
        ProtocolName::Gossip => {
            let raw: RawGossip = decode(value, path, &[])?;
            let d = GossipParams::default();
            Ok(ProtocolParams::Gossip(GossipParams {
                round_ms: opt(raw.round_ms, d.round_ms, |v| positive(&path.key("round_ms"), v))?,
                view_size: int_or(&path.key("view_size"), raw.view_size, d.view_size, 1, 1000)?,
                sample_size: int_or(&path.key("sample_size"), raw.sample_size, d.sample_size, 1, 4)?,
                randomized_timers: raw.randomized_timers.unwrap_or(d.randomized_timers),
                canary_invent_version: raw.canary_invent_version.unwrap_or(d.canary_invent_version),
            }))
        }
        ProtocolName::Dks => {
            let raw: RawDks = decode(value, path, &[])?;
            let lock_lease_ms = opt(raw.lock_lease_ms, DksParams::default().lock_lease_ms, |v| {
                positive(&path.key("lock_lease_ms"), v)
            })?;
            Ok(ProtocolParams::Dks(DksParams { lock_lease_ms }))
        }
    }
}

fn chord(raw: RawChord, path: &KeyPath) -> Result<ChordParams> {
    let d = ChordParams::default();
    Ok(ChordParams {
        successor_list: int_or(&path.key("successor_list"), raw.successor_list, d.successor_list, 1, 64)?,
        fingers: raw.fingers.unwrap_or(d.fingers),
        stabilize_every_s: opt(raw.stabilize_every_s, d.stabilize_every_s, |v| {
            non_negative(&path.key("stabilize_every_s"), v)
        })?,
        fix_fingers_every_s: opt(raw.fix_fingers_every_s, d.fix_fingers_every_s, |v| {
            non_negative(&path.key("fix_fingers_every_s"), v)
        })?,
        check_predecessor_every_s: opt(raw.check_predecessor_every_s, d.check_predecessor_every_s, |v| {
            non_negative(&path.key("check_predecessor_every_s"), v)
        })?,
        lookup_timeout_ms: opt(raw.lookup_timeout_ms, d.lookup_timeout_ms, |v| {
            positive(&path.key("lookup_timeout_ms"), v)
        })?,
        max_lookup_hops: int_or(&path.key("max_lookup_hops"), raw.max_lookup_hops, d.max_lookup_hops, 1, 1024)?,
        randomized_timers: raw.randomized_timers.unwrap_or(d.randomized_timers),
        stabilize_every_joins: int_or(
            &path.key("stabilize_every_joins"),
            raw.stabilize_every_joins,
            d.stabilize_every_joins,
            0,
            1_000_000,
        )?,
        alone_adopts_notifier: raw.alone_adopts_notifier.unwrap_or(d.alone_adopts_notifier),
        join_copies_successor_list: raw.join_copies_successor_list.unwrap_or(d.join_copies_successor_list),
        failure_detection: match raw.failure_detection {
            Some(text) => variant(text, &path.key("failure_detection"))?,
            None => d.failure_detection,
        },
        probe_answer: raw.probe_answer.unwrap_or(d.probe_answer),
        route_via_successor_list: raw.route_via_successor_list.unwrap_or(d.route_via_successor_list),
    })
}

fn relaxed_ring(raw: RawRelaxedRing, path: &KeyPath) -> Result<RelaxedRingParams> {
    let d = RelaxedRingParams::default();
    Ok(RelaxedRingParams {
        successor_list: int_or(&path.key("successor_list"), raw.successor_list, d.successor_list, 1, 64)?,
        fingers: raw.fingers.unwrap_or(d.fingers),
        fix_fingers_every_s: opt(raw.fix_fingers_every_s, d.fix_fingers_every_s, |v| {
            non_negative(&path.key("fix_fingers_every_s"), v)
        })?,
        lookup_timeout_ms: opt(raw.lookup_timeout_ms, d.lookup_timeout_ms, |v| {
            positive(&path.key("lookup_timeout_ms"), v)
        })?,
        lookup_retries: int_or(&path.key("lookup_retries"), raw.lookup_retries, d.lookup_retries, 0, 16)?,
        join_retry_ms: opt(raw.join_retry_ms, d.join_retry_ms, |v| positive(&path.key("join_retry_ms"), v))?,
        hint_after_ms: opt(raw.hint_after_ms, d.hint_after_ms, |v| non_negative(&path.key("hint_after_ms"), v))?,
        max_route_hops: int_or(&path.key("max_route_hops"), raw.max_route_hops, d.max_route_hops, 1, 100_000)?,
        randomized_timers: raw.randomized_timers.unwrap_or(d.randomized_timers),
        canary_keep_range_on_join: raw.canary_keep_range_on_join.unwrap_or(d.canary_keep_range_on_join),
    })
}

fn id_space(path: &KeyPath, raw: RawIdSpace) -> Result<IdSpace> {
    match raw {
        RawIdSpace::Int(n) => Ok(IdSpace::modulus(int(path, Int(n), 2, i64::MAX)?)),
        RawIdSpace::Text(text) => {
            let trimmed = text.trim();
            let bits = trimmed.strip_prefix("2^").and_then(|m| m.trim().parse::<u32>().ok());
            match (bits, trimmed.parse::<u64>()) {
                (Some(m), _) if (1..=64).contains(&m) => Ok(IdSpace::bits(m)),
                (None, Ok(n)) if n >= 2 => Ok(IdSpace::modulus(n)),
                _ => Err(Problem::at_key(
                    path.clone(),
                    format!("must be an integer >= 2 or \"2^m\" with 1 <= m <= 64, got {text:?}"),
                )),
            }
        }
    }
}

fn latency(mut table: toml::Table, path: &KeyPath) -> Result<Latency> {
    let kind: LatencyKind = tag(&mut table, path)?;
    let rest = toml::Value::Table(table);
    Ok(match kind {
        LatencyKind::Constant => {
            let raw: RawConstant = decode(rest, path, &["kind"])?;
            Latency::Constant { ms: non_negative(&path.key("ms"), raw.ms)? }
        }
        LatencyKind::Uniform => {
            let raw: RawUniform = decode(rest, path, &["kind"])?;
            let min_ms = non_negative(&path.key("min_ms"), raw.min_ms)?;
            let max_ms = non_negative(&path.key("max_ms"), raw.max_ms)?;
            if min_ms > max_ms {
                return Err(Problem::at_key(
                    path.key("min_ms"),
                    format!("must be <= max_ms ({}), got {}", num(max_ms), num(min_ms)),
                ));
            }
            Latency::Uniform { min_ms, max_ms }
        }
        LatencyKind::Exponential => {
            let raw: RawExponential = decode(rest, path, &["kind"])?;
            Latency::Exponential {
                mean_ms: positive(&path.key("mean_ms"), raw.mean_ms)?,
                min_ms: opt(raw.min_ms, 0.0, |v| non_negative(&path.key("min_ms"), v))?,
            }
        }
        LatencyKind::Table => {
            let raw: RawTable = decode(rest, path, &["kind"])?;
            let ms_path = path.key("ms");
            let sites = raw.ms.len();
            if sites == 0 {
                return Err(Problem::at_key(ms_path, "must not be empty (one row per site)"));
            }
            for (a, row) in raw.ms.iter().enumerate() {
                let row_path = ms_path.index(a);
                if row.len() != sites {
                    return Err(Problem::at_key(
                        row_path,
                        format!(
                            "must have {}, as there {} (the table is square), got {}",
                            plural(sites, "entry", "entries"),
                            if sites == 1 { "is 1 row".to_owned() } else { format!("are {sites} rows") },
                            row.len()
                        ),
                    ));
                }
                for (b, &ms) in row.iter().enumerate() {
                    non_negative(&row_path.index(b), ms)?;
                }
            }
            Latency::Table { ms: raw.ms }
        }
    })
}

fn session(mut table: toml::Table, path: &KeyPath) -> Result<SessionTime> {
    let kind: SessionKind = tag(&mut table, path)?;
    let rest = toml::Value::Table(table);
    Ok(match kind {
        SessionKind::Exponential => {
            let raw: RawMean = decode(rest, path, &["kind"])?;
            SessionTime::Exponential { mean_s: positive(&path.key("mean_s"), raw.mean_s)? }
        }
        SessionKind::Pareto => {
            let raw: RawShapeScale = decode(rest, path, &["kind"])?;
            SessionTime::Pareto {
                shape: positive(&path.key("shape"), raw.shape)?,
                scale_s: positive(&path.key("scale_s"), raw.scale_s)?,
            }
        }
        SessionKind::Weibull => {
            let raw: RawShapeScale = decode(rest, path, &["kind"])?;
            SessionTime::Weibull {
                shape: positive(&path.key("shape"), raw.shape)?,
                scale_s: positive(&path.key("scale_s"), raw.scale_s)?,
            }
        }
    })
}

/// One `[[events]]` entry; a `flapping` entry expands into its partitions
/// and heals.
fn event(mut table: toml::Table, path: &KeyPath, duration_s: f64) -> Result<Vec<EventSpec>> {
    let kind: EventKind = tag(&mut table, path)?;
    let rest = toml::Value::Table(table);
    let also = &["kind"];
    // A count of 0 is legal (a sweep may vary it down to nothing).
    let count =
        |raw: RawCount| -> Result<(f64, u32)> { Ok((raw.at_s, int(&path.key("count"), raw.count, 0, MAX_NODES)?)) };
    let (at_s, action) = match kind {
        EventKind::CrashFraction => {
            let raw: RawFraction = decode(rest, path, also)?;
            (raw.at_s, EventAction::CrashFraction { fraction: probability(&path.key("fraction"), raw.fraction)? })
        }
        EventKind::Crash => {
            let (at_s, count) = count(decode(rest, path, also)?)?;
            (at_s, EventAction::Crash { count })
        }
        EventKind::Join => {
            let (at_s, count) = count(decode(rest, path, also)?)?;
            (at_s, EventAction::Join { count })
        }
        EventKind::Leave => {
            let (at_s, count) = count(decode(rest, path, also)?)?;
            (at_s, EventAction::Leave { count })
        }
        EventKind::Partition => {
            let raw: RawPartition = decode(rest, path, also)?;
            (raw.at_s, partition(path, raw.groups, raw.assign, raw.lists)?)
        }
        EventKind::Kick => {
            let raw: RawKick = decode(rest, path, also)?;
            let count = int_or(&path.key("count"), raw.count, 1, 1, MAX_NODES)?;
            (raw.at_s, EventAction::Kick { count, across: raw.across.unwrap_or(true) })
        }
        EventKind::Flapping => {
            let raw: RawFlapping = decode(rest, path, also)?;
            let cut = partition(path, raw.groups, raw.assign, raw.lists)?;
            let down_s = positive(&path.key("down_s"), raw.down_s)?;
            let up_s = positive(&path.key("up_s"), raw.up_s)?;
            let cycles: u32 = int(&path.key("cycles"), raw.cycles, 1, 10_000)?;
            let start = non_negative(&path.key("at_s"), raw.at_s)?;
            let last_heal = start + (cycles - 1) as f64 * (down_s + up_s) + down_s;
            if last_heal > duration_s {
                return Err(Problem::at_key(
                    path.key("cycles"),
                    format!("the last heal at {} s falls after duration_s ({})", num(last_heal), num(duration_s)),
                ));
            }
            let mut events = Vec::with_capacity(2 * cycles as usize);
            for k in 0..cycles {
                let at_s = start + k as f64 * (down_s + up_s);
                events.push(EventSpec { at_s, action: cut.clone() });
                events.push(EventSpec { at_s: at_s + down_s, action: EventAction::Heal });
            }
            return Ok(events);
        }
        EventKind::OneWayCut => {
            let raw: RawCut = decode(rest, path, also)?;
            let from_group = int(&path.key("from_group"), raw.from_group, 0, 63)?;
            let to_group = int(&path.key("to_group"), raw.to_group, 0, 63)?;
            if from_group == to_group {
                return Err(Problem::at_key(
                    path.key("to_group"),
                    format!("must differ from from_group, got {to_group} for both"),
                ));
            }
            (raw.at_s, EventAction::OneWayCut { from_group, to_group })
        }
        EventKind::Heal => (decode::<RawAt>(rest, path, also)?.at_s, EventAction::Heal),
        EventKind::SetLoss => {
            let raw: RawLoss = decode(rest, path, also)?;
            (raw.at_s, EventAction::SetLoss { loss: probability(&path.key("loss"), raw.loss)? })
        }
        EventKind::StopStabilization => (decode::<RawAt>(rest, path, also)?.at_s, EventAction::StopStabilization),
        EventKind::StartStabilization => (decode::<RawAt>(rest, path, also)?.at_s, EventAction::StartStabilization),
        EventKind::StopChurn => (decode::<RawAt>(rest, path, also)?.at_s, EventAction::StopChurn),
        EventKind::StopFaults => (decode::<RawAt>(rest, path, also)?.at_s, EventAction::StopFaults),
        EventKind::CrashIds | EventKind::LeaveIds | EventKind::JoinIds => {
            let raw: RawIds = decode(rest, path, also)?;
            let ids = ring_ids(&path.key("ids"), raw.ids)?;
            let via = raw.via.map(|v| ring_id(&path.key("via"), &v)).transpose()?;
            if via.is_some() && !matches!(kind, EventKind::JoinIds) {
                return Err(Problem::at_key(path.key("via"), "only join_ids takes a contact"));
            }
            let action = match kind {
                EventKind::CrashIds => EventAction::CrashIds { ids },
                EventKind::LeaveIds => EventAction::LeaveIds { ids },
                _ => EventAction::JoinIds { ids, via },
            };
            (raw.at_s, action)
        }
        EventKind::PartitionIds => {
            let raw: RawIdLists = decode(rest, path, also)?;
            let at = path.key("lists");
            let lists = raw
                .lists
                .into_iter()
                .enumerate()
                .map(|(k, list)| ring_ids(&at.index(k), list))
                .collect::<Result<Vec<_>>>()?;
            if lists.is_empty() || lists.len() > 63 {
                return Err(Problem::at_key(at, format!("must hold 1..=63 lists, got {}", lists.len())));
            }
            (raw.at_s, EventAction::PartitionIds { lists })
        }
        EventKind::Suspect => {
            let raw: RawSuspect = decode(rest, path, also)?;
            let watcher = ring_id(&path.key("watcher"), &raw.watcher)?;
            let peer = ring_id(&path.key("peer"), &raw.peer)?;
            let lasts_ms = positive(&path.key("lasts_ms"), raw.lasts_ms)?;
            (raw.at_s, EventAction::Suspect { watcher, peer, lasts_ms })
        }
    };
    let at_path = path.key("at_s");
    let at_s = non_negative(&at_path, at_s)?;
    if at_s > duration_s {
        return Err(Problem::at_key(
            at_path,
            format!("must be <= duration_s ({}), got {}", num(duration_s), num(at_s)),
        ));
    }
    Ok(vec![EventSpec { at_s, action }])
}

/// Removes and decodes the `kind` key of a tagged table at `path`.
fn tag<K: DeserializeOwned>(table: &mut toml::Table, path: &KeyPath) -> Result<K> {
    let kind_path = path.key("kind");
    match table.remove("kind") {
        None => Err(Problem::at_key(kind_path, "missing required key")),
        Some(toml::Value::String(kind)) => variant(kind, &kind_path),
        Some(other) => {
            Err(Problem::at_value(kind_path, format!("invalid type: {}, expected a string", describe(&other))))
        }
    }
}

/// Decodes a snake_case name into one of the enum `K`'s variants.
fn variant<K: DeserializeOwned>(text: String, path: &KeyPath) -> Result<K> {
    decode(toml::Value::String(text), path, &[])
}

/// Deserializes `value` (found at `base`), turning a serde error into a
/// [`Problem`] at the full key path. `also_expected` lists keys that were
/// taken out before (the tag) for the "expected one of" of an unknown key.
fn decode<T: DeserializeOwned>(value: toml::Value, base: &KeyPath, also_expected: &[&str]) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| from_serde(base, &e, also_expected))
}

fn from_serde(base: &KeyPath, error: &serde_path_to_error::Error<toml::de::Error>, also_expected: &[&str]) -> Problem {
    let mut path = base.clone();
    for segment in error.path() {
        match segment {
            Segment::Map { key } => path.push_key(key),
            Segment::Seq { index } => path.push_index(*index),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let message = error.inner().message();
    // serde's messages quote names in backticks: the odd pieces.
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if message.starts_with("missing field `") {
        if let Some(field) = quoted.first() {
            path.push_key(field);
        }
        return Problem::at_key(path, "missing required key");
    }
    if message.starts_with("unknown field `") {
        let expected: Vec<&str> = also_expected.iter().copied().chain(quoted.iter().skip(1).copied()).collect();
        let hint = if expected.is_empty() {
            "no keys are allowed here".to_owned()
        } else {
            format!("expected one of: {}", expected.join(", "))
        };
        return Problem::at_key(path, format!("unknown key ({hint})"));
    }
    if message.starts_with("unknown variant `") {
        let value = quoted.first().copied().unwrap_or_default();
        let expected: Vec<&str> = quoted.iter().skip(1).copied().collect();
        return Problem::at_value(path, format!("unknown value {value:?} (expected one of: {})", expected.join(", ")));
    }
    // Name what the file needs, not the Rust type that holds it.
    let message = match message.rsplit_once(", expected ") {
        Some((head, wanted)) if wanted == "a map" || wanted.starts_with("struct ") => {
            format!("{head}, expected a table")
        }
        Some((head, "a sequence")) => format!("{head}, expected an array"),
        _ => message.to_owned(),
    };
    Problem::at_value(path, message)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A value as serde's "invalid type" messages name it.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(i) => format!("integer `{i}`"),
        toml::Value::Float(f) => format!("floating point `{}`", num(*f)),
        toml::Value::Boolean(b) => format!("boolean `{b}`"),
        toml::Value::Datetime(d) => format!("datetime `{d}`"),
        toml::Value::Array(_) => "array".to_owned(),
        toml::Value::Table(_) => "table".to_owned(),
    }
}

/// A number for a message: plain decimals in a readable range, else
/// scientific notation (so 1e300 does not print 301 digits).
pub(super) fn num(v: f64) -> String {
    if v == 0.0 || (1e-6..1e15).contains(&v.abs()) { format!("{v}") } else { format!("{v:e}") }
}

fn opt(value: Option<f64>, default: f64, check: impl FnOnce(f64) -> Result<f64>) -> Result<f64> {
    value.map_or(Ok(default), check)
}

fn finite(path: &KeyPath, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Problem::at_key(path.clone(), format!("must be a finite number, got {}", num(v))))
    }
}

fn non_negative(path: &KeyPath, v: f64) -> Result<f64> {
    if finite(path, v)? >= 0.0 {
        Ok(v)
    } else {
        Err(Problem::at_key(path.clone(), format!("must be >= 0, got {}", num(v))))
    }
}

fn positive(path: &KeyPath, v: f64) -> Result<f64> {
    if finite(path, v)? > 0.0 {
        Ok(v)
    } else {
        Err(Problem::at_key(path.clone(), format!("must be > 0, got {}", num(v))))
    }
}

/// In [0, 1].
fn probability(path: &KeyPath, v: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&finite(path, v)?) {
        Ok(v)
    } else {
        Err(Problem::at_key(path.clone(), format!("must be in [0, 1], got {}", num(v))))
    }
}

/// A system-wide rate per second, in [0, MAX_RATE_PER_S].
fn rate(path: &KeyPath, v: f64) -> Result<f64> {
    at_most(path, non_negative(path, v)?, MAX_RATE_PER_S)
}

/// `v`, unless it exceeds `most`.
fn at_most(path: &KeyPath, v: f64, most: f64) -> Result<f64> {
    if v <= most {
        Ok(v)
    } else {
        Err(Problem::at_key(path.clone(), format!("must be <= {}, got {}", num(most), num(v))))
    }
}

/// A scenario's name becomes a folder name (`runs/<name>/…`): letters,
/// digits, inner spaces, `-`, `_` and `.`, not starting with `.`, at most 100 characters,
/// so it can never climb out of the output folder or hide.
fn check_name(path: &KeyPath, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Problem::at_key(path.clone(), "must not be empty"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ');
    if name.starts_with(['.', ' ']) || name.ends_with(' ') || !name.chars().all(allowed) || name.len() > 100 {
        return Err(Problem::at_key(
            path.clone(),
            format!(
                "must be letters, digits, spaces, `-`, `_` and `.`, not starting with `.` or a space, at most \
                 100 characters (it names the output folder), got {name:?}"
            ),
        ));
    }
    Ok(())
}

/// Refuses a run too large to finish or to fit: too many node-seconds,
/// samples, lookups or created nodes, or an identifier space too small for
/// the nodes it must hold.
fn check_size(scenario: &Scenario, ring_given: bool) -> Result<()> {
    let Scenario { nodes, ring, churn, workload, events, duration_s, sample_every_s, .. } = scenario;
    let (duration_s, sample_every_s) = (*duration_s, *sample_every_s);
    let top = KeyPath::root();
    let initial = f64::from(nodes.initial);
    let node_seconds = initial * duration_s;
    if node_seconds > MAX_NODE_SECONDS {
        return Err(Problem::at_key(
            top.key("duration_s"),
            format!(
                "nodes.initial x duration_s is {} node-seconds, more than the {} a run may simulate: shorten the \
                 run or use fewer nodes",
                num(node_seconds),
                num(MAX_NODE_SECONDS)
            ),
        ));
    }
    let samples = duration_s / sample_every_s;
    if samples > MAX_SAMPLES {
        return Err(Problem::at_key(
            top.key("sample_every_s"),
            format!(
                "gives {} samples over duration_s = {}, more than {}: sample less often",
                num(samples.ceil()),
                num(duration_s),
                num(MAX_SAMPLES)
            ),
        ));
    }
    let lookups = workload.lookups_per_s * (duration_s - workload.start_s).max(0.0);
    if lookups > MAX_LOOKUPS {
        return Err(Problem::at_key(
            top.key("workload").key("lookups_per_s"),
            format!("gives about {} lookups, more than the {} a run may issue", num(lookups.ceil()), num(MAX_LOOKUPS)),
        ));
    }
    let updates = workload.updates_per_s * (duration_s - workload.start_s).max(0.0);
    if updates > MAX_LOOKUPS {
        return Err(Problem::at_key(
            top.key("workload").key("updates_per_s"),
            format!(
                "gives about {} updates, more than the {} a run may publish",
                num(updates.ceil()),
                num(MAX_LOOKUPS)
            ),
        ));
    }
    let scheduled: f64 = events.iter().fold(0.0, |total, e| {
        total
            + match &e.action {
                EventAction::Join { count } => f64::from(*count),
                EventAction::JoinIds { ids, .. } => ids.len() as f64,
                _ => 0.0,
            }
    });
    // Twice the expected Poisson joins, and some: far in the tail.
    let poisson = (2.0 * churn.joins_per_s * duration_s).ceil() + if churn.joins_per_s > 0.0 { 100.0 } else { 0.0 };
    let most = initial + scheduled + poisson;
    if most > MAX_NODES_CREATED {
        return Err(Problem::at_key(
            top.key("churn").key("joins_per_s"),
            format!(
                "the run would create up to {} nodes ({} initial, {} scheduled joins, {} Poisson joins at twice \
                 the expected count), more than {}",
                num(most),
                num(initial),
                num(scheduled),
                num(poisson),
                num(MAX_NODES_CREATED)
            ),
        ));
    }
    let size = ring.id_space.size();
    let needed = ID_SPACE_HEADROOM * most as u128;
    if size < needed {
        let path = if ring_given { top.key("ring").key("id_space") } else { top.key("nodes").key("initial") };
        return Err(Problem::at_key(
            path,
            format!(
                "ring.id_space ({size}) must be at least {ID_SPACE_HEADROOM} x the most nodes the run can hold \
                 ({} initial + {} scheduled joins + {} Poisson joins = {}), so at least {needed}",
                num(initial),
                num(scheduled),
                num(poisson),
                num(most)
            ),
        ));
    }
    Ok(())
}

/// An integer in `lo..=hi`, converted to the field's type.
/// An optional integer in [lo, hi], or `default` when absent.
fn int_or<T: TryFrom<i64>>(path: &KeyPath, v: Option<Int>, default: T, lo: i64, hi: i64) -> Result<T> {
    v.map_or(Ok(default), |v| int(path, v, lo, hi))
}

fn int<T: TryFrom<i64>>(path: &KeyPath, v: Int, lo: i64, hi: i64) -> Result<T> {
    let out_of_range = || {
        let rule = if hi == i64::MAX { format!(">= {lo}") } else { format!("between {lo} and {hi}") };
        Problem::at_key(path.clone(), format!("must be {rule}, got {}", v.0))
    };
    if v.0 < lo || v.0 > hi {
        return Err(out_of_range());
    }
    T::try_from(v.0).map_err(|_| out_of_range())
}

/// A ring identifier written as a string: "0x" and hexadecimal, or decimal
/// (TOML integers stop at 2^63).
pub fn ring_id(path: &KeyPath, text: &str) -> Result<RingId> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map(RingId).map_err(|_| {
        Problem::at_key(path.clone(), format!("expected a ring identifier (\"0x…\" or decimal), got {text:?}"))
    })
}

fn ring_ids(path: &KeyPath, texts: Vec<String>) -> Result<Vec<RingId>> {
    texts.iter().enumerate().map(|(k, text)| ring_id(&path.index(k), text)).collect()
}
