//! Every shipped scenario, two seeds each, at 200 initial nodes: the event
//! digest, `summary.csv` and `timeseries.csv` must match the committed
//! fingerprints in `tests/golden/shipped.csv`, so a refactoring that
//! changes a run shows here. The provenance columns (which name the build)
//! are left out of the fingerprints. After a change that is meant to
//! change runs, rewrite the file with `OVERLAYSIM_REWRITE_GOLDEN=1 cargo
//! test -p scenarios --test it golden` and say why in the commit.

use scenarios::provenance::{SUMMARY_COLUMNS, hash_hex};
use scenarios::runner::{Quiet, Table};
use std::path::Path;

const SEEDS: [u64; 2] = [1, 2];
const OVERRIDES: [&str; 1] = ["nodes.initial=200"];

/// A table's CSV text without the provenance columns, hashed.
fn fingerprint(table: &Table) -> String {
    let keep: Vec<usize> = (0..table.header.len())
        .filter(|&c| !SUMMARY_COLUMNS.contains(&table.header[c].as_str()) && table.header[c] != "provenance")
        .collect();
    let mut text = String::new();
    for row in std::iter::once(&table.header).chain(&table.rows) {
        let cells: Vec<&str> = keep.iter().map(|&c| row[c].as_str()).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    hash_hex(&text)
}

fn current() -> String {
    let mut lines = vec!["scenario,seed,digest,summary,timeseries".to_string()];
    let overrides: Vec<String> = OVERRIDES.iter().map(|s| s.to_string()).collect();
    for (name, _) in scenarios::library::BUILTIN {
        for seed in SEEDS {
            let mut scenario =
                scenarios::api::load_scenario(name, &overrides).unwrap_or_else(|f| panic!("{}", f.message));
            scenario.seed = seed;
            let result =
                scenarios::api::run_scenario(&scenario, None, &mut Quiet).unwrap_or_else(|f| panic!("{}", f.message));
            lines.push(format!(
                "{name},{seed},{},{},{}",
                result.digest,
                fingerprint(&result.summary),
                fingerprint(&result.timeseries)
            ));
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn every_shipped_scenario_runs_as_the_committed_fingerprints_say() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/shipped.csv");
    let now = current();
    if std::env::var_os("OVERLAYSIM_REWRITE_GOLDEN").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("tests/golden/shipped.csv is committed");
    let changed: Vec<String> = committed
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("committed {a}\n      now {b}"))
        .collect();
    assert!(changed.is_empty(), "runs changed:\n{}", changed.join("\n"));
    assert_eq!(committed.lines().count(), now.lines().count(), "a shipped scenario was added or removed");
    assert_eq!(now.lines().count(), 1 + 2 * scenarios::library::BUILTIN.len());
}
