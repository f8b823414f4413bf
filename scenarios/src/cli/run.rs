//! `overlaysim run`: one scenario, or one per protocol on one fault schedule.

use crate::api::{Failure, check_output_folder, load_scenario, remove_stale_outputs, run_scenario, write_outputs};
use crate::config::Scenario;
use crate::library;
use crate::output::write_csv;
use crate::runner::{Progress, RunResult, Table};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::SimTime;
use sim_core::trace::TraceWriter;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// Scenario file, or a shipped scenario's name (see --list).
    #[arg(required_unless_present = "list")]
    file: Option<String>,
    /// List the shipped scenarios and exit.
    #[arg(long)]
    list: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override any key, e.g. --set nodes.initial=4096 (validated like the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Output directory [default: runs/<name>/seed-<seed>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write trace.jsonl, one line per delivered event.
    #[arg(long)]
    trace: bool,
    /// Also draw the time series to timeseries.png and timeseries.svg.
    #[arg(long)]
    plot: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Run the scenario once per protocol (each with its default
    /// parameters), on the same seed and so the same churn and faults, and
    /// write comparison.csv beside one folder per protocol.
    #[arg(long, value_delimiter = ',', value_name = "PROTOCOL,...")]
    compare: Vec<String>,
}

/// The summary columns every ring protocol shares, for comparisons.
const COMPARED: &[&str] = &[
    "protocol",
    "alive_nodes",
    "joins",
    "crashes",
    "lookups",
    "lookups_failed",
    "lookups_wrong",
    "lookup_pairs",
    "lookups_inconsistent",
    "mean_hops",
    "inconsistent_key_fraction",
    "inconsistent_key_fraction_max",
    "unavailable_key_fraction",
    "perfect_ring_fraction",
    "branches",
    "suspicions",
    "false_suspicions",
    "messages",
    "digest",
    "provenance",
];

pub(super) fn run_command(args: RunArgs) -> Result<(), Failure> {
    if args.list {
        for (name, text) in library::BUILTIN {
            println!("{name:34} {}", library::describe(text));
        }
        return Ok(());
    }
    let file = args.file.as_deref().unwrap_or_default();
    if !args.compare.is_empty() {
        return compare_command(file, &args);
    }
    let mut scenario = load_scenario(file, &args.overrides)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&scenario.name).join(format!("seed-{}", scenario.seed)));
    check_output_folder(&out)?;
    // The trace is written while the run goes; it lands in a temporary file
    // that is renamed only when the run succeeds.
    let trace_temporary = out.with_extension("trace.tmp");
    let trace = if args.trace || scenario.output.trace {
        crate::output::check_target(&trace_temporary).map_err(Failure::other)?;
        std::fs::create_dir_all(out.parent().unwrap_or(Path::new("."))).map_err(|e| Failure::other(e.into()))?;
        let file = std::fs::File::create(&trace_temporary)
            .with_context(|| format!("cannot create {}", trace_temporary.display()))
            .map_err(Failure::other)?;
        Some(TraceWriter::new(Box::new(std::io::BufWriter::new(file))))
    } else {
        None
    };
    let has_trace = trace.is_some();
    let mut progress = Bar::new(scenario.duration_s, args.quiet);
    let result = run_scenario(&scenario, trace, &mut progress)?;
    progress.finish();
    write_outputs(&out, &scenario, &result).map_err(Failure::other)?;
    let mut written = Vec::new();
    if has_trace {
        written.push("trace.jsonl");
    }
    if args.plot {
        written.extend(["timeseries.png", "timeseries.svg"]);
    }
    if result.snapshot.is_some() {
        written.extend(["ring.png", "ring.svg"]);
    }
    remove_stale_outputs(&out, &written).map_err(Failure::other)?;
    if args.plot {
        crate::plots::plot_timeseries(&out, &scenario.name, &result.timeseries, result.charts)
            .map_err(Failure::other)?;
    }
    if has_trace {
        crate::output::commit(&trace_temporary, &out.join("trace.jsonl"), Ok(())).map_err(Failure::other)?;
    }
    if !args.quiet {
        print_summary(&scenario, &result, &out);
    }
    Ok(())
}

/// `run --compare`: one run per protocol, then a side-by-side table.
pub(super) fn compare_command(file: &str, args: &RunArgs) -> Result<(), Failure> {
    let mut scenarios = Vec::new();
    for protocol in &args.compare {
        let mut overrides = args.overrides.clone();
        overrides.push(format!("protocol={protocol}"));
        let mut scenario = load_scenario(file, &overrides)?;
        if let Some(seed) = args.seed {
            scenario.seed = seed;
        }
        scenarios.push(scenario);
    }
    let first = &scenarios[0];
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&first.name).join(format!("seed-{}", first.seed)));
    for scenario in &scenarios {
        check_output_folder(&out.join(scenario.protocol.name()))?;
    }
    crate::output::check_target(&out.join("comparison.csv")).map_err(Failure::other)?;
    let mut table = Table::new(COMPARED);
    for scenario in &scenarios {
        let mut progress = Bar::new(scenario.duration_s, args.quiet);
        let result = run_scenario(scenario, None, &mut progress)?;
        progress.finish();
        write_outputs(&out.join(scenario.protocol.name()), scenario, &result).map_err(Failure::other)?;
        table.rows.push(COMPARED.iter().map(|c| result.summary.get(c).unwrap_or("").to_string()).collect());
    }
    write_csv(&out.join("comparison.csv"), &table).map_err(Failure::other)?;
    if !args.quiet {
        println!("{} on seed {}: the same churn schedule for every protocol", first.name, first.seed);
        let width = COMPARED.iter().map(|c| c.len()).max().unwrap_or(10);
        for (i, column) in COMPARED.iter().enumerate().filter(|(_, c)| !matches!(**c, "digest" | "provenance")) {
            let cells: Vec<String> = table.rows.iter().map(|r| format!("{:>14}", r[i])).collect();
            println!("{column:width$} {}", cells.join(" "));
        }
        println!("wrote {}/comparison.csv and one folder per protocol", out.display());
    }
    Ok(())
}

fn print_summary(scenario: &Scenario, result: &RunResult, out: &Path) {
    let s = &result.summary;
    let get = |c: &str| s.get(c).unwrap_or("?").to_string();
    let number = |c: &str| s.get(c).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let lookups = number("lookups");
    let percent = |c: &str| if lookups > 0.0 { 100.0 * number(c) / lookups } else { 0.0 };
    println!(
        "{} ({}), seed {}: {} s simulated, {} initial nodes, {} alive at the end",
        scenario.name,
        get("protocol"),
        scenario.seed,
        scenario.duration_s,
        get("nodes_initial"),
        get("alive_nodes")
    );
    println!(
        "lookups {}: failed {:.2}%, wrong {:.2}%, inconsistent pairs {} of {}; mean hops {}, mean timeouts {}",
        get("lookups"),
        percent("lookups_failed"),
        percent("lookups_wrong"),
        get("lookups_inconsistent"),
        get("lookup_pairs"),
        get("mean_hops"),
        get("mean_timeouts")
    );
    println!(
        "keys (time-averaged): inconsistent {:.6}, unavailable {:.6}; perfect ring at the end: {} ({:.0}% of samples)",
        number("inconsistent_key_fraction"),
        number("unavailable_key_fraction"),
        if get("perfect_ring") == "1" { "yes" } else { "no" },
        100.0 * number("perfect_ring_fraction")
    );
    let perf = &result.perf;
    println!(
        "messages {}, events {} in {:.2} s wall ({:.2} M events/s), peak memory {:.0} MB",
        get("messages"),
        perf.events,
        perf.wall_s,
        perf.events_per_s / 1e6,
        perf.peak_rss_mb
    );
    println!("digest {}", result.digest);
    println!("wrote {}/{{summary,timeseries,hops,perf}}.csv and digest.txt", out.display());
}

/// A progress bar on a terminal for runs longer than a second.
struct Bar {
    bar: Option<ProgressBar>,
    total_ms: u64,
    quiet: bool,
    started: crate::progress::Stopwatch,
}

impl Bar {
    fn new(duration_s: f64, quiet: bool) -> Self {
        Bar { bar: None, total_ms: (duration_s * 1000.0) as u64, quiet, started: crate::progress::Stopwatch::start() }
    }
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn advance(&mut self, now: SimTime, events: u64) {
        if self.quiet {
            return;
        }
        let elapsed = self.started.seconds();
        if self.bar.is_none() && elapsed > 1.0 {
            let bar = ProgressBar::with_draw_target(Some(self.total_ms), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:30} simulated {msg} ({elapsed} wall, eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position((now.as_millis_f64() as u64).min(self.total_ms));
            bar.set_message(format!("{:.1} s, {:.2} M events/s", now.as_secs_f64(), events as f64 / elapsed / 1e6));
        }
    }
}
