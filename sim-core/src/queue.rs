//! The event queue: events ordered by (time, insertion sequence).
//!
//! Ties at one instant break by the order in which events were scheduled,
//! never by a hash or an address, so the order of a run is a function of the
//! seed alone. Simulated time never goes back, which makes a radix heap legal:
//! it is the fastest of the candidates measured by `benches/event_queue.rs`
//! (std `BinaryHeap`, a 4-ary heap, `priority-queue` and `radix-heap`; the
//! numbers are in BENCHMARKS.md). Cancellation is lazy: a cancelled timer or
//! a departure of a node that already crashed stays in the queue and is
//! skipped when popped, which is cheaper than keyed removal.
//!
//! A radix heap's floor is the smallest key it may still accept. Looking at
//! the next event raises that floor to the next event's time, yet the
//! scenario may then schedule something earlier (it acts at an instant
//! before the next pending event). Such events go to a small binary heap
//! beside the radix heap; both hold (time, sequence) keys, so the merged
//! order is exact.

use crate::time::SimTime;
use radix_heap::RadixHeapMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An event below the radix heap's floor, ordered for a max-heap.
struct Early<E> {
    key: Reverse<(u64, u64)>,
    event: E,
}

impl<E> PartialEq for Early<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Early<E> {}
impl<E> PartialOrd for Early<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Early<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A min-queue of events keyed by (time, sequence number).
pub struct EventQueue<E> {
    heap: RadixHeapMap<Reverse<(u64, u64)>, E>,
    early: BinaryHeap<Early<E>>,
    next_sequence: u64,
    /// The time of the last popped event: nothing may be scheduled before it.
    floor: SimTime,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("pending", &self.len())
            .field("next_sequence", &self.next_sequence)
            .field("floor", &self.floor)
            .finish()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: RadixHeapMap::new(), early: BinaryHeap::new(), next_sequence: 0, floor: SimTime::ZERO }
    }

    /// Schedules `event` at `at`; an instant in the past is moved to the
    /// present (the radix heap cannot hold keys below the last popped one).
    pub fn push(&mut self, at: SimTime, event: E) {
        let at = at.max(self.floor);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let key = Reverse((at.0, sequence));
        match self.heap.top() {
            Some(top) if key > top => self.early.push(Early { key, event }),
            _ => self.heap.push(key, event),
        }
    }

    /// Removes the earliest event; among equal times, the first scheduled.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let radix = self.radix_min();
        let from_early = match (self.early.peek(), radix) {
            (Some(early), Some(radix)) => early.key > radix,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (Reverse((at, _)), event) = if from_early {
            let Early { key, event } = self.early.pop()?;
            (key, event)
        } else {
            self.heap.pop()?
        };
        self.floor = SimTime(at);
        Some((SimTime(at), event))
    }

    /// The smallest key in the radix heap (this may raise its floor).
    fn radix_min(&mut self) -> Option<Reverse<(u64, u64)>> {
        if self.heap.is_empty() {
            return None;
        }
        self.heap.constrain();
        self.heap.top()
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        let early = self.early.peek().map(|e| e.key);
        let key = match (early, self.radix_min()) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b)?,
        };
        Some(SimTime(key.0.0))
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.early.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events scheduled so far (the next sequence number).
    pub fn scheduled(&self) -> u64 {
        self.next_sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_break_by_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "c");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "d");
        q.push(SimTime(1), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    #[test]
    fn the_past_is_clamped_to_the_present() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), 1);
        assert_eq!(q.pop(), Some((SimTime(10), 1)));
        q.push(SimTime(3), 2);
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(q.pop(), Some((SimTime(10), 2)));
        assert!(q.is_empty());
    }

    #[test]
    fn events_scheduled_below_a_peeked_floor_still_come_first() {
        let mut q = EventQueue::new();
        q.push(SimTime(100), "late");
        q.push(SimTime(1), "first");
        assert_eq!(q.pop(), Some((SimTime(1), "first")));
        // Peeking raises the radix floor to 100 ...
        assert_eq!(q.peek_time(), Some(SimTime(100)));
        // ... yet the present is still 1, and earlier events are legal.
        q.push(SimTime(50), "b");
        q.push(SimTime(20), "a");
        q.push(SimTime(100), "later");
        assert_eq!(q.peek_time(), Some(SimTime(20)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "late", "later"]);
    }

    #[test]
    fn a_random_workload_pops_in_key_order() {
        use crate::rng::{Draw, Purpose, Stream};
        let mut rng = Stream::new(11, Purpose::Scenario);
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeSet::new();
        let mut now = 0u64;
        let mut sequence = 0u64;
        for round in 0..20_000 {
            if round % 3 != 0 || reference.is_empty() {
                let at = now + rng.below(1_000);
                q.push(SimTime(at), sequence);
                reference.insert((at, sequence));
                sequence += 1;
            } else if round % 7 == 0 {
                let expected = reference.first().map(|&(at, _)| SimTime(at));
                assert_eq!(q.peek_time(), expected);
            } else {
                let (at, s) = reference.pop_first().unwrap();
                assert_eq!(q.pop(), Some((SimTime(at), s)));
                now = at;
            }
        }
        assert_eq!(q.len(), reference.len());
    }
}
