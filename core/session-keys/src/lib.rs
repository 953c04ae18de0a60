// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Fresh SRTP keys for every participant and session, from one meeting key.
//!
//! The meeting key file (30 bytes, as 60 hex digits) is never an SRTP key itself. Every
//! participant that sends SRTP or SRTCP picks a random 16-byte *session* at start and derives
//! its SRTP master key and salt from the meeting key and that session with HKDF-SHA256; point
//! to point also from the challenge of its peer, so both ends contribute to every key. It
//! announces the session, with the SSRCs it sends from, a timestamp, a random *challenge*
//! and the *echo* of the newest challenge it heard, in an [`Announcement`] authenticated with
//! HMAC-SHA256 under a key derived from the meeting key. Only holders of the meeting key can
//! make one, or derive the SRTP key it stands for. Since the session is new each run, no
//! (key, SSRC, index) repeats across sessions, even when an SSRC does.
//!
//! A receiver takes an announced key only when it is fresh:
//! - [`Freshness::Challenge`] (point to point): the announcement must echo this participant's
//!   own challenge, which is new each run, and its key is bound to that echo. A recording of an
//!   earlier session echoes an earlier challenge and is refused, however soon it is replayed.
//! - [`Freshness::Window`] (groups, where a sender cannot answer every receiver's challenge):
//!   the timestamp must be within the window of this participant's clock. A recording older
//!   than the window is refused; one replayed inside it is taken (the documented limit).
//!
//! Through a media server, the media is encrypted end to end instead, with SFrame keys from
//! the same meeting key ([`e2e`]).
//!
//! This crate has no GStreamer types: the bins send the announcements, drop them from the
//! media, and hand the keys to srtpenc and srtpdec.

pub mod e2e;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

/// SRTP master key (16 bytes, AES-128) and salt (14 bytes).
pub const MASTER_LEN: usize = 30;
/// Random bytes of a session and of a challenge.
pub const NONCE_LEN: usize = 16;
/// The most SSRCs one announcement names.
pub const MAX_SSRCS: usize = 8;
/// Participants remembered at once; the one heard longest ago makes room.
pub const MAX_PEERS: usize = 64;
/// The window groups use unless told otherwise, in seconds.
pub const DEFAULT_WINDOW_SECONDS: u32 = 30;
/// How often a participant announces itself, in ms (and at once on hearing a new challenge).
pub const ANNOUNCE_INTERVAL_MS: u64 = 1000;

/// The first bytes of an announcement. 'P' (80) is outside RTP's (128-191), DTLS's (20-63) and
/// STUN's (0-3) first bytes (RFC 7983), so announcements share the media ports.
const MAGIC: &[u8; 4] = b"PXMK";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 8 + 3 * NONCE_LEN;
/// Flag: the announced key is derived from the echo too (the announcer is point to point).
const BOUND_TO_ECHO: u8 = 1;
const TAG_LEN: usize = 16;
const ANNOUNCE_INFO: &[u8] = b"pixelmeet announcement v1";
const SRTP_INFO: &[u8] = b"pixelmeet srtp master v1";

/// The meeting's shared secret, read from a key file.
#[derive(Clone)]
pub struct MeetingKey([u8; MASTER_LEN]);

impl std::fmt::Debug for MeetingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("MeetingKey(..)")
    }
}

impl MeetingKey {
    /// Reads a key file: a regular file no group or other may read, holding 60 hex digits.
    pub fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("the key file {shown} is not a regular file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the key file {shown} may be read by others (mode {:o}); chmod 600 it",
                    mode & 0o777
                ));
            }
        }
        // Twice the key's length is room for spaces and line ends; a longer file is not a key.
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(4 * MASTER_LEN as u64).read_to_string(&mut text))
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        Self::from_hex(&text).ok_or_else(|| {
            format!("{shown} holds no meeting key: 60 hex digits (make one with pipelines/send --make-key FILE)")
        })
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if digits.len() != 2 * MASTER_LEN {
            return None;
        }
        let mut key = [0; MASTER_LEN];
        for (byte, pair) in key.iter_mut().zip(digits.chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Self(key))
    }

    pub fn from_bytes(bytes: [u8; MASTER_LEN]) -> Self {
        Self(bytes)
    }

    /// The SRTP master key and salt of `session`, bound to the challenge `echo` (zeros: none).
    fn master_of(&self, session: &[u8; NONCE_LEN], echo: &[u8; NONCE_LEN]) -> [u8; MASTER_LEN] {
        let mut salt = [0; 2 * NONCE_LEN];
        salt[..NONCE_LEN].copy_from_slice(session);
        salt[NONCE_LEN..].copy_from_slice(echo);
        let mut master = [0; MASTER_LEN];
        hkdf::Hkdf::<Sha256>::new(Some(&salt), &self.0)
            .expand(SRTP_INFO, &mut master)
            .expect("30 bytes is a valid HKDF-SHA256 length");
        master
    }

    fn announce_key(&self) -> [u8; 32] {
        let mut key = [0; 32];
        hkdf::Hkdf::<Sha256>::new(None, &self.0)
            .expand(ANNOUNCE_INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        key
    }
}

/// When an announced key counts as fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// It echoes this participant's challenge (point to point).
    Challenge,
    /// Its timestamp is at most this many ms from this participant's clock (groups).
    Window { ms: u64 },
}

/// What one announcement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Milliseconds since the Unix epoch, by the announcer's clock.
    pub timestamp_ms: u64,
    pub session: [u8; NONCE_LEN],
    pub challenge: [u8; NONCE_LEN],
    /// The newest challenge the announcer heard; zeros for none.
    pub echo: [u8; NONCE_LEN],
    /// The key is derived from `echo` too.
    pub bound_to_echo: bool,
    pub ssrcs: Vec<u32>,
}

impl Announcement {
    /// The challenge the announced key is bound to: zeros for none.
    fn key_echo(&self) -> [u8; NONCE_LEN] {
        if self.bound_to_echo {
            self.echo
        } else {
            [0; NONCE_LEN]
        }
    }
}

impl Announcement {
    /// Whether `packet` is meant to be one (well formed or not): it starts with the magic.
    pub fn is_one(packet: &[u8]) -> bool {
        packet.starts_with(MAGIC)
    }

    fn to_bytes(&self, key: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 4 * self.ssrcs.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.ssrcs.len() as u8);
        out.push(if self.bound_to_echo { BOUND_TO_ECHO } else { 0 });
        out.push(0);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.session);
        out.extend_from_slice(&self.challenge);
        out.extend_from_slice(&self.echo);
        for ssrc in &self.ssrcs {
            out.extend_from_slice(&ssrc.to_be_bytes());
        }
        let tag = mac(key, &out).finalize().into_bytes();
        out.extend_from_slice(&tag[..TAG_LEN]);
        out
    }

    fn from_bytes(packet: &[u8], key: &[u8; 32]) -> Result<Self, Refusal> {
        if packet.len() < HEADER_LEN + TAG_LEN || packet[4] != VERSION {
            return Err(Refusal::Malformed);
        }
        let count = usize::from(packet[5]);
        let body = HEADER_LEN + 4 * count;
        if !(1..=MAX_SSRCS).contains(&count)
            || packet.len() != body + TAG_LEN
            || packet[6] & !BOUND_TO_ECHO != 0
        {
            return Err(Refusal::Malformed);
        }
        mac(key, &packet[..body])
            .verify_truncated_left(&packet[body..])
            .map_err(|_| Refusal::Forged)?;
        let nonce = |at: usize| -> [u8; NONCE_LEN] {
            packet[at..at + NONCE_LEN].try_into().expect("in bounds")
        };
        Ok(Self {
            timestamp_ms: u64::from_be_bytes(packet[8..16].try_into().expect("8 bytes")),
            session: nonce(16),
            challenge: nonce(16 + NONCE_LEN),
            echo: nonce(16 + 2 * NONCE_LEN),
            bound_to_echo: packet[6] & BOUND_TO_ECHO != 0,
            ssrcs: packet[HEADER_LEN..body]
                .chunks(4)
                .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
                .collect(),
        })
    }
}

fn mac(key: &[u8; 32], bytes: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(bytes);
    mac
}

/// Why an announcement was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Not the layout of an announcement.
    Malformed,
    /// Its tag is not the meeting key's: made without the key, or altered.
    Forged,
    /// Point to point, it does not echo this participant's challenge: from an earlier session
    /// (a replay), or sent before the announcer heard this participant.
    Unanswered,
    /// Its timestamp is outside the window: a replay, or clocks that disagree.
    Stale,
    /// Older than one already taken from the same session.
    Replayed,
    /// Names an SSRC another session holds.
    SsrcTaken,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::Forged => "forged",
            Refusal::Unanswered => "unanswered",
            Refusal::Stale => "stale",
            Refusal::Replayed => "replayed",
            Refusal::SsrcTaken => "ssrc-taken",
        }
    }
}

/// What hearing a packet came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not an announcement: media, to pass on.
    NotAnnouncement,
    /// This participant's own (a multicast group loops it back).
    Own,
    /// A new session's key taken for these SSRCs.
    Accepted(Vec<u32>),
    /// A session already taken, announced again.
    Known,
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub verdict: Verdict,
    /// A new challenge was heard: announce now so the peer need not wait for the next round.
    pub reply: bool,
    /// Point to point, this participant's own key changed with it: give srtpenc the new one.
    pub rekey: bool,
}

struct Peer {
    newest_ms: u64,
    ssrcs: Vec<u32>,
    master: [u8; MASTER_LEN],
}

/// One participant's keys: its own session, and the sessions it has taken from others.
pub struct Keyring {
    meeting: MeetingKey,
    announce_key: [u8; 32],
    freshness: Freshness,
    session: [u8; NONCE_LEN],
    challenge: [u8; NONCE_LEN],
    ssrcs: Vec<u32>,
    peers: HashMap<[u8; NONCE_LEN], Peer>,
    /// Which session holds each SSRC taken.
    holders: HashMap<u32, [u8; NONCE_LEN]>,
    /// The challenge of the newest announcement heard (by its timestamp), to echo.
    newest_heard: Option<(u64, [u8; NONCE_LEN])>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("freshness", &self.freshness)
            .field("ssrcs", &self.ssrcs)
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A new session with random session bytes and challenge from the system's CSPRNG.
    pub fn new(meeting: MeetingKey, freshness: Freshness) -> Result<Self, String> {
        let mut session = [0; NONCE_LEN];
        let mut challenge = [0; NONCE_LEN];
        getrandom::fill(&mut session)
            .and_then(|()| getrandom::fill(&mut challenge))
            .map_err(|e| format!("no random numbers from the system: {e}"))?;
        Ok(Self::with_nonces(meeting, freshness, session, challenge))
    }

    fn with_nonces(
        meeting: MeetingKey,
        freshness: Freshness,
        session: [u8; NONCE_LEN],
        challenge: [u8; NONCE_LEN],
    ) -> Self {
        Self {
            announce_key: meeting.announce_key(),
            meeting,
            freshness,
            session,
            challenge,
            ssrcs: Vec::new(),
            peers: HashMap::new(),
            holders: HashMap::new(),
            newest_heard: None,
        }
    }

    /// The SSRCs this participant sends SRTP or SRTCP from (at most [`MAX_SSRCS`]).
    pub fn set_ssrcs(&mut self, ssrcs: &[u32]) {
        self.ssrcs = ssrcs.iter().copied().take(MAX_SSRCS).collect();
    }

    pub fn freshness(&self) -> Freshness {
        self.freshness
    }

    /// This session's SRTP master key and salt, for srtpenc; point to point it changes with
    /// the challenge echoed.
    pub fn own_master(&self) -> [u8; MASTER_LEN] {
        self.meeting
            .master_of(&self.session, &self.own_announcement(0).key_echo())
    }

    fn own_announcement(&self, now_ms: u64) -> Announcement {
        Announcement {
            timestamp_ms: now_ms,
            session: self.session,
            challenge: self.challenge,
            echo: self.newest_heard.map_or([0; NONCE_LEN], |(_, c)| c),
            bound_to_echo: self.freshness == Freshness::Challenge,
            ssrcs: self.ssrcs.clone(),
        }
    }

    /// This participant's announcement, stamped `now_ms`.
    pub fn announcement(&self, now_ms: u64) -> Vec<u8> {
        self.own_announcement(now_ms).to_bytes(&self.announce_key)
    }

    /// The master key for srtpdec of a stream from `ssrc`, once its session was taken.
    pub fn master_for(&self, ssrc: u32) -> Option<[u8; MASTER_LEN]> {
        let session = self.holders.get(&ssrc)?;
        self.peers.get(session).map(|p| p.master)
    }

    /// Takes in a packet that arrived at `now_ms` (this participant's clock).
    pub fn hear(&mut self, packet: &[u8], now_ms: u64) -> Heard {
        let verdict = |verdict| Heard {
            verdict,
            reply: false,
            rekey: false,
        };
        if !Announcement::is_one(packet) {
            return verdict(Verdict::NotAnnouncement);
        }
        let a = match Announcement::from_bytes(packet, &self.announce_key) {
            Ok(a) => a,
            Err(refusal) => return verdict(Verdict::Refused(refusal)),
        };
        if a.session == self.session {
            return verdict(Verdict::Own);
        }
        let reply = match self.newest_heard {
            Some((ms, _)) if ms >= a.timestamp_ms => false,
            Some((_, challenge)) if challenge == a.challenge => {
                self.newest_heard = Some((a.timestamp_ms, a.challenge));
                false
            }
            _ => {
                self.newest_heard = Some((a.timestamp_ms, a.challenge));
                true
            }
        };
        Heard {
            verdict: self.judge(&a, now_ms),
            reply,
            rekey: reply && self.freshness == Freshness::Challenge,
        }
    }

    fn judge(&mut self, a: &Announcement, now_ms: u64) -> Verdict {
        match self.freshness {
            Freshness::Challenge if a.echo != self.challenge => {
                return Verdict::Refused(Refusal::Unanswered)
            }
            Freshness::Window { ms } if a.timestamp_ms.abs_diff(now_ms) > ms => {
                return Verdict::Refused(Refusal::Stale)
            }
            _ => {}
        }
        if let Some(peer) = self.peers.get_mut(&a.session) {
            if a.timestamp_ms < peer.newest_ms {
                return Verdict::Refused(Refusal::Replayed);
            }
            peer.newest_ms = a.timestamp_ms;
            return Verdict::Known;
        }
        if a.ssrcs.iter().any(|s| self.holders.contains_key(s)) {
            return Verdict::Refused(Refusal::SsrcTaken);
        }
        if self.peers.len() >= MAX_PEERS {
            self.forget_oldest();
        }
        for ssrc in &a.ssrcs {
            self.holders.insert(*ssrc, a.session);
        }
        self.peers.insert(
            a.session,
            Peer {
                newest_ms: a.timestamp_ms,
                ssrcs: a.ssrcs.clone(),
                master: self.meeting.master_of(&a.session, &a.key_echo()),
            },
        );
        Verdict::Accepted(a.ssrcs.clone())
    }

    fn forget_oldest(&mut self) {
        let Some(oldest) = self
            .peers
            .iter()
            .min_by_key(|(_, p)| p.newest_ms)
            .map(|(s, _)| *s)
        else {
            return;
        };
        if let Some(peer) = self.peers.remove(&oldest) {
            for ssrc in peer.ssrcs {
                self.holders.remove(&ssrc);
            }
        }
    }
}

/// Milliseconds since the Unix epoch by the system clock (announcements' timestamps).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

    fn meeting() -> MeetingKey {
        MeetingKey::from_hex(HEX).unwrap()
    }

    fn party(freshness: Freshness, tag: u8, ssrcs: &[u32]) -> Keyring {
        let mut k = Keyring::with_nonces(meeting(), freshness, [tag; 16], [tag ^ 0xff; 16]);
        k.set_ssrcs(ssrcs);
        k
    }

    const WINDOW: Freshness = Freshness::Window { ms: 30_000 };

    #[test]
    fn a_key_is_sixty_hex_digits() {
        assert!(MeetingKey::from_hex(&format!("{HEX}\n")).is_some());
        assert!(MeetingKey::from_hex(&HEX[..58]).is_none());
        assert!(MeetingKey::from_hex(&format!("{}zz", &HEX[..58])).is_none());
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let path = std::env::temp_dir().join(format!("pixelmeet-key-{}", std::process::id()));
        std::fs::write(&path, format!("{HEX}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = MeetingKey::read(&path).unwrap_err();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(MeetingKey::read(&path).is_ok());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn each_session_has_its_own_srtp_key_from_one_meeting_key() {
        let a = Keyring::new(meeting(), WINDOW).unwrap();
        let b = Keyring::new(meeting(), WINDOW).unwrap();
        assert_ne!(a.own_master(), b.own_master());
        assert_ne!(
            a.own_master()[..],
            meeting().0[..],
            "the meeting key is no SRTP key"
        );
    }

    #[test]
    fn an_announcement_round_trips_and_its_key_matches_the_senders() {
        let sender = party(WINDOW, 1, &[7, 8, 9]);
        let mut receiver = party(WINDOW, 2, &[100]);
        let heard = receiver.hear(&sender.announcement(1_000_000), 1_000_500);
        assert_eq!(heard.verdict, Verdict::Accepted(vec![7, 8, 9]));
        assert!(heard.reply, "a first challenge is answered at once");
        for ssrc in [7, 8, 9] {
            assert_eq!(receiver.master_for(ssrc), Some(sender.own_master()));
        }
        assert_eq!(receiver.master_for(10), None);
        assert_eq!(
            receiver.hear(&sender.announcement(1_001_000), 1_001_000),
            Heard {
                verdict: Verdict::Known,
                reply: false,
                rekey: false
            }
        );
    }

    #[test]
    fn without_the_meeting_key_or_altered_it_is_forged() {
        let sender = party(WINDOW, 1, &[7]);
        let mut receiver = party(WINDOW, 2, &[100]);
        let mut other = Keyring::with_nonces(
            MeetingKey::from_bytes([9; MASTER_LEN]),
            WINDOW,
            [3; 16],
            [4; 16],
        );
        other.set_ssrcs(&[7]);
        let forged = receiver.hear(&other.announcement(5), 5).verdict;
        assert_eq!(forged, Verdict::Refused(Refusal::Forged));
        let mut altered = sender.announcement(5);
        altered[HEADER_LEN] ^= 1; // the SSRC
        assert_eq!(
            receiver.hear(&altered, 5).verdict,
            Verdict::Refused(Refusal::Forged)
        );
        for len in [0, 4, 20, HEADER_LEN + TAG_LEN, altered.len() - 1] {
            assert_eq!(
                receiver.hear(&altered[..len], 5).verdict,
                if len < 4 {
                    Verdict::NotAnnouncement
                } else {
                    Verdict::Refused(Refusal::Malformed)
                },
                "{len} bytes"
            );
        }
        assert_eq!(receiver.master_for(7), None);
    }

    #[test]
    fn point_to_point_only_an_answer_to_this_sessions_challenge_is_taken() {
        let mut sender = party(Freshness::Challenge, 1, &[7]);
        let mut receiver = party(Freshness::Challenge, 2, &[100]);
        let unanswered_key = sender.own_master();
        // The sender speaks first: not yet an answer.
        let first = receiver.hear(&sender.announcement(10), 10);
        assert_eq!(first.verdict, Verdict::Refused(Refusal::Unanswered));
        assert!(first.reply && first.rekey);
        // The receiver's reply echoes the sender: taken, and answered at once.
        let answer = sender.hear(&receiver.announcement(11), 11);
        assert_eq!(answer.verdict, Verdict::Accepted(vec![100]));
        assert!(answer.reply && answer.rekey);
        assert_eq!(sender.master_for(100), Some(receiver.own_master()));
        let second = receiver.hear(&sender.announcement(12), 12);
        assert_eq!(second.verdict, Verdict::Accepted(vec![7]));
        assert!(!second.reply && !second.rekey);
        // Both ends contribute: the sender's key is bound to the receiver's challenge.
        assert_eq!(receiver.master_for(7), Some(sender.own_master()));
        assert_ne!(sender.own_master(), unanswered_key);
        let mut other_sender = party(Freshness::Challenge, 1, &[7]);
        other_sender.hear(&party(Freshness::Challenge, 3, &[100]).announcement(11), 11);
        assert_ne!(other_sender.own_master(), sender.own_master());
    }

    #[test]
    fn point_to_point_a_recording_of_an_earlier_session_is_refused_at_once() {
        let mut sender = party(Freshness::Challenge, 1, &[7]);
        let mut first_receiver = party(Freshness::Challenge, 2, &[100]);
        sender.hear(&first_receiver.announcement(10), 10);
        let recorded = sender.announcement(11);
        assert_eq!(
            first_receiver.hear(&recorded, 11).verdict,
            Verdict::Accepted(vec![7])
        );
        // Session 2: same meeting key, a new receiver; the recording replayed a moment later.
        let mut second_receiver = party(Freshness::Challenge, 3, &[200]);
        assert_eq!(
            second_receiver.hear(&recorded, 12).verdict,
            Verdict::Refused(Refusal::Unanswered)
        );
        assert_eq!(second_receiver.master_for(7), None);
    }

    #[test]
    fn in_a_group_a_replay_older_than_the_window_is_refused() {
        let sender = party(Freshness::Window { ms: 3_000 }, 1, &[7]);
        let recorded = sender.announcement(1_000_000);
        let mut later = party(Freshness::Window { ms: 3_000 }, 2, &[100]);
        assert_eq!(
            later.hear(&recorded, 1_003_001).verdict,
            Verdict::Refused(Refusal::Stale)
        );
        let mut soon = party(Freshness::Window { ms: 3_000 }, 3, &[100]);
        assert_eq!(
            soon.hear(&recorded, 1_002_999).verdict,
            Verdict::Accepted(vec![7])
        );
        // An older announcement of a session already taken is a replay.
        assert_eq!(
            soon.hear(&sender.announcement(999_999), 1_002_999).verdict,
            Verdict::Refused(Refusal::Replayed)
        );
    }

    #[test]
    fn an_ssrc_stays_with_the_first_session_that_named_it() {
        let first = party(WINDOW, 1, &[7, 8]);
        let second = party(WINDOW, 2, &[8]);
        let mut receiver = party(WINDOW, 3, &[100]);
        receiver.hear(&first.announcement(5), 5);
        assert_eq!(
            receiver.hear(&second.announcement(6), 6).verdict,
            Verdict::Refused(Refusal::SsrcTaken)
        );
        assert_eq!(receiver.master_for(8), Some(first.own_master()));
    }

    #[test]
    fn own_announcements_looped_back_are_ignored() {
        let mut me = party(WINDOW, 1, &[7]);
        let own = me.announcement(5);
        assert_eq!(me.hear(&own, 5).verdict, Verdict::Own);
        assert_eq!(me.master_for(7), None);
    }

    #[test]
    fn remembered_sessions_are_bounded() {
        let mut receiver = party(WINDOW, 0, &[1]);
        for i in 0..(MAX_PEERS as u32 + 10) {
            let mut session = [0; 16];
            session[..4].copy_from_slice(&(i + 1).to_be_bytes());
            let mut peer = Keyring::with_nonces(meeting(), WINDOW, session, [1; 16]);
            peer.set_ssrcs(&[1000 + i]);
            let verdict = receiver.hear(&peer.announcement(u64::from(i)), 0).verdict;
            assert_eq!(verdict, Verdict::Accepted(vec![1000 + i]));
        }
        assert_eq!(receiver.peers.len(), MAX_PEERS);
        assert_eq!(receiver.master_for(1000), None, "the oldest was forgotten");
        assert!(receiver.master_for(1000 + MAX_PEERS as u32 + 9).is_some());
    }

    proptest::proptest! {
        /// Hostile bytes at the media ports: never a panic, never a key.
        #[test]
        fn any_bytes_are_heard_without_a_key_taken(
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            count in 0u8..12,
        ) {
            let mut receiver = party(WINDOW, 2, &[100]);
            let mut packet = MAGIC.to_vec();
            packet.extend([VERSION, count]);
            packet.extend(&tail);
            let heard = receiver.hear(&packet, 0);
            proptest::prop_assert!(matches!(heard.verdict, Verdict::Refused(_)));
            proptest::prop_assert!(!heard.reply && !heard.rekey);
            proptest::prop_assert!(receiver.peers.is_empty() && receiver.newest_heard.is_none());
        }

        /// Any one bit of an announcement changed: refused.
        #[test]
        fn an_altered_announcement_is_refused(bit in 0usize..(8 * (HEADER_LEN + 8 + TAG_LEN))) {
            let sender = party(WINDOW, 1, &[7, 8]);
            let mut receiver = party(WINDOW, 2, &[100]);
            let mut packet = sender.announcement(5);
            packet[bit / 8] ^= 1 << (bit % 8);
            let verdict = receiver.hear(&packet, 5).verdict;
            proptest::prop_assert!(
                matches!(verdict, Verdict::Refused(_) | Verdict::NotAnnouncement),
                "{:?}", verdict
            );
            proptest::prop_assert_eq!(receiver.master_for(7), None);
        }
    }
}
