//! Dotted key paths such as `network.latency.ms[1][0]`, as messages print
//! them and as `--set` names them.

use std::fmt;

/// A path from the document root to a key or an array element.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct KeyPath(Vec<Seg>);

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Seg {
    /// A table key.
    Key(String),
    /// An array index, from 0.
    Index(usize),
}

impl KeyPath {
    /// The document root (the empty path).
    pub(super) fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// A path of table keys only.
    pub(super) fn of(keys: &[&str]) -> Self {
        KeyPath(keys.iter().map(|k| Seg::Key((*k).to_owned())).collect())
    }

    /// This path extended by a key.
    pub(super) fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.push_key(key);
        path
    }

    /// This path extended by an array index.
    pub(super) fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.push_index(index);
        path
    }

    pub(super) fn push_key(&mut self, key: &str) {
        self.0.push(Seg::Key(key.to_owned()));
    }

    pub(super) fn push_index(&mut self, index: usize) {
        self.0.push(Seg::Index(index));
    }

    /// The enclosing path; None at the root.
    pub(super) fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(KeyPath(rest.to_vec()))
    }

    pub(super) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub(super) fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub(super) fn segments(&self) -> &[Seg] {
        &self.0
    }

    /// Parses a `--set` key: bare keys separated by dots, each optionally
    /// followed by array indices, e.g. `events[0].at_s`.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty key".to_owned());
        }
        let mut segs = Vec::new();
        for part in text.split('.') {
            let part = part.trim();
            let (name, mut rest) = match part.find('[') {
                Some(i) => part.split_at(i),
                None => (part, ""),
            };
            if name.is_empty() || !name.chars().all(is_bare_key_char) {
                return Err(format!(
                    "invalid key `{part}` in `{text}` (a key is letters, digits, `_` and `-`, optionally followed by [index])"
                ));
            }
            segs.push(Seg::Key(name.to_owned()));
            while !rest.is_empty() {
                let index = rest
                    .strip_prefix('[')
                    .and_then(|inner| inner.split_once(']'))
                    .and_then(|(digits, after)| digits.trim().parse::<usize>().ok().map(|n| (n, after)));
                let Some((n, after)) = index else {
                    return Err(format!("invalid index `{rest}` in `{text}` (expected [n] with n >= 0)"));
                };
                segs.push(Seg::Index(n));
                rest = after;
            }
        }
        Ok(KeyPath(segs))
    }
}

fn is_bare_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if !key.is_empty() && key.chars().all(is_bare_key_char) {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
