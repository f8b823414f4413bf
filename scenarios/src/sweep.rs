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
//!
//! A sweep's folder holds its definition, `sweep.toml`: the scenario as
//! named, the fixed overrides, the varied keys and values, the build, and
//! per point its values and the hash of its resolved scenario. A sweep
//! started again into a folder whose definition differs is refused (it
//! would mix runs of two definitions), and so is a run file whose
//! provenance key is not the one its point and seed give; `merge` and
//! `compare` check the definitions they are given the same way.

use crate::config::Scenario;
use crate::output::{read_csv, regular_file, write_atomic, write_csv};
use crate::provenance;
use crate::runner::{Quiet, Table};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file in a sweep's folder that holds its definition.
pub const DEFINITION_FILE: &str = "sweep.toml";

/// What a sweep is: enough to tell whether two folders hold runs of the
/// same thing. Seeds and shards are not part of it: a sweep may be resumed
/// with more seeds, and shards of one sweep share one definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The scenario file or shipped name, as given.
    pub scenario: String,
    /// The fixed `--set` overrides, in order.
    pub set: Vec<String>,
    /// The varied keys and their values, in order.
    pub vary: Vec<Vary>,
    /// The build that ran it ([`provenance::BUILD`]).
    pub build: String,
    /// Every point, in index order.
    pub points: Vec<PointDefinition>,
}

/// One point of a [`Definition`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointDefinition {
    /// `key=value` for each varied key.
    pub values: Vec<String>,
    /// [`provenance::scenario_hash`] of the point's resolved scenario.
    pub scenario_hash: String,
}

impl Definition {
    /// The definition of a sweep of `file` with `set`, over `vary`, whose
    /// points resolved to `scenarios`.
    pub fn new(
        file: &str,
        set: &[String],
        vary: &[Vary],
        points: &[Vec<(String, String)>],
        scenarios: &[Scenario],
    ) -> Self {
        Definition {
            scenario: file.to_string(),
            set: set.to_vec(),
            vary: vary.to_vec(),
            build: provenance::BUILD.to_string(),
            points: points
                .iter()
                .zip(scenarios)
                .map(|(point, scenario)| PointDefinition {
                    values: point.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    scenario_hash: provenance::scenario_hash(scenario),
                })
                .collect(),
        }
    }

    /// A short hash of the whole definition, for a default folder name.
    pub fn short_hash(&self) -> String {
        provenance::hash_hex(&format!("{self:?}"))[..8].to_string()
    }

    /// The provenance key a run of `point` with `seed` must carry.
    pub fn expected(&self, point: usize, seed: u64) -> Option<String> {
        self.points.get(point).map(|p| provenance::key(&p.scenario_hash, seed, &self.build))
    }

    /// What differs between two definitions, one phrase each; empty when
    /// they are the same.
    pub fn differences(&self, other: &Definition) -> Vec<String> {
        let mut found = Vec::new();
        if self.scenario != other.scenario {
            found.push(format!("scenario `{}` against `{}`", self.scenario, other.scenario));
        }
        if self.set != other.set {
            found.push(format!("--set [{}] against [{}]", self.set.join(" "), other.set.join(" ")));
        }
        if self.vary != other.vary {
            found.push(self.vary_difference(other));
        }
        if self.build != other.build {
            found.push(format!("build {} against {}", self.build, other.build));
        }
        if found.is_empty() && self.points != other.points {
            found.push("the resolved scenario of some point (the scenario file changed)".to_string());
        }
        found
    }

    /// How the varied keys of two definitions differ.
    pub fn vary_difference(&self, other: &Definition) -> String {
        let show = |d: &Definition| {
            d.vary.iter().map(|v| format!("{}={}", v.key, v.values.join(","))).collect::<Vec<_>>().join(" ")
        };
        format!("--vary [{}] against [{}]", show(self), show(other))
    }

    /// Reads `dir/sweep.toml`; `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Definition>, String> {
        let path = dir.join(DEFINITION_FILE);
        if !regular_file(&path).map_err(|e| format!("{e:#}"))? {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: not a sweep definition of this version: {}", path.display(), e.message()))
    }

    /// Writes `dir/sweep.toml`, atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = toml::to_string(self).context("cannot serialize the sweep definition")?;
        let header = "# The definition of the sweep whose runs this folder holds (written by overlaysim).\n";
        write_atomic(&dir.join(DEFINITION_FILE), format!("{header}{text}").as_bytes())
    }

    /// Reads the definition of a sweep folder, which must have one.
    pub fn require(dir: &Path) -> Result<Definition, String> {
        Definition::read(dir)?.ok_or_else(|| {
            format!(
                "{}: no {DEFINITION_FILE}, so what its runs are cannot be checked (not a sweep folder, or one \
                 written by an older build: sweep it again)",
                dir.display()
            )
        })
    }
}

/// One parameter swept: a dotted key and its values (TOML syntax each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Refuses two `--vary` of one key: the second would silently win over the
/// first, and the points would be labelled with values they did not run.
pub fn check_distinct(vary: &[Vary]) -> Result<(), String> {
    for (k, v) in vary.iter().enumerate() {
        if vary[..k].iter().any(|earlier| earlier.key == v.key) {
            return Err(format!("--vary {}: the key is varied twice; give all its values in one --vary", v.key));
        }
    }
    Ok(())
}

/// Readies a folder for the runs or results of `definition`: refuses a
/// path that is not a directory, a folder that holds another sweep, and a
/// non-empty folder that holds none (not ours); then writes the
/// definition. `sweep` and `merge` both claim their `--out` this way.
pub fn prepare_folder(out: &Path, definition: &Definition) -> Result<(), String> {
    if let Ok(meta) = std::fs::symlink_metadata(out)
        && !meta.is_dir()
    {
        return Err(format!("{}: the output path exists and is not a directory", out.display()));
    }
    match Definition::read(out)? {
        Some(existing) if existing != *definition => {
            return Err(format!(
                "{}: holds runs of another sweep ({}); refusing to mix them: use another --out, or remove the folder",
                out.display(),
                existing.differences(definition).join("; ")
            ));
        }
        Some(_) => {}
        None => {
            let occupied = std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
            if occupied {
                return Err(format!(
                    "{}: not empty and holds no {DEFINITION_FILE}, so it is not a sweep folder of ours (or its \
                     runs cannot be checked); use another --out, or remove the folder",
                    out.display()
                ));
            }
        }
    }
    crate::output::ensure_dir(out).map_err(|e| format!("{e:#}"))?;
    definition.write(out).map_err(|e| format!("{e:#}"))
}

/// The jobs not finished yet; an error when a finished run's file was
/// made by another definition, seed or build.
pub fn pending<'a>(jobs: &'a [Job], out: &Path, definition: &Definition) -> Result<Vec<&'a Job>, String> {
    let mut pending = Vec::new();
    for job in jobs {
        let file = job.file(out);
        if regular_file(&file).map_err(|e| format!("{e:#}"))? {
            check_run_file(&file, job.point, job.seed, definition)?;
        } else {
            pending.push(job);
        }
    }
    Ok(pending)
}

/// Checks that a run file holds the run of `point` and `seed` under `definition`.
fn check_run_file(file: &Path, point: usize, seed: u64, definition: &Definition) -> Result<(), String> {
    let expected = definition.expected(point, seed).ok_or_else(|| {
        format!("{}: point {point} is not one of the sweep's {}", file.display(), definition.points.len())
    })?;
    let table = read_csv(file).map_err(|e| format!("{e:#}"))?;
    match provenance::recorded(&table) {
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(format!(
            "{}: a run of another definition, seed or build (provenance {found}, expected {expected} for point \
             {point} seed {seed} of {}); refusing to mix them",
            file.display(),
            definition.scenario
        )),
        None => Err(format!("{}: no provenance column, so what it is cannot be checked", file.display())),
    }
}

/// Runs one job and writes its file: the point's values, then the summary.
pub fn run_job(scenario: &Scenario, point: &[(String, String)], job: &Job, out: &Path) -> Result<()> {
    let result = crate::api::run_scenario(scenario, None, &mut Quiet).map_err(|f| anyhow::anyhow!(f.message))?;
    let mut table = Table { header: vec!["point".into()], rows: vec![vec![job.point.to_string()]] };
    for (key, value) in point {
        table.header.push(key.clone());
        table.rows[0].push(value.clone());
    }
    table.header.extend(result.summary.header.iter().cloned());
    table.rows[0].extend(result.summary.rows[0].iter().cloned());
    write_csv(&job.file(out), &table)
}

/// Every run file under each of `dirs`'s `runs/`, as (point, seed, path).
fn run_files(dirs: &[PathBuf]) -> Result<Vec<(usize, u64, PathBuf)>> {
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
    Ok(files)
}

/// What `overlaysim sweep` is asked: the scenario (a file or a shipped
/// name) with its fixed overrides, the varied keys, the seeds, an optional
/// shard, where the runs go, how many run at once.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRequest {
    pub file: String,
    pub overrides: Vec<String>,
    pub vary: Vec<Vary>,
    pub seeds: Vec<u64>,
    /// `--shard i/n`: every n-th run from the i-th.
    pub shard: Option<(usize, usize)>,
    /// The folder; `runs/<name>/sweep-<definition hash>` when None.
    pub out: Option<PathBuf>,
    pub jobs: usize,
    pub quiet: bool,
}

/// What a sweep did.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepReport {
    /// Each point's values of the varied keys.
    pub points: Vec<Vec<(String, String)>>,
    pub out: PathBuf,
    /// Runs of this shard found done, and run now.
    pub done_before: usize,
    pub run_now: usize,
    /// Rows in `results.csv`.
    pub rows: usize,
    /// The runs that failed, as messages.
    pub failures: Vec<String>,
}

/// Runs a sweep: every point's scenario is loaded and validated first, the
/// folder is claimed (refused when it holds another definition's runs),
/// the runs not yet done are run in parallel, each written as it finishes,
/// and `results.csv` is written from every finished run.
pub fn run(request: &SweepRequest) -> Result<SweepReport, crate::api::Failure> {
    use crate::api::{Failure, load_scenario};
    check_distinct(&request.vary).map_err(Failure::input)?;
    let points = points(&request.vary);
    let mut scenarios = Vec::with_capacity(points.len());
    for point in &points {
        let mut overrides = request.overrides.clone();
        overrides.extend(point.iter().map(|(k, v)| format!("{k}={v}")));
        scenarios.push(load_scenario(&request.file, &overrides)?);
    }
    let definition = Definition::new(&request.file, &request.overrides, &request.vary, &points, &scenarios);
    let out = request.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(&scenarios[0].name).join(format!("sweep-{}", definition.short_hash()))
    });
    prepare_folder(&out, &definition).map_err(Failure::input)?;
    crate::output::ensure_dir(&out.join("runs")).map_err(Failure::other)?;
    let jobs = jobs(points.len(), &request.seeds, request.shard);
    let pending = pending(&jobs, &out, &definition).map_err(Failure::input)?;
    let failures = crate::progress::run_all(
        &pending,
        request.jobs,
        request.quiet,
        |job| format!("point {} seed {}", job.point, job.seed),
        |job| {
            let mut scenario = scenarios[job.point].clone();
            scenario.seed = job.seed;
            run_job(&scenario, &points[job.point], job, &out)
        },
    )
    .map_err(Failure::other)?;
    let rows = write_results(&out, &definition).map_err(Failure::input)?;
    let (done_before, run_now) = (jobs.len() - pending.len(), pending.len());
    Ok(SweepReport { points, out, done_before, run_now, rows, failures })
}

/// Gathers every run file under each `dirs`'s `runs/` into one table,
/// sorted by (point, seed), columns in first-seen order. Every file must
/// be a run of `definition`.
pub fn gather(dirs: &[PathBuf], definition: &Definition) -> Result<Table> {
    let mut files = run_files(dirs)?;
    for (point, seed, path) in &files {
        check_run_file(path, *point, *seed, definition).map_err(|e| anyhow::anyhow!(e))?;
    }
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

/// Writes a sweep folder's `results.csv` from its run files, every one a
/// run of `definition`; returns the rows.
pub fn write_results(out: &Path, definition: &Definition) -> Result<usize, String> {
    let table = gather(&[out.to_path_buf()], definition).map_err(|e| format!("{e:#}"))?;
    write_csv(&out.join("results.csv"), &table).map_err(|e| format!("{e:#}"))?;
    Ok(table.rows.len())
}

/// `merge`: the shards in `dirs`, which must share one definition, into
/// `out/results.csv` (and `out/sweep.toml`); returns the rows.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize, String> {
    let mut definition: Option<(Definition, &PathBuf)> = None;
    for dir in dirs {
        let found = Definition::require(dir)?;
        if let Some((first, first_dir)) = &definition
            && *first != found
        {
            return Err(format!(
                "{} and {} are not shards of one sweep ({}); refusing to merge them",
                first_dir.display(),
                dir.display(),
                first.differences(&found).join("; ")
            ));
        }
        definition.get_or_insert((found, dir));
    }
    let Some((definition, _)) = definition else { return Err("no sweep folder given".into()) };
    // Gathered (and so checked) before the folder is claimed: a bad shard
    // leaves nothing behind.
    let table = gather(dirs, &definition).map_err(|e| format!("{e:#}"))?;
    prepare_folder(out, &definition)?;
    write_csv(&out.join("results.csv"), &table).map_err(|e| format!("{e:#}"))?;
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
        let twice = [Vary::parse("a=1,2").unwrap(), Vary::parse("a=3").unwrap()];
        assert!(check_distinct(&twice).unwrap_err().contains("varied twice"));
        assert!(check_distinct(&twice[..1]).is_ok());
        assert_eq!(parse_seeds("7").unwrap(), vec![7]);
    }
}
