//! Outputs go only where they belong: never through a symlink, over a
//! directory or a device, or outside the output folder; impossible sizes
//! are refused before anything runs; exit statuses mean one thing each.
//! One test per item of the issue that found them, named after it.

use crate::support::{overlaysim, refused, stderr};
use std::fs;

const TINY: [&str; 4] = ["--set", "nodes.initial=20", "--set", "duration_s=3"];

#[test]
fn snapshot_out_never_replaces_a_symlink_a_directory_or_a_device() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("keep.txt"), "keep").unwrap();
    std::os::unix::fs::symlink("keep.txt", dir.path().join("ring.svg")).unwrap();
    fs::create_dir(dir.path().join("pictures.svg")).unwrap();
    for (out, fragment) in [("ring.svg", "symlink"), ("pictures.svg", "directory"), ("/dev/null", "not a regular")] {
        let mut args = vec!["snapshot", "quickstart", "--at", "1", "--out", out];
        args.extend_from_slice(&TINY);
        refused(&overlaysim(&args, dir.path()), &[out, fragment]);
    }
    assert_eq!(fs::read_to_string(dir.path().join("keep.txt")).unwrap(), "keep");
    assert!(fs::symlink_metadata(dir.path().join("ring.svg")).unwrap().file_type().is_symlink());
    assert!(dir.path().join("pictures.svg").is_dir());
    // A new path is written, both pictures.
    let mut args = vec!["snapshot", "quickstart", "--at", "1", "--out", "new/ring.svg"];
    args.extend_from_slice(&TINY);
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("new/ring.svg").is_file() && dir.path().join("new/ring.png").is_file());
}

#[test]
fn check_shrink_out_never_replaces_a_symlink_or_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("keep.txt"), "keep").unwrap();
    std::os::unix::fs::symlink("keep.txt", dir.path().join("shrunk.toml")).unwrap();
    fs::create_dir(dir.path().join("folder")).unwrap();
    for (out, fragment) in [("shrunk.toml", "symlink"), ("folder", "directory")] {
        let args = ["check", "check-ring", "--seeds", "1", "--shrink", "--shrink-out", out];
        refused(&overlaysim(&args, dir.path()), &[out, fragment]);
    }
    assert_eq!(fs::read_to_string(dir.path().join("keep.txt")).unwrap(), "keep");
}

#[test]
fn run_outputs_that_are_symlinks_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    fs::write(dir.path().join("keep.csv"), "keep").unwrap();
    std::os::unix::fs::symlink("../keep.csv", dir.path().join("out/summary.csv")).unwrap();
    let mut args = vec!["run", "quickstart", "--out", "out"];
    args.extend_from_slice(&TINY);
    refused(&overlaysim(&args, dir.path()), &["out/summary.csv", "symlink"]);
    assert_eq!(fs::read_to_string(dir.path().join("keep.csv")).unwrap(), "keep");
    assert!(!dir.path().join("out/timeseries.csv").exists(), "a partial output was written");
}

#[test]
fn a_scenario_name_with_a_slash_or_dotdot_never_writes_outside_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("work")).unwrap();
    for name in ["../escaped", "a/b", "/tmp/x", ".."] {
        let set = format!("name=\"{name}\"");
        let mut args = vec!["run", "quickstart", "--set", &set];
        args.extend_from_slice(&TINY);
        refused(&overlaysim(&args, &dir.path().join("work")), &["name: must be letters"]);
    }
    let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, ["work"], "something was written beside the working folder");
    assert_eq!(fs::read_dir(dir.path().join("work")).unwrap().count(), 0);
}

#[test]
fn an_id_space_smaller_than_or_close_to_the_node_count_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // The eight cases the issue found, and their neighbours: every protocol.
    for protocol in ["chord", "relaxed_ring", "dks", "palta"] {
        for id_space in ["10", "150"] {
            let (protocol_set, space) = (format!("protocol=\"{protocol}\""), format!("ring.id_space={id_space}"));
            let args = ["run", "quickstart", "--set", &protocol_set, "--set", "nodes.initial=100", "--set", &space];
            refused(&overlaysim(&args, dir.path()), &["ring.id_space", "at least 8 x"]);
        }
    }
    // 8 x the nodes is enough, and the run works.
    let args = [
        "run",
        "quickstart",
        "--set",
        "nodes.initial=20",
        "--set",
        "duration_s=3",
        "--set",
        "churn.joins_per_s=0",
        "--set",
        "ring.id_space=160",
        "--quiet",
    ];
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_huge_duration_rate_or_node_count_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--set", "duration_s=1e12"], "duration_s: must be <= 10000000"),
        (&["--set", "churn.joins_per_s=1e12"], "churn.joins_per_s: must be <= 1000000"),
        (&["--set", "workload.lookups_per_s=1e12"], "workload.lookups_per_s: must be <= 1000000"),
        (&["--set", "nodes.initial=1e9"], "nodes.initial"),
        (&["--set", "nodes.initial=10000000", "--set", "duration_s=10000"], "node-seconds"),
        (
            &["--set", "nodes.initial=10", "--set", "duration_s=9000000", "--set", "sample_every_s=100"],
            "would create up to",
        ),
    ];
    for (extra, fragment) in cases {
        let mut args = vec!["run", "quickstart", "--out", "out"];
        args.extend_from_slice(extra);
        refused(&overlaysim(&args, dir.path()), &[fragment]);
    }
    assert!(!dir.path().join("out").exists());
}

#[test]
fn crash_fraction_zero_and_other_legal_zero_values_run() {
    let dir = tempfile::tempdir().unwrap();
    let events = "events=[{at_s=1, kind=\"crash_fraction\", fraction=0}, {at_s=1, kind=\"crash\", count=0}, \
                  {at_s=1, kind=\"join\", count=0}, {at_s=1, kind=\"leave\", count=0}]";
    let mut args = vec!["run", "quickstart", "--out", "out", "--quiet", "--set", events];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(&["--set", "churn.joins_per_s=0", "--set", "churn.crashes_per_s=0"]);
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = scenarios::output::read_csv(&dir.path().join("out/summary.csv")).unwrap();
    assert_eq!(summary.get("crashes"), Some("0"));
    assert_eq!(summary.get("alive_nodes"), Some("20"));
}

#[test]
fn every_usage_or_input_error_exits_2_and_a_failed_check_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    // Usage: clap's own errors, and ours.
    assert_eq!(overlaysim(&["run", "--no-such-flag"], dir.path()).status.code(), Some(2));
    assert_eq!(overlaysim(&["sweep", "quickstart", "--seeds", "x"], dir.path()).status.code(), Some(2));
    // An output that cannot be written is an input error too (it was 1).
    fs::write(dir.path().join("file"), "").unwrap();
    let mut args = vec!["run", "quickstart", "--out", "file/below"];
    args.extend_from_slice(&TINY);
    assert_eq!(overlaysim(&args, dir.path()).status.code(), Some(2), "an unwritable --out");
    // A check that finds a violation: 1.
    let canary = [
        "check",
        "check-ring",
        "--seeds",
        "1",
        "--set",
        "protocol=\"relaxed_ring\"",
        "--set",
        "protocol_params.canary_keep_range_on_join=true",
        "--quiet",
    ];
    let failed = overlaysim(&canary, dir.path());
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    // Help and version: 0.
    assert_eq!(overlaysim(&["--help"], dir.path()).status.code(), Some(0));
    assert_eq!(overlaysim(&["--version"], dir.path()).status.code(), Some(0));
}

#[test]
fn a_run_into_a_used_folder_leaves_no_file_of_the_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut traced = vec!["run", "quickstart", "--out", "out", "--quiet", "--trace", "--plot"];
    traced.extend_from_slice(&TINY);
    assert!(overlaysim(&traced, dir.path()).status.success());
    assert!(dir.path().join("out/trace.jsonl").is_file() && dir.path().join("out/timeseries.png").is_file());
    let mut plain = vec!["run", "quickstart", "--out", "out", "--quiet", "--seed", "2"];
    plain.extend_from_slice(&TINY);
    let output = overlaysim(&plain, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    for stale in ["trace.jsonl", "timeseries.png", "timeseries.svg"] {
        assert!(!dir.path().join("out").join(stale).exists(), "{stale} of the seed-1 run is still there");
    }
    let provenance = fs::read_to_string(dir.path().join("out/provenance.txt")).unwrap();
    assert!(provenance.contains("seed = 2"), "{provenance}");
}

#[test]
fn the_quickstart_switches_to_every_protocol_with_set_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    for protocol in ["relaxed_ring", "dks", "palta"] {
        let set = format!("protocol=\"{protocol}\"");
        let mut args = vec!["run", "quickstart", "--quiet", "--set", &set, "--out", protocol];
        args.extend_from_slice(&TINY);
        let output = overlaysim(&args, dir.path());
        assert!(output.status.success(), "{protocol}: {}", stderr(&output));
        let summary = scenarios::output::read_csv(&dir.path().join(protocol).join("summary.csv")).unwrap();
        assert_eq!(summary.get("protocol"), Some(protocol));
    }
    let mut args = vec!["run", "quickstart", "--quiet", "--compare", "chord,relaxed_ring,dks,palta", "--out", "all"];
    args.extend_from_slice(&TINY);
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let table = scenarios::output::read_csv(&dir.path().join("all/comparison.csv")).unwrap();
    assert_eq!(table.rows.len(), 4);
    let column = table.header.iter().position(|h| h == "provenance").expect("comparison.csv names each run");
    for (row, protocol) in table.rows.iter().zip(["chord", "relaxed_ring", "dks", "palta"]) {
        let summary = scenarios::output::read_csv(&dir.path().join("all").join(protocol).join("summary.csv")).unwrap();
        assert_eq!(scenarios::provenance::recorded(&summary), Some(row[column].as_str()), "{protocol}");
    }
}
