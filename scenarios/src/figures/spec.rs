//! A figure definition, as written in `scenarios/figures/*.toml`.
//!
//! A figure names a shipped scenario, the overrides every run shares, one
//! swept x (a scenario key, or a column of a run's table for distributions),
//! the series drawn (each a set of extra overrides), the seeds, and one or
//! more charts over the same runs: the metric, the axis labels and scales,
//! the paper's points to overlay and the acceptance bands, if any.

use reports::plot::Scale;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    pub name: String,
    pub title: String,
    /// Authors, title and venue of the paper.
    pub paper: String,
    /// The paper's figure or table, e.g. "Fig. 10(a)".
    pub figure: String,
    /// What the figure shows and how it was set up, a few sentences.
    pub about: String,
    /// A shipped scenario's name.
    pub scenario: String,
    /// Overrides for every run.
    #[serde(default)]
    pub set: Vec<String>,
    /// Seeds, e.g. "1..10".
    pub seeds: String,
    pub x: XSpec,
    pub series: Vec<SeriesSpec>,
    pub charts: Vec<ChartSpec>,
    pub quick: QuickSpec,
    /// A picture of one run's ring, shown beside the charts.
    pub snapshot: Option<SnapshotSpec>,
}

/// One run of the figure's scenario, drawn at an instant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSpec {
    #[serde(default)]
    pub set: Vec<String>,
    pub at_s: f64,
    /// What the picture shows, for the report.
    pub about: String,
}

/// The horizontal axis.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XSpec {
    pub label: String,
    #[serde(default = "linear")]
    pub scale: String,
    /// A swept scenario key, e.g. `nodes.initial`.
    pub key: Option<String>,
    /// More keys set to the same value as `key` (e.g. both churn rates).
    #[serde(default)]
    pub also: Vec<String>,
    /// The swept values (numbers).
    #[serde(default)]
    pub values: Vec<toml::Value>,
    /// A run's table (`hops`) whose rows give the x values: a distribution.
    pub table: Option<String>,
    /// The column of that table holding x.
    pub column: Option<String>,
    /// The run's simulated duration as a function of x, for size sweeps:
    /// `duration_s = per_unit_s * x + plus_s`.
    pub duration: Option<DurationSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec {
    pub per_unit_s: f64,
    pub plus_s: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    pub label: String,
    /// Another shipped scenario for this series (the figure's by default).
    pub scenario: Option<String>,
    /// Extra overrides for this series' runs.
    #[serde(default)]
    pub set: Vec<String>,
    /// Reference rows of this series: column → value.
    #[serde(default)]
    pub reference: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    pub title: String,
    /// A summary column (or, for a distribution, a column of the table).
    pub y: String,
    /// Divide by this summary column (e.g. `lookups` for a fraction).
    pub per: Option<String>,
    /// Divide by x (e.g. branches per peer).
    #[serde(default)]
    pub per_x: bool,
    /// For a distribution: divide each value by the run's total.
    #[serde(default)]
    pub normalize: bool,
    pub y_label: String,
    #[serde(default = "linear")]
    pub y_scale: String,
    pub reference: Option<ReferenceSpec>,
    #[serde(default)]
    pub bands: Vec<BandSpec>,
}

/// The paper's points: a CSV under `scenarios/figures/reference/`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub file: String,
    pub x: String,
    pub y: String,
    /// Rows of this chart: column → value (besides the series' own filter).
    #[serde(default, rename = "where")]
    pub filter: BTreeMap<String, String>,
    /// Divide the paper's y by its x (to match a chart with `per_x`).
    #[serde(default)]
    pub per_x: bool,
    /// What the markers are in the legend, e.g. "PPL 2008".
    pub label: String,
}

/// An acceptance band: around the paper's points (`relative` or
/// `absolute`), or fixed bounds `low`..`high`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// Only this series (by label); every series with paper points if unset.
    pub series: Option<String>,
    pub relative: Option<f64>,
    pub absolute: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Only x at or above this.
    pub x_min: Option<f64>,
    /// Only x at or below this.
    pub x_max: Option<f64>,
    /// Where the band comes from (the issue or the paper's text).
    pub source: String,
}

/// The `--quick` variant: fewer seeds, smaller x, extra overrides.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickSpec {
    pub seeds: String,
    #[serde(default)]
    pub values: Vec<toml::Value>,
    #[serde(default)]
    pub set: Vec<String>,
}

fn linear() -> String {
    "linear".into()
}

/// One x value: its text for the override and its position on the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct XValue {
    pub text: String,
    pub value: f64,
}

impl FigureSpec {
    /// Parses and checks a definition; errors name the file, line and key.
    pub fn parse(source: &str, text: &str) -> Result<FigureSpec, String> {
        let spec: FigureSpec = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        spec.check().map_err(|e| format!("{source}: {e}"))?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), String> {
        Scale::parse(&self.x.scale).ok_or_else(|| format!("x.scale: unknown scale `{}`", self.x.scale))?;
        match (&self.x.key, &self.x.table) {
            (Some(_), None) => {
                if self.x.values.is_empty() {
                    return Err("x.values: a swept key needs values".into());
                }
                x_values(&self.x.values).map_err(|e| format!("x.values: {e}"))?;
                x_values(&self.quick.values).map_err(|e| format!("quick.values: {e}"))?;
            }
            (None, Some(table)) => {
                if table != "hops" || self.x.column.is_none() {
                    return Err("x.table: only `hops` with x.column is available".into());
                }
            }
            _ => return Err("x: give either `key` and `values` or `table` and `column`".into()),
        }
        if self.series.is_empty() || self.charts.is_empty() {
            return Err("a figure needs at least one [[series]] and one [[charts]]".into());
        }
        for (i, chart) in self.charts.iter().enumerate() {
            Scale::parse(&chart.y_scale).ok_or_else(|| format!("charts[{i}].y_scale: unknown `{}`", chart.y_scale))?;
            for (j, band) in chart.bands.iter().enumerate() {
                let kinds =
                    [band.relative.is_some(), band.absolute.is_some(), band.low.is_some() && band.high.is_some()];
                if kinds.iter().filter(|k| **k).count() != 1 {
                    return Err(format!("charts[{i}].bands[{j}]: give one of relative, absolute, or low and high"));
                }
                if (band.relative.is_some() || band.absolute.is_some()) && chart.reference.is_none() {
                    return Err(format!("charts[{i}].bands[{j}]: a band around the paper's points needs a reference"));
                }
                if let Some(label) = &band.series
                    && !self.series.iter().any(|s| &s.label == label)
                {
                    return Err(format!("charts[{i}].bands[{j}].series: no series `{label}`"));
                }
            }
        }
        crate::sweep::parse_seeds(&self.seeds).map_err(|e| format!("seeds: {e}"))?;
        crate::sweep::parse_seeds(&self.quick.seeds).map_err(|e| format!("quick.seeds: {e}"))?;
        Ok(())
    }

    /// The swept x values (none for a distribution).
    pub fn x_values(&self, quick: bool) -> Vec<XValue> {
        let values = if quick && !self.quick.values.is_empty() { &self.quick.values } else { &self.x.values };
        x_values(values).unwrap_or_default()
    }

    pub fn seeds(&self, quick: bool) -> Vec<u64> {
        crate::sweep::parse_seeds(if quick { &self.quick.seeds } else { &self.seeds }).unwrap_or_default()
    }

    pub fn x_scale(&self) -> Scale {
        Scale::parse(&self.x.scale).unwrap_or_default()
    }
}

fn x_values(values: &[toml::Value]) -> Result<Vec<XValue>, String> {
    values
        .iter()
        .map(|v| match v {
            toml::Value::Integer(i) => Ok(XValue { text: i.to_string(), value: *i as f64 }),
            toml::Value::Float(f) => Ok(XValue { text: v.to_string(), value: *f }),
            other => Err(format!("expected numbers, got {other}")),
        })
        .collect()
}
