//! `overlaysim explore`: small configurations of the ring protocols,
//! explored exhaustively (see [`sim_core::explore`]).
//!
//! Each configuration builds a [`World`] from the same state machines a run
//! uses: members in their converged state ([`RingProtocol::ideal`]),
//! joiners created with a contact, every node started. The property checked
//! at every state is lookup consistency (PPL 2008 §5): no key for which
//! two live members' lookups would name different responsible nodes, each
//! protocol saying what its lookups answer ([`RingView::lookup_answers`]).
//!
//! Shipped configurations, in an identifier space of 64:
//! - `join-race-3+2`: a perfect ring of 3 peers (0, 21, 42) and 2 joiners
//!   (28, 35) that join at once between the same two peers, through peer 0.
//! - `branch-root-crash-4`: a ring of 3 peers (0, 32, 48) and a joiner (16)
//!   whose link to its predecessor 0 is cut, so that it sits in a branch
//!   rooted at 32 once its join settles; then the root 32 crashes. The cut
//!   stays.

use crate::config::ProtocolName;
use protocols::chord::{Chord, ChordConfig};
use protocols::dks::{Dks, DksConfig};
use protocols::relaxed_ring::{RelaxedRing, RelaxedRingConfig};
use protocols::ring::{LookupAnswers, RingProtocol, RingView, lookup_conflict};
use sim_core::explore::{Explorable, ExploreOptions, Explored, FaultBudget, World, explore};
use sim_core::{IdSpace, NodeId, Peer, RingId};

/// A shipped starting configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    JoinRace,
    BranchRootCrash,
}

/// The configurations by name, with a line each.
pub const SETUPS: &[(&str, Setup, &str)] = &[
    ("join-race-3+2", Setup::JoinRace, "a perfect ring of 3 peers and 2 concurrent joiners between the same two"),
    (
        "branch-root-crash-4",
        Setup::BranchRootCrash,
        "a ring of 4 whose fourth peer sits in a branch (a cut link), then the branch root crashes",
    ),
];

/// The protocols `explore` can run.
pub const PROTOCOLS: &[ProtocolName] = &[ProtocolName::Chord, ProtocolName::RelaxedRing, ProtocolName::Dks];

pub fn setup_named(name: &str) -> Option<Setup> {
    SETUPS.iter().find(|(n, _, _)| *n == name).map(|&(_, setup, _)| setup)
}

const SPACE_BITS: u32 = 6;

/// Builds the starting world of `setup` for protocol `P`.
pub fn world<P: RingProtocol + Explorable>(setup: Setup, config: &P::Config, faults: FaultBudget) -> World<P> {
    let space = IdSpace::bits(SPACE_BITS);
    let (members, joiners, cut): (&[u64], &[u64], Option<(usize, usize)>) = match setup {
        Setup::JoinRace => (&[0, 21, 42], &[28, 35], None),
        // Node indices: 0 → id 0, 1 → 32, 2 → 48, 3 → the joiner 16.
        Setup::BranchRootCrash => (&[0, 32, 48], &[16], Some((3, 0))),
    };
    let ring: Vec<Peer> = members.iter().enumerate().map(|(i, &id)| Peer::new(NodeId(i as u32), RingId(id))).collect();
    let mut world = World::new(space, faults);
    for index in 0..ring.len() {
        world.add(ring[index], P::ideal(&ring, index, space, config));
    }
    // Joiners go through the member that is not behind a cut: the last one.
    let contact = ring[ring.len() - 1];
    for (i, &id) in joiners.iter().enumerate() {
        let peer = Peer::new(NodeId((ring.len() + i) as u32), RingId(id));
        world.add(peer, P::create(peer, Some(contact), config));
    }
    if let Some((a, b)) = cut {
        world.cut_link(NodeId(a as u32), NodeId(b as u32));
    }
    for node in 0..members.len() + joiners.len() {
        world.start(NodeId(node as u32), config);
    }
    if setup == Setup::BranchRootCrash {
        world.settle(config, 10_000);
        world.crash(NodeId(1));
    }
    world
}

/// Lookup consistency over the live members.
pub fn lookup_consistency<P: RingView + Explorable>(world: &World<P>) -> Result<(), String> {
    let answers: Vec<LookupAnswers> =
        world.live().filter(|(_, p)| p.is_member()).filter_map(|(_, p)| p.lookup_answers()).collect();
    match lookup_conflict(world.space(), &answers) {
        None => Ok(()),
        Some((key, a, b)) => Err(format!(
            "lookup consistency: key {key} is answered by {} from ({}, {}] and by {} from ({}, {}]",
            a.names, a.from, a.to, b.names, b.from, b.to
        )),
    }
}

/// The protocol parameters for exploration: routing along successor lists
/// (no fingers, so no finger refresh lookups), timers as in a run.
pub fn chord_config() -> ChordConfig {
    ChordConfig { fingers: false, successor_list: 3, ..ChordConfig::default() }
}
pub fn relaxed_ring_config() -> RelaxedRingConfig {
    RelaxedRingConfig { fingers: false, successor_list: 3, ..RelaxedRingConfig::default() }
}
pub fn dks_config() -> DksConfig {
    let base = DksConfig::default();
    DksConfig { ring: RelaxedRingConfig { fingers: false, successor_list: 3, ..base.ring }, ..base }
}

/// Explores `setup` for one protocol.
pub fn explore_setup(protocol: ProtocolName, setup: Setup, options: &ExploreOptions) -> Option<Explored> {
    fn go<P: RingProtocol + Explorable>(setup: Setup, config: P::Config, options: &ExploreOptions) -> Explored {
        let initial: World<P> = world(setup, &config, options.faults);
        explore(&initial, &config, options, lookup_consistency)
    }
    match protocol {
        ProtocolName::Chord => Some(go::<Chord>(setup, chord_config(), options)),
        ProtocolName::RelaxedRing => Some(go::<RelaxedRing>(setup, relaxed_ring_config(), options)),
        ProtocolName::Dks => Some(go::<Dks>(setup, dks_config(), options)),
        ProtocolName::Palta | ProtocolName::Gossip => None,
    }
}
