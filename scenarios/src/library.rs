//! The shipped scenarios, compiled into the binary so that `overlaysim run
//! quickstart` works on a fresh machine with nothing else present.

/// (name, text) of every shipped scenario.
pub const BUILTIN: &[(&str, &str)] = &[
    ("quickstart", include_str!("../scenarios/quickstart.toml")),
    ("chord-stable", include_str!("../scenarios/chord-stable.toml")),
    ("chord-path-length", include_str!("../scenarios/chord-path-length.toml")),
    ("chord-failures", include_str!("../scenarios/chord-failures.toml")),
    ("chord-failures-no-stabilization", include_str!("../scenarios/chord-failures-no-stabilization.toml")),
    ("chord-failures-ton", include_str!("../scenarios/chord-failures-ton.toml")),
    ("chord-churn", include_str!("../scenarios/chord-churn.toml")),
    ("compare-churn", include_str!("../scenarios/compare-churn.toml")),
    ("ppl2008-bootstrap", include_str!("../scenarios/ppl2008-bootstrap.toml")),
    ("ppl2008-chord-bootstrap", include_str!("../scenarios/ppl2008-chord-bootstrap.toml")),
    ("palta2008", include_str!("../scenarios/palta2008.toml")),
    ("palta2008-relaxed-ring", include_str!("../scenarios/palta2008-relaxed-ring.toml")),
    ("merge-two-rings", include_str!("../scenarios/merge-two-rings.toml")),
    ("merge-rings-apart", include_str!("../scenarios/merge-rings-apart.toml")),
    ("merge-loopy", include_str!("../scenarios/merge-loopy.toml")),
    ("merge-check", include_str!("../scenarios/merge-check.toml")),
    ("check-ring", include_str!("../scenarios/check-ring.toml")),
    ("bench-chord", include_str!("../scenarios/bench-chord.toml")),
    ("bench-chord-churn", include_str!("../scenarios/bench-chord-churn.toml")),
    ("gossip-flat", include_str!("../scenarios/gossip-flat.toml")),
    ("check-gossip", include_str!("../scenarios/check-gossip.toml")),
];

/// The text of a shipped scenario by name (with or without `.toml`).
pub fn builtin(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// The first comment line of a scenario, or its `description`.
pub fn describe(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("description = "))
        .map(|d| d.trim_matches('"').to_string())
        .unwrap_or_default()
}
