//! `overlaysim sweep` and `overlaysim merge`.

use crate::api::{Failure, default_jobs};
use crate::sweep;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct SweepArgs {
    /// Scenario file, or a shipped scenario's name.
    file: String,
    /// A swept key and its values, e.g. --vary nodes.initial=1000,2000 (repeatable).
    #[arg(long = "vary", value_name = "KEY=V1,V2,...")]
    vary: Vec<String>,
    /// Seeds, e.g. 1..10.
    #[arg(long, default_value = "1..1")]
    seeds: String,
    /// Runs at once [default: the number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Fixed overrides for every run (validated like the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Output directory [default: runs/<name>/sweep-<hash of the sweep's
    /// definition>, so that two sweeps never share a default folder].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only every n-th run starting at the i-th, e.g. 2/8.
    #[arg(long)]
    shard: Option<String>,
    /// Check every run: after its last heal (or kick) one perfect ring of
    /// all live nodes with no inconsistent key within this many seconds,
    /// still so at the end, and after every earlier heal one perfect ring
    /// before the next cut; print each failing seed with the command that
    /// replays it, and exit 1.
    #[arg(long, value_name = "SECONDS")]
    require_merge_within: Option<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct MergeArgs {
    /// Sweep output directories (shards).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where results.csv goes.
    #[arg(long)]
    out: PathBuf,
}

/// `sweep`: validates every point first, then runs what is not done yet.
pub(super) fn sweep_command(args: SweepArgs) -> Result<(), Failure> {
    let vary: Vec<sweep::Vary> =
        args.vary.iter().map(|v| sweep::Vary::parse(v)).collect::<Result<_, _>>().map_err(Failure::input)?;
    let request = sweep::SweepRequest {
        file: args.file.clone(),
        overrides: args.overrides.clone(),
        vary,
        seeds: sweep::parse_seeds(&args.seeds).map_err(Failure::input)?,
        shard: args.shard.as_deref().map(sweep::parse_shard).transpose().map_err(Failure::input)?,
        out: args.out.clone(),
        jobs: default_jobs(args.jobs),
        quiet: args.quiet,
    };
    let report = sweep::run(&request)?;
    if !args.quiet {
        println!(
            "{} points x {} seeds: {} runs done before, {} run now; {} rows in {}",
            report.points.len(),
            request.seeds.len(),
            report.done_before,
            report.run_now,
            report.rows,
            report.out.join("results.csv").display()
        );
    }
    if let Some(first) = report.failures.first() {
        return Err(Failure::other(anyhow::anyhow!("{} runs failed; first: {first}", report.failures.len())));
    }
    match args.require_merge_within {
        Some(bound_s) => require_merge(&args, &report.points, &report.out, bound_s),
        None => Ok(()),
    }
}

fn require_merge(args: &SweepArgs, points: &[Vec<(String, String)>], out: &Path, bound_s: f64) -> Result<(), Failure> {
    let results = crate::output::read_csv(&out.join("results.csv")).map_err(Failure::other)?;
    let column = |name: &str| results.header.iter().position(|h| h == name);
    let (Some(point), Some(seed), Some(merged), Some(time), Some(perfect), Some(inconsistent)) = (
        column("point"),
        column("seed"),
        column("merged"),
        column("merge_time_s"),
        column("perfect_ring"),
        column("inconsistent_key_fraction_end"),
    ) else {
        return Err(Failure::other(anyhow::anyhow!("results.csv lacks the merge columns")));
    };
    let mut failed = 0usize;
    for row in &results.rows {
        let within = row[time].parse::<f64>().is_ok_and(|t| t <= bound_s);
        let clean = row[perfect] == "1" && row[inconsistent].parse::<f64>().is_ok_and(|f| f == 0.0);
        let every_heal = match (column("heals"), column("heals_merged")) {
            (Some(h), Some(m)) => row[h] == row[m],
            _ => true,
        };
        if row[merged] == "1" && within && clean && every_heal {
            continue;
        }
        failed += 1;
        let mut replay = format!("overlaysim run {} --seed {}", args.file, row[seed]);
        let point_values = row[point].parse::<usize>().ok().and_then(|p| points.get(p)).cloned().unwrap_or_default();
        for set in args.overrides.iter().cloned().chain(point_values.iter().map(|(k, v)| format!("{k}={v}"))) {
            replay.push_str(&format!(" --set '{set}'"));
        }
        let merged_when =
            if row[time].is_empty() { "never".to_string() } else { format!("{} s after the heal", row[time]) };
        let heals = match (column("heals"), column("heals_merged")) {
            (Some(h), Some(m)) => format!(", {} of {} heals followed by one perfect ring", row[m], row[h]),
            _ => String::new(),
        };
        eprintln!(
            "seed {}: merged {merged_when} (bound {bound_s} s), perfect ring at the end {}, inconsistent key \
             fraction at the end {}{heals}; replay: {replay}",
            row[seed], row[perfect], row[inconsistent]
        );
    }
    if failed > 0 {
        return Err(Failure::check(format!("{failed} of {} runs did not merge in time", results.rows.len())));
    }
    if !args.quiet {
        println!("every one of {} runs merged within {bound_s} s and ended on one perfect ring", results.rows.len());
    }
    Ok(())
}

/// `merge`: joins shards of one sweep into one results.csv.
pub(super) fn merge_command(args: MergeArgs) -> Result<(), Failure> {
    let rows = sweep::merge(&args.dirs, &args.out).map_err(Failure::input)?;
    println!("merged {rows} runs into {}", args.out.join("results.csv").display());
    Ok(())
}
