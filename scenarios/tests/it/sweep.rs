//! Sweeps: parallel, resumable, shardable, and the same bytes every way.

use crate::support::{overlaysim, stderr};
use std::fs;
use std::path::Path;

/// Sweeps the quickstart at `nodes` nodes for `duration_s`, into `out`.
fn sweep_with(dir: &Path, out: &str, nodes: &str, duration_s: &str, seeds: &str, extra: &[&str]) {
    let (nodes, duration) = (format!("nodes.initial={nodes}"), format!("duration_s={duration_s}"));
    let mut args =
        vec!["sweep", "quickstart", "--set", &nodes, "--set", &duration, "--seeds", seeds, "--out", out, "--quiet"];
    args.extend_from_slice(extra);
    let output = overlaysim(&args, dir);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// A 2-point by 3-seed sweep over the crash rate.
fn sweep(dir: &Path, out: &str, extra: &[&str]) {
    let mut args = vec!["--vary", "churn.crashes_per_s=0,1"];
    args.extend_from_slice(extra);
    sweep_with(dir, out, "80", "10", "1..3", &args);
}

fn results(dir: &Path, out: &str) -> Vec<u8> {
    fs::read(dir.join(out).join("results.csv")).unwrap()
}

#[test]
fn the_number_of_jobs_does_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    sweep(dir.path(), "one", &["--jobs", "1"]);
    sweep(dir.path(), "two", &["--jobs", "2"]);
    let one = results(dir.path(), "one");
    assert_eq!(one, results(dir.path(), "two"));
    let text = String::from_utf8(one).unwrap();
    assert_eq!(text.lines().count(), 1 + 6, "a header and 2 points x 3 seeds");
    assert!(text.lines().next().unwrap().starts_with("point,churn.crashes_per_s,scenario,"));
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    sweep(dir.path(), "whole", &[]);
    // An interruption leaves some runs done and others never written (each
    // file is renamed into place only when complete): half, via a shard,
    // then one more run lost.
    sweep(dir.path(), "resumed", &["--shard", "1/2"]);
    let runs = dir.path().join("resumed/runs");
    let done: Vec<_> = fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(done.len(), 3);
    fs::remove_file(&done[0]).unwrap();
    let before = fs::metadata(&done[1]).unwrap().modified().unwrap();
    sweep(dir.path(), "resumed", &[]);
    assert_eq!(results(dir.path(), "resumed"), results(dir.path(), "whole"));
    assert_eq!(fs::metadata(&done[1]).unwrap().modified().unwrap(), before, "a finished run was redone");
}

#[test]
fn a_sweep_killed_midway_and_started_again_gives_the_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &str| -> Vec<String> {
        [
            "sweep",
            "quickstart",
            "--set",
            "nodes.initial=300",
            "--set",
            "duration_s=40",
            "--vary",
            "churn.crashes_per_s=0,1",
            "--seeds",
            "1..6",
            "--jobs",
            "1",
            "--quiet",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = overlaysim(&args("whole").iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
    assert!(whole.status.success(), "{}", stderr(&whole));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_overlaysim"))
        .args(args("killed"))
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let runs = dir.path().join("killed/runs");
    let finished = || {
        fs::read_dir(&runs)
            .map(|d| d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('p')).count())
            .unwrap_or(0)
    };
    while finished() < 2 && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed = overlaysim(&args("killed").iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(results(dir.path(), "killed"), results(dir.path(), "whole"));
}

#[test]
fn shards_merge_into_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    sweep(dir.path(), "whole", &[]);
    sweep(dir.path(), "a", &["--shard", "1/2"]);
    sweep(dir.path(), "b", &["--shard", "2/2"]);
    let output = overlaysim(&["merge", "a", "b", "--out", "merged"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(results(dir.path(), "merged"), results(dir.path(), "whole"));
}

#[test]
fn a_bad_vary_is_rejected_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = overlaysim(&["sweep", "quickstart", "--vary", "churn.crashes_per_s=1,-1", "--out", "x"], dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("churn.crashes_per_s"));
    assert!(!dir.path().join("x").exists());
}

fn small_sweep(dir: &Path, out: &str, seeds: &str, extra: &[&str]) {
    sweep_with(dir, out, "200", "60", seeds, extra);
}

#[test]
fn compare_flags_a_planted_regression_and_passes_an_unchanged_build() {
    let dir = tempfile::tempdir().unwrap();
    small_sweep(dir.path(), "base", "1..8", &[]);
    // The planted change: every Chord maintenance period doubled.
    let doubled = [
        "--set",
        "protocol_params.chord.stabilize_every_s=2",
        "--set",
        "protocol_params.chord.fix_fingers_every_s=2",
        "--set",
        "protocol_params.chord.check_predecessor_every_s=2",
    ];
    small_sweep(dir.path(), "slower", "1..8", &doubled);
    small_sweep(dir.path(), "same", "9..16", &[]);
    let planted = overlaysim(&["compare", "base", "slower", "--alpha", "0.01"], dir.path());
    assert_eq!(planted.status.code(), Some(1), "{}", stderr(&planted));
    let table = String::from_utf8_lossy(&planted.stdout);
    assert!(table.lines().any(|l| l.contains("lookups_wrong") && l.ends_with("WORSE")), "{table}");
    assert!(table.lines().any(|l| l.contains("messages") && l.ends_with("better")), "{table}");
    let unchanged = overlaysim(&["compare", "base", "same", "--alpha", "0.01"], dir.path());
    assert!(unchanged.status.success(), "{}", String::from_utf8_lossy(&unchanged.stdout));
    let missing = overlaysim(&["compare", "base", "same", "--metric", "no_such_metric"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
}
