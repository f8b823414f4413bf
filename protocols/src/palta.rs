//! PALTA: a full mesh while the network is small, a relaxed ring beyond.
//!
//! Cádiz, Mejías, Vallejos, Mens, Van Roy, De Meuter, "PALTA:
//! Peer-to-peer AdaptabLe Topology for Ambient intelligence", SCCC 2008.
//!
//! # The idea
//! Small networks, such as the devices of one room, do best fully
//! connected: every lookup takes one hop and a failure is noticed by
//! everyone. Large ones cannot afford N² connections. PALTA starts as a
//! full mesh and switches to the relaxed ring (see [`crate::relaxed_ring`])
//! when the network reaches a size threshold ω.
//!
//! # Below ω: the mesh
//! A joiner sends `mesh_join` to its contact, a mesh peer. While the mesh
//! has fewer than ω peers, the contact answers `mesh_members` with every
//! peer it knows. The joiner greets each of them with `mesh_hello`, and each
//! answers `mesh_welcome`: two messages per connection, about N² to build a
//! mesh of N. Every mesh peer knows the whole membership, so its
//! relaxed-ring pointers (predecessor, successor list, fingers) are the
//! converged ones, computed from that list.
//!
//! # From ω on: the relaxed ring
//! A contact whose mesh has reached ω answers `use_ring`, and the joiner
//! joins as a relaxed-ring peer (lookup, `join`, `join_ok`, `new_succ`,
//! `pred_no_more`). The mesh peers keep their mesh connections, which is why
//! the average number of connections per peer peaks at about ω at N = ω and
//! then falls towards the relaxed ring's as N grows (the paper's Fig. 5).
//! Failure recovery, lookups and branches are the relaxed ring's.
//!
//! # Keeping the mesh whole
//! The paper builds the mesh; it does not say how a mesh heals. Here a mesh
//! peer drops a suspected member (keeping it aside as gone) and takes it
//! back on its `alive` or on any message from it. Every `mesh_sync_every`
//! it sends its member list (`mesh_sync`) to one random member and one
//! random gone peer; the receiver adds the members it lacks that it has not
//! seen gone, and answers a gone sender with its own list. Lost hellos,
//! false suspicions and partitions heal this way (found by `overlaysim
//! check`: without it, 44 % of the swarm seeds ended split). A joiner whose
//! contact never answers takes the fresh contact the bootstrap service
//! gives it.
//!
//! # Messages
//! `mesh_join`, `mesh_members`, `mesh_hello`, `mesh_welcome`, `use_ring`,
//! `mesh_sync`, and every relaxed-ring message.

use crate::relaxed_ring::{
    AroundRelaxedRing, RelaxedMessage, RelaxedReport, RelaxedRequest, RelaxedRing, RelaxedRingConfig, RelaxedTimer,
};
use crate::ring::{Control, LookupOutcome, RingProtocol, RingView};
use sim_core::protocol::{Wrapping, concat_kinds, delegate};
use sim_core::{Ctx, Draw, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaltaConfig {
    /// ω: the mesh size from which joiners join the relaxed ring.
    pub omega: usize,
    pub ring: RelaxedRingConfig,
    /// How often a mesh peer sends its member list to a random member and
    /// a random gone peer; zero means never.
    pub mesh_sync_every: SimTime,
}

impl Default for PaltaConfig {
    fn default() -> Self {
        PaltaConfig { omega: 100, ring: RelaxedRingConfig::default(), mesh_sync_every: SimTime::from_secs(1) }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PaltaMessage {
    Ring(RelaxedMessage),
    MeshJoin { joiner: Peer },
    MeshMembers { members: Arc<[Peer]> },
    MeshHello { peer: Peer },
    MeshWelcome { peer: Peer },
    UseRing,
    MeshSync { members: Arc<[Peer]> },
}

/// PALTA's own message kinds; the relaxed ring's follow them.
const MESH: [&str; 6] = ["mesh_join", "mesh_members", "mesh_hello", "mesh_welcome", "use_ring", "mesh_sync"];
const MESH_KINDS: usize = MESH.len();
const ALL_KINDS: [&str; MESH_KINDS + RelaxedMessage::KINDS.len()] = concat_kinds(&MESH, RelaxedMessage::KINDS);

impl Message for PaltaMessage {
    const KINDS: &'static [&'static str] = &ALL_KINDS;
    fn kind_index(&self) -> usize {
        match self {
            PaltaMessage::MeshJoin { .. } => 0,
            PaltaMessage::MeshMembers { .. } => 1,
            PaltaMessage::MeshHello { .. } => 2,
            PaltaMessage::MeshWelcome { .. } => 3,
            PaltaMessage::UseRing => 4,
            PaltaMessage::MeshSync { .. } => 5,
            PaltaMessage::Ring(message) => MESH_KINDS + message.kind_index(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaltaTimer {
    Ring(RelaxedTimer),
    MeshSync,
}

/// How a node takes part.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Mode {
    /// Waiting for the contact's answer to `mesh_join`.
    Asking,
    /// A mesh peer: `members` is every mesh peer it knows, itself included,
    /// sorted by identifier.
    Mesh { members: Vec<Peer> },
    /// A relaxed-ring peer that never was in the mesh.
    Ring,
}

/// One PALTA peer: a relaxed-ring peer plus, below ω, a mesh.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Palta {
    ring: RelaxedRing,
    mode: Mode,
    contact: Option<Peer>,
    /// Mesh members dropped on a suspicion, oldest first: taken back on
    /// their `alive` or a message from them, never from another's list.
    gone: Vec<Peer>,
}

impl Palta {
    /// Runs a relaxed-ring handler and re-wraps what it did.
    fn with_ring<R>(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        handler: impl FnOnce(&mut RelaxedRing, &mut Ctx<'_, RelaxedRing>) -> R,
    ) -> R {
        let wrapping = Wrapping { message: PaltaMessage::Ring, timer: PaltaTimer::Ring, report: |r| r };
        delegate(ctx, &mut self.ring, |c| &c.ring, wrapping, handler)
    }

    /// A mesh peer's ring pointers are the converged ones of its members.
    fn adopt_mesh_ring(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Mode::Mesh { members } = &self.mode else { return };
        let Some(index) = members.iter().position(|p| p.node == ctx.me.node) else { return };
        let converged = RelaxedRing::ideal(members, index, ctx.space, &ctx.config.ring);
        self.ring.merge_converged(converged);
        self.with_ring(ctx, |ring, inner| ring.on_start(inner));
    }

    fn add_member(&mut self, peer: Peer) -> bool {
        let Mode::Mesh { members } = &mut self.mode else { return false };
        match members.binary_search_by_key(&peer.id, |p| p.id) {
            Ok(_) => false,
            Err(at) => {
                members.insert(at, peer);
                true
            }
        }
    }

    /// A mesh member suspected: set it aside as gone.
    fn drop_member(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let Mode::Mesh { members } = &mut self.mode else { return };
        let Some(index) = members.iter().position(|p| p.node == peer && p.node != ctx.me.node) else { return };
        let removed = members.remove(index);
        if self.gone.len() == 2 * ctx.config.omega.max(1) {
            self.gone.remove(0);
        }
        self.gone.push(removed);
    }

    /// A gone peer shows it lives: a member again.
    fn revive(&mut self, peer: NodeId) -> Option<Peer> {
        let index = self.gone.iter().position(|p| p.node == peer)?;
        let revived = self.gone.remove(index);
        self.add_member(revived);
        Some(revived)
    }

    fn sync_members(&self, ctx: &mut Ctx<'_, Self>, to: NodeId) {
        if let Mode::Mesh { members } = &self.mode {
            ctx.send(to, PaltaMessage::MeshSync { members: Arc::from(members.as_slice()) });
        }
    }

    fn on_mesh_sync(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, list: &[Peer]) {
        if !matches!(self.mode, Mode::Mesh { .. }) {
            return;
        }
        let sender_was_gone = self.revive(from).is_some();
        let me = ctx.me.node;
        let mut changed = sender_was_gone;
        for peer in list {
            if peer.node != me && !self.gone.iter().any(|g| g.node == peer.node) {
                changed |= self.add_member(*peer);
            }
        }
        if sender_was_gone {
            self.sync_members(ctx, from);
        }
        if changed {
            self.adopt_mesh_ring(ctx);
        }
    }

    fn on_sync_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Mode::Mesh { members } = &self.mode else { return };
        let me = ctx.me.node;
        let others = members.len().saturating_sub(1);
        if others > 0 {
            let pick = ctx.rng().below(others as u64) as usize;
            let to = members.iter().map(|p| p.node).filter(|&n| n != me).nth(pick).unwrap_or(me);
            self.sync_members(ctx, to);
        }
        if !self.gone.is_empty() {
            let to = self.gone[ctx.rng().below(self.gone.len() as u64) as usize].node;
            self.sync_members(ctx, to);
        }
        let period = ctx.config.mesh_sync_every;
        let after = if ctx.config.ring.randomized_timers { ctx.jittered(period) } else { period };
        ctx.set_timer(after, PaltaTimer::MeshSync);
    }

    /// Mesh peers other than this one.
    fn mesh_neighbours(&self) -> usize {
        match &self.mode {
            Mode::Mesh { members } => members.len().saturating_sub(1),
            _ => 0,
        }
    }
}

impl Protocol for Palta {
    type Config = PaltaConfig;
    type Message = PaltaMessage;
    type Timer = PaltaTimer;
    type Request = RelaxedRequest;
    type Report = RelaxedReport;

    fn create(me: Peer, contact: Option<Peer>, config: &PaltaConfig) -> Self {
        let mode = if contact.is_none() { Mode::Mesh { members: vec![me] } } else { Mode::Asking };
        // The ring part joins only if told to use the ring.
        Palta { ring: RelaxedRing::create(me, None, &config.ring), mode, contact, gone: Vec::new() }
    }

    fn is_member(&self) -> bool {
        match self.mode {
            Mode::Asking => false,
            Mode::Mesh { .. } => true,
            Mode::Ring => self.ring.is_member(),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.config.mesh_sync_every > SimTime::ZERO {
            let first = ctx.jittered(ctx.config.mesh_sync_every);
            ctx.set_timer(first, PaltaTimer::MeshSync);
        }
        match (&self.mode, self.contact) {
            (Mode::Asking, Some(contact)) => ctx.send(contact.node, PaltaMessage::MeshJoin { joiner: ctx.me }),
            (Mode::Mesh { .. }, _) => self.adopt_mesh_ring(ctx),
            _ => self.with_ring(ctx, |ring, inner| ring.on_start(inner)),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, message: PaltaMessage) {
        match message {
            PaltaMessage::Ring(message) => self.with_ring(ctx, |ring, inner| ring.on_message(inner, from, message)),
            PaltaMessage::MeshJoin { joiner } => match &self.mode {
                Mode::Mesh { members } if members.len() < ctx.config.omega => {
                    let members: Arc<[Peer]> = Arc::from(members.as_slice());
                    ctx.send(joiner.node, PaltaMessage::MeshMembers { members });
                }
                _ => ctx.send(joiner.node, PaltaMessage::UseRing),
            },
            PaltaMessage::MeshMembers { members } => {
                if self.mode != Mode::Asking {
                    return;
                }
                let mut list: Vec<Peer> = members.to_vec();
                list.push(ctx.me);
                list.sort_by_key(|p| p.id);
                list.dedup_by_key(|p| p.node);
                let me = ctx.me;
                for peer in list.iter().filter(|p| p.node != me.node) {
                    ctx.send(peer.node, PaltaMessage::MeshHello { peer: me });
                }
                self.mode = Mode::Mesh { members: list };
                self.adopt_mesh_ring(ctx);
            }
            PaltaMessage::MeshSync { members } => self.on_mesh_sync(ctx, from, &members),
            PaltaMessage::MeshHello { peer } => {
                self.gone.retain(|g| g.node != peer.node);
                if self.add_member(peer) {
                    ctx.send(peer.node, PaltaMessage::MeshWelcome { peer: ctx.me });
                    self.adopt_mesh_ring(ctx);
                }
            }
            PaltaMessage::MeshWelcome { peer } => {
                self.gone.retain(|g| g.node != peer.node);
                if self.add_member(peer) {
                    self.adopt_mesh_ring(ctx);
                }
            }
            PaltaMessage::UseRing => {
                if self.mode == Mode::Asking {
                    self.mode = Mode::Ring;
                    let me = ctx.me;
                    self.ring = RelaxedRing::create(me, self.contact, &ctx.config.ring);
                    self.with_ring(ctx, |ring, inner| ring.on_start(inner));
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PaltaTimer) {
        match timer {
            PaltaTimer::Ring(timer) => self.with_ring(ctx, |ring, inner| ring.on_timer(inner, timer)),
            PaltaTimer::MeshSync => self.on_sync_timer(ctx),
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.drop_member(ctx, peer);
        self.with_ring(ctx, |ring, inner| ring.on_suspect(inner, peer));
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.with_ring(ctx, |ring, inner| ring.on_alive(inner, peer));
        if self.revive(peer).is_some() {
            self.adopt_mesh_ring(ctx);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: RelaxedRequest) {
        match request {
            // Still waiting for a mesh contact that may be gone: ask the
            // fresh one the bootstrap service gives.
            RelaxedRequest::NewContact { contact } if self.mode == Mode::Asking && contact.node != ctx.me.node => {
                self.contact = Some(contact);
                ctx.send(contact.node, PaltaMessage::MeshJoin { joiner: ctx.me });
            }
            request => self.with_ring(ctx, |ring, inner| ring.on_request(inner, request)),
        }
    }
}

impl AroundRelaxedRing for Palta {
    fn relaxed_ring(&self) -> &RelaxedRing {
        &self.ring
    }
    /// A mesh peer's ring pointers come from its member list, which may
    /// still hold a suspected peer: only ring peers claim to drop it.
    fn drops_suspected_successor(&self) -> bool {
        !matches!(self.mode, Mode::Mesh { .. })
    }
    /// Mesh connections plus the ring's own, counted once.
    fn connection_count(&self) -> usize {
        match &self.mode {
            Mode::Mesh { .. } => self.mesh_neighbours().max(self.ring.connections()),
            _ => self.ring.connections(),
        }
    }
}

impl RingProtocol for Palta {
    fn ideal(ring: &[Peer], index: usize, space: IdSpace, config: &PaltaConfig) -> Self {
        let mut node = Palta::create(ring[index], None, config);
        node.ring = RelaxedRing::ideal(ring, index, space, &config.ring);
        node.mode = if ring.len() <= config.omega { Mode::Mesh { members: ring.to_vec() } } else { Mode::Ring };
        node
    }

    fn set_ring_pointers(&mut self, pred: Peer, successors: &[Peer]) {
        self.ring.set_ring_pointers(pred, successors);
    }

    fn lookup_request(tag: u64, key: RingId) -> RelaxedRequest {
        RelaxedRing::lookup_request(tag, key)
    }

    fn lookup_outcome(report: &RelaxedReport) -> Option<LookupOutcome> {
        RelaxedRing::lookup_outcome(report)
    }

    fn contact_request(contact: Peer) -> Option<RelaxedRequest> {
        RelaxedRing::contact_request(contact)
    }

    const BUILD_KINDS: &'static [&'static str] = &[
        "mesh_join",
        "mesh_members",
        "mesh_hello",
        "mesh_welcome",
        "use_ring",
        "join",
        "join_ok",
        "new_succ",
        "pred_no_more",
    ];
    const HINT_KINDS: &'static [&'static str] = RelaxedRing::HINT_KINDS;

    fn control(_config: &mut PaltaConfig, _control: Control) {}
}
