// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! End-to-end encryption through a media server (`session_keys::e2e`, SFrame), wired into a
//! bin: the sender seals every RTP payload as it leaves the payloader, the receiver opens it
//! before the depayloader. The RTP header stays in clear, so the server routes packets it
//! cannot read; a payload that does not open (another meeting key, altered, a replay, a
//! recording older than the window) is dropped. Refusals are posted as a `pixelmeet-e2e`
//! element message with the reason and how many were refused for it, at most once a second.

use gst::glib;
use gst::prelude::*;
use session_keys::e2e::{E2eRefusal, Opener, Sealer};
use session_keys::MeetingKey;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::graph;

/// The meeting key, read once for a bin.
pub fn meeting_key(path: &Path) -> Result<MeetingKey, glib::BoolError> {
    MeetingKey::read(path).map_err(|e| glib::bool_error!("{e}"))
}

/// Seals every RTP packet leaving `pad` (a payloader's src) with a sealer of its own.
pub fn seal_on(pad: &gst::Pad, meeting: &MeetingKey) -> Result<(), glib::BoolError> {
    let sealer = Mutex::new(
        Sealer::new(meeting, session_keys::now_ms()).map_err(|e| glib::bool_error!("{e}"))?,
    );
    rewrite_each(pad, move |payload| {
        sealer
            .lock()
            .unwrap()
            .seal(payload, session_keys::now_ms())
            .ok()
    });
    Ok(())
}

/// Replaces the payload of every RTP packet passing `pad`, alone or in a list, with
/// `change(payload)`; a packet `change` refuses is dropped.
fn rewrite_each(pad: &gst::Pad, change: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) {
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, info| {
            match &mut info.data {
                Some(gst::PadProbeData::Buffer(b)) => match rewrite(b, &change) {
                    Some(changed) => *b = changed,
                    None => return graph::DISCARD,
                },
                Some(gst::PadProbeData::BufferList(list)) => {
                    let mut changed = gst::BufferList::new_sized(list.len());
                    for b in list.iter().filter_map(|b| rewrite(b, &change)) {
                        changed.get_mut().expect("fresh list").add(b);
                    }
                    *list = changed;
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// What a bin's receivers opened and refused: one opener for the bin, so a key id is derived
/// once whatever stream it comes on.
pub struct Receiving {
    opener: Mutex<Opener>,
    bin: glib::WeakRef<gst::Bin>,
    refusals: graph::Refusals<E2eRefusal>,
}

impl Receiving {
    pub fn new(meeting: &MeetingKey, window_seconds: u32, bin: &gst::Bin) -> Arc<Self> {
        Arc::new(Self {
            opener: Mutex::new(Opener::new(meeting, u64::from(window_seconds) * 1000)),
            bin: bin.downgrade(),
            refusals: graph::Refusals::new("pixelmeet-e2e"),
        })
    }

    /// Opens every RTP packet reaching `pad` (a depayloader's sink); refused ones are dropped.
    pub fn open_on(self: &Arc<Self>, pad: &gst::Pad) {
        let this = self.clone();
        rewrite_each(pad, move |payload| {
            let now = session_keys::now_ms();
            let opened = this.opener.lock().unwrap().open(payload, now);
            opened.map_err(|why| this.refused(why, now)).ok()
        });
    }

    fn refused(&self, why: E2eRefusal, now: u64) {
        if let Some(bin) = self.bin.upgrade() {
            self.refusals.note(&bin, why, why.as_str(), now);
        }
    }
}

/// `packet` (RTP) with its payload replaced by `change(payload)`, the header as it was but
/// without padding; `None` when it is not RTP or `change` refuses.
fn rewrite(
    packet: &gst::BufferRef,
    change: impl Fn(&[u8]) -> Option<Vec<u8>>,
) -> Option<gst::Buffer> {
    let rtp = gst_rtp::RTPBuffer::from_buffer_readable(packet).ok()?;
    let payload = change(rtp.payload().ok()?)?;
    let header_len = gst_rtp::calc_header_len(rtp.csrc_count()) as usize
        + rtp
            .extension_bytes()
            .map_or(0, |(_, bytes)| 4 + bytes.len());
    drop(rtp);
    let mut out = packet
        .copy_region(gst::BufferCopyFlags::all(), 0..header_len)
        .ok()?;
    {
        let out = out.get_mut().expect("fresh buffer");
        out.append_memory(gst::Memory::from_mut_slice(payload));
        let mut rtp = gst_rtp::RTPBuffer::from_buffer_writable(out).ok()?;
        rtp.set_padding(false);
    }
    Some(out)
}
