// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What a receiver shows on its picture for a gallery: a label with the participant's name
//! and, once the sender's faces arrive, how many are in view (`textoverlay`); and, with
//! `draw-faces`, a box around each face that came over the wire.

use gst::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The boxes' colour, as faceroi draws them.
const BOX_COLOUR: [u8; 3] = [0, 255, 0];

/// The label's text: the name, then the face count once one is known.
pub fn label_text(label: &str, faces: Option<u32>) -> String {
    match faces {
        None => label.to_string(),
        Some(1) => format!("{label} · 1 face"),
        Some(n) => format!("{label} · {n} faces"),
    }
}

/// A `textoverlay` for the label: top left, silent while there is none.
pub fn overlay() -> Result<gst::Element, gst::glib::BoolError> {
    let overlay = crate::graph::make("textoverlay", "label")?;
    overlay.set_property_from_str("valignment", "top");
    overlay.set_property_from_str("halignment", "left");
    overlay.set_property("font-desc", "Sans 10");
    overlay.set_property("shaded-background", true);
    overlay.set_property("silent", true);
    Ok(overlay)
}

/// Sets the label on `overlay` (none: silent).
pub fn show_label(overlay: &gst::Element, label: &str, faces: Option<u32>) {
    overlay.set_property("text", label_text(label, faces));
    overlay.set_property("silent", label.is_empty());
}

/// Draws a box around each face meta of the pictures leaving `pad` while `draw` is set.
pub fn draw_faces_on(pad: &gst::Pad, draw: Arc<AtomicBool>) {
    let format: Mutex<Option<(gst::Caps, video_glue::Format)>> = Mutex::new(None);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        if !draw.load(Ordering::Relaxed) {
            return gst::PadProbeReturn::Ok;
        }
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let mut format = format.lock().unwrap();
        if format.as_ref().is_none_or(|(c, _)| *c != caps) {
            *format = video_glue::Format::from_caps(&caps).map(|f| (caps, f));
        }
        let (Some((_, f)), Some(buffer)) = (format.as_ref(), info.buffer_mut()) else {
            return gst::PadProbeReturn::Ok;
        };
        let faces = video_glue::roi::faces(buffer, video_glue::roi::FACE);
        if faces.is_empty() {
            return gst::PadProbeReturn::Ok;
        }
        let (w, h) = (f.info.width(), f.info.height());
        let Some(element) = pad.parent_element() else {
            return gst::PadProbeReturn::Ok;
        };
        let _ = video_glue::with_planes_mut(&element, buffer.make_mut(), f, |layout, planes| {
            for r in faces.iter().filter_map(|r| r.to_pixels(w, h)) {
                layout.outline(planes, r, (w / 320).max(2), BOX_COLOUR);
            }
            Ok(())
        });
        gst::PadProbeReturn::Ok
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_label_says_how_many_faces_once_known() {
        assert_eq!(super::label_text("bob", None), "bob");
        assert_eq!(super::label_text("bob", Some(0)), "bob · 0 faces");
        assert_eq!(super::label_text("bob", Some(1)), "bob · 1 face");
        assert_eq!(super::label_text("bob", Some(3)), "bob · 3 faces");
    }
}
