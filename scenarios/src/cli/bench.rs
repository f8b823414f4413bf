//! `overlaysim bench`: whole-run throughput and memory, each size in a fresh process.

use crate::api::Failure;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(super) struct BenchArgs {
    /// Network sizes to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u32, 100_000])]
    nodes: Vec<u32>,
    /// Simulated seconds per run.
    #[arg(long, default_value_t = 60.0)]
    duration_s: f64,
    /// Where the per-size outputs go [default: a temporary directory].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the bench scenario at each size in a child process (so that each
/// memory reading starts clean) and prints one table.
pub(super) fn bench_command(args: BenchArgs) -> Result<(), Failure> {
    if let Some(bad) = args.nodes.iter().find(|&&n| n == 0 || n > 10_000_000) {
        return Err(Failure::input(format!("--nodes {bad}: each size must be between 1 and 10000000")));
    }
    if !(args.duration_s.is_finite() && args.duration_s > 0.0 && args.duration_s <= 1e7) {
        return Err(Failure::input(format!("--duration-s {}: must be in (0, 10000000]", args.duration_s)));
    }
    let executable = std::env::current_exe().map_err(|e| Failure::other(e.into()))?;
    let base = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("overlaysim-bench-{}", std::process::id())),
    };
    println!("| nodes | simulated s | events | wall s | events/s | bytes/node | peak RSS MB | slot B | event B |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for nodes in &args.nodes {
        let out = base.join(format!("chord-{nodes}"));
        let status = std::process::Command::new(&executable)
            .args(["run", "bench-chord", "--quiet", "--out"])
            .arg(&out)
            .args(["--set", &format!("nodes.initial={nodes}"), "--set", &format!("duration_s={}", args.duration_s)])
            .status()
            .map_err(|e| Failure::other(e.into()))?;
        if !status.success() {
            return Err(Failure::other(anyhow::anyhow!("the bench run at {nodes} nodes failed")));
        }
        let perf = crate::output::read_csv(&out.join("perf.csv")).map_err(Failure::other)?;
        let get = |c: &str| perf.get(c).unwrap_or("?").to_string();
        println!(
            "| {nodes} | {} | {} | {} | {} | {} | {} | {} | {} |",
            args.duration_s,
            get("events"),
            get("wall_s"),
            get("events_per_s"),
            get("bytes_per_node"),
            get("peak_rss_mb"),
            get("slot_bytes"),
            get("event_bytes")
        );
    }
    if args.out.is_none() {
        let _ = std::fs::remove_dir_all(&base);
    }
    Ok(())
}
