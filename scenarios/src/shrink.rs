//! `overlaysim check --shrink`: from a failing seed to a small scenario
//! file that replays the same failure.
//!
//! 1. The failing run is repeated with its fault schedule recorded: every
//!    join, crash, leave and false suspicion by ring identifier, every
//!    partition as the groups it made, and the initial ring identifiers
//!    ([`crate::check::Recorded`]).
//! 2. The schedule becomes explicit: a scenario with `nodes.ids`, those
//!    events, and no random fault process (message loss stays a rate).
//!    It must fail the same way (the same safety property, or liveness),
//!    or shrinking stops and says so.
//! 3. Delta debugging (Zeller and Hildebrandt, TSE 2002, `ddmin`) removes
//!    events while the failure persists, then initial nodes; then message
//!    loss is tried at zero, and a safety failure's run is cut one second
//!    after the violation.
//! 4. The result is written as a scenario file (the original's keys and
//!    `--set` overrides, with the explicit schedule) and replayed once more
//!    from the file.
//!
//! A removed event can change every later message's timing, so "the same
//! failure" means the same property, not the same instant or key.

use crate::api::Failure;
use crate::check::{CheckOutcome, CheckSettings};
use crate::config::{self, EventAction, EventSpec, Scenario};
use sim_core::RingId;

/// How a run failed, for "the same failure".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    Safety(&'static str),
    Liveness,
}

impl Signature {
    pub fn of(outcome: &CheckOutcome) -> Option<Signature> {
        match &outcome.violation {
            Some(violation) => Some(Signature::Safety(violation.property)),
            None if !outcome.converged() => Some(Signature::Liveness),
            None => None,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Signature::Safety(property) => format!("safety: {property}"),
            Signature::Liveness => "liveness".to_string(),
        }
    }
}

/// What shrinking produced.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The scenario file's text.
    pub text: String,
    pub signature: Signature,
    pub events_before: usize,
    pub events_after: usize,
    pub nodes_before: usize,
    pub nodes_after: usize,
    pub duration_s: f64,
    /// Runs spent.
    pub runs: usize,
    /// The failure as the written file replays it.
    pub replayed: CheckOutcome,
}

/// Runs `scenario` with checks and returns the outcome (and the recorded
/// schedule when `record`).
fn check_run(scenario: &Scenario, settings: CheckSettings) -> Result<crate::runner::RunResult, Failure> {
    let mut scenario = scenario.clone();
    scenario.check = Some(settings);
    crate::api::run_checked(&scenario)
}

/// Delta debugging over `items`: a 1-minimal subset for which `fails`
/// holds (complements first, halving granularity as in `ddmin`).
pub fn ddmin<T: Clone>(mut items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    if fails(&[]) {
        return Vec::new();
    }
    let mut granularity = 2usize;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(granularity);
        let mut reduced = false;
        for start in (0..items.len()).step_by(chunk) {
            let complement: Vec<T> =
                items[..start].iter().chain(items[(start + chunk).min(items.len())..].iter()).cloned().collect();
            if fails(&complement) {
                items = complement;
                granularity = (granularity - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if granularity >= items.len() {
                break;
            }
            granularity = (granularity * 2).min(items.len());
        }
    }
    if items.len() == 1 && fails(&[]) {
        items.clear();
    }
    items
}

/// Shrinks a failing `scenario` (seed and swarm mix already applied).
/// `base_text` and `overrides` are the file and `--set`s it came from.
pub fn shrink(
    base_text: &str,
    overrides: &[String],
    scenario: &Scenario,
    settings: CheckSettings,
) -> Result<Shrunk, Failure> {
    let fail = |message: String| Failure { status: 1, message };
    if scenario.nodes.bootstrap != config::Bootstrap::Ideal || scenario.nodes.loops > 1 || scenario.nodes.rings > 1 {
        return Err(Failure::input("--shrink needs a scenario built by bootstrap = \"ideal\" as one ring"));
    }
    let record = CheckSettings { record: true, ..settings };
    let first = check_run(scenario, record)?;
    let outcome = first.check.unwrap_or_default();
    let Some(signature) = Signature::of(&outcome) else {
        return Err(fail("the seed passes: nothing to shrink".into()));
    };
    let recorded = first.recorded.unwrap_or_default();
    let mut explicit = scenario.clone();
    explicit.churn.joins_per_s = 0.0;
    explicit.churn.crashes_per_s = 0.0;
    explicit.churn.leaves_per_s = 0.0;
    explicit.churn.session = None;
    explicit.detector.false_suspicions_per_link_per_hour = 0.0;
    let mut runs = 1usize;
    let mut same = |candidate: &Scenario| -> bool {
        runs += 1;
        check_run(candidate, settings)
            .ok()
            .and_then(|result| result.check)
            .is_some_and(|outcome| Signature::of(&outcome).as_ref() == Some(&signature))
    };
    let with = |events: &[EventSpec], ids: &[RingId], base: &Scenario| {
        let mut candidate = base.clone();
        candidate.events = events.to_vec();
        candidate.nodes.initial = ids.len() as u32;
        candidate.nodes.ids = Some(ids.to_vec());
        candidate
    };
    let stop = |e: &EventSpec| matches!(e.action, EventAction::StopFaults);
    let fixed: Vec<EventSpec> = recorded.events.iter().filter(|e| stop(e)).cloned().collect();
    let removable: Vec<EventSpec> = recorded.events.iter().filter(|e| !stop(e)).cloned().collect();
    let events_before = removable.len();
    let nodes_before = recorded.initial_ids.len();
    let merge = |kept: &[EventSpec]| {
        let mut all: Vec<EventSpec> = kept.iter().chain(fixed.iter()).cloned().collect();
        all.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        all
    };
    if !same(&with(&merge(&removable), &recorded.initial_ids, &explicit)) {
        return Err(fail(format!(
            "the recorded schedule does not reproduce the failure ({}): it depends on message loss or \
             contact choices the schedule does not pin",
            signature.describe()
        )));
    }
    let ids = recorded.initial_ids.clone();
    let kept = ddmin(removable, |subset| same(&with(&merge(subset), &ids, &explicit)));
    let events = merge(&kept);
    let min_nodes = ids.len().min(2);
    let ids = ddmin(ids, |subset| subset.len() >= min_nodes && same(&with(&events, subset, &explicit)));
    let mut best = with(&events, &ids, &explicit);
    if best.network.loss > 0.0 {
        let mut lossless = best.clone();
        lossless.network.loss = 0.0;
        if same(&lossless) {
            best = lossless;
        }
    }
    // Earlier: every event moved back so that the first happens at 1 s.
    if let Some(first) = best.events.iter().map(|e| e.at_s).reduce(f64::min)
        && first > 1.0
    {
        let mut early = best.clone();
        for event in &mut early.events {
            event.at_s -= first - 1.0;
        }
        if same(&early) {
            best = early;
        }
    }
    if let Signature::Safety(_) = signature
        && let Some(violation) = check_run(&best, settings)?.check.and_then(|o| o.violation)
    {
        let end = violation.at.map_or(best.duration_s, |at| (at.as_secs_f64() + 1.0).ceil().min(best.duration_s));
        let mut short = best.clone();
        short.duration_s = end;
        short.events.retain(|e| e.at_s <= end && !stop(e));
        if same(&short) {
            best = short;
        }
    }
    let text = scenario_text(base_text, overrides, &best, &signature)?;
    let name = format!("{} (shrunk)", best.name);
    let reparsed = config::parse(&name, &text, &[]).map_err(|e| fail(format!("the shrunk scenario: {e}")))?;
    let replayed = check_run(&reparsed, settings)?.check.unwrap_or_default();
    if Signature::of(&replayed).as_ref() != Some(&signature) {
        return Err(fail("the shrunk scenario file does not replay the failure".into()));
    }
    Ok(Shrunk {
        text,
        signature,
        events_before,
        events_after: best.events.iter().filter(|e| !stop(e)).count(),
        nodes_before,
        nodes_after: best.nodes.initial as usize,
        duration_s: best.duration_s,
        runs,
        replayed,
    })
}

fn hex(id: RingId) -> toml::Value {
    toml::Value::String(format!("0x{:x}", id.0))
}

fn hex_list(ids: &[RingId]) -> toml::Value {
    toml::Value::Array(ids.iter().map(|&id| hex(id)).collect())
}

/// One event as a `[[events]]` table.
fn event_table(event: &EventSpec) -> Option<toml::Table> {
    use toml::Value;
    let mut table = toml::Table::new();
    table.insert("at_s".into(), Value::Float(event.at_s));
    table.insert("kind".into(), Value::String(event.action.kind().into()));
    match &event.action {
        EventAction::CrashIds { ids } | EventAction::LeaveIds { ids } => {
            table.insert("ids".into(), hex_list(ids));
        }
        EventAction::JoinIds { ids, via } => {
            table.insert("ids".into(), hex_list(ids));
            if let Some(via) = via {
                table.insert("via".into(), hex(*via));
            }
        }
        EventAction::PartitionIds { lists } => {
            table.insert("lists".into(), Value::Array(lists.iter().map(|l| hex_list(l)).collect()));
        }
        EventAction::Suspect { watcher, peer, lasts_ms } => {
            table.insert("watcher".into(), hex(*watcher));
            table.insert("peer".into(), hex(*peer));
            table.insert("lasts_ms".into(), Value::Float(*lasts_ms));
        }
        EventAction::SetLoss { loss } => {
            table.insert("loss".into(), Value::Float(*loss));
        }
        EventAction::OneWayCut { from_group, to_group } => {
            table.insert("from_group".into(), Value::Integer(*from_group as i64));
            table.insert("to_group".into(), Value::Integer(*to_group as i64));
        }
        EventAction::Kick { count, across } => {
            table.insert("count".into(), Value::Integer(*count as i64));
            table.insert("across".into(), Value::Boolean(*across));
        }
        EventAction::Heal
        | EventAction::StopFaults
        | EventAction::StopChurn
        | EventAction::StopStabilization
        | EventAction::StartStabilization => {}
        // Recorded schedules hold none of these: they become explicit.
        EventAction::Crash { .. }
        | EventAction::Join { .. }
        | EventAction::Leave { .. }
        | EventAction::CrashFraction { .. }
        | EventAction::Partition { .. } => return None,
    }
    Some(table)
}

/// The shrunk scenario as a file: the original's keys and overrides, with
/// the explicit schedule in place of every random fault process.
fn scenario_text(
    base_text: &str,
    overrides: &[String],
    best: &Scenario,
    signature: &Signature,
) -> Result<String, Failure> {
    use toml::Value;
    let fail = |message: String| Failure { status: 1, message };
    let mut table: toml::Table =
        toml::from_str(base_text).map_err(|e| fail(format!("re-reading the scenario: {e}")))?;
    for assignment in overrides {
        config::apply_override(&mut table, assignment).map_err(fail)?;
    }
    let name = format!("{}-seed-{}-shrunk", best.name, best.seed);
    table.insert("name".into(), Value::String(name));
    table.insert(
        "description".into(),
        Value::String(format!("Shrunk by overlaysim check --shrink: {}", signature.describe())),
    );
    table.insert("seed".into(), Value::Integer(best.seed as i64));
    table.insert("duration_s".into(), Value::Float(best.duration_s));
    table.insert("protocol".into(), Value::String(best.protocol.name().into()));
    let section = |table: &mut toml::Table, key: &str| -> toml::Table {
        match table.remove(key) {
            Some(Value::Table(inner)) => inner,
            _ => toml::Table::new(),
        }
    };
    let mut nodes = section(&mut table, "nodes");
    nodes.insert("initial".into(), Value::Integer(best.nodes.initial as i64));
    nodes.insert("bootstrap".into(), Value::String("ideal".into()));
    nodes.insert("ids".into(), hex_list(best.nodes.ids.as_deref().unwrap_or_default()));
    table.insert("nodes".into(), Value::Table(nodes));
    table.insert("churn".into(), Value::Table(toml::Table::new()));
    let mut detector = section(&mut table, "detector");
    detector.insert("false_suspicions_per_link_per_hour".into(), Value::Float(0.0));
    table.insert("detector".into(), Value::Table(detector));
    let mut network = section(&mut table, "network");
    network.insert("loss".into(), Value::Float(best.network.loss));
    table.insert("network".into(), Value::Table(network));
    let events: Vec<Value> = best.events.iter().filter_map(event_table).map(Value::Table).collect();
    table.insert("events".into(), Value::Array(events));
    let body = toml::to_string(&table).map_err(|e| fail(format!("writing the shrunk scenario: {e}")))?;
    Ok(format!(
        "# Shrunk by `overlaysim check --shrink` ({}): the seed's recorded faults,\n\
         # reduced by delta debugging while the failure persisted. Replay with\n\
         #   overlaysim check THIS-FILE --seeds {}\n{body}",
        signature.describe(),
        best.seed
    ))
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn ddmin_finds_the_one_culprit_and_the_pair_that_fails_together() {
        let items: Vec<u32> = (0..40).collect();
        let mut tests = 0;
        let one = ddmin(items.clone(), |s| {
            tests += 1;
            s.contains(&17)
        });
        assert_eq!(one, vec![17]);
        assert!(tests < 40, "fewer tests than items: {tests}");
        let pair = ddmin(items.clone(), |s| s.contains(&3) && s.contains(&29));
        assert_eq!(pair, vec![3, 29]);
        let none = ddmin(items, |_| true);
        assert!(none.is_empty());
    }
}
