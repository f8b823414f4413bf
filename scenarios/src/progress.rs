//! Many independent runs in parallel, with a progress bar: runs done, ETA
//! and the slowest run so far. The bar is hidden when asked to be quiet or
//! when stderr is not a terminal (indicatif draws nothing then). Wall time
//! only reaches the bar, never a run; threads run whole runs, never share one.

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

#[derive(Debug)]
pub struct RunsBar {
    bar: ProgressBar,
    slowest: Mutex<(f64, String)>,
}

/// The wall clock, for progress only.
#[allow(clippy::disallowed_types)]
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    #[allow(clippy::disallowed_methods)] // shown on the bar, never reaches a run
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

impl RunsBar {
    pub fn new(runs: usize, quiet: bool) -> RunsBar {
        let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(runs as u64) };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs ({elapsed} wall, eta {eta}) {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        RunsBar { bar, slowest: Mutex::new((0.0, String::new())) }
    }

    /// One run finished after `wall_s` seconds.
    pub fn finished(&self, label: &str, wall_s: f64) {
        if let Ok(mut slowest) = self.slowest.lock()
            && wall_s > slowest.0
        {
            *slowest = (wall_s, label.to_string());
            self.bar.set_message(format!("slowest: {label} {wall_s:.1} s"));
        }
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs `work` on every item on a pool of `threads`, in any order, with a
/// bar; returns the failures as `label: error`, in item order.
pub fn run_all<T: Sync>(
    items: &[T],
    threads: usize,
    quiet: bool,
    label: impl Fn(&T) -> String + Sync,
    work: impl Fn(&T) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<Vec<String>> {
    use rayon::prelude::*;
    let bar = RunsBar::new(items.len(), quiet);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build()?;
    let failures = pool.install(|| {
        items
            .par_iter()
            .filter_map(|item| {
                let watch = Stopwatch::start();
                let outcome = work(item);
                let label = label(item);
                bar.finished(&label, watch.seconds());
                outcome.err().map(|e| format!("{label}: {e:#}"))
            })
            .collect()
    });
    bar.finish();
    Ok(failures)
}
