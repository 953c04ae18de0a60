// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Shared helpers for pixelmeet's examples, integration tests and benchmark program.

pub mod composite;
pub mod contact;
pub mod faces;
pub mod identity;
pub mod owner_scene;
pub mod plot;
pub mod quality;
pub mod rd;
pub mod regions;
pub mod scene;
pub mod table;
pub mod y4m;

// The tutorial's code blocks run as doc tests, so the tutorial cannot drift from the API.
#[doc = include_str!("../docs/tutorial.md")]
pub mod tutorial {}

/// Initialise GStreamer and register every pixelmeet plugin statically.
pub fn init() -> Result<(), Box<dyn std::error::Error>> {
    gst::init()?;
    gstpixeldiff::plugin_register_static()?;
    gstfaceroi::plugin_register_static()?;
    gstbgreplace::plugin_register_static()?;
    gstpixelmeet::plugin_register_static()?;
    Ok(())
}
