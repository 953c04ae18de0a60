// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtp::prelude::*;
use gst_rtp::subclass::prelude::*;
use pixeldiff_codec as codec;

use crate::rtp::{rtp_caps_template, ENCODING_NAME, RTP_CLOCK_RATE};

#[derive(Default)]
pub struct RtpPixeldiffPay {
    /// An oversized chunk has been reported already: say it once, not per packet.
    warned_oversize: AtomicBool,
    /// The `faces` property: each frame's faces go with its first and last packet.
    send_faces: AtomicBool,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "rtppixeldiffpay",
        gst::DebugColorFlags::empty(),
        Some("pixeldiff RTP payloader"),
    )
});

#[glib::object_subclass]
impl ObjectSubclass for RtpPixeldiffPay {
    const NAME: &'static str = "GstRtpPixeldiffPay";
    type Type = super::RtpPixeldiffPay;
    type ParentType = gst_rtp::RTPBasePayload;
}

impl ObjectImpl for RtpPixeldiffPay {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![glib::ParamSpecBoolean::builder("faces")
                .nick("Faces")
                .blurb("Send each frame's faces (faceroi's face ROI meta: count, ids, boxes) inside the payload of its first and last packet, so the receiver can count them; off: none are sent (not even a count of 0)")
                .default_value(false)
                .mutable_playing()
                .build()]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "faces" => self.send_faces.store(
                value.get().expect("type checked upstream"),
                Ordering::Relaxed,
            ),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "faces" => self.send_faces.load(Ordering::Relaxed).to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for RtpPixeldiffPay {}

impl ElementImpl for RtpPixeldiffPay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "RTP pixeldiff payloader",
                "Codec/Payloader/Network/RTP",
                "Payloads video/x-pixeldiff into RTP packets, one self-contained chunk per packet",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            video_glue::src_and_sink_templates(
                &rtp_caps_template(),
                &crate::pixeldiff_caps_template(),
            )
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl RTPBasePayloadImpl for RtpPixeldiffPay {
    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let obj = self.obj();
        obj.set_options("video", true, ENCODING_NAME, RTP_CLOCK_RATE);
        let s = caps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        // The stream description travels as SDP-style string parameters, so that a receiver
        // configured from SDP can announce the picture before the first packet.
        let mut out = gst::Structure::new_empty("application/x-rtp");
        for field in ["width", "height"] {
            if let Ok(v) = s.get::<i32>(field) {
                out.set(field, v.to_string());
            }
        }
        if let Ok(format) = s.get::<&str>("format") {
            out.set("format", format);
        }
        // The base class adds the frame rate as `a-framerate`.
        obj.set_outcaps(Some(&out))
            .map_err(|e| gst::loggable_error!(CAT, "failed to set output caps: {e}"))
    }

    fn handle_buffer(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let obj = self.obj();
        let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
        let base = map.as_ptr() as usize;
        let mut chunks = Vec::new();
        for chunk in codec::split_chunks(&map) {
            match chunk {
                Ok(c) => chunks.push((c.as_ptr() as usize - base, c.len())),
                Err(e) => {
                    // What follows cannot be delimited; send the chunks before it.
                    gst::element_imp_warning!(
                        self,
                        gst::StreamError::Format,
                        ("Input is not whole pixeldiff chunks: {}", e),
                        ["dropping the rest of a {}-byte buffer", map.len()]
                    );
                    break;
                }
            }
        }
        drop(map);

        // Robust to the loss of any one packet of a frame of two or more: both ends carry them.
        let faces = self.send_faces.load(Ordering::Relaxed).then(|| {
            video_glue::roi::wire::Faces::new(&video_glue::roi::wire_faces(&buffer)).to_bytes()
        });
        let mtu = obj.mtu();
        let mut list = gst::BufferList::new_sized(chunks.len());
        let last = chunks.len().saturating_sub(1);
        for (i, &(offset, len)) in chunks.iter().enumerate() {
            let faces = faces.as_ref().filter(|_| i == 0 || i == last);
            let len_with_faces = len + faces.map_or(0, Vec::len);
            if gst_rtp::calc_packet_len(len_with_faces as u32, 0, 0) > mtu
                && !self.warned_oversize.swap(true, Ordering::Relaxed)
            {
                gst::element_imp_warning!(
                    self,
                    gst::StreamError::Encode,
                    (
                        "A {}-byte payload does not fit the {}-byte MTU",
                        len_with_faces,
                        mtu
                    ),
                    [
                        "set pixeldiffenc's mtu to at most {} so packets are not fragmented",
                        (mtu as usize).saturating_sub(
                            12 + faces.map_or(0, |_| video_glue::roi::wire::MAX_LEN)
                        )
                    ]
                );
            }
            let mut packet = obj.allocate_output_buffer(0, 0, 0);
            {
                let packet = packet.get_mut().expect("fresh buffer");
                let mut rtp = gst_rtp::RTPBuffer::from_buffer_writable(packet)
                    .map_err(|_| gst::FlowError::Error)?;
                rtp.set_marker(i == last);
                drop(rtp);
                packet.set_pts(buffer.pts());
                packet.set_dts(buffer.dts());
            }
            let payload = buffer
                .copy_region(gst::BufferCopyFlags::MEMORY, offset..offset + len)
                .map_err(|_| gst::FlowError::Error)?;
            packet.append(payload);
            if let Some(faces) = faces {
                packet.append(gst::Buffer::from_slice(faces.clone()));
            }
            list.get_mut().expect("fresh list").add(packet);
        }
        gst::trace!(
            CAT,
            imp = self,
            "{} packets for {:?}",
            chunks.len(),
            buffer.pts()
        );
        if list.is_empty() {
            return Ok(gst::FlowSuccess::Ok);
        }
        obj.push_list(list)
    }
}
