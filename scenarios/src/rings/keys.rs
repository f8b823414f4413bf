//! The key store of a ring run (`workload.keys`): which live node holds
//! each stored key, as Chord stores keys without replication (SIGCOMM 2001
//! §6.3; ToN 2003 §IV).
//!
//! Each key is held by one node. At time 0, or when the first node that
//! can hold it appears, that is the key's true successor. At every sample
//! a key whose holder lives moves to its current true successor: the
//! handover of a join, or of a graceful leave, which the successor takes
//! over. A key whose holder has crashed is lost for good; nothing
//! replicates it. A lookup for a lost key can only fail: that is what the
//! paper's Fig. 11 counts, kept apart here from lookups that reach the
//! wrong node (`lookups_wrong_node`) or get no answer (`lookups_failed`).
//!
//! Handover happens at samples. A holder that crashes between a joiner's
//! arrival and the next sample therefore loses the keys the joiner would
//! have taken. Sample often where churn is fast.

use super::oracle;
use protocols::RingView;
use sim_core::rng::{Draw, Purpose, Stream};
use sim_core::{NodeId, Protocol, RingId, Simulation};

/// Where a stored key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holder {
    /// Not placed yet: no node was alive to take it.
    Unplaced,
    At(NodeId),
    /// Its holder crashed.
    Lost,
}

/// The stored keys, sorted, and their holders.
#[derive(Clone, Debug)]
pub(super) struct KeyStore {
    keys: Vec<RingId>,
    holders: Vec<Holder>,
}

impl KeyStore {
    /// `count` keys drawn uniformly (distinct; a repeat is dropped) from
    /// the run's own stream, placed at their true successors.
    pub(super) fn new<P: Protocol + RingView>(sim: &Simulation<P>, count: u32, seed: u64) -> Self {
        let mut rng = Stream::new(seed, Purpose::StoredKeys);
        let space = sim.space();
        let mut keys: Vec<RingId> = (0..count).map(|_| space.from_uniform(rng.next_word())).collect();
        keys.sort_unstable();
        keys.dedup();
        let holders = vec![Holder::Unplaced; keys.len()];
        let mut store = KeyStore { keys, holders };
        store.hand_over(sim);
        store
    }

    /// A key to look up: one of the stored ones, uniformly (a store holds
    /// at least one key: `workload.keys` > 0).
    pub(super) fn pick(&self, rng: &mut Stream) -> RingId {
        self.keys[rng.below(self.keys.len() as u64) as usize]
    }

    /// Whether `key` is stored and lost (its holder crashed); marks it so.
    pub(super) fn is_lost<P: Protocol>(&mut self, sim: &Simulation<P>, key: RingId) -> bool {
        let Ok(index) = self.keys.binary_search(&key) else { return false };
        if let Holder::At(node) = self.holders[index]
            && !sim.is_alive(node)
        {
            self.holders[index] = Holder::Lost;
        }
        self.holders[index] == Holder::Lost
    }

    /// Every key whose holder lives moves to its true successor now; a key
    /// whose holder crashed is lost.
    pub(super) fn hand_over<P: Protocol + RingView>(&mut self, sim: &Simulation<P>) {
        for (key, holder) in self.keys.iter().zip(self.holders.iter_mut()) {
            *holder = match *holder {
                Holder::At(node) if !sim.is_alive(node) => Holder::Lost,
                Holder::Lost => Holder::Lost,
                Holder::At(_) | Holder::Unplaced => match oracle::true_successor(sim, *key) {
                    Some(node) => Holder::At(node),
                    None => *holder,
                },
            };
        }
    }

    /// How many keys are stored, and how many of them are lost.
    pub(super) fn counts(&self) -> (usize, usize) {
        (self.keys.len(), self.holders.iter().filter(|h| **h == Holder::Lost).count())
    }
}
