//! `overlaysim snapshot`: the ring of a scenario at one instant.

use crate::api::{Failure, load_scenario};
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(super) struct SnapshotArgs {
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

/// `snapshot`: runs the scenario up to `--at` and draws the ring there.
pub(super) fn snapshot_command(args: SnapshotArgs) -> Result<(), Failure> {
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
    let picture = crate::api::run_to_snapshot(&scenario)?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))
            .map_err(Failure::other)?;
    }
    picture.save(&stem).map_err(Failure::other)?;
    println!("{}; wrote {}.svg and {}.png", picture.subtitle, stem.display(), stem.display());
    Ok(())
}
