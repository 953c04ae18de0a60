// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixelmeet's test kit, for tests, examples and benchmarks only (never a dependency of a
//! plugin): GStreamer with every plugin registered, the drawn test scene, generated and real
//! frames, pixel comparison and PSNR, bus capture, a still-picture sender and receiver, RSS,
//! participants as the meeting bins make them (`meeting`).

pub mod bottleneck;
pub mod meeting;
pub mod quality;
pub mod scene;

use gst::prelude::*;
use gst_video::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

/// Errors carry their context as text; they end up printed to a user.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The shared media: `PIXELMEET_MEDIA`, else `shared/media` beside this repository.
pub fn media_dir() -> PathBuf {
    std::env::var_os("PIXELMEET_MEDIA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("../shared/media"))
}

/// This repository's top directory, wherever a test or program runs from.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the test kit is a directory of the repository")
        .to_path_buf()
}

/// CPU time (user + system) used so far by every thread of this process.
///
/// Process-wide on purpose: GStreamer runs elements on its own streaming threads, and an encoder
/// may start more, so per-thread clocks of the calling thread would miss the work.
pub fn process_cpu_time() -> Result<Duration, Error> {
    // SAFETY: getrusage only writes into the struct we pass; all-zero is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF is a valid `who`, and `ru` is a valid, exclusive pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Err(format!("getrusage failed: {}", std::io::Error::last_os_error()).into());
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Ok(tv(ru.ru_utime) + tv(ru.ru_stime))
}

/// Builds a pipeline from a gst-launch description; unknown elements or properties are errors
/// (not warnings) so a typo in a configuration cannot silently measure something else.
pub fn launch(description: &str) -> Result<gst::Pipeline, Error> {
    let element = gst::parse::launch_full(description, None, gst::ParseFlags::FATAL_ERRORS)
        .map_err(|e| format!("cannot build pipeline `{description}`: {e}"))?;
    element
        .downcast::<gst::Pipeline>()
        .map_err(|_| format!("`{description}` is not a pipeline").into())
}

pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| pixelmeet::init().expect("GStreamer and the plugins initialise"));
}

/// Caps for raw video of `format` at `w` x `h`, 30 fps.
pub fn raw_caps(format: &str, w: u32, h: u32) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", format)
        .field("width", w as i32)
        .field("height", h as i32)
        .field("framerate", gst::Fraction::new(30, 1))
        .build()
}

/// `n` frames from videotestsrc, with timestamps, as the caps describe.
pub fn test_frames(pattern: &str, caps: &gst::Caps, n: u32) -> Vec<gst::Buffer> {
    frames_from(
        &format!("videotestsrc pattern={pattern} num-buffers={n}"),
        caps,
        n,
    )
}

/// The `n` frames a source pipeline fragment makes, converted to `caps`.
pub fn frames_from(source: &str, caps: &gst::Caps, n: u32) -> Vec<gst::Buffer> {
    let pipeline = gst::parse::launch(&format!(
        "{source} ! videoconvert ! capsfilter name=f ! appsink name=sink sync=false"
    ))
    .expect("test source pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    pipeline
        .by_name("f")
        .expect("capsfilter")
        .set_property("caps", caps);
    let sink = pipeline
        .by_name("sink")
        .expect("appsink")
        .downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let mut out = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        out.push(sample.buffer_owned().expect("sample has a buffer"));
    }
    pipeline.set_state(gst::State::Null).expect("stops");
    assert_eq!(out.len(), n as usize, "the source produced all frames");
    out
}

/// Visible samples of every component equal (padding and filler bytes ignored).
pub fn same_pixels(caps: &gst::Caps, a: &gst::BufferRef, b: &gst::BufferRef) -> bool {
    let info = gst_video::VideoInfo::from_caps(caps).expect("raw caps");
    let fa = gst_video::VideoFrameRef::from_buffer_ref_readable(a, &info).expect("maps");
    let fb = gst_video::VideoFrameRef::from_buffer_ref_readable(b, &info).expect("maps");
    (0..info.n_components()).all(|c| {
        let (w, h) = (fa.comp_width(c) as usize, fa.comp_height(c) as usize);
        let (da, db) = (fa.comp_data(c).unwrap(), fb.comp_data(c).unwrap());
        let (sa, sb) = (fa.comp_stride(c) as usize, fb.comp_stride(c) as usize);
        let ps = fa.comp_pstride(c) as usize;
        (0..h).all(|y| (0..w).all(|x| da[y * sa + x * ps] == db[y * sb + x * ps]))
    })
}

/// Y-PSNR in dB of `b` against `a` (first component, which must be a plane of its own, as in
/// the YUV formats), 100 for identical frames.
pub fn psnr_first_component(caps: &gst::Caps, a: &gst::BufferRef, b: &gst::BufferRef) -> f64 {
    let info = gst_video::VideoInfo::from_caps(caps).expect("raw caps");
    let fa = gst_video::VideoFrameRef::from_buffer_ref_readable(a, &info).expect("maps");
    let fb = gst_video::VideoFrameRef::from_buffer_ref_readable(b, &info).expect("maps");
    assert_eq!(
        fa.comp_pstride(0),
        1,
        "first component is not a plane of its own"
    );
    let mse = quality::mse_plane(
        fa.comp_data(0).unwrap(),
        fa.comp_stride(0) as usize,
        fb.comp_data(0).unwrap(),
        fb.comp_stride(0) as usize,
        fa.comp_width(0) as usize,
        fa.comp_height(0) as usize,
    );
    quality::psnr_from_mse(mse)
}

/// A bus attached to `element`, so messages it posts can be read (a harnessed element has none).
pub fn attach_bus(element: &gst::Element) -> gst::Bus {
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    bus
}

/// All element messages named `name` waiting on `bus`.
pub fn element_messages(bus: &gst::Bus, name: &str) -> Vec<gst::Structure> {
    std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e
                .structure()
                .filter(|s| s.name() == name)
                .map(|s| s.to_owned()),
            _ => None,
        })
        .collect()
}

/// Warning messages waiting on `bus`, as their text.
pub fn warnings(bus: &gst::Bus) -> Vec<String> {
    std::iter::from_fn(|| bus.pop())
        .filter_map(|m| match m.view() {
            gst::MessageView::Warning(w) => Some(w.error().to_string()),
            _ => None,
        })
        .collect()
}

/// A harness around `pixeldiffenc PROPS ! pixeldiffdec` fed with `caps`; `find_element` takes
/// the factory names.
pub fn round_trip_harness(enc_props: &str, caps: &gst::Caps) -> gst_check::Harness {
    let mut h = gst_check::Harness::new_parse(&format!("pixeldiffenc {enc_props} ! pixeldiffdec"));
    h.set_src_caps(caps.clone());
    h
}

/// RTP caps of the pixeldiff payload format with pixelmeet's payload type, as a caps string.
pub fn pixeldiff_rtp_caps() -> String {
    use gstpixeldiff::rtp::{rtp_caps, DEFAULT_PAYLOAD_TYPE};
    init();
    rtp_caps(DEFAULT_PAYLOAD_TYPE).to_string()
}

/// A pipeline from a launch line, playing.
pub fn launch_playing(description: &str) -> gst::Pipeline {
    let p = launch(description).unwrap_or_else(|e| panic!("{e}"));
    p.set_state(gst::State::Playing).expect("plays");
    p
}

/// A shared real clip (an MP4 of `../shared/media/video`) decoded to `format` through
/// `elements` into an appsink, playing; `None` (with a note) where the clip is missing.
pub fn real_clip(
    clip: &str,
    format: &str,
    elements: &str,
) -> Option<(gst::Pipeline, gst_app::AppSink)> {
    let file = media_dir().join(format!("video/{clip}.mp4"));
    if !file.is_file() {
        eprintln!(
            "skipped: {} is missing (set PIXELMEET_MEDIA)",
            file.display()
        );
        return None;
    }
    let pipeline = launch_playing(&format!(
        "filesrc location={} ! qtdemux ! decodebin ! videoconvert ! video/x-raw,format={format} ! \
         {elements} ! appsink name=sink sync=false",
        file.display()
    ));
    let sink = pipeline
        .by_name("sink")
        .and_then(|s| s.downcast::<gst_app::AppSink>().ok())
        .expect("an appsink");
    Some((pipeline, sink))
}

/// A live sender of the still `pattern` (160x120 I420, lossless) as `ssrc` to 127.0.0.1:`port`;
/// its caps filter is named `size`.
pub fn still_sender(pattern: &str, ssrc: u32, port: u16) -> gst::Pipeline {
    launch_playing(&format!(
        "videotestsrc is-live=true pattern={pattern} \
         ! capsfilter name=size caps=video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
         ! pixeldiffenc name=enc lossless=true ! rtppixeldiffpay ssrc={ssrc} mtu=600 \
         ! udpsink host=127.0.0.1 port={port} sync=false"
    ))
}

/// A still picture: the frame of `pattern` in these caps.
#[derive(Clone)]
pub struct Still {
    pub caps: gst::Caps,
    pub frame: gst::Buffer,
}

/// The frame [`still_sender`] sends for `pattern`.
pub fn still_picture(pattern: &str) -> Still {
    still_picture_as(pattern, "I420", 160, 120)
}

/// The frame of `pattern` in `format` at `w` x `h`.
pub fn still_picture_as(pattern: &str, format: &str, w: u32, h: u32) -> Still {
    let caps = raw_caps(format, w, h);
    let frame = test_frames(pattern, &caps, 1).remove(0);
    Still { caps, frame }
}

/// Frames a [`StillReceiver`] showed.
#[derive(Default, Debug, Clone)]
pub struct Shown {
    /// Frames equal to one of the pictures, bit for bit.
    pub exact: u64,
    /// Frames equal to none, after one was first shown whole.
    pub garbage: u64,
    /// Frames before any picture was first whole.
    pub before: u64,
    /// When each picture was first shown.
    pub first_shown: Vec<Option<std::time::Instant>>,
}

/// A receiver of [`still_sender`]s on `port`, as the meeting example builds it (rtpbin, every
/// stream into a funnel before the depayloader), comparing each frame shown with `pictures`.
pub struct StillReceiver {
    pub pipeline: gst::Pipeline,
    pub shown: std::sync::Arc<std::sync::Mutex<Shown>>,
}

impl StillReceiver {
    /// `path` (ending in `!`, or empty) sits between the RTP udpsrc and rtpbin.
    pub fn start(port: u16, path: &str, pictures: &[Still]) -> StillReceiver {
        let caps = pixeldiff_rtp_caps();
        let pipeline = launch_playing(&format!(
            "rtpbin name=rx latency=100 \
             udpsrc port={port} caps=\"{caps}\" ! {path} rx.recv_rtp_sink_0 \
             funnel name=streams ! rtppixeldiffdepay name=depay ! pixeldiffdec name=dec \
             ! appsink name=sink sync=false"
        ));
        let funnel = pipeline.by_name("streams").unwrap();
        pipeline
            .by_name("rx")
            .unwrap()
            .connect_pad_added(move |_, pad| {
                let sink = funnel.request_pad_simple("sink_%u").unwrap();
                pad.link(&sink).unwrap();
            });
        let shown = std::sync::Arc::new(std::sync::Mutex::new(Shown {
            first_shown: vec![None; pictures.len()],
            ..Shown::default()
        }));
        let pictures = pictures.to_vec();
        let counter = shown.clone();
        let sink = pipeline
            .by_name("sink")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                    let caps = sample.caps().ok_or(gst::FlowError::NotNegotiated)?;
                    let info = gst_video::VideoInfo::from_caps(caps)
                        .map_err(|_| gst::FlowError::NotNegotiated)?;
                    let mut s = counter.lock().unwrap();
                    let same = |p: &Still| {
                        let want = gst_video::VideoInfo::from_caps(&p.caps).expect("raw caps");
                        (want.format(), want.width(), want.height())
                            == (info.format(), info.width(), info.height())
                            && same_pixels(&p.caps, &p.frame, buffer)
                    };
                    match pictures.iter().position(same) {
                        Some(i) => {
                            s.exact += 1;
                            s.first_shown[i].get_or_insert_with(std::time::Instant::now);
                        }
                        None if s.exact > 0 => s.garbage += 1,
                        None => s.before += 1,
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        StillReceiver { pipeline, shown }
    }

    pub fn shown(&self) -> Shown {
        self.shown.lock().unwrap().clone()
    }
}

impl Drop for StillReceiver {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Panics on an error message waiting on `pipeline`'s bus.
pub fn no_errors(pipeline: &gst::Pipeline) {
    let bus = pipeline.bus().unwrap();
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Error(e) = msg.view() {
            panic!("{}: {}", e.error(), e.debug().unwrap_or_default());
        }
    }
}

/// Resident set size of process `pid`, in MiB (None once it has gone).
pub fn rss_mib_of(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Resident set size of this process, in MiB.
pub fn rss_mib() -> f64 {
    rss_mib_of(std::process::id()).expect("procfs")
}
