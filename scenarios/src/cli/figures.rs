//! `overlaysim figures`: the papers' graphs and the report.

use crate::api::{Failure, default_jobs};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(super) struct FiguresArgs {
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

/// `figures`: runs, draws and reports; the verdicts are printed, and a FAIL
/// does not change the exit status (the report is the product).
pub(super) fn figures_command(args: FiguresArgs) -> Result<(), Failure> {
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
