//! The bad-input suite: every subcommand and every scenario key, given a
//! wrong type, a value out of range, a missing or unknown key, a
//! contradiction, an absurd size, or an unusable path. Each case must exit
//! with status 2 and an `error:` line that names the file and line, the
//! `--set`, or the path, and the key; nothing may panic, and the folder the
//! command ran in (with a regular file, a directory, a symlink to a file
//! outside and a scenario in it) must be left exactly as it was.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

/// A scenario that passes validation, small; bad values are added to it.
const BASE: &str = "name = \"t\"\nprotocol = \"chord\"\nduration_s = 5\n";
const NODES: &str = "\n[nodes]\ninitial = 10\n";

/// One bad scenario key: its dotted path, the bad values (TOML), and a
/// fragment every message must contain besides the key.
struct KeyCase {
    key: &'static str,
    values: &'static [&'static str],
}

/// Bad values for every key of the scenario schema.
const KEYS: &[KeyCase] = &[
    KeyCase { key: "name", values: &["\"../escape\"", "\"a/b\"", "\".hidden\"", "\"\"", "3"] },
    KeyCase { key: "protocol", values: &["\"kademlia\"", "3"] },
    KeyCase { key: "seed", values: &["-1", "\"x\"", "1.5"] },
    KeyCase { key: "duration_s", values: &["-1", "0", "\"x\"", "1e12", "nan", "inf"] },
    KeyCase { key: "sample_every_s", values: &["0", "-1", "\"a\"", "1e-9"] },
    KeyCase { key: "description", values: &["3"] },
    KeyCase { key: "unknown_top_key", values: &["1"] },
    KeyCase { key: "nodes.initial", values: &["0", "-5", "20000000", "\"many\"", "1.5"] },
    KeyCase { key: "nodes.bootstrap", values: &["\"magic\"", "1"] },
    KeyCase { key: "nodes.join_interval_ms", values: &["-1", "\"x\""] },
    KeyCase { key: "nodes.join_interval_start_ms", values: &["-1"] },
    KeyCase { key: "nodes.connectivity", values: &["1.5", "-0.1"] },
    KeyCase { key: "nodes.connectivity_per", values: &["\"node\""] },
    KeyCase { key: "nodes.join_via", values: &["\"closest\""] },
    KeyCase { key: "nodes.loops", values: &["0", "17", "1.5"] },
    KeyCase { key: "nodes.rings", values: &["0", "65"] },
    KeyCase { key: "nodes.rejoin_after_s", values: &["0", "-1"] },
    KeyCase { key: "nodes.ids", values: &["[\"0x1\"]", "3", "[\"zz\"]"] },
    KeyCase { key: "nodes.bootstrapp", values: &["1"] },
    KeyCase { key: "ring.id_space", values: &["1", "\"2^65\"", "\"2^x\"", "20", "1.5", "\"2^3\""] },
    KeyCase { key: "ring.size", values: &["1"] },
    KeyCase { key: "protocol_params.successor_list", values: &["0", "65", "\"x\""] },
    KeyCase { key: "protocol_params.fingers", values: &["3"] },
    KeyCase { key: "protocol_params.stabilize_every_s", values: &["-1", "\"x\""] },
    KeyCase { key: "protocol_params.fix_fingers_every_s", values: &["-1"] },
    KeyCase { key: "protocol_params.check_predecessor_every_s", values: &["-1"] },
    KeyCase { key: "protocol_params.lookup_timeout_ms", values: &["0", "-1"] },
    KeyCase { key: "protocol_params.max_lookup_hops", values: &["0", "2000"] },
    KeyCase { key: "protocol_params.randomized_timers", values: &["\"yes\""] },
    KeyCase { key: "protocol_params.stabilize_every_joins", values: &["-1"] },
    KeyCase { key: "protocol_params.alone_adopts_notifier", values: &["2"] },
    KeyCase { key: "protocol_params.join_copies_successor_list", values: &["\"no\""] },
    KeyCase { key: "protocol_params.failure_detection", values: &["\"oracle\"", "1"] },
    KeyCase { key: "protocol_params.probe_answer", values: &["3"] },
    KeyCase { key: "protocol_params.route_via_successor_list", values: &["\"all\""] },
    KeyCase { key: "protocol_params.hint_after_ms", values: &["1"] },
    KeyCase { key: "protocol_params.chord.successor_list", values: &["0"] },
    KeyCase { key: "protocol_params.chord.lookup_retries", values: &["1"] },
    KeyCase { key: "protocol_params.relaxed_ring.successor_list", values: &["0", "65"] },
    KeyCase { key: "protocol_params.relaxed_ring.fingers", values: &["1"] },
    KeyCase { key: "protocol_params.relaxed_ring.fix_fingers_every_s", values: &["-1"] },
    KeyCase { key: "protocol_params.relaxed_ring.lookup_timeout_ms", values: &["0"] },
    KeyCase { key: "protocol_params.relaxed_ring.lookup_retries", values: &["17", "-1"] },
    KeyCase { key: "protocol_params.relaxed_ring.join_retry_ms", values: &["0"] },
    KeyCase { key: "protocol_params.relaxed_ring.hint_after_ms", values: &["-1"] },
    KeyCase { key: "protocol_params.relaxed_ring.max_route_hops", values: &["0", "100001"] },
    KeyCase { key: "protocol_params.relaxed_ring.randomized_timers", values: &["0"] },
    KeyCase { key: "protocol_params.relaxed_ring.canary_keep_range_on_join", values: &["\"yes\""] },
    KeyCase { key: "protocol_params.relaxed_ring.stabilize_every_s", values: &["1"] },
    KeyCase { key: "protocol_params.palta.omega", values: &["1", "1000001", "\"x\""] },
    KeyCase { key: "protocol_params.palta.mesh_sync_every_s", values: &["-1"] },
    KeyCase { key: "protocol_params.dks.lock_lease_ms", values: &["0", "-1"] },
    KeyCase { key: "protocol_params.dks.omega", values: &["5"] },
    KeyCase { key: "protocol_params.gossip.round_ms", values: &["0", "-1"] },
    KeyCase { key: "protocol_params.gossip.view_size", values: &["0", "1001"] },
    KeyCase { key: "protocol_params.gossip.sample_size", values: &["0", "5"] },
    KeyCase { key: "protocol_params.gossip.randomized_timers", values: &["1"] },
    KeyCase { key: "protocol_params.gossip.canary_invent_version", values: &["\"yes\""] },
    KeyCase { key: "protocol_params.gossip.fanout", values: &["2"] },
    KeyCase { key: "workload.updates_per_s", values: &["-1"] },
    KeyCase { key: "protocol_params.kademlia", values: &["{ k = 20 }"] },
    KeyCase { key: "protocol_params.relaxed_ring", values: &["3"] },
    KeyCase { key: "network.loss", values: &["-0.1", "1.1", "\"x\""] },
    KeyCase {
        key: "network.latency",
        values: &[
            "3",
            "{ kind = \"warp\" }",
            "{ kind = \"constant\" }",
            "{ kind = \"uniform\", min_ms = 10, max_ms = 5 }",
            "{ kind = \"constant\", ms = -1 }",
            "{ kind = \"constant\", ms = 1, extra = 2 }",
        ],
    },
    KeyCase { key: "network.jitter_ms", values: &["1"] },
    KeyCase { key: "detector.detection_delay_ms", values: &["-1"] },
    KeyCase { key: "detector.false_suspicions_per_link_per_hour", values: &["-1", "\"often\""] },
    KeyCase { key: "detector.false_suspicion_mean_ms", values: &["0"] },
    KeyCase { key: "detector.accuracy", values: &["1"] },
    KeyCase { key: "churn.joins_per_s", values: &["-1", "1e9"] },
    KeyCase { key: "churn.crashes_per_s", values: &["-1", "1e9"] },
    KeyCase { key: "churn.leaves_per_s", values: &["-1"] },
    KeyCase {
        key: "churn.session",
        values: &["{ kind = \"pareto\", shape = 0, scale_s = 1 }", "{ kind = \"zipf\" }", "1"],
    },
    KeyCase { key: "churn.session_leave_fraction", values: &["2"] },
    KeyCase { key: "churn.rate", values: &["1"] },
    KeyCase { key: "workload.lookups_per_s", values: &["-1", "1e9"] },
    KeyCase { key: "workload.start_s", values: &["-1"] },
    KeyCase { key: "workload.keys", values: &["-1", "10000001", "\"x\""] },
    KeyCase { key: "workload.start_when_stable", values: &["1"] },
    KeyCase { key: "workload.lookup_rate", values: &["1"] },
    KeyCase { key: "output.trace", values: &["1"] },
    KeyCase { key: "output.snapshot_at_s", values: &["-1", "1e6"] },
    KeyCase { key: "output.format", values: &["\"json\""] },
    KeyCase { key: "merge.fanout", values: &["-1", "65"] },
    KeyCase { key: "merge.ping_every_s", values: &["0"] },
    KeyCase { key: "merge.passive_capacity", values: &["0"] },
    KeyCase { key: "merge.passive_keep_s", values: &["-1"] },
    KeyCase { key: "merge.loop_check", values: &["\"no\""] },
    KeyCase { key: "merge.gossip_budget", values: &["256", "-1"] },
    KeyCase { key: "merge.enabled", values: &["\"yes\""] },
    KeyCase {
        key: "events",
        values: &[
            "[{ at_s = 1, kind = \"explode\" }]",
            "[{ at_s = -1, kind = \"heal\" }]",
            "[{ at_s = 1e9, kind = \"heal\" }]",
            "[{ at_s = 1, kind = \"crash\", count = -1 }]",
            "[{ at_s = 1, kind = \"crash_fraction\", fraction = 2 }]",
            "[{ at_s = 1, kind = \"partition\", groups = 1 }]",
            "[{ at_s = 1, kind = \"kick\" }]",
            "[{ kind = \"heal\" }]",
            "[{ at_s = 1, kind = \"one_way_cut\", from_group = 1, to_group = 1 }]",
            "[{ at_s = 1, kind = \"set_loss\", loss = 2 }]",
            "[{ at_s = 1, kind = \"suspect\", watcher = \"0x1\", peer = \"0x2\", lasts_ms = 0 }]",
            "[{ at_s = 1, kind = \"crash\", count = 1, extra = 2 }]",
            "[{ at_s = 1, kind = \"join\", count = 20000000 }]",
            "3",
        ],
    },
];

/// Writes `value` for the dotted `key` into a valid small scenario.
fn scenario_with(key: &str, value: &str) -> String {
    match key.split_once('.') {
        None => format!("{key} = {value}\n{}{NODES}", BASE.replace(&format!("{key} = "), "# was: ")),
        Some(("nodes", "initial")) => format!("{BASE}\n[nodes]\ninitial = {value}\n"),
        Some(("nodes", rest)) => format!("{BASE}{NODES}{rest} = {value}\n"),
        Some((table, rest)) => format!("{BASE}{NODES}\n[{table}]\n{rest} = {value}\n"),
    }
}

/// What a folder holds, to see that a refused command touched nothing.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link to {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else {
                String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned()
            };
            seen.insert(name, what);
        }
    }
    seen
}

/// One case: the arguments, an optional scenario file `bad.toml`, and the
/// fragments the first error line must hold.
struct Case {
    args: Vec<String>,
    file: Option<String>,
    fragments: Vec<String>,
}

fn case(args: &[&str], file: Option<String>, fragments: &[&str]) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        file,
        fragments: fragments.iter().map(|s| s.to_string()).collect(),
    }
}

/// Every case of the suite.
fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    for KeyCase { key, values } in KEYS {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        for value in *values {
            // In a file: file and line, then the key.
            all.push(case(&["run", "bad.toml", "--out", "out"], Some(scenario_with(key, value)), &["bad.toml:", leaf]));
            // As an override of a shipped scenario: the --set, then the key.
            let set = format!("{key}={value}");
            all.push(case(&["run", "quickstart", "--out", "out", "--set", &set], None, &["--set ", leaf]));
        }
    }
    // Files and paths.
    let run = |extra: &[&str], file: Option<&str>, fragments: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        case(&args, file.map(str::to_string), fragments)
    };
    let valid = format!("{BASE}{NODES}");
    all.extend([
        run(&["missing.toml"], None, &["missing.toml"]),
        run(&["folder"], None, &["folder"]),
        run(&["bad.toml", "--out", "out"], Some("name = \"t\nprotocol = 3\n"), &["bad.toml:1"]),
        run(&["bad.toml", "--out", "out"], Some(""), &["bad.toml", "name"]),
        run(&["bad.toml", "--out", "out"], Some("name = \"t\"\nprotocol = \"chord\"\n"), &["bad.toml", "duration_s"]),
        run(&["bad.toml", "--out", "out"], Some(BASE), &["bad.toml", "nodes"]),
        run(&["bad.toml", "--out", "out"], Some("name = \"t\"\nname = \"u\"\n"), &["bad.toml:2", "duplicate"]),
        run(&["bad.toml", "--out", "file.txt"], Some(&valid), &["file.txt", "not a directory"]),
        run(&["bad.toml", "--out", "folder", "--set", "duration_s"], Some(&valid), &["--set duration_s"]),
        run(&["bad.toml", "--out", "out", "--set", "=3"], Some(&valid), &["--set =3"]),
        run(&["bad.toml", "--out", "out", "--set", "nodes..initial=3"], Some(&valid), &["--set nodes..initial=3"]),
        run(&["bad.toml", "--out", "out", "--set", "nodes.initial.x=3"], Some(&valid), &["nodes.initial"]),
        run(&["bad.toml", "--out", "out", "--seed", "x"], Some(&valid), &["--seed"]),
        run(&["bad.toml", "--out", "out", "--seed=-1"], Some(&valid), &["--seed"]),
        run(&["bad.toml", "--out", "out", "--compare", "chord,kademlia"], Some(&valid), &["kademlia"]),
        run(&["bad.toml", "--out", "out", "--bogus"], Some(&valid), &["--bogus"]),
        run(&["no-such-scenario"], None, &["no-such-scenario"]),
        run(&[], None, &["FILE"]),
    ]);
    let non_utf8 = Case {
        args: vec!["run".into(), "latin1.toml".into(), "--out".into(), "out".into()],
        file: None,
        fragments: vec!["latin1.toml:1:".into(), "UTF-8".into()],
    };
    all.push(non_utf8);
    // Every other subcommand.
    let plain = |args: &[&str], fragments: &[&str]| case(args, None, fragments);
    all.extend([
        plain(&[], &["Usage"]),
        plain(&["fly"], &["fly"]),
        plain(&["sweep", "quickstart", "--vary", "churn.crashes_per_s", "--out", "out"], &["--vary"]),
        plain(&["sweep", "quickstart", "--vary", "churn.crashes_per_s=", "--out", "out"], &["--vary"]),
        plain(&["sweep", "quickstart", "--vary", "churn.crashes_per_s=1,-1", "--out", "out"], &["churn.crashes_per_s"]),
        plain(&["sweep", "quickstart", "--vary", "churn.nope=1", "--out", "out"], &["churn.nope"]),
        plain(&["sweep", "quickstart", "--vary", "a=1", "--vary", "a=2", "--out", "out"], &["varied twice"]),
        plain(&["sweep", "quickstart", "--seeds", "5..1", "--out", "out"], &["--seeds"]),
        plain(&["sweep", "quickstart", "--seeds", "x", "--out", "out"], &["--seeds"]),
        plain(&["sweep", "quickstart", "--seeds", "1..2000000", "--out", "out"], &["--seeds"]),
        plain(&["sweep", "quickstart", "--shard", "0/3", "--out", "out"], &["--shard"]),
        plain(&["sweep", "quickstart", "--shard", "4/3", "--out", "out"], &["--shard"]),
        plain(&["sweep", "quickstart", "--shard", "x", "--out", "out"], &["--shard"]),
        plain(&["sweep", "quickstart", "--out", "file.txt"], &["file.txt", "not a directory"]),
        plain(&["sweep", "quickstart", "--out", "folder"], &["folder", "no sweep.toml"]),
        plain(&["sweep", "quickstart", "--set", "nodes.initial=0", "--out", "out"], &["nodes.initial"]),
        plain(&["sweep", "missing.toml", "--out", "out"], &["missing.toml"]),
        plain(&["sweep", "quickstart", "--jobs", "x"], &["--jobs"]),
        plain(&["merge", "nowhere", "--out", "out"], &["nowhere"]),
        plain(&["merge", "folder", "--out", "out"], &["folder", "no sweep.toml"]),
        plain(&["merge", "--out", "out"], &["DIRS"]),
        plain(&["merge", "folder"], &["--out"]),
        plain(&["compare", "nowhere", "folder"], &["nowhere"]),
        plain(&["compare", "folder", "folder"], &["folder", "no sweep.toml"]),
        plain(&["compare", "folder", "folder", "--alpha", "0"], &["--alpha"]),
        plain(&["compare", "folder", "folder", "--alpha", "2"], &["--alpha"]),
        plain(&["compare", "folder"], &["NEW"]),
        plain(&["snapshot", "quickstart", "--at=-1"], &["snapshot_at_s"]),
        plain(&["snapshot", "quickstart", "--at", "1000"], &["snapshot_at_s"]),
        plain(&["snapshot", "quickstart", "--at", "x"], &["--at"]),
        plain(&["snapshot", "quickstart"], &["--at"]),
        plain(&["snapshot", "quickstart", "--at", "1", "--out", "link.svg"], &["link.svg", "symlink"]),
        plain(&["snapshot", "quickstart", "--at", "1", "--out", "folder"], &["folder", "directory"]),
        plain(&["snapshot", "quickstart", "--at", "1", "--out", "/dev/null"], &["/dev/null", "not a regular file"]),
        plain(&["snapshot", "missing.toml", "--at", "1"], &["missing.toml"]),
        plain(&["snapshot", "quickstart", "--at", "1", "--set", "nodes.initial=-1"], &["nodes.initial"]),
        plain(&["figures", "--only", "no-such-figure", "--out", "out"], &["no-such-figure"]),
        plain(&["figures", "--only", "file.txt", "--out", "out"], &["file.txt"]),
        plain(&["figures", "--jobs", "x"], &["--jobs"]),
        plain(&["explore", "--protocol", "kademlia", "--config", "join-race-3+2"], &["kademlia"]),
        plain(&["explore", "--protocol", "chord", "--config", "nope"], &["nope"]),
        plain(&["explore", "--protocol", "chord", "--config", "join-race-3+2", "--timers", "always"], &["--timers"]),
        plain(&["explore", "--protocol", "chord", "--config", "join-race-3+2", "--max-depth", "0"], &["--max-depth"]),
        plain(&["explore", "--protocol", "chord"], &["--config"]),
        plain(&["explore", "--protocol", "chord", "--config", "join-race-3+2", "--losses=-1"], &["--losses"]),
        plain(&["check", "check-ring", "--converge-within", "0"], &["--converge-within"]),
        plain(&["check", "check-ring", "--converge-within", "90"], &["must leave --converge-within"]),
        plain(&["check", "quickstart", "--swarm"], &["stop_faults"]),
        plain(&["check", "check-ring", "--seeds", "9..1"], &["--seeds"]),
        plain(&["check", "check-ring", "--swarm", "--swarm-without", "lightning"], &["lightning"]),
        plain(&["check", "check-ring", "--shrink", "--shrink-out", "link.svg"], &["link.svg", "symlink"]),
        plain(&["check", "check-ring", "--shrink", "--shrink-out", "folder"], &["folder", "directory"]),
        plain(&["check", "check-ring", "--set", "churn.joins_per_s=-1"], &["churn.joins_per_s"]),
        plain(&["check", "missing.toml"], &["missing.toml"]),
        plain(&["bench", "--nodes", "0"], &["--nodes"]),
        plain(&["bench", "--duration-s=-1"], &["--duration-s"]),
        plain(&["bench", "--nodes", "20000000"], &["--nodes"]),
        plain(&["bench", "--nodes", "x"], &["--nodes"]),
    ]);
    all
}

/// The folder every case runs in.
fn prepare(dir: &Path, file: Option<&str>) {
    fs::write(dir.join("file.txt"), "a regular file\n").unwrap();
    fs::create_dir(dir.join("folder")).unwrap();
    fs::write(dir.join("folder/inside.txt"), "keep\n").unwrap();
    fs::create_dir(dir.join("outside")).unwrap();
    fs::write(dir.join("outside/keep.txt"), "keep\n").unwrap();
    std::os::unix::fs::symlink("outside/keep.txt", dir.join("link.svg")).unwrap();
    fs::write(dir.join("latin1.toml"), b"name = \"caf\xe9\"\n").unwrap();
    if let Some(text) = file {
        fs::write(dir.join("bad.toml"), text).unwrap();
    }
}

#[test]
fn every_bad_input_exits_2_with_a_message_and_touches_nothing() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path(), case.file.as_deref());
        let before = snapshot(dir.path());
        let output =
            Command::new(env!("CARGO_BIN_EXE_overlaysim")).args(&case.args).current_dir(dir.path()).output().unwrap();
        let message = String::from_utf8_lossy(&output.stderr).into_owned();
        let first = message.lines().next().unwrap_or_default();
        let problem = if output.status.code() != Some(2) {
            Some(format!("exit {:?}", output.status.code()))
        } else if message.contains("panicked") {
            Some("panicked".to_string())
        } else if !first.starts_with("error: ") && !message.contains("Usage") {
            Some("no `error:` line".to_string())
        } else if let Some(missing) = case.fragments.iter().find(|f| !message.contains(f.as_str())) {
            Some(format!("{missing:?} not in the message"))
        } else if snapshot(dir.path()) != before {
            Some("the folder changed".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!("{:?} ({problem}): {}", case.args, message.lines().next().unwrap_or_default()));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn the_suite_does_not_shrink() {
    // The issue asks for at least 150 cases over every subcommand and key.
    let cases = cases();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    for subcommand in ["run", "sweep", "merge", "compare", "snapshot", "figures", "explore", "check", "bench"] {
        assert!(cases.iter().any(|c| c.args.first().is_some_and(|a| a == subcommand)), "{subcommand} has no case");
    }
    let tables = ["nodes", "ring", "protocol_params", "network", "detector", "churn", "workload", "output", "merge"];
    for table in tables {
        assert!(KEYS.iter().any(|k| k.key.starts_with(&format!("{table}."))), "[{table}] has no case");
    }
    assert_eq!(cases.len(), 417);
}
