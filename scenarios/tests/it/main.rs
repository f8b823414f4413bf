//! Scenario-level tests: the command line, determinism, and the papers'
//! claims measured through the full runner.

mod bad_input;
mod check;
mod chord_paper;
mod cli;
mod explore;
mod figures;
mod golden;
mod gossip;
mod layers;
mod merge;
mod outputs;
mod palta_paper;
mod ppl_paper;
mod readme;
mod stale;
mod support;
mod sweep;
