//! Figures: the papers' graphs, reproduced from figure definitions.
//!
//! Each definition (`scenarios/figures/*.toml`, compiled in) names a
//! shipped scenario, a swept x, series and seeds; every (series, x, seed) is
//! an independent run, run in parallel across cores. A run's outputs are
//! cached under `runs/<key>/` where the key is a hash of the scenario and
//! its overrides, so figures that share runs share them, and an interrupted
//! `figures` started again resumes. A cached run is used only when its
//! provenance key matches the resolved scenario, seed and build (a changed
//! scenario file or a new build runs it again). Each chart is then the mean over seeds
//! with its 95 % confidence interval, the paper's points (copied into the
//! repository under `scenarios/figures/reference/`) and the acceptance
//! bands, with a PASS/FAIL verdict where a band exists; `report.html` shows
//! them all with tables of our numbers beside the paper's.

pub mod spec;

use crate::api::{Failure, load_scenario, run_scenario};
use crate::config::Scenario;
use crate::output::{read_csv, write_atomic, write_csv};
use crate::progress::run_all;
use crate::runner::{Quiet, Table};
use anyhow::{Context, Result};
use reports::html::{HtmlTable, Report, Section};
use reports::plot::{Chart, MeanPoint, Scale, Series, Verdict, format_number, save_charts};
use reports::stats::Summary;
use spec::{FigureSpec, XValue};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// (name, text) of every shipped figure definition, in report order.
pub const BUILTIN: &[(&str, &str)] = &[
    ("chord-path-length", include_str!("../../figures/chord-path-length.toml")),
    ("chord-path-pdf", include_str!("../../figures/chord-path-pdf.toml")),
    ("chord-failures", include_str!("../../figures/chord-failures.toml")),
    ("chord-lost-keys", include_str!("../../figures/chord-lost-keys.toml")),
    ("chord-churn", include_str!("../../figures/chord-churn.toml")),
    ("ppl-branches", include_str!("../../figures/ppl-branches.toml")),
    ("ppl-chord", include_str!("../../figures/ppl-chord.toml")),
    ("palta", include_str!("../../figures/palta.toml")),
    ("merge-time", include_str!("../../figures/merge-time.toml")),
    ("merge-partitions", include_str!("../../figures/merge-partitions.toml")),
    ("gossip-rounds", include_str!("../../figures/gossip-rounds.toml")),
];

/// The papers' points, read from their figures (see each file's header).
pub const REFERENCES: &[(&str, &str)] = &[
    (
        "chord_sigcomm2001_fig10_path_length.csv",
        include_str!("../../figures/reference/chord_sigcomm2001_fig10_path_length.csv"),
    ),
    (
        "chord_sigcomm2001_fig10b_path_pdf_4096.csv",
        include_str!("../../figures/reference/chord_sigcomm2001_fig10b_path_pdf_4096.csv"),
    ),
    (
        "relaxed_ring_ppl2008_fig7_branches.csv",
        include_str!("../../figures/reference/relaxed_ring_ppl2008_fig7_branches.csv"),
    ),
    (
        "relaxed_ring_ppl2008_fig8_branch_size.csv",
        include_str!("../../figures/reference/relaxed_ring_ppl2008_fig8_branch_size.csv"),
    ),
    (
        "relaxed_ring_ppl2008_fig9_fig11_messages.csv",
        include_str!("../../figures/reference/relaxed_ring_ppl2008_fig9_fig11_messages.csv"),
    ),
    (
        "relaxed_ring_ppl2008_fig10_chord_inconsistency.csv",
        include_str!("../../figures/reference/relaxed_ring_ppl2008_fig10_chord_inconsistency.csv"),
    ),
    (
        "palta_2008_connections_messages.csv",
        include_str!("../../figures/reference/palta_2008_connections_messages.csv"),
    ),
    ("gossip_log3.csv", include_str!("../../figures/reference/gossip_log3.csv")),
    ("chord_sigcomm2001_fig11_fig12.csv", include_str!("../../figures/reference/chord_sigcomm2001_fig11_fig12.csv")),
];

/// What `overlaysim figures` was asked.
#[derive(Clone, Debug)]
pub struct Options {
    /// Shipped figure names or definition files; all shipped ones if empty.
    pub only: Vec<String>,
    pub quick: bool,
    pub out: PathBuf,
    pub jobs: usize,
    pub quiet: bool,
}

/// A figure ready to run: its definition and every run's scenario.
#[derive(Debug)]
struct Figure {
    spec: FigureSpec,
    source: String,
    xs: Vec<XValue>,
    seeds: Vec<u64>,
    /// Per series, per x (one entry for a distribution): the run's key and
    /// its scenario (seed still the file's).
    runs: Vec<Vec<(String, Scenario)>>,
    /// The run drawn as a ring picture, if the definition asks for one.
    snapshot: Option<Scenario>,
}

/// One run: a figure's (series, x) cell at one seed.
#[derive(Debug)]
struct Job<'a> {
    key: &'a str,
    seed: u64,
    scenario: &'a Scenario,
    label: String,
}

/// The outcome of `figures`: the verdict of each figure.
#[derive(Debug, Default)]
pub struct Outcome {
    pub figures: Vec<(String, Option<Verdict>)>,
    pub runs_done_before: usize,
    pub runs_now: usize,
}

/// Loads the definitions asked for: shipped names or files.
fn definitions(only: &[String]) -> Result<Vec<(String, String)>, Failure> {
    if only.is_empty() {
        return Ok(BUILTIN.iter().map(|(n, t)| (format!("{n} (built in)"), t.to_string())).collect());
    }
    only.iter()
        .map(|name| {
            let path = Path::new(name);
            if let Some((n, text)) = BUILTIN.iter().find(|(n, _)| *n == name.strip_suffix(".toml").unwrap_or(name))
                && !path.exists()
            {
                return Ok((format!("{n} (built in)"), text.to_string()));
            }
            std::fs::read_to_string(path).map(|text| (name.clone(), text)).map_err(|e| {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                Failure::input(format!("{name}: not a shipped figure ({}) nor a readable file: {e}", names.join(", ")))
            })
        })
        .collect()
}

/// The text of a reference CSV by file name.
fn reference_text(file: &str) -> Option<&'static str> {
    REFERENCES.iter().find(|(n, _)| *n == file).map(|(_, t)| *t)
}

/// A reference CSV: `#` lines are comments.
fn parse_reference(text: &str) -> Result<Table> {
    let body: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(Table { header, rows })
}

fn cells_match(cell: &str, wanted: &str) -> bool {
    cell == wanted || matches!((cell.parse::<f64>(), wanted.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
}

/// The paper's (x, y) points of one series in one chart.
pub fn reference_points(spec: &FigureSpec, chart: usize, series: usize) -> Result<Vec<(f64, f64)>, String> {
    let chart = &spec.charts[chart];
    let Some(reference) = &chart.reference else { return Ok(Vec::new()) };
    let series_filter = &spec.series[series].reference;
    if series_filter.is_empty() && spec.series.len() > 1 {
        return Ok(Vec::new());
    }
    let text = reference_text(&reference.file).ok_or_else(|| format!("no reference file `{}`", reference.file))?;
    let table = parse_reference(text).map_err(|e| format!("{}: {e}", reference.file))?;
    let column = |name: &str| {
        table.header.iter().position(|h| h == name).ok_or_else(|| format!("{} has no column `{name}`", reference.file))
    };
    let (x, y) = (column(&reference.x)?, column(&reference.y)?);
    let mut filters: Vec<(usize, &String)> =
        reference.filter.iter().map(|(k, v)| column(k).map(|c| (c, v))).collect::<Result<_, _>>()?;
    // A series' filter applies to the columns this file has; a series none
    // of whose columns it has gets no points from it.
    let series_columns: Vec<(usize, &String)> =
        series_filter.iter().filter_map(|(k, v)| column(k).ok().map(|c| (c, v))).collect();
    if !series_filter.is_empty() && series_columns.is_empty() {
        return Ok(Vec::new());
    }
    filters.extend(series_columns);
    let mut points = Vec::new();
    for row in &table.rows {
        if filters.iter().all(|(c, v)| cells_match(&row[*c], v))
            && let (Ok(px), Ok(py)) = (row[x].parse::<f64>(), row[y].parse::<f64>())
        {
            points.push((px, if reference.per_x && px != 0.0 { py / px } else { py }));
        }
    }
    Ok(points)
}

/// Parses every definition and validates every run's scenario before
/// anything runs.
fn prepare(options: &Options) -> Result<Vec<Figure>, Failure> {
    let mut figures = Vec::new();
    for (source, text) in definitions(&options.only)? {
        let spec = FigureSpec::parse(&source, &text).map_err(Failure::input)?;
        for chart in 0..spec.charts.len() {
            for series in 0..spec.series.len() {
                reference_points(&spec, chart, series).map_err(|e| Failure::input(format!("{source}: {e}")))?;
            }
        }
        let snapshot = match &spec.snapshot {
            Some(snapshot) => {
                Some(snapshot_scenario(&spec, snapshot).map_err(|e| Failure::input(format!("{source}: {e}")))?)
            }
            None => None,
        };
        let xs = spec.x_values(options.quick);
        let seeds = spec.seeds(options.quick);
        let cells: Vec<Option<&XValue>> = if spec.x.key.is_some() { xs.iter().map(Some).collect() } else { vec![None] };
        let mut runs = Vec::new();
        for series in &spec.series {
            let mut row = Vec::new();
            for x in &cells {
                let mut overrides = spec.set.clone();
                if options.quick {
                    overrides.extend(spec.quick.set.iter().cloned());
                }
                overrides.extend(series.set.iter().cloned());
                if let (Some(key), Some(x)) = (&spec.x.key, x) {
                    overrides.push(format!("{key}={}", x.text));
                    overrides.extend(spec.x.also.iter().map(|also| format!("{also}={}", x.text)));
                    if let Some(d) = spec.x.duration {
                        overrides.push(format!("duration_s={}", (d.per_unit_s * x.value + d.plus_s).ceil()));
                    }
                }
                let name = series.scenario.as_deref().unwrap_or(&spec.scenario);
                let scenario = load_scenario(name, &overrides)
                    .map_err(|f| Failure::input(format!("{source}: series `{}`: {}", series.label, f.message)))?;
                let key = crate::provenance::hash_hex(&format!("{name}\n{}", overrides.join("\n")));
                row.push((key, scenario));
            }
            runs.push(row);
        }
        figures.push(Figure { spec, source, xs, seeds, runs, snapshot });
    }
    Ok(figures)
}

fn summary_path(out: &Path, key: &str, seed: u64) -> PathBuf {
    out.join("runs").join(key).join(format!("s{seed}.csv"))
}

fn hops_path(out: &Path, key: &str, seed: u64) -> PathBuf {
    out.join("runs").join(key).join(format!("s{seed}.hops.csv"))
}

/// Whether a job's cached run is there and is the run of this scenario,
/// seed and build (its provenance key says so); anything else is run again.
fn cached(job: &Job, out: &Path) -> bool {
    let mut scenario = job.scenario.clone();
    scenario.seed = job.seed;
    let expected = crate::provenance::key_of(&scenario);
    let matches = |path: &Path| {
        matches!(crate::output::regular_file(path), Ok(true))
            && read_csv(path).is_ok_and(|table| crate::provenance::recorded(&table) == Some(expected.as_str()))
    };
    matches(&summary_path(out, job.key, job.seed)) && matches(&hops_path(out, job.key, job.seed))
}

/// Runs one job and caches its outputs; the summary is written last, so
/// its presence means the run is complete.
fn run_job(job: &Job, out: &Path) -> Result<()> {
    let mut scenario = job.scenario.clone();
    scenario.seed = job.seed;
    let result = run_scenario(&scenario, None, &mut Quiet).map_err(|f| anyhow::anyhow!(f.message))?;
    crate::output::ensure_dir(&out.join("runs").join(job.key))?;
    write_csv(&hops_path(out, job.key, job.seed), &result.hops)?;
    write_csv(&summary_path(out, job.key, job.seed), &result.summary)
}

/// Runs the figures asked for, draws them and writes `report.html`.
pub fn figures(options: &Options) -> Result<Outcome, Failure> {
    let figures = prepare(options)?;
    crate::output::ensure_dir(&options.out.join("runs")).map_err(Failure::other)?;
    let mut jobs: Vec<Job> = Vec::new();
    for figure in &figures {
        for (s, row) in figure.runs.iter().enumerate() {
            for (k, (key, scenario)) in row.iter().enumerate() {
                for &seed in &figure.seeds {
                    let x = figure.xs.get(k).filter(|_| figure.spec.x.key.is_some()).map(|x| format!(" x={}", x.text));
                    let label = format!(
                        "{} [{}]{} seed {seed}",
                        figure.spec.name,
                        figure.spec.series[s].label,
                        x.unwrap_or_default()
                    );
                    jobs.push(Job { key, seed, scenario, label });
                }
            }
        }
    }
    jobs.sort_by(|a, b| (a.key, a.seed).cmp(&(b.key, b.seed)));
    jobs.dedup_by(|a, b| a.key == b.key && a.seed == b.seed);
    let total = jobs.len();
    let pending: Vec<&Job> = jobs.iter().filter(|j| !cached(j, &options.out)).collect();
    let failures =
        run_all(&pending, options.jobs, options.quiet, |job| job.label.clone(), |job| run_job(job, &options.out))
            .map_err(Failure::other)?;
    if let Some(first) = failures.first() {
        return Err(Failure::other(anyhow::anyhow!("{} runs failed; first: {first}", failures.len())));
    }
    let mut report = Report {
        title: format!("overlaysim figures{}", if options.quick { " (quick)" } else { "" }),
        intro: vec![
            "Each chart shows our mean over seeds with its 95 % confidence interval (shaded band and bars), the \
             paper's points as crosses, and the acceptance band as dashed lines where one is defined. The verdict \
             is PASS when every one of our means inside a band's x range lies within the band."
                .into(),
            if options.quick {
                "Quick mode: small sizes and few seeds, to check the pipeline; verdicts on small sizes can differ \
                 from the full run's."
                    .into()
            } else {
                "Full mode: the sizes and seeds of each definition.".into()
            },
            format!(
                "Produced by overlaysim {}; every run's summary under runs/ carries its provenance key (resolved \
                 scenario, seed, build), and a cached run is reused only when it matches.",
                crate::provenance::BUILD
            ),
        ],
        sections: Vec::new(),
    };
    let mut outcome =
        Outcome { runs_done_before: total - pending.len(), runs_now: pending.len(), ..Outcome::default() };
    for figure in &figures {
        let (section, verdict) = draw_figure(figure, options).map_err(Failure::other)?;
        outcome.figures.push((figure.spec.name.clone(), verdict));
        report.sections.push(section);
    }
    write_atomic(&options.out.join("report.html"), reports::html::render(&report).as_bytes())
        .map_err(Failure::other)?;
    Ok(outcome)
}

/// The y value of one run's summary for a chart.
fn summary_value(summary: &Table, chart: &spec::ChartSpec, x: f64) -> Result<f64> {
    let number = |column: &str| -> Result<f64> {
        summary
            .get(column)
            .with_context(|| format!("the runs have no summary column `{column}`"))?
            .parse::<f64>()
            .with_context(|| format!("summary column `{column}` is not a number"))
    };
    let mut y = number(&chart.y)?;
    if let Some(per) = &chart.per {
        let divisor = number(per)?;
        y = if divisor != 0.0 { y / divisor } else { f64::NAN };
    }
    if chart.per_x {
        y /= x;
    }
    Ok(y)
}

/// Per chart, per series: x → the values over seeds.
type Samples = Vec<Vec<BTreeMap<OrderedX, Vec<f64>>>>;

/// An x value as a map key (x values are finite).
#[derive(Clone, Copy, Debug)]
struct OrderedX(f64);
impl PartialEq for OrderedX {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for OrderedX {}
impl PartialOrd for OrderedX {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedX {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn collect_samples(figure: &Figure, out: &Path) -> Result<Samples> {
    let spec = &figure.spec;
    let mut samples: Samples = vec![vec![BTreeMap::new(); spec.series.len()]; spec.charts.len()];
    for (s, row) in figure.runs.iter().enumerate() {
        for (k, (key, _)) in row.iter().enumerate() {
            if let Some(x) = spec.x.key.as_ref().and(figure.xs.get(k)) {
                for &seed in &figure.seeds {
                    let summary = read_csv(&summary_path(out, key, seed))?;
                    for (c, chart) in spec.charts.iter().enumerate() {
                        let y = summary_value(&summary, chart, x.value)?;
                        samples[c][s].entry(OrderedX(x.value)).or_default().push(y);
                    }
                }
                continue;
            }
            // A distribution: one x → y map per seed; an x a seed never
            // saw counts as 0 there.
            let tables: Vec<Table> =
                figure.seeds.iter().map(|&seed| read_csv(&hops_path(out, key, seed))).collect::<Result<_>>()?;
            for (c, chart) in spec.charts.iter().enumerate() {
                let per_seed: Vec<BTreeMap<OrderedX, f64>> =
                    tables.iter().map(|t| distribution(t, spec, chart)).collect::<Result<_>>()?;
                for x in per_seed.iter().flat_map(|m| m.keys().copied()) {
                    let values = per_seed.iter().map(|m| m.get(&x).copied().unwrap_or(0.0)).collect();
                    samples[c][s].insert(x, values);
                }
            }
        }
    }
    Ok(samples)
}

/// One run's table as x → y, divided by the total when the chart asks.
fn distribution(table: &Table, spec: &FigureSpec, chart: &spec::ChartSpec) -> Result<BTreeMap<OrderedX, f64>> {
    let x_column = spec.x.column.as_deref().unwrap_or_default();
    let (xs, ys) = (table.column_f64(x_column), table.column_f64(&chart.y));
    anyhow::ensure!(
        xs.len() == ys.len() && xs.len() == table.rows.len(),
        "the run's table has no numeric columns `{x_column}` and `{}`",
        chart.y
    );
    let total: f64 = ys.iter().sum();
    let scale = if chart.normalize && total > 0.0 { 1.0 / total } else { 1.0 };
    Ok(xs.iter().zip(&ys).map(|(&x, &y)| (OrderedX(x), y * scale)).collect())
}

/// One checked point: the band's bounds and whether our mean is inside.
#[derive(Clone, Copy, Debug)]
struct Check {
    low: f64,
    high: f64,
    within: bool,
}

fn draw_figure(figure: &Figure, options: &Options) -> Result<(Section, Option<Verdict>)> {
    let spec = &figure.spec;
    let samples = collect_samples(figure, &options.out)?;
    let mut section = Section {
        id: spec.name.clone(),
        title: format!("{} — {}, {}", spec.title, spec.paper, spec.figure),
        paragraphs: vec![spec.about.clone()],
        ..Section::default()
    };
    let swept = match (&spec.x.key, &spec.x.table) {
        (Some(key), _) => {
            format!("{key} = {}", figure.xs.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(", "))
        }
        (None, table) => format!(
            "the distribution of `{}` over each run's {} table",
            spec.x.column.as_deref().unwrap_or(""),
            table.as_deref().unwrap_or("")
        ),
    };
    let first_seed = figure.seeds.first().copied().unwrap_or(0);
    let last_seed = figure.seeds.last().copied().unwrap_or(0);
    section.facts = vec![
        ("Paper".into(), format!("{}, {}", spec.paper, spec.figure)),
        ("Scenario".into(), spec.scenario.clone()),
        ("Overrides".into(), if spec.set.is_empty() { "none".into() } else { spec.set.join(" ") }),
        ("Swept".into(), swept),
        (
            "Series".into(),
            spec.series
                .iter()
                .map(|s| format!("{} ({})", s.label, if s.set.is_empty() { "as is".into() } else { s.set.join(" ") }))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("Seeds".into(), format!("{first_seed}..{last_seed} ({} per point)", figure.seeds.len())),
        ("Definition".into(), figure.source.clone()),
    ];
    let mut verdicts = Vec::new();
    let mut points_table =
        Table::new(&["chart", "series", "x", "seeds", "mean", "ci95", "paper", "band_low", "band_high", "within"]);
    for (c, chart_spec) in spec.charts.iter().enumerate() {
        let mut chart = Chart {
            title: chart_spec.title.clone(),
            x_label: spec.x.label.clone(),
            y_label: chart_spec.y_label.clone(),
            x_scale: spec.x_scale(),
            y_scale: Scale::parse(&chart_spec.y_scale).unwrap_or_default(),
            reference_label: chart_spec.reference.as_ref().map(|r| r.label.clone()).unwrap_or_default(),
            ..Chart::default()
        };
        let mut html = HtmlTable {
            caption: chart_spec.title.clone(),
            header: ["series", &spec.x.label, "ours (mean ± 95% CI)", "seeds", "paper", "band", "within"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rows: Vec::new(),
        };
        let mut checked = 0;
        let mut failed = 0;
        for (s, series_spec) in spec.series.iter().enumerate() {
            let reference = reference_points(spec, c, s).map_err(anyhow::Error::msg)?;
            let paper_at =
                |x: f64| reference.iter().find(|(px, _)| (px - x).abs() <= 1e-9 * x.abs().max(1.0)).map(|p| p.1);
            // The paper's points near the x range we ran (all of them in a
            // full run; the quick one runs a corner).
            let ours: Vec<f64> = samples[c][s].keys().map(|x| x.0).collect();
            let (first, last) = (ours.first().copied().unwrap_or(0.0), ours.last().copied().unwrap_or(0.0));
            let margin = 0.1 * (last - first).abs().max(first.abs());
            let shown: Vec<(f64, f64)> =
                reference.iter().copied().filter(|(x, _)| (first - margin..=last + margin).contains(x)).collect();
            let mut series = Series { label: series_spec.label.clone(), reference: shown, ..Series::default() };
            for (x, values) in &samples[c][s] {
                let x = x.0;
                let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
                if finite.is_empty() {
                    continue;
                }
                let stats = Summary::of(&finite);
                let half = if stats.n > 1 { stats.ci95() } else { 0.0 };
                series.points.push(MeanPoint { x, mean: stats.mean, low: stats.mean - half, high: stats.mean + half });
                let paper = paper_at(x);
                let check = band_check(spec, c, series_spec, paper, x, stats.mean);
                if let Some(check) = check {
                    series.band.push((x, check.low, check.high));
                    checked += 1;
                    failed += usize::from(!check.within);
                }
                let band_text = check.map(|k| format!("{} .. {}", format_number(k.low), format_number(k.high)));
                let within_text = check.map(|k| if k.within { "yes" } else { "NO" }.to_string());
                html.rows.push(vec![
                    series_spec.label.clone(),
                    format_number(x),
                    format!("{} ± {}", format_number(stats.mean), format_number(half)),
                    stats.n.to_string(),
                    paper.map(format_number).unwrap_or_else(|| "—".into()),
                    band_text.clone().unwrap_or_else(|| "—".into()),
                    within_text.clone().unwrap_or_else(|| "—".into()),
                ]);
                points_table.rows.push(vec![
                    (c + 1).to_string(),
                    series_spec.label.clone(),
                    format!("{x}"),
                    stats.n.to_string(),
                    format!("{:.6}", stats.mean),
                    format!("{half:.6}"),
                    paper.map(|p| p.to_string()).unwrap_or_default(),
                    check.map(|k| format!("{:.6}", k.low)).unwrap_or_default(),
                    check.map(|k| format!("{:.6}", k.high)).unwrap_or_default(),
                    within_text.unwrap_or_default(),
                ]);
            }
            chart.series.push(series);
        }
        chart.verdict = match (checked, failed) {
            (0, _) => None,
            (_, 0) => Some(Verdict::Pass),
            _ => Some(Verdict::Fail),
        };
        verdicts.push(chart.verdict);
        let stem = if spec.charts.len() == 1 { spec.name.clone() } else { format!("{}-{}", spec.name, c + 1) };
        save_charts(&options.out.join(&stem), std::slice::from_ref(&chart))?;
        section.images.push(stem);
        for band in &chart_spec.bands {
            section.paragraphs.push(format!("Band ({}): {}", chart_spec.title, band.source));
        }
        section.tables.push(html);
    }
    write_csv(&options.out.join(format!("{}.csv", spec.name)), &points_table)?;
    if let (Some(snapshot), Some(scenario)) = (&spec.snapshot, &figure.snapshot) {
        let stem = format!("{}-ring", spec.name);
        let picture = crate::api::run_to_snapshot(scenario).map_err(|f| anyhow::anyhow!(f.message))?;
        picture.save(&options.out.join(&stem))?;
        section.paragraphs.push(format!("Ring picture: {} ({}).", snapshot.about, picture.subtitle));
        section.images.push(stem);
    }
    let verdict = if verdicts.contains(&Some(Verdict::Fail)) {
        Some(Verdict::Fail)
    } else if verdicts.contains(&Some(Verdict::Pass)) {
        Some(Verdict::Pass)
    } else {
        None
    };
    section.verdict = verdict;
    Ok((section, verdict))
}

/// The scenario of a figure's snapshot run.
fn snapshot_scenario(spec: &FigureSpec, snapshot: &spec::SnapshotSpec) -> Result<Scenario, String> {
    let mut overrides = spec.set.clone();
    overrides.extend(snapshot.set.iter().cloned());
    overrides.push(format!("output.snapshot_at_s={}", snapshot.at_s));
    load_scenario(&spec.scenario, &overrides).map_err(|f| format!("snapshot: {}", f.message))
}

/// The band that applies to one of our points, if any, and the check.
fn band_check(
    spec: &FigureSpec,
    chart: usize,
    series: &spec::SeriesSpec,
    paper: Option<f64>,
    x: f64,
    mean: f64,
) -> Option<Check> {
    spec.charts[chart].bands.iter().find_map(|band| {
        if band.series.as_ref().is_some_and(|label| label != &series.label)
            || band.x_min.is_some_and(|m| x < m)
            || band.x_max.is_some_and(|m| x > m)
        {
            return None;
        }
        let (low, high) = match (band.relative, band.absolute, band.low, band.high) {
            (Some(r), _, _, _) => {
                let p = paper?;
                (p - r * p.abs(), p + r * p.abs())
            }
            (None, Some(a), _, _) => {
                let p = paper?;
                (p - a, p + a)
            }
            (None, None, Some(low), Some(high)) => (low, high),
            _ => return None,
        };
        Some(Check { low, high, within: (low..=high).contains(&mean) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A definition with two series and the given bands.
    fn text_with_bands(bands: &str) -> String {
        format!(
            "name = \"t\"\ntitle = \"t\"\npaper = \"p\"\nfigure = \"f\"\nabout = \"a\"\nscenario = \"quickstart\"\n\
             seeds = \"1..2\"\nx = {{ key = \"nodes.initial\", values = [10, 20], label = \"N\" }}\n\
             series = [{{ label = \"a\" }}, {{ label = \"b\" }}]\nquick = {{ seeds = \"1\" }}\n[[charts]]\ntitle = \"c\"\n\
             y = \"mean_hops\"\ny_label = \"hops\"\nreference = {{ file = \"chord_sigcomm2001_fig10_path_length.csv\", \
             x = \"peers\", y = \"mean_path_length\", label = \"paper\" }}\nbands = [{bands}]\n"
        )
    }

    fn spec_with_bands(bands: &str) -> FigureSpec {
        FigureSpec::parse("t.toml", &text_with_bands(bands)).unwrap()
    }

    #[test]
    fn bands_check_around_the_paper_or_between_bounds_in_their_x_range() {
        let spec =
            spec_with_bands(r#"{ relative = 0.1, x_min = 15, source = "s" }, { low = 1, high = 2, source = "s" }"#);
        let a = &spec.series[0];
        // Below x_min the first band does not apply: the second one does.
        let check = band_check(&spec, 0, a, Some(10.0), 10.0, 1.5).unwrap();
        assert_eq!((check.low, check.high, check.within), (1.0, 2.0, true));
        let check = band_check(&spec, 0, a, Some(10.0), 20.0, 10.9).unwrap();
        assert!(check.within && (check.low - 9.0).abs() < 1e-12 && (check.high - 11.0).abs() < 1e-12);
        assert!(!band_check(&spec, 0, a, Some(10.0), 20.0, 11.2).unwrap().within);
        let only_b = spec_with_bands(r#"{ series = "b", absolute = 0.5, source = "s" }"#);
        assert!(band_check(&only_b, 0, &only_b.series[0], Some(3.0), 20.0, 3.0).is_none());
        let check = band_check(&only_b, 0, &only_b.series[1], Some(3.0), 20.0, 3.6).unwrap();
        assert!(!check.within);
        // No paper point at this x: nothing to check against.
        assert!(band_check(&only_b, 0, &only_b.series[1], None, 20.0, 3.6).is_none());
    }

    #[test]
    fn definitions_are_checked_before_anything_runs() {
        let bad = |bands: &str| FigureSpec::parse("t.toml", &text_with_bands(bands)).unwrap_err();
        assert!(bad(r#"{ relative = 0.1, low = 1, high = 2, source = "s" }"#).contains("give one of"));
        assert!(bad(r#"{ series = "z", low = 1, high = 2, source = "s" }"#).contains("no series `z`"));
    }

    #[test]
    fn reference_rows_are_filtered_by_chart_and_series() {
        let text = include_str!("../../figures/ppl-branches.toml");
        let spec = FigureSpec::parse("ppl-branches", text).unwrap();
        // Reference: PPL 2008, Fig. 7 — 88 branches at 1000 peers, c = 0.90.
        let branches = reference_points(&spec, 0, 0).unwrap();
        assert_eq!(branches.len(), 10);
        assert_eq!(branches[0], (1000.0, 88.0));
        // Per peer: the same points divided by N.
        assert_eq!(reference_points(&spec, 1, 0).unwrap()[0], (1000.0, 0.088));
        // Fig. 9 has no connectivity column: the series' `parameter` picks its rows.
        // Reference: PPL 2008, Fig. 9 — 4133 messages at 1000 peers, c = 0.90.
        assert_eq!(reference_points(&spec, 4, 0).unwrap()[0], (1000.0, 4133.0));
    }
}
