// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Meetings through a real rtpengine on 127.0.0.1, started by each test (skipped, saying why,
//! where it is not installed; the test command installs it): three participants each see the
//! other two bit-exact, one who leaves and comes back is shown again, the faces a sender found
//! are counted on each receiver, the media is encrypted end to end so that what the server
//! forwards does not decode, and a participant with another meeting key sees nothing.

use gst::prelude::*;
use media_server::local::LocalServer;
use media_server::{Description, Media, Room};
use pixelmeet_testkit::meeting::{caps, key_file, other_key_file, shows, CAPS, RECEIVED};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// A lossless still sender of `pattern` publishing as `name`.
fn publisher(
    server: &LocalServer,
    room: &str,
    name: &str,
    pattern: &str,
    report_port: u16,
    extra: &str,
) -> gst::Pipeline {
    pixelmeet_testkit::init();
    pixelmeet_testkit::launch_playing(&format!(
        "videotestsrc is-live=true pattern={pattern} ! {CAPS} ! pixelmeetsend name=tx server={} \
         room={room} participant={name} report-port={report_port} find-faces=false \
         replace-background=false pixeldiffenc::lossless=true {extra}",
        server.ng
    ))
}

/// `viewer`'s receiver of `shown`, on `port`, into an appsink.
fn viewer(
    server: &LocalServer,
    room: &str,
    viewer: &str,
    shown: &str,
    port: u16,
    extra: &str,
) -> (gst::Pipeline, gst_app::AppSink) {
    pixelmeet_testkit::init();
    let p = pixelmeet_testkit::launch_playing(&format!(
        "pixelmeetrecv name=rx server={} room={room} participant={shown} subscriber={viewer} \
         port={port} audio=false {extra} rx.video_src ! videoconvert ! {RECEIVED} ! \
         appsink name=sink sync=false max-buffers=4 drop=true",
        server.ng
    ));
    let sink = p
        .by_name("sink")
        .and_downcast::<gst_app::AppSink>()
        .expect("appsink");
    (p, sink)
}

fn stop(p: &gst::Pipeline) {
    p.set_state(gst::State::Null).expect("stops");
}

const PEOPLE: [(&str, &str); 3] = [("alice", "red"), ("bob", "blue"), ("carol", "green")];

/// Everyone's sender and everyone's receivers of the others: (name, shown, pipeline, sink).
type Views = Vec<(&'static str, &'static str, gst::Pipeline, gst_app::AppSink)>;

fn meeting(
    server: &LocalServer,
    room: &str,
    base: u16,
    extra: &str,
) -> (Vec<gst::Pipeline>, Views) {
    let mut senders = Vec::new();
    let mut views = Vec::new();
    for (i, (name, pattern)) in PEOPLE.iter().enumerate() {
        let report_port = base + 100 + 10 * i as u16;
        senders.push(publisher(server, room, name, pattern, report_port, extra));
        for (j, (shown, _)) in PEOPLE.iter().enumerate() {
            if i != j {
                let port = base + 10 * (3 * i + j) as u16;
                let (p, sink) = viewer(server, room, name, shown, port, extra);
                views.push((*name, *shown, p, sink));
            }
        }
    }
    (senders, views)
}

fn pattern_of(name: &str) -> &'static str {
    PEOPLE.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn three_participants_see_each_other_and_one_who_rejoins_comes_back() {
    let Some(server) = LocalServer::for_test("three") else {
        return;
    };
    let (mut senders, views) = meeting(&server, "three", 27000, "");
    for (name, shown, _, sink) in &views {
        assert!(
            shows(sink, pattern_of(shown), WAIT),
            "{name} does not see {shown}"
        );
    }
    // The subscribers' transport-wide feedback reaches each publisher through the server (RTCP
    // mirror), and its delay-based estimate acts on it.
    for (sender, (name, _)) in senders.iter().zip(PEOPLE) {
        let adapt = sender
            .by_name("tx")
            .and_dynamic_cast::<gst::ChildProxy>()
            .unwrap()
            .child_by_name("pixeldiffadapt")
            .unwrap();
        let deadline = std::time::Instant::now() + WAIT;
        while adapt.property::<u64>("transport-feedback") == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no transport-wide feedback reached {name} through the server"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(adapt.property::<u32>("estimated-bitrate") > 0, "{name}");
    }
    // Bob leaves, and comes back with another picture: the others subscribe again.
    stop(&senders[1]);
    senders[1] = publisher(&server, "three", "bob", "white", 27110, "");
    for (name, shown, _, sink) in views.iter().filter(|v| v.1 == "bob") {
        assert!(
            shows(sink, "white", WAIT),
            "{name} does not see {shown} again"
        );
    }
    for (_, _, p, _) in &views {
        stop(p);
    }
    senders.iter().for_each(stop);
}

/// A receiver of every packet the server forwards to a subscriber of `publisher`'s video,
/// made with raw sockets: what the server (or anyone on its path) sees.
fn spy(server: &LocalServer, room: &str, publisher: &str, packets: usize) -> Vec<Vec<u8>> {
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtcp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rtp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let local = Description {
        address: "127.0.0.1".parse().unwrap(),
        media: vec![Media {
            kind: "video".into(),
            rtp_port: rtp.local_addr().unwrap().port(),
            rtcp_port: rtcp.local_addr().unwrap().port(),
            payload_type: 96,
            rtpmap: "X-PIXELDIFF/90000".into(),
        }],
    };
    let room = Room::new(&server.ng, room).unwrap();
    let deadline = Instant::now() + WAIT;
    while room.subscribe("eve", publisher, &local).is_err() {
        assert!(Instant::now() < deadline, "{publisher} never published");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut buf = [0; 2048];
    (0..packets)
        .map(|_| {
            let n = rtp.recv(&mut buf).expect("forwarded media");
            buf[..n].to_vec()
        })
        .collect()
}

/// Whether an RTP packet's payload starts with a pixeldiff chunk anyone could decode.
fn carries_a_chunk(packet: &[u8]) -> bool {
    // After the fixed header, the CSRCs and the header extension (the transport-wide number).
    let mut at = 12 + 4 * (packet[0] & 0x0f) as usize;
    if packet[0] & 0x10 != 0 {
        at += 4 + 4 * u16::from_be_bytes([packet[at + 2], packet[at + 3]]) as usize;
    }
    let payload = &packet[at..];
    matches!(pixeldiff_codec::split_chunks(payload).next(), Some(Ok(_)))
}

#[test]
fn end_to_end_encryption_the_server_forwards_what_it_cannot_read() {
    let Some(server) = LocalServer::for_test("e2e") else {
        return;
    };
    let key = key_file("e2e-server", 0o600);
    let extra = format!("key-file={}", key.display());
    let (senders, views) = meeting(&server, "e2e", 27300, &extra);
    for (name, shown, _, sink) in &views {
        assert!(
            shows(sink, pattern_of(shown), WAIT),
            "{name} does not see {shown} through E2E"
        );
    }
    // What the server forwards does not decode, and no two packets share a key id and counter.
    let seen = spy(&server, "e2e", "alice", 40);
    assert!(
        seen.iter().all(|p| !carries_a_chunk(p)),
        "plaintext chunks pass the server"
    );
    let headers: std::collections::HashSet<_> = seen.iter().map(|p| p[12..30].to_vec()).collect();
    assert_eq!(headers.len(), seen.len(), "an SFrame header repeats");
    // Another meeting key: nothing is shown, and the refusals say why.
    let wrong = other_key_file("e2e-wrong");
    let (intruder, sink) = viewer(
        &server,
        "e2e",
        "mallory",
        "alice",
        27390,
        &format!("key-file={}", wrong.display()),
    );
    let bus = intruder.bus().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        assert!(
            sink.try_pull_sample(gst::ClockTime::from_mseconds(200))
                .is_none(),
            "another meeting key shows a picture"
        );
    }
    let refusals = pixelmeet_testkit::element_messages(&bus, "pixelmeet-e2e");
    assert!(
        refusals
            .iter()
            .any(|s| s.get::<&str>("reason") == Ok("forged")),
        "no forged verdict: {refusals:?}"
    );
    stop(&intruder);
    for (_, _, p, _) in &views {
        stop(p);
    }
    senders.iter().for_each(stop);
}

#[test]
fn without_a_key_the_spy_reads_chunks() {
    // The check above can fail: plain media through the same server is readable.
    let Some(server) = LocalServer::for_test("plain") else {
        return;
    };
    let tx = publisher(&server, "plain", "alice", "red", 27500, "");
    let seen = spy(&server, "plain", "alice", 10);
    assert!(seen.iter().all(|p| carries_a_chunk(p)));
    stop(&tx);
}

#[test]
fn faces_are_counted_on_each_receiver() {
    let Some(server) = LocalServer::for_test("faces") else {
        return;
    };
    pixelmeet_testkit::init();
    // Carol: two drawn people from the first frame, faceroi on.
    let scene = pixelmeet_testkit::scene::Scene::new(320, 240).with_visit(
        pixelmeet_testkit::scene::Visit {
            enters: 0.0,
            leaves: 1e9,
        },
    );
    let people = scene.people_at(0.0);
    let tx = gst::Pipeline::new();
    let source = pixelmeet_testkit::scene::scene_source(scene, 15, None, true);
    let sync = gst::ElementFactory::make("clocksync").build().unwrap();
    let send = gst::ElementFactory::make("pixelmeetsend")
        .property("server", &server.ng)
        .property("room", "faces")
        .property("participant", "carol")
        .property("report-port", 27604u32)
        .property("replace-background", false)
        .build()
        .unwrap();
    tx.add_many([&source, &sync, &send]).unwrap();
    gst::Element::link_many([&source, &sync, &send]).unwrap();
    tx.set_state(gst::State::Playing).unwrap();
    let rx = pixelmeet_testkit::launch_playing(&format!(
        "pixelmeetrecv name=rx server={} room=faces participant=carol subscriber=alice port=27600 \
         audio=false label=carol draw-faces=true rx.video_src ! appsink name=sink sync=false \
         max-buffers=4 drop=true",
        server.ng
    ));
    let sink = rx
        .by_name("sink")
        .and_downcast::<gst_app::AppSink>()
        .unwrap();
    let bus = rx.bus().unwrap();
    // The decoded pictures carry one face meta per person, each on a drawn face.
    let deadline = Instant::now() + WAIT;
    let faces = loop {
        assert!(Instant::now() < deadline, "no picture with two faces");
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(200)) else {
            continue;
        };
        let faces = video_glue::roi::faces(sample.buffer().unwrap(), video_glue::roi::FACE);
        if faces.len() == 2 {
            break faces;
        }
    };
    for person in &people {
        let drawn = person.face_box();
        let (cx, cy) = (drawn.x + drawn.width / 2.0, drawn.y + drawn.height / 2.0);
        assert!(
            faces
                .iter()
                .any(|f| (f.x + f.width / 2.0 - cx).abs() < drawn.width / 2.0
                    && (f.y + f.height / 2.0 - cy).abs() < drawn.height / 2.0),
            "no face near the drawn one at ({cx}, {cy}): {faces:?}"
        );
    }
    // And a faceroi message from the receiver bin says two.
    let counts: Vec<u32> = pixelmeet_testkit::element_messages(&bus, "faceroi")
        .iter()
        .filter_map(|s| s.get::<u32>("count").ok())
        .collect();
    assert_eq!(counts.last(), Some(&2), "faceroi messages: {counts:?}");
    // The tile's label names the participant and says how many are in view.
    let label = rx
        .by_name("rx")
        .unwrap()
        .dynamic_cast::<gst::ChildProxy>()
        .unwrap()
        .child_by_name("label")
        .unwrap();
    assert_eq!(label.property::<String>("text"), "carol · 2 faces");
    assert!(!label.property::<bool>("silent"));
    stop(&rx);
    tx.set_state(gst::State::Null).unwrap();
}

#[test]
fn an_unreachable_server_fails_the_start_naming_it_and_the_command() {
    pixelmeet_testkit::init();
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let p = pixelmeet_testkit::launch(&format!(
        "videotestsrc ! {CAPS} ! pixelmeetsend server={address} participant=alice find-faces=false \
         replace-background=false report-port=27700"
    ))
    .unwrap();
    let bus = p.bus().unwrap();
    assert!(p.set_state(gst::State::Playing).is_err());
    let error = bus
        .iter_timed_filtered(gst::ClockTime::from_seconds(10), &[gst::MessageType::Error])
        .next()
        .expect("an error message");
    let gst::MessageView::Error(e) = error.view() else {
        unreachable!()
    };
    let text = e.error().to_string();
    assert!(
        text.contains(&address) && text.contains("'publish'"),
        "{text}"
    );
    stop(&p);
    let _ = caps();
}
