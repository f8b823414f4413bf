//! No silently stale result: sweep resume, the figure cache, `merge` and
//! `compare` check the provenance of what they reuse, and refuse (exit 2,
//! naming both definitions) or recompute. One test per way a result could
//! go stale, named after it.

use crate::support::{overlaysim, refused, stderr};
use std::fs;
use std::path::Path;

const SMALL: [&str; 4] = ["--set", "nodes.initial=40", "--set", "duration_s=4"];

/// `overlaysim sweep quickstart` at a small size, with `extra` arguments.
fn sweep(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "quickstart", "--out", out, "--quiet"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(extra);
    overlaysim(&args, dir)
}

fn ok(output: std::process::Output) -> std::process::Output {
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn sweep_resume_refuses_a_changed_set() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "s", &["--seeds", "1..2"]));
    let before = read(dir.path(), "s/results.csv");
    let changed = sweep(dir.path(), "s", &["--seeds", "1..2", "--set", "churn.crashes_per_s=3"]);
    refused(&changed, &["holds runs of another sweep", "--set", "churn.crashes_per_s=3"]);
    assert_eq!(read(dir.path(), "s/results.csv"), before);
}

#[test]
fn sweep_resume_refuses_a_changed_vary_list() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "s", &["--vary", "churn.crashes_per_s=0,1"]));
    // The same point indices would now mean other values.
    let changed = sweep(dir.path(), "s", &["--vary", "churn.crashes_per_s=1,0"]);
    refused(&changed, &["--vary [churn.crashes_per_s=0,1] against [churn.crashes_per_s=1,0]"]);
}

#[test]
fn sweep_resume_refuses_a_changed_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"mine\"\nprotocol = \"chord\"\nduration_s = 3\n\n[nodes]\ninitial = 30\n";
    fs::write(dir.path().join("mine.toml"), text).unwrap();
    let args = ["sweep", "mine.toml", "--out", "s", "--quiet", "--seeds", "1..2"];
    ok(overlaysim(&args, dir.path()));
    fs::write(dir.path().join("mine.toml"), text.replace("duration_s = 3", "duration_s = 4")).unwrap();
    refused(&overlaysim(&args, dir.path()), &["the resolved scenario of some point"]);
}

#[test]
fn sweep_resume_refuses_another_build() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "s", &[]));
    let definition = dir.path().join("s/sweep.toml");
    let text = fs::read_to_string(&definition).unwrap();
    let build = scenarios::provenance::BUILD;
    assert!(text.contains(build), "{text}");
    fs::write(&definition, text.replace(build, "0.0.0+src.an-older-build")).unwrap();
    refused(&sweep(dir.path(), "s", &[]), &["build 0.0.0+src.an-older-build against"]);
}

#[test]
fn sweep_resume_refuses_a_run_file_of_another_definition() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--seeds", "1..2"]));
    ok(sweep(dir.path(), "b", &["--seeds", "1..2", "--set", "churn.crashes_per_s=3"]));
    // A run of b copied into a: same point and seed, another scenario.
    fs::copy(dir.path().join("b/runs/p0000-s1.csv"), dir.path().join("a/runs/p0000-s1.csv")).unwrap();
    refused(&sweep(dir.path(), "a", &["--seeds", "1..2"]), &["p0000-s1.csv", "a run of another definition"]);
}

#[test]
fn sweep_resume_with_more_seeds_reuses_only_the_matching_runs() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "s", &["--seeds", "1..2"]));
    let first = fs::metadata(dir.path().join("s/runs/p0000-s1.csv")).unwrap().modified().unwrap();
    let output = ok(overlaysim(
        &["sweep", "quickstart", "--out", "s", "--seeds", "1..3", SMALL[0], SMALL[1], SMALL[2], SMALL[3]],
        dir.path(),
    ));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("2 runs done before, 1 run now"), "{text}");
    assert_eq!(fs::metadata(dir.path().join("s/runs/p0000-s1.csv")).unwrap().modified().unwrap(), first);
}

#[test]
fn two_vary_flags_for_the_same_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = sweep(dir.path(), "s", &["--vary", "churn.crashes_per_s=0,1", "--vary", "churn.crashes_per_s=2"]);
    refused(&output, &["--vary churn.crashes_per_s", "varied twice"]);
    assert!(!dir.path().join("s").exists());
}

#[test]
fn merge_refuses_shards_of_two_sweep_definitions() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--vary", "churn.crashes_per_s=0,1", "--shard", "1/2"]));
    ok(sweep(dir.path(), "b", &["--vary", "churn.crashes_per_s=0,2", "--shard", "2/2"]));
    let output = overlaysim(&["merge", "a", "b", "--out", "all"], dir.path());
    refused(&output, &["not shards of one sweep", "churn.crashes_per_s=0,1", "churn.crashes_per_s=0,2"]);
    assert!(!dir.path().join("all").exists());
    // A folder that is no sweep at all.
    fs::create_dir_all(dir.path().join("c/runs")).unwrap();
    refused(&overlaysim(&["merge", "a", "c", "--out", "all"], dir.path()), &["c: no sweep.toml"]);
    // Nor into a folder of someone else's: merge claims --out as a sweep does.
    fs::create_dir(dir.path().join("theirs")).unwrap();
    fs::write(dir.path().join("theirs/notes.txt"), "keep").unwrap();
    let into_theirs = overlaysim(&["merge", "a", "--out", "theirs"], dir.path());
    refused(&into_theirs, &["theirs: not empty and holds no sweep.toml"]);
    assert_eq!(fs::read_dir(dir.path().join("theirs")).unwrap().count(), 1);
}

#[test]
fn compare_refuses_sweeps_of_different_points() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--vary", "churn.crashes_per_s=0,1", "--seeds", "1..2"]));
    ok(sweep(dir.path(), "b", &["--vary", "churn.crashes_per_s=0,2", "--seeds", "1..2"]));
    ok(sweep(dir.path(), "c", &["--vary", "churn.joins_per_s=0,1", "--seeds", "1..2"]));
    refused(&overlaysim(&["compare", "a", "b"], dir.path()), &["not sweeps of the same points", "--vary"]);
    refused(&overlaysim(&["compare", "a", "c"], dir.path()), &["churn.joins_per_s"]);
}

#[test]
fn compare_refuses_sweeps_of_different_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--seeds", "1..2"]));
    let other =
        ["sweep", "chord-churn", "--out", "b", "--quiet", "--seeds", "1..2", SMALL[0], SMALL[1], SMALL[2], SMALL[3]];
    ok(overlaysim(&other, dir.path()));
    refused(&overlaysim(&["compare", "a", "b"], dir.path()), &["scenario `quickstart` against `chord-churn`"]);
}

#[test]
fn compare_with_one_seed_per_side_prints_no_p_value() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--seeds", "1"]));
    ok(sweep(dir.path(), "b", &["--seeds", "2"]));
    let output = overlaysim(&["compare", "a", "b"], dir.path());
    refused(&output, &["at least 2 seeds per point on each side"]);
    assert!(!String::from_utf8_lossy(&output.stdout).contains("same"), "a verdict was printed");
}

#[test]
fn compare_refuses_a_results_file_edited_after_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--seeds", "1..2"]));
    ok(sweep(dir.path(), "b", &["--seeds", "3..4"]));
    ok(sweep(dir.path(), "other", &["--seeds", "1..2", "--set", "churn.crashes_per_s=3"]));
    fs::copy(dir.path().join("other/results.csv"), dir.path().join("b/results.csv")).unwrap();
    refused(&overlaysim(&["compare", "a", "b"], dir.path()), &["b/results.csv: row 2", "not a run of"]);
}

#[test]
fn compare_prints_numbers_in_plain_decimals() {
    let dir = tempfile::tempdir().unwrap();
    ok(sweep(dir.path(), "a", &["--seeds", "1..3"]));
    ok(sweep(dir.path(), "b", &["--seeds", "4..6"]));
    let output = ok(overlaysim(&["compare", "a", "b", "--metric", "messages", "--metric", "mean_hops"], dir.path()));
    let text = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("messages") || l.contains("mean_hops")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    for row in rows {
        for cell in row.split_whitespace().filter(|c| c.starts_with(|ch: char| ch.is_ascii_digit())) {
            assert!(!cell.contains('e'), "an exponent in {cell:?}: {row}");
        }
    }
    assert_eq!(reports::stats::plain_number(30.167), "30.167");
    assert_eq!(reports::stats::plain_number(1234567.0), "1234567");
    assert_eq!(reports::stats::plain_number(0.00012345), "0.00012345");
}

#[test]
fn figures_recompute_a_cached_run_whose_scenario_file_changed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "name = \"mine\"\nprotocol = \"chord\"\nduration_s = 3\n\n[nodes]\ninitial = 30\n\n\
                    [workload]\nlookups_per_s = 20\n";
    fs::write(dir.path().join("mine.toml"), scenario).unwrap();
    let figure = "name = \"mine\"\ntitle = \"t\"\npaper = \"p\"\nfigure = \"f\"\nabout = \"a\"\n\
                  scenario = \"mine.toml\"\nseeds = \"1..2\"\n\n[x]\nkey = \"nodes.initial\"\nvalues = [20, 30]\n\
                  label = \"N\"\nscale = \"linear\"\n\n[[series]]\nlabel = \"Chord\"\n\n[[charts]]\ntitle = \"t\"\n\
                  y = \"mean_hops\"\ny_label = \"hops\"\n\n[quick]\nseeds = \"1..2\"\n";
    fs::write(dir.path().join("fig.toml"), figure).unwrap();
    let args = ["figures", "--only", "fig.toml", "--out", "f", "--quiet"];
    ok(overlaysim(&args, dir.path()));
    let summaries = dir.path().join("f/runs");
    let cached = |dir: &Path| -> Vec<Vec<u8>> {
        let mut files: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .flat_map(|d| fs::read_dir(d.unwrap().path()).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|f| fs::read(f).unwrap()).collect()
    };
    let first = cached(&summaries);
    assert_eq!(first.len(), 8, "two x by two seeds, a summary and a hops table each");
    let list = ["figures", "--only", "fig.toml", "--out", "f"];
    let again = ok(overlaysim(&list, dir.path()));
    assert!(String::from_utf8_lossy(&again.stdout).contains("4 runs done before, 0 run now"));
    // The file changes under the same name and overrides: the cache is stale.
    fs::write(dir.path().join("mine.toml"), scenario.replace("lookups_per_s = 20", "lookups_per_s = 40")).unwrap();
    let rerun = ok(overlaysim(&list, dir.path()));
    let text = String::from_utf8_lossy(&rerun.stdout);
    assert!(text.contains("0 runs done before, 4 run now"), "{text}");
    assert_ne!(cached(&summaries), first);
}

#[test]
fn figures_recompute_a_cached_run_of_another_build() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["figures", "--quick", "--only", "chord-path-length", "--out", "f"];
    ok(overlaysim(&args, dir.path()));
    // Rewrite one cached summary as an older build would have written it:
    // another build, so another provenance key.
    let runs = dir.path().join("f/runs");
    let key = fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let summary = key.join("s1.csv");
    let text = fs::read_to_string(&summary).unwrap();
    let table = scenarios::output::read_csv(&summary).unwrap();
    let recorded = scenarios::provenance::recorded(&table).unwrap().to_string();
    let hash = &table.rows[0][table.header.iter().position(|h| h == "scenario_hash").unwrap()];
    let older = scenarios::provenance::key(hash, 1, "0.0.0+src.older");
    fs::write(&summary, text.replace(scenarios::provenance::BUILD, "0.0.0+src.older").replace(&recorded, &older))
        .unwrap();
    let output = ok(overlaysim(&args, dir.path()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("11 runs done before, 1 run now"), "{stdout}");
    assert_eq!(fs::read_to_string(&summary).unwrap(), text);
}
