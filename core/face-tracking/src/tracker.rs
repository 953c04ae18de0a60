// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Turns detections, which come every few frames and jitter, into tracks: stable ids, smoothed
//! boxes that follow motion between detections (template matching on the working image), short
//! misses bridged, and in owner mode one person followed by position and appearance.

use crate::appearance::Appearance;
use crate::detector::Detection;
use picture::Rect;
use picture::{Gray, WorkingFrame};

/// Which faces are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every face, largest first.
    #[default]
    All,
    /// Only the enrolled owner; the others are returned to be masked.
    Owner,
}

/// Who becomes the owner when none is enrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Enroll {
    /// The largest face, usually the person at the keyboard.
    #[default]
    Largest,
    /// The face that has been in the picture longest.
    First,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackerSettings {
    pub mode: Mode,
    pub enroll: Enroll,
    /// At most this many faces are reported (largest first).
    pub max_faces: usize,
    /// A face not detected for more than this many frames is gone.
    pub max_missed_frames: u32,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            mode: Mode::All,
            enroll: Enroll::Largest,
            max_faces: 8,
            max_missed_frames: 15,
        }
    }
}

/// A face as reported for one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Face {
    pub id: u64,
    pub rect: Rect,
    pub confidence: f32,
}

/// What one frame produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faces {
    /// Faces to report, largest first.
    pub reported: Vec<Face>,
    /// Faces present but not reported (owner mode): candidates for masking.
    pub others: Vec<Rect>,
}

// Association: a detection continues a track when their boxes overlap this much (after the
// track was moved to where its face went).
const MIN_IOU: f32 = 0.25;
// Detections this similar to an existing track are duplicates of it, not a new face.
const DUPLICATE_IOU: f32 = 0.5;
// Smoothing: how far a box moves towards each new detection. Offsets up to a tenth of the face
// are detector jitter (the cascade's boxes wobble by about that much on a still face) and get
// the low rate; from a third of the face on the track has lost its face and jumps to it.
const POSITION_RATE: f32 = 0.2;
const JITTER_OFFSET: f32 = 0.1;
const JUMP_OFFSET: f32 = 0.35;
const SIZE_RATE: f32 = 0.15;
// The reported box moves only when the filtered one is this fraction of the face away, so a
// still face gets a box that does not move at all.
const DEADBAND: f32 = 0.03;
// Appearance rules for the owner, as Bhattacharyya coefficients (see appearance.rs).
const OWNER_MIN_SIMILARITY: f32 = 0.55;
const OWNER_SWAP_MARGIN: f32 = 0.12;
const OWNER_LEARN_SIMILARITY: f32 = 0.75;
const OWNER_LEARN_RATE: f32 = 0.05;
// Template following: samples per template side, and the worst mean difference (after
// removing brightness) that still counts as the same face.
const TEMPLATE_SAMPLES: usize = 16;
const MAX_TEMPLATE_DIFFERENCE: f32 = 24.0;
const MAX_TRACKS: usize = 32;

/// The inner face, in working pixels, as it looked at the last detection.
type Template = Gray;

#[derive(Clone, Debug)]
struct Track {
    id: u64,
    /// Filtered position, updated every frame.
    rect: Rect,
    /// Reported position: follows `rect` outside a dead band.
    shown: Rect,
    velocity: (f32, f32),
    score: f32,
    hits: u32,
    /// Detection runs since the last match.
    misses: u32,
    last_seen: u64,
    template: Option<Template>,
    appearance: Option<Appearance>,
}

#[derive(Clone, Debug)]
struct Owner {
    /// The id reported for the owner, kept whatever track currently carries them.
    id: u64,
    track: Option<u64>,
    appearance: Appearance,
}

#[derive(Debug, Default)]
pub struct Tracker {
    tracks: Vec<Track>,
    next_id: u64,
    frame: u64,
    owner: Option<Owner>,
    enroll_requested: bool,
}

impl Tracker {
    pub fn new() -> Self {
        Tracker {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Forgets every face (new stream, new geometry); ids keep counting up.
    pub fn reset(&mut self) {
        self.tracks.clear();
        self.owner = None;
    }

    /// Drops the current owner; the next frame with a face enrolls a new one.
    pub fn request_enroll(&mut self) {
        self.enroll_requested = true;
    }

    /// The id reported for the owner, once enrolled.
    pub fn owner_id(&self) -> Option<u64> {
        self.owner.as_ref().map(|o| o.id)
    }

    /// Advances one frame. `detections` are this frame's (in frame pixels) when the detector
    /// ran, `None` on the frames in between.
    pub fn update(
        &mut self,
        frame: &WorkingFrame,
        detections: Option<&[Detection]>,
        settings: &TrackerSettings,
    ) -> Faces {
        self.frame += 1;
        for t in &mut self.tracks {
            follow_motion(t, frame);
        }
        if let Some(detections) = detections {
            self.associate(frame, detections);
        }
        let now = self.frame;
        self.tracks.retain(|t| {
            let unconfirmed_and_missed = t.hits < 2 && t.misses > 0;
            !unconfirmed_and_missed && now - t.last_seen <= settings.max_missed_frames as u64
        });
        match settings.mode {
            Mode::All => {
                self.owner = None;
                let mut reported: Vec<Face> = self.tracks.iter().map(Track::face).collect();
                reported.sort_by(|a, b| b.rect.area().total_cmp(&a.rect.area()));
                reported.truncate(settings.max_faces);
                Faces {
                    reported,
                    others: Vec::new(),
                }
            }
            Mode::Owner => self.follow_owner(detections.is_some(), settings),
        }
    }

    fn associate(&mut self, frame: &WorkingFrame, detections: &[Detection]) {
        let appearances: Vec<Appearance> = detections
            .iter()
            .map(|d| Appearance::measure(frame, &d.rect))
            .collect();
        let owner = self.owner.as_ref();
        // Candidate pairs scored by overlap, with appearance as the tie-breaker when people
        // are close; the owner's track only takes detections that look like the owner.
        let mut pairs = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            for (di, d) in detections.iter().enumerate() {
                let iou = t.rect.iou(&d.rect);
                if iou < MIN_IOU {
                    continue;
                }
                let looks = t
                    .appearance
                    .as_ref()
                    .map_or(0.5, |a| a.similarity(&appearances[di]));
                if let Some(o) = owner.filter(|o| o.track == Some(t.id)) {
                    if o.appearance.similarity(&appearances[di]) < OWNER_MIN_SIMILARITY {
                        continue;
                    }
                }
                pairs.push((iou + 0.5 * looks, ti, di));
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_taken = vec![false; self.tracks.len()];
        let mut detection_taken = vec![false; detections.len()];
        for (_, ti, di) in pairs {
            if track_taken[ti] || detection_taken[di] {
                continue;
            }
            track_taken[ti] = true;
            detection_taken[di] = true;
            let t = &mut self.tracks[ti];
            t.correct(&detections[di], frame, self.frame);
            match &mut t.appearance {
                Some(a) => a.blend(&appearances[di], 0.2),
                None => t.appearance = Some(appearances[di].clone()),
            }
        }
        for (ti, t) in self.tracks.iter_mut().enumerate() {
            if !track_taken[ti] {
                t.misses += 1;
            }
        }
        for (di, d) in detections.iter().enumerate() {
            let duplicate = self
                .tracks
                .iter()
                .any(|t| t.rect.iou(&d.rect) > DUPLICATE_IOU);
            if detection_taken[di] || duplicate || self.tracks.len() >= MAX_TRACKS {
                continue;
            }
            let mut t = Track {
                id: self.next_id,
                rect: d.rect,
                shown: d.rect,
                velocity: (0.0, 0.0),
                score: d.score,
                hits: 1,
                misses: 0,
                last_seen: self.frame,
                template: None,
                appearance: Some(appearances[di].clone()),
            };
            t.template = take_template(frame, &t.rect);
            self.next_id += 1;
            self.tracks.push(t);
        }
    }

    fn follow_owner(&mut self, detected: bool, settings: &TrackerSettings) -> Faces {
        if std::mem::take(&mut self.enroll_requested) {
            self.owner = None;
        }
        if self.owner.is_none() {
            let candidate = match settings.enroll {
                Enroll::Largest => self
                    .tracks
                    .iter()
                    .max_by(|a, b| a.rect.area().total_cmp(&b.rect.area())),
                Enroll::First => self.tracks.iter().min_by_key(|t| t.id),
            };
            if let Some(t) = candidate.filter(|t| t.appearance.is_some()) {
                self.owner = Some(Owner {
                    id: t.id,
                    track: Some(t.id),
                    appearance: t.appearance.clone().expect("filtered"),
                });
            }
        }
        let (tracks, now) = (&self.tracks, self.frame);
        if let Some(owner) = &mut self.owner {
            if owner
                .track
                .is_some_and(|id| !tracks.iter().any(|t| t.id == id))
            {
                owner.track = None;
            }
            if detected {
                rebind_owner(owner, tracks, now);
            }
        }
        let owner_track = self.owner.as_ref().and_then(|o| o.track);
        let mut faces = Faces::default();
        for t in &self.tracks {
            if Some(t.id) == owner_track {
                let id = self.owner.as_ref().map_or(t.id, |o| o.id);
                faces.reported.push(Face { id, ..t.face() });
            } else {
                faces.others.push(t.rect);
            }
        }
        faces
    }
}

/// Keeps the owner on the track that looks most like them: takes over a better-looking track
/// (after a crossing swapped boxes), finds them again after they left, and learns slowly.
fn rebind_owner(owner: &mut Owner, tracks: &[Track], now: u64) {
    let look = |t: &Track| {
        t.appearance
            .as_ref()
            .map_or(0.0, |a| owner.appearance.similarity(a))
    };
    let current = owner
        .track
        .and_then(|id| tracks.iter().find(|t| t.id == id));
    let current_look = current.map_or(0.0, look);
    let best_other = tracks
        .iter()
        .filter(|t| Some(t.id) != owner.track && t.last_seen == now)
        .map(|t| (look(t), t))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((other_look, other)) = best_other {
        // Leave a track only when it stopped looking like the owner (a crossing swapped the
        // boxes) and another clearly looks more like them.
        let current_doubtful = current_look < OWNER_MIN_SIMILARITY;
        let wanted = current_look + OWNER_SWAP_MARGIN;
        if current_doubtful && other_look >= OWNER_MIN_SIMILARITY && other_look > wanted {
            owner.track = Some(other.id);
            return;
        }
    }
    if let Some(t) = current.filter(|t| t.last_seen == now) {
        let alone = tracks
            .iter()
            .all(|o| o.id == t.id || o.rect.iou(&t.rect) == 0.0);
        if current_look >= OWNER_LEARN_SIMILARITY && alone {
            if let Some(a) = &t.appearance {
                owner.appearance.blend(a, OWNER_LEARN_RATE);
            }
        }
    }
}

impl Track {
    fn face(&self) -> Face {
        Face {
            id: self.id,
            rect: self.shown,
            confidence: self.score,
        }
    }

    /// Pulls the track towards a detection: jitter damped, real motion taken at once.
    fn correct(&mut self, d: &Detection, frame: &WorkingFrame, now: u64) {
        let (cx, cy) = self.rect.center();
        let (dx, dy) = d.rect.center();
        let offset = ((dx - cx).powi(2) + (dy - cy).powi(2)).sqrt() / self.rect.width.max(1.0);
        let ramp = ((offset - JITTER_OFFSET) / (JUMP_OFFSET - JITTER_OFFSET)).clamp(0.0, 1.0);
        let rate = POSITION_RATE + (1.0 - POSITION_RATE) * ramp;
        let size_change = (d.rect.width / self.rect.width.max(1.0) - 1.0).abs();
        let size_rate = (SIZE_RATE + size_change).min(1.0);
        let width = self.rect.width + (d.rect.width - self.rect.width) * size_rate;
        let height = self.rect.height + (d.rect.height - self.rect.height) * size_rate;
        let (ncx, ncy) = (cx + (dx - cx) * rate, cy + (dy - cy) * rate);
        self.rect = Rect::new(ncx - width / 2.0, ncy - height / 2.0, width, height);
        self.score += (d.score - self.score) * 0.5;
        self.hits += 1;
        self.misses = 0;
        self.last_seen = now;
        self.template = take_template(frame, &self.rect);
        self.settle();
    }

    /// Moves the reported box to the filtered one once they are a dead band apart, or at once
    /// while the face is moving (the band is for stillness, not to lag behind motion).
    fn settle(&mut self) {
        let (ax, ay) = self.rect.center();
        let (bx, by) = self.shown.center();
        let band = DEADBAND * self.shown.width.max(1.0);
        let moved = (ax - bx).abs().max((ay - by).abs());
        let resized = (self.rect.width - self.shown.width).abs();
        let speed = self.velocity.0.abs().max(self.velocity.1.abs());
        if moved > band || resized > 2.0 * band || speed > band / 2.0 {
            self.shown = self.rect;
        }
    }
}

/// The middle of the face (no background at the corners), in working pixels.
fn template_box(rect: &Rect, scale: f32) -> Rect {
    let r = rect.scaled(scale);
    Rect::new(
        r.x + r.width * 0.15,
        r.y + r.height * 0.1,
        r.width * 0.7,
        r.height * 0.8,
    )
}

fn take_template(frame: &WorkingFrame, rect: &Rect) -> Option<Template> {
    let luma = &frame.luma;
    let b = template_box(rect, frame.scale).to_pixels(luma.width as u32, luma.height as u32)?;
    if b.width < 4 || b.height < 4 {
        return None;
    }
    let mut patch = Gray::new(b.width as usize, b.height as usize);
    for y in 0..patch.height {
        let src = (b.y as usize + y) * luma.width + b.x as usize;
        patch.data[y * patch.width..(y + 1) * patch.width]
            .copy_from_slice(&luma.data[src..src + patch.width]);
    }
    Some(patch)
}

/// Moves a track to where its face went since the last frame: search around the position its
/// velocity predicts for the best brightness-normalised match of its template.
fn follow_motion(t: &mut Track, frame: &WorkingFrame) {
    follow_template(t, frame);
    t.settle();
}

fn follow_template(t: &mut Track, frame: &WorkingFrame) {
    let predicted = t.rect.translated(t.velocity.0, t.velocity.1);
    let Some(template) = &t.template else {
        t.rect = predicted;
        return;
    };
    let luma = &frame.luma;
    let b = template_box(&predicted, frame.scale);
    let (x0, y0) = (b.x.round() as i64, b.y.round() as i64);
    let step = (template.width.max(template.height) / TEMPLATE_SAMPLES).max(1) as i64;
    let radius = ((template.width as f32 * 0.25).ceil() as i64).max(3);
    let cost_at = |x: i64, y: i64| -> Option<f32> {
        let (tw, th) = (template.width as i64, template.height as i64);
        if x < 0 || y < 0 || x + tw > luma.width as i64 || y + th > luma.height as i64 {
            return None;
        }
        window_difference(luma, template, x as usize, y as usize, step as usize)
    };
    let mut best: Option<(f32, i64, i64)> = None;
    let consider = |x: i64, y: i64, best: &mut Option<(f32, i64, i64)>| {
        if let Some(c) = cost_at(x, y) {
            if best.is_none_or(|(bc, _, _)| c < bc) {
                *best = Some((c, x, y));
            }
        }
    };
    // Coarse search on the sampling grid, then refine around the best.
    for dy in (-radius..=radius).step_by(step as usize) {
        for dx in (-radius..=radius).step_by(step as usize) {
            consider(x0 + dx, y0 + dy, &mut best);
        }
    }
    if let Some((_, bx, by)) = best {
        for dy in -step + 1..step {
            for dx in -step + 1..step {
                consider(bx + dx, by + dy, &mut best);
            }
        }
    }
    match best {
        Some((cost, bx, by)) if cost <= MAX_TEMPLATE_DIFFERENCE => {
            let moved = (
                (bx as f32 - b.x) / frame.scale,
                (by as f32 - b.y) / frame.scale,
            );
            let step_x = t.velocity.0 + moved.0;
            let step_y = t.velocity.1 + moved.1;
            t.rect = predicted.translated(moved.0, moved.1);
            t.velocity = (
                0.5 * t.velocity.0 + 0.5 * step_x,
                0.5 * t.velocity.1 + 0.5 * step_y,
            );
        }
        _ => {
            t.rect = predicted;
            t.velocity = (t.velocity.0 * 0.5, t.velocity.1 * 0.5);
        }
    }
}

/// Mean absolute difference between the template and the window at (x, y), after removing each
/// one's mean brightness (so an exposure change is not a mismatch), on every `step`-th pixel.
fn window_difference(luma: &Gray, patch: &Gray, x: usize, y: usize, step: usize) -> Option<f32> {
    let mut sum_t = 0i64;
    let mut sum_w = 0i64;
    let mut n = 0i64;
    for py in (0..patch.height).step_by(step) {
        let row = (y + py) * luma.width + x;
        for px in (0..patch.width).step_by(step) {
            sum_t += patch.data[py * patch.width + px] as i64;
            sum_w += luma.data[row + px] as i64;
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let shift = (sum_w - sum_t) as f32 / n as f32;
    let mut diff = 0f32;
    for py in (0..patch.height).step_by(step) {
        let row = (y + py) * luma.width + x;
        for px in (0..patch.width).step_by(step) {
            let d = luma.data[row + px] as f32 - patch.data[py * patch.width + px] as f32 - shift;
            diff += d.abs();
        }
    }
    Some(diff / n as f32)
}
