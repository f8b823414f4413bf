//! Output files, written atomically: each file goes to a temporary name in
//! its directory and is renamed into place, so a reader (or a resumed sweep)
//! never sees half a file.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A temporary name beside `path`, ending in `suffix`.
pub(crate) fn temporary_beside(path: &Path, suffix: &str) -> Result<PathBuf> {
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().context("output path has no file name")?.to_string_lossy();
    Ok(directory.join(format!(".{name}.{}{suffix}", std::process::id())))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = temporary_beside(path, ".tmp")?;
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Moves a finished temporary file into place, or removes it.
pub(crate) fn commit(temporary: &Path, path: &Path, written: Result<()>) -> Result<()> {
    let result = written
        .and_then(|()| std::fs::rename(temporary, path).with_context(|| format!("cannot write {}", path.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(temporary);
    }
    result
}
