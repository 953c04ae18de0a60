// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Shared by the fuzz targets, the seed generator (`examples/gen_seeds.rs`) and the pixelmeet
//! regression test `tests/fuzz_regressions.rs` (which includes this file with `#[path]`), so the
//! corpus is replayed exactly as the fuzzer runs it. Only `gst`, `gst_check`, `gstpixeldiff` and
//! `pixeldiff_codec` are used: the names both crates give those dependencies.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use gst::glib;

/// Largest datagram taken from an input (a UDP payload on an Ethernet path is at most 1472).
pub const MAX_DATAGRAM: usize = 2000;

/// What `rtp_receive` feeds: the receiving half of an RTP session, as the docs' pipelines use it.
pub const RECEIVER: &str = "rtppixeldiffdepay ! pixeldiffdec";

/// Caps an `udpsrc` for the stream is given (`docs/rtp-pixeldiff.md`).
pub const RTP_CAPS: &str =
    "application/x-rtp,media=video,clock-rate=90000,encoding-name=X-PIXELDIFF,payload=96";

/// Set `PIXELDIFF_FUZZ_FATAL_CRITICALS=1` to abort on a GLib CRITICAL (a crash artifact for it).
pub const FATAL_CRITICALS_ENV: &str = "PIXELDIFF_FUZZ_FATAL_CRITICALS";

static CRITICALS: AtomicUsize = AtomicUsize::new(0);
static WARNINGS: AtomicUsize = AtomicUsize::new(0);
/// Distinct messages already printed, so a repeated one does not flood the fuzzer's log.
static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Initialise GStreamer and register the pixeldiff plugin statically, once per process.
///
/// GLib warnings and criticals are not fatal (GStreamer's own default): they are counted, and
/// each distinct one is printed once to stderr prefixed `pixeldiff-fuzz: GLib CRITICAL` /
/// `WARNING` so a fuzzing log can be grepped for them. With [`FATAL_CRITICALS_ENV`] set, a
/// CRITICAL aborts the process instead, which libFuzzer records as a crash.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().expect("GStreamer initialises");
        gstpixeldiff::plugin_register_static().expect("the pixeldiff plugin registers");
        let fatal = std::env::var_os(FATAL_CRITICALS_ENV).is_some_and(|v| v != "0");
        // G_DEBUG=fatal-criticals or a test framework may have made these fatal: undo that.
        glib::log_set_always_fatal(glib::LogLevels::empty());
        glib::log_set_default_handler(move |domain, level, message| {
            let (counter, name) = match level {
                glib::LogLevel::Critical => (&CRITICALS, "CRITICAL"),
                glib::LogLevel::Warning => (&WARNINGS, "WARNING"),
                glib::LogLevel::Error => (&CRITICALS, "ERROR"),
                _ => return,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let line = format!(
                "pixeldiff-fuzz: GLib {name} ({}): {message}",
                domain.unwrap_or("-")
            );
            if SEEN
                .lock()
                .map(|mut s| s.insert(line.clone()))
                .unwrap_or(true)
            {
                eprintln!("{line}");
            }
            if fatal && level != glib::LogLevel::Warning {
                std::process::abort();
            }
        });
    });
}

/// GLib (criticals and errors, warnings) logged since the process started.
pub fn glib_log_counts() -> (usize, usize) {
    (
        CRITICALS.load(Ordering::Relaxed),
        WARNINGS.load(Ordering::Relaxed),
    )
}

/// Split a fuzz input into datagrams: each is a 2-byte big-endian length followed by that many
/// bytes, cut to [`MAX_DATAGRAM`] and to what is left of the input (a trailing single byte is a
/// length with nothing after it: an empty datagram).
pub fn datagrams(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let len = match *data {
            [hi, lo, ..] => u16::from_be_bytes([hi, lo]) as usize,
            _ => 0,
        };
        let rest = &data[data.len().min(2)..];
        let (datagram, tail) = rest.split_at(len.min(MAX_DATAGRAM).min(rest.len()));
        data = tail;
        Some(datagram)
    })
}

/// The inverse of [`datagrams`], for writing seeds and tests' inputs.
pub fn frame_datagrams<'a>(packets: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        assert!(p.len() <= MAX_DATAGRAM, "a {}-byte datagram", p.len());
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Where the payload of an RTP packet lies (after the CSRCs and any header extension, before
/// any padding), if the fixed header says version 2 and the lengths fit.
pub fn rtp_payload_range(packet: &[u8]) -> Option<std::ops::Range<usize>> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let mut start = 12 + 4 * (packet[0] & 0x0f) as usize;
    if packet[0] & 0x10 != 0 {
        let words = packet.get(start + 2..start + 4)?;
        start += 4 + 4 * u16::from_be_bytes([words[0], words[1]]) as usize;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.checked_sub(*packet.last()? as usize)?;
    }
    (start <= end).then_some(start..end)
}

/// For `rtp_receive_resealed`: in every datagram that looks like RTP, walk the payload's chunks
/// as `split_chunks` does (without checking the magic byte) and recompute the CRC of each chunk
/// whose size field is plausible (at least the header, within the payload), so damaged headers
/// and bodies reach the decoder instead of failing the checksum.
pub fn reseal_datagrams(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for d in datagrams(data) {
        let mut d = d.to_vec();
        if let Some(range) = rtp_payload_range(&d) {
            let payload = &mut d[range];
            let mut pos = 0;
            while pos + 4 <= payload.len() {
                let size = u16::from_le_bytes([payload[pos + 2], payload[pos + 3]]) as usize;
                if size < pixeldiff_codec::HEADER_LEN || pos + size > payload.len() {
                    break;
                }
                pixeldiff_codec::seal_chunk(&mut payload[pos..pos + size]);
                pos += size;
            }
        }
        out.extend_from_slice(&(d.len() as u16).to_be_bytes());
        out.extend_from_slice(&d);
    }
    out
}

/// A harness around [`RECEIVER`] with [`RTP_CAPS`] on its source pad (stream-start, caps and
/// a TIME segment already sent).
pub fn receiver() -> gst_check::Harness {
    let mut h = gst_check::Harness::new_parse(RECEIVER);
    h.set_src_caps_str(RTP_CAPS);
    h
}

/// What one [`replay`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub datagrams: usize,
    /// Pushes the harness returned a flow error for.
    pub flow_errors: usize,
    /// Decoded frames pulled from the harness.
    pub frames: usize,
}

/// Push every datagram of `data` as one buffer (PTS 5 ms apart, as a timestamping `udpsrc`
/// would give them), pulling what comes out after each push, then end the stream with EOS (the
/// depayloader hands on a frame whose marker packet never came) and drain again.
///
/// Afterwards the harness is flushed and given a new segment, so it takes a new stream.
pub fn replay(h: &mut gst_check::Harness, data: &[u8]) -> Replayed {
    let mut r = Replayed::default();
    for (i, d) in datagrams(data).enumerate() {
        let mut buffer = gst::Buffer::from_slice(d.to_vec());
        buffer
            .get_mut()
            .expect("fresh buffer")
            .set_pts(gst::ClockTime::from_mseconds(5 * i as u64));
        r.datagrams += 1;
        if h.push(buffer).is_err() {
            r.flow_errors += 1;
        }
        r.frames += drain(h);
    }
    h.push_event(gst::event::Eos::new());
    r.frames += drain(h);
    h.push_event(gst::event::FlushStart::new());
    h.push_event(gst::event::FlushStop::new(true));
    h.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
    drain(h);
    r
}

/// Pull (and read) every decoded frame waiting in the harness and drop the events queued at
/// both ends, so nothing builds up; returns the number of frames.
pub fn drain(h: &mut gst_check::Harness) -> usize {
    let mut frames = 0;
    while let Some(buffer) = h.try_pull() {
        let map = buffer.map_readable().expect("decoded frames are readable");
        // Touch the first and last byte so a bad mapping shows up under the sanitizer.
        std::hint::black_box((map.first(), map.last()));
        frames += 1;
    }
    while h.try_pull_event().is_some() {}
    while h.try_pull_upstream_event().is_some() {}
    frames
}

/// Length of the controller settings that start an `rtcp_report_blocks` input.
pub const RTCP_CONFIG_LEN: usize = 12;

/// How `rtcp_report_blocks` reads its input: [`RTCP_CONFIG_LEN`] bytes of settings (zero-padded
/// if the input is shorter), then a compound RTCP packet as `pixeldiffadapt` receives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RtcpInput<'a> {
    /// `min-bitrate`, 1 to 1 000 000 kbit/s (bytes 0..3, big-endian, modulo).
    pub min_kbps: u32,
    /// `max-bitrate`, 1 to 1 000 000 kbit/s (bytes 3..6); also the start, as in the element.
    pub max_kbps: u32,
    /// What the encoder reports it sent, in kbit/s (bytes 6..9 / 8: 0 to about 2 Mbit/s; 0 is
    /// "unknown", which the controller replaces with its target).
    pub sent_kbps: f64,
    /// Byte 9 bit 0: the encoder follows its target, sending `target x byte 9 / 128` (0 to 2x)
    /// instead of the constant `sent_kbps`.
    pub sent_follows_target: bool,
    pub sent_factor: f64,
    /// Seconds between two reports (bytes 10..12, in ms: 0 to 65.5 s); the clock never goes
    /// back, as the element's `Instant` does not.
    pub step_s: f64,
    pub rtcp: &'a [u8],
}

impl<'a> RtcpInput<'a> {
    pub fn parse(data: &'a [u8]) -> Self {
        let mut c = [0u8; RTCP_CONFIG_LEN];
        let n = data.len().min(RTCP_CONFIG_LEN);
        c[..n].copy_from_slice(&data[..n]);
        let u24 = |b: &[u8]| u32::from_be_bytes([0, b[0], b[1], b[2]]);
        RtcpInput {
            min_kbps: 1 + u24(&c[0..3]) % 1_000_000,
            max_kbps: 1 + u24(&c[3..6]) % 1_000_000,
            sent_kbps: u24(&c[6..9]) as f64 / 8.0,
            sent_follows_target: c[9] & 1 == 1,
            sent_factor: c[9] as f64 / 128.0,
            step_s: u16::from_be_bytes([c[10], c[11]]) as f64 / 1000.0,
            rtcp: &data[n..],
        }
    }

    /// The settings bytes for these values (the inverse of [`RtcpInput::parse`] for values in
    /// range), for the seed generator.
    pub fn config(
        min_kbps: u32,
        max_kbps: u32,
        sent_kbps: u32,
        follow: Option<u8>,
        step_ms: u16,
    ) -> Vec<u8> {
        let mut c = Vec::with_capacity(RTCP_CONFIG_LEN);
        c.extend_from_slice(&(min_kbps - 1).to_be_bytes()[1..]);
        c.extend_from_slice(&(max_kbps - 1).to_be_bytes()[1..]);
        c.extend_from_slice(&(sent_kbps * 8).to_be_bytes()[1..]);
        c.push(follow.map_or(0, |f| f | 1));
        c.extend_from_slice(&step_ms.to_be_bytes());
        c
    }
}
