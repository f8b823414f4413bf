//! The library's front door: load a scenario (a file or a shipped name,
//! with `--set` overrides), run it with the protocol it names, write its
//! outputs; the one error type with its exit status. The command line,
//! the sweeps, the figures and the tests all go through these.

use crate::config::{self, ProtocolName, ProtocolParams, Scenario};
use crate::library;
use crate::output::{write_atomic, write_csv};
use crate::runner::{Progress, Quiet, RunResult};
use anyhow::{Context, Result};
use protocols::chord::{Chord, ChordConfig};
use protocols::dks::{Dks, DksConfig};
use protocols::merge::{MergeConfig, Mergeable, Merging};
use protocols::palta::{Palta, PaltaConfig};
use protocols::relaxed_ring::{RelaxedRing, RelaxedRingConfig};
use reports::ring::RingPicture;
use sim_core::SimTime;
use sim_core::trace::TraceWriter;
use std::path::Path;

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

/// The files every run writes into its folder ([`write_outputs`]).
pub const RUN_OUTPUTS: &[&str] =
    &["summary.csv", "timeseries.csv", "hops.csv", "perf.csv", "digest.txt", "provenance.txt"];

/// The files a run writes only when asked: the trace, the plots, the ring.
pub const OPTIONAL_OUTPUTS: &[&str] = &["trace.jsonl", "timeseries.png", "timeseries.svg", "ring.png", "ring.svg"];

/// Removes an optional output that an earlier run left in the folder and
/// this one did not write, so that no file in it is of another run.
pub fn remove_stale_outputs(out: &Path, written: &[&str]) -> Result<()> {
    for name in OPTIONAL_OUTPUTS.iter().filter(|n| !written.contains(n)) {
        let path = out.join(name);
        if crate::output::regular_file(&path)? {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// Refuses, before a run starts, an output folder that is not a directory
/// or that holds, under a name the run writes, something that is not a
/// regular file (a symlink, a directory, a device).
pub fn check_output_folder(out: &Path) -> Result<(), Failure> {
    if let Ok(meta) = std::fs::metadata(out)
        && !meta.is_dir()
    {
        return Err(Failure::input(format!("{}: the output path exists and is not a directory", out.display())));
    }
    for name in RUN_OUTPUTS.iter().chain(OPTIONAL_OUTPUTS) {
        crate::output::check_target(&out.join(name)).map_err(Failure::other)?;
    }
    Ok(())
}

/// `--jobs`, or the number of cores.
pub fn default_jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
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

/// Runs a scenario that has `check` settings. A failed assertion inside
/// the run (a protocol's `debug_assert!` of a local invariant, in builds
/// that keep them) ends the run and comes back as the safety violation it
/// is, with the message that names where it tripped; nothing is recorded.
pub fn run_checked(scenario: &Scenario) -> Result<RunResult, Failure> {
    let run = std::panic::AssertUnwindSafe(|| run_scenario(scenario, None, &mut Quiet));
    match std::panic::catch_unwind(run) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".to_string());
            let settings =
                scenario.check.unwrap_or(crate::config::CheckSettings { converge_within_s: 0.0, record: false });
            let outcome = crate::check::CheckOutcome {
                violation: Some(crate::check::Violation { at: None, property: "assertion", detail: message }),
                converge_within_s: settings.converge_within_s,
                ..crate::check::CheckOutcome::default()
            };
            Ok(RunResult { check: Some(outcome), ..RunResult::default() })
        }
    }
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
                route_via_successor_list: params.route_via_successor_list,
                stabilize_every: SimTime::from_secs_f64(params.stabilize_every_s),
                fix_fingers_every: SimTime::from_secs_f64(params.fix_fingers_every_s),
                check_predecessor_every: SimTime::from_secs_f64(params.check_predecessor_every_s),
                lookup_timeout: SimTime::from_millis_f64(params.lookup_timeout_ms),
                max_lookup_hops: params.max_lookup_hops,
                randomized_timers: params.randomized_timers,
                maintenance_enabled: true,
                alone_adopts_notifier: params.alone_adopts_notifier,
                join_copies_successor_list: params.join_copies_successor_list,
                detect_by_timeouts: params.failure_detection == crate::config::FailureDetection::Timeouts,
                probe_answer: params.probe_answer,
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
        (ProtocolName::Gossip, ProtocolParams::Gossip(_)) => {
            let config = crate::gossip::config(scenario);
            Ok(crate::runner::run::<crate::gossip::GossipRun>(scenario, config, trace, progress))
        }
        (protocol, _) => Err(Failure::input(format!(
            "{}: protocol `{}` is not implemented yet (available: chord, relaxed_ring, dks, palta, gossip)",
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
    let Some(spec) = &scenario.merge else { return crate::rings::run::<P>(scenario, ring, trace, progress) };
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
    crate::rings::run::<Merging<P>>(scenario, config, trace, progress)
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

/// Runs a scenario that has `[output] snapshot_at_s` only up to that
/// instant (nothing after it matters) and returns the ring there.
pub fn run_to_snapshot(scenario: &Scenario) -> Result<RingPicture, Failure> {
    let at_s = scenario.output.snapshot_at_s.ok_or_else(|| Failure::input("no output.snapshot_at_s to draw at"))?;
    let mut scenario = scenario.clone();
    scenario.duration_s = scenario.duration_s.min(at_s.max(1e-6));
    let result = run_scenario(&scenario, None, &mut Quiet)?;
    result.snapshot.ok_or_else(|| Failure::other(anyhow::anyhow!("the run ended before {at_s} s")))
}
