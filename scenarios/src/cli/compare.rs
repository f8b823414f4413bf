//! `overlaysim compare`: two sweeps, point by point (Welch's t-test).

use crate::api::Failure;
use crate::runner::Table;
use crate::sweep;
use reports::stats::plain_number;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct CompareArgs {
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

/// `compare`: per point and metric, both means with 95 % intervals, the
/// difference and Welch's p; worse means significant and in the bad
/// direction. Both folders must be sweeps of one scenario over the same
/// points, with at least two seeds per point on each side; the fixed
/// overrides and the build may differ (that is what is compared) and are
/// printed.
pub(super) fn compare_sweeps(args: CompareArgs) -> Result<(), Failure> {
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
        return Err(refuse(base.vary_difference(new)));
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
