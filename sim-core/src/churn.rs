//! Churn: joins, crashes and graceful leaves.
//!
//! Two models, combinable. Poisson rates: joins, crashes and leaves arrive as
//! independent Poisson processes over the whole system (a crash or leave hits
//! a live node chosen uniformly). Session times: every node, when it starts,
//! draws how long it stays (exponential, Pareto or Weibull) and then departs,
//! gracefully with probability `session_leave_fraction`, by crashing
//! otherwise. An explicit schedule (`at_s`, what) is the scenario's business:
//! it calls `Simulation::spawn`, `crash` and `leave` at the stated instants.

use crate::rng::Draw;
use crate::time::SimTime;

/// The distribution of a node's session length.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionTime {
    Exponential {
        mean_s: f64,
    },
    /// Pareto type I: `scale_s` is the minimum session, `shape` > 1 for a
    /// finite mean.
    Pareto {
        shape: f64,
        scale_s: f64,
    },
    Weibull {
        shape: f64,
        scale_s: f64,
    },
}

impl SessionTime {
    pub fn draw(&self, rng: &mut impl Draw) -> SimTime {
        let seconds = match *self {
            SessionTime::Exponential { mean_s } => rng.exponential(mean_s),
            SessionTime::Pareto { shape, scale_s } => rng.pareto(shape, scale_s),
            SessionTime::Weibull { shape, scale_s } => rng.weibull(shape, scale_s),
        };
        SimTime::from_secs_f64(seconds).max(SimTime(1))
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChurnConfig {
    pub joins_per_s: f64,
    pub crashes_per_s: f64,
    pub leaves_per_s: f64,
    pub session: Option<SessionTime>,
    /// Probability that a session ends with a graceful leave.
    pub session_leave_fraction: f64,
}

/// The Poisson churn processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChurnKind {
    Join,
    Crash,
    Leave,
}

impl ChurnConfig {
    pub fn rate_per_s(&self, kind: ChurnKind) -> f64 {
        match kind {
            ChurnKind::Join => self.joins_per_s,
            ChurnKind::Crash => self.crashes_per_s,
            ChurnKind::Leave => self.leaves_per_s,
        }
    }

    /// The gap to the next event of a Poisson process, None when it is off.
    pub fn next_in(&self, kind: ChurnKind, rng: &mut impl Draw) -> Option<SimTime> {
        let rate = self.rate_per_s(kind);
        (rate > 0.0).then(|| SimTime::from_secs_f64(rng.exponential(1.0 / rate)).max(SimTime(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    #[test]
    fn poisson_gaps_have_mean_one_over_rate() {
        let config = ChurnConfig { crashes_per_s: 4.0, ..ChurnConfig::default() };
        let mut rng = Stream::new(3, Purpose::Churn);
        assert_eq!(config.next_in(ChurnKind::Join, &mut rng), None);
        let n = 20_000;
        let mean =
            (0..n).map(|_| config.next_in(ChurnKind::Crash, &mut rng).unwrap().as_secs_f64()).sum::<f64>() / n as f64;
        assert!((mean - 0.25).abs() < 0.01, "mean gap {mean}");
    }

    #[test]
    fn session_times_are_positive() {
        let mut rng = Stream::new(3, Purpose::Churn);
        for session in [
            SessionTime::Exponential { mean_s: 10.0 },
            SessionTime::Pareto { shape: 2.0, scale_s: 5.0 },
            SessionTime::Weibull { shape: 0.5, scale_s: 10.0 },
        ] {
            for _ in 0..1000 {
                assert!(session.draw(&mut rng) > SimTime::ZERO);
            }
        }
        let pareto = SessionTime::Pareto { shape: 2.0, scale_s: 5.0 };
        assert!((0..1000).all(|_| pareto.draw(&mut rng) >= SimTime::from_secs(5)));
    }
}
