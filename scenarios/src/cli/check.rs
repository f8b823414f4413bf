//! `overlaysim check`: many seeds, safety after every event, liveness at the end.

use crate::api::{Failure, default_jobs, load_scenario, run_checked};
use crate::config::{self, Scenario};
use crate::library;
use crate::output::write_atomic;
use crate::sweep;
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
                let result = run_checked(&scenario)?;
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
            println!("  safety: {violation}");
        }
        if !outcome.converged() {
            unconverged += 1;
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
        println!("  replayed: {violation}");
    }
    let mut replay = format!("overlaysim check {} --seeds {seed}", out.display());
    if args.converge_within != 30.0 {
        replay.push_str(&format!(" --converge-within {}", args.converge_within));
    }
    println!("  replay: {replay}");
    Ok(())
}
