//! Scenarios, the runner, the oracle metrics and the `overlaysim` command.
//!
//! A scenario file (TOML) names a protocol, its parameters, the network and
//! failure-detector models, churn, a workload and scheduled faults. The
//! runner turns it into one deterministic simulation and the oracle measures
//! it; the command line writes the results as CSV.

pub mod api;
pub mod check;
pub mod cli;
pub mod config;
pub mod explore;
pub mod figures;
pub mod gossip;
pub mod library;
pub mod output;
pub mod plots;
pub mod progress;
pub mod provenance;
pub mod rings;
pub mod runner;
pub mod shrink;
pub mod sweep;
pub mod verify;
