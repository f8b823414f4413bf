//! Protocol tests: each protocol driven by the real engine at small N.

mod chaos;
mod chord;
mod dks;
mod harness;
mod palta;
mod relaxed_ring;
