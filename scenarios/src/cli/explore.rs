//! `overlaysim explore`: small configurations, exhaustively.

use crate::api::Failure;

#[derive(Debug, clap::Args)]
pub(super) struct ExploreArgs {
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

pub(super) fn explore_command(args: ExploreArgs) -> Result<(), Failure> {
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
