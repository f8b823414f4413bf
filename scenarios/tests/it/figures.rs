//! `overlaysim figures`: definitions, images, the report, resuming.

use crate::support::{overlaysim, stderr};
use std::fs;
use std::path::Path;

fn figures(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["figures", "--quick"];
    all.extend_from_slice(args);
    let output = overlaysim(&all, dir);
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_shipped_figure_is_valid_and_has_the_papers_points() {
    for (name, text) in scenarios::figures::BUILTIN {
        let spec = scenarios::figures::spec::FigureSpec::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&spec.name, name);
        for quick in [false, true] {
            assert!(!spec.seeds(quick).is_empty());
            assert!(spec.x.key.is_none() || !spec.x_values(quick).is_empty(), "{name}");
        }
        for chart in 0..spec.charts.len() {
            if spec.charts[chart].reference.is_some() {
                let points: usize = (0..spec.series.len())
                    .map(|s| scenarios::figures::reference_points(&spec, chart, s).unwrap().len())
                    .sum();
                assert!(points > 0, "{name}: chart {} matches no reference row", chart + 1);
            }
        }
    }
}

#[test]
fn a_quick_figure_draws_its_charts_writes_the_report_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = figures(dir.path(), &["--only", "chord-path-length", "--out", "one", "--jobs", "2"]);
    // Reference: SIGCOMM 2001, Fig. 10(a) — ±3 % at N = 128 … 1024.
    assert!(stdout.contains("chord-path-length        PASS"), "{stdout}");
    assert!(stdout.contains("0 runs done before, 12 run now"), "{stdout}");
    let out = dir.path().join("one");
    let png = fs::read(out.join("chord-path-length.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(out.join("chord-path-length.svg")).unwrap();
    assert!(svg.contains("Number of nodes") && svg.contains("SIGCOMM 2001"));
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<img src=\"chord-path-length.png\""));
    assert!(report.contains("class=\"pass\""));
    let points = fs::read_to_string(out.join("chord-path-length.csv")).unwrap();
    assert_eq!(points.lines().count(), 1 + 4, "{points}");
    // Started again: nothing runs, the same bytes come out.
    let again = figures(dir.path(), &["--only", "chord-path-length", "--out", "one"]);
    assert!(again.contains("12 runs done before, 0 run now"), "{again}");
    assert_eq!(fs::read(out.join("chord-path-length.png")).unwrap(), png);
    // One job gives the same numbers and the same pictures.
    figures(dir.path(), &["--only", "chord-path-length", "--out", "two", "--jobs", "1"]);
    let two = dir.path().join("two");
    assert_eq!(fs::read_to_string(two.join("chord-path-length.csv")).unwrap(), points);
    assert_eq!(fs::read(two.join("chord-path-length.png")).unwrap(), png);
}

#[test]
fn a_distribution_figure_averages_each_runs_shares() {
    let dir = tempfile::tempdir().unwrap();
    figures(dir.path(), &["--only", "chord-path-pdf", "--out", "pdf"]);
    let points = scenarios::output::read_csv(&dir.path().join("pdf/chord-path-pdf.csv")).unwrap();
    let means = points.column_f64("mean");
    assert!(means.len() >= 10, "{points:?}");
    let total: f64 = means.iter().sum();
    assert!((total - 1.0).abs() < 1e-6, "the shares sum to {total}");
    // Reference: SIGCOMM 2001, Fig. 10(b) — the mode is 6 nodes at N = 4096.
    let xs = points.column_f64("x");
    let mode = means.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| xs[i]);
    assert_eq!(mode, Some(6.0), "{points:?}");
}

#[test]
fn a_bad_figure_definition_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenarios::figures::BUILTIN[0].1.replace("seeds = \"1..10\"", "seeds = \"1..10\"\ncolour = \"red\"");
    fs::write(dir.path().join("bad.toml"), text).unwrap();
    let output = overlaysim(&["figures", "--only", "bad.toml", "--out", "out"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.starts_with("error: bad.toml: TOML parse error at line 13"), "{message}");
    assert!(message.contains("colour"), "{message}");
    assert!(!dir.path().join("out").exists(), "no output for bad input");
    let output = overlaysim(&["figures", "--only", "no-such-figure"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not a shipped figure"), "{}", stderr(&output));
}

#[test]
fn run_plot_draws_the_time_series() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", "quickstart", "--set", "nodes.initial=100", "--set", "duration_s=10", "--plot", "--quiet"];
    let output = overlaysim(&[&args[..], &["--out", "q"]].concat(), dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let svg = fs::read_to_string(dir.path().join("q/timeseries.svg")).unwrap();
    for text in ["Simulated time (s)", "Fraction of the key space", "Messages per second", "rings (successor cycles)"] {
        assert!(svg.contains(text), "{text} missing");
    }
    assert!(fs::read(dir.path().join("q/timeseries.png")).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn a_snapshot_draws_the_ring_with_its_branches_at_an_instant() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["snapshot", "ppl2008-bootstrap", "--set", "nodes.initial=80", "--set", "nodes.connectivity=0.7"];
    let output = overlaysim(&[&args[..], &["--at", "3", "--out", "pics/ring.svg"]].concat(), dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    // Reference: PPL 2008 §6 — with c < 1, joiners that cannot reach their
    // predecessor hang in branches.
    let in_branches: u32 =
        stdout.split(" members, ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(in_branches > 0, "{stdout}");
    let svg = fs::read_to_string(dir.path().join("pics/ring.svg")).unwrap();
    assert!(svg.contains("ppl2008-bootstrap at 3.000 s") && svg.contains("branch root"));
    assert!(dir.path().join("pics/ring.png").exists());
    // The same instant twice: the same picture.
    let again = overlaysim(&[&args[..], &["--at", "3", "--out", "pics/again.svg"]].concat(), dir.path());
    assert!(again.status.success());
    assert_eq!(fs::read(dir.path().join("pics/again.svg")).unwrap(), svg.into_bytes());
    // An instant after the end is bad input, named by its key.
    let late = overlaysim(&[&args[..], &["--at", "1000", "--out", "late.svg"]].concat(), dir.path());
    assert_eq!(late.status.code(), Some(2));
    assert!(stderr(&late).contains("output.snapshot_at_s: must be <= duration_s"), "{}", stderr(&late));
    assert!(!dir.path().join("late.svg").exists());
}
