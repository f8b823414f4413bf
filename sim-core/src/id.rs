//! Node handles and ring identifiers.
//!
//! A [`NodeId`] is a dense index into the simulation's node arena: it names a
//! *process incarnation*, and is never reused, so a message addressed to a
//! crashed node can never reach a later joiner by accident. A [`RingId`] is a
//! position on the identifier ring, an integer modulo the [`IdSpace`]'s
//! modulus (2^64 by default, or any explicit modulus such as the 100 000 of
//! the PPL 2008 experiments).
//!
//! Every ring protocol needs the same modular interval tests; they live here,
//! are tested once at the wrap-around, and are used everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Dense index of a node (one process incarnation) in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl NodeId {
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A position on the identifier ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RingId(pub u64);

impl fmt::Display for RingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A node as other nodes know it: its arena handle and its ring position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    pub node: NodeId,
    pub id: RingId,
}

impl Peer {
    pub const fn new(node: NodeId, id: RingId) -> Self {
        Peer { node, id }
    }
}

/// The identifier space: integers modulo `modulus` (0 encodes 2^64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdSpace {
    modulus: u64,
}

impl Default for IdSpace {
    fn default() -> Self {
        IdSpace::full()
    }
}

impl IdSpace {
    /// The whole 64-bit space, modulus 2^64.
    pub const fn full() -> Self {
        IdSpace { modulus: 0 }
    }

    /// A space of 2^bits identifiers, 1 ≤ bits ≤ 64.
    pub fn bits(bits: u32) -> Self {
        assert!((1..=64).contains(&bits), "id space bits out of range: {bits}");
        if bits == 64 { IdSpace::full() } else { IdSpace { modulus: 1u64 << bits } }
    }

    /// An explicit modulus ≥ 2, e.g. 100 000.
    pub fn modulus(modulus: u64) -> Self {
        assert!(modulus >= 2, "id space modulus must be at least 2");
        IdSpace { modulus }
    }

    /// The number of identifiers, as a u128 so that 2^64 fits.
    pub fn size(self) -> u128 {
        if self.modulus == 0 { 1u128 << 64 } else { self.modulus as u128 }
    }

    /// Number of bits needed for an identifier: the finger table length of
    /// Chord (m), ⌈log2(size)⌉.
    pub fn finger_count(self) -> u32 {
        if self.modulus == 0 { 64 } else { 64 - (self.modulus - 1).leading_zeros() }
    }

    /// Reduces any u64 into the space.
    pub fn wrap(self, x: u64) -> RingId {
        if self.modulus == 0 { RingId(x) } else { RingId(x % self.modulus) }
    }

    /// Maps a uniform 64-bit draw onto the space without modulo bias worth
    /// mentioning (multiply-shift).
    pub fn from_uniform(self, x: u64) -> RingId {
        if self.modulus == 0 { RingId(x) } else { RingId(((x as u128 * self.modulus as u128) >> 64) as u64) }
    }

    /// Clockwise distance from `a` to `b`, in [0, size).
    pub fn distance(self, a: RingId, b: RingId) -> u64 {
        if self.modulus == 0 {
            b.0.wrapping_sub(a.0)
        } else if b.0 >= a.0 {
            b.0 - a.0
        } else {
            self.modulus - a.0 + b.0
        }
    }

    /// `a + delta` around the ring; `delta` may exceed the modulus.
    pub fn add(self, a: RingId, delta: u128) -> RingId {
        let sum = a.0 as u128 + delta;
        RingId((sum % self.size()) as u64)
    }

    /// x ∈ (a, b]. By convention (a, a] is the whole ring: a single node is
    /// responsible for every key.
    pub fn in_open_closed(self, x: RingId, a: RingId, b: RingId) -> bool {
        if a == b {
            return true;
        }
        let dx = self.distance(a, x);
        dx != 0 && dx <= self.distance(a, b)
    }

    /// x ∈ (a, b). By convention (a, a) is the whole ring except a.
    pub fn in_open_open(self, x: RingId, a: RingId, b: RingId) -> bool {
        if a == b {
            return x != a;
        }
        let dx = self.distance(a, x);
        dx != 0 && dx < self.distance(a, b)
    }

    /// x ∈ [a, b). By convention [a, a) is the whole ring.
    pub fn in_closed_open(self, x: RingId, a: RingId, b: RingId) -> bool {
        if a == b {
            return true;
        }
        self.distance(a, x) < self.distance(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: u64) -> RingId {
        RingId(x)
    }

    #[test]
    fn intervals_wrap_around_in_an_explicit_modulus() {
        let s = IdSpace::modulus(100);
        // (90, 10] wraps through zero.
        assert!(s.in_open_closed(r(95), r(90), r(10)));
        assert!(s.in_open_closed(r(0), r(90), r(10)));
        assert!(s.in_open_closed(r(10), r(90), r(10)));
        assert!(!s.in_open_closed(r(90), r(90), r(10)));
        assert!(!s.in_open_closed(r(50), r(90), r(10)));
        assert!(!s.in_open_open(r(10), r(90), r(10)));
        assert!(s.in_open_open(r(9), r(90), r(10)));
        assert!(s.in_closed_open(r(90), r(90), r(10)));
        assert!(!s.in_closed_open(r(10), r(90), r(10)));
        assert_eq!(s.distance(r(90), r(10)), 20);
        assert_eq!(s.distance(r(10), r(90)), 80);
        assert_eq!(s.add(r(90), 15), r(5));
    }

    #[test]
    fn intervals_wrap_around_in_the_full_space() {
        let s = IdSpace::full();
        let hi = r(u64::MAX - 5);
        assert!(s.in_open_closed(r(0), hi, r(3)));
        assert!(s.in_open_closed(r(u64::MAX), hi, r(3)));
        assert!(!s.in_open_closed(r(4), hi, r(3)));
        assert_eq!(s.distance(hi, r(3)), 9);
        assert_eq!(s.add(hi, 1 << 64), hi);
        assert_eq!(s.finger_count(), 64);
    }

    #[test]
    fn degenerate_intervals_follow_the_single_node_convention() {
        let s = IdSpace::modulus(100);
        assert!(s.in_open_closed(r(7), r(3), r(3)));
        assert!(s.in_open_closed(r(3), r(3), r(3)));
        assert!(s.in_open_open(r(7), r(3), r(3)));
        assert!(!s.in_open_open(r(3), r(3), r(3)));
    }

    #[test]
    fn finger_count_is_the_ceiling_log2() {
        assert_eq!(IdSpace::bits(12).finger_count(), 12);
        assert_eq!(IdSpace::modulus(100_000).finger_count(), 17);
        assert_eq!(IdSpace::modulus(2).finger_count(), 1);
    }

    #[test]
    fn uniform_draws_stay_in_range() {
        let s = IdSpace::modulus(100_000);
        assert_eq!(s.from_uniform(u64::MAX).0, 99_999);
        assert_eq!(s.from_uniform(0).0, 0);
        assert_eq!(IdSpace::full().from_uniform(42).0, 42);
    }
}
