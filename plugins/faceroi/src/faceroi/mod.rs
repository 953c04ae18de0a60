// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `faceroi`: face detection and tracking on raw video.
//!
//! Detects faces with a real detector (rustface, the SeetaFace funnel-structured cascade; the
//! model is compiled in) on a downscaled copy every `detection-interval` frames and tracks them
//! in between, so ids stay stable, boxes do not jitter and follow motion, and short misses are
//! bridged. The buffer passes through (in place) with, for each face reported:
//!
//! * a `GstVideoRegionOfInterestMeta` of type `face`, id = track id, with a `detection`
//!   parameter structure holding `confidence` (double, the detector score);
//!
//! and, depending on `updates`, an element message shaped like GStreamer's `facedetect` one,
//! so apps written for it keep working:
//!
//! ```text
//! faceroi, timestamp=(guint64), stream-time=(guint64), running-time=(guint64),
//!     duration=(guint64), faces=(structure){ face, x=(uint), y=(uint), width=(uint),
//!     height=(uint), confidence=(double), id=(uint) } ...
//! ```
//!
//! Whenever presence changes it posts `faceroi-presence, face-present=(boolean),
//! faces=(uint)` with the same four timing fields, whatever `updates` says, so an app can
//! switch to audio only.
//!
//! `mode=owner` enrolls one face (the largest, or the first: `enroll`), then reports only that
//! person, followed by position and appearance (face and clothing colours) when a second
//! person enters, crosses or leaves. `mask-others` fills or pixelates everyone else so they
//! never leave the machine. Re-enroll with the `enroll-owner` action signal or a custom event
//! (upstream or downstream) named `faceroi-enroll`. `no-face-action` passes, drops or blanks
//! frames while nobody is there.
//!
//! ```text
//! gst-launch-1.0 v4l2src ! videoconvert ! faceroi draw=true ! videoconvert ! autovideosink
//! gst-launch-1.0 -m videotestsrc ! faceroi updates=on-change ! fakesink
//! gst-launch-1.0 v4l2src ! videoconvert ! faceroi mode=owner mask-others=pixelate \
//!     no-face-action=drop margin=60 ! pixeldiffenc roi-mode=prioritize ! ...
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;

pub use imp::{Enroll, MaskOthers, Mode, NoFaceAction, Updates};

glib::wrapper! {
    pub struct FaceRoi(ObjectSubclass<imp::FaceRoi>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        for t in [
            Updates::static_type(),
            Mode::static_type(),
            Enroll::static_type(),
            MaskOthers::static_type(),
            NoFaceAction::static_type(),
        ] {
            t.mark_as_plugin_api(gst::PluginAPIFlags::empty());
        }
    }
    gst::Element::register(
        Some(plugin),
        "faceroi",
        gst::Rank::NONE,
        FaceRoi::static_type(),
    )
}
