// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A contact sheet of what each codec shows at the same bitrate: one row per chosen frame of a
//! Y4M clip, source | pixeldiff | x264 ultrafast | x264 veryfast | VP8 realtime, each encoder on
//! one thread, rate-controlled to the same target. Prints each codec's rate and mean Y-PSNR
//! over the whole clip (measured as `pixeldiff-bench` does), and writes the sheet as PNG.
//!
//! Usage: `cargo run --release --bin codec-sheet -- CLIP.y4m --kbps 500 --frames 60,150,240
//! --out docs/contact-sheets/pixeldiff-pan.png`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pixelmeet_bench::contact::{rgb_of_i420, write_sheet};
use pixelmeet_bench::rd::{self, Error};
use pixelmeet_bench::y4m::Y4mReader;

const USAGE: &str = "\
usage: codec-sheet CLIP.y4m --kbps K --frames N,... --out SHEET.png [--cell-width PX]

Encodes the I420 Y4M clip with pixeldiffenc (target-bitrate), x264 ultrafast and veryfast
(zerolatency) and VP8 realtime, each rate-controlled to K kbit/s on one thread, decodes them,
prints each one's kbit/s and mean Y-PSNR, and writes rows of source | pixeldiff | x264
ultrafast | x264 veryfast | VP8 for the frames given (0-based) into a PNG.

options:
  --kbps K          target rate, 16 to 100000 kbit/s
  --frames N,...    frames to show, one row each (at most 8)
  --out FILE        the PNG to write
  --cell-width PX   width of each picture on the sheet, 64 to 2048 (default: the clip's)";

struct Options {
    clip: PathBuf,
    kbps: u32,
    frames: Vec<usize>,
    out: PathBuf,
    cell_width: Option<u32>,
}

/// `Ok(None)` means help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, Error> {
    let (mut clip, mut kbps, mut frames, mut out, mut cell_width) = (None, None, None, None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kbps" => match value("a rate")?.parse::<u32>() {
                Ok(k) if (16..=100_000).contains(&k) => kbps = Some(k),
                _ => return Err("--kbps: a rate from 16 to 100000 kbit/s".into()),
            },
            "--frames" => {
                let list = value("frame numbers")?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| "--frames: a list of frame numbers")?;
                if list.is_empty() || list.len() > 8 {
                    return Err("--frames: one to eight frames".into());
                }
                frames = Some(list);
            }
            "--out" => out = Some(PathBuf::from(value("a file name")?)),
            "--cell-width" => match value("pixels")?.parse::<u32>() {
                Ok(w) if (64..=2048).contains(&w) => cell_width = Some(w),
                _ => return Err("--cell-width: 64 to 2048 pixels".into()),
            },
            s if s.starts_with('-') => return Err(format!("unknown option {s}").into()),
            _ if clip.is_none() => clip = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?}").into()),
        }
    }
    Ok(Some(Options {
        clip: clip.ok_or("no clip given")?,
        kbps: kbps.ok_or("--kbps is required")?,
        frames: frames.ok_or("--frames is required")?,
        out: out.ok_or("--out is required")?,
        cell_width,
    }))
}

/// The codecs, as (label, encoder, decoder), rate-controlled to `kbps`.
fn codecs(kbps: u32) -> [(&'static str, String, &'static str); 4] {
    let x264 = |preset: &str| {
        format!("x264enc speed-preset={preset} tune=zerolatency threads=1 bitrate={kbps}")
    };
    [
        (
            "pixeldiff",
            format!("pixeldiffenc target-bitrate={kbps}"),
            "pixeldiffdec",
        ),
        (
            "x264 ultrafast",
            x264("ultrafast"),
            "avdec_h264 max-threads=1",
        ),
        (
            "x264 veryfast",
            x264("veryfast"),
            "avdec_h264 max-threads=1",
        ),
        (
            "vp8 realtime",
            format!(
                "vp8enc deadline=1 cpu-used=16 threads=1 end-usage=cbr target-bitrate={}",
                kbps * 1000
            ),
            "vp8dec threads=1",
        ),
    ]
}

/// The decoded I420 frames at `wanted` (0-based, in output order) of `enc ! dec` on the clip.
fn decoded_frames(
    clip: &std::path::Path,
    enc: &str,
    dec: &str,
    wanted: &[usize],
) -> Result<Vec<Vec<u8>>, Error> {
    let pipeline = rd::launch(&format!(
        "filesrc name=src ! y4mdec ! {enc} ! {dec} ! videoconvert ! video/x-raw,format=I420 \
         ! appsink name=raw sync=false"
    ))?;
    rd::set_source(&pipeline, clip)?;
    let kept = Arc::new(Mutex::new((0usize, vec![Vec::new(); wanted.len()])));
    let (store, wanted_owned) = (kept.clone(), wanted.to_vec());
    rd::appsink(&pipeline, "raw")?.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let mut k = store.lock().unwrap_or_else(|e| e.into_inner());
                let n = k.0;
                k.0 += 1;
                if let Some(slot) = wanted_owned.iter().position(|&w| w == n) {
                    let map = sample
                        .buffer()
                        .and_then(|b| b.map_readable().ok())
                        .ok_or(gst::FlowError::Error)?;
                    k.1[slot] = map.as_slice().to_vec();
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    rd::run_to_eos(&pipeline, Duration::from_secs(600))?;
    let k = kept.lock().unwrap_or_else(|e| e.into_inner());
    if k.1.iter().any(Vec::is_empty) {
        return Err(format!("{enc}: the decoder gave only {} frames", k.0).into());
    }
    Ok(k.1.clone())
}

fn run(o: &Options) -> Result<(), Error> {
    let mut reader = Y4mReader::open(&o.clip).map_err(|e| format!("{}: {e}", o.clip.display()))?;
    let h = reader.header().clone();
    let (w, ht) = (h.width, h.height);
    let mut source = vec![Vec::new(); o.frames.len()];
    let mut n = 0;
    while let Some(f) = reader.read_frame().map_err(|e| e.to_string())? {
        if let Some(slot) = o.frames.iter().position(|&x| x == n) {
            source[slot] = f;
        }
        n += 1;
    }
    let total = n;
    if let Some(&bad) = o.frames.iter().find(|&&f| f >= total) {
        return Err(format!("frame {bad} is past the clip's {total} frames").into());
    }
    let mut rows: Vec<Vec<_>> = source.iter().map(|f| vec![rgb_of_i420(f, w, ht)]).collect();
    println!("| codec | target kbit/s | kbit/s | Y-PSNR dB |\n| --- | ---: | ---: | ---: |");
    for (label, enc, dec) in codecs(o.kbps) {
        eprintln!("{label}: {enc} ...");
        let point = rd::measure_rd(&o.clip, total, &enc, dec, Duration::from_secs(600))?;
        println!(
            "| {label} | {} | {:.1} | {:.2} |",
            o.kbps, point.kbps, point.psnr
        );
        for (row, f) in rows
            .iter_mut()
            .zip(decoded_frames(&o.clip, &enc, dec, &o.frames)?)
        {
            row.push(rgb_of_i420(&f, w, ht));
        }
    }
    write_sheet(&rows, o.cell_width.unwrap_or(w as u32), &o.out)?;
    eprintln!("sheet written to {}", o.out.display());
    Ok(())
}

fn main() -> ExitCode {
    pixelmeet_bench::bench_main("codec-sheet", USAGE, parse_args, |o| {
        pixelmeet::init().map_err(|e| e.to_string())?;
        run(o)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixelmeet_bench::words as args;

    #[test]
    fn parses_and_rejects_options() {
        let o = parse_args(args("c.y4m --kbps 500 --frames 1,20 --out s.png"))
            .unwrap()
            .unwrap();
        assert_eq!((o.kbps, o.frames, o.cell_width), (500, vec![1, 20], None));
        for bad in [
            "c.y4m --frames 1 --out s.png",
            "c.y4m --kbps 5 --frames 1 --out s.png",
            "c.y4m --kbps 500 --frames 1,x --out s.png",
            "c.y4m --kbps 500 --frames 1,2,3,4,5,6,7,8,9 --out s.png",
            "c.y4m --kbps 500 --frames 1",
            "--kbps 500 --frames 1 --out s.png",
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad:?} accepted");
        }
        assert!(parse_args(args("--help")).unwrap().is_none());
    }
}
