//! `--set key.path=value`: assignments applied onto a parsed scenario table.

use toml::{Table, Value};

use super::path::{KeyPath, Seg};

/// Applies one `key.path=value` assignment to `table`, creating missing
/// intermediate tables; the value is TOML, and a bare word that is not valid
/// TOML is taken as a string (so `protocol=chord` works). On error the
/// table is left unchanged.
pub fn apply_override(table: &mut Table, assignment: &str) -> Result<(), String> {
    apply(table, assignment).map(|_| ())
}

/// [`apply_override`], returning the path that was set.
pub(super) fn apply(table: &mut Table, assignment: &str) -> Result<KeyPath, String> {
    let Some((key, value)) = assignment.split_once('=') else {
        return Err("expected key.path=value".to_owned());
    };
    let path = KeyPath::parse(key)?;
    let value = parse_value(value)?;
    // Work on a copy, so that a failed assignment leaves `table` untouched.
    let mut root = Value::Table(table.clone());
    set(&mut root, &path, value)?;
    if let Value::Table(t) = root {
        *table = t;
    }
    Ok(path)
}

/// A `--set` value: TOML if it parses, otherwise the trimmed text as a
/// string, unless it starts like a TOML string, array or inline table.
pub(super) fn parse_value(text: &str) -> Result<Value, String> {
    let text = text.trim();
    match text.parse::<Value>() {
        Ok(value) => Ok(value),
        Err(e) if text.starts_with(['"', '\'', '[', '{']) => {
            Err(format!("invalid TOML value `{text}`: {}", e.message()))
        }
        Err(_) => Ok(Value::String(text.to_owned())),
    }
}

fn set(root: &mut Value, path: &KeyPath, value: Value) -> Result<(), String> {
    let segments = path.segments();
    let mut current = root;
    let mut walked = KeyPath::root();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match seg {
            Seg::Key(key) => {
                let table = match current {
                    Value::Table(table) => table,
                    other => return Err(not_a(&walked, other, "table")),
                };
                if last {
                    table.insert(key.clone(), value);
                    return Ok(());
                }
                current = table.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
                walked.push_key(key);
            }
            Seg::Index(n) => {
                let array = match current {
                    Value::Array(array) => array,
                    other => return Err(not_a(&walked, other, "array")),
                };
                let len = array.len();
                let Some(slot) = array.get_mut(*n) else {
                    return Err(format!("`{walked}` has {len} entries, there is no [{n}]"));
                };
                if last {
                    *slot = value;
                    return Ok(());
                }
                current = slot;
                walked.push_index(*n);
            }
        }
    }
    Ok(())
}

fn not_a(path: &KeyPath, value: &Value, wanted: &str) -> String {
    let found = value.type_str();
    let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("`{path}` is {article} {found}, not {}", if wanted == "array" { "an array" } else { "a table" })
}
