//! Event-queue candidates under the classic "hold" model.
//!
//! The queue is prefilled with P pending events at uniform random times in
//! [0, 1 s); then each operation pops the minimum and pushes one new event at
//! (popped time + delay), the delay exponential with mean 50 ms, in integer
//! microseconds. The queue size stays at P. Keys are (time_us, sequence),
//! ties broken by sequence; the payload is 48 bytes (`[u64; 6]`).
//!
//! Each candidate is prefilled once per benchmark (and then run for P untimed
//! hold operations to reach the steady state); every measured iteration does
//! `K` pop+push pairs on the same live queue, so the reported time per
//! iteration divided by `K` is the cost of one pop+push.
//!
//! The delays and the random indices are drawn from a seeded
//! `sim_core::rng::Stream` ahead of time into small tables that the measured
//! loop cycles through, so the cost of ChaCha8 and of the logarithm is not
//! part of what is measured.
//!
//! Group `remove` measures eager cancellation with `priority-queue`: remove a
//! random pending event by key, then push a replacement (size stays at P).
//!
//! Run with `cargo bench -p sim-core --bench event_queue`.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dary_heap::QuaternaryHeap;
use priority_queue::PriorityQueue;
use radix_heap::RadixHeapMap;
use sim_core::SimTime;
use sim_core::queue::EventQueue;
use sim_core::rng::{Draw, Purpose, Stream};

/// A realistic event size.
type Payload = [u64; 6];
/// Min-order key: (time in microseconds, sequence number).
type Key = Reverse<(u64, u64)>;

/// Pop+push pairs per measured iteration.
const K: u64 = 10_000;
/// Queue sizes.
const SIZES: [usize; 2] = [100_000, 1_000_000];
/// Prefill times are uniform in [0, HORIZON_US).
const HORIZON_US: u64 = 1_000_000;
/// Mean of the exponential hold delay, in milliseconds.
const MEAN_DELAY_MS: f64 = 50.0;
/// Length of the pre-drawn tables (a power of two; 512 KiB of u64).
const TABLE: usize = 1 << 16;
const SEED: u64 = 2024;

/// The interface every candidate is driven through (monomorphised, so each
/// candidate runs the same loop).
trait HoldQueue {
    fn new() -> Self;
    /// Schedules an event at `time`; the payload's first word is set to the
    /// event's sequence number (its insertion index).
    fn push(&mut self, time: u64, payload: Payload);
    /// Removes the earliest event (ties: smallest sequence).
    fn pop(&mut self) -> Option<(u64, Payload)>;
    fn len(&self) -> usize;
}

/// A heap entry ordered by key only.
struct Entry {
    key: Key,
    payload: Payload,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// The binary max-heaps compared (std's and the 4-ary one), over
/// `Reverse((time, seq))` keys.
trait MaxHeap: Default {
    fn push(&mut self, entry: Entry);
    fn pop(&mut self) -> Option<Entry>;
    fn len(&self) -> usize;
}

impl MaxHeap for BinaryHeap<Entry> {
    fn push(&mut self, entry: Entry) {
        BinaryHeap::push(self, entry)
    }
    fn pop(&mut self) -> Option<Entry> {
        BinaryHeap::pop(self)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
}

impl MaxHeap for QuaternaryHeap<Entry> {
    fn push(&mut self, entry: Entry) {
        QuaternaryHeap::push(self, entry)
    }
    fn pop(&mut self) -> Option<Entry> {
        QuaternaryHeap::pop(self)
    }
    fn len(&self) -> usize {
        QuaternaryHeap::len(self)
    }
}

/// Candidates 1 and 2: a comparison heap with a sequence counter.
struct Comparison<H> {
    heap: H,
    seq: u64,
}

impl<H: MaxHeap> HoldQueue for Comparison<H> {
    fn new() -> Self {
        Comparison { heap: H::default(), seq: 0 }
    }
    #[inline]
    fn push(&mut self, time: u64, mut payload: Payload) {
        payload[0] = self.seq;
        self.heap.push(Entry { key: Reverse((time, self.seq)), payload });
        self.seq += 1;
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        self.heap.pop().map(|e| (e.key.0.0, e.payload))
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

type StdBinary = Comparison<BinaryHeap<Entry>>;
type Dary4 = Comparison<QuaternaryHeap<Entry>>;

/// The item of `priority-queue`: unique by sequence number, carrying the
/// payload. Hash and equality look at the sequence only, so `&u64` can be
/// used to look an item up (`Borrow<u64>`).
struct Item {
    seq: u64,
    payload: Payload,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Item {}
impl Hash for Item {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seq.hash(state);
    }
}
impl std::borrow::Borrow<u64> for Item {
    fn borrow(&self) -> &u64 {
        &self.seq
    }
}

/// A cheap deterministic hasher for unique u64 keys (Fx-style multiply), to
/// show `priority-queue` without the cost of the default SipHash.
#[derive(Default)]
struct MulHasher(u64);

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// Candidate 3: `priority_queue::PriorityQueue`, item = sequence, priority =
/// key; the hasher is a type parameter (std's `RandomState` by default).
struct Keyed<S> {
    queue: PriorityQueue<Item, Key, S>,
    seq: u64,
}

impl<S: std::hash::BuildHasher + Default> Keyed<S> {
    /// Eager cancellation: removes a pending event by its sequence number.
    #[inline]
    fn remove(&mut self, seq: u64) -> Option<(u64, Payload)> {
        self.queue.remove(&seq).map(|(item, key)| (key.0.0, item.payload))
    }
}

impl<S: std::hash::BuildHasher + Default> HoldQueue for Keyed<S> {
    fn new() -> Self {
        Keyed { queue: PriorityQueue::with_default_hasher(), seq: 0 }
    }
    #[inline]
    fn push(&mut self, time: u64, mut payload: Payload) {
        payload[0] = self.seq;
        self.queue.push(Item { seq: self.seq, payload }, Reverse((time, self.seq)));
        self.seq += 1;
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        self.queue.pop().map(|(item, key)| (key.0.0, item.payload))
    }
    fn len(&self) -> usize {
        self.queue.len()
    }
}

type KeyedSip = Keyed<std::hash::RandomState>;
type KeyedMul = Keyed<BuildHasherDefault<MulHasher>>;

/// Candidate 4: `radix_heap::RadixHeapMap`, used directly (legal here: every
/// push is at or after the last popped time, and sequences only grow).
struct Radix {
    heap: RadixHeapMap<Key, Payload>,
    seq: u64,
}

impl HoldQueue for Radix {
    fn new() -> Self {
        Radix { heap: RadixHeapMap::new(), seq: 0 }
    }
    #[inline]
    fn push(&mut self, time: u64, mut payload: Payload) {
        payload[0] = self.seq;
        self.heap.push(Reverse((time, self.seq)), payload);
        self.seq += 1;
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        self.heap.pop().map(|(key, payload)| (key.0.0, payload))
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

/// Candidate 5: our `EventQueue` (radix heap plus a side heap below its
/// floor). It numbers events itself; `seq` mirrors that numbering in the
/// payload.
struct Ours {
    queue: EventQueue<Payload>,
    seq: u64,
}

impl HoldQueue for Ours {
    fn new() -> Self {
        Ours { queue: EventQueue::new(), seq: 0 }
    }
    #[inline]
    fn push(&mut self, time: u64, mut payload: Payload) {
        payload[0] = self.seq;
        self.queue.push(SimTime(time), payload);
        self.seq += 1;
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        self.queue.pop().map(|(at, payload)| (at.0, payload))
    }
    fn len(&self) -> usize {
        self.queue.len()
    }
}

/// Pre-drawn random numbers, cycled through by the measured loops.
struct Tables {
    /// Exponential delays (mean 50 ms), integer microseconds.
    delays: Vec<u64>,
    /// Uniform 64-bit words (for random indices).
    words: Vec<u64>,
    next: usize,
}

impl Tables {
    fn new(seed: u64) -> Self {
        let mut rng = Stream::new(seed, Purpose::Workload);
        // Converted to integer microseconds (rounded) as the engine does.
        let delays = (0..TABLE).map(|_| SimTime::from_millis_f64(rng.exponential(MEAN_DELAY_MS)).as_micros()).collect();
        let words = (0..TABLE).map(|_| rng.next_word()).collect();
        Tables { delays, words, next: 0 }
    }

    #[inline]
    fn delay(&mut self) -> u64 {
        let d = self.delays[self.next];
        self.next = (self.next + 1) & (TABLE - 1);
        d
    }

    /// Uniform in [0, n) (multiply-high; the bias is negligible here).
    #[inline]
    fn index(&mut self, n: usize) -> usize {
        let w = self.words[self.next];
        self.next = (self.next + 1) & (TABLE - 1);
        ((u128::from(w) * n as u128) >> 64) as usize
    }
}

/// A queue of `p` events at uniform times in [0, 1 s), then `warm` untimed
/// hold operations.
fn prefilled<Q: HoldQueue>(p: usize, warm: usize, tables: &mut Tables) -> Q {
    let mut rng = Stream::new(SEED, Purpose::Scenario);
    let mut q = Q::new();
    for i in 0..p {
        q.push(rng.below(HORIZON_US), [i as u64; 6]);
    }
    for _ in 0..warm {
        hold_once(&mut q, tables);
    }
    assert_eq!(q.len(), p);
    q
}

/// One hold operation: pop the minimum, push it back later.
#[inline(always)]
fn hold_once<Q: HoldQueue>(q: &mut Q, tables: &mut Tables) -> u64 {
    let (at, payload) = q.pop().expect("the queue is never empty");
    q.push(at + tables.delay(), payload);
    at
}

fn bench_hold<Q: HoldQueue>(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str, p: usize) {
    // Built lazily so that a filtered-out benchmark does not prefill.
    let mut state: Option<(Q, Tables)> = None;
    group.bench_function(BenchmarkId::new(name, p), |b| {
        let (q, tables) = state.get_or_insert_with(|| {
            let mut tables = Tables::new(SEED ^ p as u64);
            let q = prefilled::<Q>(p, p, &mut tables);
            (q, tables)
        });
        b.iter(|| {
            let mut last = 0;
            for _ in 0..K {
                last = hold_once(q, tables);
            }
            last
        });
    });
}

fn hold(c: &mut Criterion) {
    check_candidates_agree();
    let mut group = c.benchmark_group("hold");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(K));
    for p in SIZES {
        bench_hold::<StdBinary>(&mut group, "binary_heap", p);
        bench_hold::<Dary4>(&mut group, "dary_heap4", p);
        bench_hold::<KeyedSip>(&mut group, "priority_queue", p);
        bench_hold::<KeyedMul>(&mut group, "priority_queue_mulhash", p);
        bench_hold::<Radix>(&mut group, "radix_heap", p);
        bench_hold::<Ours>(&mut group, "event_queue", p);
    }
    group.finish();
}

/// Eager cancellation at P = 10^6: remove a random pending event by key and
/// push a replacement at a random time in the pending range (the size stays
/// at P). `pending` lists the sequence numbers in the queue.
fn bench_remove<S: std::hash::BuildHasher + Default>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    p: usize,
) {
    let mut state: Option<(Keyed<S>, Tables, Vec<u64>)> = None;
    group.bench_function(BenchmarkId::new(name, p), |b| {
        let (q, tables, pending) = state.get_or_insert_with(|| {
            let mut tables = Tables::new(SEED ^ p as u64);
            let q = prefilled::<Keyed<S>>(p, p, &mut tables);
            let pending: Vec<u64> = q.queue.iter().map(|(item, _)| item.seq).collect();
            (q, tables, pending)
        });
        let base = q.queue.peek().map_or(0, |(_, key)| key.0.0);
        b.iter(|| {
            let mut last = 0;
            for _ in 0..K {
                let i = tables.index(pending.len());
                let seq = pending.swap_remove(i);
                let (at, payload) = q.remove(seq).expect("pending");
                pending.push(q.seq);
                q.push(base + tables.index(HORIZON_US as usize) as u64, payload);
                last = at;
            }
            last
        });
    });
}

fn remove(c: &mut Criterion) {
    let mut group = c.benchmark_group("remove");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(K));
    bench_remove::<std::hash::RandomState>(&mut group, "priority_queue", 1_000_000);
    bench_remove::<BuildHasherDefault<MulHasher>>(&mut group, "priority_queue_mulhash", 1_000_000);
    group.finish();
}

/// The pops of a small random workload (holds, extra pushes and extra pops,
/// with ties in time) as (time, sequence) keys.
fn workload<Q: HoldQueue>() -> Vec<(u64, u64)> {
    let mut rng = Stream::new(SEED, Purpose::Churn);
    let mut q = Q::new();
    let mut out = Vec::new();
    let mut now = 0;
    for i in 0..2_000u64 {
        // Coarse times, so that many events share an instant.
        q.push(rng.below(1_000) * 100, [i; 6]);
    }
    for _ in 0..60_000 {
        let r = rng.below(10);
        if r < 6 || q.len() == 0 {
            // Hold, or a plain push when empty; delay 0 forces ties.
            if let Some((at, payload)) = q.pop() {
                out.push((at, payload[0]));
                now = at;
            }
            let delay = if rng.chance(0.1) { 0 } else { rng.exponential(5_000.0) as u64 };
            q.push(now + delay, [0; 6]);
        } else if r < 8 {
            q.push(now + rng.below(3) * 1_000, [0; 6]);
        } else if let Some((at, payload)) = q.pop() {
            out.push((at, payload[0]));
            now = at;
        }
    }
    while let Some((at, payload)) = q.pop() {
        out.push((at, payload[0]));
    }
    out
}

/// All candidates must pop the same keys, in (time, sequence) order, and
/// every key pushed must come out once.
fn check_candidates_agree() {
    let reference = workload::<StdBinary>();
    assert!(reference.len() > 50_000);
    assert!(reference.windows(2).all(|w| w[0] < w[1]), "binary_heap pops out of order");
    let unique: BTreeSet<u64> = reference.iter().map(|&(_, seq)| seq).collect();
    assert_eq!(unique.len(), reference.len());
    assert_eq!(unique.last().copied(), Some(reference.len() as u64 - 1));
    assert!(reference.windows(2).any(|w| w[0].0 == w[1].0), "the workload has no ties");
    assert_eq!(workload::<Dary4>(), reference, "dary_heap4 disagrees");
    assert_eq!(workload::<KeyedSip>(), reference, "priority_queue disagrees");
    assert_eq!(workload::<KeyedMul>(), reference, "priority_queue_mulhash disagrees");
    assert_eq!(workload::<Radix>(), reference, "radix_heap disagrees");
    assert_eq!(workload::<Ours>(), reference, "event_queue disagrees");
    black_box(&reference);
}

criterion_group!(benches, hold, remove);
criterion_main!(benches);
