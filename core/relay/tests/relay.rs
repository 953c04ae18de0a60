// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The relay on 127.0.0.1 with real sockets: media go to every other participant and only from
//! the participant's own address and socket; reports go back to the sender; strangers (here
//! 127.0.0.2, which Linux routes to the loopback too) are refused and counted.

use pixelmeet_relay::{Participant, Relay, SENDER_TIMEOUT};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs `relay` on a thread until the returned flag is cleared; the thread gives it back.
fn start(mut relay: Relay) -> (Arc<AtomicBool>, std::thread::JoinHandle<Relay>) {
    let running = Arc::new(AtomicBool::new(true));
    let go_on = running.clone();
    let thread = std::thread::spawn(move || {
        relay.run_while(|| go_on.load(Ordering::Relaxed)).unwrap();
        relay
    });
    (running, thread)
}

fn stop(running: (Arc<AtomicBool>, std::thread::JoinHandle<Relay>)) -> Relay {
    running.0.store(false, Ordering::Relaxed);
    running.1.join().unwrap()
}

const RELAY: u16 = 24700;
const LISTEN: [u16; 3] = [24800, 24850, 24900];

fn participants() -> Vec<Participant> {
    LISTEN
        .iter()
        .map(|&l| Participant::resolve("127.0.0.1", l).unwrap())
        .collect()
}

/// A socket bound on `address:port`, reading with a short timeout.
fn socket(address: &str, port: u16) -> UdpSocket {
    let s = UdpSocket::bind((address, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

/// The `n` datagrams `socket` receives (waiting for each as long as a busy machine needs),
/// then any that follow within 200 ms: what the relay forwarded to it.
fn received(socket: &UdpSocket, n: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1500];
    for wait in std::iter::repeat_n(Duration::from_secs(5), n).chain([Duration::from_millis(200)]) {
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv(&mut buf) {
            Ok(len) => got.push(buf[..len].to_vec()),
            Err(_) => break,
        }
    }
    while let Ok(len) = socket.recv(&mut buf) {
        got.push(buf[..len].to_vec());
    }
    got
}

fn send(from: &UdpSocket, port: u16, what: &[u8]) {
    from.send_to(what, ("127.0.0.1", port)).unwrap();
}

#[test]
fn media_reach_the_others_and_reports_the_sender_only_from_participants() {
    let running = start(Relay::bind("127.0.0.1".parse().unwrap(), RELAY, &participants()).unwrap());
    // Participants 1 and 2 listen for slot 0's video; participant 0 for reports about it.
    let at_1 = socket("127.0.0.1", LISTEN[1]);
    let at_2 = socket("127.0.0.1", LISTEN[2]);
    let reports_at_0 = socket("127.0.0.1", LISTEN[0] + 4);
    let sender = socket("127.0.0.1", 0);
    let same_host_other_socket = socket("127.0.0.1", 0);
    let stranger = socket("127.0.0.2", 0);
    let reporter = socket("127.0.0.1", 0);

    send(&sender, RELAY, b"media");
    send(&stranger, RELAY, b"stranger");
    send(&same_host_other_socket, RELAY, b"hijack");
    send(&sender, RELAY, b"more media");
    send(&reporter, RELAY + 4, b"report");
    send(&stranger, RELAY + 4, b"forged report");
    let expected = vec![b"media".to_vec(), b"more media".to_vec()];
    assert_eq!(received(&at_1, 2), expected);
    assert_eq!(received(&at_2, 2), expected);
    assert_eq!(received(&reports_at_0, 1), vec![b"report".to_vec()]);
    // Slot 1's video, from participant 1, reaches 0 and 2 at their slot-1 ports.
    let at_0_slot_1 = socket("127.0.0.1", LISTEN[0] + 10);
    let at_2_slot_1 = socket("127.0.0.1", LISTEN[2] + 10);
    send(&reporter, RELAY + 10, b"slot 1");
    assert_eq!(received(&at_0_slot_1, 1), vec![b"slot 1".to_vec()]);
    assert_eq!(received(&at_2_slot_1, 1), vec![b"slot 1".to_vec()]);

    let stats = stop(running).stats();
    assert_eq!(stats.forwarded, 2 * 2 + 1 + 2);
    assert_eq!(
        stats.refused, 3,
        "the stranger twice, the second socket once"
    );
}

#[test]
fn a_restarted_sender_is_followed_once_the_old_socket_is_silent() {
    let port = RELAY + 50;
    let listen = [24950, 25000];
    let participants: Vec<Participant> = listen
        .iter()
        .map(|&l| Participant::resolve("localhost", l).unwrap())
        .collect();
    let running = start(Relay::bind("127.0.0.1".parse().unwrap(), port, &participants).unwrap());
    let at_1 = socket("127.0.0.1", listen[1]);
    let old = socket("127.0.0.1", 0);
    let restarted = socket("127.0.0.1", 0);
    send(&old, port, b"old");
    send(&restarted, port, b"too early");
    assert_eq!(received(&at_1, 1), vec![b"old".to_vec()]);
    std::thread::sleep(SENDER_TIMEOUT);
    send(&restarted, port, b"restarted");
    send(&old, port, b"old again");
    assert_eq!(received(&at_1, 1), vec![b"restarted".to_vec()]);
    assert_eq!(stop(running).stats().refused, 2);
}

#[test]
fn participants_and_ports_are_checked() {
    let one = &participants()[..1];
    let e = Relay::bind("127.0.0.1".parse().unwrap(), RELAY + 100, one)
        .err()
        .unwrap();
    assert!(e.contains("2 to 100 participants"), "{e}");
    let e = Relay::bind("127.0.0.1".parse().unwrap(), 65530, &participants())
        .err()
        .unwrap();
    assert!(e.contains("do not fit"), "{e}");
    assert!(Participant::resolve("no-such-host.invalid", 5000).is_err());
}
