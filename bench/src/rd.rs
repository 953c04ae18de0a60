// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! In-process rate-distortion and encoder-CPU measurements of a GStreamer encoder/decoder pair
//! on a Y4M clip, the way `shared/tools/rd.py` measures them with gst-launch.
//!
//! Call [`pixelmeet::init`] (or `gst::init`) first.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use gst::prelude::*;
use gst_video::prelude::*;

use crate::y4m::{Y4mHeader, Y4mReader};
use pixelmeet_testkit::quality;

pub use pixelmeet_testkit::{launch, process_cpu_time, Error};

/// Plays `pipeline` until end of stream, then stops it (also on error or timeout).
pub fn run_to_eos(pipeline: &gst::Pipeline, timeout: Duration) -> Result<(), Error> {
    let result = (|| -> Result<(), Error> {
        let bus = pipeline.bus().ok_or("pipeline has no bus")?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| "pipeline refused to start (see GST_DEBUG=3 for why)")?;
        let timeout = gst::ClockTime::from_nseconds(timeout.as_nanos() as u64);
        let msg = bus
            .timed_pop_filtered(
                Some(timeout),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .ok_or_else(|| format!("no end of stream after {timeout}; giving up"))?;
        match msg.view() {
            gst::MessageView::Error(err) => Err(format!(
                "{} reported: {} ({})",
                err.src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_else(|| "pipeline".into()),
                err.error(),
                err.debug().as_deref().unwrap_or("no details")
            )
            .into()),
            _ => Ok(()),
        }
    })();
    // Stopping cannot usefully fail here; a failure to stop shows up as the next run failing.
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// Points the pipeline's element named `src` (a filesrc) at `clip`.
pub fn set_source(pipeline: &gst::Pipeline, clip: &Path) -> Result<(), Error> {
    let src = pipeline
        .by_name("src")
        .ok_or("pipeline has no element named `src`")?;
    // Set as a property rather than written into the description so any path works, spaces
    // and quotes included.
    src.set_property("location", clip.to_str().ok_or("clip path is not UTF-8")?);
    Ok(())
}

/// The appsink called `name` in `pipeline`.
pub fn appsink(pipeline: &gst::Pipeline, name: &str) -> Result<gst_app::AppSink, Error> {
    pipeline
        .by_name(name)
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| format!("pipeline has no appsink named `{name}`").into())
}

/// One rate-distortion point.
#[derive(Debug, Clone, PartialEq)]
pub struct RdPoint {
    /// Encoded bytes: every buffer out of the encoder plus any `codec_data` in its caps (H.264
    /// in avc form keeps SPS/PPS there, and a decoder cannot start without them).
    pub bytes: u64,
    /// `bytes * 8 * fps / frames_total / 1000`.
    pub kbps: f64,
    /// Mean Y-PSNR over the compared frames (identical frames count as 100 dB).
    pub psnr: f64,
    /// Decoded frames compared with the source, in order.
    pub frames_compared: usize,
    /// Frames in the source clip.
    pub frames_total: usize,
    /// Decoded frames bit-identical (in Y) to their source frame.
    pub identical_frames: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a streaming-thread callback poisons the lock; the data is still usable for an
    // error report, so do not turn that into a second panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Compares decoded frames, as they arrive, with the clip read alongside.
struct Comparer {
    reader: Y4mReader<BufReader<File>>,
    source: Vec<u8>,
    psnr: Vec<f64>,
    identical: usize,
    error: Option<String>,
}

impl Comparer {
    fn compare(&mut self, sample: &gst::Sample) -> Result<(), String> {
        let caps = sample.caps().ok_or("decoded sample has no caps")?;
        let info = gst_video::VideoInfo::from_caps(caps)
            .map_err(|e| format!("decoded caps are not raw video ({e}): {caps}"))?;
        let header = self.reader.header();
        let (w, h) = (header.width, header.height);
        if info.width() as usize != w || info.height() as usize != h {
            return Err(format!(
                "decoder output is {}x{}, the clip is {w}x{h}",
                info.width(),
                info.height()
            ));
        }
        let buffer = sample.buffer().ok_or("decoded sample has no buffer")?;
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
            .map_err(|_| "cannot map a decoded frame")?;
        let plane = frame.plane_data(0).map_err(|e| e.to_string())?;
        let stride = usize::try_from(frame.plane_stride()[0])
            .map_err(|_| "negative stride in decoded frame")?;
        if !self
            .reader
            .read_frame_into(&mut self.source)
            .map_err(|e| e.to_string())?
        {
            return Err(format!(
                "the decoder produced more frames than the clip's {}",
                self.reader.frames_read()
            ));
        }
        let mse = quality::mse_plane(&self.source, w, plane, stride, w, h);
        if mse == 0.0 {
            self.identical += 1;
        }
        self.psnr.push(quality::psnr_from_mse(mse));
        Ok(())
    }
}

/// Encodes `clip` with `enc` and decodes the result with `dec` in one pipeline (a gst-launch
/// fragment each, e.g. `"x264enc bitrate=256"` and `"avdec_h264"`), and returns the rate and the
/// mean Y-PSNR of the decoded frames against the clip's frames, in order.
///
/// `frames_total` is the clip's frame count (the rate is per source frame, so an encoder that
/// drops frames is not credited with a lower rate per frame it kept).
pub fn measure_rd(
    clip: &Path,
    frames_total: usize,
    enc: &str,
    dec: &str,
    timeout: Duration,
) -> Result<RdPoint, Error> {
    let reader = Y4mReader::open(clip).map_err(|e| format!("{}: {e}", clip.display()))?;
    let header: Y4mHeader = reader.header().clone();
    let pipeline = launch(&format!(
        "filesrc name=src ! y4mdec ! {enc} ! tee name=t \
         t. ! queue ! appsink name=bits sync=false \
         t. ! queue ! {dec} ! videoconvert ! video/x-raw,format=I420 ! appsink name=raw sync=false"
    ))?;
    set_source(&pipeline, clip)?;

    let bytes = Arc::new(AtomicU64::new(0));
    let codec_data = Arc::new(AtomicU64::new(0));
    {
        let (bytes, codec_data) = (bytes.clone(), codec_data.clone());
        appsink(&pipeline, "bits")?.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(buffer) = sample.buffer() {
                        bytes.fetch_add(buffer.size() as u64, Ordering::Relaxed);
                    }
                    // Store, not add: the same codec_data rides on every sample's caps.
                    if let Some(cd) = sample
                        .caps()
                        .and_then(|c| c.structure(0))
                        .and_then(|s| s.get::<gst::Buffer>("codec_data").ok())
                    {
                        codec_data.store(cd.size() as u64, Ordering::Relaxed);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
    }

    let comparer = Arc::new(Mutex::new(Comparer {
        reader,
        source: Vec::new(),
        psnr: Vec::new(),
        identical: 0,
        error: None,
    }));
    {
        let comparer = comparer.clone();
        appsink(&pipeline, "raw")?.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let mut c = lock(&comparer);
                    match c.compare(&sample) {
                        Ok(()) => Ok(gst::FlowSuccess::Ok),
                        Err(e) => {
                            c.error.get_or_insert(e);
                            Err(gst::FlowError::Error)
                        }
                    }
                })
                .build(),
        );
    }

    let run = run_to_eos(&pipeline, timeout);
    let c = lock(&comparer);
    // The comparer's own error says more than the generic flow error it causes upstream.
    if let Some(e) = &c.error {
        return Err(e.clone().into());
    }
    run?;
    let psnr = quality::mean(&c.psnr).ok_or("the decoder produced no frames")?;
    let bytes = bytes.load(Ordering::Relaxed) + codec_data.load(Ordering::Relaxed);
    Ok(RdPoint {
        bytes,
        kbps: bytes as f64 * 8.0 * header.fps() / frames_total.max(1) as f64 / 1000.0,
        psnr,
        frames_compared: c.psnr.len(),
        frames_total,
        identical_frames: c.identical,
    })
}

/// CPU and wall-clock seconds this process spends running `description` (which must name its
/// filesrc `src`) on `clip` to end of stream.
pub fn run_timed(description: &str, clip: &Path, timeout: Duration) -> Result<(f64, f64), Error> {
    let pipeline = launch(description)?;
    set_source(&pipeline, clip)?;
    let t0 = process_cpu_time()?;
    let wall = std::time::Instant::now();
    run_to_eos(&pipeline, timeout)?;
    let t1 = process_cpu_time()?;
    Ok((
        t1.saturating_sub(t0).as_secs_f64(),
        wall.elapsed().as_secs_f64(),
    ))
}

/// Median over `runs` of the CPU seconds the encoder alone costs on `clip`:
/// `filesrc ! y4mdec ! ENC ! fakesink` minus `filesrc ! y4mdec ! fakesink`, each run to EOS.
///
/// Each run measures its own baseline just before, so slow drift (frequency scaling, another
/// job on the machine) cancels in the difference; the median drops one-off disturbances. Can be
/// slightly negative for a very cheap encoder.
pub fn encoder_cpu_seconds(
    clip: &Path,
    enc: &str,
    runs: usize,
    timeout: Duration,
) -> Result<f64, Error> {
    element_cpu_seconds(clip, "", enc, runs, timeout)
}

/// [`encoder_cpu_seconds`] with `upstream` (a gst-launch fragment such as `"faceroi"`, or `""`
/// for none) in both pipelines: `filesrc ! y4mdec ! UPSTREAM ! ELEMENT ! fakesink` minus
/// `filesrc ! y4mdec ! UPSTREAM ! fakesink`, for an element that needs what `upstream` adds
/// (meta, a format) but whose own cost is wanted.
pub fn element_cpu_seconds(
    clip: &Path,
    upstream: &str,
    element: &str,
    runs: usize,
    timeout: Duration,
) -> Result<f64, Error> {
    let costs = stage_cpu_seconds(clip, upstream, &[element], runs, timeout)?;
    Ok(costs[0])
}

/// The median CPU seconds each of `stages` adds on top of the ones before it, in one set of
/// runs: for an encoder and its decoder, `[enc, dec]` gives the encoder's cost (`... ! ENC !
/// fakesink` minus `... ! fakesink`) and the decoder's (`... ! ENC ! DEC ! fakesink` minus `...
/// ! ENC ! fakesink`), three pipelines a run rather than four. Every pipeline is `filesrc !
/// y4mdec ! UPSTREAM ! STAGES[..i] ! fakesink`, `upstream` as for [`element_cpu_seconds`].
///
/// Each run measures its pipelines back to back, so slow drift cancels in each difference as
/// in [`encoder_cpu_seconds`]; each stage's median is taken on its own.
pub fn stage_cpu_seconds(
    clip: &Path,
    upstream: &str,
    stages: &[&str],
    runs: usize,
    timeout: Duration,
) -> Result<Vec<f64>, Error> {
    let chain = |parts: &[&str]| {
        std::iter::once("filesrc name=src ! y4mdec")
            .chain(std::iter::once(upstream).filter(|p| !p.is_empty()))
            .chain(parts.iter().copied())
            .chain(std::iter::once("fakesink sync=false"))
            .collect::<Vec<_>>()
            .join(" ! ")
    };
    let pipelines: Vec<String> = (0..=stages.len()).map(|i| chain(&stages[..i])).collect();
    let mut diffs = vec![Vec::with_capacity(runs); stages.len()];
    for _ in 0..runs.max(1) {
        let mut before = run_timed(&pipelines[0], clip, timeout)?.0;
        for (stage, description) in diffs.iter_mut().zip(&pipelines[1..]) {
            let with_stage = run_timed(description, clip, timeout)?.0;
            stage.push(with_stage - before);
            before = with_stage;
        }
    }
    Ok(diffs.iter_mut().map(|d| median(d)).collect())
}

/// Median of a non-empty slice (mean of the middle two for an even count, as numpy).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_like_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    /// Writes a small moving-gradient I420 clip and returns its path and frame size.
    fn synthetic_clip(name: &str, frames: usize) -> (std::path::PathBuf, usize) {
        let header = Y4mHeader {
            width: 64,
            height: 48,
            fps_num: 30,
            fps_den: 1,
            colorspace: "420".into(),
        };
        let path =
            std::env::temp_dir().join(format!("pixelmeet-rd-{}-{name}.y4m", std::process::id()));
        let file = std::io::BufWriter::new(File::create(&path).unwrap());
        let mut w = crate::y4m::Y4mWriter::new(file, &header).unwrap();
        for i in 0..frames {
            let frame: Vec<u8> = (0..header.frame_size())
                .map(|p| ((p + 3 * i) % 251) as u8)
                .collect();
            w.write_frame(&frame).unwrap();
        }
        drop(w);
        (path, header.frame_size())
    }

    fn gst_ready() -> bool {
        gst::init().unwrap();
        // y4mdec is in gst-plugins-bad; without it there is nothing to measure.
        gst::ElementFactory::find("y4mdec").is_some()
    }

    #[test]
    fn identity_codec_is_lossless_and_counts_raw_bytes() {
        if !gst_ready() {
            eprintln!("y4mdec not installed, skipping");
            return;
        }
        let (clip, frame_size) = synthetic_clip("identity", 5);
        let p = measure_rd(&clip, 5, "identity", "identity", Duration::from_secs(60));
        let cpu = encoder_cpu_seconds(&clip, "identity", 1, Duration::from_secs(60));
        let stages = stage_cpu_seconds(
            &clip,
            "",
            &["identity", "identity"],
            1,
            Duration::from_secs(60),
        );
        let _ = std::fs::remove_file(&clip);
        let p = p.unwrap();
        assert_eq!(p.frames_compared, 5);
        assert_eq!(p.identical_frames, 5);
        assert_eq!(p.psnr, quality::IDENTICAL_PSNR);
        assert_eq!(p.bytes, 5 * frame_size as u64);
        assert!((p.kbps - (frame_size * 8 * 30) as f64 / 1000.0).abs() < 1e-9);
        assert!(cpu.unwrap().is_finite());
        let stages = stages.unwrap();
        assert_eq!(stages.len(), 2);
        assert!(stages.iter().all(|s| s.is_finite()));
    }

    #[test]
    fn bad_pipelines_fail_with_a_message() {
        if !gst_ready() {
            return;
        }
        let (clip, _) = synthetic_clip("bad", 2);
        let unknown = measure_rd(
            &clip,
            2,
            "no-such-encoder",
            "identity",
            Duration::from_secs(60),
        );
        let bad_prop = measure_rd(
            &clip,
            2,
            "identity no-such-prop=1",
            "identity",
            Duration::from_secs(60),
        );
        let _ = std::fs::remove_file(&clip);
        assert!(unknown.unwrap_err().to_string().contains("no-such-encoder"));
        assert!(bad_prop.is_err());
    }

    #[test]
    fn cpu_time_advances() {
        let t0 = process_cpu_time().unwrap();
        // Busy work the optimiser cannot remove.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        assert!(process_cpu_time().unwrap() > t0);
    }
}
