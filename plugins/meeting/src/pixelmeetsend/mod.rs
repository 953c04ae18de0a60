// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixelmeetsend`: the sending half of a participant, as one bin.
//!
//! Raw video on `video_sink` goes `faceroi ! bgreplace ! pixeldiffenc ! rtppixeldiffpay` into an
//! `rtpbin` and out to `host:port` (RTCP on port+1); raw audio on the request pad `audio_sink`
//! goes through Opus to port+2 (RTCP port+3). The receivers' reports arrive on `report-port`
//! (audio's on report-port+1) and pass `pixeldiffadapt`, which steers the encoder's bitrate;
//! picture-loss requests make keyframes. SSRCs are random per session unless `ssrc` is set.
//! With `key-file`, media and RTCP are SRTP-protected both ways.
//!
//! The children keep their factory names, so their own properties are set through the bin:
//! `faceroi::mode=owner`, `bgreplace::background=blur`, `pixeldiffenc::quality=40`,
//! `pixeldiffadapt::max-bitrate=1500`, `rtpbin::...`. Element messages of the children (the
//! stats) are posted with the bin as their source. Properties are read when the bin goes to
//! READY the first time.
//!
//! ```text
//! videotestsrc is-live=true ! video/x-raw,width=320,height=240 ! pixelmeetsend name=tx host=127.0.0.1 port=5000 \
//!   audiotestsrc is-live=true ! tx.audio_sink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct PixelmeetSend(ObjectSubclass<imp::PixelmeetSend>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "pixelmeetsend",
        gst::Rank::NONE,
        PixelmeetSend::static_type(),
    )
}
