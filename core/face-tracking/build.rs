// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Embeds rustface's SeetaFace model, which ships inside the rustface crate package, so the
//! detector never reads or downloads a file at run time. Where the package was unpacked:
//! `RUSTFACE_MODEL` if set, else cargo's registry cache (the version is pinned in Cargo.toml),
//! else whatever `cargo metadata` says (vendored sources, other registries).

use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "rustface-0.1.7";
const MODEL_IN_PACKAGE: &str = "model/seeta_fd_frontal_v1.0.bin";

fn from_registry() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|index| index.path().join(PACKAGE).join(MODEL_IN_PACKAGE))
        .find(|model| model.is_file())
}

fn from_metadata() -> Option<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(std::env::var("CARGO_MANIFEST_DIR").ok()?)
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    let manifest = metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "rustface")?["manifest_path"]
        .as_str()?
        .to_owned();
    Some(Path::new(&manifest).parent()?.join(MODEL_IN_PACKAGE))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTFACE_MODEL");
    let model = std::env::var_os("RUSTFACE_MODEL")
        .map(PathBuf::from)
        .or_else(from_registry)
        .or_else(from_metadata)
        .filter(|m| m.is_file())
        .unwrap_or_else(|| {
            panic!("cannot find {MODEL_IN_PACKAGE} of {PACKAGE}; set RUSTFACE_MODEL to its path")
        });
    println!("cargo:rustc-env=SEETA_MODEL_PATH={}", model.display());
}
