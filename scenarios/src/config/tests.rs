use super::*;

/// Every key of the schema, with non-default values where possible.
const FULL: &str = r#"name = "full"
description = "every key"
protocol = "chord"
seed = 42
duration_s = 120
sample_every_s = 0.5

[nodes]
initial = 2000
bootstrap = "joins"
join_interval_ms = 50.0

[ring]
id_space = "2^16"

[protocol_params]
successor_list = 4
fingers = false
stabilize_every_s = 2.0
fix_fingers_every_s = 0
check_predecessor_every_s = 3.5
lookup_timeout_ms = 250.0
max_lookup_hops = 32
randomized_timers = false
alone_adopts_notifier = false

[network]
latency = { kind = "exponential", mean_ms = 40.0, min_ms = 5 }
loss = 0.01

[detector]
detection_delay_ms = 200
false_suspicions_per_link_per_hour = 0.5
false_suspicion_mean_ms = 300.0

[churn]
joins_per_s = 1.5
crashes_per_s = 0.5
leaves_per_s = 0.25
session = { kind = "pareto", shape = 2.0, scale_s = 60 }
session_leave_fraction = 0.3

[workload]
lookups_per_s = 10.0
start_s = 5.0

[[events]]
at_s = 10
kind = "crash_fraction"
fraction = 0.25

[[events]]
at_s = 20
kind = "partition"
groups = 3
assign = "ranges"

[[events]]
at_s = 30
kind = "one_way_cut"
from_group = 0
to_group = 2

[[events]]
at_s = 40
kind = "heal"

[[events]]
at_s = 50
kind = "set_loss"
loss = 0.5

[[events]]
at_s = 60
kind = "crash"
count = 3

[[events]]
at_s = 61
kind = "join"
count = 4

[[events]]
at_s = 62
kind = "leave"
count = 5

[[events]]
at_s = 70
kind = "stop_stabilization"

[[events]]
at_s = 80
kind = "start_stabilization"

[[events]]
at_s = 90
kind = "stop_churn"

[[events]]
at_s = 100
kind = "partition"
groups = 2

[output]
trace = true
"#;

const MINIMAL: &str = r#"name = "minimal"
protocol = "chord"
duration_s = 60

[nodes]
initial = 16
"#;

fn ok(text: &str) -> Scenario {
    parse("test.toml", text, &[]).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

fn err(text: &str) -> String {
    err_with(text, &[])
}

fn err_with(text: &str, overrides: &[&str]) -> String {
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    match parse("test.toml", text, &overrides) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => {
            assert!(!e.message.contains('\n'), "not one line: {e}");
            assert_eq!(e.to_string(), e.message);
            e.message
        }
    }
}

fn with_overrides(text: &str, overrides: &[&str]) -> Scenario {
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    parse("test.toml", text, &overrides).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// `MINIMAL` with `extra` appended.
fn minimal_plus(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle present") + 1
}

#[test]
fn a_full_file_reads_every_key() {
    let s = ok(FULL);
    assert_eq!(s.name, "full");
    assert_eq!(s.description.as_deref(), Some("every key"));
    assert_eq!(s.protocol, ProtocolName::Chord);
    assert_eq!(s.seed, 42);
    assert_eq!(s.duration_s, 120.0);
    assert_eq!(s.sample_every_s, 0.5);
    assert_eq!(
        s.nodes,
        Nodes {
            initial: 2000,
            bootstrap: Bootstrap::Joins,
            join_interval_ms: 50.0,
            join_interval_start_ms: None,
            connectivity: 1.0,
            connectivity_per: ConnectivityPer::Link,
            join_via: JoinVia::Random,
            loops: 1,
            rings: 1,
            rejoin_after_s: None,
            ids: None,
        }
    );
    assert_eq!(s.id_space(), IdSpace::bits(16));
    assert_eq!(
        s.protocol_params,
        ProtocolParams::Chord(ChordParams {
            successor_list: 4,
            fingers: false,
            route_via_successor_list: false,
            stabilize_every_s: 2.0,
            fix_fingers_every_s: 0.0,
            check_predecessor_every_s: 3.5,
            lookup_timeout_ms: 250.0,
            max_lookup_hops: 32,
            randomized_timers: false,
            stabilize_every_joins: 0,
            alone_adopts_notifier: false,
            join_copies_successor_list: true,
            failure_detection: crate::config::FailureDetection::Detector,
            probe_answer: false,
        })
    );
    assert_eq!(s.network.latency, Latency::Exponential { mean_ms: 40.0, min_ms: 5.0 });
    assert_eq!(s.network.loss, 0.01);
    assert_eq!(
        s.detector,
        DetectorSpec {
            detection_delay_ms: 200.0,
            false_suspicions_per_link_per_hour: 0.5,
            false_suspicion_mean_ms: 300.0
        }
    );
    assert_eq!(
        s.churn,
        ChurnSpec {
            joins_per_s: 1.5,
            crashes_per_s: 0.5,
            leaves_per_s: 0.25,
            session: Some(SessionTime::Pareto { shape: 2.0, scale_s: 60.0 }),
            session_leave_fraction: 0.3,
        }
    );
    assert_eq!(
        s.workload,
        WorkloadSpec { lookups_per_s: 10.0, updates_per_s: 0.0, keys: 0, start_when_stable: false, start_s: 5.0 }
    );
    assert!(s.output.trace);
    let actions: Vec<(f64, EventAction)> = s.events.iter().map(|e| (e.at_s, e.action.clone())).collect();
    assert_eq!(
        actions,
        vec![
            (10.0, EventAction::CrashFraction { fraction: 0.25 }),
            (20.0, EventAction::Partition { groups: 3, assign: PartitionAssign::Ranges }),
            (30.0, EventAction::OneWayCut { from_group: 0, to_group: 2 }),
            (40.0, EventAction::Heal),
            (50.0, EventAction::SetLoss { loss: 0.5 }),
            (60.0, EventAction::Crash { count: 3 }),
            (61.0, EventAction::Join { count: 4 }),
            (62.0, EventAction::Leave { count: 5 }),
            (70.0, EventAction::StopStabilization),
            (80.0, EventAction::StartStabilization),
            (90.0, EventAction::StopChurn),
            (100.0, EventAction::Partition { groups: 2, assign: PartitionAssign::Random }),
        ]
    );
    assert_eq!(s.events[3].action.kind(), "heal");
    assert_eq!(s.events[0].at(), SimTime::from_secs(10));
}

#[test]
fn defaults_fill_a_minimal_file() {
    let s = ok(MINIMAL);
    assert_eq!(s.name, "minimal");
    assert_eq!(s.description, None);
    assert_eq!(s.seed, 1);
    assert_eq!(s.duration_s, 60.0);
    assert_eq!(s.sample_every_s, 1.0);
    assert_eq!(
        s.nodes,
        Nodes {
            initial: 16,
            bootstrap: Bootstrap::Ideal,
            join_interval_ms: 100.0,
            join_interval_start_ms: None,
            connectivity: 1.0,
            connectivity_per: ConnectivityPer::Link,
            join_via: JoinVia::Random,
            loops: 1,
            rings: 1,
            rejoin_after_s: None,
            ids: None,
        }
    );
    assert_eq!(s.id_space(), IdSpace::full());
    assert_eq!(s.protocol_params, ProtocolParams::Chord(ChordParams::default()));
    assert_eq!(s.protocol_params.chord().map(|c| c.successor_list), Some(8));
    assert_eq!(s.network, NetworkSpec { latency: Latency::Uniform { min_ms: 10.0, max_ms: 100.0 }, loss: 0.0 });
    assert_eq!(s.detector, DetectorSpec::default());
    assert_eq!(s.detector.detection_delay_ms, 500.0);
    assert_eq!(s.churn, ChurnSpec::default());
    assert_eq!(s.workload, WorkloadSpec::default());
    assert!(s.events.is_empty());
    assert!(!s.output.trace);
}

#[test]
fn conversions_reach_the_engine_types() {
    let s = ok(FULL);
    let config = s.sim_config();
    assert_eq!(config.seed, 42);
    assert_eq!(config.space, IdSpace::bits(16));
    assert_eq!(config.network.loss, 0.01);
    assert_eq!(config.network.latency, Latency::Exponential { mean_ms: 40.0, min_ms: 5.0 });
    assert_eq!(config.detector.detection_delay, SimTime::from_millis(200));
    assert_eq!(config.detector.false_suspicion_mean, SimTime::from_millis(300));
    assert_eq!(config.detector.false_suspicions_per_link_per_hour, 0.5);
    assert_eq!(config.churn.crashes_per_s, 0.5);
    assert_eq!(config.churn.session, Some(SessionTime::Pareto { shape: 2.0, scale_s: 60.0 }));
    assert_eq!(config.churn.session_leave_fraction, 0.3);
    assert_eq!(s.duration(), SimTime::from_secs(120));
    assert_eq!(s.sample_every(), SimTime::from_millis(500));
    assert_eq!(ok(MINIMAL).detector.to_config(), DetectorConfig::default());
}

#[test]
fn other_latency_session_and_id_space_forms() {
    let s = ok(&minimal_plus(
        "[ring]\nid_space = 100000\n[network]\nlatency = { kind = \"table\", ms = [[1, 50.5], [60, 2]] }\n\
         [churn]\nsession = { kind = \"weibull\", shape = 0.5, scale_s = 10 }\n",
    ));
    assert_eq!(s.id_space(), IdSpace::modulus(100_000));
    assert_eq!(s.network.latency, Latency::Table { ms: vec![vec![1.0, 50.5], vec![60.0, 2.0]] });
    assert_eq!(s.churn.session, Some(SessionTime::Weibull { shape: 0.5, scale_s: 10.0 }));
    let s = ok(&minimal_plus(
        "[network.latency]\nkind = \"constant\"\nms = 7\n[churn.session]\nkind = \"exponential\"\nmean_s = 600\n",
    ));
    assert_eq!(s.network.latency, Latency::Constant { ms: 7.0 });
    assert_eq!(s.churn.session, Some(SessionTime::Exponential { mean_s: 600.0 }));
    assert_eq!(ok(&minimal_plus("[ring]\nid_space = \"2^64\"\n")).id_space(), IdSpace::full());
    assert_eq!(ok(&minimal_plus("[ring]\nid_space = \"2^7\"\n")).id_space(), IdSpace::bits(7));
}

#[test]
fn connectivity_is_drawn_per_link_or_per_direction() {
    let s = ok(&format!("{MINIMAL}connectivity = 0.9\nconnectivity_per = \"direction\"\n"));
    assert_eq!((s.nodes.connectivity, s.nodes.connectivity_per), (0.9, ConnectivityPer::Direction));
    assert_eq!(ok(MINIMAL).nodes.connectivity_per, ConnectivityPer::Link);
    assert_eq!(
        err(&format!("{MINIMAL}connectivity_per = \"pair\"\n")),
        "test.toml:7:20: nodes.connectivity_per: unknown value \"pair\" (expected one of: link, direction)"
    );
}

#[test]
fn every_protocol_name_is_accepted() {
    for protocol in ProtocolName::ALL {
        let text = MINIMAL.replace("\"chord\"", &format!("\"{protocol}\""));
        let s = ok(&text);
        assert_eq!(s.protocol, protocol);
        assert_eq!(s.protocol_params, ProtocolParams::defaults(protocol));
        let s = ok(&format!("{text}[protocol_params]\n"));
        assert_eq!(s.protocol_params, ProtocolParams::defaults(protocol));
    }
    let e = err(&MINIMAL.replace("\"chord\"", "\"kademlia\""));
    assert_eq!(
        e,
        "test.toml:2:12: protocol: unknown value \"kademlia\" (expected one of: chord, relaxed_ring, dks, palta, gossip)"
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_line_and_path() {
    // Top level.
    let e = err("name = \"x\"\nprotocol = \"chord\"\nduration = 5\n[nodes]\ninitial = 1\n");
    assert!(
        e.starts_with("test.toml:3:1: duration: unknown key (expected one of: name, description, protocol,"),
        "{e}"
    );
    // Nested table.
    let e = err("name = \"x\"\nprotocol = \"chord\"\nduration_s = 5\n[nodes]\nintial = 1\n");
    assert_eq!(
        e,
        "test.toml:5:1: nodes.intial: unknown key (expected one of: initial, bootstrap, join_interval_ms, join_interval_start_ms, connectivity, connectivity_per, join_via, loops, rings, rejoin_after_s, ids)"
    );
    // Nested inline table, with the column.
    let e = err(&minimal_plus("[network]\nlatency = { kind = \"constant\", ms = 1, mx = 2 }\n"));
    assert_eq!(e, "test.toml:8:40: network.latency.mx: unknown key (expected one of: kind, ms)");
    // protocol_params of chord.
    let text = minimal_plus("[protocol_params]\nsuccessor_list = 4\nxyz = 1\n");
    let e = err(&text);
    assert!(
        e.starts_with(&format!(
            "test.toml:{}:1: protocol_params.xyz: unknown key (expected one of: successor_list,",
            line_of(&text, "xyz")
        )),
        "{e}"
    );
    // A key of another protocol's parameters.
    let text = MINIMAL.replace("\"chord\"", "\"dks\"") + "[protocol_params]\nsuccessor_list = 4\n";
    let e = err(&text);
    assert!(e.starts_with("test.toml:8:1: protocol_params.successor_list: unknown key"), "{e}");
    // A Chord key given to the relaxed ring.
    let text = MINIMAL.replace("\"chord\"", "\"relaxed_ring\"") + "[protocol_params]\nstabilize_every_s = 4\n";
    let e = err(&text);
    assert!(e.starts_with("test.toml:8:1: protocol_params.stabilize_every_s: unknown key"), "{e}");
    // Inside an [[events]] entry.
    let text = minimal_plus(
        "[[events]]\nat_s = 1\nkind = \"crash\"\ncount = 1\n[[events]]\nat_s = 2\nkind = \"crash\"\ncont = 3\n",
    );
    let e = err(&text);
    assert_eq!(
        e,
        format!(
            "test.toml:{}:1: events[1].cont: unknown key (expected one of: kind, at_s, count)",
            line_of(&text, "cont")
        )
    );
    // A key the table does not have.
    let e = err(&minimal_plus("[output]\ntrace = true\nformat = \"json\"\n"));
    assert_eq!(e, "test.toml:9:1: output.format: unknown key (expected one of: trace, snapshot_at_s)");
}

#[test]
fn out_of_range_values_name_file_line_and_key() {
    let text = minimal_plus("[churn]\njoins_per_s = 1\ncrashes_per_s = -0.5\n");
    assert_eq!(err(&text), "test.toml:9:1: churn.crashes_per_s: must be >= 0, got -0.5");
    assert_eq!(
        err(&minimal_plus("[network]\nloss = 1.5\n")),
        "test.toml:8:1: network.loss: must be in [0, 1], got 1.5"
    );
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"crash_fraction\"\nfraction = 1.5\n");
    assert_eq!(err(&text), "test.toml:10:1: events[0].fraction: must be in [0, 1], got 1.5");
    assert_eq!(
        err(&minimal_plus("[ring]\nid_space = \"2^65\"\n")),
        "test.toml:8:1: ring.id_space: must be an integer >= 2 or \"2^m\" with 1 <= m <= 64, got \"2^65\""
    );
    assert_eq!(err(&minimal_plus("[ring]\nid_space = 1\n")), "test.toml:8:1: ring.id_space: must be >= 2, got 1");
    assert_eq!(
        err(&minimal_plus("[ring]\nid_space = \"2^0\"\n")),
        "test.toml:8:1: ring.id_space: must be an integer >= 2 or \"2^m\" with 1 <= m <= 64, got \"2^0\""
    );
    let e = err(&minimal_plus("[network]\nlatency = { kind = \"gaussian\", ms = 3 }\n"));
    assert_eq!(
        e,
        "test.toml:8:20: network.latency.kind: unknown value \"gaussian\" (expected one of: constant, uniform, exponential, table)"
    );
    let text = minimal_plus("[network.latency]\nkind = \"table\"\nms = [\n  [1, 2],\n  [3, 4, 5],\n]\n");
    assert_eq!(
        err(&text),
        "test.toml:11:3: network.latency.ms[1]: must have 2 entries, as there are 2 rows (the table is square), got 3"
    );
    let text = minimal_plus("[network.latency]\nkind = \"table\"\nms = [[1, 2]]\n");
    assert_eq!(
        err(&text),
        "test.toml:9:7: network.latency.ms[0]: must have 1 entry, as there is 1 row (the table is square), got 2"
    );
    let text = minimal_plus("[network.latency]\nkind = \"table\"\nms = []\n");
    assert_eq!(err(&text), "test.toml:9:1: network.latency.ms: must not be empty (one row per site)");
    let text = minimal_plus("[network.latency]\nkind = \"table\"\nms = [[0, -1], [1, 0]]\n");
    assert_eq!(err(&text), "test.toml:9:11: network.latency.ms[0][1]: must be >= 0, got -1");
    let text = minimal_plus("[network]\nlatency = { kind = \"uniform\", min_ms = 50, max_ms = 10 }\n");
    assert_eq!(err(&text), "test.toml:8:31: network.latency.min_ms: must be <= max_ms (10), got 50");
    assert_eq!(
        err(&MINIMAL.replace("duration_s = 60", "duration_s = 0")),
        "test.toml:3:1: duration_s: must be > 0, got 0"
    );
    assert_eq!(
        err(&MINIMAL.replace("duration_s = 60", "duration_s = inf")),
        "test.toml:3:1: duration_s: must be a finite number, got inf"
    );
    assert_eq!(
        err(&MINIMAL.replace("duration_s = 60", "duration_s = nan")),
        "test.toml:3:1: duration_s: must be a finite number, got NaN"
    );
    assert_eq!(
        err(&MINIMAL.replace("initial = 16", "initial = 0")),
        "test.toml:6:1: nodes.initial: must be between 1 and 10000000, got 0"
    );
    assert_eq!(
        err(&MINIMAL.replace("initial = 16", "initial = 10000001")),
        "test.toml:6:1: nodes.initial: must be between 1 and 10000000, got 10000001"
    );
    assert_eq!(
        err(&minimal_plus("seed = 3\n")).split(": ").nth(1),
        Some("nodes.seed"),
        "seed after [nodes] is nodes.seed"
    );
    assert_eq!(err(&format!("seed = -1\n{MINIMAL}")), "test.toml:1:1: seed: must be >= 0, got -1");
    let text = minimal_plus("[protocol_params]\nsuccessor_list = 65\n");
    assert_eq!(err(&text), "test.toml:8:1: protocol_params.successor_list: must be between 1 and 64, got 65");
    let palta = MINIMAL.replace("\"chord\"", "\"palta\"") + "[protocol_params]\n";
    let e = err(&format!("{palta}mesh_sync_every_s = -1\n"));
    assert!(e.starts_with("test.toml:8:1: protocol_params.mesh_sync_every_s: must be"), "{e}");
    let s = ok(&format!("{palta}omega = 30\nmesh_sync_every_s = 0.5\n"));
    assert_eq!(
        s.protocol_params,
        ProtocolParams::Palta(PaltaParams { omega: 30, mesh_sync_every_s: 0.5 }),
        "parsed as written"
    );
    let text = minimal_plus("[[events]]\nat_s = 61\nkind = \"heal\"\n");
    assert_eq!(err(&text), "test.toml:8:1: events[0].at_s: must be <= duration_s (60), got 61");
    let text = minimal_plus("[[events]]\nat_s = -1\nkind = \"heal\"\n");
    assert_eq!(err(&text), "test.toml:8:1: events[0].at_s: must be >= 0, got -1");
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"partition\"\ngroups = 65\n");
    assert_eq!(err(&text), "test.toml:10:1: events[0].groups: must be between 2 and 64, got 65");
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"one_way_cut\"\nfrom_group = 3\nto_group = 3\n");
    assert_eq!(err(&text), "test.toml:11:1: events[0].to_group: must differ from from_group, got 3 for both");
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"one_way_cut\"\nfrom_group = 64\nto_group = 3\n");
    assert_eq!(err(&text), "test.toml:10:1: events[0].from_group: must be between 0 and 63, got 64");
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"crash\"\ncount = -1\n");
    assert_eq!(err(&text), "test.toml:10:1: events[0].count: must be between 0 and 10000000, got -1");
    let text = minimal_plus("[churn]\nsession = { kind = \"pareto\", shape = 0, scale_s = 1 }\n");
    assert_eq!(err(&text), "test.toml:8:30: churn.session.shape: must be > 0, got 0");
    assert_eq!(
        err(&minimal_plus("[churn]\nsession_leave_fraction = 2\n")),
        "test.toml:8:1: churn.session_leave_fraction: must be in [0, 1], got 2"
    );
    assert_eq!(err(&MINIMAL.replace("name = \"minimal\"", "name = \"  \"")), "test.toml:1:1: name: must not be empty");
    assert_eq!(
        err(&minimal_plus("[detector]\nfalse_suspicion_mean_ms = 0\n")),
        "test.toml:8:1: detector.false_suspicion_mean_ms: must be > 0, got 0"
    );
    assert_eq!(
        err(&minimal_plus("[workload]\nstart_s = -2\n")),
        "test.toml:8:1: workload.start_s: must be >= 0, got -2"
    );
}

#[test]
fn type_errors_point_at_the_value() {
    let text = "name = \"x\"\nprotocol = \"chord\"\nduration_s = \"ten\"\n[nodes]\ninitial = 1\n";
    assert_eq!(err(text), "test.toml:3:14: duration_s: invalid type: string \"ten\", expected f64");
    let e = err(&MINIMAL.replace("initial = 16", "initial = 1.5"));
    assert_eq!(e, "test.toml:6:11: nodes.initial: invalid type: floating point `1.5`, expected an integer");
    let e = err(&minimal_plus("[output]\ntrace = \"yes\"\n"));
    assert_eq!(e, "test.toml:8:9: output.trace: invalid type: string \"yes\", expected a boolean");
    let e = err(&minimal_plus("churn = 5\n"));
    assert_eq!(
        e,
        "test.toml:7:1: nodes.churn: unknown key (expected one of: initial, bootstrap, join_interval_ms, join_interval_start_ms, connectivity, connectivity_per, join_via, loops, rings, rejoin_after_s, ids)"
    );
    let e = err(&format!("churn = 5\n{MINIMAL}"));
    assert_eq!(e, "test.toml:1:9: churn: invalid type: integer `5`, expected a table");
    let e = err(&minimal_plus("[network]\nlatency = { kind = 3, ms = 1 }\n"));
    assert_eq!(e, "test.toml:8:20: network.latency.kind: invalid type: integer `3`, expected a string");
    let e = err(&minimal_plus("[network]\nlatency = 3\n"));
    assert_eq!(e, "test.toml:8:11: network.latency: invalid type: integer `3`, expected a table");
    let e = err(&minimal_plus("[nodes2]\n").replace("[nodes]\ninitial = 16\n", ""));
    assert!(e.starts_with("test.toml:5:2: nodes2: unknown key"), "{e}");
    let e = err(&MINIMAL.replace("initial = 16\n", "initial = 16\nbootstrap = 3\n"));
    assert_eq!(e, "test.toml:7:13: nodes.bootstrap: invalid type: integer `3`, expected a string");
    let e = err(&minimal_plus("[network]\nlatency = { kind = \"table\", ms = 5 }\n"));
    assert_eq!(e, "test.toml:8:34: network.latency.ms: invalid type: integer `5`, expected an array");
    let e = err(&minimal_plus("[network]\nlatency = { kind = \"table\", ms = [[1, \"a\"]] }\n"));
    assert_eq!(e, "test.toml:8:39: network.latency.ms[0][1]: invalid type: string \"a\", expected f64");
    let e = err(&minimal_plus("[ring]\nid_space = 1.5\n"));
    assert_eq!(
        e,
        "test.toml:8:12: ring.id_space: invalid type: floating point `1.5`, expected an integer >= 2 or a string \"2^m\""
    );
    let e = err_with(MINIMAL, &["protocol=1"]);
    assert_eq!(e, "--set protocol=1: protocol: invalid type: integer `1`, expected a string");
    let e = err(&minimal_plus("[[events]]\nat_s = 1\nkind = \"crash\"\ncount = \"many\"\n"));
    assert_eq!(e, "test.toml:10:9: events[0].count: invalid type: string \"many\", expected an integer");
    let e = err(&minimal_plus("[[events]]\nat_s = 1\nkind = \"partition\"\ngroups = 2\nassign = \"rings\"\n"));
    assert_eq!(
        e,
        "test.toml:11:10: events[0].assign: unknown value \"rings\" (expected one of: random, ranges, lists)"
    );
}

#[test]
fn missing_keys_are_named() {
    let e = err("protocol = \"chord\"\nduration_s = 5\n[nodes]\ninitial = 1\n");
    assert_eq!(e, "test.toml:1:1: name: missing required key");
    let e = err("name = \"x\"\nprotocol = \"chord\"\nduration_s = 5\n");
    assert_eq!(e, "test.toml:1:1: nodes: missing required key");
    let e = err("name = \"x\"\nprotocol = \"chord\"\nduration_s = 5\n\n[nodes]\nbootstrap = \"joins\"\n");
    assert_eq!(e, "test.toml:5:2: nodes.initial: missing required key");
    let e = err(&minimal_plus("[[events]]\nat_s = 1\n"));
    assert_eq!(e, "test.toml:7:1: events[0].kind: missing required key");
    let e = err(&minimal_plus("[[events]]\nkind = \"crash\"\ncount = 1\n"));
    assert_eq!(e, "test.toml:7:1: events[0].at_s: missing required key");
    let e = err(&minimal_plus("[network]\nlatency = { kind = \"uniform\", min_ms = 1 }\n"));
    assert_eq!(e, "test.toml:8:1: network.latency.max_ms: missing required key");
}

#[test]
fn malformed_toml_names_file_and_line() {
    let e = err("name = \"x\"\nprotocol = \"chord\ndescription = \"y\"\n");
    assert!(e.starts_with("test.toml:2:"), "{e}");
    let e = err("name = \"x\"\n[nodes\ninitial = 1\n");
    assert!(e.starts_with("test.toml:2:"), "{e}");
    let e = err("name = \"x\"\nname = \"y\"\n");
    assert!(e.starts_with("test.toml:2:1: duplicate key"), "{e}");
    let e = err("a = 99999999999999999999\n");
    assert!(e.starts_with("test.toml:1:5: "), "{e}");
}

#[test]
fn load_reads_files_and_reports_unreadable_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("my.toml");
    std::fs::write(&path, MINIMAL).expect("write");
    let s = load(&path, &["nodes.initial=5".to_owned()]).expect("loads");
    assert_eq!(s.nodes.initial, 5);

    std::fs::write(&path, MINIMAL.replace("initial = 16", "intial = 16")).expect("write");
    let e = load(&path, &[]).expect_err("unknown key");
    assert_eq!(
        e.message,
        format!(
            "{}:6:1: nodes.intial: unknown key (expected one of: initial, bootstrap, join_interval_ms, join_interval_start_ms, connectivity, connectivity_per, join_via, loops, rings, rejoin_after_s, ids)",
            path.display()
        )
    );

    let missing = dir.path().join("missing.toml");
    let e = load(&missing, &[]).expect_err("missing");
    assert!(e.message.starts_with(&format!("{}: cannot read file: ", missing.display())), "{e}");

    let mut bytes = MINIMAL.as_bytes().to_vec();
    bytes.extend_from_slice(b"description = \"\xff\"\n");
    std::fs::write(&path, bytes).expect("write");
    let e = load(&path, &[]).expect_err("not utf-8");
    assert_eq!(e.message, format!("{}:7:16: not valid UTF-8", path.display()));
}

#[test]
fn set_overrides_nested_keys_and_creates_tables() {
    let s = with_overrides(FULL, &["nodes.initial=4096", "protocol_params.successor_list = 16"]);
    assert_eq!(s.nodes.initial, 4096);
    assert_eq!(s.protocol_params.chord().map(|c| c.successor_list), Some(16));

    // No [churn] in the file: the table is created.
    let s = with_overrides(MINIMAL, &["churn.crashes_per_s=0.1", "churn.session={kind=\"exponential\", mean_s=5}"]);
    assert_eq!(s.churn.crashes_per_s, 0.1);
    assert_eq!(s.churn.session, Some(SessionTime::Exponential { mean_s: 5.0 }));

    // A whole inline table, a bare word, a "2^m" string and an array element.
    let s = with_overrides(
        FULL,
        &[
            "network.latency={kind=\"constant\", ms=3}",
            "protocol=chord",
            "ring.id_space=2^20",
            "events[1].groups=4",
            "name=renamed run",
        ],
    );
    assert_eq!(s.network.latency, Latency::Constant { ms: 3.0 });
    assert_eq!(s.id_space(), IdSpace::bits(20));
    assert_eq!(s.events[1].action, EventAction::Partition { groups: 4, assign: PartitionAssign::Ranges });
    assert_eq!(s.name, "renamed run");

    // Later overrides win.
    let s = with_overrides(MINIMAL, &["seed=5", "seed=6"]);
    assert_eq!(s.seed, 6);

    // Overrides can supply required keys.
    let s = with_overrides("name = \"x\"\nprotocol = \"dks\"\n", &["duration_s=10", "nodes.initial=3"]);
    assert_eq!((s.duration_s, s.nodes.initial, s.protocol), (10.0, 3, ProtocolName::Dks));
}

#[test]
fn bad_set_values_name_the_set_argument() {
    assert_eq!(
        err_with(MINIMAL, &["churn.crashes_per_s=-1"]),
        "--set churn.crashes_per_s=-1: churn.crashes_per_s: must be >= 0, got -1"
    );
    assert_eq!(
        err_with(MINIMAL, &["nodes.initial=abc"]),
        "--set nodes.initial=abc: nodes.initial: invalid type: string \"abc\", expected an integer"
    );
    assert_eq!(
        err_with(MINIMAL, &["nodes.intial=5"]),
        "--set nodes.intial=5: nodes.intial: unknown key (expected one of: initial, bootstrap, join_interval_ms, join_interval_start_ms, connectivity, connectivity_per, join_via, loops, rings, rejoin_after_s, ids)"
    );
    assert_eq!(
        err_with(MINIMAL, &["protocol=kademlia"]),
        "--set protocol=kademlia: protocol: unknown value \"kademlia\" (expected one of: chord, relaxed_ring, dks, palta, gossip)"
    );
    // An error inside a table an override created.
    assert_eq!(
        err_with(MINIMAL, &["network.latency.kind=constant"]),
        "--set network.latency.kind=constant: network.latency.ms: missing required key"
    );
    // An error the override did not cause still points into the file.
    let text = minimal_plus("[network]\nlatency = { kind = \"uniform\", min_ms = 1, max_ms = 2 }\n");
    assert_eq!(
        err_with(&text, &["network.latency.kind=constant"]),
        "test.toml:8:43: network.latency.max_ms: unknown key (expected one of: kind, ms)"
    );
    assert_eq!(err_with(MINIMAL, &["nodes.initial"]), "--set nodes.initial: expected key.path=value");
    assert_eq!(err_with(MINIMAL, &["=3"]), "--set =3: empty key");
    assert_eq!(
        err_with(MINIMAL, &["nodes..initial=3"]).split(": ").nth(1),
        Some(
            "invalid key `` in `nodes..initial` (a key is letters, digits, `_` and `-`, optionally followed by [index])"
        )
    );
    assert_eq!(
        err_with(MINIMAL, &["nodes.initial.x=3"]),
        "--set nodes.initial.x=3: `nodes.initial` is an integer, not a table"
    );
    assert_eq!(err_with(MINIMAL, &["nodes[0]=3"]), "--set nodes[0]=3: `nodes` is a table, not an array");
    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"heal\"\n");
    assert_eq!(
        err_with(&text, &["events[1].at_s=3"]),
        "--set events[1].at_s=3: `events` has 1 entries, there is no [1]"
    );
    assert_eq!(
        err_with(MINIMAL, &["name=\"unterminated"]),
        "--set name=\"unterminated: invalid TOML value `\"unterminated`: invalid basic string, expected `\"`"
    );
    assert_eq!(err_with(MINIMAL, &["seed=1", "seed=-3"]), "--set seed=-3: seed: must be >= 0, got -3");
}

#[test]
fn apply_override_edits_a_table() {
    let mut table: toml::Table = toml::from_str(MINIMAL).expect("parses");
    apply_override(&mut table, "churn.session.kind = weibull").expect("applies");
    apply_override(&mut table, "nodes.initial=[1, 2]").expect("applies");
    assert_eq!(table["churn"]["session"]["kind"].as_str(), Some("weibull"));
    assert_eq!(table["nodes"]["initial"].as_array().map(Vec::len), Some(2));
    let before = table.clone();
    assert!(apply_override(&mut table, "nodes.initial[5].x=1").is_err());
    assert!(apply_override(&mut table, "a.b[0]=1").is_err());
    assert_eq!(table, before, "a failed override leaves the table as it was");
    assert_eq!(overrides::parse_value(" 12 "), Ok(toml::Value::Integer(12)));
    assert_eq!(overrides::parse_value("hello world"), Ok(toml::Value::String("hello world".to_owned())));
    assert_eq!(overrides::parse_value(""), Ok(toml::Value::String(String::new())));
    assert_eq!(overrides::parse_value("true"), Ok(toml::Value::Boolean(true)));
    assert!(overrides::parse_value("[1, ").is_err());
}

#[test]
fn key_paths_parse_and_print() {
    let path = KeyPath::parse(" events[2].at_s ").expect("parses");
    assert_eq!(path.to_string(), "events[2].at_s");
    assert_eq!(KeyPath::parse("a.b[1][0]").map(|p| p.to_string()), Ok("a.b[1][0]".to_owned()));
    for bad in ["", "a.", ".a", "a[", "a[x]", "a[1", "a]", "a b", "a[-1]"] {
        assert!(KeyPath::parse(bad).is_err(), "{bad:?} should not parse");
    }
    assert_eq!(KeyPath::of(&["a b", "c"]).to_string(), "\"a b\".c");
}

#[test]
fn line_and_column_are_counted_in_characters() {
    let text = "ab\ncé d\n";
    assert_eq!(spans::line_col(text, 0), (1, 1));
    assert_eq!(spans::line_col(text, 3), (2, 1));
    assert_eq!(spans::line_col(text, 6), (2, 3), "é is two bytes, one column");
    assert_eq!(spans::line_col(text, 5), (2, 2), "inside é: pulled back");
    assert_eq!(spans::line_col(text, 999), (3, 1));
    assert_eq!(spans::line_col("", 3), (1, 1));
}

#[test]
fn messages_stay_on_one_line() {
    let e = err(&minimal_plus("[output]\ntrace = \"a\\nb\"\n"));
    assert!(e.contains("\"a\\nb\""), "{e}");
    let e = parse("two\nlines.toml", "x = ", &[]).expect_err("fails");
    assert!(e.message.starts_with("two\\nlines.toml:1:"), "{e}");
}

/// A deterministic xorshift, for the garbage inputs below.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "=".into(),
        "[".into(),
        "[[".into(),
        "]]".into(),
        "\u{feff}name = 1".into(),
        "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]".into(),
        format!("x = {}", "[".repeat(500)),
        format!("x = {}", "{a=".repeat(500)),
        format!("{}= 1", "a.".repeat(500)),
        "events = [1, 2]".into(),
        "events = 3".into(),
        "protocol_params = 3".into(),
        "[network]\nlatency = []".into(),
        "[[nodes]]\ninitial = 1".into(),
        "[churn.session]\nkind = \"\"".into(),
        "ring = { id_space = -9223372036854775808 }".into(),
        "ring = { id_space = \"2^\" }".into(),
        "ring = { id_space = \"2^99999999999999999999\" }".into(),
        "[[events]]\nkind = []".into(),
        format!("{MINIMAL}[[events]]\nkind = \"crash\"\nat_s = 1\ncount = 9223372036854775807\n"),
        format!("{MINIMAL}[network.latency]\nkind = \"table\"\nms = [[]]\n"),
        format!("{MINIMAL}[network.latency]\nkind = \"table\"\nms = [1]\n"),
        format!("{MINIMAL}[network.latency]\nkind = \"table\"\nms = [[1e308, -1e308], [nan, inf]]\n"),
        FULL.replace('\n', "\r\n"),
    ];
    // Truncations of the full example, at every byte that is a boundary.
    for cut in (0..FULL.len()).step_by(7) {
        if let Some(prefix) = FULL.get(..cut) {
            inputs.push(prefix.to_owned());
        }
    }
    // Random bytes and random mutations of the full example.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..200 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            (0..(xorshift(&mut state) % 200)).map(|_| xorshift(&mut state) as u8).collect()
        } else {
            let mut bytes = FULL.as_bytes().to_vec();
            for _ in 0..(1 + xorshift(&mut state) % 8) {
                let at = (xorshift(&mut state) % bytes.len() as u64) as usize;
                let alphabet = b"=[]{}\"'.,#\n 0-x";
                bytes[at] = alphabet[(xorshift(&mut state) % alphabet.len() as u64) as usize];
            }
            bytes
        };
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let overrides = ["seed=3".to_owned(), "nodes.x[3]=1".to_owned(), "a=[".to_owned(), "b".to_owned()];
    let mut accepted = 0;
    for input in &inputs {
        for overrides in [&[][..], &overrides[..1], &overrides[1..2], &overrides[2..]] {
            match parse("fuzz.toml", input, overrides) {
                Ok(_) => accepted += 1,
                Err(e) => assert!(!e.message.is_empty() && !e.message.contains('\n'), "{input:?}: {e}"),
            }
        }
    }
    assert!(accepted > 0, "some truncation of the full example is itself valid");
}

#[test]
fn an_unknown_key_brought_in_by_an_override_names_the_override() {
    let error = parse(
        "s.toml",
        "name = \"t\"\nprotocol = \"chord\"\nduration_s = 5\n[nodes]\ninitial = 10\n",
        &["foo.bar=1".to_string()],
    )
    .unwrap_err();
    assert!(error.message.starts_with("--set foo.bar=1: foo"), "{}", error.message);
}

#[test]
fn merge_tables_kicks_flapping_and_listed_partitions_read_and_validate() {
    let s = ok(&minimal_plus(
        "[merge]\nfanout = 4\nping_every_s = 2\n\n\
         [[events]]\nat_s = 1\nkind = \"kick\"\n\n\
         [[events]]\nat_s = 10\nkind = \"flapping\"\ngroups = 2\ndown_s = 5\nup_s = 3\ncycles = 2\n\n\
         [[events]]\nat_s = 40\nkind = \"partition\"\nassign = \"lists\"\nlists = [[0, 1], [5]]\n",
    ));
    let merge = s.merge.clone().expect("merge on");
    assert_eq!((merge.fanout, merge.ping_every_s, merge.gossip_budget), (4, 2.0, 16));
    let actions: Vec<(f64, EventAction)> = s.events.iter().map(|e| (e.at_s, e.action.clone())).collect();
    let cut = EventAction::Partition { groups: 2, assign: PartitionAssign::Random };
    assert_eq!(
        actions,
        vec![
            (1.0, EventAction::Kick { count: 1, across: true }),
            (10.0, cut.clone()),
            (15.0, EventAction::Heal),
            (18.0, cut),
            (23.0, EventAction::Heal),
            (40.0, EventAction::Partition { groups: 3, assign: PartitionAssign::Lists(vec![vec![0, 1], vec![5]]) }),
        ]
    );
    assert_eq!(with_overrides(&minimal_plus("[merge]\n"), &["merge.enabled=false"]).merge, None);

    let text = minimal_plus("[[events]]\nat_s = 1\nkind = \"kick\"\n");
    assert!(err(&text).ends_with("events[0].kind: a kick needs the [merge] table"), "{}", err(&text));
    // Every ring protocol runs inside the merge layer.
    for protocol in ["relaxed_ring", "dks", "palta"] {
        let text = minimal_plus("[merge]\n").replace("\"chord\"", &format!("\"{protocol}\""));
        assert!(ok(&text).merge.is_some(), "{protocol}");
    }
    let text = minimal_plus("[merge]\nfanout = 65\n");
    assert!(err(&text).contains("merge.fanout: must be between 0 and 64, got 65"), "{}", err(&text));
    let text =
        minimal_plus("[[events]]\nat_s = 50\nkind = \"flapping\"\ngroups = 2\ndown_s = 5\nup_s = 5\ncycles = 2\n");
    assert!(
        err(&text).contains("events[0].cycles: the last heal at 65 s falls after duration_s (60)"),
        "{}",
        err(&text)
    );
    let text = minimal_plus("[[events]]\nat_s = 5\nkind = \"partition\"\nlists = [[1]]\n");
    assert!(err(&text).contains("events[0].lists: `lists` needs assign = \"lists\""), "{}", err(&text));
    let text = minimal_plus("[[events]]\nat_s = 5\nkind = \"partition\"\n");
    assert!(err(&text).contains("events[0].groups: missing required key"), "{}", err(&text));
    let text = MINIMAL.replace("initial = 16", "initial = 16\nloops = 9");
    assert!(err(&text).contains("nodes.loops: must be <= initial / 2 (8), got 9"), "{}", err(&text));
    let text = MINIMAL.replace("initial = 16", "initial = 16\nrings = 2\nbootstrap = \"joins\"");
    assert!(err(&text).contains("nodes.rings: rings built apart need bootstrap = \"ideal\""), "{}", err(&text));
}

#[test]
fn mutated_scenario_files_give_errors_never_panics() {
    // A first slice of issue 6's parser fuzzing: every shipped scenario,
    // mutated at random (bytes flipped, inserted, deleted; lines dropped,
    // duplicated, swapped; numbers negated or blown up), must parse or fail
    // with one line, never panic.
    use sim_core::rng::{Draw, Purpose, Stream};
    let mut rng = Stream::new(6, Purpose::Scenario);
    let pieces = ["=", "\"", "[", "]", "{", "}", ",", "-1", "1e400", "nan", "0", "\n", "[[events]]\n", "kind = "];
    let (mut parsed, mut rejected) = (0, 0);
    for (name, text) in crate::library::BUILTIN {
        for _ in 0..300 {
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(lines.len() as u64) as usize;
                match rng.below(6) {
                    0 => {
                        lines.remove(at);
                    }
                    1 => {
                        let line = lines[at].clone();
                        lines.insert(at, line);
                    }
                    2 => {
                        let other = rng.below(lines.len() as u64) as usize;
                        lines.swap(at, other);
                    }
                    3 => {
                        let line = &mut lines[at];
                        let cut = rng.below(line.len() as u64 + 1) as usize;
                        let cut = (0..=cut).rev().find(|&c| line.is_char_boundary(c)).unwrap_or(0);
                        line.truncate(cut);
                    }
                    _ => {
                        let line = &mut lines[at];
                        let cut = rng.below(line.len() as u64 + 1) as usize;
                        let cut = (0..=cut).rev().find(|&c| line.is_char_boundary(c)).unwrap_or(0);
                        line.insert_str(cut, pieces[rng.below(pieces.len() as u64) as usize]);
                    }
                }
                if lines.is_empty() {
                    lines.push(String::new());
                }
            }
            match parse(name, &lines.join("\n"), &[]) {
                Ok(_) => parsed += 1,
                Err(e) => {
                    assert!(!e.message.contains('\n'), "{name}: not one line: {e}");
                    assert!(e.message.starts_with(name), "{name}: {e}");
                    rejected += 1;
                }
            }
        }
    }
    assert!(rejected > 1000 && parsed > 100, "{rejected} rejected, {parsed} parsed");
}

#[test]
fn zero_counts_and_fractions_are_legal() {
    for (kind, field) in [("crash_fraction", "fraction"), ("crash", "count"), ("join", "count"), ("leave", "count")] {
        let s = ok(&minimal_plus(&format!("[[events]]\nat_s = 1\nkind = \"{kind}\"\n{field} = 0\n")));
        assert_eq!(s.events.len(), 1, "{kind}");
    }
}

#[test]
fn a_name_that_would_leave_the_output_folder_is_rejected() {
    for bad in ["../evil", "a/b", ".hidden", "", "x\\\\y", " lead"] {
        let text = MINIMAL.replace("name = \"minimal\"", &format!("name = \"{bad}\""));
        let e = err(&text);
        assert!(e.starts_with("test.toml:1:1: name: must"), "{bad:?}: {e}");
    }
    assert_eq!(ok(&MINIMAL.replace("minimal", "my run-2.b_c")).name, "my run-2.b_c");
}

#[test]
fn an_id_space_too_small_for_the_nodes_is_rejected_up_front() {
    // 16 initial nodes need at least 8 x 16 = 128 identifiers.
    let e = err(&minimal_plus("[ring]\nid_space = 100\n"));
    assert!(e.starts_with("test.toml:8:1: ring.id_space: ring.id_space (100) must be at least 8 x"), "{e}");
    assert!(e.contains("so at least 128"), "{e}");
    assert_eq!(ok(&minimal_plus("[ring]\nid_space = 128\n")).id_space(), IdSpace::modulus(128));
    // Joins count: scheduled ones, and twice the expected Poisson ones plus 100.
    let e = err(&minimal_plus("[ring]\nid_space = 1800\n[churn]\njoins_per_s = 1\n"));
    assert!(e.contains("16 initial + 0 scheduled joins + 220 Poisson joins = 236"), "{e}");
    let e = err(&minimal_plus("[ring]\nid_space = 200\n[[events]]\nat_s = 1\nkind = \"join\"\ncount = 20\n"));
    assert!(e.contains("20 scheduled joins"), "{e}");
    // With no [ring] the 2^64 default always has room; a --set names itself.
    let e = err_with(MINIMAL, &["ring.id_space=16"]);
    assert!(e.starts_with("--set ring.id_space=16: ring.id_space"), "{e}");
}

#[test]
fn a_run_too_large_to_finish_is_refused() {
    let e = err(&MINIMAL.replace("duration_s = 60", "duration_s = 1e12"));
    assert_eq!(e, "test.toml:3:1: duration_s: must be <= 10000000, got 1000000000000");
    let e = err(&minimal_plus("[workload]\nlookups_per_s = 1e9\n"));
    assert!(e.starts_with("test.toml:8:1: workload.lookups_per_s: must be <= 1000000"), "{e}");
    let e = err(&minimal_plus("[churn]\njoins_per_s = 1e7\n"));
    assert!(e.contains("churn.joins_per_s: must be <= 1000000"), "{e}");
    let e = err_with(MINIMAL, &["nodes.initial=10000000", "duration_s=100000"]);
    assert!(e.contains("node-seconds"), "{e}");
    let e = err_with(MINIMAL, &["duration_s=1000000", "sample_every_s=0.1"]);
    assert!(e.contains("samples") && e.contains("sample_every_s"), "{e}");
    let e = err_with(MINIMAL, &["duration_s=1000000", "sample_every_s=100", "churn.joins_per_s=100"]);
    assert!(e.contains("would create up to"), "{e}");
    let e = err_with(MINIMAL, &["duration_s=1000000", "sample_every_s=100", "workload.lookups_per_s=10000"]);
    assert!(e.contains("lookups, more than"), "{e}");
}

#[test]
fn each_protocol_keeps_its_keys_in_its_own_section() {
    let text = "name = \"t\"\nprotocol = \"chord\"\nduration_s = 5\n\n[nodes]\ninitial = 10\n\n\
                [protocol_params.chord]\nstabilize_every_s = 3\n\n[protocol_params.relaxed_ring]\nhint_after_ms = 7\n";
    let chord = ok(text);
    assert_eq!(chord.protocol_params.chord().map(|c| c.stabilize_every_s), Some(3.0));
    let relaxed = with_overrides(text, &["protocol=\"relaxed_ring\""]);
    match &relaxed.protocol_params {
        ProtocolParams::RelaxedRing(params) => assert_eq!(params.hint_after_ms, 7.0),
        other => panic!("{other:?}"),
    }
    // DKS has no section: its defaults.
    let dks = with_overrides(text, &["protocol=\"dks\""]);
    assert_eq!(dks.protocol_params, ProtocolParams::defaults(ProtocolName::Dks));
    // A section is checked whichever protocol runs.
    let e = err(&text.replace("hint_after_ms = 7", "hint_after = 7"));
    assert!(e.starts_with("test.toml:12:1: protocol_params.relaxed_ring.hint_after: unknown key"), "{e}");
    // A key both flat and in the running protocol's section contradicts itself.
    let e = err_with(text, &["protocol_params.stabilize_every_s=2"]);
    assert!(e.contains("given both here and as protocol_params.chord.stabilize_every_s"), "{e}");
    let e = err(&minimal_plus("[protocol_params]\nchord = 3\n"));
    assert!(e.contains("protocol_params.chord: must be a table"), "{e}");
}
