//! Where each key and value sits in the scenario text, for messages.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::path::KeyPath;

/// The byte ranges of one entry: its key (None for an array element) and its
/// value (for a `[table]` or `[[array]]` entry, its header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Spot {
    pub(super) key: Option<Range<usize>>,
    pub(super) value: Range<usize>,
}

/// Every key path of a document mapped to its [`Spot`].
#[derive(Clone, Debug, Default)]
pub(super) struct SpanIndex(BTreeMap<KeyPath, Spot>);

impl SpanIndex {
    /// Indexes `text`; a text that does not parse gives an empty index.
    pub(super) fn build(text: &str) -> Self {
        let mut index = SpanIndex::default();
        if let Ok(root) = DeTable::parse(text) {
            index.table(root.get_ref(), &KeyPath::root());
        }
        index
    }

    pub(super) fn get(&self, path: &KeyPath) -> Option<&Spot> {
        self.0.get(path)
    }

    fn table(&mut self, table: &DeTable<'_>, path: &KeyPath) {
        for (key, value) in table.iter() {
            let here = path.key(key.get_ref());
            self.0.insert(here.clone(), Spot { key: Some(key.span()), value: value.span() });
            self.value(value, &here);
        }
    }

    fn value(&mut self, value: &Spanned<DeValue<'_>>, path: &KeyPath) {
        match value.get_ref() {
            DeValue::Table(table) => self.table(table, path),
            DeValue::Array(array) => {
                for (i, element) in array.iter().enumerate() {
                    let here = path.index(i);
                    self.0.insert(here.clone(), Spot { key: None, value: element.span() });
                    self.value(element, &here);
                }
            }
            _ => {}
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`;
/// an offset past the end or inside a character is pulled back.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
