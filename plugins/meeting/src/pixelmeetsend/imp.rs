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

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pixelmeetsend",
        gst::DebugColorFlags::empty(),
        Some("pixelmeet sender bin"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    host: String,
    port: u16,
    report_port: u16,
    shared: Shared,
    find_faces: bool,
    replace_background: bool,
    network_simulation: String,
    ssrc: u32,
    participant: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            host: graph::DEFAULT_HOST.into(),
            port: graph::DEFAULT_PORT,
            report_port: graph::DEFAULT_REPORT_PORT,
            shared: Shared::default(),
            find_faces: true,
            replace_background: true,
            network_simulation: String::new(),
            ssrc: 0,
            participant: String::new(),
        }
    }
}

/// The children that exist from construction, so their properties can be set through the bin.
struct Children {
    faceroi: gst::Element,
    bgreplace: gst::Element,
    encoder: gst::Element,
    payloader: gst::Element,
    adapt: gst::Element,
    rtpbin: gst::Element,
}

impl Children {
    fn new() -> Result<Self, glib::BoolError> {
        let faceroi = graph::make("faceroi", "faceroi")?;
        faceroi.set_property("margin", graph::FACE_MARGIN);
        // A message when the faces change, not every frame.
        faceroi.set_property_from_str("updates", "on-change");
        // Chunks leave room in each packet for the faces, SFrame and SRTP (graph::CHUNK_MTU).
        let encoder = graph::make("pixeldiffenc", "pixeldiffenc")?;
        encoder.set_property("mtu", graph::CHUNK_MTU);
        let payloader = graph::make("rtppixeldiffpay", "rtppixeldiffpay")?;
        payloader.set_property("mtu", graph::PAYLOADER_MTU);
        Ok(Self {
            faceroi,
            bgreplace: graph::make("bgreplace", "bgreplace")?,
            encoder,
            payloader,
            adapt: graph::make("pixeldiffadapt", "pixeldiffadapt")?,
            rtpbin: graph::rtpbin(graph::DEFAULT_LATENCY_MS)?,
        })
    }
}

/// The Opus branch behind the `audio_sink` pad, made when the pad is asked for.
struct Audio {
    first: gst::Element,
    payloader: gst::Element,
}

#[derive(Default)]
pub struct PixelmeetSend {
    settings: Mutex<Settings>,
    children: Mutex<Option<Result<Children, glib::BoolError>>>,
    audio: Mutex<Option<Audio>>,
    /// The video SSRC in use, once assembled.
    ssrc: Mutex<Option<u32>>,
    /// This session's SRTP keys, with a key file.
    keys: Mutex<Option<Arc<Keys>>>,
    /// With `server`: how it publishes, and its place in the room, left when the bin stops.
    route: server::Held<server::Route>,
    publication: server::Held<server::Publication>,
    assembled: Mutex<bool>,
}

#[glib::object_subclass]
impl ObjectSubclass for PixelmeetSend {
    const NAME: &'static str = "GstPixelmeetSend";
    type Type = super::PixelmeetSend;
    type ParentType = gst::Bin;
}

impl ObjectImpl for PixelmeetSend {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            let mut properties = vec![
                glib::ParamSpecString::builder("host")
                    .nick("Host")
                    .blurb("Where the media goes: the receiver's address, a relay's, or a multicast group")
                    .default_value(Some(graph::DEFAULT_HOST))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("find-faces")
                    .nick("Find faces")
                    .blurb("faceroi in the chain: faces get priority, owner-only and no-face modes")
                    .default_value(d.find_faces)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("replace-background")
                    .nick("Replace background")
                    .blurb("bgreplace in the chain, so the background costs nothing to send")
                    .default_value(d.replace_background)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("network-simulation")
                    .nick("Network simulation")
                    .blurb("netsim properties for the outgoing video, to try a poor network (e.g. drop-probability=0.05)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("participant")
                    .nick("Participant")
                    .blurb("This participant's name in the media server's room (with server); the receivers that show it name it too")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("ssrc")
                    .nick("SSRC")
                    .blurb("Video SSRC (audio's is ssrc+1, retransmissions' ssrc+2); 0: random per session. Reads the one in use")
                    .default_value(0)
                    .mutable_ready()
                    .build(),
            ];
            properties.extend(graph::port_properties(
                "The receiver's base port: video RTP; RTCP on port+1, audio on port+2 and +3",
                "Local port for the receivers' video reports (audio's on report-port+1); 0: none, no adaptation",
            ));
            properties.extend(Shared::properties(
                "Network interface for a multicast host (e.g. lo); empty: the system's choice",
                "Resend video packets a receiver reports lost (RFC 4588, payload type 97)",
                "SRTP-protect media and reports with a fresh session key from the meeting key in this file (mode 0600, 60 hex digits)",
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
            "host" => s.host = graph::string(value),
            "port" => s.port = value.get::<u32>().expect("type checked upstream") as u16,
            "report-port" => {
                s.report_port = value.get::<u32>().expect("type checked upstream") as u16
            }
            "find-faces" => s.find_faces = value.get().expect("type checked upstream"),
            "replace-background" => {
                s.replace_background = value.get().expect("type checked upstream")
            }
            "network-simulation" => s.network_simulation = graph::string(value),
            "ssrc" => s.ssrc = value.get().expect("type checked upstream"),
            "participant" => s.participant = graph::string(value),
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
            "host" => s.host.to_value(),
            "port" => u32::from(s.port).to_value(),
            "report-port" => u32::from(s.report_port).to_value(),
            "find-faces" => s.find_faces.to_value(),
            "replace-background" => s.replace_background.to_value(),
            "network-simulation" => graph::optional(&s.network_simulation),
            "ssrc" => self.ssrc.lock().unwrap().unwrap_or(s.ssrc).to_value(),
            "participant" => graph::optional(&s.participant),
            _ => unimplemented!(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        let children = Children::new();
        if let Ok(c) = &children {
            obj.add_many([
                &c.faceroi,
                &c.bgreplace,
                &c.encoder,
                &c.payloader,
                &c.adapt,
                &c.rtpbin,
            ])
            .expect("fresh children");
        }
        *self.children.lock().unwrap() = Some(children);
        let templ = obj.pad_template("video_sink").expect("template");
        let pad = gst::GhostPad::builder_from_template(&templ)
            .name("video_sink")
            .build();
        obj.add_pad(&pad).expect("a new pad");
    }
}

impl GstObjectImpl for PixelmeetSend {}

impl ElementImpl for PixelmeetSend {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "pixelmeet sender",
                "Sink/Network/Bin",
                "Sends a participant's video and audio over RTP/UDP: faces, background replacement, pixeldiff, Opus, RTCP and bitrate adaptation",
                "pixelmeet developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            vec![
                gst::PadTemplate::new(
                    "video_sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &gst::Caps::new_empty_simple("video/x-raw"),
                )
                .expect("valid template"),
                gst::PadTemplate::new(
                    "audio_sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Request,
                    &gst::Caps::new_empty_simple("audio/x-raw"),
                )
                .expect("valid template"),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn request_new_pad(
        &self,
        templ: &gst::PadTemplate,
        _name: Option<&str>,
        _caps: Option<&gst::Caps>,
    ) -> Option<gst::Pad> {
        let obj = self.obj();
        if templ.name_template() != "audio_sink" || self.audio.lock().unwrap().is_some() {
            return None;
        }
        if obj.current_state() != gst::State::Null {
            gst::warning!(
                CAT,
                imp = self,
                "audio_sink is asked for before the bin starts"
            );
            return None;
        }
        let made = (|| -> Result<(gst::GhostPad, Audio), glib::BoolError> {
            let convert = graph::make("audioconvert", "audioconvert")?;
            let resample = graph::make("audioresample", "audioresample")?;
            let encoder = graph::make("opusenc", "opusenc")?;
            encoder.set_property("bitrate", graph::OPUS_BITRATE);
            let payloader = graph::make("rtpopuspay", "rtpopuspay")?;
            payloader.set_property("pt", u32::from(graph::AUDIO_PAYLOAD_TYPE));
            graph::chain(
                obj.upcast_ref(),
                &[&convert, &resample, &encoder, &payloader],
            )?;
            let target = convert.static_pad("sink").expect("audioconvert sink");
            let pad = gst::GhostPad::builder_from_template_with_target(templ, &target)?
                .name("audio_sink")
                .build();
            Ok((
                pad,
                Audio {
                    first: convert,
                    payloader,
                },
            ))
        })();
        match made {
            Ok((pad, audio)) => {
                obj.add_pad(&pad).ok()?;
                *self.audio.lock().unwrap() = Some(audio);
                Some(pad.upcast())
            }
            Err(e) => {
                gst::element_imp_error!(self, gst::CoreError::MissingPlugin, ["{e}"]);
                None
            }
        }
    }

    fn release_pad(&self, pad: &gst::Pad) {
        if let Some(audio) = self.audio.lock().unwrap().take() {
            let _ = audio.first.set_state(gst::State::Null);
        }
        let _ = self.obj().remove_pad(pad);
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        graph::assemble_once(self, transition, &self.assembled, || self.assemble())?;
        if transition == gst::StateChange::NullToReady {
            self.publish()?;
        }
        let result = self.parent_change_state(transition);
        if transition == gst::StateChange::ReadyToNull {
            if let Some(route) = self.route.lock().unwrap().as_ref() {
                route.close();
            }
            if self.publication.lock().unwrap().take().is_some() {
                server::post(self.obj().upcast_ref(), "left", None);
            }
        }
        result
    }
}

impl BinImpl for PixelmeetSend {
    fn handle_message(&self, message: gst::Message) {
        self.parent_handle_message(graph::from_bin(self.obj().upcast_ref(), message))
    }
}

impl PixelmeetSend {
    /// Links the graph the settings describe; once, at the first READY.
    fn assemble(&self) -> Result<(), glib::BoolError> {
        let s = self.settings.lock().unwrap().clone();
        let guard = self.children.lock().unwrap();
        let c = guard
            .as_ref()
            .expect("made at construction")
            .as_ref()
            .map_err(Clone::clone)?;
        if s.host.is_empty() {
            return Err(glib::bool_error!("host is empty"));
        }
        let obj = self.obj();
        let bin: &gst::Bin = obj.upcast_ref();
        let answerable = !graph::is_multicast(&s.host) && s.report_port != 0;
        let keys = s.shared.keys(bin, answerable)?;
        let e2e = s.shared.e2e_key()?;
        if s.shared.through_server() && s.participant.is_empty() {
            return Err(glib::bool_error!(
                "participant is empty: a media server's room needs this participant's name"
            ));
        }
        let ssrc = match s.ssrc {
            0 => glib::random_int().max(1),
            n => n,
        };
        let net = &s.shared.network;

        // Video: faces, background, codec, payloader.
        let mut video = Vec::new();
        for (wanted, element) in [
            (s.find_faces, &c.faceroi),
            (s.replace_background, &c.bgreplace),
        ] {
            if wanted {
                video.push(element);
            } else {
                bin.remove(element)?;
            }
        }
        video.extend([&c.encoder, &c.payloader]);
        gst::Element::link_many(video.iter().copied())?;
        let ghost = obj
            .static_pad("video_sink")
            .and_downcast::<gst::GhostPad>()
            .expect("video_sink");
        ghost.set_target(video[0].static_pad("sink").as_ref())?;
        c.payloader
            .set_property("pt", u32::from(video_glue::rtp::DEFAULT_PAYLOAD_TYPE));
        // The receivers count the faces faceroi found, so they travel with the frames.
        c.payloader.set_property("faces", s.find_faces);
        c.payloader.set_property("ssrc", ssrc);
        c.adapt.set_property("ssrc", ssrc);
        let mut video_out = Tail::new(&c.payloader, "src");
        if s.shared.rtx {
            let rtx = graph::make("rtprtxsend", "rtprtxsend")?;
            rtx.set_property_from_str("payload-type-map", &graph::rtx_payload_map());
            rtx.set_property_from_str(
                "ssrc-map",
                &format!(
                    "application/x-rtp-ssrc-map,{ssrc}=(uint){}",
                    ssrc.wrapping_add(2)
                ),
            );
            rtx.set_property("max-size-time", graph::RTX_KEEP_MS);
            bin.add(&rtx)?;
            video_out = video_out.through(&rtx, "sink", "src")?;
        }
        video_out.end(&c.rtpbin, "send_rtp_sink_0")?;
        let rtpbin_sink = c.rtpbin.static_pad("send_rtp_sink_0").expect("linked");
        graph::transport_wide_sequence_numbers(&c.payloader, &rtpbin_sink)?;
        let srtp = keys.as_ref().map(|k| k.encoder("srtpenc")).transpose()?;
        if let Some(enc) = &srtp {
            bin.add(enc)?;
        }
        let simulation = if s.network_simulation.is_empty() {
            None
        } else {
            let netsim = graph::make("netsim", "netsim")?;
            for pair in s.network_simulation.split_whitespace() {
                let value = pair.split_once('=').and_then(|(name, value)| {
                    let pspec = netsim.find_property(name)?;
                    Some((
                        name,
                        glib::Value::deserialize_with_pspec(value, &pspec).ok()?,
                    ))
                });
                let Some((name, value)) = value else {
                    return Err(glib::bool_error!(
                        "network-simulation: {pair:?} is not a netsim property=value"
                    ));
                };
                netsim.set_property_from_value(name, &value);
            }
            bin.add(&netsim)?;
            Some(netsim)
        };

        // Through a media server each session's sockets are the bin's own (server::Leg), and
        // where they send to is set when the bin publishes.
        let through_server = s.shared.through_server();
        let session = |id: u32,
                       port: u16,
                       report_port: u16|
         -> Result<Option<server::Leg>, glib::BoolError> {
            let mut sinks = Vec::new();
            // RTP and RTCP out, through srtpenc when there is a key (and netsim for video tests).
            for (kind, port) in [("rtp", port), ("rtcp", port + graph::RTCP_OFFSET)] {
                let sink = graph::udp_sink(&format!("{kind}_out_{id}"), &s.host, port, net)?;
                bin.add(&sink)?;
                let mut out = Tail::new(&c.rtpbin, &format!("send_{kind}_src_{id}"));
                if let (Some(netsim), "rtp", graph::VIDEO_SESSION) = (&simulation, kind, id) {
                    out = out.through(netsim, "sink", "src")?;
                }
                if let Some(enc) = &srtp {
                    out = out.through(
                        enc,
                        &format!("{kind}_sink_{id}"),
                        &format!("{kind}_src_{id}"),
                    )?;
                }
                out.end(&sink, "sink")?;
                if let (Some(k), "rtp", graph::VIDEO_SESSION) = (&keys, kind, id) {
                    k.announce_through(&sink, &s.host, port)?;
                }
                sinks.push(sink.downgrade());
            }
            if report_port == 0 && !through_server {
                return Ok(None);
            }
            // The receivers' reports in, decrypted when there is a key; video's pass pixeldiffadapt.
            let address = if graph::is_multicast(&s.host) {
                s.host.as_str()
            } else {
                graph::ANY_ADDRESS
            };
            let reports = graph::udp_source(
                &format!("reports_in_{id}"),
                address,
                report_port,
                &graph::rtcp_caps(keys.is_some()),
                net,
            )?;
            let leg = through_server.then(|| server::Leg {
                video: id == graph::VIDEO_SESSION,
                report_port,
                rtp_sink: sinks[0].clone(),
                rtcp_sink: sinks[1].clone(),
                reports_src: reports.downgrade(),
            });
            bin.add(&reports)?;
            if let Some(k) = &keys {
                k.listen(&reports);
            }
            let mut reports = Tail::new(&reports, "src");
            if let Some(k) = &keys {
                let dec = k.decoder(&format!("srtpdec_{id}"))?;
                bin.add(&dec)?;
                reports = reports.through(&dec, "rtcp_sink", "rtcp_src")?;
            }
            if id == graph::VIDEO_SESSION {
                reports = reports.through(&c.adapt, "sink", "src")?;
            }
            reports.end(&c.rtpbin, &format!("recv_rtcp_sink_{id}"))?;
            Ok(leg)
        };
        let mut legs: Vec<server::Leg> = Vec::new();
        legs.extend(session(graph::VIDEO_SESSION, s.port, s.report_port)?);
        if let Some(audio) = self.audio.lock().unwrap().as_ref() {
            audio.payloader.set_property("ssrc", ssrc.wrapping_add(1));
            Tail::new(&audio.payloader, "src").end(&c.rtpbin, "send_rtp_sink_1")?;
            legs.extend(session(
                graph::AUDIO_SESSION,
                s.port + graph::AUDIO_RTP_OFFSET,
                graph::audio_report_port(s.report_port),
            )?);
            if let Some(meeting) = &e2e {
                e2e::seal_on(&audio.payloader.static_pad("src").expect("src"), meeting)?;
            }
        }
        if let Some(meeting) = &e2e {
            e2e::seal_on(&c.payloader.static_pad("src").expect("src"), meeting)?;
        }
        if through_server {
            *self.route.lock().unwrap() = Some(server::Route {
                server: s.shared.server.clone(),
                room: s.shared.room.clone(),
                participant: s.participant.clone(),
                legs,
            });
        }
        graph::report_often(&c.rtpbin);
        if let Some(k) = &keys {
            // The receiver that just answered could not decrypt what came before: a keyframe
            // now, not when it notices and asks.
            let encoder = c.encoder.downgrade();
            k.on_rekey(move || {
                if let Some(encoder) = encoder.upgrade() {
                    keyframe_now(&encoder);
                }
            });
            // Media, audio, retransmissions, and the sessions' own RTCP.
            let mut ssrcs = vec![ssrc, ssrc.wrapping_add(1), ssrc.wrapping_add(2)];
            ssrcs.extend(graph::internal_ssrcs(&c.rtpbin));
            k.set_ssrcs(&ssrcs);
        }
        *self.keys.lock().unwrap() = keys;
        gst::info!(
            CAT,
            imp = self,
            "sending to {}:{} with SSRC {ssrc:#010x}",
            s.host,
            s.port
        );
        *self.ssrc.lock().unwrap() = Some(ssrc);
        Ok(())
    }
}

impl PixelmeetSend {
    /// With `server`, publishes in the room (at every start) and points the sinks at the
    /// server; a failure is the error that stops the start.
    fn publish(&self) -> Result<(), gst::StateChangeError> {
        let route = self.route.lock().unwrap();
        let Some(route) = route.as_ref() else {
            return Ok(());
        };
        match route.publish() {
            Ok(p) => {
                *self.publication.lock().unwrap() = Some(p);
                server::post(self.obj().upcast_ref(), "published", None);
                Ok(())
            }
            Err(e) => {
                gst::element_imp_error!(self, gst::ResourceError::OpenWrite, ("{}", e.message));
                Err(gst::StateChangeError)
            }
        }
    }
}

/// Makes `encoder` (a `GstVideoEncoder`) code its next frame as a keyframe, even within its
/// `min-force-key-unit-interval` of the last one. That limit is against forged picture-loss
/// requests; a rekey comes from a peer that holds the meeting key. The limit is back once the
/// keyframe is out.
fn keyframe_now(encoder: &gst::Element) {
    const LIMIT: &str = "min-force-key-unit-interval";
    let Some(src) = encoder.static_pad("src") else {
        return;
    };
    let limit = encoder.property::<u64>(LIMIT);
    if limit != 0 {
        encoder.set_property(LIMIT, 0u64);
        let weak = encoder.downgrade();
        src.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let keyframe = info
                .buffer()
                .is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
            if !keyframe {
                return gst::PadProbeReturn::Ok;
            }
            if let Some(encoder) = weak.upgrade() {
                encoder.set_property(LIMIT, limit);
            }
            gst::PadProbeReturn::Remove
        });
    }
    src.send_event(
        gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(true)
            .build(),
    );
}
