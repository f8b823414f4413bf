//! The fingerprint of a run: a running digest of every delivered event.
//!
//! Every event that reaches a handler folds (time, what, node, other node,
//! message kind) into a 64-bit digest. Two runs with the same digest
//! delivered the same events in the same order at the same instants; the
//! digest is what a regression test pins. An optional JSON-lines trace writes
//! the same facts, one event a line.

use crate::rng::mix64;
use std::io::Write;

/// The running digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0x6f76_6572_6c61_7973) // "overlays"
    }
}

impl Digest {
    pub fn fold(&mut self, word: u64) {
        self.0 = mix64(self.0.rotate_left(23) ^ word);
    }
    pub fn value(self) -> u64 {
        self.0
    }
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// What happened, for the digest and the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TraceKind {
    Start = 1,
    Deliver = 2,
    Timer = 3,
    Suspect = 4,
    Alive = 5,
    Request = 6,
    Leave = 7,
    Crash = 8,
}

impl TraceKind {
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Start => "start",
            TraceKind::Deliver => "deliver",
            TraceKind::Timer => "timer",
            TraceKind::Suspect => "suspect",
            TraceKind::Alive => "alive",
            TraceKind::Request => "request",
            TraceKind::Leave => "leave",
            TraceKind::Crash => "crash",
        }
    }
}

/// A JSON-lines event log.
pub struct TraceWriter {
    out: Box<dyn Write>,
    pub error: Option<std::io::Error>,
}

impl std::fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceWriter")
    }
}

impl TraceWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        TraceWriter { out, error: None }
    }

    pub fn line(&mut self, time_us: u64, kind: TraceKind, node: u32, other: Option<u32>, detail: &str) {
        if self.error.is_some() {
            return;
        }
        let result = match other {
            Some(other) => writeln!(
                self.out,
                r#"{{"t_us":{time_us},"event":"{}","node":{node},"other":{other},"detail":"{detail}"}}"#,
                kind.name()
            ),
            None => writeln!(
                self.out,
                r#"{{"t_us":{time_us},"event":"{}","node":{node},"detail":"{detail}"}}"#,
                kind.name()
            ),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_depends_on_order() {
        let mut a = Digest::default();
        a.fold(1);
        a.fold(2);
        let mut b = Digest::default();
        b.fold(2);
        b.fold(1);
        assert_ne!(a, b);
        let mut c = Digest::default();
        c.fold(1);
        c.fold(2);
        assert_eq!(a, c);
        assert_eq!(a.hex().len(), 16);
    }
}
