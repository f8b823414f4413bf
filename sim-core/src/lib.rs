//! The overlaysim engine, protocol-agnostic.
//!
//! A deterministic discrete-event simulator: one seed drives every random
//! choice, time is an integer, ties break by insertion order, and protocols
//! are pure state machines (see [`protocol::Protocol`]). The same scenario
//! and seed give the same run, bit for bit, on any machine.

pub mod churn;
pub mod detector;
pub mod explore;
pub mod id;
pub mod memory;
pub mod network;
pub mod protocol;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;
pub mod trace;

pub use id::{IdSpace, NodeId, Peer, RingId};
pub use protocol::{Ctx, Effect, Message, Protocol};
pub use rng::{Draw, NodeRng, Purpose, Stream};
pub use sim::{FaultRecord, SimConfig, SimCounters, Simulation};
pub use time::SimTime;
