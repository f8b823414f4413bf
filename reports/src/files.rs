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

/// Whether a regular file is at `path` (false: nothing is); an error when
/// something else is: a symlink (which could point out of the output
/// folder), a directory, a device, a pipe or a socket. What reads or
/// replaces a file of ours asks this first.
pub fn regular_file(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(anyhow::anyhow!("{}: cannot inspect the output path: {e}", path.display())),
        Ok(meta) if meta.file_type().is_symlink() => {
            anyhow::bail!("{}: the output path is a symlink; refusing to write through or over it", path.display())
        }
        Ok(meta) if meta.is_dir() => {
            anyhow::bail!("{}: the output path is a directory; refusing to replace it", path.display())
        }
        Ok(meta) if !meta.is_file() => anyhow::bail!(
            "{}: the output path is not a regular file (a device, pipe or socket); refusing to replace it",
            path.display()
        ),
        Ok(_) => Ok(true),
    }
}

/// Refuses to write over anything but a regular file of ours
/// ([`regular_file`]); a path that does not exist yet is fine.
pub fn check_target(path: &Path) -> Result<()> {
    regular_file(path).map(|_| ())
}

/// Creates the directory `path` (and its parents) if needed; refuses one
/// that is a symlink or not a directory, so that files written inside an
/// output folder never land outside it.
pub fn ensure_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("cannot inspect {}", path.display()))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        anyhow::bail!("{}: not a directory of ours (a symlink?); refusing to write into it", path.display());
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename; refuses
/// a target that is not a regular file ([`check_target`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    check_target(path)?;
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

/// Moves a finished temporary file into place (refusing a target that is
/// not a regular file), or removes it.
pub fn commit(temporary: &Path, path: &Path, written: Result<()>) -> Result<()> {
    let result = written
        .and_then(|()| check_target(path))
        .and_then(|()| std::fs::rename(temporary, path).with_context(|| format!("cannot write {}", path.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_and_new_paths_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(format!("{:#}", write_atomic(&sub, b"x").unwrap_err()).contains("is a directory"));
        assert!(sub.is_dir());
        #[cfg(unix)]
        {
            let outside = dir.path().join("outside.txt");
            std::fs::write(&outside, b"keep").unwrap();
            let link = dir.path().join("link.txt");
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            assert!(format!("{:#}", write_atomic(&link, b"x").unwrap_err()).contains("symlink"));
            assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert!(format!("{:#}", write_atomic(Path::new("/dev/null"), b"x").unwrap_err()).contains("not a regular"));
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!names.iter().any(|n| n.to_string_lossy().contains(".tmp")), "{names:?}");
    }
}
