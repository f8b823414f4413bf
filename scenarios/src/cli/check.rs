//! `overlaysim check`: many seeds, safety after every event, liveness at the end.

use crate::api::{Failure, default_jobs, load_scenario};
use crate::config::Scenario;
use crate::library;
use crate::output::write_atomic;
use crate::sweep;
use crate::verify::{self, CheckRequest, SeedCheck};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct CheckArgs {
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
    /// partitions (e.g. partitions for a protocol that cannot merge rings);
    /// chord_modes keeps the scenario's own failure detection and probe.
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

pub(super) fn check_command(args: CheckArgs) -> Result<(), Failure> {
    let base = load_scenario(&args.file, &args.overrides)?;
    let request = CheckRequest {
        seeds: sweep::parse_seeds(&args.seeds).map_err(Failure::input)?,
        swarm: args.swarm,
        swarm_without: args.swarm_without.clone(),
        converge_within_s: args.converge_within,
        jobs: default_jobs(args.jobs),
        quiet: args.quiet || args.verbose,
    };
    verify::validate(&args.file, &base, &request)?;
    if let Some(path) = &args.shrink_out {
        crate::output::check_target(path).map_err(Failure::other)?;
    }
    let checks = verify::check_seeds(&args.file, &base, &request)?;
    let (mut failed, mut violations, mut unconverged, mut events) = (0usize, 0usize, 0usize, 0u64);
    for SeedCheck { seed, knobs, outcome } in &checks {
        events += outcome.events;
        let passed = outcome.passed();
        if passed && !args.verbose {
            continue;
        }
        let mix = knobs.as_ref().map(|k| format!("  [{}]", k.describe())).unwrap_or_default();
        println!("seed {seed}: {}{mix}", if passed { "ok" } else { "FAILED" });
        if let Some(violation) = &outcome.violation {
            violations += 1;
            println!("  safety: {violation}");
        }
        if !outcome.converged() {
            unconverged += 1;
            print_liveness(outcome);
        } else if let Some(after) = outcome.converged_after_s
            && args.verbose
        {
            println!("  converged {after:.1} s after faults stopped");
        }
        if !passed {
            failed += 1;
            println!("  replay: {}", check_replay(&args, *seed));
        }
    }
    if !args.quiet || failed > 0 {
        println!(
            "checked {} seeds of {} ({}{}): {violations} with a safety violation, {unconverged} not converged; \
             {events} events checked; converged after faults stopped: median {}, p99 {}, max {}",
            checks.len(),
            base.name,
            base.protocol,
            if args.swarm { ", swarm" } else { "" },
            verify::settle_quantile(&checks, 0.5),
            verify::settle_quantile(&checks, 0.99),
            verify::settle_quantile(&checks, 1.0),
        );
    }
    if failed > 0 {
        if args.shrink
            && let Some(first) = checks.iter().find(|c| !c.outcome.passed())
        {
            shrink_seed(&args, &base, first.seed, &request)?;
        }
        return Err(Failure::check(format!("{failed} of {} seeds failed the check", checks.len())));
    }
    Ok(())
}

/// What a seed that did not settle in time shows: when, and what is pending.
fn print_liveness(outcome: &crate::check::CheckOutcome) {
    let stop = outcome.faults_stop_s.unwrap_or_default();
    match outcome.converged_after_s {
        Some(after) => println!(
            "  liveness: {} only {after:.1} s after faults stopped at {stop} s (bound {} s)",
            outcome.settled, outcome.converge_within_s
        ),
        None => println!(
            "  liveness: not {} within the bound after faults stopped at {stop} s (bound {} s)",
            outcome.settled, outcome.converge_within_s
        ),
    }
    for line in &outcome.pending {
        println!("    {line}");
    }
}

/// `check --shrink`: shrinks one failing seed and writes the scenario.
fn shrink_seed(args: &CheckArgs, base: &Scenario, seed: u64, request: &CheckRequest) -> Result<(), Failure> {
    let base_text = if Path::new(&args.file).exists() {
        std::fs::read_to_string(&args.file).map_err(|e| Failure::input(format!("{}: cannot read: {e}", args.file)))?
    } else {
        library::builtin(&args.file).unwrap_or_default().to_string()
    };
    let (scenario, _) = verify::seed_scenario(base, seed, request);
    let shrunk = crate::shrink::shrink(&base_text, &args.overrides, &scenario, verify::settings(request))?;
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
        println!("  replayed: {violation}");
    }
    let mut replay = format!("overlaysim check {} --seeds {seed}", out.display());
    if args.converge_within != 30.0 {
        replay.push_str(&format!(" --converge-within {}", args.converge_within));
    }
    println!("  replay: {replay}");
    Ok(())
}
