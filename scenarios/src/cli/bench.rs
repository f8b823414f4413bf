//! `overlaysim bench`: whole-run throughput and memory, each size in a fresh process.

use crate::api::Failure;
use std::path::PathBuf;

/// The benchmark scenarios `bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum BenchScenario {
    /// `bench-chord-churn`: 1 % of the nodes crash and as many join per
    /// second (scaled with --nodes), latency 1-10 ms, a lookup per 10 ms.
    #[value(name = "bench-chord-churn")]
    ChordChurn,
    /// `bench-chord`: 1 join and 1 crash per second at any size, latency
    /// 10-100 ms, 0.1 % loss, 100 lookup pairs per second.
    #[value(name = "bench-chord")]
    Chord,
}

impl BenchScenario {
    fn name(self) -> &'static str {
        match self {
            BenchScenario::ChordChurn => "bench-chord-churn",
            BenchScenario::Chord => "bench-chord",
        }
    }

    /// Overrides that scale the scenario to `nodes`: for `bench-chord-churn`,
    /// its churn rates in proportion (its file says 1 % of its own size).
    fn settings(self, scenario: &crate::config::Scenario, nodes: u32, duration_s: Option<f64>) -> Vec<String> {
        let mut settings = vec![format!("nodes.initial={nodes}")];
        settings.extend(duration_s.map(|d| format!("duration_s={d}")));
        if self == BenchScenario::ChordChurn {
            let scale = f64::from(nodes) / f64::from(scenario.nodes.initial);
            settings.push(format!("churn.joins_per_s={}", scenario.churn.joins_per_s * scale));
            settings.push(format!("churn.crashes_per_s={}", scenario.churn.crashes_per_s * scale));
        }
        settings
    }
}

#[derive(Debug, clap::Args)]
pub(super) struct BenchArgs {
    /// Network sizes to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u32, 100_000])]
    nodes: Vec<u32>,
    /// Simulated seconds per run [default: the scenario's: 100 s for bench-chord-churn, 60 s for bench-chord].
    #[arg(long)]
    duration_s: Option<f64>,
    /// The benchmark scenario.
    #[arg(long, value_enum, default_value = "bench-chord-churn")]
    scenario: BenchScenario,
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
    if let Some(d) = args.duration_s.filter(|d| !(d.is_finite() && *d > 0.0 && *d <= 1e7)) {
        return Err(Failure::input(format!("--duration-s {d}: must be in (0, 10000000]")));
    }
    let scenario = crate::api::load_scenario(args.scenario.name(), &[])?;
    let executable = std::env::current_exe().map_err(|e| Failure::other(e.into()))?;
    let base = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("overlaysim-bench-{}", std::process::id())),
    };
    println!("{}, whole process per size:", args.scenario.name());
    println!(
        "| nodes | simulated s | messages | events | lookups | failed | wall s | messages/s | events/s | peak RSS MB | bytes/node | slot B | event B |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &nodes in &args.nodes {
        let out = base.join(format!("{}-{nodes}", args.scenario.name()));
        let mut command = std::process::Command::new(&executable);
        command.args(["run", args.scenario.name(), "--quiet", "--out"]).arg(&out);
        for setting in args.scenario.settings(&scenario, nodes, args.duration_s) {
            command.args(["--set", &setting]);
        }
        let status = command.status().map_err(|e| Failure::other(e.into()))?;
        if !status.success() {
            return Err(Failure::other(anyhow::anyhow!("the bench run at {nodes} nodes failed")));
        }
        let perf = crate::output::read_csv(&out.join("perf.csv")).map_err(Failure::other)?;
        let summary = crate::output::read_csv(&out.join("summary.csv")).map_err(Failure::other)?;
        let cell = |c: &str| perf.get(c).or_else(|| summary.get(c));
        let get = |c: &str| cell(c).unwrap_or("?").to_string();
        let number = |c: &str| cell(c).and_then(|v| v.parse::<f64>().ok());
        let messages_per_s = match (number("messages"), number("wall_s")) {
            (Some(messages), Some(wall)) if wall > 0.0 => format!("{:.0}", messages / wall),
            _ => "?".to_string(),
        };
        let columns = [
            get("duration_s"),
            get("messages"),
            get("events"),
            get("lookups"),
            get("lookups_failed"),
            get("wall_s"),
            messages_per_s,
            get("events_per_s"),
            get("peak_rss_mb"),
            get("bytes_per_node"),
            get("slot_bytes"),
            get("event_bytes"),
        ];
        println!("| {nodes} | {} |", columns.join(" | "));
    }
    if args.out.is_none() {
        let _ = std::fs::remove_dir_all(&base);
    }
    Ok(())
}
