//! PALTA's mesh under failures and after the switch to the relaxed ring.

use crate::harness::{by_joins, perfect, ppl_engine, predecessors_correct, sent};
use protocols::palta::{Palta, PaltaConfig};
use sim_core::{NodeId, SimConfig, SimTime, Simulation};

fn engine(seed: u64) -> SimConfig {
    ppl_engine(seed, 200)
}

fn later(sim: &mut Simulation<Palta>, seconds: u64) {
    let until = sim.now() + SimTime::from_secs(seconds);
    sim.run_until(until);
}

#[test]
fn a_mesh_peer_watches_every_member_and_every_crash_reaches_all() {
    // Reference: PALTA 2008, §3: below ω every peer is connected to every
    // other, so each notices a failure itself.
    let mut sim = by_joins::<Palta>(engine(1), PaltaConfig::default(), 8, SimTime::from_millis(200));
    later(&mut sim, 3);
    let nodes: Vec<NodeId> = sim.alive_nodes().to_vec();
    for &a in &nodes {
        for &b in nodes.iter().filter(|&&b| b != a) {
            assert!(sim.detector().is_watching(a, b), "{a} does not watch {b}");
        }
    }
    assert!(perfect(&sim));
    sim.crash(nodes[3]);
    later(&mut sim, 1);
    assert!(perfect(&sim) && predecessors_correct(&sim), "one detection delay after the crash");
    for &a in nodes.iter().filter(|&&a| a != nodes[3]) {
        assert!(sim.detector().is_suspected(a, nodes[3]), "{a} missed the crash");
    }
}

#[test]
fn a_falsely_suspected_member_comes_back_on_its_alive_alone() {
    let mut sim = by_joins::<Palta>(engine(2), PaltaConfig::default(), 3, SimTime::from_millis(200));
    later(&mut sim, 3);
    let nodes: Vec<NodeId> = sim.alive_nodes().to_vec();
    let watcher = nodes[0];
    let successor = sim.node(watcher).and_then(protocols::RingView::successor).expect("a successor").node;
    assert!(sim.suspect(watcher, successor, SimTime::from_secs(6)));
    // Its own messages and the others' member lists, which name it, do not
    // bring it back while the detector still suspects it: the member list
    // follows the detector, so a crash then is not missed.
    for _ in 0..50 {
        let step = sim.now() + SimTime::from_millis(100);
        sim.run_until(step);
        let now_successor = sim.node(watcher).and_then(protocols::RingView::successor).map(|p| p.node);
        assert_ne!(now_successor, Some(successor), "taken back at {}", sim.now());
    }
    later(&mut sim, 2);
    assert!(perfect(&sim) && predecessors_correct(&sim), "after the alive");
}

#[test]
fn once_a_contact_answered_use_ring_every_joiner_joins_the_ring() {
    // The mesh reaches ω = 4, later joiners use the relaxed ring; a crash
    // takes the mesh below ω again, and the next joiner must still join
    // the ring: as a mesh joiner it would never hear of the ring peers.
    let config = PaltaConfig { omega: 4, ..PaltaConfig::default() };
    let mut sim = by_joins::<Palta>(engine(3), config, 7, SimTime::from_millis(300));
    later(&mut sim, 3);
    assert_eq!(sent(&sim, "use_ring"), 3);
    assert!(perfect(&sim));
    let hellos = sent(&sim, "mesh_hello");
    let mesh_member = sim.alive_nodes()[1];
    sim.crash(sim.alive_nodes()[0]);
    later(&mut sim, 3);
    sim.spawn(Some(mesh_member));
    later(&mut sim, 5);
    assert_eq!(sent(&sim, "mesh_hello"), hellos, "no mesh join after the switch");
    assert_eq!(sent(&sim, "use_ring"), 4);
    assert!(perfect(&sim) && predecessors_correct(&sim));
}
