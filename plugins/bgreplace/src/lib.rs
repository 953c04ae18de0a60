// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0
#![allow(clippy::non_send_fields_in_send_ty, unused_doc_comments)]

//! GStreamer bgreplace plugin: `bgreplace` replaces the background of raw video with a
//! colour, a picture, a blur or a still plate, so a conditional-replenishment encoder
//! downstream never has to send it. The segmentation and compositing live in
//! `background-model`; the element is glue.

use gst::glib;

mod bgreplace;

pub use bgreplace::{Background, Keep, Method};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    bgreplace::register(plugin)
}

video_glue::plugin_define!(bgreplace, plugin_init);
