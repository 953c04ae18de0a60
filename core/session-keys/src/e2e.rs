// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! End-to-end encryption of RTP payloads with SFrame (RFC 9605), for media that passes a
//! server which must forward it without reading it.
//!
//! Every RTP payload (one pixeldiff chunk with its faces, or one Opus frame) is one SFrame
//! frame: header (key id and counter), AES-128-GCM ciphertext, 16-byte tag. The RTP header stays
//! in clear for the server. Keys:
//!
//! - The SFrame base key is HKDF-SHA256 of the meeting key ([`E2E_INFO`]); SFrame itself derives
//!   each key id's AEAD key and salt from it and the key id (RFC 9605 section 4.4.2).
//! - A sender's key id is new for every stream, and again every [`ROTATE_MS`]: its high 32
//!   bits are the Unix time in seconds when it was made, its low 32 bits random. Its counter
//!   starts at 0. So no (key, nonce) pair repeats across senders, streams or sessions unless 32
//!   random bits collide within the same second.
//! - A receiver takes a key id only while its time lies within the freshness window of its own
//!   clock (the group rule of `key-freshness=window`), and each counter of a key id once.

use sframe::frame::validation::{
    FrameValidation as _, ReplayAttackProtection, Tolerance, UnvalidatedFrame,
};
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};
use sframe::CipherSuite;
use sha2::Sha256;
use std::collections::HashMap;

use crate::MeetingKey;

/// AES-128-GCM with SHA-256 derivation and a 16-byte tag.
pub const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
/// Most bytes SFrame adds to a payload: a header of at most 17 bytes (config byte, 8-byte key
/// id, 8-byte counter) and the 16-byte tag. What a sender leaves room for under the MTU.
pub const MAX_OVERHEAD: usize = 17 + 16;
/// A sender starts a new key id this often, so that a key id's time stays within any
/// receiver's window however long the meeting.
pub const ROTATE_MS: u64 = 10_000;
/// Counters of one key id that may arrive out of order and still be taken once.
pub const REPLAY_TOLERANCE: usize = 1024;
/// Key ids a receiver keeps at once (a few streams per participant, and their rotations).
pub const MAX_KEY_IDS: usize = 256;
const E2E_INFO: &[u8] = b"pixelmeet sframe base key v1";

fn base_key(meeting: &MeetingKey) -> [u8; 32] {
    let mut key = [0; 32];
    hkdf::Hkdf::<Sha256>::new(None, &meeting.0)
        .expand(E2E_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

/// The Unix time in seconds a key id was made at.
pub fn key_id_seconds(key_id: u64) -> u64 {
    key_id >> 32
}

/// Encrypts one stream's payloads.
pub struct Sealer {
    base: [u8; 32],
    key: EncryptionKey,
    counter: MonotonicCounter,
    made_ms: u64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Sealer(key id {:#018x})", self.key.key_id())
    }
}

impl Sealer {
    /// A stream's sealer under `meeting`, its first key id made at `now_ms` (Unix time).
    pub fn new(meeting: &MeetingKey, now_ms: u64) -> Result<Self, String> {
        let base = base_key(meeting);
        let key = new_key(&base, now_ms)?;
        Ok(Self {
            base,
            key,
            counter: MonotonicCounter::default(),
            made_ms: now_ms,
        })
    }

    pub fn key_id(&self) -> u64 {
        self.key.key_id()
    }

    /// `payload` as one SFrame frame; a new key id first when the last is [`ROTATE_MS`] old.
    pub fn seal(&mut self, payload: &[u8], now_ms: u64) -> Result<Vec<u8>, String> {
        if now_ms.abs_diff(self.made_ms) >= ROTATE_MS || self.counter.is_exhausted() {
            self.key = new_key(&self.base, now_ms)?;
            self.counter = MonotonicCounter::default();
            self.made_ms = now_ms;
        }
        let mut out = Vec::with_capacity(payload.len() + MAX_OVERHEAD);
        MediaFrameView::try_new(&mut self.counter, &payload)
            .and_then(|frame| frame.encrypt_into(&self.key, &mut out).map(|_| ()))
            .map_err(|e| format!("SFrame encryption failed: {e}"))?;
        Ok(out)
    }
}

fn new_key(base: &[u8; 32], now_ms: u64) -> Result<EncryptionKey, String> {
    let mut random = [0; 4];
    getrandom::fill(&mut random).map_err(|e| format!("no system randomness: {e}"))?;
    let key_id = ((now_ms / 1000) << 32) | u64::from(u32::from_be_bytes(random));
    EncryptionKey::derive_from(SUITE, key_id, base).map_err(|e| format!("SFrame key: {e}"))
}

/// Why a payload was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum E2eRefusal {
    /// Not an SFrame frame (a plain payload, or cut short).
    NotSframe,
    /// Its key id's time is outside the freshness window: a recording, or a stale clock.
    Stale,
    /// It does not authenticate: another meeting key, or altered on the way.
    Forged,
    /// Its counter of this key id was taken already, or is far behind.
    Replayed,
}

impl E2eRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotSframe => "not-sframe",
            Self::Stale => "stale",
            Self::Forged => "forged",
            Self::Replayed => "replayed",
        }
    }
}

struct Stream {
    key: DecryptionKey,
    replay: ReplayAttackProtection,
    last_used_ms: u64,
}

/// Decrypts the payloads of every sender of a meeting.
pub struct Opener {
    base: [u8; 32],
    window_ms: u64,
    streams: HashMap<u64, Stream>,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Opener({} key ids)", self.streams.len())
    }
}

impl Opener {
    /// Takes key ids made within `window_ms` of the receiver's clock.
    pub fn new(meeting: &MeetingKey, window_ms: u64) -> Self {
        Self {
            base: base_key(meeting),
            window_ms,
            streams: HashMap::new(),
        }
    }

    /// The payload inside `frame`, or why it is refused. `now_ms` is this clock's Unix time.
    pub fn open(&mut self, frame: &[u8], now_ms: u64) -> Result<Vec<u8>, E2eRefusal> {
        let view = EncryptedFrameView::try_new(&frame).map_err(|_| E2eRefusal::NotSframe)?;
        let key_id = view.header().key_id();
        // The window's edge: a key id made up to ROTATE_MS before it is still in use.
        let made_ms = key_id_seconds(key_id).saturating_mul(1000);
        if made_ms.saturating_add(self.window_ms + ROTATE_MS) < now_ms
            || made_ms > now_ms.saturating_add(self.window_ms)
        {
            return Err(E2eRefusal::Stale);
        }
        // A key id enters the table only once a frame of it authenticates, so forged key ids
        // cannot push real ones out.
        let mut fresh = None;
        let stream = match self.streams.get_mut(&key_id) {
            Some(s) => s,
            None => fresh.insert(Stream {
                key: DecryptionKey::derive_from(SUITE, key_id, self.base)
                    .map_err(|_| E2eRefusal::Forged)?,
                replay: ReplayAttackProtection::new(key_id, Tolerance::new(REPLAY_TOLERANCE)),
                last_used_ms: now_ms,
            }),
        };
        let token = stream
            .replay
            .screen(UnvalidatedFrame::new(view.header(), view.meta_data()))
            .map_err(|_| E2eRefusal::Replayed)?;
        let payload = view.decrypt(&stream.key).map_err(|_| E2eRefusal::Forged)?;
        stream.replay.record(token);
        stream.last_used_ms = now_ms;
        if let Some(stream) = fresh {
            self.forget_oldest(now_ms);
            self.streams.insert(key_id, stream);
        }
        Ok(payload.payload().to_vec())
    }

    /// Makes room for one more key id: drops those out of the window, then the least used.
    fn forget_oldest(&mut self, now_ms: u64) {
        let horizon = self.window_ms + ROTATE_MS;
        self.streams
            .retain(|_, s| now_ms.saturating_sub(s.last_used_ms) <= horizon);
        while self.streams.len() >= MAX_KEY_IDS {
            let Some(oldest) = self
                .streams
                .iter()
                .min_by_key(|(_, s)| s.last_used_ms)
                .map(|(id, _)| *id)
            else {
                break;
            };
            self.streams.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn meeting(byte: u8) -> MeetingKey {
        MeetingKey::from_bytes([byte; crate::MASTER_LEN])
    }

    #[test]
    fn a_sealed_payload_opens_with_the_same_meeting_key_only() {
        let mut sealer = Sealer::new(&meeting(1), NOW).unwrap();
        let frame = sealer.seal(b"a pixeldiff chunk", NOW).unwrap();
        assert!(frame.len() <= 17 + MAX_OVERHEAD);
        assert!(!frame.windows(5).any(|w| w == b"pixel"), "plaintext shows");
        let mut other = Opener::new(&meeting(2), 30_000);
        assert_eq!(other.open(&frame, NOW), Err(E2eRefusal::Forged));
        let mut opener = Opener::new(&meeting(1), 30_000);
        assert_eq!(opener.open(&frame, NOW).unwrap(), b"a pixeldiff chunk");
    }

    #[test]
    fn each_counter_is_taken_once_and_reordering_is_fine() {
        let mut sealer = Sealer::new(&meeting(1), NOW).unwrap();
        let frames: Vec<_> = (0..5u8)
            .map(|i| sealer.seal(&[i; 40], NOW).unwrap())
            .collect();
        let mut opener = Opener::new(&meeting(1), 30_000);
        for i in [0, 2, 1, 4, 3] {
            assert_eq!(opener.open(&frames[i], NOW).unwrap(), [i as u8; 40]);
        }
        assert_eq!(opener.open(&frames[2], NOW), Err(E2eRefusal::Replayed));
    }

    #[test]
    fn key_ids_rotate_and_never_repeat_a_nonce() {
        let mut a = Sealer::new(&meeting(1), NOW).unwrap();
        let mut b = Sealer::new(&meeting(1), NOW).unwrap();
        assert_ne!(a.key_id(), b.key_id(), "two streams share a key id");
        assert_eq!(key_id_seconds(a.key_id()), NOW / 1000);
        let first = a.key_id();
        let _ = b.seal(b"x", NOW).unwrap();
        let _ = a.seal(b"x", NOW + ROTATE_MS - 1).unwrap();
        assert_eq!(a.key_id(), first);
        let late = a.seal(b"x", NOW + ROTATE_MS).unwrap();
        assert_ne!(a.key_id(), first);
        let mut opener = Opener::new(&meeting(1), 30_000);
        assert_eq!(opener.open(&late, NOW + ROTATE_MS).unwrap(), b"x");
    }

    #[test]
    fn a_recording_older_than_the_window_is_stale() {
        let mut sealer = Sealer::new(&meeting(1), NOW).unwrap();
        let frame = sealer.seal(b"then", NOW).unwrap();
        let mut opener = Opener::new(&meeting(1), 30_000);
        let later = NOW + 30_000 + ROTATE_MS + 1000;
        assert_eq!(opener.open(&frame, later), Err(E2eRefusal::Stale));
        assert_eq!(opener.open(&frame, NOW - 31_000), Err(E2eRefusal::Stale));
        assert_eq!(opener.open(&frame, NOW + 30_000).unwrap(), b"then");
    }

    #[test]
    fn garbage_and_altered_frames_are_refused_without_panicking() {
        let mut opener = Opener::new(&meeting(1), 30_000);
        for junk in [&[][..], &[0xff], &[0x00, 1, 2, 3], &[0x7f; 60]] {
            assert!(opener.open(junk, NOW).is_err());
        }
        let mut sealer = Sealer::new(&meeting(1), NOW).unwrap();
        let mut frame = sealer.seal(&[9; 100], NOW).unwrap();
        let last = frame.len() - 1;
        frame[last] ^= 1;
        assert_eq!(opener.open(&frame, NOW), Err(E2eRefusal::Forged));
    }
}
