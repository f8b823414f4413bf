//! The process's resident memory, for the performance reports (`perf.csv`,
//! the benches). Read from `/proc/self/status`; None where there is none.
//! Never read inside a run's logic: it is not deterministic.

/// Current resident memory in KiB.
pub fn resident_kb() -> Option<u64> {
    status_field("VmRSS:")
}

/// Peak resident memory in KiB.
pub fn peak_resident_kb() -> Option<u64> {
    status_field("VmHWM:")
}

fn status_field(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
