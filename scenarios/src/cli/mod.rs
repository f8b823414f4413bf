//! The `overlaysim` command line: one module per subcommand, each a thin
//! adapter that parses its arguments and calls the library (`api`,
//! `sweep`, `figures`, `check`, `explore`, `snapshot`). Only `main.rs`
//! uses this module; tests and other crates call the library directly.

mod bench;
mod check;
mod compare;
mod explore;
mod figures;
mod run;
mod snapshot;
mod sweep;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use bench::BenchArgs;
use check::CheckArgs;
use compare::CompareArgs;
use explore::ExploreArgs;
use figures::FiguresArgs;
use run::RunArgs;
use snapshot::SnapshotArgs;
use sweep::{MergeArgs, SweepArgs};

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
        Command::Run(args) => run::run_command(args),
        Command::Bench(args) => bench::bench_command(args),
        Command::Sweep(args) => sweep::sweep_command(args),
        Command::Compare(args) => compare::compare_sweeps(args),
        Command::Figures(args) => figures::figures_command(args),
        Command::Snapshot(args) => snapshot::snapshot_command(args),
        Command::Explore(args) => explore::explore_command(args),
        Command::Check(args) => check::check_command(args),
        Command::Merge(args) => sweep::merge_command(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}
