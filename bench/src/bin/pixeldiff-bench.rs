// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Rate-distortion benchmark of pixeldiff against x264, VP8 and JPEG on a Y4M clip.
//!
//! For every encoder configuration it measures, in this one process: the rate in kbps, the mean
//! Y-PSNR of the decoded output against the source, and the encoder's CPU time per frame. Then
//! it summarises each codec against the peers: BD-rate against x264 (ultrafast, zerolatency),
//! the rate ratio against JPEG at equal PSNR, the lossless rate against x264 at QP 0, and the
//! encoder CPU ratio against x264. With `--plot`, it also draws the lossy rate-distortion curves
//! of every codec measured into an SVG chart.
//!
//! Usage: `cargo run --release --bin pixeldiff-bench -- CLIP.y4m [options]` (see `--help`).
//! Measurements go to stdout, progress to stderr.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use pixelmeet_bench::plot::{self, Series};
use pixelmeet_bench::rd::{self, RdPoint};
use pixelmeet_bench::table::Table;
use pixelmeet_bench::y4m::{Y4mReader, Y4mWriter};
use pixelmeet_testkit::quality;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: pixeldiff-bench CLIP.y4m [options]

Measures kbps, mean Y-PSNR and encoder CPU ms/frame of each encoder configuration on an I420
Y4M clip, then compares the codecs (BD-rate vs x264, rate vs JPEG at equal PSNR, lossless rate
vs x264 QP 0, encoder CPU vs x264). Build with --release: pixel code is slow in debug builds.

options:
  --only NAME,...             codecs to run: x264, vp8, jpeg, pixeldiff (default: all)
  --frames N                  use only the first N frames of the clip
  --markdown                  print tables in Markdown
  --pixeldiff-qualities Q,... pixeldiffenc quality sweep, 0-100 (default: 20,35,50,65,80,90)
  --cpu-runs N                runs for the median encoder CPU time (default: 3)
  --timeout SECS              give up on a pipeline after this long (default: 600)
  --plot FILE.svg             also draw the lossy rate-distortion curves (kbps on a log axis,
                              mean Y-PSNR) of the codecs measured into an SVG chart
  -h, --help                  show this help";

const CODEC_NAMES: [&str; 4] = ["x264", "vp8", "jpeg", "pixeldiff"];

struct Options {
    clip: PathBuf,
    only: Option<Vec<String>>,
    frames: Option<usize>,
    markdown: bool,
    pixeldiff_qualities: Vec<u32>,
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
                let v = value("a list of qualities")?;
                pixeldiff_qualities = v
                    .split(',')
                    .map(|s| match s.trim().parse::<u32>() {
                        Ok(q) if q <= 100 => Ok(q),
                        _ => Err(format!(
                            "--pixeldiff-qualities: {s:?} is not a quality from 0 to 100"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
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
        cpu_runs,
        timeout,
        plot,
    }))
}

/// One encoder setting of a codec.
struct PointSpec {
    /// What the setting is, for the table ("256 kbps", "q 85", "lossless").
    setting: String,
    /// gst-launch fragment of the encoder with its properties.
    enc: String,
    lossless: bool,
}

struct Codec {
    key: &'static str,
    label: &'static str,
    enc_factory: &'static str,
    dec: &'static str,
    points: Vec<PointSpec>,
}

fn codecs(pixeldiff_qualities: &[u32]) -> Vec<Codec> {
    // Target rates for the rate-controlled peers, chosen to span video-call bitrates.
    const RATES_KBPS: [u32; 5] = [64, 128, 256, 512, 1024];
    // One thread and the fastest real-time presets: pixeldiff targets live calls on one core,
    // so the peers are measured in the same regime.
    const X264: &str = "x264enc speed-preset=ultrafast tune=zerolatency threads=1";
    let mut x264: Vec<PointSpec> = RATES_KBPS
        .iter()
        .map(|k| PointSpec {
            setting: format!("{k} kbps"),
            enc: format!("{X264} bitrate={k}"),
            lossless: false,
        })
        .collect();
    // Constant QP 0 is x264's lossless mode (High 4:4:4 Predictive profile, which avdec_h264
    // decodes); pass=qual quantizer=0 is CRF 0, which x264 does not promise to be lossless.
    x264.push(PointSpec {
        setting: "qp 0 (lossless)".into(),
        enc: format!("{X264} pass=quant quantizer=0"),
        lossless: true,
    });
    let vp8 = RATES_KBPS
        .iter()
        .map(|k| PointSpec {
            setting: format!("{k} kbps"),
            // target-bitrate is in bit/s; deadline=1 (us) selects the real-time path.
            enc: format!(
                "vp8enc deadline=1 cpu-used=16 threads=1 end-usage=cbr target-bitrate={}",
                k * 1000
            ),
            lossless: false,
        })
        .collect();
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
    pixeldiff.extend(pixeldiff_qualities.iter().map(|q| PointSpec {
        setting: format!("q {q}"),
        enc: format!("pixeldiffenc quality={q}"),
        lossless: false,
    }));
    vec![
        Codec {
            key: "x264",
            label: "x264 ultrafast zerolatency",
            enc_factory: "x264enc",
            dec: "avdec_h264",
            points: x264,
        },
        Codec {
            key: "vp8",
            label: "vp8 realtime cbr",
            enc_factory: "vp8enc",
            dec: "vp8dec",
            points: vp8,
        },
        Codec {
            key: "jpeg",
            label: "jpeg per frame",
            enc_factory: "jpegenc",
            dec: "jpegdec",
            points: jpeg,
        },
        Codec {
            key: "pixeldiff",
            label: "pixeldiff",
            enc_factory: "pixeldiffenc",
            dec: "pixeldiffdec",
            points: pixeldiff,
        },
    ]
}

struct Measured {
    codec: &'static str,
    label: &'static str,
    setting: String,
    lossless: bool,
    rd: RdPoint,
    enc_ms_per_frame: f64,
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
    for codec in codecs(&opts.pixeldiff_qualities) {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|k| k == codec.key))
        {
            continue;
        }
        let missing: Vec<&str> = [codec.enc_factory, codec.dec]
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
                "  {:.1} kbps, {:.3} dB over {}/{} frames; encoder CPU x{} ...",
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
            let cpu = rd::encoder_cpu_seconds(clip, &point.enc, opts.cpu_runs, opts.timeout)
                .map_err(|e| format!("{} {} (CPU run): {e}", codec.label, point.setting))?;
            let enc_ms_per_frame = cpu * 1000.0 / frames as f64;
            eprintln!("  {enc_ms_per_frame:.3} ms/frame");
            results.push(Measured {
                codec: codec.key,
                label: codec.label,
                setting: point.setting.clone(),
                lossless: point.lossless,
                rd,
                enc_ms_per_frame,
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
        "{}: {}x{}, {:.3} fps, {frames} frames; encoder CPU is the median of {} runs",
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
            ]
        })
        .collect();
    out += &Table {
        markdown: md,
        header: ["codec", "setting", "kbps", "Y-PSNR dB", "enc ms/frame"]
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
    // Encoder time against quality, to compare CPU at equal PSNR rather than over sweeps that
    // cover different quality ranges.
    let cpu_curve = |key: &str| -> Vec<(f64, f64)> {
        results
            .iter()
            .filter(|m| m.codec == key && !m.lossless)
            .map(|m| (m.enc_ms_per_frame, m.rd.psnr))
            .collect()
    };
    let lossless = |key: &str| results.iter().find(|m| m.codec == key && m.lossless);
    let x264 = curve("x264");
    let x264_cpu = cpu_curve("x264");
    let jpeg = curve("jpeg");
    let x264_ms = lossy_ms("x264");
    let x264_lossless = lossless("x264");

    let mut notes = notes.to_vec();
    let mut seen: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
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
        let na = || "n/a".to_string();
        let bd = if m.codec == "x264" {
            "anchor".into()
        } else if x264.is_empty() {
            "x264 not run".into()
        } else {
            quality::bd_rate(&x264, &c)
                .map_or_else(|| "no PSNR overlap".into(), |v| format!("{v:+.1}%"))
        };
        let vs_jpeg = if m.codec == "jpeg" {
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
        // The codec's time at each x264 point's PSNR, over x264's time there.
        let cpu_equal = quality::rate_ratio_at_equal_psnr(&cpu_curve(m.codec), &x264_cpu)
            .map_or_else(na, |(r, n)| format!("{:.2}x ({n} pts)", 1.0 / r));
        rows.push(vec![
            m.label.to_string(),
            bd,
            vs_jpeg,
            vs_lossless,
            cpu,
            cpu_equal,
        ]);
    }
    out.push('\n');
    if md {
        out += "#### Summary\n\n";
    } else {
        out += "summary\n";
    }
    out += &Table {
        markdown: md,
        header: [
            "codec",
            "BD-rate vs x264",
            "kbps vs JPEG at equal PSNR",
            "lossless kbps vs x264 qp 0",
            "enc CPU vs x264",
            "enc CPU vs x264 at equal PSNR",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        first_numeric: 1,
    }
    .render();
    out += "\n\
BD-rate: Bjontegaard, cubic fit of ln(kbps) vs Y-PSNR over the overlapping PSNR range, lossy points;\n\
negative = fewer bits than x264 for the same PSNR. kbps vs JPEG: geometric mean over the codec's points\n\
inside JPEG's PSNR range of kbps / JPEG kbps at that PSNR (log-rate interpolated). enc CPU: mean\n\
ms/frame over lossy points / the same for x264; at equal PSNR: geometric mean over x264's points inside\n\
the codec's PSNR range of the codec's ms/frame at that PSNR (log-interpolated) / x264's.\n";
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
            "c.y4m --only x264,JPEG --frames 10 --markdown --pixeldiff-qualities=30,60 --cpu-runs 5 \
             --plot docs/rd.svg",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.clip, PathBuf::from("c.y4m"));
        assert_eq!(o.only, Some(vec!["x264".into(), "jpeg".into()]));
        assert_eq!(o.frames, Some(10));
        assert!(o.markdown);
        assert_eq!(o.pixeldiff_qualities, vec![30, 60]);
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
        let all = codecs(&[50]);
        assert_eq!(all.len(), CODEC_NAMES.len());
        for c in &all {
            assert!(CODEC_NAMES.contains(&c.key));
            assert!(!c.points.is_empty());
        }
        let pd = all.iter().find(|c| c.key == "pixeldiff").unwrap();
        assert!(pd.points.iter().any(|p| p.enc == "pixeldiffenc quality=50"));
        assert!(pd.points.iter().any(|p| p.lossless));
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
