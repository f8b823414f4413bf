//! `overlaysim run --plot`: a run's time series as stacked charts.

use crate::runner::{Table, TimeseriesChart};
use anyhow::Result;
use reports::plot::{Chart, MeanPoint, Series, save_charts};
use std::path::Path;

/// One curve of the time series: `column` against `time_s`.
fn curve(table: &Table, column: &str, label: &str) -> Series {
    let times = table.column_f64("time_s");
    let values = table.column_f64(column);
    let points = times.iter().zip(&values).map(|(&x, &y)| MeanPoint { x, mean: y, low: y, high: y }).collect();
    Series { label: label.into(), points, ..Series::default() }
}

fn chart(title: &str, y_label: &str, series: Vec<Series>) -> Chart {
    Chart {
        title: title.into(),
        x_label: "Simulated time (s)".into(),
        y_label: y_label.into(),
        series,
        ..Chart::default()
    }
}

/// The charts of a run's time series, as its family lists them.
pub fn timeseries_charts(name: &str, table: &Table, charts: &[TimeseriesChart]) -> Vec<Chart> {
    charts
        .iter()
        .map(|c| {
            let curves = c.curves.iter().map(|(column, label)| curve(table, column, label)).collect();
            chart(&format!("{name}: {}", c.title), c.y_label, curves)
        })
        .collect()
}

/// Writes `timeseries.png` and `timeseries.svg` into `out`.
pub fn plot_timeseries(out: &Path, name: &str, table: &Table, charts: &[TimeseriesChart]) -> Result<()> {
    save_charts(&out.join("timeseries"), &timeseries_charts(name, table, charts))
}
