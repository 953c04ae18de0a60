// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A network bottleneck on 127.0.0.1 for tests: UDP in on one port, out to another, through a
//! drop-tail queue of a given capacity and depth, as a home router's uplink is. Without root or
//! a network namespace: a thread receives, queues and releases at the capacity.
//!
//! The queueing delay of each packet is what the model says (its departure less its arrival),
//! so a late wake-up of this thread on a busy machine delays packets a little more but never
//! changes the recorded figure.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One packet through the bottleneck.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Passage {
    /// Seconds since the bottleneck started when it arrived.
    pub at: f64,
    pub bytes: usize,
    /// How long it waited in the queue, ms; `None`: the queue was full and it was dropped.
    pub queued_ms: Option<f64>,
}

/// A running bottleneck; stops when dropped.
pub struct Bottleneck {
    passages: Arc<Mutex<Vec<Passage>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bottleneck {
    /// Forwards what arrives on 127.0.0.1:`listen` to `to` at `capacity_kbps`, dropping what
    /// would wait longer than `buffer_ms`.
    pub fn start(
        listen: u16,
        to: SocketAddr,
        capacity_kbps: f64,
        buffer_ms: f64,
    ) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(("127.0.0.1", listen))?;
        let passages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (passages, stop) = (passages.clone(), stop.clone());
            std::thread::spawn(move || {
                forward(socket, to, capacity_kbps, buffer_ms, &passages, &stop)
            })
        };
        Ok(Bottleneck {
            passages,
            stop,
            thread: Some(thread),
        })
    }

    /// Every packet so far.
    pub fn passages(&self) -> Vec<Passage> {
        self.passages.lock().unwrap().clone()
    }
}

impl Drop for Bottleneck {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn forward(
    socket: UdpSocket,
    to: SocketAddr,
    capacity_kbps: f64,
    buffer_ms: f64,
    passages: &Mutex<Vec<Passage>>,
    stop: &AtomicBool,
) {
    let start = Instant::now();
    let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    // When the link is free to send the next packet.
    let mut free_at = start;
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while queue.front().is_some_and(|(release, _)| *release <= now) {
            let (_, packet) = queue.pop_front().expect("checked");
            let _ = socket.send_to(&packet, to);
        }
        let wait = queue
            .front()
            .map_or(Duration::from_millis(5), |(release, _)| {
                release.saturating_duration_since(now)
            })
            .clamp(Duration::from_micros(100), Duration::from_millis(5));
        let _ = socket.set_read_timeout(Some(wait));
        let Ok((n, _)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let arrived = Instant::now();
        let departs = free_at.max(arrived);
        let queued = departs - arrived;
        let queued_ms = (queued.as_secs_f64() * 1000.0 <= buffer_ms).then(|| {
            free_at = departs + Duration::from_secs_f64(n as f64 * 8.0 / 1000.0 / capacity_kbps);
            queue.push_back((free_at, buf[..n].to_vec()));
            queued.as_secs_f64() * 1000.0
        });
        passages.lock().unwrap().push(Passage {
            at: (arrived - start).as_secs_f64(),
            bytes: n,
            queued_ms,
        });
    }
}

/// Forwards everything from 127.0.0.1:`listen` to `to` as it comes (what a test leaves
/// unshaped, such as RTCP beside shaped RTP); stops when dropped.
pub struct Relay {
    _forwarding: Bottleneck,
}

impl Relay {
    pub fn start(listen: u16, to: SocketAddr) -> std::io::Result<Self> {
        let forwarding = Bottleneck::start(listen, to, f64::INFINITY, f64::INFINITY)?;
        Ok(Relay {
            _forwarding: forwarding,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_at_the_capacity_and_drops_what_overflows_the_buffer() {
        let out = UdpSocket::bind("127.0.0.1:0").unwrap();
        out.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let listen = {
            let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        // 1250-byte packets are 10 ms each at 1000 kbit/s: a 100 ms buffer takes 11 of a burst.
        let b = Bottleneck::start(listen, out.local_addr().unwrap(), 1000.0, 100.0).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..40 {
            sender.send_to(&[7u8; 1250], ("127.0.0.1", listen)).unwrap();
        }
        let mut got = 0;
        let mut buf = [0u8; 2000];
        while out.recv_from(&mut buf).is_ok() {
            got += 1;
        }
        let passages = b.passages();
        assert_eq!(passages.len(), 40);
        let kept = passages.iter().filter(|p| p.queued_ms.is_some()).count();
        assert_eq!(got, kept, "what was kept went through");
        // The model, replayed from the arrival times (however the sender's thread was
        // scheduled): each packet waits for the ones kept before it, 10 ms each.
        let mut free_at = 0.0f64;
        for p in &passages {
            let wait = (free_at - p.at * 1000.0).max(0.0);
            if wait <= 100.0 {
                let q = p
                    .queued_ms
                    .unwrap_or_else(|| panic!("kept at {wait} ms: {passages:?}"));
                assert!((q - wait).abs() < 0.5, "{q} against {wait}: {passages:?}");
                free_at = p.at * 1000.0 + wait + 10.0;
            } else {
                assert_eq!(p.queued_ms, None, "{passages:?}");
            }
        }
        // A burst shorter than the buffer's 100 ms overflows it.
        if passages[39].at - passages[0].at < 0.1 {
            assert!(kept < 40, "{passages:?}");
        }
    }
}
