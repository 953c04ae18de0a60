// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixelmeet for applications: [`init`] registers every pixelmeet element in-process (no
//! `GST_PLUGIN_PATH` needed), and the [`tutorial`] shows them at work. The examples and the
//! tests that span several elements (state changes, launchers, docs, examples) live here.

// The tutorial's code blocks run as doc tests, so the tutorial cannot drift from the API.
#[doc = include_str!("../../docs/tutorial.md")]
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
