// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `bgreplace`: background replacement on raw video, in place.
//!
//! Decides per pixel what is person and what is background, then replaces the background by
//! `background`: a flat `color` (ARGB; alpha below 255 tints the room instead), the picture at
//! `location` (PNG or JPEG, scaled to cover the frame), the frame blurred by `blur-radius`, or
//! `freeze`, a still plate of the room that fills in behind the person as they move. A
//! replaced background does not change from frame to frame, so `pixeldiffenc` never sends it.
//!
//! How the person is found (`method`):
//!
//! * `model` (default): a background learnt from the first frames and adapting slowly
//!   (`learning-rate`): per-pixel mean and variance of luma and colour differences, an
//!   exposure gain so auto-exposure does not flood the mask, shadows tolerated away from
//!   faces. With `faceroi` upstream, each face's ROI meta grows a head-and-shoulders prior:
//!   the middle of the head and chest is person whatever its colour, the silhouette leans to
//!   person, far regions lean to background (moving scenery is learnt as background there).
//!   A person sitting still never fades while their face is found. `relearn` (action signal,
//!   or a custom event named `bgreplace-relearn` in either direction) starts over.
//! * `alpha`: the input's alpha channel is the mask, used exactly (255 = person), so any
//!   upstream segmenter, a neural one too, can drive the replacement.
//! * `roi`: a soft head-and-shoulders silhouette from the ROI meta alone, for when no clean
//!   background can be learnt (a moving camera).
//!
//! The mask is cleaned (closing, small blobs and holes, temporal hysteresis against flicker)
//! and feathered by `feather` pixels. `output-mask` also writes it into the alpha channel
//! (the element then negotiates a format with alpha).
//!
//! ```text
//! gst-launch-1.0 v4l2src ! videoconvert ! faceroi ! bgreplace background=blur ! \
//!     videoconvert ! autovideosink
//! gst-launch-1.0 v4l2src ! videoconvert ! faceroi margin=60 ! bgreplace color=0xff203040 ! \
//!     pixeldiffenc ! rtppixeldiffpay ! udpsink host=127.0.0.1 port=5000
//! gst-launch-1.0 filesrc location=clip.y4m ! y4mdec ! bgreplace background=image \
//!     location=beach.jpg ! videoconvert ! autovideosink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

pub use imp::{Background, Keep, Method};

glib::wrapper! {
    pub struct BgReplace(ObjectSubclass<imp::BgReplace>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        for t in [
            Method::static_type(),
            Background::static_type(),
            Keep::static_type(),
        ] {
            t.mark_as_plugin_api(gst::PluginAPIFlags::empty());
        }
    }
    gst::Element::register(
        Some(plugin),
        "bgreplace",
        gst::Rank::NONE,
        BgReplace::static_type(),
    )
}
