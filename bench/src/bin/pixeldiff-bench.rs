// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Rate-distortion benchmark of pixeldiff against x264 (ultrafast and veryfast), VP8 and JPEG on
//! a Y4M clip.
//!
//! For every encoder configuration it measures, in this one process: the rate in kbps, the mean
//! Y-PSNR of the decoded output against the source, and the CPU time per frame of the encoder
//! and of the decoder on that point's stream. pixeldiff runs its `--pixeldiff-qualities` sweep,
//! a lossless point, and pixeldiffenc with no property set ("defaults"). Then it summarises each
//! codec against the peers: BD-rate against x264 ultrafast zerolatency (the anchor), x264
//! veryfast zerolatency and VP8 realtime; the rate ratio against JPEG at equal PSNR; the
//! lossless rate against x264 at QP 0; and the encoder and decoder CPU against x264 ultrafast's
//! at equal PSNR. With `--plot`, it also draws the lossy rate-distortion curves of every codec
//! measured into an SVG chart.
//!
//! Usage: `cargo run --release --bin pixeldiff-bench -- CLIP.y4m [options]` (see `--help`).
//! Measurements go to stdout, progress to stderr.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use gst::prelude::*;
use pixelmeet_bench::plot::{self, Series};
use pixelmeet_bench::rd::{self, RdPoint};
use pixelmeet_bench::table::Table;
use pixelmeet_bench::y4m::{Y4mReader, Y4mWriter};
use pixelmeet_testkit::quality;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: pixeldiff-bench CLIP.y4m [options]

Measures kbps, mean Y-PSNR, and encoder and decoder CPU ms/frame of each encoder configuration
on an I420 Y4M clip, then compares the codecs: BD-rate vs x264 ultrafast (the anchor), x264
veryfast and VP8 realtime, rate vs JPEG at equal PSNR, lossless rate vs x264 QP 0, and encoder
and decoder CPU vs x264 ultrafast at equal PSNR. Build with --release: pixel code is slow in
debug builds.

codecs (one thread each, encoder and decoder):
  x264           x264enc speed-preset=ultrafast tune=zerolatency, at --rates, and QP 0 lossless
  x264-veryfast  x264enc speed-preset=veryfast tune=zerolatency, at --rates
  vp8            vp8enc deadline=1 cpu-used=16 end-usage=cbr, at --rates
  jpeg           jpegenc quality 50, 70, 85, 95
  pixeldiff      pixeldiffenc lossless, the quality sweep, and no property set (\"defaults\",
                 marked in the table; when its default quality is in the sweep, that point is
                 the defaults one and is measured once)

options:
  --only NAME,...             codecs to run: x264, x264-veryfast, vp8, jpeg, pixeldiff
                              (default: all)
  --frames N                  use only the first N frames of the clip
  --markdown                  print tables in Markdown
  --pixeldiff-qualities Q,... pixeldiffenc quality sweep, 0-100 (default: 20,35,50,65,80,90)
  --rates KBPS,...            target rates of the rate-controlled peers, 1-100000 kbit/s
                              (default: 64,128,256,512,1024; a clip that costs more, such as
                              a moving camera, needs a higher ladder for the curves to overlap)
  --cpu-runs N                runs for the median encoder and decoder CPU times (default: 3)
  --timeout SECS              give up on a pipeline after this long (default: 600)
  --plot FILE.svg             also draw the lossy rate-distortion curves (kbps on a log axis,
                              mean Y-PSNR) of the codecs measured into an SVG chart
  -h, --help                  show this help";

// The codec keys; the first four are the peers the summary compares every codec with.
const X264: &str = "x264";
const X264_VERYFAST: &str = "x264-veryfast";
const VP8: &str = "vp8";
const JPEG: &str = "jpeg";
const PIXELDIFF: &str = "pixeldiff";
const CODEC_NAMES: [&str; 5] = [X264, X264_VERYFAST, VP8, JPEG, PIXELDIFF];

struct Options {
    clip: PathBuf,
    only: Option<Vec<String>>,
    frames: Option<usize>,
    markdown: bool,
    pixeldiff_qualities: Vec<u32>,
    rates: Vec<u32>,
    cpu_runs: usize,
    timeout: Duration,
    plot: Option<PathBuf>,
}

/// `Ok(None)` means help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, Error> {
    let mut clip = None;
    let mut only = None;
    let mut frames = None;
    let mut markdown = false;
    let mut pixeldiff_qualities = vec![20, 35, 50, 65, 80, 90];
    let mut rates = DEFAULT_RATES_KBPS.to_vec();
    let mut cpu_runs = 3;
    let mut timeout = Duration::from_secs(600);
    let mut plot = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--opt value` and `--opt=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, Error> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}").into())
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--markdown" => markdown = true,
            "--only" => {
                let list: Vec<String> = value("a list of codecs")?
                    .split(',')
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect();
                if let Some(bad) = list.iter().find(|s| !CODEC_NAMES.contains(&s.as_str())) {
                    return Err(format!(
                        "--only: unknown codec {bad:?} (known: {})",
                        CODEC_NAMES.join(", ")
                    )
                    .into());
                }
                only = Some(list);
            }
            "--frames" => {
                let v = value("a frame count")?;
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => frames = Some(n),
                    _ => return Err(format!("--frames: {v:?} is not a positive number").into()),
                }
            }
            "--pixeldiff-qualities" => {
                pixeldiff_qualities =
                    number_list(&name, &value("a list of qualities")?, 0..=100, "a quality")?
            }
            "--rates" => {
                rates = number_list(&name, &value("a list of rates")?, 1..=100_000, "a rate")?
            }
            "--cpu-runs" => {
                let v = value("a run count")?;
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => cpu_runs = n,
                    _ => return Err(format!("--cpu-runs: {v:?} is not a positive number").into()),
                }
            }
            "--timeout" => {
                let v = value("seconds")?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => timeout = Duration::from_secs(n),
                    _ => return Err(format!("--timeout: {v:?} is not a positive number").into()),
                }
            }
            "--plot" => {
                let v = value("an SVG file name")?;
                if v.is_empty() {
                    return Err("--plot needs an SVG file name".into());
                }
                plot = Some(PathBuf::from(v));
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option {s}").into())
            }
            _ if clip.is_none() => clip = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?} (one clip at a time)").into()),
        }
    }
    let clip = clip.ok_or("no clip given")?;
    Ok(Some(Options {
        clip,
        only,
        frames,
        markdown,
        pixeldiff_qualities,
        rates,
        cpu_runs,
        timeout,
        plot,
    }))
}

/// One encoder setting of a codec.
struct PointSpec {
    /// What the setting is, for the table ("256 kbps", "q 85", "lossless", "defaults (q 50)").
    setting: String,
    /// gst-launch fragment of the encoder with its properties.
    enc: String,
    lossless: bool,
}

/// Target rates of the rate-controlled peers, chosen to span video-call bitrates.
const DEFAULT_RATES_KBPS: [u32; 5] = [64, 128, 256, 512, 1024];

/// A comma-separated list of whole numbers in `range` for option `name`.
fn number_list(
    name: &str,
    v: &str,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
) -> Result<Vec<u32>, Error> {
    v.split(',')
        .map(|s| match s.trim().parse::<u32>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!(
                "{name}: {s:?} is not {what} from {} to {}",
                range.start(),
                range.end()
            )
            .into()),
        })
        .collect()
}

struct Codec {
    key: &'static str,
    label: &'static str,
    enc_factory: &'static str,
    dec_factory: &'static str,
    /// gst-launch fragment of the decoder with its properties.
    dec: &'static str,
    points: Vec<PointSpec>,
}

/// The codecs and their settings. `pixeldiff_default_quality` is pixeldiffenc's default
/// `quality` (see [`default_quality`]), `None` when unknown.
fn codecs(
    pixeldiff_qualities: &[u32],
    pixeldiff_default_quality: Option<u32>,
    rates: &[u32],
) -> Vec<Codec> {
    let rate_points = |enc: &dyn Fn(u32) -> String| -> Vec<PointSpec> {
        rates
            .iter()
            .map(|&k| PointSpec {
                setting: format!("{k} kbps"),
                enc: enc(k),
                lossless: false,
            })
            .collect()
    };
    // One thread and real-time presets: pixeldiff targets live calls on one core, so the peers
    // are measured in the same regime. ultrafast is the anchor; veryfast shows what x264 buys
    // with more CPU, so pixeldiff is not judged only against x264's cheapest preset.
    let x264_enc =
        |preset: &str| format!("x264enc speed-preset={preset} tune=zerolatency threads=1");
    let ultrafast = x264_enc("ultrafast");
    let mut x264 = rate_points(&|k| format!("{ultrafast} bitrate={k}"));
    // Constant QP 0 is x264's lossless mode (High 4:4:4 Predictive profile, which avdec_h264
    // decodes); pass=qual quantizer=0 is CRF 0, which x264 does not promise to be lossless.
    x264.push(PointSpec {
        setting: "qp 0 (lossless)".into(),
        enc: format!("{ultrafast} pass=quant quantizer=0"),
        lossless: true,
    });
    let veryfast = x264_enc("veryfast");
    let x264_veryfast = rate_points(&|k| format!("{veryfast} bitrate={k}"));
    // target-bitrate is in bit/s; deadline=1 (us) selects the real-time path.
    let vp8 = rate_points(&|k| {
        format!(
            "vp8enc deadline=1 cpu-used=16 threads=1 end-usage=cbr target-bitrate={}",
            k * 1000
        )
    });
    let jpeg = [50, 70, 85, 95]
        .iter()
        .map(|q| PointSpec {
            setting: format!("q {q}"),
            enc: format!("jpegenc quality={q}"),
            lossless: false,
        })
        .collect();
    let mut pixeldiff = vec![PointSpec {
        setting: "lossless".into(),
        enc: "pixeldiffenc lossless=true".into(),
        lossless: true,
    }];
    pixeldiff.extend(pixeldiff_qualities.iter().map(|&q| PointSpec {
        setting: if pixeldiff_default_quality == Some(q) {
            format!("q {q} (defaults)")
        } else {
            format!("q {q}")
        },
        enc: format!("pixeldiffenc quality={q}"),
        lossless: false,
    }));
    // The encoder as a user gets it. A sweep point at the default quality differs from it in
    // nothing (the sweep sets only quality), so it stands for the defaults rather than the
    // same stream being measured twice and weighing twice in the curve fits; otherwise the
    // defaults are one more point of pixeldiff's curve.
    if pixeldiff_default_quality.is_none_or(|d| !pixeldiff_qualities.contains(&d)) {
        pixeldiff.push(PointSpec {
            setting: pixeldiff_default_quality
                .map_or_else(|| "defaults".into(), |d| format!("defaults (q {d})")),
            enc: "pixeldiffenc".into(),
            lossless: false,
        });
    }
    // One decoding thread too: CPU time counts every thread, and more would only add
    // synchronisation to the sum.
    vec![
        Codec {
            key: X264,
            label: "x264 ultrafast zerolatency",
            enc_factory: "x264enc",
            dec_factory: "avdec_h264",
            dec: "avdec_h264 max-threads=1",
            points: x264,
        },
        Codec {
            key: X264_VERYFAST,
            label: "x264 veryfast zerolatency",
            enc_factory: "x264enc",
            dec_factory: "avdec_h264",
            dec: "avdec_h264 max-threads=1",
            points: x264_veryfast,
        },
        Codec {
            key: VP8,
            label: "vp8 realtime cbr",
            enc_factory: "vp8enc",
            dec_factory: "vp8dec",
            dec: "vp8dec threads=1",
            points: vp8,
        },
        Codec {
            key: JPEG,
            label: "jpeg per frame",
            enc_factory: "jpegenc",
            dec_factory: "jpegdec",
            dec: "jpegdec",
            points: jpeg,
        },
        Codec {
            key: PIXELDIFF,
            label: "pixeldiff",
            enc_factory: "pixeldiffenc",
            dec_factory: "pixeldiffdec",
            dec: "pixeldiffdec",
            points: pixeldiff,
        },
    ]
}

/// The default of `factory`'s `quality` property, `None` if the element or the property is
/// missing; read from the element so the table follows the encoder's default when it changes.
fn default_quality(factory: &str) -> Option<u32> {
    let element = gst::ElementFactory::make(factory).build().ok()?;
    element
        .find_property("quality")?
        .default_value()
        .get::<u32>()
        .ok()
}

struct Measured {
    codec: &'static str,
    label: &'static str,
    setting: String,
    lossless: bool,
    rd: RdPoint,
    enc_ms_per_frame: f64,
    /// Decoding this point's stream.
    dec_ms_per_frame: f64,
}

/// A shortened copy of the clip, removed when dropped.
struct TempClip(PathBuf);

impl Drop for TempClip {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the whole clip once (so a bad or truncated file fails before any pipeline runs) and
/// counts its frames; with `limit`, writes the first `limit` frames to a temporary clip, since
/// neither filesrc nor y4mdec can stop after N frames.
fn prepare_clip(
    clip: &Path,
    limit: Option<usize>,
) -> Result<(pixelmeet_bench::y4m::Y4mHeader, usize, Option<TempClip>), Error> {
    let ctx = |e: pixelmeet_bench::y4m::Y4mError| format!("{}: {e}", clip.display());
    let mut reader = Y4mReader::open(clip).map_err(ctx)?;
    let header = reader.header().clone();
    let mut frame = Vec::new();
    let mut temp = None;
    let mut writer = None;
    if let Some(limit) = limit {
        let path = std::env::temp_dir().join(format!(
            "pixeldiff-bench-{}-{limit}f.y4m",
            std::process::id()
        ));
        let file =
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        temp = Some(TempClip(path));
        writer = Some(Y4mWriter::new(BufWriter::new(file), &header)?);
    }
    let mut count = 0;
    while limit.is_none_or(|l| count < l) && reader.read_frame_into(&mut frame).map_err(ctx)? {
        if let Some(w) = writer.as_mut() {
            w.write_frame(&frame)?;
        }
        count += 1;
    }
    if count == 0 {
        return Err(format!("{}: the clip has no frames", clip.display()).into());
    }
    if let Some(w) = writer {
        use std::io::Write as _;
        w.into_inner()
            .flush()
            .map_err(|e| format!("cannot write the shortened clip: {e}"))?;
    }
    Ok((header, count, temp))
}

/// Measures, prints the report to stdout, and draws the plot if asked.
fn run(opts: &Options) -> Result<(), Error> {
    if let Some(plot) = &opts.plot {
        // Fail now rather than after minutes of measuring.
        let dir = plot.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(format!(
                "--plot {}: directory {} does not exist",
                plot.display(),
                dir.map_or_else(String::new, |d| d.display().to_string())
            )
            .into());
        }
    }
    pixelmeet::init().map_err(|e| format!("cannot initialise GStreamer: {e}"))?;
    let (header, frames, temp) = prepare_clip(&opts.clip, opts.frames)?;
    let clip: &Path = temp.as_ref().map_or(opts.clip.as_path(), |t| t.0.as_path());
    eprintln!(
        "clip {}: {}x{} {:.3} fps, {frames} frames",
        opts.clip.display(),
        header.width,
        header.height,
        header.fps()
    );

    let mut notes = Vec::new();
    let mut results = Vec::new();
    let pixeldiff_default_quality = default_quality("pixeldiffenc");
    for codec in codecs(
        &opts.pixeldiff_qualities,
        pixeldiff_default_quality,
        &opts.rates,
    ) {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|k| k == codec.key))
        {
            continue;
        }
        let missing: Vec<&str> = [codec.enc_factory, codec.dec_factory]
            .into_iter()
            .filter(|f| gst::ElementFactory::find(f).is_none())
            .collect();
        if !missing.is_empty() {
            let note = format!(
                "{} skipped: element(s) {} not installed",
                codec.label,
                missing.join(", ")
            );
            eprintln!("note: {note}");
            notes.push(note);
            continue;
        }
        for point in &codec.points {
            eprintln!("{} {}: encode + decode ...", codec.label, point.setting);
            let rd = rd::measure_rd(clip, frames, &point.enc, codec.dec, opts.timeout)
                .map_err(|e| format!("{} {}: {e}", codec.label, point.setting))?;
            eprintln!(
                "  {:.1} kbps, {:.3} dB over {}/{} frames; encoder and decoder CPU x{} ...",
                rd.kbps, rd.psnr, rd.frames_compared, rd.frames_total, opts.cpu_runs
            );
            if rd.frames_compared != rd.frames_total {
                notes.push(format!(
                    "{} {}: decoder output {} of {} frames; PSNR is over those, paired in order",
                    codec.label, point.setting, rd.frames_compared, rd.frames_total
                ));
            }
            if point.lossless && rd.identical_frames != rd.frames_compared {
                notes.push(format!(
                    "{} {}: NOT lossless: {} of {} frames differ in Y",
                    codec.label,
                    point.setting,
                    rd.frames_compared - rd.identical_frames,
                    rd.frames_compared
                ));
            }
            // The decoder's cost is what it adds behind the encoder, so it decodes exactly the
            // stream measured above without a second timing path or a stored stream.
            let cpu = rd::stage_cpu_seconds(
                clip,
                "",
                &[&point.enc, codec.dec],
                opts.cpu_runs,
                opts.timeout,
            )
            .map_err(|e| format!("{} {} (CPU run): {e}", codec.label, point.setting))?;
            let ms_per_frame = |seconds: f64| seconds * 1000.0 / frames as f64;
            let (enc_ms_per_frame, dec_ms_per_frame) = match cpu[..] {
                [enc, dec] => (ms_per_frame(enc), ms_per_frame(dec)),
                _ => return Err("CPU run: expected an encoder and a decoder time".into()),
            };
            eprintln!(
                "  encoder {enc_ms_per_frame:.3} ms/frame, decoder {dec_ms_per_frame:.3} ms/frame"
            );
            results.push(Measured {
                codec: codec.key,
                label: codec.label,
                setting: point.setting.clone(),
                lossless: point.lossless,
                rd,
                enc_ms_per_frame,
                dec_ms_per_frame,
            });
        }
    }
    if results.is_empty() {
        return Err("no codec could be measured (see the notes above)".into());
    }
    // The report first, so a plot that cannot be written does not lose the measurements.
    print!("{}", report(opts, &header, frames, &results, &notes));
    if let Some(path) = &opts.plot {
        let title = format!(
            "Rate-distortion, {}: {}x{}, {:.3} fps, {frames} frames",
            clip_name(&opts.clip),
            header.width,
            header.height,
            header.fps()
        );
        plot::line_chart_scaled(
            path,
            &title,
            "rate (kbit/s, log scale)",
            "mean Y-PSNR (dB)",
            plot::Scale::Log,
            &rd_series(&results),
            true,
        )?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}

fn clip_name(clip: &Path) -> String {
    clip.file_name().map_or_else(
        || clip.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// A codec's lossy points as (kbps, Y-PSNR dB), in measurement order. Lossless points (100 dB)
/// are left out: they would dominate any curve fit, and a plot's PSNR axis.
fn lossy_curve(results: &[Measured], key: &str) -> Vec<(f64, f64)> {
    results
        .iter()
        .filter(|m| m.codec == key && !m.lossless)
        .map(|m| (m.rd.kbps, m.rd.psnr))
        .collect()
}

/// One series per codec measured (in measurement order) of its lossy points by rising rate.
fn rd_series(results: &[Measured]) -> Vec<Series> {
    let mut seen: Vec<&str> = Vec::new();
    let mut series = Vec::new();
    for m in results {
        if m.lossless || seen.contains(&m.codec) {
            continue;
        }
        seen.push(m.codec);
        let mut points = lossy_curve(results, m.codec);
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        series.push(Series {
            label: m.label.to_string(),
            points,
        });
    }
    series
}

fn report(
    opts: &Options,
    header: &pixelmeet_bench::y4m::Y4mHeader,
    frames: usize,
    results: &[Measured],
    notes: &[String],
) -> String {
    let md = opts.markdown;
    let mut out = String::new();
    let title = format!(
        "{}: {}x{}, {:.3} fps, {frames} frames; encoder and decoder CPU are medians of {} runs",
        clip_name(&opts.clip),
        header.width,
        header.height,
        header.fps(),
        opts.cpu_runs
    );
    let _ = writeln!(out, "{}{title}\n", if md { "### " } else { "" });

    let rows = results
        .iter()
        .map(|m| {
            vec![
                m.label.to_string(),
                m.setting.clone(),
                format!("{:.1}", m.rd.kbps),
                format!("{:.2}", m.rd.psnr),
                format!("{:.3}", m.enc_ms_per_frame),
                format!("{:.3}", m.dec_ms_per_frame),
            ]
        })
        .collect();
    out += &Table {
        markdown: md,
        header: [
            "codec",
            "setting",
            "kbps",
            "Y-PSNR dB",
            "enc ms/frame",
            "dec ms/frame",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        first_numeric: 2,
    }
    .render();

    let curve = |key: &str| lossy_curve(results, key);
    let lossy_ms = |key: &str| -> Option<f64> {
        let v: Vec<f64> = results
            .iter()
            .filter(|m| m.codec == key && !m.lossless)
            .map(|m| m.enc_ms_per_frame)
            .collect();
        quality::mean(&v)
    };
    // Encoder or decoder time against quality, to compare CPU at equal PSNR rather than over
    // sweeps that cover different quality ranges.
    let cpu_curve = |key: &str, ms: fn(&Measured) -> f64| -> Vec<(f64, f64)> {
        results
            .iter()
            .filter(|m| m.codec == key && !m.lossless)
            .map(|m| (ms(m), m.rd.psnr))
            .collect()
    };
    let enc_ms = |m: &Measured| m.enc_ms_per_frame;
    let dec_ms = |m: &Measured| m.dec_ms_per_frame;
    let lossless = |key: &str| results.iter().find(|m| m.codec == key && m.lossless);
    let na = || "n/a".to_string();
    // BD-rate of `test`'s curve against `anchor`'s, `name` saying which that is.
    let bd_vs = |anchor: &str, name: &str, test: &str| -> String {
        let a = curve(anchor);
        if test == anchor {
            "anchor".into()
        } else if a.is_empty() {
            format!("{name} not run")
        } else {
            quality::bd_rate(&a, &curve(test))
                .map_or_else(|| "no PSNR overlap".into(), |v| format!("{v:+.1}%"))
        }
    };
    // The codec's time at each x264 ultrafast point's PSNR, over x264's time there.
    let cpu_vs_x264 = |key: &str, ms: fn(&Measured) -> f64| -> String {
        quality::rate_ratio_at_equal_psnr(&cpu_curve(key, ms), &cpu_curve(X264, ms))
            .map_or_else(na, |(r, n)| format!("{:.2}x ({n} pts)", 1.0 / r))
    };
    let jpeg = curve(JPEG);
    let x264_ms = lossy_ms(X264);
    let x264_lossless = lossless(X264);

    let mut notes = notes.to_vec();
    let mut seen: Vec<&str> = Vec::new();
    let mut rate_rows = Vec::new();
    let mut cpu_rows = Vec::new();
    for m in results {
        if seen.contains(&m.codec) {
            continue;
        }
        seen.push(m.codec);
        let c = curve(m.codec);
        // BD-rate and the interpolation assume more bits buy more PSNR; say so when a curve
        // breaks that, rather than let a fit through a zigzag pass for a result.
        let mut by_rate = c.clone();
        by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = by_rate.windows(2).find(|w| w[1].1 < w[0].1) {
            notes.push(format!(
                "{}: PSNR falls as the rate rises ({:.1} kbps {:.2} dB, then {:.1} kbps {:.2} dB); \
                 its BD-rate and ratios are unreliable",
                m.label, w[0].0, w[0].1, w[1].0, w[1].1
            ));
        }
        let vs_jpeg = if m.codec == JPEG {
            "reference".into()
        } else if jpeg.is_empty() {
            "JPEG not run".into()
        } else {
            quality::rate_ratio_at_equal_psnr(&jpeg, &c).map_or_else(
                || "no point in JPEG's PSNR range".into(),
                |(r, n)| format!("{r:.3}x ({n} pts)"),
            )
        };
        let vs_lossless = match (lossless(m.codec), x264_lossless) {
            (Some(l), Some(x)) if x.rd.kbps > 0.0 => {
                format!(
                    "{:.3}x ({:.0} vs {:.0} kbps)",
                    l.rd.kbps / x.rd.kbps,
                    l.rd.kbps,
                    x.rd.kbps
                )
            }
            _ => na(),
        };
        let cpu = match (lossy_ms(m.codec), x264_ms) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => na(),
        };
        rate_rows.push(vec![
            m.label.to_string(),
            bd_vs(X264, "x264 ultrafast", m.codec),
            bd_vs(X264_VERYFAST, "x264 veryfast", m.codec),
            bd_vs(VP8, "VP8", m.codec),
            vs_jpeg,
            vs_lossless,
        ]);
        cpu_rows.push(vec![
            m.label.to_string(),
            cpu,
            cpu_vs_x264(m.codec, enc_ms),
            cpu_vs_x264(m.codec, dec_ms),
        ]);
    }
    let summary = |out: &mut String, what: &str, header: &[&str], rows: Vec<Vec<String>>| {
        out.push('\n');
        if md {
            let _ = writeln!(out, "#### Summary: {what}\n");
        } else {
            let _ = writeln!(out, "summary: {what}");
        }
        *out += &Table {
            markdown: md,
            header: header.iter().map(|h| h.to_string()).collect(),
            rows,
            first_numeric: 1,
        }
        .render();
    };
    summary(
        &mut out,
        "rate",
        &[
            "codec",
            "BD-rate vs x264 ultrafast",
            "BD-rate vs x264 veryfast",
            "BD-rate vs VP8 realtime",
            "kbps vs JPEG at equal PSNR",
            "lossless kbps vs x264 ultrafast qp 0",
        ],
        rate_rows,
    );
    summary(
        &mut out,
        "CPU",
        &[
            "codec",
            "enc CPU vs x264 ultrafast",
            "enc CPU vs x264 ultrafast at equal PSNR",
            "dec CPU vs avdec_h264 at equal PSNR",
        ],
        cpu_rows,
    );
    out += "\n\
BD-rate: Bjontegaard, cubic fit of ln(kbps) vs Y-PSNR over the overlapping PSNR range, lossy points;\n\
negative = fewer bits than the column's codec for the same PSNR.\n\
kbps vs JPEG: geometric mean over the codec's points inside JPEG's PSNR range of kbps / JPEG kbps at that\n\
PSNR (log-rate interpolated). enc CPU: mean ms/frame over lossy points / the same for x264 ultrafast; at\n\
equal PSNR: geometric mean over x264 ultrafast's points inside the codec's PSNR range of the codec's\n\
ms/frame at that PSNR (log-interpolated) / x264's. dec CPU: the same for the decoder of each point's\n\
stream (CPU of encoder + decoder minus encoder alone), against avdec_h264 on x264 ultrafast's streams.\n\
Encoders and decoders run one thread each. A pixeldiff setting marked defaults is pixeldiffenc with no\n\
property set, one of its lossy points.\n";
    if !notes.is_empty() {
        out += "\nnotes:\n";
        for n in &notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}

fn main() -> ExitCode {
    pixelmeet_bench::bench_main("pixeldiff-bench", USAGE, parse_args, run)
}

#[cfg(test)]
mod tests {
    use super::*;

    use pixelmeet_bench::words as args;

    #[test]
    fn parses_options() {
        let o = parse_args(args(
            "c.y4m --only x264,JPEG,x264-veryfast --frames 10 --markdown \
             --pixeldiff-qualities=30,60 --cpu-runs 5 --plot docs/rd.svg --rates 256,4096",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.clip, PathBuf::from("c.y4m"));
        assert_eq!(
            o.only,
            Some(vec!["x264".into(), "jpeg".into(), "x264-veryfast".into()])
        );
        assert_eq!(o.frames, Some(10));
        assert!(o.markdown);
        assert_eq!(o.pixeldiff_qualities, vec![30, 60]);
        assert_eq!(o.rates, vec![256, 4096]);
        assert_eq!(o.cpu_runs, 5);
        assert_eq!(o.plot, Some(PathBuf::from("docs/rd.svg")));
        assert_eq!(
            parse_args(args("c.y4m --plot=a.svg"))
                .unwrap()
                .unwrap()
                .plot,
            Some(PathBuf::from("a.svg"))
        );
        assert_eq!(parse_args(args("c.y4m")).unwrap().unwrap().plot, None);
        assert_eq!(
            parse_args(args("c.y4m")).unwrap().unwrap().rates,
            DEFAULT_RATES_KBPS
        );
        assert!(parse_args(args("--help")).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            "",
            "c.y4m --only h265",
            "c.y4m --frames 0",
            "c.y4m --frames",
            "c.y4m --pixeldiff-qualities 101",
            "c.y4m --rates 0",
            "c.y4m --rates 64,fast",
            "c.y4m --bogus",
            "c.y4m --plot",
            "c.y4m --plot=",
            "a.y4m b.y4m",
        ] {
            assert!(parse_args(args(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn every_codec_has_points_and_known_key() {
        let all = codecs(&[50], None, &[100, 200]);
        assert_eq!(all.len(), CODEC_NAMES.len());
        for c in &all {
            assert!(CODEC_NAMES.contains(&c.key));
            assert!(!c.points.is_empty());
            assert!(c.dec.starts_with(c.dec_factory));
        }
        let pd = all.iter().find(|c| c.key == PIXELDIFF).unwrap();
        assert!(pd.points.iter().any(|p| p.enc == "pixeldiffenc quality=50"));
        assert!(pd.points.iter().any(|p| p.lossless));
        let rates = |key: &str| -> Vec<String> {
            let c = all.iter().find(|c| c.key == key).unwrap();
            c.points
                .iter()
                .filter(|p| !p.lossless)
                .map(|p| p.setting.clone())
                .collect()
        };
        assert_eq!(rates(X264_VERYFAST), rates(X264));
        assert_eq!(rates(X264), ["100 kbps", "200 kbps"]);
    }

    #[test]
    fn pixeldiff_defaults_are_measured_once() {
        let settings_and_encs = |sweep: &[u32], default| -> Vec<(String, String)> {
            codecs(sweep, default, &DEFAULT_RATES_KBPS)
                .into_iter()
                .find(|c| c.key == PIXELDIFF)
                .unwrap()
                .points
                .into_iter()
                .map(|p| (p.setting, p.enc))
                .collect()
        };
        // Outside the sweep: one more point, the bare element.
        let p = settings_and_encs(&[35, 55], Some(50));
        assert_eq!(p.len(), 4);
        assert_eq!(
            p[3],
            ("defaults (q 50)".to_string(), "pixeldiffenc".to_string())
        );
        // Inside the sweep: that point is marked instead.
        let p = settings_and_encs(&[35, 50], Some(50));
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].0, "q 50 (defaults)");
        // Unknown default: measured, since it cannot be matched.
        let p = settings_and_encs(&[35], None);
        assert_eq!(p.last().unwrap().0, "defaults");
    }

    fn measured(codec: &'static str, lossless: bool, kbps: f64, psnr: f64) -> Measured {
        Measured {
            codec,
            label: codec,
            setting: String::new(),
            lossless,
            rd: RdPoint {
                bytes: 0,
                kbps,
                psnr,
                frames_compared: 1,
                frames_total: 1,
                identical_frames: usize::from(lossless),
            },
            enc_ms_per_frame: 0.0,
            dec_ms_per_frame: 0.0,
        }
    }

    #[test]
    fn rd_series_are_lossy_by_rate_per_codec() {
        let results = [
            measured("x264", false, 128.0, 32.0),
            measured("x264", false, 64.0, 29.0),
            measured("x264", true, 2900.0, quality::IDENTICAL_PSNR),
            measured("pixeldiff", true, 2700.0, quality::IDENTICAL_PSNR),
            measured("pixeldiff", false, 76.0, 29.0),
        ];
        let s = rd_series(&results);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].label, "x264");
        assert_eq!(s[0].points, vec![(64.0, 29.0), (128.0, 32.0)]);
        assert_eq!(s[1].label, "pixeldiff");
        assert_eq!(s[1].points, vec![(76.0, 29.0)]);
    }
}
