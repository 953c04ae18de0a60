// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The ng client against a real rtpengine on 127.0.0.1 (skipped, saying why, where it is not
//! installed), and against a forger.

use media_server::local::LocalServer;
use media_server::ng::{reply_of, Client};
use media_server::{Description, Media, NgError, Room};
use std::net::UdpSocket;
use std::time::Duration;

fn server(name: &str) -> Option<LocalServer> {
    LocalServer::for_test(name)
}

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

fn video(rtp: &UdpSocket, rtcp: &UdpSocket) -> Description {
    Description {
        address: "127.0.0.1".parse().unwrap(),
        media: vec![Media {
            kind: "video".into(),
            rtp_port: rtp.local_addr().unwrap().port(),
            rtcp_port: rtcp.local_addr().unwrap().port(),
            payload_type: 96,
            rtpmap: "X-PIXELDIFF/90000".into(),
        }],
    }
}

fn rtp_packet(seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![
        0x80,
        96,
        (seq >> 8) as u8,
        seq as u8,
        0,
        0,
        0,
        1,
        0x12,
        0x34,
        0x56,
        0x78,
    ];
    p.extend_from_slice(payload);
    p
}

#[test]
fn a_published_stream_reaches_each_subscriber_byte_for_byte() {
    let Some(server) = server("forward") else {
        return;
    };
    let room = Room::new(&server.ng, "forward").unwrap();
    let (a_rtp, a_rtcp) = (socket(), socket());
    let published = room.publish("alice", &video(&a_rtp, &a_rtcp)).unwrap();
    let to = published.medium("video").unwrap();
    assert_eq!(published.address.to_string(), "127.0.0.1");
    let mut subscribers = Vec::new();
    for name in ["bob", "carol"] {
        let (rtp, rtcp) = (socket(), socket());
        let from = room.subscribe(name, "alice", &video(&rtp, &rtcp)).unwrap();
        assert_eq!(from.media.len(), 1);
        subscribers.push((rtp, rtcp, from));
    }
    // An unknown payload type, forwarded as it is.
    let payload: Vec<u8> = (0..=255u8).cycle().take(900).collect();
    let mut buf = [0; 2048];
    for seq in 0..3u16 {
        a_rtp
            .send_to(&rtp_packet(seq, &payload), (published.address, to.rtp_port))
            .unwrap();
        for (rtp, _, _) in &subscribers {
            let n = rtp.recv(&mut buf).expect("forwarded");
            assert_eq!(&buf[..n], &rtp_packet(seq, &payload)[..]);
        }
    }
    // A subscriber's report reaches the publisher (RTCP mirror).
    let (_, bob_rtcp, from) = &subscribers[0];
    let rr = [
        0x81, 201, 0, 7, 0, 0, 0, 9, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0,
    ];
    bob_rtcp
        .send_to(&rr, (from.address, from.medium("video").unwrap().rtcp_port))
        .unwrap();
    let n = a_rtcp
        .recv(&mut buf)
        .expect("the report reaches the publisher");
    assert_eq!(buf[1], 201, "an RTCP receiver report: {:?}", &buf[..n]);
    room.close().unwrap();
}

#[test]
fn a_refusal_and_silence_name_the_server_and_the_command() {
    let Some(server) = server("errors") else {
        return;
    };
    let room = Room::new(&server.ng, "errors").unwrap();
    let (rtp, rtcp) = (socket(), socket());
    match room.subscribe("bob", "nobody", &video(&rtp, &rtcp)) {
        Err(NgError::Refused {
            server: s, command, ..
        }) => {
            assert_eq!(s, server.ng);
            assert_eq!(command, "subscribe request");
        }
        other => panic!("subscribing to nobody: {other:?}"),
    }
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let mut nobody = Room::new(&address, "errors").unwrap();
    nobody.client_mut().timeout = Duration::from_millis(50);
    let e = nobody.publish("alice", &video(&rtp, &rtcp)).unwrap_err();
    assert!(matches!(e, NgError::Unreachable { .. }));
    let text = e.to_string();
    assert!(
        text.contains(&address) && text.contains("'publish'"),
        "{text}"
    );
}

#[test]
fn forged_and_replayed_replies_are_ignored() {
    let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut client = Client::new(&fake.local_addr().unwrap().to_string()).unwrap();
    client.timeout = Duration::from_millis(300);
    client.attempts = 2;
    let server = std::thread::spawn(move || {
        let mut buf = [0; 4096];
        // First attempt: a reply from a stranger with the right cookie, and one from the
        // server with a wrong cookie; nothing right.
        let (n, from) = fake.recv_from(&mut buf).unwrap();
        let cookie = String::from_utf8_lossy(&buf[..n])
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        stranger
            .send_to(format!("{cookie} d6:result2:oke").as_bytes(), from)
            .unwrap();
        fake.send_to(b"0000000000000000 d6:result2:oke", from)
            .unwrap();
        // Second attempt: the real reply.
        let (_, from) = fake.recv_from(&mut buf).unwrap();
        fake.send_to(format!("{cookie} d6:result4:ponge").as_bytes(), from)
            .unwrap();
    });
    let reply = client.request("ping", vec![]).expect("the real reply");
    assert_eq!(
        media_server::ng::bytes_of(&reply, "result").as_deref(),
        Some("pong")
    );
    server.join().unwrap();
    assert!(reply_of(b"abc d6:result2:oke", "abd").is_none());
    assert!(reply_of(b"abc garbage", "abc").is_none());
}

#[test]
fn once_a_publisher_is_confirmed_a_stranger_is_not_forwarded() {
    let Some(server) = server("strangers") else {
        return;
    };
    let room = Room::new(&server.ng, "strangers").unwrap();
    let (a_rtp, a_rtcp) = (socket(), socket());
    let published = room.publish("alice", &video(&a_rtp, &a_rtcp)).unwrap();
    let to = (
        published.address,
        published.medium("video").unwrap().rtp_port,
    );
    let (rtp, rtcp) = (socket(), socket());
    room.subscribe("bob", "alice", &video(&rtp, &rtcp)).unwrap();
    let mut buf = [0; 2048];
    // rtpengine learns the publisher's address in the first seconds after signalling
    // (`strict source`); alice keeps sending until then and a little beyond.
    let learnt = std::time::Instant::now() + Duration::from_secs(4);
    let mut seq = 0;
    while std::time::Instant::now() < learnt {
        a_rtp.send_to(&rtp_packet(seq, b"alice"), to).unwrap();
        rtp.recv(&mut buf).expect("alice is forwarded");
        seq += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let stranger = UdpSocket::bind("127.0.0.2:0").unwrap();
    stranger.send_to(&rtp_packet(seq, b"mallory"), to).unwrap();
    a_rtp.send_to(&rtp_packet(seq + 1, b"alice"), to).unwrap();
    // Alice's next packet comes; the stranger's never does.
    let n = rtp.recv(&mut buf).expect("alice is still forwarded");
    assert_eq!(&buf[12..n], b"alice");
    rtp.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(
        rtp.recv(&mut buf).is_err(),
        "a stranger's packet was forwarded"
    );
    room.close().unwrap();
}
