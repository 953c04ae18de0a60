// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What a sender and a receiver agree on: the ports of a participant, payload types, RTCP
//! timing; and the pieces both bins build their graphs from.
//!
//! Ports: a receiver listens on a base port P: video RTP on P, video RTCP on P+1, audio RTP on
//! P+2, audio RTCP on P+3. It sends its reports (RTCP receiver reports, NACK, PLI) to the
//! sender's report port R (video) and R+1 (audio).

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::key::Keys;

video_glue::property_enums! {
    /// When a bin takes a peer's announced SRTP key (see `session-keys`).
    pub enum KeyFreshness: "GstPixelmeetKeyFreshness" {
        Auto = 0, "auto", "Auto: challenge for a unicast peer that reports back, window otherwise";
        Challenge = 1, "challenge", "Challenge: the announcement must answer this session's challenge (point to point)";
        Window = 2, "window", "Window: the announcement's time must be within key-window of this clock (groups, relays)";
    }
}

pub const DEFAULT_PORT: u16 = 5000;
pub const DEFAULT_REPORT_PORT: u16 = 5004;
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Listen on every local address.
pub const ANY_ADDRESS: &str = "0.0.0.0";
/// A session's RTCP goes one port above its RTP.
pub const RTCP_OFFSET: u16 = 1;
pub const AUDIO_RTP_OFFSET: u16 = 2;
pub const AUDIO_REPORT_OFFSET: u16 = 1;

/// The RTP sessions of a participant's rtpbin.
pub const VIDEO_SESSION: u32 = 0;
pub const AUDIO_SESSION: u32 = 1;

pub const AUDIO_PAYLOAD_TYPE: u8 = 111;
/// Video retransmissions (RFC 4588) when `rtx` is on.
pub const RTX_PAYLOAD_TYPE: u8 = 97;
/// How long the sender keeps packets for retransmission, in ms.
pub const RTX_KEEP_MS: u32 = 500;
pub const OPUS_BITRATE: i32 = 32_000;
/// Reports twice a second (RTCP's default is every 5 s), so the sender adapts within seconds.
pub const RTCP_MIN_INTERVAL: gst::ClockTime = gst::ClockTime::from_mseconds(500);
pub const DEFAULT_LATENCY_MS: u32 = 50;
/// The size limit of the RTP packets a sender makes (the payloaders' `mtu`): room under a
/// 1500-byte Ethernet MTU for IPv6 and UDP headers and a tunnel.
pub const PACKET_MTU: u32 = 1400;
/// SRTP's authentication tag (HMAC-SHA1-80).
pub const SRTP_TAG_LEN: u32 = 10;
/// The video's RTP header extension id for transport-wide sequence numbers: receivers answer
/// them with feedback on each packet's arrival (`transport_feedback`), from which
/// `pixeldiffadapt` estimates the queue on the path.
pub const TWCC_EXTENSION_ID: u8 = 1;
/// What that extension adds to a packet: RFC 8285's one-byte header (4), the element (3) and
/// padding (1).
pub const TWCC_EXTENSION_LEN: u32 = 8;
/// The encoder's chunk size: what a packet leaves after the RTP header, the faces block that
/// the first and last packet of a frame carry, SFrame's header and tag and SRTP's tag.
pub const CHUNK_MTU: u32 = PACKET_MTU
    - 12
    - TWCC_EXTENSION_LEN
    - video_glue::roi::wire::MAX_LEN as u32
    - session_keys::e2e::MAX_OVERHEAD as u32
    - SRTP_TAG_LEN;
/// The payloader's limit: what the packet leaves after SFrame and SRTP, which come later, and
/// the transport-wide sequence number, which the payloader adds after packing.
pub const PAYLOADER_MTU: u32 =
    PACKET_MTU - TWCC_EXTENSION_LEN - session_keys::e2e::MAX_OVERHEAD as u32 - SRTP_TAG_LEN;

/// What a buffer probe returns to throw a buffer away, on a sink pad as on a src pad: the
/// buffer is consumed by the probe. (`Drop` on a sink pad makes GStreamer 1.22 unref the buffer
/// once more after gstreamer-rs did, a critical warning.)
pub const DISCARD: gst::PadProbeReturn = gst::PadProbeReturn::Handled;

/// Pixels faceroi widens each face by, to head and shoulders: what pixeldiffenc favours.
pub const FACE_MARGIN: u32 = 60;

/// A child element of `factory`, named `name`; the error says which package is missing.
pub fn make(factory: &str, name: &str) -> Result<gst::Element, glib::BoolError> {
    gst::ElementFactory::make(factory)
        .name(name)
        .build()
        .map_err(|_| {
            glib::bool_error!(
                "GStreamer element {factory} is missing ({})",
                package_of(factory)
            )
        })
}

fn package_of(factory: &str) -> &'static str {
    match factory {
        "faceroi" | "bgreplace" | "pixeldiffenc" | "pixeldiffdec" | "rtppixeldiffpay"
        | "rtppixeldiffdepay" | "pixeldiffadapt" => {
            "the pixelmeet plugins are not on GST_PLUGIN_PATH"
        }
        "srtpenc" | "srtpdec" | "netsim" => "gstreamer1.0-plugins-bad",
        "opusenc" | "opusdec" | "audioconvert" | "audioresample" => "gstreamer1.0-plugins-base",
        _ => "gstreamer1.0-plugins-good",
    }
}

/// An optional string property's value: empty is unset.
pub fn optional(text: &str) -> glib::Value {
    Some(text).filter(|t| !t.is_empty()).to_value()
}

/// Whether `host` is a multicast group (then its ports are shared by design).
pub fn is_multicast(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_multicast())
}

/// Network settings both bins share.
#[derive(Debug, Clone)]
pub struct Network {
    /// The interface for multicast (e.g. `lo`); empty: the system's choice.
    pub multicast_iface: String,
    /// Multicast TTL of what is sent.
    pub ttl: u32,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            multicast_iface: String::new(),
            ttl: 1,
        }
    }
}

/// The `port` and `report-port` properties both bins have, with blurbs saying what they are
/// to this bin.
pub fn port_properties(port: &str, report_port: &str) -> [glib::ParamSpec; 2] {
    [
        glib::ParamSpecUInt::builder("port")
            .nick("Port")
            .blurb(port)
            .minimum(1)
            .maximum(65532)
            .default_value(DEFAULT_PORT.into())
            .mutable_ready()
            .build(),
        glib::ParamSpecUInt::builder("report-port")
            .nick("Report port")
            .blurb(report_port)
            .maximum(65534)
            .default_value(DEFAULT_REPORT_PORT.into())
            .mutable_ready()
            .build(),
    ]
}

/// The settings both bins have besides their ports, and their properties.
#[derive(Debug, Clone)]
pub struct Shared {
    pub network: Network,
    pub rtx: bool,
    pub key_file: Option<PathBuf>,
    pub key_freshness: KeyFreshness,
    /// Seconds, for [`KeyFreshness::Window`].
    pub key_window: u32,
    /// rtpengine's ng control socket, "HOST:PORT"; empty: no media server.
    pub server: String,
    /// The room on the media server.
    pub room: String,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            network: Network::default(),
            rtx: false,
            key_file: None,
            key_freshness: KeyFreshness::Auto,
            key_window: session_keys::DEFAULT_WINDOW_SECONDS,
            server: String::new(),
            room: crate::server::DEFAULT_ROOM.into(),
        }
    }
}

impl Shared {
    /// `multicast-iface`, `ttl`, `rtx`, `key-file`, `key-freshness`, `key-window`, `server`
    /// and `room`, with blurbs saying what this bin does.
    pub fn properties(multicast: &str, rtx: &str, key_file: &str) -> Vec<glib::ParamSpec> {
        let d = Self::default();
        vec![
            glib::ParamSpecString::builder("multicast-iface")
                .nick("Multicast interface")
                .blurb(multicast)
                .mutable_ready()
                .build(),
            glib::ParamSpecUInt::builder("ttl")
                .nick("Multicast TTL")
                .blurb("Hops a multicast packet may take")
                .minimum(1)
                .maximum(255)
                .default_value(d.network.ttl)
                .mutable_ready()
                .build(),
            glib::ParamSpecBoolean::builder("rtx")
                .nick("Retransmission")
                .blurb(rtx)
                .default_value(d.rtx)
                .mutable_ready()
                .build(),
            glib::ParamSpecString::builder("key-file")
                .nick("Key file")
                .blurb(key_file)
                .mutable_ready()
                .build(),
            glib::ParamSpecEnum::builder_with_default("key-freshness", d.key_freshness)
                .nick("Key freshness")
                .blurb("When a peer's announced session key is taken; a recording of an earlier session is refused")
                .mutable_ready()
                .build(),
            glib::ParamSpecUInt::builder("key-window")
                .nick("Key window")
                .blurb("Seconds an announcement's timestamp may differ from this clock, for key-freshness=window (participants' clocks must agree that well)")
                .minimum(1)
                .maximum(3600)
                .default_value(d.key_window)
                .mutable_ready()
                .build(),
            glib::ParamSpecString::builder("server")
                .nick("Media server")
                .blurb("rtpengine's ng control address (HOST:PORT) to meet through; the media then goes through it, and with key-file it is encrypted end to end (SFrame) instead of SRTP. Empty: no media server")
                .mutable_ready()
                .build(),
            glib::ParamSpecString::builder("room")
                .nick("Room")
                .blurb("The meeting's name on the media server (rtpengine's call-id)")
                .default_value(Some(crate::server::DEFAULT_ROOM))
                .mutable_ready()
                .build(),
        ]
    }

    /// Whether the media goes through a media server.
    pub fn through_server(&self) -> bool {
        !self.server.is_empty()
    }

    /// Sets the property `name` if it is one of these; false otherwise.
    pub fn set(&mut self, name: &str, value: &glib::Value) -> bool {
        match name {
            "multicast-iface" => self.network.multicast_iface = string(value),
            "ttl" => self.network.ttl = value.get().expect("type checked upstream"),
            "rtx" => self.rtx = value.get().expect("type checked upstream"),
            "key-file" => self.key_file = video_glue::path_of(value),
            "key-freshness" => self.key_freshness = value.get().expect("type checked upstream"),
            "key-window" => self.key_window = value.get().expect("type checked upstream"),
            "server" => self.server = string(value),
            "room" => self.room = string(value),
            _ => return false,
        }
        true
    }

    pub fn get(&self, name: &str) -> Option<glib::Value> {
        Some(match name {
            "multicast-iface" => optional(&self.network.multicast_iface),
            "ttl" => self.network.ttl.to_value(),
            "rtx" => self.rtx.to_value(),
            "key-file" => video_glue::path_value(self.key_file.as_deref()),
            "key-freshness" => self.key_freshness.to_value(),
            "key-window" => self.key_window.to_value(),
            "server" => optional(&self.server),
            "room" => self.room.to_value(),
            _ => return None,
        })
    }

    /// A new session under the meeting key of `key-file`, read now. `answerable`: the peer
    /// is one unicast participant that hears this bin, so it can answer a challenge.
    pub fn keys(
        &self,
        bin: &gst::Bin,
        answerable: bool,
    ) -> Result<Option<Arc<Keys>>, glib::BoolError> {
        let freshness = match (self.key_freshness, answerable) {
            (KeyFreshness::Challenge, _) | (KeyFreshness::Auto, true) => {
                session_keys::Freshness::Challenge
            }
            _ => session_keys::Freshness::Window {
                ms: u64::from(self.key_window) * 1000,
            },
        };
        if self.through_server() {
            // Through a media server the media is encrypted end to end instead (e2e_key).
            return Ok(None);
        }
        self.key_file
            .as_deref()
            .map(|path| Keys::new(path, freshness, bin))
            .transpose()
    }

    /// The meeting key that encrypts the media end to end: with a key file, through a media
    /// server.
    pub fn e2e_key(&self) -> Result<Option<session_keys::MeetingKey>, glib::BoolError> {
        match &self.key_file {
            Some(path) if self.through_server() => crate::e2e::meeting_key(path).map(Some),
            _ => Ok(None),
        }
    }
}

/// A string property's value; unset is empty.
pub fn string(value: &glib::Value) -> String {
    value
        .get::<Option<String>>()
        .expect("type checked upstream")
        .unwrap_or_default()
}

/// Runs a bin's `assemble` at its first NULL to READY (`done` remembers it); a failure is posted
/// as the error that stops the state change.
pub fn assemble_once<T: ElementImpl>(
    imp: &T,
    transition: gst::StateChange,
    done: &Mutex<bool>,
    assemble: impl FnOnce() -> Result<(), glib::BoolError>,
) -> Result<(), gst::StateChangeError> {
    let mut done = done.lock().unwrap();
    if transition != gst::StateChange::NullToReady || *done {
        return Ok(());
    }
    if let Err(e) = assemble() {
        gst::element_imp_error!(imp, gst::LibraryError::Settings, ("{}", e.message));
        return Err(gst::StateChangeError);
    }
    *done = true;
    Ok(())
}

/// The end of a row of links being built: an element's src pad.
pub struct Tail {
    element: gst::Element,
    pad: String,
}

impl Tail {
    pub fn new(element: &gst::Element, pad: &str) -> Self {
        Self {
            element: element.clone(),
            pad: pad.to_string(),
        }
    }

    /// Links on through `element`, in at its `sink` pad and out at its `src` pad.
    pub fn through(
        self,
        element: &gst::Element,
        sink: &str,
        src: &str,
    ) -> Result<Self, glib::BoolError> {
        link(&self.element, &self.pad, element, sink)?;
        Ok(Self::new(element, src))
    }

    /// Links into `element`'s `sink` pad, ending the row.
    pub fn end(self, element: &gst::Element, sink: &str) -> Result<(), glib::BoolError> {
        link(&self.element, &self.pad, element, sink)
    }
}

/// A `udpsink` to `host:port`.
pub fn udp_sink(
    name: &str,
    host: &str,
    port: u16,
    net: &Network,
) -> Result<gst::Element, glib::BoolError> {
    let sink = make("udpsink", name)?;
    sink.set_property("host", host);
    sink.set_property("port", i32::from(port));
    sink.set_property("sync", false);
    sink.set_property("async", false);
    if is_multicast(host) {
        sink.set_property("ttl-mc", net.ttl as i32);
        if !net.multicast_iface.is_empty() {
            sink.set_property("multicast-iface", &net.multicast_iface);
        }
    }
    Ok(sink)
}

/// A `udpsrc` on `address:port` announcing `caps`. A unicast port is not shared: a port
/// another program holds fails at start instead of being split with it.
pub fn udp_source(
    name: &str,
    address: &str,
    port: u16,
    caps: &gst::Caps,
    net: &Network,
) -> Result<gst::Element, glib::BoolError> {
    let src = make("udpsrc", name)?;
    src.set_property("address", address);
    src.set_property("port", i32::from(port));
    src.set_property("caps", caps);
    let multicast = is_multicast(address);
    src.set_property("reuse", multicast);
    if multicast && !net.multicast_iface.is_empty() {
        src.set_property("multicast-iface", &net.multicast_iface);
    }
    Ok(src)
}

/// Caps of the pixeldiff video as the receiver announces it: picture-loss feedback always,
/// NACK when retransmission is on.
pub fn video_caps(rtx: bool) -> gst::Caps {
    let mut caps = video_glue::rtp::rtp_caps(video_glue::rtp::DEFAULT_PAYLOAD_TYPE);
    {
        let s = caps.make_mut().structure_mut(0).expect("one structure");
        s.set("rtcp-fb-nack-pli", true);
        s.set("rtcp-fb-nack", rtx);
    }
    caps
}

/// Has `payloader` write a transport-wide sequence number into every packet (GStreamer's
/// `rtphdrexttwcc`, announced in its caps as `extmap-N`; `pixeldiffadapt` notes them there).
///
/// `rtpbin_sink` (the rtpbin pad the payloader's packets enter) is not told: rtpbin 1.22 would
/// renumber them with a counter of its own, after `pixeldiffadapt` noted them. The receivers'
/// caps leave the extension out as well: their rtpbin would answer every frame itself (see
/// `transport_feedback`).
pub fn transport_wide_sequence_numbers(
    payloader: &gst::Element,
    rtpbin_sink: &gst::Pad,
) -> Result<(), glib::BoolError> {
    use gst_rtp::prelude::RTPHeaderExtensionExt;
    let extension = gst::ElementFactory::make("rtphdrexttwcc")
        .build()?
        .downcast::<gst_rtp::RTPHeaderExtension>()
        .map_err(|_| glib::bool_error!("rtphdrexttwcc is not an RTP header extension"))?;
    extension.set_id(TWCC_EXTENSION_ID as u32);
    payloader.emit_by_name::<()>("add-extension", &[&extension]);
    rtpbin_sink.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, |_, info| {
        let Some(gst::PadProbeData::Event(event)) = &mut info.data else {
            return gst::PadProbeReturn::Ok;
        };
        if let gst::EventView::Caps(c) = event.view() {
            let mut caps = c.caps_owned();
            for s in caps.make_mut().iter_mut() {
                let extmaps: Vec<String> = s
                    .fields()
                    .filter(|name| name.starts_with("extmap-"))
                    .map(|name| name.to_string())
                    .collect();
                for name in extmaps {
                    s.remove_field(name.as_str());
                }
            }
            *event = gst::event::Caps::new(&caps);
        }
        gst::PadProbeReturn::Ok
    });
    Ok(())
}

pub fn audio_caps() -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("media", "audio")
        .field("clock-rate", 48_000)
        .field("encoding-name", "OPUS")
        .field("payload", i32::from(AUDIO_PAYLOAD_TYPE))
        .build()
}

/// RTCP as it arrives: SRTCP when there is a key.
pub fn rtcp_caps(protected: bool) -> gst::Caps {
    gst::Caps::new_empty_simple(if protected {
        "application/x-srtcp"
    } else {
        "application/x-rtcp"
    })
}

/// Video retransmissions' payload type for the video's.
pub fn rtx_payload_map() -> String {
    format!(
        "application/x-rtp-pt-map,{}=(uint){RTX_PAYLOAD_TYPE}",
        video_glue::rtp::DEFAULT_PAYLOAD_TYPE
    )
}

/// Audio's report port for video's (0: none).
pub fn audio_report_port(video_report_port: u16) -> u16 {
    match video_report_port {
        0 => 0,
        p => p + AUDIO_REPORT_OFFSET,
    }
}

/// An rtpbin for a participant: AVPF (feedback without waiting for the next regular report).
pub fn rtpbin(latency_ms: u32) -> Result<gst::Element, glib::BoolError> {
    let rtpbin = make("rtpbin", "rtpbin")?;
    rtpbin.set_property_from_str("rtp-profile", "avpf");
    rtpbin.set_property("latency", latency_ms);
    Ok(rtpbin)
}

/// Reports every [`RTCP_MIN_INTERVAL`] in the sessions rtpbin made for the pads asked so far.
pub fn report_often(rtpbin: &gst::Element) {
    let sessions = rtpbin
        .dynamic_cast_ref::<gst::ChildProxy>()
        .expect("rtpbin is a child proxy");
    for session in [VIDEO_SESSION, AUDIO_SESSION] {
        if let Some(s) = sessions.child_by_name(&format!("rtpsession{session}")) {
            s.set_property("rtcp-min-interval", RTCP_MIN_INTERVAL.nseconds());
        }
    }
}

/// The SSRCs rtpbin's sessions send their own RTCP from (a receiver's reports).
pub fn internal_ssrcs(rtpbin: &gst::Element) -> Vec<u32> {
    [VIDEO_SESSION, AUDIO_SESSION]
        .into_iter()
        .filter_map(|id| internal_ssrc(rtpbin, id))
        .collect()
}

/// The SSRC rtpbin's session `id` sends its own RTCP from.
pub fn internal_ssrc(rtpbin: &gst::Element, id: u32) -> Option<u32> {
    rtpbin
        .emit_by_name::<Option<glib::Object>>("get-internal-session", &[&id])
        .map(|session| session.property::<u32>("internal-ssrc"))
}

/// Adds `elements` to `bin` and links them in a row.
pub fn chain(bin: &gst::Bin, elements: &[&gst::Element]) -> Result<(), glib::BoolError> {
    for e in elements {
        if e.parent().is_none() {
            bin.add(*e)?;
        }
    }
    gst::Element::link_many(elements.iter().copied())
}

/// Links `src`'s pad `src_pad` to `sink`'s `sink_pad` (request pads asked for by name).
pub fn link(
    src: &gst::Element,
    src_pad: &str,
    sink: &gst::Element,
    sink_pad: &str,
) -> Result<(), glib::BoolError> {
    src.link_pads(Some(src_pad), sink, Some(sink_pad))
        .map_err(|_| {
            glib::bool_error!(
                "cannot link {}.{src_pad} to {}.{sink_pad}",
                src.name(),
                sink.name()
            )
        })
}

/// The bin's element messages (children's stats) are posted again with the bin as their
/// source, so that an application or `gst-launch-1.0 -m` tells participants apart by the bin's
/// name. Other messages pass as they are.
pub fn from_bin(bin: &gst::Bin, message: gst::Message) -> gst::Message {
    match message.view() {
        gst::MessageView::Element(e)
            if e.src()
                .is_some_and(|s| s != bin.upcast_ref::<gst::Object>()) =>
        {
            match e.structure() {
                Some(s) => gst::message::Element::builder(s.to_owned())
                    .src(bin)
                    .build(),
                None => message,
            }
        }
        _ => message,
    }
}

/// Refusals counted per reason, each reason posted from the bin as a `name` element message
/// (`verdict=refused`, `reason`, `count` so far) at most once a second: a flood of forged
/// packets makes a message a second, not one a packet.
pub struct Refusals<K> {
    name: &'static str,
    /// Per reason: refused in all, and when it was last posted (ms).
    counts: Mutex<std::collections::HashMap<K, (u64, u64)>>,
}

impl<K: std::hash::Hash + Eq> Refusals<K> {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            counts: Mutex::default(),
        }
    }

    /// Counts a refusal for `reason` (`text` as the message says it) at `now_ms`, and posts
    /// it from `bin` unless that reason was posted less than a second ago.
    pub fn note(&self, bin: &gst::Bin, reason: K, text: &str, now_ms: u64) {
        let count = {
            let mut counts = self.counts.lock().unwrap();
            let (count, last) = counts.entry(reason).or_insert((0, 0));
            *count += 1;
            if *count > 1 && now_ms < *last + 1000 {
                return;
            }
            *last = now_ms;
            *count
        };
        let s = gst::Structure::builder(self.name)
            .field("verdict", "refused")
            .field("reason", text)
            .field("count", count)
            .build();
        let _ = bin.post_message(gst::message::Element::builder(s).src(bin).build());
    }
}

/// Data reaching `ghost`'s target is dropped while nothing is linked to the ghost pad, so an
/// output the application leaves unlinked (audio, say) is not an error.
pub fn drop_while_unlinked(ghost: &gst::GhostPad) {
    let Some(target) = ghost.target() else { return };
    let ghost = ghost.downgrade();
    target.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, _| match ghost.upgrade() {
            Some(g) if g.is_linked() => gst::PadProbeReturn::Ok,
            _ => gst::PadProbeReturn::Drop,
        },
    );
}
