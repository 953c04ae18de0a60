// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use crate::graph::{self, Network};
use crate::key::SrtpKey;

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
    network: Network,
    latency: u32,
    rtx: bool,
    audio: bool,
    key_file: Option<PathBuf>,
}

const ANY_ADDRESS: &str = "0.0.0.0";

impl Default for Settings {
    fn default() -> Self {
        Self {
            address: ANY_ADDRESS.into(),
            port: graph::DEFAULT_PORT,
            report_host: graph::DEFAULT_HOST.into(),
            report_port: graph::DEFAULT_REPORT_PORT,
            network: Network {
                multicast_iface: String::new(),
                ttl: 1,
            },
            latency: graph::DEFAULT_LATENCY_MS,
            rtx: false,
            audio: true,
            key_file: None,
        }
    }
}

struct Children {
    rtpbin: gst::Element,
    funnel: gst::Element,
    depayloader: gst::Element,
    decoder: gst::Element,
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
    assembled: Mutex<bool>,
}

#[glib::object_subclass]
impl ObjectSubclass for PixelmeetRecv {
    const NAME: &'static str = "GstPixelmeetRecv";
    type Type = super::PixelmeetRecv;
    type ParentType = gst::Bin;
}

fn string(value: &glib::Value) -> String {
    value
        .get::<Option<String>>()
        .expect("type checked upstream")
        .unwrap_or_default()
}

impl ObjectImpl for PixelmeetRecv {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            vec![
                glib::ParamSpecString::builder("address")
                    .nick("Address")
                    .blurb("Local address to listen on; a multicast group is joined")
                    .default_value(Some(ANY_ADDRESS))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("port")
                    .nick("Port")
                    .blurb("Base port: video RTP; RTCP on port+1, audio on port+2 and +3")
                    .minimum(1)
                    .maximum(65532)
                    .default_value(d.port.into())
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("report-host")
                    .nick("Report host")
                    .blurb("Where reports about the received streams go: the sender, a relay, or a multicast group")
                    .default_value(Some(graph::DEFAULT_HOST))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("report-port")
                    .nick("Report port")
                    .blurb("The sender's report port (audio's is report-port+1); 0: send no reports")
                    .maximum(65534)
                    .default_value(d.report_port.into())
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("multicast-iface")
                    .nick("Multicast interface")
                    .blurb("Network interface for a multicast group (e.g. lo); empty: the system's choice")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("ttl")
                    .nick("Multicast TTL")
                    .blurb("Hops a multicast report may take")
                    .minimum(1)
                    .maximum(255)
                    .default_value(d.network.ttl)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("Jitter buffer, in ms")
                    .maximum(10_000)
                    .default_value(d.latency)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("rtx")
                    .nick("Retransmission")
                    .blurb("Ask for lost video packets again (NACK; the sender needs rtx too)")
                    .default_value(d.rtx)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("audio")
                    .nick("Audio")
                    .blurb("Listen for audio on port+2 and +3")
                    .default_value(d.audio)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("key-file")
                    .nick("Key file")
                    .blurb("SRTP: accept only media protected with the key in this file (mode 0600, 60 hex digits), protect the reports")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        match pspec.name() {
            "address" => s.address = string(value),
            "port" => s.port = value.get::<u32>().expect("type checked upstream") as u16,
            "report-host" => s.report_host = string(value),
            "report-port" => {
                s.report_port = value.get::<u32>().expect("type checked upstream") as u16
            }
            "multicast-iface" => s.network.multicast_iface = string(value),
            "ttl" => s.network.ttl = value.get().expect("type checked upstream"),
            "latency" => s.latency = value.get().expect("type checked upstream"),
            "rtx" => s.rtx = value.get().expect("type checked upstream"),
            "audio" => s.audio = value.get().expect("type checked upstream"),
            "key-file" => s.key_file = video_glue::path_of(value),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        match pspec.name() {
            "address" => s.address.to_value(),
            "port" => u32::from(s.port).to_value(),
            "report-host" => s.report_host.to_value(),
            "report-port" => u32::from(s.report_port).to_value(),
            "multicast-iface" => graph::optional(&s.network.multicast_iface),
            "ttl" => s.network.ttl.to_value(),
            "latency" => s.latency.to_value(),
            "rtx" => s.rtx.to_value(),
            "audio" => s.audio.to_value(),
            "key-file" => video_glue::path_value(s.key_file.as_deref()),
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
                &c.audio_depayloader,
                &c.audio_decoder,
                &c.level,
            ])
            .expect("fresh children");
            gst::Element::link_many([&c.funnel, &c.depayloader, &c.decoder]).expect("video chain");
            gst::Element::link_many([&c.audio_depayloader, &c.audio_decoder, &c.level])
                .expect("audio chain");
            (c.decoder.static_pad("src"), c.level.static_pad("src"))
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
        if transition == gst::StateChange::NullToReady && !*self.assembled.lock().unwrap() {
            if let Err(e) = self.assemble() {
                gst::element_imp_error!(self, gst::LibraryError::Settings, ("{e}"));
                return Err(gst::StateChangeError);
            }
            *self.assembled.lock().unwrap() = true;
        }
        self.parent_change_state(transition)
    }
}

impl BinImpl for PixelmeetRecv {
    fn handle_message(&self, message: gst::Message) {
        self.parent_handle_message(graph::from_bin(self.obj().upcast_ref(), message))
    }
}

impl PixelmeetRecv {
    fn assemble(&self) -> Result<(), String> {
        let s = self.settings.lock().unwrap().clone();
        let guard = self.children.lock().unwrap();
        let c = match guard.as_ref().expect("made at construction") {
            Ok(c) => c,
            Err(e) => return Err(e.to_string()),
        };
        let key = s.key_file.as_deref().map(SrtpKey::read).transpose()?;
        let obj = self.obj();
        let bin: &gst::Bin = obj.upcast_ref();
        let e = |e: glib::BoolError| e.to_string();
        c.rtpbin.set_property("latency", s.latency);
        c.rtpbin.set_property("do-retransmission", s.rtx);
        let srtp_out = key
            .as_ref()
            .map(|k| k.encoder("srtpenc"))
            .transpose()
            .map_err(e)?;
        if let Some(enc) = &srtp_out {
            bin.add(enc).map_err(e)?;
        }

        let session =
            |id: u32, port: u16, caps: gst::Caps, report_port: u16| -> Result<(), String> {
                let (rtp_caps, rtcp_caps) = match key {
                    Some(_) => {
                        let mut srtp = caps.clone();
                        srtp.make_mut()
                            .structure_mut(0)
                            .expect("one structure")
                            .set_name("application/x-srtp");
                        (srtp, gst::Caps::new_empty_simple("application/x-srtcp"))
                    }
                    None => (caps, graph::rtcp_caps()),
                };
                let rtp_in = graph::udp_source(
                    &format!("rtp_in_{id}"),
                    &s.address,
                    port,
                    &rtp_caps,
                    &s.network,
                )
                .map_err(e)?;
                let rtcp_in = graph::udp_source(
                    &format!("rtcp_in_{id}"),
                    &s.address,
                    port + graph::RTCP_OFFSET,
                    &rtcp_caps,
                    &s.network,
                )
                .map_err(e)?;
                bin.add_many([&rtp_in, &rtcp_in]).map_err(e)?;
                let mut rtp = (rtp_in.clone(), "src".to_string());
                let mut rtcp = (rtcp_in.clone(), "src".to_string());
                if let Some(k) = &key {
                    let dec = k.decoder(&format!("srtpdec_{id}")).map_err(e)?;
                    bin.add(&dec).map_err(e)?;
                    graph::link(&rtp_in, "src", &dec, "rtp_sink").map_err(e)?;
                    graph::link(&rtcp_in, "src", &dec, "rtcp_sink").map_err(e)?;
                    rtp = (dec.clone(), "rtp_src".into());
                    rtcp = (dec, "rtcp_src".into());
                }
                if s.rtx && id == graph::VIDEO_SESSION {
                    let rtx = graph::make("rtprtxreceive", "rtprtxreceive").map_err(e)?;
                    rtx.set_property_from_str(
                        "payload-type-map",
                        &format!(
                            "application/x-rtp-pt-map,{}=(uint){}",
                            video_glue::rtp::DEFAULT_PAYLOAD_TYPE,
                            graph::RTX_PAYLOAD_TYPE
                        ),
                    );
                    bin.add(&rtx).map_err(e)?;
                    graph::link(&rtp.0, &rtp.1, &rtx, "sink").map_err(e)?;
                    rtp = (rtx, "src".into());
                }
                graph::link(&rtp.0, &rtp.1, &c.rtpbin, &format!("recv_rtp_sink_{id}"))
                    .map_err(e)?;
                graph::link(&rtcp.0, &rtcp.1, &c.rtpbin, &format!("recv_rtcp_sink_{id}"))
                    .map_err(e)?;
                if report_port == 0 {
                    return Ok(());
                }
                let reports = graph::udp_sink(
                    &format!("reports_out_{id}"),
                    &s.report_host,
                    report_port,
                    &s.network,
                )
                .map_err(e)?;
                bin.add(&reports).map_err(e)?;
                let mut from = (c.rtpbin.clone(), format!("send_rtcp_src_{id}"));
                if let Some(enc) = &srtp_out {
                    graph::link(&from.0, &from.1, enc, &format!("rtcp_sink_{id}")).map_err(e)?;
                    from = (enc.clone(), format!("rtcp_src_{id}"));
                }
                graph::link(&from.0, &from.1, &reports, "sink").map_err(e)
            };
        session(
            graph::VIDEO_SESSION,
            s.port,
            graph::video_caps(s.rtx),
            s.report_port,
        )?;
        if s.audio {
            let report_port = if s.report_port == 0 {
                0
            } else {
                s.report_port + graph::AUDIO_REPORT_OFFSET
            };
            session(
                graph::AUDIO_SESSION,
                s.port + graph::AUDIO_RTP_OFFSET,
                graph::audio_caps(),
                report_port,
            )?;
        }
        graph::report_often(&c.rtpbin);

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
        gst::info!(CAT, imp = self, "listening on {}:{}", s.address, s.port);
        Ok(())
    }
}

/// Sends what `pad` gives into a new fakesink in `bin`.
fn discard(bin: &super::PixelmeetRecv, pad: &gst::Pad) {
    let Ok(sink) = graph::make("fakesink", &format!("discard_{}", pad.name())) else {
        return;
    };
    sink.set_property("async", false);
    sink.set_property("sync", false);
    if bin.add(&sink).is_ok() {
        let _ = sink.sync_state_with_parent();
        let _ = pad.link(&sink.static_pad("sink").expect("fakesink sink pad"));
    }
}
