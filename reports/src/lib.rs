//! Reports: statistics over result tables, charts (PNG and SVG) and the
//! HTML report. This crate knows no protocol: it reads numbers.

pub mod files;
pub mod html;
pub mod plot;
pub mod ring;
pub mod stats;
