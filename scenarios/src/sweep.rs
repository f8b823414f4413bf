//! Sweeps: one scenario over a grid of parameter values and seeds.
//!
//! Every (point, seed) is an independent simulation, run in parallel across
//! cores (rayon; never inside a run). Each finished run is written at once,
//! atomically, as `runs/p<point>-s<seed>.csv` (one header, one row), so an
//! interrupted sweep started again skips what is done and loses nothing.
//! `results.csv` gathers every finished run sorted by (point, seed): the
//! same bytes whatever `--jobs` is. `--shard i/n` runs every n-th run
//! starting at the i-th, so a cluster's batch system can spread a sweep;
//! `merge` joins the shards' outputs.

use crate::config::Scenario;
use crate::output::{read_csv, write_csv};
use crate::runner::{Quiet, Table};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// One parameter swept: a dotted key and its values (TOML syntax each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

impl Vary {
    /// Parses `key.path=v1,v2,...`.
    pub fn parse(text: &str) -> Result<Vary, String> {
        let (key, values) = text.split_once('=').ok_or_else(|| format!("--vary {text}: expected key=v1,v2,..."))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if key.trim().is_empty() || values.is_empty() {
            return Err(format!("--vary {text}: expected key=v1,v2,..."));
        }
        Ok(Vary { key: key.trim().to_string(), values })
    }
}

/// Parses `a..b` (inclusive) or a single seed.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds {text}: expected a range like 1..10 or one seed");
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if a > b || b - a >= 1_000_000 {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![text.trim().parse().map_err(|_| bad())?]),
    }
}

/// Parses `i/n` with 1 ≤ i ≤ n.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {text}: expected i/n with 1 <= i <= n");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The grid: every combination of the varied values, first key slowest.
pub fn points(vary: &[Vary]) -> Vec<Vec<(String, String)>> {
    let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for v in vary {
        points = points
            .into_iter()
            .flat_map(|p| {
                v.values.iter().map(move |value| {
                    let mut next = p.clone();
                    next.push((v.key.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    points
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub point: usize,
    pub seed: u64,
}

impl Job {
    pub fn file(&self, out: &Path) -> PathBuf {
        out.join("runs").join(format!("p{:04}-s{}.csv", self.point, self.seed))
    }
}

/// Every run, in (point, seed) order, restricted to a shard.
pub fn jobs(points: usize, seeds: &[u64], shard: Option<(usize, usize)>) -> Vec<Job> {
    let all = (0..points).flat_map(|point| seeds.iter().map(move |&seed| Job { point, seed }));
    match shard {
        Some((i, n)) => all.enumerate().filter(|(k, _)| k % n == i - 1).map(|(_, j)| j).collect(),
        None => all.collect(),
    }
}

/// Runs one job and writes its file: the point's values, then the summary.
pub fn run_job(scenario: &Scenario, point: &[(String, String)], job: &Job, out: &Path) -> Result<()> {
    let result = crate::cli::run_scenario(scenario, None, &mut Quiet).map_err(|f| anyhow::anyhow!(f.message))?;
    let mut table = Table { header: vec!["point".into()], rows: vec![vec![job.point.to_string()]] };
    for (key, value) in point {
        table.header.push(key.clone());
        table.rows[0].push(value.clone());
    }
    table.header.extend(result.summary.header.iter().cloned());
    table.rows[0].extend(result.summary.rows[0].iter().cloned());
    write_csv(&job.file(out), &table)
}

/// Gathers every run file under each `dirs`'s `runs/` into one table,
/// sorted by (point, seed), columns in first-seen order.
pub fn gather(dirs: &[PathBuf]) -> Result<Table> {
    let mut files: Vec<(usize, u64, PathBuf)> = Vec::new();
    for dir in dirs {
        let runs = dir.join("runs");
        let entries = std::fs::read_dir(&runs).with_context(|| format!("cannot read {}", runs.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let parsed = name
                .strip_suffix(".csv")
                .and_then(|n| n.strip_prefix('p'))
                .and_then(|n| n.split_once("-s"))
                .and_then(|(p, s)| Some((p.parse::<usize>().ok()?, s.parse::<u64>().ok()?)));
            if let Some((point, seed)) = parsed {
                files.push((point, seed, path));
            }
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut table = Table::default();
    let mut rows: Vec<Vec<(String, String)>> = Vec::new();
    for (_, _, path) in &files {
        let run = read_csv(path)?;
        let row = run.rows.first().with_context(|| format!("{} has no row", path.display()))?;
        for column in &run.header {
            if !table.header.contains(column) {
                table.header.push(column.clone());
            }
        }
        rows.push(run.header.iter().cloned().zip(row.iter().cloned()).collect());
    }
    table.rows = rows
        .into_iter()
        .map(|row| {
            table
                .header
                .iter()
                .map(|c| row.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default())
                .collect()
        })
        .collect();
    Ok(table)
}

/// Writes `results.csv` from the run files found in `dirs`.
pub fn write_results(dirs: &[PathBuf], out: &Path) -> Result<usize> {
    let table = gather(dirs)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_csv(&out.join("results.csv"), &table)?;
    Ok(table.rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_the_cartesian_product_first_key_slowest() {
        let vary = [Vary::parse("a=1,2").unwrap(), Vary::parse("b.c=x,y,z").unwrap()];
        let grid = points(&vary);
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0], [("a".to_string(), "1".to_string()), ("b.c".to_string(), "x".to_string())]);
        assert_eq!(grid[3][0].1, "2");
        assert_eq!(points(&[]).len(), 1);
    }

    #[test]
    fn shards_partition_the_runs() {
        let seeds = parse_seeds("1..5").unwrap();
        let all = jobs(3, &seeds, None);
        assert_eq!(all.len(), 15);
        let mut union: Vec<Job> = (1..=4).flat_map(|i| jobs(3, &seeds, Some((i, 4)))).collect();
        union.sort_by_key(|j| (j.point, j.seed));
        assert_eq!(union, all);
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err() && parse_shard("x").is_err());
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(Vary::parse("novalue").is_err());
        assert!(Vary::parse("a=").is_err());
        assert!(parse_seeds("5..1").is_err());
        assert_eq!(parse_seeds("7").unwrap(), vec![7]);
    }
}
