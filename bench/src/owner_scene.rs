// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Owner mode on real footage: two shared clips side by side (the owner larger, so enrol
//! largest takes them), their places swapped mid-clip and the owner's face covered for a
//! second; then, frame by frame, whether the stranger's face left the element (the middle of
//! its box within 30 dB of the input) and whether the owner's did where a detector finds it. For the
//! faceroi tests and `faceroi-bench`.

use crate::rd::{appsink, launch, process_cpu_time, Error};
use face_tracking::{DetectorKind, DetectorSettings, FaceDetector, PictureLayout, Rect};
use gst::prelude::*;
use std::path::Path;

pub const WIDTH: usize = 640;
pub const HEIGHT: usize = 352;
pub const FPS: i32 = 25;
/// Side of each person's square tile.
pub const OWNER_TILE: usize = 352;
pub const STRANGER_TILE: usize = 288;
/// The owner is on the left until this frame, then on the right.
pub const SWAP_AT: usize = 60;
/// The owner's face is covered over these frames (one second).
pub const COVERED: std::ops::Range<usize> = 120..145;
/// A face region this close to the input (luma PSNR, dB) left the element as it was.
pub const SHOWN_DB: f64 = 30.0;

/// Where one person's tile is in a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tile {
    pub x: usize,
    pub y: usize,
    pub size: usize,
}

impl Tile {
    fn contains(&self, (cx, cy): (f32, f32)) -> bool {
        let (x, y, s) = (self.x as f32, self.y as f32, self.size as f32);
        cx >= x && cx < x + s && cy >= y && cy < y + s
    }
}

/// The tiles of the owner and the stranger in frame `i`.
pub fn tiles(i: usize) -> (Tile, Tile) {
    let owner_left = i < SWAP_AT;
    let owner = Tile {
        x: if owner_left { 0 } else { STRANGER_TILE },
        y: 0,
        size: OWNER_TILE,
    };
    let stranger = Tile {
        x: if owner_left { OWNER_TILE } else { 0 },
        y: HEIGHT - STRANGER_TILE,
        size: STRANGER_TILE,
    };
    (owner, stranger)
}

/// The first `frames` frames of an MP4 clip as packed I420, `size` x `size`.
pub fn decode_square(clip: &Path, size: usize, frames: usize) -> Result<Vec<Vec<u8>>, Error> {
    let pipeline = launch(&format!(
        "filesrc location=\"{}\" ! qtdemux ! decodebin ! videoconvert ! videoscale ! \
         video/x-raw,format=I420,width={size},height={size},pixel-aspect-ratio=1/1 ! \
         appsink name=sink sync=false",
        clip.display()
    ))?;
    let sink = appsink(&pipeline, "sink")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| format!("{}: cannot decode", clip.display()))?;
    let mut out = Vec::new();
    while out.len() < frames {
        let Ok(sample) = sink.pull_sample() else {
            break;
        };
        let buffer = sample.buffer().ok_or("sample without buffer")?;
        let map = buffer.map_readable().map_err(|_| "unreadable buffer")?;
        out.push(packed_i420(&map, size, size, sample.caps())?);
    }
    let _ = pipeline.set_state(gst::State::Null);
    if out.is_empty() {
        return Err(format!("{}: no frames", clip.display()).into());
    }
    Ok(out)
}

/// A mapped I420 buffer without its row padding.
fn packed_i420(
    data: &[u8],
    w: usize,
    h: usize,
    caps: Option<&gst::CapsRef>,
) -> Result<Vec<u8>, Error> {
    let info = gst_video::VideoInfo::from_caps(caps.ok_or("no caps")?)
        .map_err(|_| "caps are not raw video")?;
    let mut out = Vec::with_capacity(w * h * 3 / 2);
    for plane in 0..3 {
        let (pw, ph) = if plane == 0 {
            (w, h)
        } else {
            (w.div_ceil(2), h.div_ceil(2))
        };
        let (offset, stride) = (info.offset()[plane], info.stride()[plane] as usize);
        for row in 0..ph {
            let start = offset + row * stride;
            out.extend_from_slice(&data[start..start + pw]);
        }
    }
    Ok(out)
}

/// The composed scene: frame `i` holds `owner[i]` and `stranger[i]` in their tiles on grey, the
/// owner's face covered by a grey box over `COVERED`.
pub fn compose(owner: &[Vec<u8>], stranger: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let n = owner.len().min(stranger.len());
    (0..n)
        .map(|i| {
            let mut frame = vec![128u8; WIDTH * HEIGHT * 3 / 2];
            let (o, s) = tiles(i);
            paste(&mut frame, &owner[i], o);
            paste(&mut frame, &stranger[i], s);
            if COVERED.contains(&i) {
                let side = o.size * 4 / 5;
                let cover = Tile {
                    x: o.x + (o.size - side) / 2,
                    y: o.y + (o.size - side) / 4,
                    size: side,
                };
                paste(&mut frame, &vec![110u8; side * side * 3 / 2], cover);
            }
            frame
        })
        .collect()
}

/// Copies a packed I420 square into the frame at an even position.
fn paste(frame: &mut [u8], square: &[u8], at: Tile) {
    let (fw, fh) = (WIDTH, HEIGHT);
    let s = at.size;
    let planes = [
        (0, fw, 0, s, at.x, at.y),
        (fw * fh, fw / 2, s * s, s / 2, at.x / 2, at.y / 2),
        (
            fw * fh + fw * fh / 4,
            fw / 2,
            s * s + s * s / 4,
            s / 2,
            at.x / 2,
            at.y / 2,
        ),
    ];
    for (dst, dst_stride, src, side, x, y) in planes {
        for row in 0..side {
            let d = dst + (y + row) * dst_stride + x;
            frame[d..d + side].copy_from_slice(&square[src + row * side..src + (row + 1) * side]);
        }
    }
}

/// One `faceroi-owner` message, field by field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OwnerMessage {
    /// Frame index, from the timestamp.
    pub frame: usize,
    pub present: bool,
    pub id: u32,
    pub distance: f64,
}

/// What an element did with the scene.
pub struct Run {
    pub outputs: Vec<Vec<u8>>,
    pub owner_messages: Vec<OwnerMessage>,
    /// Process CPU seconds the run took.
    pub cpu_seconds: f64,
}

/// Pushes the scene through `element` (a gst-launch fragment taking I420) as fast as it goes.
pub fn run(element: &str, frames: &[Vec<u8>]) -> Result<Run, Error> {
    let pipeline = launch(&format!(
        "appsrc name=src format=time caps=video/x-raw,format=I420,width={WIDTH},height={HEIGHT},\
         framerate={FPS}/1 ! {element} ! appsink name=sink sync=false"
    ))?;
    let src = pipeline
        .by_name("src")
        .and_then(|s| s.downcast::<gst_app::AppSrc>().ok())
        .ok_or("no appsrc")?;
    let sink = appsink(&pipeline, "sink")?;
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| "pipeline refused to start")?;
    let frame_time = gst::ClockTime::SECOND / FPS as u64;
    let start = process_cpu_time()?;
    let mut outputs = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut buffer = gst::Buffer::from_slice(f.clone());
        {
            let b = buffer.get_mut().expect("new buffer");
            b.set_pts(frame_time * i as u64);
            b.set_duration(frame_time);
        }
        src.push_buffer(buffer)
            .map_err(|e| format!("push: {e:?}"))?;
        let sample = sink
            .pull_sample()
            .map_err(|_| format!("frame {i}: no output"))?;
        let buffer = sample.buffer().ok_or("sample without buffer")?;
        let map = buffer.map_readable().map_err(|_| "unreadable buffer")?;
        outputs.push(packed_i420(&map, WIDTH, HEIGHT, sample.caps())?);
    }
    let cpu_seconds = (process_cpu_time()? - start).as_secs_f64();
    let _ = src.end_of_stream();
    let mut owner_messages = Vec::new();
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure().filter(|s| s.name() == "faceroi-owner") else {
                    continue;
                };
                let field = |e: gst::structure::GetError<_>| format!("faceroi-owner: {e}");
                owner_messages.push(OwnerMessage {
                    frame: (s.get::<u64>("timestamp").map_err(field)? / frame_time.nseconds())
                        as usize,
                    present: s.get::<bool>("owner-present").map_err(field)?,
                    id: s.get::<u32>("owner-id").map_err(field)?,
                    distance: s.get::<f64>("distance").map_err(field)?,
                });
            }
            gst::MessageView::Error(e) => {
                let _ = pipeline.set_state(gst::State::Null);
                return Err(format!("{}", e.error()).into());
            }
            _ => {}
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
    Ok(Run {
        outputs,
        owner_messages,
        cpu_seconds,
    })
}

/// Frame by frame counts of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub frames: usize,
    /// Frames whose stranger region (found in the input, else where it was last found) left
    /// the element within `SHOWN_DB` of the input.
    pub stranger_shown: usize,
    /// Frames where the detector finds the owner's face in the input ...
    pub owner_found: usize,
    /// ... and of those, where it left the element within `SHOWN_DB`.
    pub owner_shown: usize,
}

impl Scores {
    pub fn owner_shown_fraction(&self) -> f64 {
        self.owner_shown as f64 / self.owner_found.max(1) as f64
    }
}

/// Ground truth from BlazeFace at full range on every input frame, each face given to the
/// person whose tile holds its centre.
pub fn score(inputs: &[Vec<u8>], outputs: &[Vec<u8>]) -> Result<Scores, Error> {
    let mut detector = FaceDetector::new(DetectorKind::BlazeFace)?;
    let settings = DetectorSettings::default();
    let layout = PictureLayout::i420(WIDTH as u32, HEIGHT as u32);
    let (ww, wh) = settings.working_size(WIDTH as u32, HEIGHT as u32);
    let mut scores = Scores::default();
    let mut last_stranger: Option<Rect> = None;
    for (i, (input, output)) in inputs.iter().zip(outputs).enumerate() {
        let (y, rest) = input.split_at(WIDTH * HEIGHT);
        let (u, v) = rest.split_at(WIDTH * HEIGHT / 4);
        let working = layout.working_frame(&[y, u, v], ww, wh);
        let found = detector.detect(&working, &settings)?;
        let (owner_tile, stranger_tile) = tiles(i);
        if tiles(i.saturating_sub(1)) != (owner_tile, stranger_tile) {
            last_stranger = None;
        }
        let stranger = found
            .iter()
            .find(|d| stranger_tile.contains(d.rect.center()))
            .map(|d| d.rect)
            .or(last_stranger);
        last_stranger = stranger;
        let owner = found
            .iter()
            .find(|d| owner_tile.contains(d.rect.center()))
            .map(|d| d.rect);
        scores.frames += 1;
        if let Some(r) = stranger {
            scores.stranger_shown += usize::from(region_psnr(input, output, &r) >= SHOWN_DB);
        }
        if let Some(r) = owner {
            scores.owner_found += 1;
            scores.owner_shown += usize::from(region_psnr(input, output, &r) >= SHOWN_DB);
        }
    }
    Ok(scores)
}

/// Luma PSNR of the face in `rect` (its middle, without the background in the box's corners,
/// which bgreplace may change) between two frames of the scene.
pub fn region_psnr(a: &[u8], b: &[u8], rect: &Rect) -> f64 {
    let inner = Rect::new(
        rect.x + 0.2 * rect.width,
        rect.y + 0.15 * rect.height,
        0.6 * rect.width,
        0.7 * rect.height,
    );
    let Some(r) = inner.to_pixels(WIDTH as u32, HEIGHT as u32) else {
        return f64::INFINITY;
    };
    let mut sum = 0f64;
    for y in r.y as usize..(r.y + r.height) as usize {
        for x in r.x as usize..(r.x + r.width) as usize {
            let d = a[y * WIDTH + x] as f64 - b[y * WIDTH + x] as f64;
            sum += d * d;
        }
    }
    pixelmeet_testkit::quality::psnr_from_mse(sum / (r.width as f64 * r.height as f64).max(1.0))
}

/// Writes a packed I420 square as an RGB PNG: a photo of someone for `owner-photo`.
pub fn save_photo(square: &[u8], size: usize, path: &Path) -> Result<(), Error> {
    crate::contact::rgb_of_i420(square, size, size)
        .save(path)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}
