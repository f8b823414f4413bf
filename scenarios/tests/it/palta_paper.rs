//! PALTA (SCCC 2008) at CI-sized N.

use crate::support::{number, run_builtin};

fn palta(nodes: u32, omega: u32) -> scenarios::runner::RunResult {
    run_builtin(
        "palta2008",
        &[
            &format!("nodes.initial={nodes}"),
            &format!("protocol_params.omega={omega}"),
            &format!("duration_s={}", nodes / 5 + 15),
        ],
    )
}

#[test]
fn connections_peak_at_omega_and_fall_beyond() {
    // Reference: PALTA 2008, connections per peer with ω = 100: 101 at
    // N = 100 (the full mesh), 53 at N = 200, falling towards the relaxed
    // ring's as N grows.
    let at_omega = palta(60, 60);
    let twice = palta(120, 60);
    let four_times = palta(240, 60);
    assert_eq!(number(&at_omega, "connections_per_peer"), 59.0, "a full mesh of 60");
    let (c2, c4) = (number(&twice, "connections_per_peer"), number(&four_times, "connections_per_peer"));
    assert!((24.0..=36.0).contains(&c2), "N = 2ω: {c2}"); // paper: about ω/2
    assert!(c4 < c2 && c4 > 10.0, "N = 4ω: {c4}");
    for result in [&at_omega, &twice, &four_times] {
        assert_eq!(number(result, "perfect_ring"), 1.0);
        assert_eq!(number(result, "inconsistent_key_fraction_max"), 0.0);
    }
}

#[test]
fn a_full_mesh_costs_about_n_squared_messages() {
    // Reference: PALTA 2008, messages to build a full mesh: 9905 for 100
    // peers, 39 770 for 200 (about N²). Beyond ω each joiner costs six:
    // mesh_join and use_ring, then the relaxed ring's four.
    let mesh = palta(100, 1000);
    let build = number(&mesh, "build_messages");
    assert!((build - 9905.0).abs() <= 0.05 * 9905.0, "{build}");
    let switched = palta(200, 100);
    let grown = number(&switched, "build_messages") - build;
    assert!((grown - 600.0).abs() <= 60.0, "{grown} messages for 100 ring joins");
}
