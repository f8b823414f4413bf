//! The `overlaysim` command line.

use crate::config::{self, ProtocolName, ProtocolParams, Scenario};
use crate::library;
use crate::output::{write_atomic, write_csv};
use crate::runner::{self, Progress, RunResult, Table};
use crate::sweep;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use protocols::chord::{Chord, ChordConfig};
use protocols::dks::{Dks, DksConfig};
use protocols::merge::{MergeConfig, Mergeable, Merging};
use protocols::palta::{Palta, PaltaConfig};
use protocols::relaxed_ring::{RelaxedRing, RelaxedRingConfig};
use sim_core::SimTime;
use sim_core::trace::TraceWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "overlaysim",
    version,
    about = "Deterministic discrete-event simulator for structured overlay networks"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scenario (a file, or the name of a shipped scenario).
    Run(RunArgs),
    /// Measure whole-run throughput and memory: Chord under churn at several
    /// sizes, each in a fresh process.
    Bench(BenchArgs),
    /// Run a scenario over a grid of values and seeds, in parallel; an
    /// interrupted sweep started again resumes where it stopped.
    Sweep(SweepArgs),
    /// Join the outputs of sweep shards into one results.csv.
    Merge(MergeArgs),
    /// Compare two sweeps point by point (Welch's t-test); exits 1 when a
    /// metric got significantly worse.
    Compare(CompareArgs),
    /// Draw the ring of a scenario at one instant (SVG, and PNG beside it).
    Snapshot(SnapshotArgs),
    /// Reproduce the papers' figures: run them, draw PNG and SVG with the
    /// papers' points, and write report.html.
    Figures(FiguresArgs),
    /// Explore a small configuration exhaustively: every order of message
    /// deliveries (and, within a budget, losses, crashes and false
    /// suspicions), breadth-first, checking lookup consistency at every
    /// state; exits 1 with a shortest trace when it breaks.
    Explore(ExploreArgs),
    /// Check a scenario over many seeds: safety properties after every
    /// event, and one perfect ring within a bound after the last
    /// `stop_faults`; prints each failing seed with the command that
    /// replays it, and exits 1.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Scenario file, or a shipped scenario's name (e.g. check-ring).
    file: String,
    /// Seeds, e.g. 1..10000.
    #[arg(long, default_value = "1..100")]
    seeds: String,
    /// Each seed draws its own fault mix (which of loss, churn, false
    /// suspicions and partitions are on, and their rates) in place of the
    /// scenario's.
    #[arg(long)]
    swarm: bool,
    /// Fault kinds the swarm never turns on: loss, churn, false_suspicions,
    /// partitions (e.g. partitions for a protocol that cannot merge rings).
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    swarm_without: Vec<String>,
    /// Runs at once [default: the number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Seconds after the last `stop_faults` by which the ring must be one
    /// perfect ring with no inconsistent key.
    #[arg(long, default_value_t = 30.0)]
    converge_within: f64,
    /// Override any key, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Shrink the first failing seed: record its faults, reduce them by
    /// delta debugging while the failure persists, and write the result as
    /// a scenario file that replays it.
    #[arg(long)]
    shrink: bool,
    /// Where the shrunk scenario goes [default: <name>-seed-<seed>-shrunk.toml].
    #[arg(long, value_name = "FILE")]
    shrink_out: Option<PathBuf>,
    /// Print every seed's fault mix and outcome, not only failures.
    #[arg(long, short)]
    verbose: bool,
    /// Print nothing but failures and errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct ExploreArgs {
    /// chord, relaxed_ring or dks.
    #[arg(long, required_unless_present = "list")]
    protocol: Option<String>,
    /// A shipped configuration (see --list).
    #[arg(long, required_unless_present = "list")]
    config: Option<String>,
    /// List the configurations and exit.
    #[arg(long)]
    list: bool,
    /// Explore no deeper than this many steps.
    #[arg(long, default_value_t = 64)]
    max_depth: u32,
    /// Stop after this many unique states.
    #[arg(long, default_value_t = 1_000_000)]
    max_states: u64,
    /// When timers may fire: never, quiet (no message in flight) or any.
    #[arg(long, default_value = "quiet")]
    timers: String,
    /// Messages that may be lost on one path.
    #[arg(long, default_value_t = 0)]
    losses: u8,
    /// Nodes that may crash on one path.
    #[arg(long, default_value_t = 0)]
    crashes: u8,
    /// False suspicions that may happen on one path.
    #[arg(long, default_value_t = 0)]
    false_suspicions: u8,
}

#[derive(Debug, clap::Args)]
struct SnapshotArgs {
    /// Scenario file, or a shipped scenario's name.
    file: String,
    /// The instant, in simulated seconds (at most the scenario's duration).
    #[arg(long)]
    at: f64,
    /// The picture's path; `.svg` and `.png` are written.
    #[arg(long, default_value = "ring.svg")]
    out: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override any key, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct FiguresArgs {
    /// Only this figure: a shipped name or a definition file (repeatable).
    #[arg(long = "only", value_name = "NAME|FILE")]
    only: Vec<String>,
    /// Small sizes and few seeds: minutes, not an hour.
    #[arg(long)]
    quick: bool,
    /// Output directory [default: figures, or figures-quick with --quick].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs at once [default: the number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// List the shipped figures and exit.
    #[arg(long)]
    list: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The baseline sweep's output directory.
    base: PathBuf,
    /// The new sweep's output directory (same points).
    new: PathBuf,
    /// A metric to compare, lower is better; `name:higher` when higher is
    /// better (repeatable) [default: failed, wrong and inconsistent lookups,
    /// inconsistent and unavailable keys, messages].
    #[arg(long = "metric", value_name = "NAME[:higher]")]
    metrics: Vec<String>,
    /// Significance level.
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
}

const DEFAULT_METRICS: &[&str] = &[
    "lookups_failed",
    "lookups_wrong",
    "lookups_inconsistent",
    "inconsistent_key_fraction",
    "unavailable_key_fraction",
    "messages",
];

#[derive(Debug, clap::Args)]
struct SweepArgs {
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
struct MergeArgs {
    /// Sweep output directories (shards).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where results.csv goes.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
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

#[derive(Debug, clap::Args)]
struct RunArgs {
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

/// A failure with its exit status: 1 when a check found a violation or a
/// regression, 2 for every usage or input error (a bad file, key, value or
/// path; an output that cannot be written).
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    /// Bad input or a path that cannot be used: exit status 2.
    pub fn input(message: impl Into<String>) -> Self {
        Failure { status: 2, message: message.into() }
    }
    /// An error while doing what was asked (reading or writing a file):
    /// exit status 2, as the cause is a path or an input.
    pub fn other(error: anyhow::Error) -> Self {
        Failure { status: 2, message: format!("{error:#}") }
    }
    /// A check that found a violation or a regression: exit status 1.
    pub fn check(message: impl Into<String>) -> Self {
        Failure { status: 1, message: message.into() }
    }
}

/// Parses the arguments and runs; prints errors as one `error:` line.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let status = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(status);
        }
    };
    let result = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Bench(args) => bench_command(args),
        Command::Sweep(args) => sweep_command(args),
        Command::Compare(args) => compare_sweeps(args),
        Command::Figures(args) => figures_command(args),
        Command::Snapshot(args) => snapshot_command(args),
        Command::Explore(args) => explore_command(args),
        Command::Check(args) => check_command(args),
        Command::Merge(args) => sweep::write_results(&args.dirs, &args.out)
            .map(|rows| println!("merged {rows} runs into {}", args.out.join("results.csv").display()))
            .map_err(Failure::input),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// Reads a scenario from a path, or from the shipped library by name.
pub fn load_scenario(file: &str, overrides: &[String]) -> Result<Scenario, Failure> {
    let path = Path::new(file);
    if !path.exists()
        && let Some(text) = library::builtin(file)
    {
        return config::parse(&format!("{file} (built in)"), text, overrides)
            .map_err(|e| Failure::input(e.to_string()));
    }
    config::load(path, overrides).map_err(|e| Failure::input(e.to_string()))
}

fn run_command(args: RunArgs) -> Result<(), Failure> {
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
        crate::output::check_target(&out.join("trace.jsonl")).map_err(Failure::other)?;
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
    let mut written = vec!["trace.jsonl"].into_iter().filter(|_| has_trace).collect::<Vec<_>>();
    if args.plot {
        written.extend(["timeseries.png", "timeseries.svg"]);
    }
    if result.snapshot.is_some() {
        written.extend(["ring.png", "ring.svg"]);
    }
    remove_stale_outputs(&out, &written).map_err(Failure::other)?;
    if args.plot {
        crate::plots::plot_timeseries(&out, &scenario.name, &result.timeseries).map_err(Failure::other)?;
    }
    if has_trace {
        crate::output::check_target(&out.join("trace.jsonl")).map_err(Failure::other)?;
        std::fs::rename(&trace_temporary, out.join("trace.jsonl")).map_err(|e| Failure::other(e.into()))?;
    }
    if !args.quiet {
        print_summary(&scenario, &result, &out);
    }
    Ok(())
}

/// Every file a run writes into its folder.
const RUN_OUTPUTS: &[&str] = &[
    "summary.csv",
    "timeseries.csv",
    "hops.csv",
    "perf.csv",
    "digest.txt",
    "provenance.txt",
    "trace.jsonl",
    "timeseries.png",
    "timeseries.svg",
    "ring.png",
    "ring.svg",
];

/// The outputs a run writes only when asked ([`RUN_OUTPUTS`] past the
/// first six).
const OPTIONAL_OUTPUTS: &[&str] = &["trace.jsonl", "timeseries.png", "timeseries.svg", "ring.png", "ring.svg"];

/// Removes an optional output that an earlier run left in the folder and
/// this one did not write, so that no file in it is of another run.
fn remove_stale_outputs(out: &Path, written: &[&str]) -> Result<()> {
    for name in OPTIONAL_OUTPUTS.iter().filter(|n| !written.contains(n)) {
        let path = out.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// Refuses, before a run starts, an output folder that is not a directory
/// or that holds, under a name the run writes, something that is not a
/// regular file (a symlink, a directory, a device).
fn check_output_folder(out: &Path) -> Result<(), Failure> {
    if let Ok(meta) = std::fs::metadata(out)
        && !meta.is_dir()
    {
        return Err(Failure::input(format!("{}: the output path exists and is not a directory", out.display())));
    }
    for name in RUN_OUTPUTS {
        crate::output::check_target(&out.join(name)).map_err(Failure::other)?;
    }
    Ok(())
}

/// `run --compare`: one run per protocol, then a side-by-side table.
fn compare_command(file: &str, args: &RunArgs) -> Result<(), Failure> {
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

/// `compare`: per point and metric, both means with 95 % intervals, the
/// difference and Welch's p; worse means significant and in the bad
/// direction. Both folders must be sweeps of one scenario over the same
/// points, with at least two seeds per point on each side; the fixed
/// overrides and the build may differ (that is what is compared) and are
/// printed.
fn compare_sweeps(args: CompareArgs) -> Result<(), Failure> {
    use reports::stats::{Summary, welch};
    if !(0.0 < args.alpha && args.alpha < 1.0) {
        return Err(Failure::input(format!("--alpha {}: must be in (0, 1)", args.alpha)));
    }
    let (base_definition, new_definition) = (
        sweep::Definition::require(&args.base).map_err(Failure::input)?,
        sweep::Definition::require(&args.new).map_err(Failure::input)?,
    );
    comparable(&args, &base_definition, &new_definition)?;
    let read = |dir: &Path, definition: &sweep::Definition| -> Result<Table, Failure> {
        let path = dir.join("results.csv");
        if !path.is_file() {
            return Err(Failure::input(format!("{}: no results.csv (is it a sweep output?)", dir.display())));
        }
        let table = crate::output::read_csv(&path).map_err(|e| Failure::input(format!("{e:#}")))?;
        check_results(&path, &table, definition)?;
        Ok(table)
    };
    let (base, new) = (read(&args.base, &base_definition)?, read(&args.new, &new_definition)?);
    let wanted: Vec<String> = if args.metrics.is_empty() {
        DEFAULT_METRICS.iter().map(|m| m.to_string()).collect()
    } else {
        args.metrics.clone()
    };
    let mut metrics = Vec::new();
    for spec in &wanted {
        let (metric, higher_is_better) = match spec.split_once(':') {
            Some((m, "higher")) => (m, true),
            Some((m, "lower")) => (m, false),
            Some(_) => {
                return Err(Failure::input(format!("--metric {spec}: expected NAME, NAME:higher or NAME:lower")));
            }
            None => (spec.as_str(), false),
        };
        for table in [&base, &new] {
            if !table.header.iter().any(|h| h == metric) {
                return Err(Failure::input(format!("--metric {metric}: no such column in results.csv")));
            }
        }
        metrics.push((metric, higher_is_better, by_point(&base, metric)?, by_point(&new, metric)?));
    }
    for (metric, _, a, b) in &metrics {
        for point in 0..base_definition.points.len() {
            let (na, nb) = (a.get(&point).map_or(0, Vec::len), b.get(&point).map_or(0, Vec::len));
            if na < 2 || nb < 2 {
                return Err(Failure::input(format!(
                    "{metric} at point {point}: {na} seed(s) in {} and {nb} in {}; a comparison needs at least 2 \
                     seeds per point on each side (sweep with --seeds 1..n)",
                    args.base.display(),
                    args.new.display()
                )));
            }
        }
    }
    let mut worse = 0;
    println!(
        "{:>5} {:28} {:>24} {:>24} {:>12} {:>9}  verdict",
        "point", "metric", "base (95% CI)", "new (95% CI)", "difference", "p"
    );
    for (metric, higher_is_better, a, b) in &metrics {
        for (point, values) in a {
            let Some(other) = b.get(point) else { continue };
            let (sa, sb) = (Summary::of(values), Summary::of(other));
            let (_, _, p) = welch(&sa, &sb);
            let got_worse = if *higher_is_better { sb.mean < sa.mean } else { sb.mean > sa.mean };
            let verdict = match (p < args.alpha, got_worse) {
                (true, true) => {
                    worse += 1;
                    "WORSE"
                }
                (true, false) => "better",
                _ => "same",
            };
            println!(
                "{point:>5} {metric:28} {:>24} {:>24} {:>12} {:>9}  {verdict}",
                format!("{} ± {}", plain_number(sa.mean), plain_number(sa.ci95())),
                format!("{} ± {}", plain_number(sb.mean), plain_number(sb.ci95())),
                plain_number(sb.mean - sa.mean),
                plain_number(p)
            );
        }
    }
    if worse > 0 {
        return Err(Failure::check(format!("{worse} metric(s) got significantly worse at alpha {}", args.alpha)));
    }
    Ok(())
}

/// Refuses two sweeps that are not of one scenario over the same points;
/// prints what else differs.
fn comparable(args: &CompareArgs, base: &sweep::Definition, new: &sweep::Definition) -> Result<(), Failure> {
    let refuse = |what: String| {
        Failure::input(format!(
            "{} and {} are not sweeps of the same points ({what}); refusing to compare them",
            args.base.display(),
            args.new.display()
        ))
    };
    if base.scenario != new.scenario {
        return Err(refuse(format!("scenario `{}` against `{}`", base.scenario, new.scenario)));
    }
    if base.vary != new.vary {
        let differences = base.differences(new);
        return Err(refuse(differences.into_iter().find(|d| d.starts_with("--vary")).unwrap_or_default()));
    }
    let differences = base.differences(new);
    if differences.is_empty() {
        println!("base and new: one definition and one build (only the seeds differ)");
    } else {
        println!("base against new: {}", differences.join("; "));
    }
    Ok(())
}

/// Checks every row of a sweep's results.csv against its definition.
fn check_results(path: &Path, table: &Table, definition: &sweep::Definition) -> Result<(), Failure> {
    let column = |name: &str| {
        table.header.iter().position(|h| h == name).ok_or_else(|| {
            Failure::input(format!("{}: no `{name}` column (written by an older build? sweep again)", path.display()))
        })
    };
    let (point, seed, provenance) = (column("point")?, column("seed")?, column("provenance")?);
    for (k, row) in table.rows.iter().enumerate() {
        let parsed = row[point].parse::<usize>().ok().zip(row[seed].parse::<u64>().ok());
        let expected = parsed.and_then(|(p, s)| definition.expected(p, s));
        if expected.as_deref() != Some(row[provenance].as_str()) {
            return Err(Failure::input(format!(
                "{}: row {} (point {}, seed {}) is not a run of the folder's {}; refusing to use it",
                path.display(),
                k + 2,
                row[point],
                row[seed],
                sweep::DEFINITION_FILE
            )));
        }
    }
    Ok(())
}

/// The values of `metric` per point of a results table.
fn by_point(table: &Table, metric: &str) -> Result<std::collections::BTreeMap<usize, Vec<f64>>, Failure> {
    let position = |name: &str| table.header.iter().position(|h| h == name).unwrap_or(0);
    let (p, m) = (position("point"), position(metric));
    let mut groups: std::collections::BTreeMap<usize, Vec<f64>> = std::collections::BTreeMap::new();
    for row in &table.rows {
        let point =
            row[p].parse::<usize>().map_err(|_| Failure::input(format!("results.csv: bad point `{}`", row[p])))?;
        let value = row[m]
            .parse::<f64>()
            .map_err(|_| Failure::input(format!("results.csv: {metric} = `{}` is not a number", row[m])))?;
        groups.entry(point).or_default().push(value);
    }
    Ok(groups)
}

/// A number in plain decimal notation with five significant digits (no
/// exponent), as a person reads a table.
pub fn plain_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (4 - magnitude).clamp(0, 12) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".into() } else { text }
}

/// `snapshot`: runs the scenario up to `--at` and draws the ring there.
fn snapshot_command(args: SnapshotArgs) -> Result<(), Failure> {
    let mut overrides = args.overrides.clone();
    overrides.push(format!("output.snapshot_at_s={}", args.at));
    let mut scenario = load_scenario(&args.file, &overrides)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let stem = args.out.with_extension("");
    for path in [args.out.clone(), stem.with_extension("svg"), stem.with_extension("png")] {
        crate::output::check_target(&path).map_err(Failure::other)?;
    }
    let picture = crate::snapshot::run_to_snapshot(&scenario)?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))
            .map_err(Failure::other)?;
    }
    picture.save(&stem).map_err(Failure::other)?;
    println!("{}; wrote {}.svg and {}.png", picture.subtitle, stem.display(), stem.display());
    Ok(())
}

/// `figures`: runs, draws and reports; the verdicts are printed, and a FAIL
/// does not change the exit status (the report is the product).
fn figures_command(args: FiguresArgs) -> Result<(), Failure> {
    if args.list {
        for (name, text) in crate::figures::BUILTIN {
            let title = text.lines().find_map(|l| l.strip_prefix("title = ")).unwrap_or_default();
            println!("{name:24} {}", title.trim_matches('"'));
        }
        return Ok(());
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from(if args.quick { "figures-quick" } else { "figures" }));
    let options = crate::figures::Options {
        only: args.only,
        quick: args.quick,
        out: out.clone(),
        jobs: default_jobs(args.jobs),
        quiet: args.quiet,
    };
    let outcome = crate::figures::figures(&options)?;
    if !args.quiet {
        for (name, verdict) in &outcome.figures {
            let verdict = match verdict {
                Some(reports::plot::Verdict::Pass) => "PASS",
                Some(reports::plot::Verdict::Fail) => "FAIL",
                None => "no band",
            };
            println!("{name:24} {verdict}");
        }
        println!(
            "{} runs done before, {} run now; wrote {}",
            outcome.runs_done_before,
            outcome.runs_now,
            out.join("report.html").display()
        );
    }
    Ok(())
}

fn default_jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

/// `sweep`: validates every point first, then runs what is not done yet.
fn sweep_command(args: SweepArgs) -> Result<(), Failure> {
    let vary: Vec<sweep::Vary> =
        args.vary.iter().map(|v| sweep::Vary::parse(v)).collect::<Result<_, _>>().map_err(Failure::input)?;
    sweep::check_distinct(&vary).map_err(Failure::input)?;
    let seeds = sweep::parse_seeds(&args.seeds).map_err(Failure::input)?;
    let shard = args.shard.as_deref().map(sweep::parse_shard).transpose().map_err(Failure::input)?;
    let points = sweep::points(&vary);
    let mut scenarios = Vec::with_capacity(points.len());
    for point in &points {
        let mut overrides = args.overrides.clone();
        overrides.extend(point.iter().map(|(k, v)| format!("{k}={v}")));
        scenarios.push(load_scenario(&args.file, &overrides)?);
    }
    let definition = sweep::Definition::new(&args.file, &args.overrides, &vary, &points, &scenarios);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(&scenarios[0].name).join(format!("sweep-{}", definition.short_hash()))
    });
    sweep::prepare_folder(&out, &definition).map_err(Failure::input)?;
    let jobs = sweep::jobs(points.len(), &seeds, shard);
    let pending = sweep::pending(&jobs, &out, &definition).map_err(Failure::input)?;
    let threads = default_jobs(args.jobs);
    let failures = crate::progress::run_all(
        &pending,
        threads,
        args.quiet,
        |job| format!("point {} seed {}", job.point, job.seed),
        |job| {
            let mut scenario = scenarios[job.point].clone();
            scenario.seed = job.seed;
            sweep::run_job(&scenario, &points[job.point], job, &out)
        },
    )
    .map_err(Failure::other)?;
    let rows = sweep::write_results(std::slice::from_ref(&out), &out).map_err(Failure::input)?;
    if !args.quiet {
        println!(
            "{} points x {} seeds: {} runs done before, {} run now; {rows} rows in {}",
            points.len(),
            seeds.len(),
            jobs.len() - pending.len(),
            pending.len(),
            out.join("results.csv").display()
        );
    }
    if let Some(first) = failures.first() {
        return Err(Failure::other(anyhow::anyhow!("{} runs failed; first: {first}", failures.len())));
    }
    match args.require_merge_within {
        Some(bound_s) => require_merge(&args, &points, &out, bound_s),
        None => Ok(()),
    }
}

/// `sweep --require-merge-within`: every row of results.csv merged within
/// the bound and ended on one perfect ring with no inconsistent key.
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

/// Runs the bench scenario at each size in a child process (so that each
/// memory reading starts clean) and prints one table.
fn bench_command(args: BenchArgs) -> Result<(), Failure> {
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

/// Runs a parsed scenario with the protocol it names, inside the merge
/// layer when the scenario has `[merge]`; its result tables carry the
/// provenance key of the run.
pub fn run_scenario(
    scenario: &Scenario,
    trace: Option<TraceWriter>,
    progress: &mut dyn Progress,
) -> Result<RunResult, Failure> {
    let mut result = run_protocol(scenario, trace, progress)?;
    crate::provenance::stamp(&mut result, scenario);
    Ok(result)
}

fn run_protocol(
    scenario: &Scenario,
    trace: Option<TraceWriter>,
    progress: &mut dyn Progress,
) -> Result<RunResult, Failure> {
    match (&scenario.protocol, &scenario.protocol_params) {
        (ProtocolName::Chord, ProtocolParams::Chord(params)) => {
            let config = ChordConfig {
                successor_list: params.successor_list,
                fingers: params.fingers,
                stabilize_every: SimTime::from_secs_f64(params.stabilize_every_s),
                fix_fingers_every: SimTime::from_secs_f64(params.fix_fingers_every_s),
                check_predecessor_every: SimTime::from_secs_f64(params.check_predecessor_every_s),
                lookup_timeout: SimTime::from_millis_f64(params.lookup_timeout_ms),
                max_lookup_hops: params.max_lookup_hops,
                randomized_timers: params.randomized_timers,
                maintenance_enabled: true,
                alone_adopts_notifier: params.alone_adopts_notifier,
            };
            Ok(run_mergeable::<Chord>(scenario, config, trace, progress))
        }
        (ProtocolName::RelaxedRing, ProtocolParams::RelaxedRing(params)) => {
            let config = RelaxedRingConfig {
                successor_list: params.successor_list,
                fingers: params.fingers,
                fix_fingers_every: SimTime::from_secs_f64(params.fix_fingers_every_s),
                lookup_timeout: SimTime::from_millis_f64(params.lookup_timeout_ms),
                lookup_retries: params.lookup_retries,
                join_retry: SimTime::from_millis_f64(params.join_retry_ms),
                hint_after: SimTime::from_millis_f64(params.hint_after_ms),
                max_route_hops: params.max_route_hops,
                randomized_timers: params.randomized_timers,
                canary_keep_range_on_join: params.canary_keep_range_on_join,
            };
            Ok(run_mergeable::<RelaxedRing>(scenario, config, trace, progress))
        }
        (ProtocolName::Dks, ProtocolParams::Dks(params)) => {
            let config =
                DksConfig { lock_lease: SimTime::from_millis_f64(params.lock_lease_ms), ..DksConfig::default() };
            Ok(run_mergeable::<Dks>(scenario, config, trace, progress))
        }
        (ProtocolName::Palta, ProtocolParams::Palta(params)) => {
            let config = PaltaConfig {
                omega: params.omega,
                ring: RelaxedRingConfig::default(),
                mesh_sync_every: SimTime::from_secs_f64(params.mesh_sync_every_s),
            };
            Ok(run_mergeable::<Palta>(scenario, config, trace, progress))
        }
        (protocol, _) => Err(Failure::input(format!(
            "{}: protocol `{}` is not implemented yet (available: chord, relaxed_ring, dks, palta)",
            scenario.name,
            protocol.name()
        ))),
    }
}

/// Runs a ring that can merge: inside the merge layer when the scenario has
/// `[merge]`, with its parameters around the ring's own; alone otherwise.
fn run_mergeable<P: Mergeable>(
    scenario: &Scenario,
    ring: P::Config,
    trace: Option<TraceWriter>,
    progress: &mut dyn Progress,
) -> RunResult {
    let Some(spec) = &scenario.merge else { return runner::run::<P>(scenario, ring, trace, progress) };
    let config = MergeConfig {
        ring,
        fanout: spec.fanout,
        gossip_budget: spec.gossip_budget,
        ping_every: SimTime::from_secs_f64(spec.ping_every_s),
        passive_capacity: spec.passive_capacity,
        passive_keep: SimTime::from_secs_f64(spec.passive_keep_s),
        loop_check: spec.loop_check,
        max_mlookup_hops: 1024,
    };
    runner::run::<Merging<P>>(scenario, config, trace, progress)
}

/// Writes summary.csv, timeseries.csv, hops.csv, perf.csv, digest.txt and
/// provenance.txt (what produced them: the build, the seed and the
/// resolved scenario).
pub fn write_outputs(out: &Path, scenario: &Scenario, result: &RunResult) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_atomic(&out.join("provenance.txt"), crate::provenance::describe(scenario).as_bytes())?;
    write_csv(&out.join("summary.csv"), &result.summary)?;
    write_csv(&out.join("timeseries.csv"), &result.timeseries)?;
    write_csv(&out.join("hops.csv"), &result.hops)?;
    write_csv(&out.join("perf.csv"), &result.perf.table())?;
    write_atomic(&out.join("digest.txt"), format!("{}\n", result.digest).as_bytes())?;
    if let Some(picture) = &result.snapshot {
        picture.save(&out.join("ring"))?;
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

fn explore_command(args: ExploreArgs) -> Result<(), Failure> {
    use crate::explore as ex;
    use sim_core::explore::{ExploreOptions, FaultBudget, TimerPolicy};
    if args.list {
        for (name, _, about) in ex::SETUPS {
            println!("{name:22} {about}");
        }
        let names: Vec<&str> = ex::PROTOCOLS.iter().map(|p| p.name()).collect();
        println!("protocols: {}", names.join(", "));
        return Ok(());
    }
    let protocol_name = args.protocol.unwrap_or_default();
    let protocol = ex::PROTOCOLS.iter().copied().find(|p| p.name() == protocol_name).ok_or_else(|| {
        let names: Vec<&str> = ex::PROTOCOLS.iter().map(|p| p.name()).collect();
        Failure::input(format!("--protocol: unknown protocol `{protocol_name}` (expected one of {})", names.join(", ")))
    })?;
    let config_name = args.config.unwrap_or_default();
    let setup = ex::setup_named(&config_name).ok_or_else(|| {
        let names: Vec<&str> = ex::SETUPS.iter().map(|s| s.0).collect();
        Failure::input(format!(
            "--config: unknown configuration `{config_name}` (expected one of {})",
            names.join(", ")
        ))
    })?;
    let timers = match args.timers.as_str() {
        "never" => TimerPolicy::Never,
        "quiet" => TimerPolicy::WhenQuiet,
        "any" => TimerPolicy::Anytime,
        other => return Err(Failure::input(format!("--timers: `{other}` is not one of never, quiet, any"))),
    };
    if args.max_depth == 0 || args.max_states == 0 {
        return Err(Failure::input("--max-depth and --max-states must be at least 1"));
    }
    let options = ExploreOptions {
        max_depth: args.max_depth,
        max_states: args.max_states,
        timers,
        faults: FaultBudget { losses: args.losses, crashes: args.crashes, false_suspicions: args.false_suspicions },
    };
    let clock = crate::progress::Stopwatch::start();
    let explored = ex::explore_setup(protocol, setup, &options)
        .ok_or_else(|| Failure::input(format!("--protocol: {protocol} has no explorable configuration")))?;
    let seconds = clock.seconds().max(1e-9);
    println!(
        "{protocol} {config_name}: {} states, {} transitions, depth {}{}, {} quiet; {:.2} s, {:.0} states/s",
        explored.states,
        explored.transitions,
        explored.depth,
        if explored.exhaustive { " (exhaustive)" } else { " (limit reached)" },
        explored.quiet,
        seconds,
        explored.states as f64 / seconds
    );
    match explored.violation {
        None => {
            let scope = if explored.exhaustive { "every reachable state" } else { "every state explored" };
            println!("lookup consistency holds in {scope}");
            Ok(())
        }
        Some(counterexample) => {
            println!("counterexample ({} steps):", counterexample.steps.len());
            print!("{}", counterexample.render());
            Err(Failure::check("lookup consistency violated"))
        }
    }
}

/// The replay command for one seed of a check.
fn check_replay(args: &CheckArgs, seed: u64) -> String {
    let mut replay = format!("overlaysim check {} --seeds {seed}", args.file);
    if args.swarm {
        replay.push_str(" --swarm");
    }
    if !args.swarm_without.is_empty() {
        replay.push_str(&format!(" --swarm-without {}", args.swarm_without.join(",")));
    }
    if args.converge_within != 30.0 {
        replay.push_str(&format!(" --converge-within {}", args.converge_within));
    }
    for set in &args.overrides {
        replay.push_str(&format!(" --set '{set}'"));
    }
    replay
}

fn check_command(args: CheckArgs) -> Result<(), Failure> {
    use crate::check::{CheckOutcome, CheckSettings, Knobs};
    use rayon::prelude::*;
    let base = load_scenario(&args.file, &args.overrides)?;
    let seeds = sweep::parse_seeds(&args.seeds).map_err(Failure::input)?;
    if !(args.converge_within.is_finite() && args.converge_within > 0.0) {
        return Err(Failure::input(format!("--converge-within: must be > 0, got {}", args.converge_within)));
    }
    let stop_s = base
        .events
        .iter()
        .filter(|e| matches!(e.action, config::EventAction::StopFaults))
        .map(|e| e.at_s)
        .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
    if args.swarm && stop_s.is_none() {
        return Err(Failure::input(format!(
            "{}: --swarm needs a `stop_faults` event (faults are drawn until then)",
            args.file
        )));
    }
    if let Some(stop) = stop_s
        && stop + args.converge_within > base.duration_s
    {
        return Err(Failure::input(format!(
            "{}: duration_s ({}) must leave --converge-within ({} s) after the last stop_faults ({} s)",
            args.file, base.duration_s, args.converge_within, stop
        )));
    }
    for kind in &args.swarm_without {
        if !crate::check::FAULT_KINDS.contains(&kind.as_str()) {
            return Err(Failure::input(format!(
                "--swarm-without: unknown fault kind `{kind}` (expected {})",
                crate::check::FAULT_KINDS.join(", ")
            )));
        }
    }
    if let Some(path) = &args.shrink_out {
        crate::output::check_target(path).map_err(Failure::other)?;
    }
    let settings = CheckSettings { converge_within_s: args.converge_within, record: false };
    let jobs = default_jobs(args.jobs);
    let bar = crate::progress::RunsBar::new(seeds.len(), args.quiet || args.verbose);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(|e| Failure::other(e.into()))?;
    type Checked = (u64, Option<Knobs>, CheckOutcome);
    let results: Vec<Result<Checked, Failure>> = pool.install(|| {
        seeds
            .par_iter()
            .map(|&seed| {
                let watch = crate::progress::Stopwatch::start();
                let mut scenario = base.clone();
                scenario.seed = seed;
                let knobs =
                    stop_s.filter(|_| args.swarm).map(|stop| Knobs::draw(seed, stop).without(&args.swarm_without));
                if let (Some(knobs), Some(stop)) = (&knobs, stop_s) {
                    knobs.apply(&mut scenario, stop);
                }
                scenario.check = Some(settings);
                let result = run_scenario(&scenario, None, &mut runner::Quiet)?;
                bar.finished(&format!("seed {seed}"), watch.seconds());
                let outcome = result.check.unwrap_or_default();
                Ok((seed, knobs, outcome))
            })
            .collect()
    });
    bar.finish();
    let mut failed = 0usize;
    let mut violations = 0usize;
    let mut unconverged = 0usize;
    let mut converged_after: Vec<f64> = Vec::new();
    let mut events = 0u64;
    let mut first_failure = None;
    for result in results {
        let (seed, knobs, outcome) = result?;
        if !outcome.passed() && first_failure.is_none() {
            first_failure = Some(seed);
        }
        events += outcome.events;
        converged_after.extend(outcome.converged_after_s);
        let passed = outcome.passed();
        if passed && !args.verbose {
            continue;
        }
        let mix = knobs.as_ref().map(|k| format!("  [{}]", k.describe())).unwrap_or_default();
        println!("seed {seed}: {}{mix}", if passed { "ok" } else { "FAILED" });
        if let Some(violation) = &outcome.violation {
            violations += 1;
            println!("  safety: {} at {:.6} s: {}", violation.property, violation.at.as_secs_f64(), violation.detail);
        }
        if !outcome.converged() {
            unconverged += 1;
            let stop = outcome.faults_stop_s.unwrap_or_default();
            match outcome.converged_after_s {
                Some(after) => println!(
                    "  liveness: one perfect ring only {after:.1} s after faults stopped at {stop} s (bound {} s)",
                    outcome.converge_within_s
                ),
                None => println!(
                    "  liveness: no perfect ring with consistent keys after faults stopped at {stop} s (bound {} s)",
                    outcome.converge_within_s
                ),
            }
            for line in &outcome.pending {
                println!("    {line}");
            }
        } else if let Some(after) = outcome.converged_after_s
            && args.verbose
        {
            println!("  converged {after:.1} s after faults stopped");
        }
        if !passed {
            failed += 1;
            println!("  replay: {}", check_replay(&args, seed));
        }
    }
    converged_after.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        converged_after
            .get(((converged_after.len() as f64 - 1.0) * q).round() as usize)
            .map_or("-".to_string(), |v| format!("{v:.1} s"))
    };
    if !args.quiet || failed > 0 {
        println!(
            "checked {} seeds of {} ({}{}): {violations} with a safety violation, {unconverged} not converged; \
             {events} events checked; converged after faults stopped: median {}, p99 {}, max {}",
            seeds.len(),
            base.name,
            base.protocol,
            if args.swarm { ", swarm" } else { "" },
            quantile(0.5),
            quantile(0.99),
            quantile(1.0),
        );
    }
    if failed > 0 {
        if args.shrink
            && let Some(seed) = first_failure
        {
            shrink_seed(&args, &base, seed, stop_s, settings)?;
        }
        return Err(Failure::check(format!("{failed} of {} seeds failed the check", seeds.len())));
    }
    Ok(())
}

/// `check --shrink`: shrinks one failing seed and writes the scenario.
fn shrink_seed(
    args: &CheckArgs,
    base: &Scenario,
    seed: u64,
    stop_s: Option<f64>,
    settings: crate::check::CheckSettings,
) -> Result<(), Failure> {
    let base_text = if Path::new(&args.file).exists() {
        std::fs::read_to_string(&args.file).map_err(|e| Failure::input(format!("{}: cannot read: {e}", args.file)))?
    } else {
        library::builtin(&args.file).unwrap_or_default().to_string()
    };
    let mut scenario = base.clone();
    scenario.seed = seed;
    if let (true, Some(stop)) = (args.swarm, stop_s) {
        crate::check::Knobs::draw(seed, stop).without(&args.swarm_without).apply(&mut scenario, stop);
    }
    let shrunk = crate::shrink::shrink(&base_text, &args.overrides, &scenario, settings)?;
    let out =
        args.shrink_out.clone().unwrap_or_else(|| PathBuf::from(format!("{}-seed-{seed}-shrunk.toml", base.name)));
    write_atomic(&out, shrunk.text.as_bytes()).map_err(Failure::other)?;
    println!(
        "shrunk seed {seed} ({}): {} → {} events, {} → {} initial nodes, {} s run, {} runs; wrote {}",
        shrunk.signature.describe(),
        shrunk.events_before,
        shrunk.events_after,
        shrunk.nodes_before,
        shrunk.nodes_after,
        shrunk.duration_s,
        shrunk.runs,
        out.display()
    );
    if let Some(violation) = &shrunk.replayed.violation {
        println!("  replayed: {} at {:.6} s: {}", violation.property, violation.at.as_secs_f64(), violation.detail);
    }
    let mut replay = format!("overlaysim check {} --seeds {seed}", out.display());
    if args.converge_within != 30.0 {
        replay.push_str(&format!(" --converge-within {}", args.converge_within));
    }
    println!("  replay: {replay}");
    Ok(())
}
