//! A progress bar over many independent runs: runs done, ETA and the
//! slowest run so far. Hidden when asked to be quiet or when stderr is not a
//! terminal (indicatif draws nothing then). Wall time only reaches the bar,
//! never a run.

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
