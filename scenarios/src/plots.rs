//! `overlaysim run --plot`: a run's time series as stacked charts.

use crate::runner::Table;
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

/// The charts of a run's time series: key consistency, population,
/// traffic and ring structure.
pub fn timeseries_charts(name: &str, table: &Table) -> Vec<Chart> {
    vec![
        chart(
            &format!("{name}: keys with no or several responsible peers"),
            "Fraction of the key space",
            vec![
                curve(table, "inconsistent_key_fraction", "inconsistent (2+ responsible)"),
                curve(table, "unavailable_key_fraction", "unavailable (none responsible)"),
            ],
        ),
        chart(
            &format!("{name}: population"),
            "Nodes",
            vec![curve(table, "alive_nodes", "alive"), curve(table, "members", "ring members")],
        ),
        chart(
            &format!("{name}: traffic"),
            "Messages per second",
            vec![curve(table, "messages_per_s", "messages sent per second (since the last sample)")],
        ),
        chart(
            &format!("{name}: ring structure"),
            "Count",
            vec![
                curve(table, "rings", "rings (successor cycles)"),
                curve(table, "perfect_ring", "perfect ring (1 = yes)"),
                curve(table, "inconsistent_intervals", "inconsistent key ranges"),
            ],
        ),
    ]
}

/// Writes `timeseries.png` and `timeseries.svg` into `out`.
pub fn plot_timeseries(out: &Path, name: &str, table: &Table) -> Result<()> {
    save_charts(&out.join("timeseries"), &timeseries_charts(name, table))
}
