//! Protocol tests: each protocol driven by the real engine at small N.

mod chord;
mod dks;
mod harness;
mod relaxed_ring;
