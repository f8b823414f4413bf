//! Provenance: what produced a result, so that nothing reuses a result of
//! another definition or build without saying so.
//!
//! Every result file carries a provenance key, a hash of three things:
//! - the fully resolved scenario (after the file, every `--set` and the
//!   `--vary` point; defaults filled in), hashed from its `Debug` text with
//!   the seed taken out ([`scenario_hash`]), so every seed of one sweep
//!   point shares it;
//! - the seed;
//! - the build ([`BUILD`]): the crate version and a fingerprint of the
//!   simulator's own source, made at compile time by `build.rs`.
//!
//! `summary.csv` gets the columns `scenario_hash`, `build` and
//! `provenance`; `timeseries.csv` and `hops.csv` a `provenance` column.
//! Sweep resume, the figure cache, `merge` and `compare` check them.

use crate::config::Scenario;
use crate::runner::{RunResult, Table};

/// This build: the crate version and the fingerprint of the source.
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+src.", env!("OVERLAYSIM_SOURCE_HASH"));

/// The column names the provenance adds to `summary.csv`.
pub const SUMMARY_COLUMNS: [&str; 3] = ["scenario_hash", "build", "provenance"];

/// FNV-1a over `bytes`, from `offset`.
fn fnv1a(offset: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(offset, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// 128 bits of FNV-1a (two offsets) as 32 hex digits.
pub fn hash_hex(text: &str) -> String {
    format!(
        "{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, text.as_bytes()),
        fnv1a(0x6c62_272e_07bb_0142, text.as_bytes())
    )
}

/// The hash of the resolved scenario without its seed.
pub fn scenario_hash(scenario: &Scenario) -> String {
    let mut unseeded = scenario.clone();
    unseeded.seed = 0;
    hash_hex(&format!("{unseeded:?}"))
}

/// The provenance key of one run: scenario hash, seed and build.
pub fn key(scenario_hash: &str, seed: u64, build: &str) -> String {
    hash_hex(&format!("{scenario_hash}\n{seed}\n{build}"))
}

/// The provenance key of a run of `scenario` (with its own seed) by this build.
pub fn key_of(scenario: &Scenario) -> String {
    key(&scenario_hash(scenario), scenario.seed, BUILD)
}

/// Adds the provenance columns to a run's result tables.
pub fn stamp(result: &mut RunResult, scenario: &Scenario) {
    let hash = scenario_hash(scenario);
    let provenance = key(&hash, scenario.seed, BUILD);
    let summary = &mut result.summary;
    summary.header.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    for row in &mut summary.rows {
        row.extend([hash.clone(), BUILD.to_string(), provenance.clone()]);
    }
    for table in [&mut result.timeseries, &mut result.hops] {
        add_column(table, "provenance", &provenance);
    }
}

fn add_column(table: &mut Table, name: &str, value: &str) {
    table.header.push(name.to_string());
    for row in &mut table.rows {
        row.push(value.to_string());
    }
}

/// The provenance key a result table's first row records, if any.
pub fn recorded(table: &Table) -> Option<&str> {
    let column = table.header.iter().position(|h| h == "provenance")?;
    table.rows.first().and_then(|row| row.get(column)).map(String::as_str)
}

/// The text of `provenance.txt` in a run's folder: what produced it, and
/// the resolved scenario in full.
pub fn describe(scenario: &Scenario) -> String {
    let hash = scenario_hash(scenario);
    let provenance = key(&hash, scenario.seed, BUILD);
    format!(
        "build = {BUILD}\nseed = {}\nscenario_hash = {hash}\nprovenance = {provenance}\n\n# the resolved \
         scenario\n{scenario:#?}\n",
        scenario.seed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_the_scenario_the_seed_and_the_build() {
        let text = crate::library::builtin("quickstart").unwrap();
        let scenario = crate::config::parse("quickstart", text, &[]).unwrap();
        let changed = crate::config::parse("quickstart", text, &["churn.crashes_per_s=3".into()]).unwrap();
        let mut reseeded = scenario.clone();
        reseeded.seed += 1;
        assert_eq!(scenario_hash(&scenario), scenario_hash(&reseeded), "the seed is not part of the scenario hash");
        assert_ne!(scenario_hash(&scenario), scenario_hash(&changed));
        assert_ne!(key_of(&scenario), key_of(&reseeded));
        let hash = scenario_hash(&scenario);
        assert_ne!(key(&hash, 1, BUILD), key(&hash, 1, "0.0.0+src.other"));
        assert_eq!(hash.len(), 32);
        assert!(BUILD.contains("+src."));
    }
}
