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
//! The paper builds the mesh; it does not say how a mesh heals. Here:
//! - A mesh peer watches every member, as a full mesh is connected to each
//!   (the detector counts watches, so the mesh's and the ring peer's stay
//!   apart), and every crash reaches every member.
//! - A suspected peer, member or not, is set aside as gone, still watched,
//!   and a member comes back on its `alive` only: the member list follows
//!   the failure detector. A member taken back on a message while the
//!   detector still suspected it could crash unseen (found by `overlaysim
//!   check`, swarm seed 726), and so could a suspected ring pointer that a
//!   member list brought in (3072).
//! - Every `mesh_sync_every` a mesh peer sends its member list
//!   (`mesh_sync`) to one random member; the receiver adds the members it
//!   lacks and has not seen gone. Lost hellos heal this way. A dead member
//!   learnt from a list is watched, so it is dropped within the detection
//!   delay.
//! - A mesh peer's ring pointers are always those of its view: its members,
//!   plus the ring peers its ring peer points to and does not suspect. A
//!   relaxed-ring message that changes them (an `upd_succ_list` written
//!   before its sender heard of a new member, swarm seed 304) is undone.
//!   Beyond ω two relaxed-ring rules carry over: a suspected ring peer that
//!   is the predecessor stays until a `fix` replaces it (1449, ω = 30), and
//!   when the predecessor is a ring peer right after a member, that member,
//!   which may never have heard of it, gets a `hint` (638, ω = 30).
//! - Once a contact has answered `use_ring`, it tells every member in a
//!   `mesh_sync`, and from then on every joiner joins the ring, even after
//!   crashes take the mesh below ω: a mesh joiner would never hear of the
//!   ring peers.
//! - A joiner whose contact never answers takes the fresh contact the
//!   bootstrap service gives it.
//!
//! Without the sync, 44 % of the swarm seeds ended split; without the rest,
//! 1.3 %. Beyond ω the ring peers need the merge layer after a partition,
//! as the relaxed ring does; PALTA runs inside it like the other rings.
//!
//! # Messages
//! `mesh_join`, `mesh_members`, `mesh_hello`, `mesh_welcome`, `use_ring`,
//! `mesh_sync`, and every relaxed-ring message.

use crate::merge::{MERGE_KINDS, MergeKinds, Mergeable};
use crate::relaxed_ring::{
    AroundRelaxedRing, RelaxedMessage, RelaxedReport, RelaxedRequest, RelaxedRing, RelaxedRingConfig, RelaxedTimer,
};
use crate::ring::{Control, LookupOutcome, RingProtocol, RingView};
use sim_core::protocol::{Wrapping, concat_kinds, delegate};
use sim_core::{Ctx, Draw, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimTime};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaltaConfig {
    /// ω: the mesh size from which joiners join the relaxed ring.
    pub omega: usize,
    pub ring: RelaxedRingConfig,
    /// How often a mesh peer sends its member list to a random member;
    /// zero means never.
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
    MeshSync { members: Arc<[Peer]>, ring_started: bool },
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

/// A peer a mesh peer suspects, and its entry if it was a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Gone {
    node: NodeId,
    member: Option<Peer>,
}

/// One PALTA peer: a relaxed-ring peer plus, below ω, a mesh.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Palta {
    ring: RelaxedRing,
    mode: Mode,
    contact: Option<Peer>,
    /// The peers this mesh peer suspects, members or not, oldest first: a
    /// member is taken back on its `alive` only, never from a message or
    /// another's list.
    gone: Vec<Gone>,
    /// The peers the mesh watches (members and gone peers), sorted: its
    /// own watches, counted apart from the ring peer's.
    watched: Vec<NodeId>,
    /// Whether this mesh peer knows the network has switched to the
    /// relaxed ring (it sent `use_ring`, or was told in a `mesh_sync`):
    /// from then on every joiner joins the ring.
    ring_started: bool,
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

    /// Runs a relaxed-ring handler; a mesh peer then puts back the
    /// pointers its member list gives, should the handler have changed them
    /// (an `upd_succ_list` sent before the sender heard of a new member, a
    /// `fix` kept in a branch).
    fn ring_event<R>(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        handler: impl FnOnce(&mut RelaxedRing, &mut Ctx<'_, RelaxedRing>) -> R,
    ) -> R {
        let result = self.with_ring(ctx, handler);
        if !self.mesh_pointers_hold(ctx) {
            self.adopt_mesh_ring(ctx);
        }
        result
    }

    /// The ring peers (joined beyond ω) this mesh peer's ring peer points
    /// to that are not members and are not suspected: with the members,
    /// they make its view.
    ///
    /// A suspected ring peer that is still the predecessor stays, as in
    /// the relaxed ring, claiming its range until a `fix` replaces it: a
    /// joiner arriving meanwhile then names it, not the member before it,
    /// and it learns of the joiner (found by `overlaysim check`, swarm seed
    /// 1449 with ω = 30).
    fn ring_extras<'a>(&'a self, members: &'a [Peer], me: NodeId) -> impl Iterator<Item = Peer> + 'a {
        let ring = &self.ring;
        let pred = ring.predecessor();
        let pointers = pred.into_iter().chain(ring.successor_list().iter().copied());
        pointers.chain(ring.pred_list().iter().copied()).filter(move |p| {
            let gone = self.gone.iter().find(|g| g.node == p.node);
            let suspected = gone.is_some() || ring.suspects(p.node);
            let kept_pred = pred == Some(*p) && gone.is_none_or(|g| g.member.is_none());
            p.node != me && members.binary_search_by_key(&p.id, |m| m.id).is_err() && (!suspected || kept_pred)
        })
    }

    /// A mesh peer's view, sorted by identifier; None outside the mesh.
    fn mesh_view(&self, ctx: &Ctx<'_, Self>) -> Option<Cow<'_, [Peer]>> {
        let Mode::Mesh { members } = &self.mode else { return None };
        let mut extras = self.ring_extras(members, ctx.me.node).peekable();
        if extras.peek().is_none() {
            return Some(Cow::Borrowed(members));
        }
        let mut view: Vec<Peer> = members.iter().copied().chain(extras).collect();
        view.sort_by_key(|p| p.id);
        view.dedup_by_key(|p| p.node);
        Some(Cow::Owned(view))
    }

    /// Whether the ring peer's predecessor and successor list are those of
    /// the mesh view (always, outside the mesh). Run after every ring
    /// event, so it builds no view: the nearest peers of the view are among
    /// the nearest members and the extras.
    fn mesh_pointers_hold(&self, ctx: &Ctx<'_, Self>) -> bool {
        let Mode::Mesh { members } = &self.mode else { return true };
        let Ok(index) = members.binary_search_by_key(&ctx.me.id, |p| p.id) else { return true };
        let (n, r) = (members.len(), ctx.config.ring.successor_list.max(1));
        let me = ctx.me;
        let nearest = (1..n).map(|k| members[(index + k) % n]).take(r);
        let mut candidates: SmallVec<[Peer; 16]> = nearest.chain(self.ring_extras(members, me.node)).collect();
        let clockwise = |p: &Peer| ctx.space.distance(me.id, p.id);
        candidates.sort_by_key(clockwise);
        candidates.dedup_by_key(|p| p.node);
        if candidates.is_empty() {
            return true;
        }
        let member_pred = (n > 1).then(|| members[(index + n - 1) % n]);
        let pred = member_pred.into_iter().chain(candidates.iter().copied()).max_by_key(clockwise);
        let successors = self.ring.successor_list();
        self.ring.predecessor() == pred
            && successors.len() == candidates.len().min(r)
            && successors.iter().eq(candidates.iter().take(r))
    }

    /// A mesh peer's ring pointers are the converged ones of its view.
    ///
    /// When its predecessor is a ring peer that follows a member in the
    /// view, that member may never have heard of it (a ring peer that
    /// joined here while the member was falsely suspected, swarm seed 638
    /// with ω = 30): the member gets a `hint` naming it, as a relaxed-ring
    /// branch root would send.
    fn adopt_mesh_ring(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(view) = self.mesh_view(ctx) else { return };
        let Ok(index) = view.binary_search_by_key(&ctx.me.id, |p| p.id) else { return };
        let n = view.len();
        if let Mode::Mesh { members } = &self.mode
            && n > 2
        {
            let (pred, behind) = (view[(index + n - 1) % n], view[(index + n - 2) % n]);
            let is_member = |peer: Peer| members.binary_search_by_key(&peer.id, |m| m.id).is_ok();
            if !is_member(pred) && is_member(behind) {
                ctx.send(behind.node, PaltaMessage::Ring(RelaxedMessage::Hint { succ: pred }));
            }
        }
        let converged = RelaxedRing::ideal(&view, index, ctx.space, &ctx.config.ring);
        self.ring.merge_converged(ctx.space, converged);
        self.with_ring(ctx, |ring, inner| ring.on_start(inner));
        self.sync_mesh_watches(ctx);
    }

    /// A mesh peer watches every member, as a full mesh connects to each,
    /// and keeps watching gone peers so that their `alive` comes back
    /// when a false suspicion ends or a partition heals.
    fn sync_mesh_watches(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Mode::Mesh { members } = &self.mode else { return };
        let me = ctx.me.node;
        let mut wanted: Vec<NodeId> =
            members.iter().map(|p| p.node).chain(self.gone.iter().map(|g| g.node)).filter(|&n| n != me).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (mut old, mut new) = (self.watched.iter().peekable(), wanted.iter().peekable());
        loop {
            match (old.peek(), new.peek()) {
                (Some(&&a), Some(&&b)) if a == b => {
                    old.next();
                    new.next();
                }
                (Some(&&a), Some(&&b)) if a < b => {
                    ctx.unwatch(a);
                    old.next();
                }
                (Some(&&a), None) => {
                    ctx.unwatch(a);
                    old.next();
                }
                (_, Some(&&b)) => {
                    ctx.watch(b);
                    new.next();
                }
                (None, None) => break,
            }
        }
        self.watched = wanted;
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

    /// A suspected peer: set aside as gone, a member or not. A non-member
    /// too, or a member list could bring it in while the detector, whose
    /// link to it is already suspected, would never say so again (found by
    /// `overlaysim check`, swarm seed 3072).
    fn set_aside(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        if peer == ctx.me.node || self.is_gone(peer) {
            return;
        }
        let Mode::Mesh { members } = &mut self.mode else { return };
        let member = members.iter().position(|p| p.node == peer).map(|index| members.remove(index));
        if self.gone.len() == 2 * ctx.config.omega.max(1) {
            self.gone.remove(0);
        }
        self.gone.push(Gone { node: peer, member });
    }

    fn is_gone(&self, peer: NodeId) -> bool {
        self.gone.iter().any(|g| g.node == peer)
    }

    /// A gone peer shows it lives: a member again if it was one. Whether
    /// the mesh changed.
    fn revive(&mut self, peer: NodeId) -> bool {
        let Some(index) = self.gone.iter().position(|g| g.node == peer) else { return false };
        match self.gone.remove(index).member {
            Some(member) => self.add_member(member),
            None => false,
        }
    }

    /// This mesh peer's `mesh_sync`: its member list and what it knows of
    /// the switch to the ring.
    fn sync_message(&self) -> Option<PaltaMessage> {
        let Mode::Mesh { members } = &self.mode else { return None };
        Some(PaltaMessage::MeshSync { members: Arc::from(members.as_slice()), ring_started: self.ring_started })
    }

    fn sync_members(&self, ctx: &mut Ctx<'_, Self>, to: NodeId) {
        if let Some(message) = self.sync_message() {
            ctx.send(to, message);
        }
    }

    fn tell_every_member(&self, ctx: &mut Ctx<'_, Self>) {
        let (Mode::Mesh { members }, Some(message)) = (&self.mode, self.sync_message()) else { return };
        let me = ctx.me.node;
        for peer in members.iter().filter(|p| p.node != me) {
            ctx.send(peer.node, message.clone());
        }
    }

    fn on_mesh_sync(&mut self, ctx: &mut Ctx<'_, Self>, list: &[Peer]) {
        if !matches!(self.mode, Mode::Mesh { .. }) {
            return;
        }
        let me = ctx.me.node;
        let mut changed = false;
        for peer in list {
            if peer.node != me && !self.is_gone(peer.node) {
                changed |= self.add_member(*peer);
            }
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
        Palta {
            ring: RelaxedRing::create(me, None, &config.ring),
            mode,
            contact,
            gone: Vec::new(),
            watched: Vec::new(),
            ring_started: false,
        }
    }

    fn is_member(&self) -> bool {
        match self.mode {
            Mode::Asking => false,
            Mode::Mesh { .. } => true,
            Mode::Ring => self.ring.is_member(),
        }
    }

    /// A ring peer keeps the relaxed ring's invariants; a mesh peer's
    /// member list is sorted by identifier, holds no peer twice and holds
    /// itself; the gone peers are never members of its list and come once;
    /// its own watches are sorted and cover every gone peer; the ring
    /// peer under a mesh peer keeps the shape of its successor list.
    fn check_invariants(&self, config: &PaltaConfig, space: IdSpace) {
        let me = self.ring.ring_id();
        match &self.mode {
            Mode::Ring => self.ring.check_invariants(&config.ring, space),
            Mode::Asking => {}
            Mode::Mesh { members } => {
                debug_assert!(members.windows(2).all(|w| w[0].id < w[1].id), "{me}: members out of order or twice");
                debug_assert!(members.iter().any(|p| p.id == me), "{me}: not in its own member list");
                debug_assert!(
                    self.gone.iter().all(|g| members.iter().all(|m| m.node != g.node)),
                    "{me}: a gone peer is still a member"
                );
                let peer = members.iter().find(|p| p.id == me).copied();
                if let Some(peer) = peer {
                    crate::ring::assert_successor_list(peer, self.ring.successor_list(), config.ring.successor_list);
                }
            }
        }
        debug_assert!(crate::ring::distinct(self.gone.iter().map(|g| g.node)), "{me}: a peer gone twice");
        debug_assert!(self.watched.windows(2).all(|w| w[0] < w[1]), "{me}: mesh watches out of order or twice");
        debug_assert!(
            self.gone.iter().all(|g| self.watched.binary_search(&g.node).is_ok()),
            "{me}: a gone peer is not watched"
        );
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
            PaltaMessage::Ring(message) => self.ring_event(ctx, |ring, inner| ring.on_message(inner, from, message)),
            PaltaMessage::MeshJoin { joiner } => match &self.mode {
                Mode::Mesh { members } if members.len() < ctx.config.omega && !self.ring_started => {
                    let members: Arc<[Peer]> = Arc::from(members.as_slice());
                    ctx.send(joiner.node, PaltaMessage::MeshMembers { members });
                }
                _ => {
                    ctx.send(joiner.node, PaltaMessage::UseRing);
                    if !self.ring_started {
                        // Tell every member at once, so that none of them
                        // takes a mesh joiner the ring peers never hear of.
                        self.ring_started = true;
                        self.tell_every_member(ctx);
                    }
                }
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
            PaltaMessage::MeshSync { members, ring_started } => {
                self.ring_started |= ring_started;
                self.on_mesh_sync(ctx, &members)
            }
            PaltaMessage::MeshHello { peer } => {
                if !self.is_gone(peer.node) && self.add_member(peer) {
                    ctx.send(peer.node, PaltaMessage::MeshWelcome { peer: ctx.me });
                    self.adopt_mesh_ring(ctx);
                }
            }
            PaltaMessage::MeshWelcome { peer } => {
                if !self.is_gone(peer.node) && self.add_member(peer) {
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
            PaltaTimer::Ring(timer) => self.ring_event(ctx, |ring, inner| ring.on_timer(inner, timer)),
            PaltaTimer::MeshSync => self.on_sync_timer(ctx),
        }
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        self.set_aside(ctx, peer);
        self.sync_mesh_watches(ctx);
        self.ring_event(ctx, |ring, inner| ring.on_suspect(inner, peer));
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        // Out of gone first: the ring peer may take it back as a neighbour.
        let member_back = self.revive(peer);
        self.ring_event(ctx, |ring, inner| ring.on_alive(inner, peer));
        if member_back {
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
            request => self.ring_event(ctx, |ring, inner| ring.on_request(inner, request)),
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

impl MergeKinds for PaltaMessage {
    const MERGING_KINDS: &'static [&'static str] =
        &concat_kinds::<{ MERGE_KINDS.len() + PaltaMessage::KINDS.len() }>(&MERGE_KINDS, PaltaMessage::KINDS);
}

/// Ring unification as for the relaxed ring: beyond ω the ring peers merge
/// as relaxed-ring peers do, and a mesh peer takes what the merge offers
/// into its view only when it is a ring peer it does not suspect (its
/// members come back on their `alive`).
impl Mergeable for Palta {
    fn next_hop(&self, space: IdSpace, config: &PaltaConfig, key: RingId) -> Peer {
        self.ring.next_hop(space, &config.ring, key)
    }

    fn offer_successor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        self.ring_event(ctx, |ring, inner| ring.offer_successor(inner, peer));
    }

    fn offer_predecessor(&mut self, ctx: &mut Ctx<'_, Self>, peer: Peer) {
        self.ring_event(ctx, |ring, inner| ring.offer_predecessor(inner, peer));
    }

    fn suspects(&self, node: NodeId) -> bool {
        self.is_gone(node) || self.ring.suspects(node)
    }

    fn contact(&self) -> Option<Peer> {
        self.contact
    }

    fn fingers(&self) -> impl Iterator<Item = Peer> + '_ {
        Mergeable::fingers(&self.ring)
    }

    fn tidy(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.ring_event(ctx, |ring, inner| ring.tidy(inner));
    }
}
