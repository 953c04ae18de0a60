// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The pixeldiff encoder: conditional replenishment against the decoder's reconstruction.

use std::ops::Range;

use crate::format::{seal_chunk, ChunkHeader, Layout, HEADER_LEN, MB};
use crate::mbcode::{
    self, average_step, cell_means, code_mb, ChunkState, MbData, MbGeom, MbPixels, Mode,
    MotionVector,
};
use crate::motion::{self, Projections, Search};
use crate::picture::{InPlane, Picture, Reconstruction};
use crate::rangecoder::RangeEncoder;
use crate::transform::{self, QP_MAX};
use crate::Error;

/// Smallest chunk size the encoder accepts: one raw 4:4:4 macroblock (768 bytes) must fit with
/// the header and the coder's flush.
pub const MIN_MTU: usize = 900;
/// How much finer than the frame's quantiser refresh blocks of still content are coded.
const REFRESH_QP_OFFSET: u8 = 2;
/// Largest chunk size: the header's size field is 16 bits.
pub const MAX_MTU: usize = 65535;

/// How face (region of interest) rectangles steer the encoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoiMode {
    /// Rectangles are ignored.
    #[default]
    Off,
    /// Macroblocks inside rectangles are coded first, at a finer quantiser, and never averaged.
    Prioritize,
    /// Macroblocks outside rectangles are never sent.
    Only,
}

/// What to send for a frame without any rectangle when `RoiMode::Only` is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NoRoiAction {
    /// Code the frame as usual (nothing outside rectangles is sent, so nothing changes).
    #[default]
    Send,
    /// Send an empty frame: one header-only chunk.
    Skip,
}

/// A rectangle in pixels of the first plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Per-frame encoder settings; the element copies them from its properties for every frame.
#[derive(Clone, Copy, Debug)]
pub struct EncoderSettings {
    /// Reconstruct every frame bit-exactly (unless `threshold` > 0 is set explicitly).
    pub lossless: bool,
    /// 0 (smallest) to 100 (best) in lossy mode; with a target bitrate, the best allowed.
    pub quality: u8,
    /// Noise tolerance: RMS difference, in sample levels over an 8x8 block, below which a block
    /// counts as unchanged. Negative: automatic (0 when lossless, from the quantiser otherwise).
    pub threshold: f32,
    /// kbit/s; 0 lets `quality` alone decide.
    pub target_bitrate: u32,
    /// A keyframe every this many frames; 0: only at start and on request.
    pub key_int_max: u32,
    /// Unchanged macroblocks re-sent (self-contained) per frame; negative: enough to refresh the
    /// whole picture once a second.
    pub refresh_blocks: i32,
    /// Largest chunk in bytes.
    pub mtu: usize,
    pub roi_mode: RoiMode,
    pub no_roi_action: NoRoiAction,
    /// Percentage of moving macroblocks from which changed macroblocks are sent averaged
    /// (low resolution) and refined once motion stops; 100 disables it. Independently, a rate
    /// control far over its budget averages too.
    pub motion_threshold: u8,
    /// Threads coding a frame's macroblocks (into separate chunks); 1 codes on the caller's.
    pub threads: usize,
}

impl Default for EncoderSettings {
    fn default() -> Self {
        EncoderSettings {
            lossless: false,
            quality: 45,
            threshold: -1.0,
            target_bitrate: 0,
            key_int_max: 0,
            refresh_blocks: -1,
            mtu: 1200,
            roi_mode: RoiMode::Off,
            no_roi_action: NoRoiAction::Send,
            motion_threshold: 100,
            threads: 1,
        }
    }
}

/// One encoded frame: chunks back to back in `data`, and what it took.
#[derive(Clone, Debug, Default)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    /// Byte range of each chunk in `data`.
    pub chunks: Vec<Range<usize>>,
    pub keyframe: bool,
    /// No video at all (no rectangle and `NoRoiAction::Skip`).
    pub empty: bool,
    pub frame_number: u16,
    pub qp: u8,
    pub total_mbs: usize,
    /// Macroblocks that differed from the reconstruction.
    pub changed_mbs: usize,
    /// Macroblocks actually sent, of which refresh and averaged ones.
    pub coded_mbs: usize,
    pub refresh_mbs: usize,
    pub averaged_mbs: usize,
    /// Macroblocks sent Inter with a nonzero motion vector.
    pub moved_mbs: usize,
    /// The clean part of the gradual refresh after this frame, as a count of macroblocks from
    /// the first in raster order: refreshed since the current cycle began and predicted only
    /// from each other since. A receiver that lost nothing since the cycle began shows them
    /// exactly as the encoder does; it becomes the whole picture once a cycle.
    pub clean_mbs: usize,
}

/// Quantiser from the quality knob: 100 -> 0, 0 -> 51.
pub fn qp_for_quality(quality: u8) -> u8 {
    let q = quality.min(100) as u32;
    (((100 - q) * QP_MAX as u32 + 50) / 100) as u8
}

/// Buffer-based rate control: the quantiser follows the ratio of spent to budgeted bytes.
#[derive(Clone, Debug, Default)]
struct RateControl {
    qp: f64,
    /// Bytes sent beyond the budget so far (never negative, at most [`MAX_DEBT_FRAMES`] budgets).
    excess: f64,
}

/// The most excess the rate control carries, in frame budgets. What the encoder sent over its
/// budget at its coarsest (the target below what the content costs at QP 51, averaged) is not
/// paid back later: a larger debt would starve the picture for seconds once the target rises,
/// and then overshoot the new target all at once when it is paid.
const MAX_DEBT_FRAMES: f64 = 8.0;

impl RateControl {
    fn frame_budget(target_kbps: u32, fps: f64) -> f64 {
        target_kbps as f64 * 1000.0 / 8.0 / fps
    }

    fn update(&mut self, bytes: usize, budget: f64, floor_qp: u8) {
        self.excess = (self.excess + bytes as f64 - budget).clamp(0.0, MAX_DEBT_FRAMES * budget);
        // Drain the excess over about four frames.
        let wanted = (budget - self.excess / 4.0).max(budget / 4.0);
        // Bits roughly halve every 6 qp; move half way to the estimate to stay stable.
        let step = 3.0 * (bytes.max(1) as f64 / wanted).log2();
        self.qp = (self.qp + step.clamp(-2.0, 4.0)).clamp(floor_qp as f64, QP_MAX as f64);
    }
}

/// Encoder state for one stream layout.
pub struct Encoder {
    layout: Layout,
    geom: MbGeom,
    fps: f64,
    src: Picture,
    prev_src: Picture,
    /// Projections of `prev_src`, for the global motion estimate.
    prev_projections: Projections,
    recon: Reconstruction,
    /// Per macroblock: the vector it was last coded with (zero unless Inter), a candidate for
    /// the next frame's search.
    mvs: Vec<MotionVector>,
    frame: u16,
    frames_since_key: u32,
    started: bool,
    key_pending: bool,
    refresh_pos: usize,
    /// See [`EncodedFrame::clean_mbs`].
    clean_mbs: usize,
    rate: RateControl,
    /// Per macroblock: inside a face rectangle this frame.
    roi: Vec<bool>,
    /// Per macroblock: examined at `settled_qp` with nothing worth sending, and the source has
    /// not changed since, so it needs no work until the source or the quantiser changes.
    settled: Vec<bool>,
    settled_qp: u8,
}

/// What to do with one macroblock in this frame.
#[derive(Clone, Copy, Debug)]
struct Plan {
    index: u32,
    mode: Mode,
    qp: u8,
    refresh: bool,
    /// Inter: the vector the search chose.
    mv: MotionVector,
}

impl Encoder {
    /// A new encoder; `fps` is the stream's frame rate (0 or unknown: 30).
    pub fn new(layout: Layout, fps: f64) -> Self {
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            30.0
        };
        Encoder {
            layout,
            geom: MbGeom::new(&layout),
            fps,
            src: Picture::blank(layout),
            prev_src: Picture::blank(layout),
            prev_projections: Projections::default(),
            recon: Reconstruction::blank(layout),
            mvs: vec![MotionVector::ZERO; layout.mb_count()],
            frame: 0,
            frames_since_key: 0,
            started: false,
            key_pending: true,
            refresh_pos: 0,
            clean_mbs: 0,
            rate: RateControl::default(),
            roi: vec![false; layout.mb_count()],
            settled: vec![false; layout.mb_count()],
            settled_qp: 0,
        }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The encoder's copy of what a decoder shows (for tests and diagnostics).
    pub fn reconstruction(&self) -> &Picture {
        self.recon.shown()
    }

    /// Encode one frame. `rois` are face rectangles; `force_keyframe` asks for a keyframe.
    pub fn encode(
        &mut self,
        input: &[InPlane],
        rois: &[Rect],
        force_keyframe: bool,
        s: &EncoderSettings,
    ) -> Result<EncodedFrame, Error> {
        std::mem::swap(&mut self.src, &mut self.prev_src);
        self.src.import(input)?;
        self.recon.begin_frame();
        let mtu = s.mtu.clamp(MIN_MTU, MAX_MTU);
        let total = self.layout.mb_count();

        self.mark_rois(rois);
        let has_roi = self.roi.iter().any(|&r| r);
        let only = s.roi_mode == RoiMode::Only;
        self.key_pending |=
            force_keyframe || (s.key_int_max > 0 && self.frames_since_key + 1 >= s.key_int_max);
        let frame_number = self.frame;
        self.frame = self.frame.wrapping_add(1);

        if only && !has_roi && s.no_roi_action == NoRoiAction::Skip {
            // Keep a pending keyframe for the first frame that has video again.
            self.frames_since_key += 1;
            let chunk = OpenChunk::new(0).finish(&self.layout, false, 0, s.lossless);
            let mut f = self.assemble(vec![chunk], false, frame_number);
            f.empty = true;
            f.frame_number = frame_number;
            f.total_mbs = total;
            return Ok(f);
        }

        let keyframe = std::mem::take(&mut self.key_pending);
        // With a target bitrate, quality sets the finest quantiser the rate control may use.
        let quality_qp = qp_for_quality(s.quality);
        let base_qp = if s.target_bitrate > 0 && !s.lossless {
            if !self.started {
                self.rate.qp = quality_qp.max(26) as f64;
            }
            (self.rate.qp.round() as u8).max(quality_qp)
        } else {
            quality_qp
        };
        self.started = true;

        let (plans, changed) = self.plan(keyframe, base_qp, has_roi, s);
        let mut frame = self.code_plans(
            &plans,
            keyframe,
            base_qp,
            mtu,
            frame_number,
            s.lossless,
            s.threads,
        );
        frame.changed_mbs = changed;
        frame.clean_mbs = self.clean_mbs;
        frame.total_mbs = total;

        if keyframe {
            self.frames_since_key = 0;
        } else {
            self.frames_since_key += 1;
        }
        if s.target_bitrate > 0 {
            let budget = RateControl::frame_budget(s.target_bitrate, self.fps);
            self.rate.update(frame.data.len(), budget, quality_qp);
        }
        Ok(frame)
    }

    fn mark_rois(&mut self, rois: &[Rect]) {
        self.roi.fill(false);
        let cols = self.layout.mb_cols();
        let rows = self.layout.mb_rows();
        for r in rois {
            if r.width == 0 || r.height == 0 {
                continue;
            }
            let x0 = (r.x as usize / MB).min(cols);
            let y0 = (r.y as usize / MB).min(rows);
            let x1 = ((r.x as usize).saturating_add(r.width as usize))
                .div_ceil(MB)
                .min(cols);
            let y1 = ((r.y as usize).saturating_add(r.height as usize))
                .div_ceil(MB)
                .min(rows);
            for y in y0..y1 {
                self.roi[y * cols + x0..y * cols + x1].fill(true);
            }
        }
    }

    /// Noise tolerance as a bound on an 8x8 block's sum of squared differences.
    fn skip_bound(&self, s: &EncoderSettings, qp: u8) -> u32 {
        let rms = if s.threshold >= 0.0 {
            s.threshold as f64
        } else if s.lossless {
            0.0
        } else {
            // About a third of the quantiser step: below that, coding the change buys little.
            transform::dequant_scale(qp) as f64 / 16.0 / 3.0
        };
        (64.0 * rms * rms) as u32
    }

    /// Decide which macroblocks to send and how. Returns the plans, in sending order, and the
    /// number of macroblocks that differed from the reconstruction.
    fn plan(
        &mut self,
        keyframe: bool,
        base_qp: u8,
        has_roi: bool,
        s: &EncoderSettings,
    ) -> (Vec<Plan>, usize) {
        let total = self.layout.mb_count();
        let only = s.roi_mode == RoiMode::Only;
        let prioritize = s.roi_mode == RoiMode::Prioritize && has_roi;
        let qp_for = |roi: bool| -> u8 {
            match (prioritize, roi) {
                (true, true) => base_qp.saturating_sub(4),
                (true, false) => (base_qp + 2).min(QP_MAX),
                _ => base_qp,
            }
        };
        let eligible = |roi: bool| !only || roi;

        let projections = Projections::of(&self.src);
        let global = motion::global_motion(&projections, &self.prev_projections);
        self.prev_projections = projections;
        if keyframe {
            self.recon.clear();
            self.settled.fill(false);
            self.mvs.fill(MotionVector::ZERO);
            // The walk starts over: the next frame begins a refresh cycle.
            self.refresh_pos = 0;
            self.clean_mbs = total;
            let plans: Vec<Plan> = (0..total)
                .filter(|&i| eligible(self.roi[i]))
                .map(|i| Plan {
                    index: i as u32,
                    mode: Mode::Intra,
                    qp: qp_for(self.roi[i]),
                    refresh: false,
                    mv: MotionVector::ZERO,
                })
                .collect();
            let n = plans.len();
            return (self.order(plans, prioritize), n);
        }

        let exact = s.lossless && s.threshold <= 0.0;
        let bound = self.skip_bound(s, base_qp);
        if self.settled_qp != base_qp {
            self.settled.fill(false);
            self.settled_qp = base_qp;
        }
        let mut changed = vec![false; total];
        let mut differs = Vec::new();
        self.src.differing_mbs(&self.prev_src, &mut differs);
        let mut moving = 0usize;
        let check_motion = s.motion_threshold < 100 && (!s.lossless || s.target_bitrate > 0);
        // Moving: an 8x8 luma block changed by more than 4 levels RMS since the previous frame.
        let motion_bound = 64 * 4 * 4;
        for (i, c) in changed.iter_mut().enumerate() {
            if !eligible(self.roi[i]) {
                continue;
            }
            let still = !differs[i];
            if still && self.settled[i] {
                continue;
            }
            let previous = self.recon.previous();
            *c = if exact {
                !self.src.mb_equal(previous, i)
            } else {
                self.src.mb_max_block_sse(previous, i, false) > bound
            };
            self.settled[i] = !*c;
            if check_motion
                && !still
                && self.src.mb_max_block_sse(&self.prev_src, i, true) > motion_bound
            {
                moving += 1;
            }
        }
        let n_changed = changed.iter().filter(|&&c| c).count();
        let over_budget = s.target_bitrate > 0
            && self.rate.excess > 4.0 * RateControl::frame_budget(s.target_bitrate, self.fps);
        let degrade =
            check_motion && (moving * 100 >= s.motion_threshold as usize * total) || over_budget;

        // Cyclic refresh: walk the picture, a few macroblocks per frame.
        let refresh_n = if s.refresh_blocks < 0 {
            let fps = self.fps.round().max(1.0) as usize;
            let per_frame = total.div_ceil(fps);
            // A keyframe is the largest thing sent, so the likeliest to lose packets: for a
            // second after one, refresh twice as fast, so that a receiver that lost it is
            // whole one second later even if it also lost the first half of that second.
            if (self.frames_since_key as usize) < fps {
                2 * per_frame
            } else {
                per_frame
            }
        } else {
            (s.refresh_blocks as usize).min(total)
        };
        let mut refresh = vec![false; total];
        for k in 0..refresh_n {
            refresh[(self.refresh_pos + k) % total] = true;
        }
        // Gradual decoding refresh: the macroblocks the walk passed since it last started at
        // macroblock 0 are clean (they hold nothing from before the cycle began) and stay
        // clean by predicting only from each other. When the walk wraps in this frame, what it
        // refreshes is all the new cycle holds, and all of it is intra.
        let clean_before = if refresh_n == 0 || self.refresh_pos + refresh_n > total {
            0
        } else {
            self.refresh_pos
        };
        let end = self.refresh_pos + refresh_n;
        self.clean_mbs = match refresh_n {
            0 => 0,
            n if n >= total => total,
            _ if end > total => end - total,
            _ => end,
        };
        self.refresh_pos = end % total.max(1);

        let cols = self.layout.mb_cols();
        let lambda4 = motion::lambda4(base_qp);
        let mut source = MbPixels::default();
        let mut plans = Vec::new();
        for i in 0..total {
            let roi = self.roi[i];
            if !eligible(roi) || !(changed[i] || refresh[i]) {
                self.mvs[i] = MotionVector::ZERO;
                continue;
            }
            // Refresh of a block that did not change (a changed one is coded anyway).
            let still_refresh = refresh[i] && !changed[i];
            let mode = if refresh[i] {
                Mode::Intra
            } else if degrade && !(prioritize && roi) {
                Mode::Average
            } else {
                Mode::Inter
            };
            let mut mv = MotionVector::ZERO;
            if mode == Mode::Inter {
                self.src.load_mb(i, &mut source);
                // Neighbours already searched this frame, the same place last frame, and the
                // whole picture's motion.
                let left = if i % cols > 0 {
                    self.mvs[i - 1]
                } else {
                    global
                };
                let above = if i >= cols {
                    self.mvs[i - cols]
                } else {
                    global
                };
                let search = Search {
                    reference: self.recon.previous(),
                    source: &source.0[..MB * MB],
                    mb: i,
                    lambda4,
                    predictor: left,
                    clean_before,
                };
                mv = search.run(&[global, left, above, self.mvs[i]]).0;
            }
            self.mvs[i] = mv;
            plans.push(Plan {
                index: i as u32,
                mode,
                mv,
                // Refresh re-sends still blocks that will then stay on screen for a second or
                // more: a finer quantiser pays back (with motion compensation, -2 measured best on
                // akiyo and LivePortrait, 1.5 % fewer bits than -4 at equal PSNR; 0 and -6 worse).
                qp: if still_refresh {
                    qp_for(roi).saturating_sub(REFRESH_QP_OFFSET)
                } else {
                    qp_for(roi)
                },
                refresh: still_refresh,
            });
        }
        (self.order(plans, prioritize), n_changed)
    }

    /// With prioritize, macroblocks inside rectangles go first.
    fn order(&self, plans: Vec<Plan>, prioritize: bool) -> Vec<Plan> {
        if !prioritize {
            return plans;
        }
        let (mut first, rest): (Vec<Plan>, Vec<Plan>) =
            plans.into_iter().partition(|p| self.roi[p.index as usize]);
        first.extend(rest);
        first
    }

    /// Code the planned macroblocks into chunks of at most `mtu` bytes and update the
    /// reconstruction, on `threads` threads: each codes a contiguous share of the plans into
    /// chunks of its own (chunks never depend on each other, and every prediction reads the
    /// previous picture, which no thread writes).
    #[allow(clippy::too_many_arguments)]
    fn code_plans(
        &mut self,
        plans: &[Plan],
        keyframe: bool,
        qp: u8,
        mtu: usize,
        frame_number: u16,
        lossless: bool,
        threads: usize,
    ) -> EncodedFrame {
        let (previous, mut shown) = self.recon.split();
        let coder = FrameCoder {
            layout: self.layout,
            geom: self.geom,
            src: &self.src,
            previous,
            keyframe,
            qp,
            mtu,
            lossless,
        };
        // Below a few rows of macroblocks per thread, starting threads costs more than it saves.
        let threads = threads.clamp(1, plans.len().div_ceil(MIN_PLANS_PER_THREAD).max(1));
        let mut slices = Vec::with_capacity(threads);
        if threads == 1 {
            slices.push(coder.code_slice(plans, &mut |i, px| shown.store_mb(i, px)));
        } else {
            let share = plans.len().div_ceil(threads);
            // Every share but the first on a thread of its own; the first on this one.
            let code = |part: &[Plan]| {
                let mut out = Vec::with_capacity(part.len());
                let slice = coder.code_slice(part, &mut |i, px| out.push((i, px.clone())));
                (slice, out)
            };
            let mut parts = plans.chunks(share);
            let first = parts.next().unwrap_or_default();
            let coded: Vec<(Slice, Vec<(usize, MbPixels)>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = parts.map(|part| scope.spawn(move || code(part))).collect();
                let mut coded = vec![code(first)];
                coded.extend(
                    workers
                        .into_iter()
                        .map(|w| w.join().expect("an encoder thread panicked")),
                );
                coded
            });
            for (slice, out) in coded {
                for (i, px) in &out {
                    shown.store_mb(*i, px);
                }
                slices.push(slice);
            }
        }
        let mut chunks = Vec::new();
        let mut f = EncodedFrame::default();
        for slice in slices {
            for (i, settled) in slice.settled {
                self.settled[i as usize] = settled;
            }
            chunks.extend(slice.chunks);
            f.coded_mbs += slice.coded_mbs;
            f.refresh_mbs += slice.refresh_mbs;
            f.averaged_mbs += slice.averaged_mbs;
            f.moved_mbs += slice.moved_mbs;
        }
        if chunks.is_empty() {
            // A frame where nothing changed still says so (a header-only chunk), keeping the
            // frame counter visible.
            chunks.push(OpenChunk::new(0).finish(&self.layout, keyframe, qp, lossless));
        }
        let stats = f;
        let mut f = self.assemble(chunks, keyframe, frame_number);
        f.qp = qp;
        f.coded_mbs = stats.coded_mbs;
        f.refresh_mbs = stats.refresh_mbs;
        f.averaged_mbs = stats.averaged_mbs;
        f.moved_mbs = stats.moved_mbs;
        f.frame_number = frame_number;
        f
    }

    /// Number the chunks, seal them and concatenate.
    fn assemble(
        &self,
        mut chunks: Vec<Vec<u8>>,
        keyframe: bool,
        frame_number: u16,
    ) -> EncodedFrame {
        let count = chunks.len() as u16;
        let mut data = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
        let mut ranges = Vec::with_capacity(chunks.len());
        for (k, chunk) in chunks.iter_mut().enumerate() {
            chunk[14..16].copy_from_slice(&frame_number.to_le_bytes());
            chunk[16..18].copy_from_slice(&(k as u16).to_le_bytes());
            chunk[18..20].copy_from_slice(&count.to_le_bytes());
            seal_chunk(chunk);
            ranges.push(data.len()..data.len() + chunk.len());
            data.extend_from_slice(chunk);
        }
        EncodedFrame {
            data,
            chunks: ranges,
            keyframe,
            ..Default::default()
        }
    }
}

/// Fewest planned macroblocks worth a thread of their own.
const MIN_PLANS_PER_THREAD: usize = 64;

/// What the macroblocks of one frame are coded from: the source, the previous picture, and the
/// frame's settings. Shared read-only by the threads that code it.
struct FrameCoder<'a> {
    layout: Layout,
    geom: MbGeom,
    src: &'a Picture,
    previous: &'a Picture,
    keyframe: bool,
    qp: u8,
    mtu: usize,
    lossless: bool,
}

/// The chunks one thread coded, and what it learnt about its macroblocks.
#[derive(Default)]
struct Slice {
    chunks: Vec<Vec<u8>>,
    /// Macroblocks examined: true when there was nothing to send (settled until the source
    /// changes), false when coded.
    settled: Vec<(u32, bool)>,
    coded_mbs: usize,
    refresh_mbs: usize,
    averaged_mbs: usize,
    moved_mbs: usize,
}

impl FrameCoder<'_> {
    /// Work out a macroblock's coded data (`w.mb`) and its reconstruction (`w.out`). Returns
    /// false when coding it would change nothing (the decoder already shows what it would).
    fn prepare_mb(&self, plan: &Plan, w: &mut MbWork) -> bool {
        let (geom, lossless) = (&self.geom, self.lossless);
        let i = plan.index as usize;
        self.src.load_mb(i, &mut w.src);
        let mv = if plan.mode == Mode::Inter {
            plan.mv
        } else {
            MotionVector::ZERO
        };
        self.previous.predict_mb(i, mv, &mut w.reference);
        w.mb.index = plan.index;
        w.mb.mode = plan.mode;
        w.mb.qp = plan.qp;
        w.mb.mv = mv;

        if plan.mode == Mode::Average {
            let step = average_step(lossless, plan.qp);
            let (s, r) = (cell_means(geom, &w.src), cell_means(geom, &w.reference));
            let cells = geom.total / 16;
            let mut any = false;
            for k in 0..cells {
                let d = s[k] - r[k];
                w.mb.vals[k] = (d + d.signum() * step / 2) / step;
                any |= w.mb.vals[k] != 0;
            }
            if any {
                mbcode::reconstruct(geom, lossless, &w.mb, &w.reference, &mut w.out);
                return true;
            }
            // The averages already match: refine at full resolution instead.
            w.mb.mode = Mode::Inter;
            w.mb.mv = MotionVector::ZERO;
        } else if plan.mode == Mode::Inter && prefer_intra(geom, &w.src, &w.reference) {
            w.mb.mode = Mode::Intra;
        }
        self.prepare_full(w)
    }

    /// Inter or Intra at full resolution, into `w` as for [`Self::prepare_mb`].
    fn prepare_full(&self, w: &mut MbWork) -> bool {
        let (geom, lossless) = (&self.geom, self.lossless);
        let n = geom.total;
        let inter = w.mb.mode == Mode::Inter;
        if lossless {
            w.out.0[..n].copy_from_slice(&w.src.0[..n]);
            for p in 0..geom.planes {
                let side = geom.side[p];
                let r = geom.offset[p]..geom.offset[p] + side * side;
                mbcode::lossless_pass(
                    inter,
                    side,
                    &w.reference.0[r.clone()],
                    &mut w.out.0[r.clone()],
                    &mut w.mb.vals[r],
                    true,
                );
            }
            // An Inter block with no residual still moves its picture if it has a vector.
            return !(inter
                && w.mb.mv == MotionVector::ZERO
                && w.mb.vals[..n].iter().all(|&v| v == 0));
        }
        // Rounding offsets in 1/64 step, tuned on akiyo: inter favours zeros (most small inter
        // changes are noise), intra rounds nearly to nearest.
        let dead_zone = if inter { 11 } else { 30 };
        let step = transform::dequant_scale(w.mb.qp) as i64;
        let zero_bound = step * (64 - dead_zone as i64) / 64;
        let mut any = false;
        for p in 0..geom.planes {
            let side = geom.side[p];
            let per_row = side / 8;
            for b in 0..per_row * per_row {
                let (bx, by) = ((b % per_row) * 8, (b / per_row) * 8);
                let mut residual = [0i32; 64];
                for y in 0..8 {
                    let row = geom.offset[p] + (by + y) * side + bx;
                    let src: &[u8; 8] = w.src.0[row..row + 8].try_into().expect("8 samples");
                    let pred: [u8; 8] = if inter {
                        w.reference.0[row..row + 8].try_into().expect("8 samples")
                    } else {
                        [128; 8]
                    };
                    for x in 0..8 {
                        residual[y * 8 + x] = src[x] as i32 - pred[x] as i32;
                    }
                }
                // Parseval: no coefficient (16x orthonormal) exceeds 16 * sqrt(energy), so
                // below this bound every level quantises to 0 and the transform can be skipped.
                // At most 64 * 255^2: fits i32, which vectorises.
                let energy = residual.iter().map(|&r| r * r).sum::<i32>() as i64;
                let mut levels = if 256 * energy * 5 / 4 < zero_bound * zero_bound {
                    [0; 64]
                } else {
                    transform::quantize(&transform::forward(&residual), w.mb.qp, dead_zone)
                };
                if inter && decimation_score(&levels) < 6 {
                    levels = [0; 64];
                }
                any |= levels.iter().any(|&l| l != 0);
                w.mb.vals[geom.offset[p] + b * 64..][..64].copy_from_slice(&levels);
            }
        }
        if inter && !any && w.mb.mv == MotionVector::ZERO {
            return false;
        }
        mbcode::reconstruct(geom, false, &w.mb, &w.reference, &mut w.out);
        true
    }

    /// Code `plans` into chunks, handing each coded macroblock's reconstruction to `commit`.
    fn code_slice(&self, plans: &[Plan], commit: &mut dyn FnMut(usize, &MbPixels)) -> Slice {
        let (geom, lossless, qp) = (self.geom, self.lossless, self.qp);
        let raw_bytes = geom.total;
        let mut slice = Slice::default();
        let mut open: Option<OpenChunk> = None;
        let finish = |chunk: OpenChunk| chunk.finish(&self.layout, self.keyframe, qp, lossless);

        // Scratch reused for every macroblock: filling fresh buffers cost more than the coding.
        let mut w = MbWork {
            src: MbPixels::default(),
            reference: MbPixels::default(),
            out: MbPixels::default(),
            mb: MbData::new(0, Mode::Inter, qp),
        };
        for plan in plans {
            if !self.prepare_mb(plan, &mut w) {
                // Nothing this quantiser can improve: leave it until the source changes.
                slice.settled.push((plan.index, true));
                continue;
            }
            let mb = &mut w.mb;
            slice.settled.push((plan.index, false));
            slice.coded_mbs += 1;
            slice.refresh_mbs += plan.refresh as usize;
            slice.averaged_mbs += (mb.mode == Mode::Average) as usize;
            slice.moved_mbs += (mb.mode == Mode::Inter && mb.mv != MotionVector::ZERO) as usize;
            // Chunks carry increasing macroblock indices.
            if open
                .as_ref()
                .is_some_and(|c| c.last_index >= mb.index as i64)
            {
                slice.chunks.push(finish(open.take().expect("open chunk")));
            }
            loop {
                let chunk = open.get_or_insert_with(|| OpenChunk::new(mb.index));
                let mark = chunk.enc.mark();
                let saved = chunk.state.clone();
                let before = chunk.enc.len_bound();
                code_mb(&mut chunk.enc, &mut chunk.state, &geom, lossless, qp, mb);
                let used = chunk.enc.len_bound() - before;
                if mb.mode != Mode::Raw && used > raw_bytes + 2 {
                    // Noise costs more than the samples themselves: send them raw.
                    chunk.enc.reset_to(mark);
                    chunk.state = saved;
                    mb.mode = Mode::Raw;
                    for k in 0..raw_bytes {
                        mb.vals[k] = w.src.0[k] as i32;
                    }
                    w.out.0[..raw_bytes].copy_from_slice(&w.src.0[..raw_bytes]);
                    continue;
                }
                if chunk.enc.len_bound() > self.mtu && chunk.count > 0 {
                    chunk.enc.reset_to(mark);
                    chunk.state = saved;
                    slice.chunks.push(finish(open.take().expect("open chunk")));
                    continue;
                }
                chunk.count += 1;
                chunk.last_index = mb.index as i64;
                break;
            }
            commit(mb.index as usize, &w.out);
        }
        if let Some(chunk) = open.take() {
            slice.chunks.push(finish(chunk));
        }
        slice
    }
}

/// Per-macroblock scratch of the encoder.
struct MbWork {
    src: MbPixels,
    reference: MbPixels,
    out: MbPixels,
    mb: MbData,
}

/// A chunk being filled.
struct OpenChunk {
    enc: RangeEncoder,
    state: ChunkState,
    first_mb: u32,
    count: u16,
    last_index: i64,
}

impl OpenChunk {
    fn new(first_mb: u32) -> Self {
        OpenChunk {
            enc: RangeEncoder::new(vec![0u8; HEADER_LEN]),
            state: ChunkState::new(first_mb),
            first_mb,
            count: 0,
            last_index: -1,
        }
    }

    fn finish(self, layout: &Layout, keyframe: bool, qp: u8, lossless: bool) -> Vec<u8> {
        let mut out = self.enc.finish(HEADER_LEN);
        ChunkHeader {
            size: out.len() as u16,
            keyframe,
            lossless,
            layout: *layout,
            frame: 0,
            chunk_index: 0,
            chunk_count: 1,
            qp,
            first_mb: self.first_mb,
            mb_count: self.count,
        }
        .write(&mut out);
        out
    }
}

/// Scene cuts and uncovered background: intra when the source is flatter than its difference to
/// the reference.
fn prefer_intra(geom: &MbGeom, src: &MbPixels, reference: &MbPixels) -> bool {
    let n = geom.total;
    let inter: u32 = src.0[..n]
        .iter()
        .zip(&reference.0[..n])
        .map(|(&a, &b)| (a as i32 - b as i32).unsigned_abs())
        .sum();
    let mut intra = 0u32;
    for p in 0..geom.planes {
        let side = geom.side[p];
        let plane = &src.0[geom.offset[p]..geom.offset[p] + side * side];
        let mean = plane.iter().map(|&v| v as u32).sum::<u32>() / (side * side) as u32;
        intra += plane
            .iter()
            .map(|&v| (v as i32 - mean as i32).unsigned_abs())
            .sum::<u32>();
    }
    // Intra pays for its DC and loses the reference's detail: demand a clear win.
    intra + 4 * (n as u32) < inter
}

/// How much an inter block's levels are worth keeping: blocks holding only a few scattered +-1
/// levels cost more bits than the error they remove (the "decimation" of H.264 encoders).
/// Any level above 1 makes the block worth keeping.
fn decimation_score(levels: &[i32; 64]) -> u32 {
    const BY_RUN: [u32; 7] = [3, 2, 2, 1, 1, 1, 0];
    let mut score = 0;
    let mut run = 0;
    for &l in levels.iter().rev().skip_while(|&&l| l == 0) {
        match l.unsigned_abs() {
            0 => run += 1,
            1 => {
                score += BY_RUN[run.min(6)];
                run = 0;
            }
            _ => return u32::MAX,
        }
    }
    score
}
