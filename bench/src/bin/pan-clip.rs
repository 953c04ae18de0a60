// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Writes a camera-motion test clip as I420 Y4M: a window (352x288 by default, 30 fps, 300
//! frames) that moves over a high-detail still photo the way a hand-held camera pans.
//!
//! The window's path is a smooth sweep across the still and back (an ellipse: cosine across,
//! with a quarter as much tilt, so the way back runs a little higher than the way across), at
//! `--speed` pixels a frame at its fastest, plus hand-held jitter: seeded pseudo-random noise
//! through a second-order 2 Hz low-pass filter, scaled to peak at `--jitter` pixels. Positions
//! are sub-pixel; each frame is resampled from the still with bicubic (Catmull-Rom)
//! interpolation, which softens the detail far less than bilinear interpolation would (whose
//! blur changes with the sub-pixel phase, frame to frame), then converted to I420 with BT.601
//! (limited range, each chroma sample the average of its 2x2 pixels, centred: `C420jpeg`).
//!
//! The clips in the media folder hold still cameras; a codec's motion search and its rate on
//! whole-frame motion need this one. Run it on a photo larger than the window, with texture:
//! `cargo run --release --bin pan-clip -- STILL.jpg OUT.y4m [options]` (see `--help`).
//! Progress goes to stderr.

use std::f64::consts::PI;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use picture::PictureLayout;
use pixelmeet_bench::rd::Error;
use pixelmeet_bench::y4m::{Y4mHeader, Y4mWriter};

const USAGE: &str = "\
usage: pan-clip STILL OUT.y4m [options]

Writes an I420 Y4M clip of a window moving over the photo STILL (PNG or JPEG) like a hand-held
camera panning: a smooth sweep across the photo and back (with a slight tilt) plus seeded,
low-pass filtered jitter, at sub-pixel positions resampled with bicubic (Catmull-Rom)
interpolation, converted to I420 with BT.601. The photo must be larger than the window by twice
the jitter in each direction; the sweep uses the room left.

options:
  --width N     window width, even (default: 352)
  --height N    window height, even (default: 288)
  --frames N    frames to write (default: 300)
  --fps N       frame rate (default: 30)
  --seed N      seed of the jitter (default: 1)
  --speed PX    fastest pan speed, pixels a frame (default: 1.5); the sweep goes across and back
                once in the clip when the photo has room, more often when it has not
  --jitter PX   peak hand-held offset, pixels (default: 3; 0 for none)
  -h, --help    show this help";

/// Cut-off of the jitter's low-pass filter: hand-held shake is mostly arm and body sway at 1-3
/// Hz; the faster tremor is too small to see at these sizes.
const JITTER_CUTOFF_HZ: f64 = 2.0;

#[derive(Debug, Clone, PartialEq)]
struct Options {
    still: PathBuf,
    output: PathBuf,
    width: usize,
    height: usize,
    frames: usize,
    fps: u32,
    seed: u64,
    speed: f64,
    jitter: f64,
}

/// `value` parsed as a `T` that passes `ok`, or an error naming the option and `what` it wants.
fn parse_value<T: FromStr>(
    option: &str,
    value: &str,
    what: &str,
    ok: impl Fn(&T) -> bool,
) -> Result<T, Error> {
    match value.parse::<T>() {
        Ok(v) if ok(&v) => Ok(v),
        _ => Err(format!("{option}: {value:?} is not {what}").into()),
    }
}

/// `Ok(None)` means help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, Error> {
    let mut paths = Vec::new();
    let mut o = Options {
        still: PathBuf::new(),
        output: PathBuf::new(),
        width: 352,
        height: 288,
        frames: 300,
        fps: 30,
        seed: 1,
        speed: 1.5,
        jitter: 3.0,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--opt value` and `--opt=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, Error> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value").into())
        };
        // Even sizes: I420 encoders (x264 among them) refuse or pad odd ones.
        let size = |v: &usize| (16..=16384).contains(v) && v.is_multiple_of(2);
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--width" => {
                o.width = parse_value(&name, &value()?, "an even size, 16-16384", size)?;
            }
            "--height" => {
                o.height = parse_value(&name, &value()?, "an even size, 16-16384", size)?;
            }
            "--frames" => {
                o.frames = parse_value(&name, &value()?, "a positive number", |&n| n > 0)?;
            }
            "--fps" => {
                o.fps = parse_value(&name, &value()?, "a frame rate, 1-240", |n| {
                    (1..=240).contains(n)
                })?;
            }
            "--seed" => o.seed = parse_value(&name, &value()?, "a whole number", |_| true)?,
            "--speed" => {
                o.speed = parse_value(&name, &value()?, "a speed above 0", |&s: &f64| {
                    s > 0.0 && s.is_finite()
                })?;
            }
            "--jitter" => {
                o.jitter = parse_value(&name, &value()?, "a size of 0 or more", |&j: &f64| {
                    j >= 0.0 && j.is_finite()
                })?;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option {s}").into())
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([still, output]) => {
            o.still = still;
            o.output = output;
            Ok(Some(o))
        }
        Err(paths) => Err(format!(
            "need the still and the output clip, got {} path(s)",
            paths.len()
        )
        .into()),
    }
}

/// splitmix64: a small, seedable generator, so a seed gives the same clip on every machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn next_signed(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// `frames` samples of low-pass filtered noise with mean 0 and peak magnitude `peak`, one axis
/// of the hand's shake: white noise through two one-pole filters at [`JITTER_CUTOFF_HZ`], run
/// two seconds before the first frame so the filters' start-up does not show.
fn hand_shake(rng: &mut SplitMix64, frames: usize, fps: f64, peak: f64) -> Vec<f64> {
    let alpha = 1.0 - (-2.0 * PI * JITTER_CUTOFF_HZ / fps).exp();
    let warm_up = (2.0 * fps).ceil() as usize;
    let (mut a, mut b) = (0.0, 0.0);
    let mut shake: Vec<f64> = (0..warm_up + frames)
        .map(|_| {
            a += alpha * (rng.next_signed() - a);
            b += alpha * (a - b);
            b
        })
        .skip(warm_up)
        .collect();
    let mean = shake.iter().sum::<f64>() / frames as f64;
    let max = shake.iter().map(|s| (s - mean).abs()).fold(0.0, f64::max);
    // A one-frame clip has nothing to shake about its mean.
    let scale = if max > 0.0 { peak / max } else { 0.0 };
    shake.iter_mut().for_each(|s| *s = (*s - mean) * scale);
    shake
}

/// The window's top-left corner in each frame, in still pixels, always inside the still: the
/// elliptical sweep about the centre of the room the window has, plus the hand's shake (see the
/// module doc). Fails when the still leaves no room for the jitter.
fn camera_path(
    o: &Options,
    still_width: usize,
    still_height: usize,
) -> Result<Vec<(f64, f64)>, Error> {
    let room = |still: usize, window: usize| still as f64 - window as f64 - 2.0 * o.jitter;
    let (room_x, room_y) = (room(still_width, o.width), room(still_height, o.height));
    if room_x < 0.0 || room_y < 0.0 {
        return Err(format!(
            "the still is {still_width}x{still_height}: a {}x{} window with {} px of jitter needs \
             at least {:.0}x{:.0}; use a larger still or a smaller window",
            o.width,
            o.height,
            o.jitter,
            (o.width as f64 + 2.0 * o.jitter).ceil(),
            (o.height as f64 + 2.0 * o.jitter).ceil()
        )
        .into());
    }
    let fps = f64::from(o.fps);
    // Across and back once in the clip at the given top speed, or as often as the room needs.
    let across = (room_x / 2.0).min(o.speed * o.frames as f64 / (2.0 * PI));
    let tilt = (room_y / 2.0).min(across / 4.0);
    let period = (2.0 * PI * across / o.speed).max(1.0);
    let centre = (o.jitter + room_x / 2.0, o.jitter + room_y / 2.0);
    let mut rng = SplitMix64(o.seed);
    let shake_x = hand_shake(&mut rng, o.frames, fps, o.jitter);
    let shake_y = hand_shake(&mut rng, o.frames, fps, o.jitter);
    let max_x = (still_width - o.width) as f64;
    let max_y = (still_height - o.height) as f64;
    Ok((0..o.frames)
        .map(|i| {
            let phase = 2.0 * PI * i as f64 / period;
            let x = centre.0 - across * phase.cos() + shake_x[i];
            let y = centre.1 + tilt * phase.sin() + shake_y[i];
            // Only rounding could reach past the edge; keep the window inside regardless.
            (x.clamp(0.0, max_x), y.clamp(0.0, max_y))
        })
        .collect())
}

/// Catmull-Rom (bicubic, a = -0.5) weights of the samples at -1, 0, 1 and 2 for a point `t`
/// (0 <= t < 1) past sample 0; they sum to 1 and give the samples themselves at t = 0.
fn catmull_rom(t: f64) -> [f64; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        (-t3 + 2.0 * t2 - t) / 2.0,
        (3.0 * t3 - 5.0 * t2 + 2.0) / 2.0,
        (-3.0 * t3 + 4.0 * t2 + t) / 2.0,
        (t3 - t2) / 2.0,
    ]
}

/// The `width` x `height` RGB window whose top-left corner sits at `(x, y)` in `still`. Every
/// pixel of a frame has the same sub-pixel phase, so one set of weights per axis serves the
/// whole frame; it is done in two passes, across then down. Samples past the still's edge
/// repeat the edge.
fn window_rgb(still: &image::RgbImage, (x, y): (f64, f64), width: usize, height: usize) -> Vec<u8> {
    let (sw, sh) = (still.width() as usize, still.height() as usize);
    let (x0, y0) = (x.floor(), y.floor());
    let (wx, wy) = (catmull_rom(x - x0), catmull_rom(y - y0));
    let (x0, y0) = (x0 as isize, y0 as isize);
    let clamp = |v: isize, len: usize| v.clamp(0, len as isize - 1) as usize;
    let pixels = still.as_raw();
    // Across: the rows from one above the window to two below it, at the window's columns.
    let rows = height + 3;
    let mut across = vec![0f64; rows * width * 3];
    for r in 0..rows {
        let sy = clamp(y0 - 1 + r as isize, sh);
        for c in 0..width {
            for (k, w) in wx.iter().enumerate() {
                let sx = clamp(x0 - 1 + (c + k) as isize, sw);
                let src = &pixels[(sy * sw + sx) * 3..][..3];
                let dst = &mut across[(r * width + c) * 3..][..3];
                dst.iter_mut()
                    .zip(src)
                    .for_each(|(d, &s)| *d += w * f64::from(s));
            }
        }
    }
    // Down, rounded to 8 bits as a camera delivers them.
    let mut out = vec![0u8; width * height * 3];
    for (i, o) in out.iter_mut().enumerate() {
        let (r, rest) = (i / (width * 3), i % (width * 3));
        let v: f64 = wy
            .iter()
            .enumerate()
            .map(|(k, w)| w * across[(r + k) * width * 3 + rest])
            .sum();
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Writes the clip to `o.output`.
fn write_clip(o: &Options, still: &image::RgbImage) -> Result<(), Error> {
    let path = camera_path(o, still.width() as usize, still.height() as usize)?;
    let header = Y4mHeader {
        width: o.width,
        height: o.height,
        fps_num: o.fps,
        fps_den: 1,
        colorspace: "420jpeg".into(),
    };
    let file = File::create(&o.output)
        .map_err(|e| format!("cannot create {}: {e}", o.output.display()))?;
    let mut writer = Y4mWriter::new(BufWriter::new(file), &header)?;
    let layout = PictureLayout::i420(o.width as u32, o.height as u32);
    let mut frame = vec![0u8; header.frame_size()];
    let chroma = header.chroma_width() * header.chroma_height();
    let progress_every = o.fps as usize;
    for (i, &at) in path.iter().enumerate() {
        let rgb = window_rgb(still, at, o.width, o.height);
        let (y, uv) = frame.split_at_mut(header.luma_size());
        let (u, v) = uv.split_at_mut(chroma);
        layout.paint_rgb(&mut [y, u, v], &rgb);
        writer.write_frame(&frame)?;
        if (i + 1) % progress_every == 0 || i + 1 == path.len() {
            eprintln!(
                "  frame {}/{} at ({:.2}, {:.2})",
                i + 1,
                path.len(),
                at.0,
                at.1
            );
        }
    }
    writer.into_inner().flush()?;
    Ok(())
}

fn run(o: &Options) -> Result<(), Error> {
    let still = image::open(&o.still)
        .map_err(|e| format!("cannot read the still {}: {e}", o.still.display()))?
        .to_rgb8();
    eprintln!(
        "pan-clip: {}x{} window over {} ({}x{}), {} frames at {} fps, speed {} px/frame, \
         jitter {} px, seed {}",
        o.width,
        o.height,
        o.still.display(),
        still.width(),
        still.height(),
        o.frames,
        o.fps,
        o.speed,
        o.jitter,
        o.seed
    );
    let written = write_clip(o, &still);
    if written.is_err() {
        // A partial clip would pass for a short one; leave none.
        let _ = std::fs::remove_file(&o.output);
    }
    written?;
    eprintln!("written to {}", o.output.display());
    Ok(())
}

fn main() -> ExitCode {
    pixelmeet_bench::bench_main("pan-clip", USAGE, parse_args, run)
}

#[cfg(test)]
mod tests {
    use super::*;

    use pixelmeet_bench::words as args;

    fn options(seed: u64) -> Options {
        let mut o = parse_args(args("still.jpg out.y4m")).unwrap().unwrap();
        o.seed = seed;
        o
    }

    #[test]
    fn path_is_deterministic_and_stays_inside() {
        let o = options(7);
        let (sw, sh) = (500, 500);
        let path = camera_path(&o, sw, sh).unwrap();
        assert_eq!(path, camera_path(&o, sw, sh).unwrap());
        assert_ne!(path, camera_path(&options(8), sw, sh).unwrap());
        assert_eq!(path.len(), o.frames);
        let max = ((sw - o.width) as f64, (sh - o.height) as f64);
        assert!(path
            .iter()
            .all(|&(x, y)| (0.0..=max.0).contains(&x) && (0.0..=max.1).contains(&y)));
        // It pans: most of the room is crossed, at sub-pixel positions.
        let (lo, hi) = path.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
        assert!(hi - lo > 0.8 * max.0, "{lo}..{hi}");
        assert!(path.iter().any(|p| p.0.fract() != 0.0));
        // And shakes, smoothly: no jump of more than the top speed and the hand's share.
        let steps = path
            .windows(2)
            .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1));
        assert!(steps.fold(0.0, f64::max) < o.speed + o.jitter);
        // Without room for the jitter, it says so.
        let e = camera_path(&o, o.width + 2, sh).unwrap_err().to_string();
        assert!(e.contains("larger still"), "{e}");
    }

    #[test]
    fn integer_positions_copy_the_still() {
        let still =
            image::RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 7]));
        let rgb = window_rgb(&still, (2.0, 1.0), 4, 3);
        assert_eq!(&rgb[..3], &still.get_pixel(2, 1).0);
        assert_eq!(&rgb[rgb.len() - 3..], &still.get_pixel(5, 3).0);
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            "",
            "still.jpg",
            "a b c",
            "s o --width 351",
            "s o --height 0",
            "s o --frames 0",
            "s o --fps 0",
            "s o --speed 0",
            "s o --speed nan",
            "s o --jitter -1",
            "s o --seed x",
            "s o --bogus",
            "s o --width",
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad:?} accepted");
        }
        let o = parse_args(args("s o --width=320 --speed 2.5 --jitter 0"))
            .unwrap()
            .unwrap();
        assert_eq!((o.width, o.speed, o.jitter), (320, 2.5, 0.0));
    }
}
