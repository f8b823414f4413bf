//! `overlaysim check` as a library: one scenario over many seeds, each run
//! under the online monitor ([`crate::check`]), in parallel across cores,
//! with a swarm fault mix per seed when asked. The command line only
//! parses its arguments and prints what [`check_seeds`] returns; a test or
//! another crate calls it the same way.

use crate::api::{Failure, run_checked};
use crate::check::{CheckOutcome, CheckSettings, FAULT_KINDS, Knobs};
use crate::config::{EventAction, Scenario};

/// What to check: the seeds, the swarm, the liveness bound.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRequest {
    pub seeds: Vec<u64>,
    /// Each seed draws its own fault mix in place of the scenario's.
    pub swarm: bool,
    /// Fault kinds the swarm never turns on ([`FAULT_KINDS`]).
    pub swarm_without: Vec<String>,
    /// Seconds after the last `stop_faults` by which the run must settle.
    pub converge_within_s: f64,
    /// Runs at once.
    pub jobs: usize,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// One checked seed: the fault mix it drew (with `--swarm`) and the outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedCheck {
    pub seed: u64,
    pub knobs: Option<Knobs>,
    pub outcome: CheckOutcome,
}

/// When the last `stop_faults` of the scenario comes, if any.
pub fn faults_stop_s(scenario: &Scenario) -> Option<f64> {
    let stops = scenario.events.iter().filter(|e| matches!(e.action, EventAction::StopFaults));
    stops.map(|e| e.at_s).fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))))
}

/// Refuses a request that cannot be checked (exit status 2), naming
/// `file`: a bound that is no bound, a swarm without `stop_faults`, a run
/// too short for its bound, an unknown fault kind.
pub fn validate(file: &str, base: &Scenario, request: &CheckRequest) -> Result<(), Failure> {
    let within = request.converge_within_s;
    if !(within.is_finite() && within > 0.0) {
        return Err(Failure::input(format!("--converge-within: must be > 0, got {within}")));
    }
    let stop_s = faults_stop_s(base);
    if request.swarm && stop_s.is_none() {
        return Err(Failure::input(format!(
            "{file}: --swarm needs a `stop_faults` event (faults are drawn until then)"
        )));
    }
    if let Some(stop) = stop_s
        && stop + within > base.duration_s
    {
        return Err(Failure::input(format!(
            "{file}: duration_s ({}) must leave --converge-within ({within} s) after the last stop_faults ({stop} s)",
            base.duration_s
        )));
    }
    if let Some(kind) = request.swarm_without.iter().find(|k| !FAULT_KINDS.contains(&k.as_str())) {
        return Err(Failure::input(format!(
            "--swarm-without: unknown fault kind `{kind}` (expected {})",
            FAULT_KINDS.join(", ")
        )));
    }
    Ok(())
}

/// The scenario one seed runs: the base with that seed and, with the
/// swarm, the fault mix the seed draws; and that mix.
pub fn seed_scenario(base: &Scenario, seed: u64, request: &CheckRequest) -> (Scenario, Option<Knobs>) {
    let mut scenario = base.clone();
    scenario.seed = seed;
    let stop_s = faults_stop_s(base);
    let knobs = stop_s
        .filter(|_| request.swarm)
        .map(|stop| Knobs::draw(seed, stop).for_protocol(base.protocol).without(&request.swarm_without));
    if let (Some(knobs), Some(stop)) = (&knobs, stop_s) {
        knobs.apply(&mut scenario, stop);
    }
    (scenario, knobs)
}

/// The monitor's settings for a request.
pub fn settings(request: &CheckRequest) -> CheckSettings {
    CheckSettings { converge_within_s: request.converge_within_s, record: false }
}

/// Checks every seed of the request (validated first), in parallel, and
/// returns the outcomes in seed order.
pub fn check_seeds(file: &str, base: &Scenario, request: &CheckRequest) -> Result<Vec<SeedCheck>, Failure> {
    use rayon::prelude::*;
    validate(file, base, request)?;
    let bar = crate::progress::RunsBar::new(request.seeds.len(), request.quiet);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(request.jobs.max(1))
        .build()
        .map_err(|e| Failure::other(e.into()))?;
    let results: Vec<Result<SeedCheck, Failure>> = pool.install(|| {
        request
            .seeds
            .par_iter()
            .map(|&seed| {
                let watch = crate::progress::Stopwatch::start();
                let (mut scenario, knobs) = seed_scenario(base, seed, request);
                scenario.check = Some(settings(request));
                let outcome = run_checked(&scenario)?.check.unwrap_or_default();
                bar.finished(&format!("seed {seed}"), watch.seconds());
                Ok(SeedCheck { seed, knobs, outcome })
            })
            .collect()
    });
    bar.finish();
    results.into_iter().collect()
}

/// The quantile `q` of the seconds it took to settle after faults stopped,
/// over the seeds that did (`-` when none did).
pub fn settle_quantile(checks: &[SeedCheck], q: f64) -> String {
    let mut after: Vec<f64> = checks.iter().filter_map(|c| c.outcome.converged_after_s).collect();
    after.sort_by(f64::total_cmp);
    after.get(((after.len() as f64 - 1.0) * q).round() as usize).map_or("-".to_string(), |v| format!("{v:.1} s"))
}
