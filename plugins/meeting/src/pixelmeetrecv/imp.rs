// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::{Arc, LazyLock, Mutex};

use crate::e2e;
use crate::graph::{self, Shared, Tail};
use crate::key::Keys;
use crate::server;
use crate::tile;
use crate::transport_feedback;
use std::sync::atomic::{AtomicBool, Ordering};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pixelmeetrecv",
        gst::DebugColorFlags::empty(),
        Some("pixelmeet receiver bin"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    address: String,
    port: u16,
    report_host: String,
    report_port: u16,
    shared: Shared,
    latency: u32,
    audio: bool,
    participant: String,
    subscriber: String,
    label: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            address: graph::ANY_ADDRESS.into(),
            port: graph::DEFAULT_PORT,
            report_host: graph::DEFAULT_HOST.into(),
            report_port: graph::DEFAULT_REPORT_PORT,
            shared: Shared::default(),
            latency: graph::DEFAULT_LATENCY_MS,
            audio: true,
            participant: String::new(),
            subscriber: String::new(),
            label: String::new(),
        }
    }
}

struct Children {
    rtpbin: gst::Element,
    funnel: gst::Element,
    depayloader: gst::Element,
    decoder: gst::Element,
    overlay: gst::Element,
    audio_depayloader: gst::Element,
    audio_decoder: gst::Element,
    level: gst::Element,
}

impl Children {
    fn new() -> Result<Self, glib::BoolError> {
        let audio_decoder = graph::make("opusdec", "opusdec")?;
        audio_decoder.set_property("plc", true);
        // The level of what arrives, once a second, tells that the sound gets through.
        let level = graph::make("level", "level")?;
        level.set_property("interval", gst::ClockTime::SECOND.nseconds());
        Ok(Self {
            rtpbin: graph::rtpbin(graph::DEFAULT_LATENCY_MS)?,
            funnel: graph::make("funnel", "funnel")?,
            depayloader: graph::make("rtppixeldiffdepay", "rtppixeldiffdepay")?,
            decoder: graph::make("pixeldiffdec", "pixeldiffdec")?,
            overlay: tile::overlay()?,
            audio_depayloader: graph::make("rtpopusdepay", "rtpopusdepay")?,
            audio_decoder,
            level,
        })
    }
}

#[derive(Default)]
pub struct PixelmeetRecv {
    settings: Mutex<Settings>,
    children: Mutex<Option<Result<Children, glib::BoolError>>>,
    /// This session's SRTP keys, with a key file.
    keys: Mutex<Option<Arc<Keys>>>,
    /// With `server`: what to subscribe to, and the subscription while the bin runs.
    subscriber: server::Held<server::Subscriber>,
    subscription: server::Held<server::Subscription>,
    /// `draw-faces`, read by the decoder's probe.
    draw_faces: Arc<AtomicBool>,
    /// The face count the sender's faces last said, for the label.
    faces: Mutex<Option<u32>>,
    assembled: Mutex<bool>,
}

#[glib::object_subclass]
impl ObjectSubclass for PixelmeetRecv {
    const NAME: &'static str = "GstPixelmeetRecv";
    type Type = super::PixelmeetRecv;
    type ParentType = gst::Bin;
}

impl ObjectImpl for PixelmeetRecv {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            let mut properties = vec![
                glib::ParamSpecString::builder("address")
                    .nick("Address")
                    .blurb("Local address to listen on; a multicast group is joined")
                    .default_value(Some(graph::ANY_ADDRESS))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("report-host")
                    .nick("Report host")
                    .blurb("Where reports about the received streams go: the sender, a relay, or a multicast group")
                    .default_value(Some(graph::DEFAULT_HOST))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("Jitter buffer, in ms")
                    .maximum(10_000)
                    .default_value(d.latency)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("participant")
                    .nick("Participant")
                    .blurb("With server: the participant whose media this receiver shows (its pixelmeetsend's participant)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("subscriber")
                    .nick("Subscriber")
                    .blurb("With server: this participant's name, which the subscription is named after (SUBSCRIBER>PARTICIPANT); empty: a random one")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("label")
                    .nick("Label")
                    .blurb("Text shown at the top left of the picture, with the number of faces in view once the sender's faces arrive (a gallery tile); empty: none")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("draw-faces")
                    .nick("Draw faces")
                    .blurb("Draw a box around each face the sender found (its faces travel with the video)")
                    .default_value(false)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("audio")
                    .nick("Audio")
                    .blurb("Listen for audio on port+2 and +3")
                    .default_value(d.audio)
                    .mutable_ready()
                    .build(),
            ];
            properties.extend(graph::port_properties(
                "Base port: video RTP; RTCP on port+1, audio on port+2 and +3",
                "The sender's report port (audio's is report-port+1); 0: send no reports",
            ));
            properties.extend(Shared::properties(
                "Network interface for a multicast group (e.g. lo); empty: the system's choice",
                "Ask for lost video packets again (NACK; the sender needs rtx too)",
                "SRTP with fresh session keys from the meeting key in this file (mode 0600, 60 hex digits): accept only media whose key was announced and fresh, protect the reports",
            ));
            properties
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        let name = pspec.name();
        if s.shared.set(name, value) {
            return;
        }
        match name {
            "address" => s.address = graph::string(value),
            "port" => s.port = value.get::<u32>().expect("type checked upstream") as u16,
            "report-host" => s.report_host = graph::string(value),
            "report-port" => {
                s.report_port = value.get::<u32>().expect("type checked upstream") as u16
            }
            "latency" => s.latency = value.get().expect("type checked upstream"),
            "audio" => s.audio = value.get().expect("type checked upstream"),
            "participant" => s.participant = graph::string(value),
            "subscriber" => s.subscriber = graph::string(value),
            "label" => {
                s.label = graph::string(value);
                self.relabel(&s.label);
            }
            "draw-faces" => self.draw_faces.store(
                value.get().expect("type checked upstream"),
                Ordering::Relaxed,
            ),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        let name = pspec.name();
        if let Some(value) = s.shared.get(name) {
            return value;
        }
        match name {
            "address" => s.address.to_value(),
            "port" => u32::from(s.port).to_value(),
            "report-host" => s.report_host.to_value(),
            "report-port" => u32::from(s.report_port).to_value(),
            "latency" => s.latency.to_value(),
            "audio" => s.audio.to_value(),
            "participant" => graph::optional(&s.participant),
            "subscriber" => graph::optional(&s.subscriber),
            "label" => graph::optional(&s.label),
            "draw-faces" => self.draw_faces.load(Ordering::Relaxed).to_value(),
            _ => unimplemented!(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        let children = Children::new();
        let targets = children.as_ref().ok().map(|c| {
            obj.add_many([
                &c.rtpbin,
                &c.funnel,
                &c.depayloader,
                &c.decoder,
                &c.overlay,
                &c.audio_depayloader,
                &c.audio_decoder,
                &c.level,
            ])
            .expect("fresh children");
            gst::Element::link_many([&c.funnel, &c.depayloader, &c.decoder, &c.overlay])
                .expect("video chain");
            tile::draw_faces_on(
                &c.decoder.static_pad("src").expect("decoder src"),
                self.draw_faces.clone(),
            );
            gst::Element::link_many([&c.audio_depayloader, &c.audio_decoder, &c.level])
                .expect("audio chain");
            (c.overlay.static_pad("src"), c.level.static_pad("src"))
        });
        *self.children.lock().unwrap() = Some(children);
        for (i, name) in ["video_src", "audio_src"].into_iter().enumerate() {
            let templ = obj.pad_template(name).expect("template");
            let mut builder = gst::GhostPad::builder_from_template(&templ).name(name);
            let target = targets
                .as_ref()
                .and_then(|t| if i == 0 { t.0.clone() } else { t.1.clone() });
            if let Some(target) = &target {
                builder = gst::GhostPad::builder_from_template_with_target(&templ, target)
                    .expect("matching target")
                    .name(name);
            }
            let pad = builder.build();
            obj.add_pad(&pad).expect("a new pad");
            graph::drop_while_unlinked(&pad);
        }
    }
}

impl GstObjectImpl for PixelmeetRecv {}

impl ElementImpl for PixelmeetRecv {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "pixelmeet receiver",
                "Source/Network/Bin",
                "Receives a participant's video and audio over RTP/UDP, follows a restarted sender, reports loss and asks for keyframes",
                "pixelmeet developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            [("video_src", "video/x-raw"), ("audio_src", "audio/x-raw")]
                .into_iter()
                .map(|(name, media)| {
                    gst::PadTemplate::new(
                        name,
                        gst::PadDirection::Src,
                        gst::PadPresence::Always,
                        &gst::Caps::new_empty_simple(media),
                    )
                    .expect("valid template")
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        graph::assemble_once(self, transition, &self.assembled, || self.assemble())?;
        if transition == gst::StateChange::NullToReady {
            if let Some(s) = self.subscriber.lock().unwrap().clone() {
                match server::Subscription::start(s) {
                    Ok(s) => *self.subscription.lock().unwrap() = Some(s),
                    Err(e) => {
                        gst::element_imp_error!(
                            self,
                            gst::ResourceError::OpenRead,
                            ("{}", e.message)
                        );
                        return Err(gst::StateChangeError);
                    }
                }
            }
        }
        let result = self.parent_change_state(transition);
        if transition == gst::StateChange::ReadyToNull {
            // Unsubscribes.
            self.subscription.lock().unwrap().take();
        }
        result
    }
}

impl BinImpl for PixelmeetRecv {
    fn handle_message(&self, message: gst::Message) {
        if let gst::MessageView::Element(e) = message.view() {
            if let Some(count) = e
                .structure()
                .filter(|s| s.name() == "faceroi")
                .and_then(|s| s.get::<u32>("count").ok())
            {
                *self.faces.lock().unwrap() = Some(count);
                let label = self.settings.lock().unwrap().label.clone();
                self.relabel(&label);
            }
        }
        self.parent_handle_message(graph::from_bin(self.obj().upcast_ref(), message))
    }
}

impl PixelmeetRecv {
    /// Shows `label` with the face count last heard.
    fn relabel(&self, label: &str) {
        if let Some(Ok(c)) = self.children.lock().unwrap().as_ref() {
            tile::show_label(&c.overlay, label, *self.faces.lock().unwrap());
        }
    }

    /// Links the graph the settings describe; once, at the first READY.
    fn assemble(&self) -> Result<(), glib::BoolError> {
        let s = self.settings.lock().unwrap().clone();
        let guard = self.children.lock().unwrap();
        let c = guard
            .as_ref()
            .expect("made at construction")
            .as_ref()
            .map_err(Clone::clone)?;
        let obj = self.obj();
        let bin: &gst::Bin = obj.upcast_ref();
        let answerable = !graph::is_multicast(&s.address)
            && !graph::is_multicast(&s.report_host)
            && s.report_port != 0;
        let keys = s.shared.keys(bin, answerable)?;
        let e2e = s.shared.e2e_key()?;
        let through_server = s.shared.through_server();
        if through_server && s.participant.is_empty() {
            return Err(glib::bool_error!(
                "participant is empty: name the participant to show from the media server's room"
            ));
        }
        // Through a media server: reports wait for the subscription, which watches arrivals.
        let subscribed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let last_packet_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let epoch = std::time::Instant::now();
        let reports_sinks = Mutex::new(Vec::new());
        let net = &s.shared.network;
        c.rtpbin.set_property("latency", s.latency);
        c.rtpbin.set_property("do-retransmission", s.shared.rtx);
        let srtp_out = keys.as_ref().map(|k| k.encoder("srtpenc")).transpose()?;
        if let Some(enc) = &srtp_out {
            bin.add(enc)?;
        }

        let session = |id: u32,
                       port: u16,
                       mut caps: gst::Caps,
                       report_port: u16|
         -> Result<(), glib::BoolError> {
            if keys.is_some() {
                caps.make_mut()
                    .structure_mut(0)
                    .expect("one structure")
                    .set_name("application/x-srtp");
            }
            let rtp_in = graph::udp_source(&format!("rtp_in_{id}"), &s.address, port, &caps, net)?;
            let rtcp_in = graph::udp_source(
                &format!("rtcp_in_{id}"),
                &s.address,
                port + graph::RTCP_OFFSET,
                &graph::rtcp_caps(keys.is_some()),
                net,
            )?;
            if through_server {
                server::note_arrivals(&rtp_in, last_packet_ms.clone(), epoch);
            }
            bin.add_many([&rtp_in, &rtcp_in])?;
            match &keys {
                Some(k) => {
                    k.listen(&rtp_in);
                    k.listen(&rtcp_in);
                }
                // Without a key, a stranger's hundreds of SSRCs would make hundreds of threads.
                None => gate_new_ssrcs(&rtp_in),
            }
            let mut rtp = Tail::new(&rtp_in, "src");
            let mut rtcp = Tail::new(&rtcp_in, "src");
            if let Some(k) = &keys {
                let dec = k.decoder(&format!("srtpdec_{id}"))?;
                bin.add(&dec)?;
                rtp = rtp.through(&dec, "rtp_sink", "rtp_src")?;
                rtcp = rtcp.through(&dec, "rtcp_sink", "rtcp_src")?;
            }
            if s.shared.rtx && id == graph::VIDEO_SESSION {
                let rtx = graph::make("rtprtxreceive", "rtprtxreceive")?;
                rtx.set_property_from_str("payload-type-map", &graph::rtx_payload_map());
                bin.add(&rtx)?;
                rtp = rtp.through(&rtx, "sink", "src")?;
            }
            rtp.end(&c.rtpbin, &format!("recv_rtp_sink_{id}"))?;
            rtcp.end(&c.rtpbin, &format!("recv_rtcp_sink_{id}"))?;
            if report_port == 0 && !through_server {
                return Ok(());
            }
            let reports = graph::udp_sink(
                &format!("reports_out_{id}"),
                &s.report_host,
                report_port.max(1),
                net,
            )?;
            if through_server {
                // The reports leave from the port RTCP comes to, once subscribed.
                server::hold_until(&reports, subscribed.clone());
                let kind = if id == graph::VIDEO_SESSION {
                    "video"
                } else {
                    "audio"
                };
                reports_sinks.lock().unwrap().push(server::Reports {
                    kind: kind.to_string(),
                    port: port + graph::RTCP_OFFSET,
                    rtcp_in: rtcp_in.downgrade(),
                    out: reports.downgrade(),
                });
            }
            bin.add(&reports)?;
            if let (Some(k), graph::VIDEO_SESSION) = (&keys, id) {
                k.announce_through(&reports, &s.report_host, report_port)?;
            }
            let mut out = Tail::new(&c.rtpbin, &format!("send_rtcp_src_{id}"));
            if id == graph::VIDEO_SESSION {
                out = transport_feedback::join(bin, &c.rtpbin, out)?;
            }
            if let Some(enc) = &srtp_out {
                out = out.through(enc, &format!("rtcp_sink_{id}"), &format!("rtcp_src_{id}"))?;
            }
            out.end(&reports, "sink")
        };
        session(
            graph::VIDEO_SESSION,
            s.port,
            graph::video_caps(s.shared.rtx),
            s.report_port,
        )?;
        if s.audio {
            session(
                graph::AUDIO_SESSION,
                s.port + graph::AUDIO_RTP_OFFSET,
                graph::audio_caps(),
                graph::audio_report_port(s.report_port),
            )?;
        }
        graph::report_often(&c.rtpbin);
        if let Some(k) = &keys {
            k.set_ssrcs(&graph::internal_ssrcs(&c.rtpbin));
        }
        *self.keys.lock().unwrap() = keys;
        if let Some(meeting) = &e2e {
            let receiving = e2e::Receiving::new(meeting, s.shared.key_window, bin);
            for depayloader in [&c.depayloader, &c.audio_depayloader] {
                receiving.open_on(&depayloader.static_pad("sink").expect("depayloader sink"));
            }
        }
        if through_server {
            let room = server::room(&s.shared.server, &s.shared.room)?;
            let mut media = vec![server::medium(true, s.port, s.port + graph::RTCP_OFFSET)];
            if s.audio {
                let audio = s.port + graph::AUDIO_RTP_OFFSET;
                media.push(server::medium(false, audio, audio + graph::RTCP_OFFSET));
            }
            let subscriber = match s.subscriber.as_str() {
                "" => server::random_name(),
                name => name.to_string(),
            };
            *self.subscriber.lock().unwrap() = Some(server::Subscriber {
                server: s.shared.server.clone(),
                room: s.shared.room.clone(),
                subscriber,
                publisher: s.participant.clone(),
                local: media_server::Description {
                    address: server::local_address(&room, &s.address)?,
                    media,
                },
                reports: reports_sinks.into_inner().unwrap(),
                subscribed,
                last_packet_ms,
                epoch,
                bin: bin.downgrade(),
            });
        }

        let funnel = c.funnel.downgrade();
        let audio_in = c
            .audio_depayloader
            .static_pad("sink")
            .expect("depayloader sink");
        let weak_bin = obj.downgrade();
        c.rtpbin.connect_pad_added(move |_, pad| {
            let (Some(bin), Some(funnel)) = (weak_bin.upgrade(), funnel.upgrade()) else {
                return;
            };
            let name = pad.name();
            let video = format!("recv_rtp_src_{}_", graph::VIDEO_SESSION);
            let audio = format!("recv_rtp_src_{}_", graph::AUDIO_SESSION);
            if name.starts_with(&video) {
                // The depayloader picks the sender among the streams; a stream that ended left
                // its funnel pad unlinked.
                for old in funnel.sink_pads().into_iter().filter(|p| !p.is_linked()) {
                    funnel.release_request_pad(&old);
                }
                if let Some(sink) = funnel.request_pad_simple("sink_%u") {
                    if pad.link(&sink).is_ok() {
                        return;
                    }
                }
            } else if name.starts_with(&audio) {
                // The newest audio stream is played: a restarted sender replaces the old one.
                if let Some(old) = audio_in.peer() {
                    let _ = old.unlink(&audio_in);
                    discard(&bin, &old);
                }
                if pad.link(&audio_in).is_ok() {
                    return;
                }
            }
            if name.starts_with("recv_rtp_src_") {
                gst::debug!(CAT, obj = bin, "discarding stream {name}");
                discard(&bin, pad);
            }
        });
        // A stream that ends takes its discarding sink with it.
        let weak_bin = obj.downgrade();
        c.rtpbin.connect_pad_removed(move |_, pad| {
            let Some(bin) = weak_bin.upgrade() else {
                return;
            };
            if let Some(sink) = bin.by_name(&discard_name(pad)) {
                let _ = sink.set_state(gst::State::Null);
                let _ = bin.remove(&sink);
            }
        });
        gst::info!(CAT, imp = self, "listening on {}:{}", s.address, s.port);
        Ok(())
    }
}

/// Lets packets of new SSRCs from `src` (a udpsrc) into rtpbin at a bounded rate
/// ([`crate::ssrc_gate`]).
fn gate_new_ssrcs(src: &gst::Element) {
    let gate = Mutex::new(crate::ssrc_gate::SsrcGate::new(std::time::Instant::now()));
    let pad = src.static_pad("src").expect("udpsrc has a src pad");
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let ssrc = info.buffer().and_then(|b| {
            b.map_readable()
                .ok()
                .and_then(|m| crate::ssrc_gate::rtp_ssrc(&m))
        });
        match ssrc {
            Some(ssrc) if !gate.lock().unwrap().admit(ssrc, std::time::Instant::now()) => {
                gst::PadProbeReturn::Drop
            }
            _ => gst::PadProbeReturn::Ok,
        }
    });
}

fn discard_name(pad: &gst::Pad) -> String {
    format!("discard_{}", pad.name())
}

/// Sends what `pad` gives into a new fakesink in `bin`.
fn discard(bin: &super::PixelmeetRecv, pad: &gst::Pad) {
    let Ok(sink) = graph::make("fakesink", &discard_name(pad)) else {
        return;
    };
    sink.set_property("async", false);
    sink.set_property("sync", false);
    if bin.add(&sink).is_ok() {
        let _ = sink.sync_state_with_parent();
        let _ = pad.link(&sink.static_pad("sink").expect("fakesink sink pad"));
    }
}
