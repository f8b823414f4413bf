//! PHOLD on the bare engine: N nodes, each holding one message in flight;
//! a node that receives a message sends one to a random node (latency
//! uniform in 1-10 ms). No protocol work, no failure detector, no oracle:
//! what this measures is the engine itself (queue, arena, network,
//! dispatch), so a regression there shows on its own.
//!
//! `cargo bench -p sim-core --bench phold [-- N ...]` (default 10^3 ... 10^6);
//! each size runs about 10^7 events. Prints, per N: events, wall seconds,
//! events per second, and the resident memory the N idle nodes added
//! (after they were created and before the first event), per node.

use sim_core::churn::ChurnConfig;
use sim_core::detector::DetectorConfig;
use sim_core::memory::resident_kb;
use sim_core::network::{Latency, NetworkConfig};
use sim_core::rng::Draw;
use sim_core::{Ctx, IdSpace, Message, NodeId, Peer, Protocol, RingId, SimConfig, SimTime, Simulation};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Hop;

impl Message for Hop {
    const KINDS: &'static [&'static str] = &["hop"];
    fn kind_index(&self) -> usize {
        0
    }
}

/// A PHOLD node: no state but the count of nodes to pick from.
#[derive(Debug)]
struct Phold;

impl Phold {
    fn send_to_random(ctx: &mut Ctx<'_, Self>) {
        let nodes = *ctx.config;
        let to = NodeId(ctx.rng().below(u64::from(nodes)) as u32);
        ctx.send(to, Hop);
    }
}

impl Protocol for Phold {
    type Config = u32;
    type Message = Hop;
    type Timer = ();
    type Request = ();
    type Report = ();

    fn create(_me: Peer, _contact: Option<Peer>, _config: &u32) -> Self {
        Phold
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        Self::send_to_random(ctx);
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, _message: Hop) {
        Self::send_to_random(ctx);
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}
    fn on_request(&mut self, _ctx: &mut Ctx<'_, Self>, _request: ()) {}
}

fn main() {
    let sizes: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 10_000, 100_000, 1_000_000] } else { sizes };
    println!("| nodes | events | wall s | events/s | bytes/node (idle) | slot B | event B |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for nodes in sizes {
        let config = SimConfig {
            seed: 1,
            space: IdSpace::full(),
            network: NetworkConfig { latency: Latency::Uniform { min_ms: 1.0, max_ms: 10.0 }, loss: 0.0 },
            detector: DetectorConfig::default(),
            churn: ChurnConfig::default(),
        };
        let rss_before = resident_kb().unwrap_or(0);
        let mut sim = Simulation::<Phold>::new(config, nodes);
        let ids: Vec<RingId> = (0..nodes).map(|i| RingId(u64::from(i) << 32)).collect();
        sim.spawn_all_with(&ids, 0, |_, _, _| Phold);
        let rss_idle = resident_kb().unwrap_or(0);
        // One message per node every 5.5 ms on average: about 10^7 events.
        let simulated_s = 1e7 / (f64::from(nodes) * 182.0);
        #[allow(clippy::disallowed_methods)] // a benchmark reads the clock, outside the run
        let start = std::time::Instant::now();
        sim.run_until(SimTime::from_secs_f64(simulated_s));
        let wall_s = start.elapsed().as_secs_f64();
        let events = sim.counters().events;
        let bytes_per_node = (rss_idle.saturating_sub(rss_before) * 1024) as f64 / f64::from(nodes);
        println!(
            "| {nodes} | {events} | {wall_s:.3} | {:.0} | {bytes_per_node:.0} | {} | {} |",
            events as f64 / wall_s,
            Simulation::<Phold>::slot_bytes(),
            Simulation::<Phold>::event_bytes()
        );
    }
}
