// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0
#![allow(clippy::non_send_fields_in_send_ty, unused_doc_comments)]

//! GStreamer pixeldiff plugin: `pixeldiffenc` and `pixeldiffdec`, a conditional-replenishment
//! codec that sends only the blocks that changed, and `rtppixeldiffpay` / `rtppixeldiffdepay`,
//! its RTP payload format. The codec itself lives in `pixeldiff-codec`;
//! these elements are glue.

use gst::glib;
use pixeldiff_codec::{PixelFormat, MAX_DIMENSION, VERSION};

// Public for its `controller` (loss-based rate control and the RTCP report-block parser), which
// has no GStreamer types and is fuzzed on its own.
pub mod pixeldiffadapt;
mod pixeldiffdec;
mod pixeldiffenc;
pub mod rtp;
mod rtppixeldiffdepay;
mod rtppixeldiffpay;
mod stats;

pub use pixeldiffenc::{NoRoiAction, RoiMode};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    pixeldiffenc::register(plugin)?;
    pixeldiffdec::register(plugin)?;
    rtppixeldiffpay::register(plugin)?;
    rtppixeldiffdepay::register(plugin)?;
    pixeldiffadapt::register(plugin)?;
    Ok(())
}

video_glue::plugin_define!(pixeldiff, plugin_init);

/// GStreamer raw format of each codec pixel format.
fn pixel_to_video_format(f: PixelFormat) -> gst_video::VideoFormat {
    match f {
        PixelFormat::Gray8 => gst_video::VideoFormat::Gray8,
        PixelFormat::I420 => gst_video::VideoFormat::I420,
        PixelFormat::Nv12 => gst_video::VideoFormat::Nv12,
        PixelFormat::Rgb => gst_video::VideoFormat::Rgb,
        PixelFormat::Bgrx => gst_video::VideoFormat::Bgrx,
    }
}

fn video_format_to_pixel(f: gst_video::VideoFormat) -> Option<PixelFormat> {
    PixelFormat::ALL
        .into_iter()
        .find(|&p| pixel_to_video_format(p) == f)
}

/// Raw video caps the codec carries.
fn raw_caps() -> gst::Caps {
    gst_video::VideoCapsBuilder::new()
        .format_list(PixelFormat::ALL.into_iter().map(pixel_to_video_format))
        .width_range(1..=MAX_DIMENSION as i32)
        .height_range(1..=MAX_DIMENSION as i32)
        .build()
}

/// `video/x-pixeldiff` caps for pad templates.
fn pixeldiff_caps_template() -> gst::Caps {
    gst::Caps::builder("video/x-pixeldiff")
        .field("version", VERSION as i32)
        .build()
}
