//! Output files, written atomically: each file goes to a temporary name in
//! its directory and is renamed into place, so a reader (or a resumed sweep)
//! never sees half a file.

use crate::runner::Table;
use anyhow::{Context, Result};
use std::path::Path;

pub use reports::files::{check_target, commit, ensure_dir, regular_file, write_atomic};

/// A table as CSV text.
pub fn csv_bytes(table: &Table) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.header)?;
    for row in &table.rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// Writes a table as CSV, atomically.
pub fn write_csv(path: &Path, table: &Table) -> Result<()> {
    write_atomic(path, &csv_bytes(table)?)
}

/// Reads a CSV file into a table.
pub fn read_csv(path: &Path) -> Result<Table> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("malformed CSV in {}", path.display()))?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(Table { header, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_leave_no_temporary_file_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut table = Table::new(&["a", "b"]);
        table.rows.push(vec!["1".into(), "x,y".into()]);
        write_csv(&path, &table).unwrap();
        assert_eq!(read_csv(&path).unwrap(), table);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
        assert!(write_atomic(&dir.path().join("missing/t.csv"), b"x").is_err());
    }
}
