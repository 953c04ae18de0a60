// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! SRTP with a fresh key per participant and session (the `session-keys` crate), wired into a
//! bin: srtpenc takes this session's key; srtpdec asks for a stream's key when its first
//! packet comes and gets one only once that stream's session was announced and found fresh;
//! announcements go out through the bin's own udpsink socket (so they come from the media's
//! address and port) every second and at once on hearing a new challenge, and are taken out
//! of what the udpsrcs receive before srtpdec sees it.
//!
//! The meeting key is read from a file inside the process, so it is on no command line.
//! Each verdict is posted as a `pixelmeet-key` element message: `accepted` with the SSRCs,
//! or `refused` with the reason and how many were refused for it (at most one a second per
//! reason).

use gio::prelude::*;
use gst::glib;
use gst::prelude::*;
use session_keys::{Freshness, Keyring, MeetingKey, Refusal, Verdict, MASTER_LEN};
use std::net::ToSocketAddrs as _;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

/// AES-128 counter mode with HMAC-SHA1-80 for RTP and RTCP (RFC 3711's default), as srtpdec's
/// caps field and srtpenc's property name it.
const CIPHERS: [(&str, &str, &str); 4] = [
    ("srtp-cipher", "rtp-cipher", "aes-128-icm"),
    ("srtp-auth", "rtp-auth", "hmac-sha1-80"),
    ("srtcp-cipher", "rtcp-cipher", "aes-128-icm"),
    ("srtcp-auth", "rtcp-auth", "hmac-sha1-80"),
];

/// Where announcements go: the udpsink whose socket sends them, and its destination.
struct Outlet {
    sink: glib::WeakRef<gst::Element>,
    to: gio::InetSocketAddress,
}

/// A bin's keys: its session, the sessions it took, and where it announces.
pub struct Keys {
    ring: Mutex<Keyring>,
    /// The srtpenc this session's key is in (it changes when a new peer answers).
    encoder: Mutex<glib::WeakRef<gst::Element>>,
    outlet: Mutex<Option<Outlet>>,
    bin: glib::WeakRef<gst::Bin>,
    refusals: crate::graph::Refusals<Refusal>,
    /// Called after srtpenc took a new key (a sender asks for a keyframe: a peer that just took
    /// the key has none yet).
    on_rekey: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
    ticker: Mutex<Option<gst::PeriodicClockId>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if let Some(id) = self.ticker.lock().unwrap().take() {
            id.unschedule();
        }
    }
}

impl Keys {
    /// A new session under the meeting key in `path`, for `bin`.
    pub fn new(
        path: &Path,
        freshness: Freshness,
        bin: &gst::Bin,
    ) -> Result<Arc<Self>, glib::BoolError> {
        let ring = MeetingKey::read(path)
            .and_then(|meeting| Keyring::new(meeting, freshness))
            .map_err(|e| glib::bool_error!("{e}"))?;
        Ok(Arc::new(Self {
            ring: Mutex::new(ring),
            encoder: Mutex::new(glib::WeakRef::new()),
            outlet: Mutex::new(None),
            bin: bin.downgrade(),
            refusals: crate::graph::Refusals::new("pixelmeet-key"),
            on_rekey: Mutex::new(None),
            ticker: Mutex::new(None),
        }))
    }

    /// The SSRCs this bin sends SRTP or SRTCP from, as its announcements name them.
    pub fn set_ssrcs(&self, ssrcs: &[u32]) {
        self.ring.lock().unwrap().set_ssrcs(ssrcs);
    }

    /// The `srtpenc` protecting RTP and RTCP with this session's key.
    pub fn encoder(&self, name: &str) -> Result<gst::Element, glib::BoolError> {
        let enc = crate::graph::make("srtpenc", name)?;
        for (_, property, value) in CIPHERS {
            enc.set_property_from_str(property, value);
        }
        self.encoder.lock().unwrap().set(Some(&enc));
        self.rekey();
        Ok(enc)
    }

    /// Gives srtpenc this session's key as it is now; srtpenc starts a new SRTP session with it.
    fn rekey(&self) {
        if let Some(enc) = self.encoder.lock().unwrap().upgrade() {
            let master = self.ring.lock().unwrap().own_master();
            enc.set_property("key", gst::Buffer::from_slice(master));
        }
        if let Some(f) = self.on_rekey.lock().unwrap().as_ref() {
            f();
        }
    }

    /// `f` runs each time a new peer's answer changed this session's key.
    pub fn on_rekey(&self, f: impl Fn() + Send + Sync + 'static) {
        *self.on_rekey.lock().unwrap() = Some(Box::new(f));
    }

    /// An `srtpdec` that takes a stream's key from its session's announcement; until that has
    /// been taken the stream's packets are dropped.
    pub fn decoder(self: &Arc<Self>, name: &str) -> Result<gst::Element, glib::BoolError> {
        let dec = crate::graph::make("srtpdec", name)?;
        let keys = Arc::downgrade(self);
        dec.connect("request-key", false, move |args| {
            let master = args[1]
                .get::<u32>()
                .ok()
                .and_then(|ssrc| keys.upgrade()?.ring.lock().unwrap().master_for(ssrc));
            // No caps: srtpdec drops the packet and asks again at the next.
            Some(master.map(|m| srtp_caps(&m)).to_value())
        });
        Ok(dec)
    }

    /// Announcements leave through `sink` (a udpsink to `host:port`): before its first packet,
    /// then every second.
    pub fn announce_through(
        self: &Arc<Self>,
        sink: &gst::Element,
        host: &str,
        port: u16,
    ) -> Result<(), glib::BoolError> {
        let to = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| glib::bool_error!("cannot resolve {host}"))?;
        *self.outlet.lock().unwrap() = Some(Outlet {
            sink: sink.downgrade(),
            to: gio::InetSocketAddress::from(to),
        });
        // The first announcement goes just before the first packet, so a receiver can take
        // the key before the stream's first keyframe arrives.
        let keys = Arc::downgrade(self);
        sink.static_pad("sink")
            .expect("udpsink has a sink pad")
            .add_probe(
                gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
                move |_, _| {
                    if let Some(keys) = keys.upgrade() {
                        keys.announce();
                    }
                    gst::PadProbeReturn::Remove
                },
            );
        let clock = gst::SystemClock::obtain();
        let interval = gst::ClockTime::from_mseconds(session_keys::ANNOUNCE_INTERVAL_MS);
        let id = clock.new_periodic_id(clock.time(), interval);
        let keys: Weak<Self> = Arc::downgrade(self);
        id.wait_async(move |_, _, _| {
            if let Some(keys) = keys.upgrade() {
                keys.announce();
            }
        })
        .map_err(|_| glib::bool_error!("cannot schedule announcements"))?;
        *self.ticker.lock().unwrap() = Some(id);
        Ok(())
    }

    /// Takes announcements out of what `src` (a udpsrc) receives, before srtpdec.
    pub fn listen(self: &Arc<Self>, src: &gst::Element) {
        let keys = Arc::downgrade(self);
        let pad = src.static_pad("src").expect("udpsrc has a src pad");
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let (Some(keys), Some(buffer)) = (keys.upgrade(), info.buffer()) else {
                return gst::PadProbeReturn::Ok;
            };
            let now = session_keys::now_ms();
            // The map ends before the buffer is dropped.
            let heard = match buffer.map_readable() {
                Ok(map) if session_keys::Announcement::is_one(&map) => {
                    keys.ring.lock().unwrap().hear(&map, now)
                }
                _ => return gst::PadProbeReturn::Ok,
            };
            keys.report(&heard.verdict, now);
            if heard.reply {
                keys.announce();
            }
            if heard.rekey {
                keys.rekey();
            }
            gst::PadProbeReturn::Drop
        });
    }

    fn announce(&self) {
        let outlet = self.outlet.lock().unwrap();
        let Some(outlet) = outlet.as_ref() else {
            return;
        };
        // The sink's socket exists from PAUSED on.
        let Some(socket) = outlet
            .sink
            .upgrade()
            .and_then(|s| s.property::<Option<gio::Socket>>("used-socket"))
        else {
            return;
        };
        let bytes = self
            .ring
            .lock()
            .unwrap()
            .announcement(session_keys::now_ms());
        let _ = socket.send_to(Some(&outlet.to), &bytes, gio::Cancellable::NONE);
    }

    fn report(&self, verdict: &Verdict, now: u64) {
        let Some(bin) = self.bin.upgrade() else {
            return;
        };
        let structure = match verdict {
            Verdict::Accepted(ssrcs) => gst::Structure::builder("pixelmeet-key")
                .field("verdict", "accepted")
                .field("ssrcs", gst::Array::new(ssrcs.iter().copied()))
                .build(),
            Verdict::Refused(refusal) => {
                self.refusals.note(&bin, *refusal, refusal.as_str(), now);
                return;
            }
            _ => return,
        };
        let _ = bin.post_message(gst::message::Element::builder(structure).src(&bin).build());
    }
}

/// srtpdec's answer to request-key: the key and ciphers as it reads them from caps.
fn srtp_caps(master: &[u8; MASTER_LEN]) -> gst::Caps {
    let mut key = gst::Structure::builder("application/x-srtp")
        .field("srtp-key", gst::Buffer::from_slice(*master));
    for (field, _, value) in CIPHERS {
        key = key.field(field, value);
    }
    gst::Caps::builder_full().structure(key.build()).build()
}
