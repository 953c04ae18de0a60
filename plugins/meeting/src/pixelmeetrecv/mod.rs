// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixelmeetrecv`: the receiving half of a participant, as one bin.
//!
//! It listens on `port` (video RTP; RTCP on port+1, audio on port+2 and +3), decodes the video
//! (`rtppixeldiffdepay ! pixeldiffdec`) to `video_src` and the Opus audio to `audio_src`, and
//! sends its reports (loss, NACK, picture-loss requests) to `report-host:report-port`.
//!
//! Every video stream rtpbin finds goes to the depayloader, which follows one sender and takes a
//! restarted one (a new, random SSRC) once the old has been silent for 500 ms; audio follows the
//! newest stream. So a receiver started from gst-launch shows a restarted sender again. An output
//! left unlinked drops what reaches it. With `key-file`, media and RTCP are SRTP-protected both
//! ways. Children keep their factory names (`rtpbin::...`, `pixeldiffdec::...`); their element
//! messages are posted with the bin as source. Properties are read at the first READY.
//!
//! ```text
//! pixelmeetrecv name=rx port=5000 report-host=127.0.0.1 report-port=5004 \
//!   rx.video_src ! videoconvert ! autovideosink  rx.audio_src ! autoaudiosink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct PixelmeetRecv(ObjectSubclass<imp::PixelmeetRecv>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "pixelmeetrecv",
        gst::Rank::NONE,
        PixelmeetRecv::static_type(),
    )
}
