// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The pixelmeet relay: each participant sends its media to the relay once, and the relay
//! forwards it to every other participant; the reports about a participant's stream go back to
//! it. It never decrypts: with a key file the relay sees only SRTP and announcements.
//!
//! Ports, for slot K of N (what `pipelines/lib.sh` gives each participant): K sends to
//! `port + 10K` (video RTP), `+1` (video RTCP), `+2`, `+3` (audio); the relay delivers them to
//! every other participant's `listen + 10K` (same offsets). Reports about slot K's stream come
//! to `port + 10K + 4` (`+5` audio) and go to participant K's `listen + 10K + 4` (`+5`).
//!
//! Only participants are forwarded. A media port takes packets from participant K's addresses
//! only, and from one socket of it: the first that sends is followed until it has been silent
//! for [`SENDER_TIMEOUT`] (then a restarted sender, from a new port, is taken). A report port
//! takes packets from the other participants' addresses. Everything else is dropped and
//! counted.

use mio::net::UdpSocket;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::time::{Duration, Instant};

/// Ports a slot takes on the relay and on each participant.
pub const SLOT_STRIDE: u16 = 10;
/// Media ports of a slot (video RTP and RTCP, audio RTP and RTCP), from its base.
const MEDIA_PORTS: std::ops::Range<u16> = 0..4;
/// Report ports about a slot's stream (video, audio), from its base.
const REPORT_PORTS: std::ops::Range<u16> = 4..6;
/// A followed sender silent this long gives way to another socket of the same participant.
pub const SENDER_TIMEOUT: Duration = Duration::from_secs(2);
pub const MAX_PARTICIPANTS: usize = 100;

/// A participant as the relay knows it: where it listens, and the addresses it sends from.
#[derive(Debug, Clone)]
pub struct Participant {
    pub listen: SocketAddr,
    pub addresses: Vec<IpAddr>,
}

impl Participant {
    /// `host:listen`, resolved now; IPv4 only, as the relay listens on IPv4.
    pub fn resolve(host: &str, listen: u16) -> Result<Self, String> {
        let addresses: Vec<IpAddr> = (host, listen)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve participant {host}: {e}"))?
            .map(|a| a.ip())
            .filter(IpAddr::is_ipv4)
            .collect();
        let first = *addresses
            .first()
            .ok_or_else(|| format!("participant {host} has no IPv4 address"))?;
        Ok(Self {
            listen: SocketAddr::new(first, listen),
            addresses,
        })
    }

    fn port(&self, slot: usize, offset: u16) -> SocketAddr {
        let mut to = self.listen;
        to.set_port(self.listen.port() + SLOT_STRIDE * slot as u16 + offset);
        to
    }
}

/// Who a relay port takes packets from.
enum Accept {
    /// One sender socket at a time from these addresses.
    Sender {
        addresses: Vec<IpAddr>,
        followed: Option<(SocketAddr, Instant)>,
    },
    /// Any socket from these addresses (the receivers' reports).
    Reporters { addresses: Vec<IpAddr> },
}

impl Accept {
    fn takes(&mut self, from: SocketAddr, now: Instant) -> bool {
        match self {
            Accept::Reporters { addresses } => addresses.contains(&from.ip()),
            Accept::Sender {
                addresses,
                followed,
            } => {
                if !addresses.contains(&from.ip()) {
                    return false;
                }
                match followed {
                    Some((socket, seen))
                        if *socket != from && now.duration_since(*seen) < SENDER_TIMEOUT =>
                    {
                        false
                    }
                    _ => {
                        *followed = Some((from, now));
                        true
                    }
                }
            }
        }
    }
}

/// One relay port.
struct Route {
    socket: UdpSocket,
    accept: Accept,
    to: Vec<SocketAddr>,
}

/// Totals since start.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub forwarded: u64,
    pub forwarded_bytes: u64,
    /// Packets from addresses or sockets that are not the participants' own.
    pub refused: u64,
}

pub struct Relay {
    poll: mio::Poll,
    routes: Vec<Route>,
    stats: Stats,
}

impl Relay {
    /// Binds the relay's ports from `port` on `bind` for `participants` in slot order.
    pub fn bind(bind: IpAddr, port: u16, participants: &[Participant]) -> Result<Self, String> {
        let n = participants.len();
        if !(2..=MAX_PARTICIPANTS).contains(&n) {
            return Err(format!(
                "a relay takes 2 to {MAX_PARTICIPANTS} participants, not {n}"
            ));
        }
        let top = |base: u16| u32::from(base) + u32::from(SLOT_STRIDE) * n as u32;
        if top(port) > 65536 || participants.iter().any(|p| top(p.listen.port()) > 65536) {
            return Err(format!(
                "{n} slots of {SLOT_STRIDE} ports do not fit below 65536"
            ));
        }
        let poll = mio::Poll::new().map_err(|e| format!("cannot poll: {e}"))?;
        let mut routes = Vec::new();
        for (slot, sender) in participants.iter().enumerate() {
            let others = || {
                participants
                    .iter()
                    .enumerate()
                    .filter(move |(k, _)| *k != slot)
                    .map(|(_, p)| p)
            };
            for offset in MEDIA_PORTS.chain(REPORT_PORTS) {
                let (accept, to) = if MEDIA_PORTS.contains(&offset) {
                    let accept = Accept::Sender {
                        addresses: sender.addresses.clone(),
                        followed: None,
                    };
                    (accept, others().map(|p| p.port(slot, offset)).collect())
                } else {
                    let addresses = others().flat_map(|p| p.addresses.clone()).collect();
                    (
                        Accept::Reporters { addresses },
                        vec![sender.port(slot, offset)],
                    )
                };
                let at = SocketAddr::new(bind, port + SLOT_STRIDE * slot as u16 + offset);
                let mut socket =
                    UdpSocket::bind(at).map_err(|e| format!("cannot listen on UDP {at}: {e}"))?;
                poll.registry()
                    .register(
                        &mut socket,
                        mio::Token(routes.len()),
                        mio::Interest::READABLE,
                    )
                    .map_err(|e| format!("cannot poll {at}: {e}"))?;
                routes.push(Route { socket, accept, to });
            }
        }
        Ok(Self {
            poll,
            routes,
            stats: Stats::default(),
        })
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Forwards what arrives for up to `time`.
    pub fn run_for(&mut self, time: Duration) -> io::Result<()> {
        let until = Instant::now() + time;
        self.run_while(|| Instant::now() < until)
    }

    /// Forwards what arrives while `go_on` says so (asked at least every 100 ms).
    pub fn run_while(&mut self, go_on: impl Fn() -> bool) -> io::Result<()> {
        let mut events = mio::Events::with_capacity(64);
        let mut buf = vec![0u8; 65536];
        while go_on() {
            match self
                .poll
                .poll(&mut events, Some(Duration::from_millis(100)))
            {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => r?,
            }
            for event in &events {
                self.drain(event.token().0, &mut buf);
            }
        }
        Ok(())
    }

    /// Forwards every datagram waiting on route `index` (edge-triggered: read to the end).
    fn drain(&mut self, index: usize, buf: &mut [u8]) {
        let route = &mut self.routes[index];
        let mut errors = 0;
        loop {
            let (n, from) = match route.socket.recv_from(buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // An ICMP error from an earlier send (a participant not there yet): go on,
                // but not for ever.
                Err(_) if errors < 16 => {
                    errors += 1;
                    continue;
                }
                Err(_) => return,
            };
            if !route.accept.takes(from, Instant::now()) {
                self.stats.refused += 1;
                continue;
            }
            for to in &route.to {
                if route.socket.send_to(&buf[..n], *to).is_ok() {
                    self.stats.forwarded += 1;
                    self.stats.forwarded_bytes += n as u64;
                }
            }
        }
    }
}
