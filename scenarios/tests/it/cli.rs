//! The command line: determinism of outputs, and clean failures on bad input.

use crate::support::{overlaysim, stderr};
use std::fs;

const SMALL: &[&str] = &["--set", "nodes.initial=150", "--set", "duration_s=20", "--quiet"];

fn run_small(dir: &std::path::Path, out: &str, seed: &str) -> std::process::Output {
    let mut args = vec!["run", "quickstart", "--out", out, "--seed", seed];
    args.extend_from_slice(SMALL);
    overlaysim(&args, dir)
}

#[test]
fn the_same_seed_writes_byte_identical_outputs_and_another_seed_another_digest() {
    let dir = tempfile::tempdir().unwrap();
    for (out, seed) in [("a", "5"), ("b", "5"), ("c", "6")] {
        let output = run_small(dir.path(), out, seed);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    for file in ["summary.csv", "timeseries.csv", "digest.txt", "hops.csv"] {
        let a = fs::read(dir.path().join("a").join(file)).unwrap();
        let b = fs::read(dir.path().join("b").join(file)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{file} differs between two runs of one seed");
    }
    let digest = |d: &str| fs::read_to_string(dir.path().join(d).join("digest.txt")).unwrap();
    assert_ne!(digest("a"), digest("c"));
    assert!(dir.path().join("a/perf.csv").exists());
}

#[test]
fn list_names_the_shipped_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let output = overlaysim(&["run", "--list"], dir.path());
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for name in ["quickstart", "chord-path-length", "chord-failures", "chord-churn"] {
        assert!(text.contains(name), "{name} missing from --list");
    }
}

/// Runs a bad scenario: exit status 2, one error line with the expected
/// fragments, and no output directory.
fn assert_rejected(file_text: Option<&str>, extra: &[&str], fragments: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = file_text {
        fs::write(dir.path().join("bad.toml"), text).unwrap();
    }
    let mut args = vec!["run", "bad.toml", "--out", "out"];
    args.extend_from_slice(extra);
    let output = overlaysim(&args, dir.path());
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert_eq!(message.trim_end().lines().count(), 1, "not one line: {message}");
    assert!(message.starts_with("error: "), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment:?} not in {message:?}");
    }
    assert!(!message.contains("panicked"), "{message}");
    assert!(!dir.path().join("out").exists(), "an output directory was left behind");
}

const VALID: &str = "name = \"t\"\nprotocol = \"chord\"\nduration_s = 5\n\n[nodes]\ninitial = 10\n";

#[test]
fn a_malformed_file_names_file_and_line() {
    assert_rejected(Some("name = \"t\nprotocol = \"chord\"\n"), &[], &["bad.toml:1"]);
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    let text = format!("{VALID}\n[churn]\ncrashes_per_sec = 1.0\n");
    assert_rejected(Some(&text), &[], &["bad.toml:9", "churn.crashes_per_sec"]);
}

#[test]
fn a_negative_rate_names_file_line_and_key() {
    let text = format!("{VALID}\n[churn]\njoins_per_s = 0.5\ncrashes_per_s = -1\n");
    assert_rejected(Some(&text), &[], &["bad.toml:10", "churn.crashes_per_s"]);
}

#[test]
fn a_bad_override_names_the_override() {
    assert_rejected(Some(VALID), &["--set", "churn.crashes_per_s=-2"], &["churn.crashes_per_s"]);
}

#[test]
fn a_missing_file_is_reported() {
    assert_rejected(None, &[], &["bad.toml"]);
}

#[test]
fn compare_runs_every_protocol_on_one_churn_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "compare-churn",
        "--compare",
        "chord,relaxed_ring,dks",
        "--set",
        "nodes.initial=120",
        "--set",
        "duration_s=40",
        "--out",
        "cmp",
        "--quiet",
    ];
    let output = overlaysim(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let table = scenarios::output::read_csv(&dir.path().join("cmp/comparison.csv")).unwrap();
    assert_eq!(table.rows.len(), 3);
    let column = |name: &str| table.header.iter().position(|h| h == name).unwrap();
    assert_eq!(table.rows[0][column("protocol")], "chord");
    assert_eq!(table.rows[1][column("protocol")], "relaxed_ring");
    assert_eq!(table.rows[2][column("protocol")], "dks");
    for shared in ["joins", "crashes", "alive_nodes"] {
        assert_eq!(table.rows[0][column(shared)], table.rows[1][column(shared)], "{shared} differs");
        assert_eq!(table.rows[0][column(shared)], table.rows[2][column(shared)], "{shared} differs");
    }
    assert!(table.rows[0][column("crashes")].parse::<u32>().unwrap() > 5);
    assert!(dir.path().join("cmp/relaxed_ring/summary.csv").exists());
}

#[test]
fn bench_reports_messages_and_lookups_per_size_with_churn_scaled_to_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let output =
        overlaysim(&["bench", "--nodes", "100,200", "--duration-s", "3", "--out", out.to_str().unwrap()], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("| 1") || l.starts_with("| 2"))
        .map(|l| l.split(" | ").collect())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    for row in &rows {
        let messages: f64 = row[2].parse().unwrap();
        let per_s: f64 = row[7].parse().unwrap();
        assert!(messages > 0.0 && per_s > 0.0, "{text}");
    }
    // 1 % of the nodes crash per second: twice the nodes, twice the churn.
    let crashes = |nodes: u32| {
        let summary = std::fs::read_to_string(out.join(format!("bench-chord-churn-{nodes}/summary.csv"))).unwrap();
        let mut lines = summary.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let column = header.iter().position(|c| *c == "crashes").unwrap();
        row[column].parse::<f64>().unwrap()
    };
    let (small, large) = (crashes(100), crashes(200));
    assert!(large > 1.3 * small, "crashes at 100 nodes {small}, at 200 nodes {large}");
}
