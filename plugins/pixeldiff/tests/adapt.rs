// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixeldiffadapt` against forged receiver reports: a stranger's reports (loss 255/256, from a
//! new SSRC, about sequence numbers the payloader never sent) change neither the target nor the
//! count of reports acted on; a real receiver is ramped in (its first report only introduces it)
//! and then steers the encoder.

use gst::prelude::*;
use pixelmeet_testkit as common;

const VIDEO_SSRC: u32 = 0x1234_5678;
const SEQ_OFFSET: u32 = 20_000;

/// An RTCP receiver report from `reporter` with one block about our video.
fn receiver_report(reporter: u32, fraction_lost: u8, highest_seq: u32) -> gst::Buffer {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend(reporter.to_be_bytes());
    p.extend(VIDEO_SSRC.to_be_bytes());
    p.extend([fraction_lost, 0, 0, 0]);
    p.extend(highest_seq.to_be_bytes());
    p.extend([0u8; 12]); // jitter, LSR, DLSR
    gst::Buffer::from_slice(p)
}

/// `pixeldiffadapt` in the harness's bin beside the `pixeldiffenc` it steers and a playing
/// `rtppixeldiffpay` whose sequence numbers start at `SEQ_OFFSET`.
fn adapt() -> (gst_check::Harness, gst::Element, gst::Element) {
    common::init();
    let mut h = gst_check::Harness::new_parse(&format!(
        "pixeldiffadapt ssrc={VIDEO_SSRC} min-bitrate=100 max-bitrate=2000 start-bitrate=2000"
    ));
    let bin = h.element().unwrap().downcast::<gst::Bin>().unwrap();
    let enc = gst::ElementFactory::make("pixeldiffenc").build().unwrap();
    let pay = gst::ElementFactory::make("rtppixeldiffpay")
        .property("seqnum-offset", SEQ_OFFSET as i32)
        .build()
        .unwrap();
    bin.add_many([&enc, &pay]).unwrap();
    pay.set_state(gst::State::Playing).unwrap();
    h.set_src_caps_str("application/x-rtcp");
    let adapt = h.find_element("pixeldiffadapt").unwrap();
    (h, adapt, enc)
}

/// Pushes `report`; whether it was passed on to rtpbin.
fn push(h: &mut gst_check::Harness, report: gst::Buffer) -> bool {
    h.push(report).unwrap();
    h.try_pull().is_some()
}

#[test]
fn a_strangers_reports_change_nothing_and_a_receiver_is_ramped_in() {
    let (mut h, adapt, enc) = adapt();
    let reports = || adapt.property::<u64>("reports");

    // A stranger who does not see the stream: all loss, sequence numbers far from ours.
    for i in 0..5 {
        assert!(!push(&mut h, receiver_report(0xbad, 255, 50_000 + 40 * i)));
    }
    assert_eq!(reports(), 0, "no forged report was acted on");
    assert_eq!(
        enc.property::<u32>("target-bitrate"),
        0,
        "the encoder was not touched"
    );
    assert_eq!(adapt.property::<u64>("reports-ignored"), 5);

    // A new reporter's single report counts for nothing, however plausible.
    assert!(!push(&mut h, receiver_report(0xbeef, 255, SEQ_OFFSET)));
    assert_eq!(reports(), 0, "a first report only introduces its reporter");

    // The real receiver: introduced by its first report, then steering by its second, over
    // the 40 packets between them.
    assert!(!push(&mut h, receiver_report(0x600d, 0, SEQ_OFFSET - 80)));
    assert_eq!(reports(), 0);
    assert!(
        push(&mut h, receiver_report(0x600d, 0, SEQ_OFFSET - 40)),
        "passed on to rtpbin"
    );
    assert_eq!(reports(), 1, "the known receiver's report is acted on");
    let target = enc.property::<u32>("target-bitrate");
    assert_eq!(
        target, 2000,
        "loss-free: the encoder gets the highest target"
    );

    // The stranger again, now with the receiver known: still nothing.
    for i in 0..5 {
        assert!(!push(&mut h, receiver_report(0xbad, 255, 50_000 + 40 * i)));
    }
    assert_eq!(reports(), 1);
    assert_eq!(
        adapt.property::<u64>("packets-dropped"),
        12,
        "every packet of the stranger's"
    );
    assert_eq!(enc.property::<u32>("target-bitrate"), target);

    // The known receiver's own heavy loss is acted on: the element still works.
    assert!(push(&mut h, receiver_report(0x600d, 128, SEQ_OFFSET)));
    assert_eq!(reports(), 2);
    assert!(
        enc.property::<u32>("target-bitrate") < target,
        "50 % loss from the receiver lowers the target"
    );
}
