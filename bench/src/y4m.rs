// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A small YUV4MPEG2 (Y4M) reader and writer, I420 (4:2:0, 8 bit) only.
//!
//! The reader streams frame by frame so the benchmark can compare a decoder's output with a
//! long clip without holding it all in memory; [`read_y4m`] loads a whole clip for tests.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

/// A header longer than this is not a Y4M file (real headers are well under 100 bytes), so stop
/// reading rather than slurp a large non-Y4M file looking for a newline.
const MAX_HEADER_LEN: usize = 4096;

/// Why a Y4M file could not be read.
#[derive(Debug)]
pub enum Y4mError {
    /// The underlying read or write failed.
    Io(io::Error),
    /// The stream header is missing or malformed.
    BadHeader(String),
    /// A well-formed file in a format this reader does not handle (not 8-bit 4:2:0).
    Unsupported(String),
    /// A frame header is malformed or the file ends inside a frame.
    BadFrame { index: usize, reason: String },
}

impl fmt::Display for Y4mError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Y4mError::Io(e) => write!(f, "I/O error: {e}"),
            Y4mError::BadHeader(s) => write!(f, "not a valid Y4M header: {s}"),
            Y4mError::Unsupported(s) => write!(f, "unsupported Y4M stream: {s}"),
            Y4mError::BadFrame { index, reason } => write!(f, "frame {index}: {reason}"),
        }
    }
}

impl std::error::Error for Y4mError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Y4mError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Y4mError {
    fn from(e: io::Error) -> Self {
        Y4mError::Io(e)
    }
}

/// The stream parameters of a Y4M file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Y4mHeader {
    pub width: usize,
    pub height: usize,
    pub fps_num: u32,
    pub fps_den: u32,
    /// The `C` tag as written (`420`, `420jpeg`, ...); absent means `420jpeg` per the format.
    pub colorspace: String,
}

impl Y4mHeader {
    /// Frames per second as a float (the rate formula needs it).
    pub fn fps(&self) -> f64 {
        f64::from(self.fps_num) / f64::from(self.fps_den)
    }

    /// Bytes of one I420 frame: full-size Y, then quarter-size U and V (chroma rounded up, as
    /// GStreamer and ffmpeg lay out odd sizes).
    pub fn frame_size(&self) -> usize {
        self.luma_size() + 2 * self.chroma_width() * self.chroma_height()
    }

    /// Bytes of the Y plane, which starts every frame.
    pub fn luma_size(&self) -> usize {
        self.width * self.height
    }

    pub fn chroma_width(&self) -> usize {
        self.width.div_ceil(2)
    }

    pub fn chroma_height(&self) -> usize {
        self.height.div_ceil(2)
    }

    /// The header line (without the newline) that [`Y4mWriter`] writes.
    fn to_line(&self) -> String {
        format!(
            "YUV4MPEG2 W{} H{} F{}:{} Ip A1:1 C{}",
            self.width, self.height, self.fps_num, self.fps_den, self.colorspace
        )
    }
}

fn parse_header(line: &[u8]) -> Result<Y4mHeader, Y4mError> {
    let line =
        std::str::from_utf8(line).map_err(|_| Y4mError::BadHeader("header is not ASCII".into()))?;
    let mut tokens = line.split(' ').filter(|t| !t.is_empty());
    if tokens.next() != Some("YUV4MPEG2") {
        return Err(Y4mError::BadHeader(
            "file does not start with \"YUV4MPEG2 \"".into(),
        ));
    }
    let (mut width, mut height, mut fps) = (None, None, None);
    // The Y4M spec says a missing C tag means 4:2:0 with JPEG siting.
    let mut colorspace = String::from("420jpeg");
    for token in tokens {
        // Split off the one-character tag by char, not byte, so non-ASCII junk cannot panic.
        let mut chars = token.chars();
        let tag = chars.next();
        let value = chars.as_str();
        match tag {
            Some('W') => width = Some(parse_dim(value, "W")?),
            Some('H') => height = Some(parse_dim(value, "H")?),
            Some('F') => {
                let (n, d) = value.split_once(':').ok_or_else(|| {
                    Y4mError::BadHeader(format!("frame rate {value:?} is not N:D"))
                })?;
                let n: u32 = n
                    .parse()
                    .map_err(|_| Y4mError::BadHeader(format!("frame rate {value:?}")))?;
                let d: u32 = d
                    .parse()
                    .map_err(|_| Y4mError::BadHeader(format!("frame rate {value:?}")))?;
                if n == 0 || d == 0 {
                    return Err(Y4mError::BadHeader(format!(
                        "frame rate {value:?} must be positive (kbps needs it)"
                    )));
                }
                fps = Some((n, d));
            }
            Some('C') => colorspace = value.to_string(),
            // Interlacing, aspect ratio and extensions do not change the byte layout.
            _ => {}
        }
    }
    let width = width.ok_or_else(|| Y4mError::BadHeader("no W (width) tag".into()))?;
    let height = height.ok_or_else(|| Y4mError::BadHeader("no H (height) tag".into()))?;
    let (fps_num, fps_den) =
        fps.ok_or_else(|| Y4mError::BadHeader("no F (frame rate) tag".into()))?;
    // All 4:2:0 sitings share the I420 byte layout; the rest (422, 444, mono, >8 bit) do not.
    if !matches!(
        colorspace.as_str(),
        "420" | "420jpeg" | "420paldv" | "420mpeg2"
    ) {
        return Err(Y4mError::Unsupported(format!(
            "colour space C{colorspace}: only 8-bit 4:2:0 (C420, C420jpeg, C420paldv, C420mpeg2) is \
             supported; convert with e.g. `gst-launch-1.0 ... ! videoconvert ! \
             video/x-raw,format=I420 ! y4menc`"
        )));
    }
    Ok(Y4mHeader {
        width,
        height,
        fps_num,
        fps_den,
        colorspace,
    })
}

fn parse_dim(value: &str, tag: &str) -> Result<usize, Y4mError> {
    match value.parse::<usize>() {
        // 16384 is far beyond any clip we measure and keeps width*height from overflowing.
        Ok(v) if v > 0 && v <= 16384 => Ok(v),
        _ => Err(Y4mError::BadHeader(format!(
            "{tag}{value} is not a size between 1 and 16384"
        ))),
    }
}

/// Reads a line up to `\n` (not included) of at most `max` bytes. `Ok(None)` at a clean end of
/// file.
fn read_line_limited<R: BufRead>(r: &mut R, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r.take(max as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        Ok(Some(line))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "line too long or not terminated by a newline",
        ))
    }
}

/// Streams the frames of a Y4M file.
pub struct Y4mReader<R> {
    header: Y4mHeader,
    inner: R,
    next_index: usize,
}

impl Y4mReader<BufReader<File>> {
    /// Opens a Y4M file and parses its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Y4mError> {
        let file = File::open(path.as_ref())?;
        Self::new(BufReader::with_capacity(1 << 20, file))
    }
}

impl<R: BufRead> Y4mReader<R> {
    /// Parses the stream header from `inner`.
    pub fn new(mut inner: R) -> Result<Self, Y4mError> {
        let line = read_line_limited(&mut inner, MAX_HEADER_LEN)
            .map_err(|e| Y4mError::BadHeader(e.to_string()))?
            .ok_or_else(|| Y4mError::BadHeader("file is empty".into()))?;
        let header = parse_header(&line)?;
        Ok(Self {
            header,
            inner,
            next_index: 0,
        })
    }

    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Reads the next frame into `buf` (resized to [`Y4mHeader::frame_size`]), reusing its
    /// allocation. Returns `Ok(false)` at the end of the stream.
    pub fn read_frame_into(&mut self, buf: &mut Vec<u8>) -> Result<bool, Y4mError> {
        let index = self.next_index;
        let bad = |reason: String| Y4mError::BadFrame { index, reason };
        let line = match read_line_limited(&mut self.inner, MAX_HEADER_LEN) {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(false),
            Err(e) => return Err(bad(format!("bad frame header: {e}"))),
        };
        // A frame header is "FRAME" plus optional parameters we do not need.
        if !(line == b"FRAME" || line.starts_with(b"FRAME ")) {
            return Err(bad("frame header does not start with FRAME".into()));
        }
        buf.resize(self.header.frame_size(), 0);
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad("file ends inside the frame (truncated file?)".into())
            } else {
                Y4mError::Io(e)
            }
        })?;
        self.next_index += 1;
        Ok(true)
    }

    /// Reads the next frame into a new buffer, `Ok(None)` at the end of the stream.
    pub fn read_frame(&mut self) -> Result<Option<Vec<u8>>, Y4mError> {
        let mut buf = Vec::new();
        Ok(self.read_frame_into(&mut buf)?.then_some(buf))
    }

    /// How many frames have been read so far.
    pub fn frames_read(&self) -> usize {
        self.next_index
    }
}

/// A whole Y4M clip in memory.
#[derive(Debug, Clone)]
pub struct Y4m {
    pub header: Y4mHeader,
    /// Each frame is I420: Y plane, then U, then V, tightly packed.
    pub frames: Vec<Vec<u8>>,
}

impl Y4m {
    pub fn width(&self) -> usize {
        self.header.width
    }

    pub fn height(&self) -> usize {
        self.header.height
    }

    pub fn fps(&self) -> f64 {
        self.header.fps()
    }
}

/// Reads a whole Y4M file; errors name the file.
pub fn read_y4m(path: impl AsRef<Path>) -> Result<Y4m, Box<dyn std::error::Error>> {
    let path = path.as_ref();
    let ctx = |e: Y4mError| format!("{}: {e}", path.display());
    let mut reader = Y4mReader::open(path).map_err(ctx)?;
    let mut frames = Vec::new();
    while let Some(frame) = reader.read_frame().map_err(ctx)? {
        frames.push(frame);
    }
    Ok(Y4m {
        header: reader.header().clone(),
        frames,
    })
}

/// Writes an I420 Y4M stream.
pub struct Y4mWriter<W: Write> {
    inner: W,
    frame_size: usize,
}

impl<W: Write> Y4mWriter<W> {
    pub fn new(mut inner: W, header: &Y4mHeader) -> io::Result<Self> {
        writeln!(inner, "{}", header.to_line())?;
        Ok(Self {
            inner,
            frame_size: header.frame_size(),
        })
    }

    pub fn write_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        if frame.len() != self.frame_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame has {} bytes, the header needs {}",
                    frame.len(),
                    self.frame_size
                ),
            ));
        }
        self.inner.write_all(b"FRAME\n")?;
        self.inner.write_all(frame)
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn clip(header: &str, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut v = format!("{header}\n").into_bytes();
        for f in frames {
            v.extend_from_slice(b"FRAME\n");
            v.extend_from_slice(f);
        }
        v
    }

    #[test]
    fn reads_frames_and_header() {
        let f0: Vec<u8> = (0..6 * 4 + 2 * 3 * 2).map(|i| i as u8).collect();
        let f1 = vec![7u8; f0.len()];
        let data = clip(
            "YUV4MPEG2 W6 H4 F30000:1001 Ip A1:1 C420",
            &[f0.clone(), f1.clone()],
        );
        let mut r = Y4mReader::new(Cursor::new(data)).unwrap();
        assert_eq!(r.header().width, 6);
        assert_eq!(r.header().height, 4);
        assert!((r.header().fps() - 29.97).abs() < 0.01);
        assert_eq!(r.read_frame().unwrap(), Some(f0));
        assert_eq!(r.read_frame().unwrap(), Some(f1));
        assert_eq!(r.read_frame().unwrap(), None);
        assert_eq!(r.frames_read(), 2);
    }

    #[test]
    fn odd_sizes_round_chroma_up() {
        let h = parse_header(b"YUV4MPEG2 W5 H3 F25:1").unwrap();
        assert_eq!(h.colorspace, "420jpeg");
        assert_eq!(h.frame_size(), 15 + 2 * 3 * 2);
    }

    #[test]
    fn rejects_other_formats_clearly() {
        let e = parse_header(b"YUV4MPEG2 W4 H4 F25:1 C444").unwrap_err();
        assert!(matches!(e, Y4mError::Unsupported(_)), "{e}");
        assert!(e.to_string().contains("C444"));
        assert!(matches!(
            parse_header(b"RIFF W4 H4 F25:1"),
            Err(Y4mError::BadHeader(_))
        ));
        assert!(matches!(
            parse_header(b"YUV4MPEG2 W4 F25:1"),
            Err(Y4mError::BadHeader(_))
        ));
        assert!(matches!(
            parse_header(b"YUV4MPEG2 W4 H4 F0:1"),
            Err(Y4mError::BadHeader(_))
        ));
        assert!(Y4mReader::new(Cursor::new(Vec::new())).is_err());
        assert!(Y4mReader::new(Cursor::new(vec![b'x'; 10_000])).is_err());
    }

    #[test]
    fn truncated_frame_is_an_error() {
        let mut data = clip("YUV4MPEG2 W2 H2 F25:1", &[vec![1; 6]]);
        data.truncate(data.len() - 1);
        let mut r = Y4mReader::new(Cursor::new(data)).unwrap();
        assert!(matches!(
            r.read_frame(),
            Err(Y4mError::BadFrame { index: 0, .. })
        ));
    }

    #[test]
    fn writer_round_trips() {
        let header = parse_header(b"YUV4MPEG2 W4 H2 F30:1 C420").unwrap();
        let frame: Vec<u8> = (0..12).collect();
        let mut w = Y4mWriter::new(Vec::new(), &header).unwrap();
        w.write_frame(&frame).unwrap();
        assert!(w.write_frame(&frame[..3]).is_err());
        let mut r = Y4mReader::new(Cursor::new(w.into_inner())).unwrap();
        assert_eq!(r.header(), &header);
        assert_eq!(r.read_frame().unwrap(), Some(frame));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = read_y4m("/nonexistent/clip.y4m").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/clip.y4m"), "{e}");
    }
}
