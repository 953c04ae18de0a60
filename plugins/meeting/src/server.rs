// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A meeting through a media server (rtpengine, driven by `media_server`), wired into the bins
//! when `server` is set.
//!
//! - `pixelmeetsend` publishes its video and audio in the room under its `participant` name at
//!   start, sends them where the server says, and leaves the room when it stops.
//! - `pixelmeetrecv` subscribes to one publisher, `participant`, under the name
//!   `SUBSCRIBER>PARTICIPANT`, from a thread of its own: at once, again every second while the
//!   publisher is not in the room, and again when nothing came for [`SILENCE`] (the publisher
//!   left and came back). Subscribing again replaces the subscription.
//! - Each RTCP socket is shared by a udpsrc and a udpsink, so a participant's reports leave
//!   from the port its reports come to: the server learns one address per participant, and
//!   with `strict source` forwards nothing that comes from anywhere else.
//! - RTCP travels through the server: a publisher's sender reports reach every subscriber, the
//!   subscribers' receiver reports and picture-loss requests reach the publisher (`RTCP
//!   mirror`). pixeldiffadapt judges every subscriber's reports, so the worst path sets the
//!   rate; a keyframe request from any subscriber is a keyframe for all.
//!
//! Each step is posted as a `pixelmeet-server` element message: `state` is `published`,
//! `subscribed`, `waiting` (with the server's `reason`) or `left`.

use gio::prelude::*;
use gst::glib;
use gst::prelude::*;
use media_server::{Description, Media, Room};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::graph;

/// A subscription that delivered nothing for this long is made again.
pub const SILENCE: Duration = Duration::from_secs(3);
/// How often a receiver tries while its publisher is not in the room.
pub const RETRY: Duration = Duration::from_secs(1);
/// The room when none is set.
pub const DEFAULT_ROOM: &str = "pixelmeet";

/// The room on the server of `server` ("HOST:PORT" of rtpengine's ng socket).
pub fn room(server: &str, room: &str) -> Result<Room, glib::BoolError> {
    Room::new(server, room).map_err(|e| glib::bool_error!("{e}"))
}

/// A UDP socket on `port` of every local address (0: any free port), for a udpsrc and a
/// udpsink to share.
pub fn shared_socket(port: u16) -> Result<gio::Socket, glib::BoolError> {
    let socket = gio::Socket::new(
        gio::SocketFamily::Ipv4,
        gio::SocketType::Datagram,
        gio::SocketProtocol::Udp,
    )
    .map_err(|e| glib::bool_error!("no UDP socket: {e}"))?;
    let any = gio::InetSocketAddress::from_string(graph::ANY_ADDRESS, port.into())
        .expect("a valid address");
    socket
        .bind(&any, false)
        .map_err(|e| glib::bool_error!("UDP port {port} is busy: {e}"))?;
    Ok(socket)
}

/// The port a socket is bound to.
pub fn port_of(socket: &gio::Socket) -> u16 {
    socket
        .local_address()
        .ok()
        .and_downcast::<gio::InetSocketAddress>()
        .map_or(0, |a| a.port())
}

/// Makes `element` (udpsrc or udpsink) use `socket`, which outlives it.
pub fn use_socket(element: &gst::Element, socket: &gio::Socket) {
    element.set_property("socket", socket);
    element.set_property("close-socket", false);
}

/// Video (pixeldiff) or audio (Opus) as the SDP names it, with pixelmeet's payload types.
pub fn medium(video: bool, rtp_port: u16, rtcp_port: u16) -> Media {
    let (kind, payload_type, rtpmap) = if video {
        (
            "video",
            video_glue::rtp::DEFAULT_PAYLOAD_TYPE,
            format!("{}/90000", video_glue::rtp::ENCODING_NAME),
        )
    } else {
        (
            "audio",
            graph::AUDIO_PAYLOAD_TYPE,
            "opus/48000/2".to_string(),
        )
    };
    Media {
        kind: kind.into(),
        rtp_port,
        rtcp_port,
        payload_type,
        rtpmap,
    }
}

/// The address the server reaches this machine at, unless `address` is a specific one.
pub fn local_address(room: &Room, address: &str) -> Result<IpAddr, glib::BoolError> {
    match address.parse::<IpAddr>() {
        Ok(a) if !a.is_unspecified() => Ok(a),
        _ => room
            .client()
            .local_ip()
            .map_err(|e| glib::bool_error!("{e}")),
    }
}

/// Posts a `pixelmeet-server` message from `bin`.
pub fn post(bin: &gst::Bin, state: &str, reason: Option<&str>) {
    let mut s = gst::Structure::builder("pixelmeet-server").field("state", state);
    if let Some(reason) = reason {
        s = s.field("reason", reason);
    }
    let _ = bin.post_message(gst::message::Element::builder(s.build()).src(bin).build());
}

/// One session (video or audio) of a sender through the server: the elements whose sockets
/// are made at each start (RTP out from any port; RTCP out and reports in on `report_port`),
/// and pointed at the server.
pub struct Leg {
    pub video: bool,
    pub report_port: u16,
    pub rtp_sink: glib::WeakRef<gst::Element>,
    pub rtcp_sink: glib::WeakRef<gst::Element>,
    pub reports_src: glib::WeakRef<gst::Element>,
}

impl Leg {
    fn kind(&self) -> &'static str {
        if self.video {
            "video"
        } else {
            "audio"
        }
    }
}

/// How a sender publishes.
pub struct Route {
    pub server: String,
    pub room: String,
    pub participant: String,
    pub legs: Vec<Leg>,
}

impl Route {
    /// Gives the legs fresh sockets, publishes them in the room and points their sinks where
    /// the server says.
    pub fn publish(&self) -> Result<Publication, glib::BoolError> {
        let room = room(&self.server, &self.room)?;
        let mut media = Vec::new();
        for leg in &self.legs {
            let (rtp, rtcp) = (shared_socket(0)?, shared_socket(leg.report_port)?);
            for (element, socket) in [
                (&leg.rtp_sink, &rtp),
                (&leg.rtcp_sink, &rtcp),
                (&leg.reports_src, &rtcp),
            ] {
                if let Some(e) = element.upgrade() {
                    use_socket(&e, socket);
                }
            }
            media.push(medium(leg.video, port_of(&rtp), port_of(&rtcp)));
        }
        let local = Description {
            address: local_address(&room, graph::ANY_ADDRESS)?,
            media,
        };
        let at = room
            .publish(&self.participant, &local)
            .map_err(|e| glib::bool_error!("{e}"))?;
        for leg in &self.legs {
            let m = at.medium(leg.kind()).ok_or_else(|| {
                glib::bool_error!(
                    "media server {}: no {} in its answer",
                    self.server,
                    leg.kind()
                )
            })?;
            for (sink, port) in [(&leg.rtp_sink, m.rtp_port), (&leg.rtcp_sink, m.rtcp_port)] {
                if let Some(sink) = sink.upgrade() {
                    sink.set_property("host", at.address.to_string());
                    sink.set_property("port", i32::from(port));
                }
            }
        }
        Ok(Publication {
            room,
            participant: self.participant.clone(),
        })
    }

    /// Closes the legs' sockets (the bin stopped: its ports are free again).
    pub fn close(&self) {
        for leg in &self.legs {
            close_sockets(&[&leg.rtp_sink, &leg.rtcp_sink]);
        }
    }
}

/// Closes the sockets `elements` were given.
pub fn close_sockets(elements: &[&glib::WeakRef<gst::Element>]) {
    for e in elements.iter().filter_map(|e| e.upgrade()) {
        if let Some(socket) = e.property::<Option<gio::Socket>>("socket") {
            let _ = socket.close();
        }
    }
}

/// A sender's place in the room, left when dropped.
pub struct Publication {
    pub room: Room,
    pub participant: String,
}

impl Drop for Publication {
    fn drop(&mut self) {
        let _ = self.room.leave(&self.participant);
    }
}

/// A receiver's subscription, kept by a thread of its own until dropped.
pub struct Subscription {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    reports: Vec<Reports>,
}

/// A receiver's RTCP of one medium.
#[derive(Clone)]
pub struct Reports {
    pub kind: String,
    pub port: u16,
    pub rtcp_in: glib::WeakRef<gst::Element>,
    pub out: glib::WeakRef<gst::Element>,
}

/// What a subscription keeps up to date.
#[derive(Clone)]
pub struct Subscriber {
    /// rtpengine's ng address and the room.
    pub server: String,
    pub room: String,
    pub subscriber: String,
    pub publisher: String,
    /// Where this receiver listens.
    pub local: Description,
    /// By medium: the RTCP udpsrc and the reports' udpsink, which share a socket on the RTCP
    /// port made at each start, and are pointed at the server once subscribed.
    pub reports: Vec<Reports>,
    /// Set while subscribed: reports wait for it.
    pub subscribed: Arc<AtomicBool>,
    /// When the last media packet came, in ms since `epoch`.
    pub last_packet_ms: Arc<AtomicU64>,
    pub epoch: Instant,
    pub bin: glib::WeakRef<gst::Bin>,
}

impl Subscription {
    /// Gives the reports fresh sockets and starts subscribing.
    pub fn start(s: Subscriber) -> Result<Self, glib::BoolError> {
        for r in &s.reports {
            let socket = shared_socket(r.port)?;
            for e in [&r.rtcp_in, &r.out].iter().filter_map(|e| e.upgrade()) {
                use_socket(&e, &socket);
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pixelmeet-subscribe".into())
            .spawn({
                let s = s.clone();
                move || s.keep(&stopping)
            })
            .ok();
        Ok(Self {
            stop,
            thread,
            reports: s.reports,
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for r in &self.reports {
            close_sockets(&[&r.out]);
        }
    }
}

impl Subscriber {
    fn keep(self, stop: &AtomicBool) {
        let room = match room(&self.server, &self.room) {
            Ok(r) => r,
            Err(e) => {
                if let Some(bin) = self.bin.upgrade() {
                    post(&bin, "waiting", Some(&e.to_string()));
                }
                return;
            }
        };
        self.subscribed.store(false, Ordering::Relaxed);
        let mut last_try: Option<Instant> = None;
        let mut subscribed_at = Instant::now();
        let mut last_reason = String::new();
        while !stop.load(Ordering::Relaxed) {
            let now_ms = self.epoch.elapsed().as_millis() as u64;
            let heard_ms = self.last_packet_ms.load(Ordering::Relaxed);
            let silent = now_ms.saturating_sub(
                heard_ms.max(subscribed_at.duration_since(self.epoch).as_millis() as u64),
            ) >= SILENCE.as_millis() as u64;
            let subscribed = self.subscribed.load(Ordering::Relaxed);
            let due = last_try.is_none_or(|t| t.elapsed() >= RETRY);
            if (!subscribed || silent) && due {
                last_try = Some(Instant::now());
                match room.subscribe(&self.subscriber, &self.publisher, &self.local) {
                    Ok(server) => {
                        self.point_reports(&server);
                        self.subscribed.store(true, Ordering::Relaxed);
                        subscribed_at = Instant::now();
                        last_reason.clear();
                        if let Some(bin) = self.bin.upgrade() {
                            post(&bin, "subscribed", None);
                        }
                    }
                    Err(e) => {
                        self.subscribed.store(false, Ordering::Relaxed);
                        let reason = format!("{} is not in the room yet? {e}", self.publisher);
                        if reason != last_reason {
                            if let Some(bin) = self.bin.upgrade() {
                                post(&bin, "waiting", Some(&reason));
                            }
                            last_reason = reason;
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.subscribed.load(Ordering::Relaxed) {
            let _ = room.unsubscribe(&self.subscriber, &self.publisher);
            self.subscribed.store(false, Ordering::Relaxed);
        }
    }

    fn point_reports(&self, server: &Description) {
        for r in &self.reports {
            if let (Some(sink), Some(m)) = (r.out.upgrade(), server.medium(&r.kind)) {
                sink.set_property("host", server.address.to_string());
                sink.set_property("port", i32::from(m.rtcp_port));
            }
        }
    }
}

/// Drops what reaches `sink` (a reports udpsink) until `ready` is set.
pub fn hold_until(sink: &gst::Element, ready: Arc<AtomicBool>) {
    let pad = sink.static_pad("sink").expect("udpsink sink pad");
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, _| {
            if ready.load(Ordering::Relaxed) {
                gst::PadProbeReturn::Ok
            } else {
                graph::DISCARD
            }
        },
    );
}

/// Notes in `last_ms` (ms since `epoch`) when a packet leaves `src` (a udpsrc).
pub fn note_arrivals(src: &gst::Element, last_ms: Arc<AtomicU64>, epoch: Instant) {
    let pad = src.static_pad("src").expect("udpsrc src pad");
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        last_ms.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
}

/// A name for a receiver that was given none.
pub fn random_name() -> String {
    format!("listener-{:08x}", glib::random_int())
}
/// For `Mutex<Option<...>>` fields the bins drop when they stop.
pub type Held<T> = Mutex<Option<T>>;
