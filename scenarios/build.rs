//! Fingerprints the simulator's own source, so that every output can name
//! the build that produced it (`provenance::BUILD`): a hash of every file
//! under the workspace crates' `src/`, the shipped scenarios and figures,
//! and the manifests and lock file. Two binaries built from the same source
//! give the same fingerprint, with or without git.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| manifest.clone());
    let roots = [
        workspace.join("sim-core/src"),
        workspace.join("protocols/src"),
        workspace.join("reports/src"),
        manifest.join("src"),
        manifest.join("scenarios"),
        manifest.join("figures"),
    ];
    let single = [
        workspace.join("Cargo.toml"),
        workspace.join("Cargo.lock"),
        workspace.join("sim-core/Cargo.toml"),
        workspace.join("protocols/Cargo.toml"),
        workspace.join("reports/Cargo.toml"),
        manifest.join("Cargo.toml"),
    ];
    let mut files = Vec::new();
    for root in &roots {
        println!("cargo:rerun-if-changed={}", root.display());
        collect(root, &mut files);
    }
    for file in &single {
        println!("cargo:rerun-if-changed={}", file.display());
        if file.is_file() {
            files.push(file.clone());
        }
    }
    let mut named: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&workspace).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            (relative, path)
        })
        .collect();
    named.sort();
    // FNV-1a, 64 bits, twice with different offsets: 128 bits of fingerprint.
    let mut hashes = [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64];
    let mut feed = |bytes: &[u8]| {
        for hash in &mut hashes {
            for &byte in bytes {
                *hash = (*hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    };
    for (relative, path) in &named {
        let Ok(bytes) = std::fs::read(path) else { continue };
        feed(relative.as_bytes());
        feed(&[0]);
        feed(&(bytes.len() as u64).to_le_bytes());
        feed(&bytes);
    }
    println!("cargo:rustc-env=OVERLAYSIM_SOURCE_HASH={:016x}{:016x}", hashes[0], hashes[1]);
}
