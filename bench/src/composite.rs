// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A test scene for background replacement with an exact answer: a person cut from one real
//! clip with a head-and-shoulders shape, pasted on another real clip, on a fixed timeline
//! (empty room, entrance, talking, sitting still, a lighting step) with camera noise on top.
//! The person's mask in every frame is known exactly because we put him there.
//!
//! The score, intersection over union with the true mask, is `background_model::mask::iou`.
//! No GStreamer types here, so all of it is unit-tested without a pipeline; `bgreplace-bench` runs the
//! elements.

use std::f64::consts::TAU;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::ops::Range;
use std::path::Path;

use background_model::mask::{resize, shrink};
use face_tracking::Gray;

use crate::rd::Error;
use crate::y4m::{read_y4m, Y4mHeader, Y4mReader, Y4mWriter};

/// Size of the composite: the 640x480 of a common webcam mode.
pub const WIDTH: usize = 640;
pub const HEIGHT: usize = 480;
pub const FPS: u32 = 30;
pub const FRAMES: usize = 300;

/// Timeline, in composite frames (each phase runs to the start of the next).
pub const ENTER_START: usize = 30;
pub const TALK_START: usize = 60;
pub const STILL_START: usize = 150;
/// The lighting step comes with the second talking period and stays to the end.
pub const RELIT_START: usize = 230;

/// Sway while talking: +-40 px, one cycle per 3 s. A whole number of cycles fits the first
/// talking period, so the person is back at the home position when he freezes.
pub const SWAY_PX: f64 = 40.0;
pub const SWAY_PERIOD: usize = 90;

/// Lighting step: luma and colour saturation both up 25 % (a lamp switched on, auto exposure).
pub const LIGHT_GAIN: f64 = 1.25;

/// Camera noise, in 8-bit levels, added after compositing and lighting (a clean webcam in a lit
/// room; chroma is averaged over 2x2 so it is quieter).
pub const NOISE_SIGMA_Y: f64 = 2.5;
pub const NOISE_SIGMA_C: f64 = 1.5;
/// Seed of the noise: the composite is the same bytes on every run.
pub const NOISE_SEED: u64 = 0x5eed_b9e0_1ace;

/// Parts of the timeline, each scored on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The empty room: any foreground is a false alarm.
    Background,
    /// The person slides in from the right edge to the home position.
    Entering,
    /// Real consecutive frames of the person talking, swaying sideways.
    Talking,
    /// One source frame repeated at the home position: only the noise changes, so a detector
    /// that learns from motion alone slowly absorbs the person into the background.
    Still,
    /// Talking again, every sample brighter from the first frame on.
    Relit,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Background,
        Phase::Entering,
        Phase::Talking,
        Phase::Still,
        Phase::Relit,
    ];

    /// The phase that composite frame `frame` belongs to.
    pub fn of(frame: usize) -> Phase {
        match frame {
            f if f < ENTER_START => Phase::Background,
            f if f < TALK_START => Phase::Entering,
            f if f < STILL_START => Phase::Talking,
            f if f < RELIT_START => Phase::Still,
            _ => Phase::Relit,
        }
    }

    pub fn frames(self) -> Range<usize> {
        match self {
            Phase::Background => 0..ENTER_START,
            Phase::Entering => ENTER_START..TALK_START,
            Phase::Talking => TALK_START..STILL_START,
            Phase::Still => STILL_START..RELIT_START,
            Phase::Relit => RELIT_START..FRAMES,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Background => "background only",
            Phase::Entering => "entering",
            Phase::Talking => "talking",
            Phase::Still => "still",
            Phase::Relit => "after lighting step",
        }
    }
}

/// Where the person is in one composite frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Composite column of the source frame's left edge (even, so 4:2:0 chroma lines up; may
    /// put part of the source outside the composite). The source's bottom edge is the
    /// composite's bottom edge.
    pub x: i32,
    /// Frame of the person clip shown.
    pub source_frame: usize,
}

/// Source frames of the person clip the timeline uses: 0 up to but not including this.
pub const SOURCE_FRAMES_USED: usize = (STILL_START - ENTER_START) + (FRAMES - RELIT_START);

/// The person's placement in composite frame `frame`, `None` while he is out of view, for a
/// person clip `person_width` pixels wide.
pub fn placement(frame: usize, person_width: usize) -> Option<Placement> {
    let home = (WIDTH as f64 - person_width as f64) / 2.0;
    let sway =
        |start: usize| home + SWAY_PX * (TAU * (frame - start) as f64 / SWAY_PERIOD as f64).sin();
    // The person's clock runs while he is on screen, stops while he sits still and resumes
    // from where it stopped, so there is no jump in his motion.
    let talked = STILL_START - ENTER_START;
    let (x, source_frame) = match Phase::of(frame) {
        Phase::Background => return None,
        Phase::Entering => {
            let done = (frame + 1 - ENTER_START) as f64 / (TALK_START - ENTER_START) as f64;
            (
                WIDTH as f64 - done * (WIDTH as f64 - home),
                frame - ENTER_START,
            )
        }
        Phase::Talking => (sway(TALK_START), frame - ENTER_START),
        Phase::Still => (home, talked - 1),
        Phase::Relit => (sway(RELIT_START), talked + frame - RELIT_START),
    };
    let x = 2 * (x / 2.0).round() as i32;
    Some(Placement { x, source_frame })
}

/// A person mask: 255 = person, 0 = not (the masks bgreplace and its core use).
pub type Mask = Gray;

/// Whether pixel (`x`, `y`) of `mask` is person.
pub fn at(mask: &Mask, x: usize, y: usize) -> bool {
    mask.data[y * mask.width + x] >= 128
}

/// How many pixels of `mask` are person.
pub fn person_pixels(mask: &Mask) -> usize {
    mask.data.iter().filter(|&&v| v >= 128).count()
}

/// One byte of every pixel of a packed 8-bit picture (`pixel_stride` bytes per pixel,
/// `offset` to the byte wanted, rows `stride` apart) thresholded: `>= threshold` is person.
///
/// # Panics
/// If `data` is shorter than the sizes imply (a caller bug).
pub fn mask_from_channel(
    data: &[u8],
    stride: usize,
    (width, height): (usize, usize),
    pixel_stride: usize,
    offset: usize,
    threshold: u8,
) -> Mask {
    let mut mask = Mask::new(width, height);
    for (y, row) in mask.data.chunks_exact_mut(width).enumerate() {
        let line = &data[y * stride..];
        for (x, m) in row.iter_mut().enumerate() {
            *m = if line[x * pixel_stride + offset] >= threshold {
                255
            } else {
                0
            };
        }
    }
    mask
}

/// `mask` moved right by `left` into a `width` x `height` picture (the bottom edges aligned,
/// as [`paste_i420`] places the person), clipped at its edges.
pub fn placed(mask: &Mask, left: i32, width: usize, height: usize) -> Mask {
    let mut out = Mask::new(width, height);
    paste_plane(&mut out.data, (width, height), &mask.data, mask, left);
    out
}

/// An axis-aligned ellipse, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    pub center: (f64, f64),
    pub radii: (f64, f64),
}

impl Ellipse {
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let u = (x - self.center.0) / self.radii.0;
        let v = (y - self.center.1) / self.radii.1;
        u * u + v * v <= 1.0
    }
}

/// A head-and-shoulders outline in person-clip pixels: the head as the union of two ellipses
/// (the skull with its hair, and the narrower face down to the chin; one ellipse either cuts
/// the hair or takes in a lot of wall beside the jaw), joined with shoulders whose top edge is
/// a parabola falling from the collar to the sides; below that edge everything down to the
/// bottom is person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadAndShoulders {
    /// Width and height of the clip the shape was drawn for.
    pub frame: (usize, usize),
    pub skull: Ellipse,
    pub face: Ellipse,
    /// Column of the collar, the highest point of the shoulders.
    pub collar_x: f64,
    pub collar_y: f64,
    /// How far the shoulders' top edge has fallen `shoulder_reach` pixels to either side of the
    /// collar.
    pub shoulder_drop: f64,
    pub shoulder_reach: f64,
}

/// The man of `LivePortrait_d9_512x480.y4m`, placed by looking at frames 0 to 400: the hair
/// spans about x 100-430 from y 15, the ears are at x 130 and 390, the chin at y 405-410; the
/// shirt's neckline is at y 375 and meets the frame sides at y 430.
pub const LIVEPORTRAIT_PERSON: HeadAndShoulders = HeadAndShoulders {
    frame: (512, 480),
    skull: Ellipse {
        center: (265.0, 182.0),
        radii: (170.0, 170.0),
    },
    face: Ellipse {
        center: (262.0, 272.0),
        radii: (132.0, 140.0),
    },
    collar_x: 256.0,
    collar_y: 372.0,
    shoulder_drop: 58.0,
    shoulder_reach: 256.0,
};

impl HeadAndShoulders {
    /// Whether the pixel whose centre is at (`x`, `y`) is person.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let reach = (x - self.collar_x) / self.shoulder_reach;
        self.skull.contains(x, y)
            || self.face.contains(x, y)
            || y >= self.collar_y + self.shoulder_drop * reach * reach
    }

    /// The shape drawn at its clip's size.
    pub fn mask(&self) -> Mask {
        let (width, height) = self.frame;
        let mut mask = Mask::new(width, height);
        for y in 0..height {
            for x in 0..width {
                if self.contains(x as f64 + 0.5, y as f64 + 0.5) {
                    mask.data[y * width + x] = 255;
                }
            }
        }
        mask
    }
}

/// Offsets and sizes of the three planes of a packed I420 frame.
fn i420_planes(width: usize, height: usize) -> [(usize, usize, usize); 3] {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let y = width * height;
    [(0, width, height), (y, cw, ch), (y + cw * ch, cw, ch)]
}

/// A packed I420 frame resampled to `to` (each plane on its own).
pub fn scale_i420(frame: &[u8], from: (usize, usize), to: (usize, usize)) -> Vec<u8> {
    let src = i420_planes(from.0, from.1);
    let dst = i420_planes(to.0, to.1);
    src.iter()
        .zip(&dst)
        .flat_map(|(&(off, w, h), &(_, dw, dh))| {
            let plane = Gray {
                width: w,
                height: h,
                data: frame[off..off + w * h].to_vec(),
            };
            resize(&plane, dw, dh).data
        })
        .collect()
}

/// Copies the pixels of `person` (a packed I420 frame the size of `mask`) under `mask` into
/// `frame` (packed I420, `width` x `height`), the person's left edge at column `left` (even, so
/// chroma stays aligned with luma) and the bottom edges aligned. A chroma sample comes from the
/// person when at least two of its four luma pixels do (the 2x2 mean of 0/255 is then 128 or
/// more).
pub fn paste_i420(
    frame: &mut [u8],
    (width, height): (usize, usize),
    person: &[u8],
    mask: &Mask,
    left: i32,
) {
    debug_assert!(left % 2 == 0, "odd offsets would shift chroma against luma");
    let chroma_mask = shrink(mask, 2, 2);
    let src = i420_planes(mask.width, mask.height);
    let dst = i420_planes(width, height);
    for (plane, (&(s_off, sw, sh), &(d_off, dw, dh))) in src.iter().zip(&dst).enumerate() {
        let (plane_mask, plane_left) = if plane == 0 {
            (mask, left)
        } else {
            (&chroma_mask, left / 2)
        };
        paste_plane(
            &mut frame[d_off..d_off + dw * dh],
            (dw, dh),
            &person[s_off..s_off + sw * sh],
            plane_mask,
            plane_left,
        );
    }
}

/// [`paste_i420`] for one plane (or [`Mask::placed`] for a mask); `src` is the size of `mask`.
fn paste_plane<T: Copy>(
    dst: &mut [T],
    (dw, dh): (usize, usize),
    src: &[T],
    mask: &Mask,
    left: i32,
) {
    let top = dh as i64 - mask.height as i64;
    for (y, row) in dst.chunks_exact_mut(dw).enumerate() {
        let Ok(sy) = usize::try_from(y as i64 - top) else {
            continue;
        };
        for (x, d) in row.iter_mut().enumerate() {
            let Ok(sx) = usize::try_from(x as i64 - i64::from(left)) else {
                continue;
            };
            if sx < mask.width && sy < mask.height && at(mask, sx, sy) {
                *d = src[sy * mask.width + sx];
            }
        }
    }
}

/// Applies the lighting step to a packed I420 frame: luma times `gain`, chroma `gain` times
/// further from neutral grey, clamped to 8 bits.
pub fn relight_i420(frame: &mut [u8], (width, height): (usize, usize), gain: f64) {
    let lut = |f: &dyn Fn(f64) -> f64| -> [u8; 256] {
        std::array::from_fn(|v| f(v as f64).round().clamp(0.0, 255.0) as u8)
    };
    let luma = lut(&|v| v * gain);
    let chroma = lut(&|v| 128.0 + (v - 128.0) * gain);
    let (y_plane, c_planes) = frame.split_at_mut(width * height);
    y_plane.iter_mut().for_each(|v| *v = luma[*v as usize]);
    c_planes.iter_mut().for_each(|v| *v = chroma[*v as usize]);
}

/// Gaussian noise from SplitMix64 and the Box-Muller transform: a dozen lines that give the
/// same numbers on every platform and every version, which a generator crate does not promise.
pub struct Gaussian {
    state: u64,
    spare: Option<f64>,
}

impl Gaussian {
    pub fn new(seed: u64) -> Self {
        Gaussian {
            state: seed,
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A standard normal sample.
    pub fn sample(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        // 53 random bits in (0, 1]: never 0, so the logarithm is finite.
        let u1 = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let r = (-2.0 * u1.ln()).sqrt();
        self.spare = Some(r * (TAU * u2).sin());
        r * (TAU * u2).cos()
    }
}

/// Adds rounded Gaussian noise of `sigma_y` to the luma and `sigma_c` to both chroma planes of
/// a packed I420 frame, clamped to 8 bits.
pub fn add_noise_i420(
    frame: &mut [u8],
    (width, height): (usize, usize),
    rng: &mut Gaussian,
    sigma_y: f64,
    sigma_c: f64,
) {
    for (i, v) in frame.iter_mut().enumerate() {
        let sigma = if i < width * height { sigma_y } else { sigma_c };
        *v = (*v as f64 + sigma * rng.sample()).round().clamp(0.0, 255.0) as u8;
    }
}

/// The composite as written: where the person is in each frame, hence his exact mask.
pub struct Scene {
    person: Mask,
    placements: Vec<Option<Placement>>,
}

impl Scene {
    pub fn frames(&self) -> usize {
        self.placements.len()
    }

    pub fn placement(&self, frame: usize) -> Option<Placement> {
        self.placements[frame]
    }

    /// The exact person mask of composite frame `frame`.
    pub fn truth(&self, frame: usize) -> Mask {
        match self.placements[frame] {
            Some(p) => placed(&self.person, p.x, WIDTH, HEIGHT),
            None => Mask::new(WIDTH, HEIGHT),
        }
    }
}

/// Builds the composite and writes it to `out` as a 640x480 I420 Y4M at 30 fps.
///
/// `background`: any I420 Y4M, stretched to 640x480 and looped if short. `person`: an I420 Y4M
/// of `shape.frame` size with at least [`SOURCE_FRAMES_USED`] frames, cut out with `shape`.
pub fn write_composite(
    background: &Path,
    person: &Path,
    shape: &HeadAndShoulders,
    out: &Path,
) -> Result<Scene, Error> {
    let ctx = |p: &Path| {
        let p = p.display().to_string();
        move |e: crate::y4m::Y4mError| format!("{p}: {e}")
    };
    let bg = read_y4m(background).map_err(|e| e.to_string())?;
    if bg.frames.is_empty() {
        return Err(format!("{}: no frames", background.display()).into());
    }
    let mut people = Y4mReader::open(person).map_err(ctx(person))?;
    let person_size = (people.header().width, people.header().height);
    if person_size != shape.frame || shape.frame.1 > HEIGHT {
        return Err(format!(
            "{}: {}x{}, the person shape was drawn for {}x{} (at most {HEIGHT} high)",
            person.display(),
            person_size.0,
            person_size.1,
            shape.frame.0,
            shape.frame.1
        )
        .into());
    }
    let header = Y4mHeader {
        width: WIDTH,
        height: HEIGHT,
        fps_num: FPS,
        fps_den: 1,
        colorspace: "420".into(),
    };
    let file = File::create(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut writer = Y4mWriter::new(BufWriter::new(file), &header)?;
    let scene = Scene {
        person: shape.mask(),
        placements: (0..FRAMES).map(|f| placement(f, person_size.0)).collect(),
    };
    let mut person_frame = Vec::new();
    for (f, placed) in scene.placements.iter().enumerate() {
        let (bw, bh) = (bg.width(), bg.height());
        let mut frame = scale_i420(&bg.frames[f % bg.frames.len()], (bw, bh), (WIDTH, HEIGHT));
        if let Some(p) = placed {
            // Source frames only ever stay or move forward: read on until the wanted one.
            while people.frames_read() <= p.source_frame {
                if !people
                    .read_frame_into(&mut person_frame)
                    .map_err(ctx(person))?
                {
                    return Err(format!(
                        "{}: {} frames, the timeline needs {SOURCE_FRAMES_USED}",
                        person.display(),
                        people.frames_read()
                    )
                    .into());
                }
            }
            paste_i420(
                &mut frame,
                (WIDTH, HEIGHT),
                &person_frame,
                &scene.person,
                p.x,
            );
        }
        if Phase::of(f) == Phase::Relit {
            relight_i420(&mut frame, (WIDTH, HEIGHT), LIGHT_GAIN);
        }
        // One generator per frame: any frame can be regenerated on its own.
        let mut rng = Gaussian::new(NOISE_SEED ^ f as u64);
        add_noise_i420(
            &mut frame,
            (WIDTH, HEIGHT),
            &mut rng,
            NOISE_SIGMA_Y,
            NOISE_SIGMA_C,
        );
        writer.write_frame(&frame)?;
    }
    writer
        .into_inner()
        .flush()
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(scene)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_conventions() {
        let iou = |a: &Mask, b: &Mask| background_model::mask::iou(&a.data, &b.data);
        let empty = Mask::new(4, 2);
        let mut one = empty.clone();
        one.data[0] = 255;
        let mut two = one.clone();
        two.data[1] = 255;
        assert_eq!(iou(&empty, &empty), 1.0);
        assert_eq!(iou(&empty, &one), 0.0);
        assert_eq!(iou(&one, &empty), 0.0);
        assert_eq!(iou(&two, &one), 0.5);
        assert_eq!(iou(&two, &two), 1.0);
    }

    #[test]
    fn timeline_is_continuous_and_in_bounds() {
        let w = LIVEPORTRAIT_PERSON.frame.0;
        let home = ((WIDTH - w) / 2) as i32;
        assert_eq!(placement(ENTER_START - 1, w), None);
        // Entering starts almost out of view and ends at home.
        assert!(placement(ENTER_START, w).unwrap().x > WIDTH as i32 - 30);
        assert_eq!(placement(TALK_START - 1, w).unwrap().x, home);
        assert_eq!(placement(TALK_START, w).unwrap().x, home);
        let still = placement(STILL_START, w).unwrap();
        assert_eq!(still.x, home);
        assert_eq!(placement(RELIT_START - 1, w), Some(still));
        assert_eq!(
            still.source_frame,
            placement(STILL_START - 1, w).unwrap().source_frame
        );
        assert_eq!(
            placement(RELIT_START, w).unwrap().source_frame,
            still.source_frame + 1
        );
        assert_eq!(
            placement(FRAMES - 1, w).unwrap().source_frame,
            SOURCE_FRAMES_USED - 1
        );
        for f in TALK_START..FRAMES {
            let p = placement(f, w).unwrap();
            assert_eq!(p.x % 2, 0);
            assert!(
                p.x >= 0 && p.x as usize + w <= WIDTH,
                "frame {f} at {}",
                p.x
            );
            assert!((p.x - home).abs() <= SWAY_PX as i32);
        }
        for f in ENTER_START + 1..FRAMES {
            let (a, b) = (placement(f - 1, w).unwrap(), placement(f, w).unwrap());
            assert!((a.x - b.x).abs() <= 20, "jump at frame {f}");
            assert!(b.source_frame == a.source_frame || b.source_frame == a.source_frame + 1);
        }
        for phase in Phase::ALL {
            assert!(phase.frames().all(|f| Phase::of(f) == phase));
        }
    }

    #[test]
    fn shape_is_a_head_on_shoulders() {
        let m = LIVEPORTRAIT_PERSON.mask();
        assert!(at(&m, 265, 212), "face centre");
        assert!(at(&m, 265, 20), "top of the hair");
        assert!(
            !at(&m, 10, 10) && !at(&m, 500, 10),
            "wall in the top corners"
        );
        assert!(
            at(&m, 0, 479) && at(&m, 511, 479),
            "shoulders leave at the sides"
        );
        assert!(!at(&m, 40, 380), "wall above the left shoulder");
        // Head and shoulders join: the column under the chin is person all the way down.
        assert!((0..480).filter(|&y| at(&m, 256, y)).count() >= 480 - 15);
    }

    #[test]
    fn placed_mask_moves_and_clips() {
        let m = LIVEPORTRAIT_PERSON.mask();
        let p = placed(&m, 64, WIDTH, HEIGHT);
        assert_eq!(person_pixels(&p), person_pixels(&m));
        assert!(at(&p, 64 + 265, 212));
        assert!(!at(&p, 10, 479), "left of the person");
        let out_right = placed(&m, 600, WIDTH, HEIGHT);
        assert!(
            person_pixels(&out_right) > 0 && person_pixels(&out_right) < person_pixels(&m) / 10
        );
        assert_eq!(person_pixels(&placed(&m, WIDTH as i32, WIDTH, HEIGHT)), 0);
    }

    #[test]
    fn paste_copies_exactly_the_masked_luma() {
        let (w, h) = (8, 4);
        let mut mask = Mask::new(4, 4);
        for y in 0..4 {
            mask.data[y * 4 + 1] = 255;
            mask.data[y * 4 + 2] = 255;
        }
        let person = vec![200u8; 4 * 4 + 2 * 2 * 2];
        let mut frame = vec![10u8; w * h + 2 * 4 * 2];
        paste_i420(&mut frame, (w, h), &person, &mask, 2);
        let luma = mask_from_channel(&frame[..w * h], w, (w, h), 1, 0, 100);
        assert_eq!(luma, placed(&mask, 2, w, h));
        // A chroma sample with two of its four luma pixels in the mask takes the person's.
        assert_eq!(&frame[w * h..w * h + 4], &[10, 200, 200, 10]);
    }

    #[test]
    fn scaling_keeps_flat_planes_flat_and_ramps_monotonic() {
        let plane = |width, height, data: Vec<u8>| Gray {
            width,
            height,
            data,
        };
        assert_eq!(resize(&plane(3, 2, vec![77; 6]), 7, 5).data, vec![77; 35]);
        let ramp: Vec<u8> = (0..4).map(|x| x * 60).collect();
        let up = resize(&plane(4, 1, ramp), 10, 1).data;
        assert!(up.windows(2).all(|p| p[0] <= p[1]), "{up:?}");
        assert_eq!((up[0], up[9]), (0, 180));
        assert_eq!(scale_i420(&[9; 6 * 4], (4, 4), (8, 6)).len(), 8 * 6 * 3 / 2);
    }

    #[test]
    fn relight_scales_luma_and_saturation() {
        let mut f = vec![100, 220, 0, 255, 128, 28];
        relight_i420(&mut f, (2, 2), LIGHT_GAIN);
        assert_eq!(f, vec![125, 255, 0, 255, 128, 3]);
    }

    #[test]
    fn noise_is_seeded_and_has_the_asked_spread() {
        let draw = |seed| {
            let mut g = Gaussian::new(seed);
            (0..100_000).map(|_| g.sample()).collect::<Vec<_>>()
        };
        let a = draw(1);
        assert_eq!(a, draw(1));
        assert_ne!(a, draw(2));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(
            mean.abs() < 0.02 && (var.sqrt() - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
    }
}
