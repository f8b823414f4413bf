//! Reports: statistics over result tables (and, next, plots and the HTML
//! report). This crate knows no protocol: it reads numbers.

pub mod stats;
