//! The event queue: events ordered by (time, insertion sequence).
//!
//! Ties at one instant break by the order in which events were scheduled,
//! never by a hash or an address, so the order of a run is a function of the
//! seed alone.
//!
//! Simulated time never goes back, which makes a *radix heap* legal: it is
//! the fastest of the candidates measured by `benches/event_queue.rs` (see
//! BENCHMARKS.md). This one is keyed by time alone: bucket b holds the events
//! whose time differs from `last` (the time being drained) first in bit b,
//! and `current` holds the events at `last` itself, sorted by sequence
//! number. An event scheduled at `last` is the newest, so it joins the back
//! of `current` and the order holds. Popping from an empty `current` finds
//! the lowest non-empty bucket, moves `last` to its earliest time, and
//! redistributes that bucket into lower ones. Every event moves at most 64
//! times in its life; a pop costs O(1) amortized plus that.
//!
//! A bucket that held many events keeps its memory after it is drained only
//! while all the buckets together hold at most twice the pending events (the
//! `radix-heap` crate keeps every bucket at its peak, which cost several
//! times the live data here; dropping every large buffer instead made the
//! buckets regrow by doublings, whose copies were 9 % of the instructions of
//! `bench-chord-churn`). Peeking at the next time scans the lowest
//! bucket without moving `last`, so events may still be scheduled anywhere
//! at or after the present.
//!
//! Cancellation is lazy: a cancelled timer or the departure of a node that
//! already crashed stays in the queue and is skipped when popped, which is
//! cheaper than keyed removal.

use crate::time::SimTime;
use std::collections::VecDeque;

/// Buckets at most this long keep their allocation after being drained.
const KEEP_CAPACITY: usize = 1024;

/// A min-queue of events keyed by (time, sequence number).
pub struct EventQueue<E> {
    /// The time of the events in `current`; no pending event is earlier.
    last: u64,
    /// Events at `last`, by increasing sequence number.
    current: VecDeque<(u64, E)>,
    buckets: [Vec<(u64, u64, E)>; 64],
    len: usize,
    next_sequence: u64,
    /// The earliest pending time, when known (only while `current` is empty).
    cached_minimum: Option<u64>,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("pending", &self.len)
            .field("last", &self.last)
            .field("next_sequence", &self.next_sequence)
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
        EventQueue {
            last: 0,
            current: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            len: 0,
            next_sequence: 0,
            cached_minimum: None,
        }
    }

    /// Schedules `event` at `at`; an instant before the last popped event is
    /// moved to that instant (time never goes back).
    pub fn push(&mut self, at: SimTime, event: E) {
        let at = at.0.max(self.last);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.len += 1;
        if at == self.last {
            self.current.push_back((sequence, event));
            // The cache speaks of the buckets while `current` is empty only.
            self.cached_minimum = None;
        } else {
            self.buckets[bucket_of(at, self.last)].push((at, sequence, event));
            if let Some(minimum) = self.cached_minimum.as_mut() {
                *minimum = (*minimum).min(at);
            }
        }
    }

    /// Removes the earliest event; among equal times, the first scheduled.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.current.is_empty() {
            self.refill()?;
        }
        let (_, event) = self.current.pop_front()?;
        self.len -= 1;
        Some((SimTime(self.last), event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        if !self.current.is_empty() {
            return Some(SimTime(self.last));
        }
        if self.cached_minimum.is_none() {
            let bucket = self.buckets.iter().find(|b| !b.is_empty())?;
            self.cached_minimum = bucket.iter().map(|&(at, _, _)| at).min();
        }
        self.cached_minimum.map(SimTime)
    }

    /// Moves `last` to the earliest pending time and fills `current` with
    /// the events at it. None when the queue is empty.
    fn refill(&mut self) -> Option<()> {
        let index = self.buckets.iter().position(|b| !b.is_empty())?;
        let mut bucket = std::mem::take(&mut self.buckets[index]);
        let minimum = match self.cached_minimum.take() {
            Some(minimum) => minimum,
            None => bucket.iter().map(|&(at, _, _)| at).min()?,
        };
        self.last = minimum;
        for (at, sequence, event) in bucket.drain(..) {
            if at == minimum {
                self.current.push_back((sequence, event));
            } else {
                // Lower than `index`: the bits above it agree with `minimum`.
                self.buckets[bucket_of(at, minimum)].push((at, sequence, event));
            }
        }
        if bucket.capacity() <= KEEP_CAPACITY || self.retained_capacity() + bucket.capacity() <= 2 * self.len {
            self.buckets[index] = bucket;
        }
        self.current.make_contiguous().sort_unstable_by_key(|&(sequence, _)| sequence);
        Some(())
    }

    /// The buckets' buffers, in events.
    fn retained_capacity(&self) -> usize {
        self.buckets.iter().map(Vec::capacity).sum()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The bucket of time `at` relative to `last` (at ≠ last): the highest bit in
/// which they differ.
fn bucket_of(at: u64, last: u64) -> usize {
    63 - (at ^ last).leading_zeros() as usize
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
        q.push(SimTime(12), 3);
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(q.pop(), Some((SimTime(10), 2)));
        assert_eq!(q.pop(), Some((SimTime(12), 3)));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn a_peek_does_not_stop_earlier_events_from_coming_first() {
        let mut q = EventQueue::new();
        q.push(SimTime(100), "late");
        q.push(SimTime(1), "first");
        assert_eq!(q.pop(), Some((SimTime(1), "first")));
        assert_eq!(q.peek_time(), Some(SimTime(100)));
        // The present is still 1: earlier events than the peeked one are legal.
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
        for round in 0..50_000 {
            if round % 3 != 0 || reference.is_empty() {
                // Many ties: delays from a small range, and some at `now`.
                let at = now + rng.below(64) * rng.below(3);
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
            assert_eq!(q.len(), reference.len());
        }
        while let Some((at, s)) = reference.pop_first() {
            assert_eq!(q.pop(), Some((SimTime(at), s)));
        }
        assert!(q.is_empty());
    }
}
