// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0
#![allow(clippy::non_send_fields_in_send_ty, unused_doc_comments)]

//! GStreamer pixelmeet plugin: one participant of a meeting as two bins. `pixelmeetsend` takes
//! raw video (and audio) and sends them over RTP/UDP with RTCP, face priority, background
//! replacement and bitrate adaptation; `pixelmeetrecv` receives them, follows a restarted
//! sender and gives decoded video and audio. The graph, its ports, payload types and RTCP
//! timing are written here once; the launchers and the meeting example use these bins.

use gst::glib;

mod e2e;
mod graph;
mod key;
mod pixelmeetrecv;
mod pixelmeetsend;
mod server;
mod ssrc_gate;
mod tile;
mod transport_feedback;

pub use graph::{AUDIO_PAYLOAD_TYPE, DEFAULT_PORT, DEFAULT_REPORT_PORT};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    pixelmeetsend::register(plugin)?;
    pixelmeetrecv::register(plugin)?;
    Ok(())
}

video_glue::plugin_define!(pixelmeet, plugin_init);
