// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0
#![allow(clippy::non_send_fields_in_send_ty, unused_doc_comments)]

//! GStreamer faceroi plugin: `faceroi` finds and tracks faces in raw video, attaches a
//! `GstVideoRegionOfInterestMeta` per face, posts facedetect-style messages, can follow only
//! the owner of the camera and decides what happens when nobody is there. The detector and
//! tracker live in `face-tracking`; the element is glue.

use gst::glib;

mod faceroi;

pub use faceroi::{Enroll, MaskOthers, Mode, NoFaceAction, Updates};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    faceroi::register(plugin)
}

video_glue::plugin_define!(faceroi, plugin_init);
