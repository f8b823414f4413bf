//! Overlay protocols as pure state machines over `sim-core`.
//!
//! Each protocol implements [`sim_core::Protocol`]; the ring protocols also
//! implement [`ring::RingProtocol`] so that one runner and one set of oracles
//! measure them all the same way.

pub mod chord;
pub mod dks;
pub mod fingers;
pub mod gossip;
pub mod merge;
pub mod palta;
pub mod relaxed_ring;
pub mod ring;

pub use ring::{Control, LookupOutcome, RingProtocol, RingView};
