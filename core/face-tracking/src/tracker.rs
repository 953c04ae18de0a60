// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Turns detections, which come every few frames and jitter, into tracks: stable ids, smoothed
//! boxes that follow motion between detections (template matching on the working image), short
//! misses bridged, and in owner mode one person followed by identity (face descriptors, see
//! [`crate::identity`]) and failing closed: a face is reported as the owner only while its
//! track is the one identity last said is the owner and nothing since cast doubt on it.

use crate::appearance::Appearance;
use crate::detector::Detection;
use crate::identity::{is_frontal, Descriptor};
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
    /// Owner mode: a face whose descriptor lies closer than this to one of the owner's is them
    /// (euclidean distance; see `faceroi-bench` for the false accepts and rejects it gives).
    pub identity_threshold: f32,
}

/// The identity threshold faceroi-bench measured: no stranger of the shared clips and photos
/// accepted as one of the clips' people, a false reject in about one comparison in eight.
pub const DEFAULT_IDENTITY_THRESHOLD: f32 = 0.45;

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            mode: Mode::All,
            enroll: Enroll::Largest,
            max_faces: 8,
            max_missed_frames: 15,
            identity_threshold: DEFAULT_IDENTITY_THRESHOLD,
        }
    }
}

/// Describes this frame's detected faces on request (owner mode), from the full-resolution
/// picture; `None` when it cannot.
pub trait Identify {
    fn describe(&mut self, face: &Detection) -> Option<Descriptor>;
}

/// No identity: owner mode then never finds the owner and masks every face.
pub struct NoIdentity;

impl Identify for NoIdentity {
    fn describe(&mut self, _: &Detection) -> Option<Descriptor> {
        None
    }
}

impl<F: FnMut(&Detection) -> Option<Descriptor>> Identify for F {
    fn describe(&mut self, face: &Detection) -> Option<Descriptor> {
        self(face)
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
// Owner identity. A detection that looks this little like its track (Bhattacharyya
// coefficient of colour histograms, see appearance.rs) may be another person in its place.
const DOUBT_SIMILARITY: f32 = 0.6;
// A template match this much worse than the track's usual one means the face changed.
const DOUBT_COST_RATIO: f32 = 2.5;
const DOUBT_MIN_COST: f32 = 10.0;
// How often identity is checked again, in frames: the owner's track, strangers while the
// owner is in view, and strangers while the owner is missing. Faces that came within this
// margin of the threshold are checked at every detection while the owner is missing: the
// owner seen at an awkward angle, most likely.
const OWNER_RECHECK_FRAMES: u64 = 30;
const STRANGER_RECHECK_FRAMES: u64 = 90;
const SEARCH_RECHECK_FRAMES: u64 = 30;
const NEAR_MARGIN: f32 = 0.2;
// At most this many descriptors a detection run: bounds the cost with many faces in view.
const MAX_CHECKS_PER_RUN: usize = 2;
// Descriptors of the owner kept to compare with (the enrolled one and the latest learnt):
// learnt only from checks this far inside the threshold, so a stranger is never learnt.
// Learnt only from a track identity had already put the owner on, checked again without
// doubt and found within the threshold: two confirmations, so a stranger is not learnt.
const GALLERY_SIZE: usize = 8;
// The owner's own track, checked without doubt, keeps them up to this far past the threshold
// (track continuity is evidence too); a track in doubt gets the threshold itself.
const KEEP_MARGIN: f32 = 0.1;
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
    /// Mean template-match cost while following: what "the same face" costs for this track.
    usual_cost: Option<f32>,
    /// This frame's detection, by index, when one continued the track.
    matched: Option<usize>,
    identity: Verdict,
    /// Frame and distance to the owner of the last identity check.
    checked_at: Option<u64>,
    distance: f32,
    /// Something happened that another person could be behind (a jump in the face's look, a
    /// crossing): the verdict stands only after the next check.
    doubt: bool,
    /// The frame doubt last arose: one early detection is asked for then, not on every frame
    /// the doubt lasts (a covered face is not found however often the detector runs).
    doubted_at: Option<u64>,
}

/// What identity last said about a track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Unknown,
    Owner,
    Stranger,
}

#[derive(Clone, Debug)]
struct Owner {
    /// The id reported for the owner, kept whatever track currently carries them.
    id: u64,
    /// The track identity last put the owner on.
    track: Option<u64>,
    /// The enrolled descriptor first, then the latest learnt ones.
    gallery: Vec<Descriptor>,
    /// Distance of the last check that found the owner (0 for the face enrolled).
    distance: Option<f32>,
}

impl Owner {
    fn distance(&self, d: &Descriptor) -> f32 {
        self.gallery
            .iter()
            .map(|g| g.distance(d))
            .fold(f32::INFINITY, f32::min)
    }

    fn learn(&mut self, d: Descriptor) {
        if self.gallery.len() >= GALLERY_SIZE {
            self.gallery.remove(1);
        }
        self.gallery.push(d);
    }
}

/// Where owner mode stands, for messages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OwnerStatus {
    /// The id reported for the owner, once enrolled.
    pub id: Option<u64>,
    /// The owner's face is reported this frame.
    pub present: bool,
    /// Distance of the last check that found them (0 when enrolled from this stream, `None`
    /// before a check found them).
    pub distance: Option<f32>,
}

#[derive(Debug, Default)]
pub struct Tracker {
    tracks: Vec<Track>,
    next_id: u64,
    frame: u64,
    owner: Option<Owner>,
    /// The owner's descriptor from a photo: enrolment starts from it instead of a face here.
    photo: Option<Descriptor>,
    enroll_requested: bool,
    wants_detection: bool,
}

impl Tracker {
    pub fn new() -> Self {
        Tracker {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Forgets every face (new stream, new geometry); ids keep counting up. Who the owner is
    /// stays: only where they are is forgotten.
    pub fn reset(&mut self) {
        self.tracks.clear();
        if let Some(o) = &mut self.owner {
            o.track = None;
        }
    }

    /// Drops the current owner; the next frame with a face enrolls a new one (or the photo's
    /// descriptor, when one was given).
    pub fn request_enroll(&mut self) {
        self.enroll_requested = true;
    }

    /// Enrols the owner from a descriptor of their photo, replacing any owner.
    pub fn set_owner_photo(&mut self, photo: Option<Descriptor>) {
        self.photo = photo;
        self.owner = None;
        self.enroll_requested = true;
    }

    /// The id reported for the owner, once enrolled.
    pub fn owner_id(&self) -> Option<u64> {
        self.owner.as_ref().map(|o| o.id)
    }

    /// Where owner mode stands after the last frame.
    pub fn owner_status(&self) -> OwnerStatus {
        let present = self.owner.as_ref().is_some_and(|o| {
            o.track
                .is_some_and(|id| self.tracks.iter().any(|t| t.id == id && t.shows_owner()))
        });
        OwnerStatus {
            id: self.owner_id(),
            present,
            distance: self.owner.as_ref().and_then(|o| o.distance),
        }
    }

    /// True when the owner's track is in doubt: the detector (and identity) should run on the
    /// next frame rather than wait for its interval.
    pub fn wants_detection(&self) -> bool {
        self.wants_detection
    }

    /// Advances one frame without identity (every mode but owner).
    pub fn update(
        &mut self,
        frame: &WorkingFrame,
        detections: Option<&[Detection]>,
        settings: &TrackerSettings,
    ) -> Faces {
        self.update_with(frame, detections, &mut NoIdentity, settings)
    }

    /// Advances one frame. `detections` are this frame's (in frame pixels) when the detector
    /// ran, `None` on the frames in between; `identity` describes them in owner mode.
    pub fn update_with(
        &mut self,
        frame: &WorkingFrame,
        detections: Option<&[Detection]>,
        identity: &mut dyn Identify,
        settings: &TrackerSettings,
    ) -> Faces {
        self.frame += 1;
        for t in &mut self.tracks {
            t.matched = None;
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
                // Owner mode, when it comes back, enrols afresh (from the photo, if any).
                if self.owner.take().is_some() {
                    self.enroll_requested = true;
                }
                let mut reported: Vec<Face> = self.tracks.iter().map(Track::face).collect();
                reported.sort_by(|a, b| b.rect.area().total_cmp(&a.rect.area()));
                reported.truncate(settings.max_faces);
                Faces {
                    reported,
                    others: Vec::new(),
                }
            }
            Mode::Owner => self.follow_owner(detections.unwrap_or(&[]), identity, settings),
        }
    }

    fn associate(&mut self, frame: &WorkingFrame, detections: &[Detection]) {
        let appearances: Vec<Appearance> = detections
            .iter()
            .map(|d| Appearance::measure(frame, &d.rect))
            .collect();
        // Candidate pairs scored by overlap, with appearance as the tie-breaker when people
        // are close.
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
                pairs.push((iou + 0.5 * looks, ti, di, looks));
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_taken = vec![false; self.tracks.len()];
        let mut detection_taken = vec![false; detections.len()];
        for (_, ti, di, looks) in pairs {
            if track_taken[ti] || detection_taken[di] {
                continue;
            }
            track_taken[ti] = true;
            detection_taken[di] = true;
            let t = &mut self.tracks[ti];
            t.matched = Some(di);
            t.doubt |= looks < DOUBT_SIMILARITY;
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
                usual_cost: None,
                matched: Some(di),
                identity: Verdict::Unknown,
                checked_at: None,
                distance: f32::INFINITY,
                doubt: false,
                doubted_at: None,
            };
            t.template = take_template(frame, &t.rect);
            self.next_id += 1;
            self.tracks.push(t);
        }
    }

    fn follow_owner(
        &mut self,
        detections: &[Detection],
        identity: &mut dyn Identify,
        settings: &TrackerSettings,
    ) -> Faces {
        if std::mem::take(&mut self.enroll_requested) {
            self.owner = self.photo.clone().map(|d| Owner {
                id: self.next_id,
                track: None,
                gallery: vec![d],
                distance: None,
            });
            if self.owner.is_some() {
                self.next_id += 1;
            }
            for t in &mut self.tracks {
                t.identity = Verdict::Unknown;
            }
        }
        if let Some(o) = &mut self.owner {
            if o.track
                .is_some_and(|id| !self.tracks.iter().any(|t| t.id == id))
            {
                o.track = None;
            }
        }
        self.doubt_crossings();
        if !detections.is_empty() {
            if self.owner.is_none() {
                self.enroll(detections, identity, settings);
            }
            self.check_identities(detections, identity, settings);
        }
        // Only the owner's fresh doubt is worth a detection now: any other face is masked
        // anyway.
        let owner_track = self.owner.as_ref().and_then(|o| o.track);
        let now = self.frame;
        for t in &mut self.tracks {
            if t.doubt && t.doubted_at.is_none() {
                t.doubted_at = Some(now);
            } else if !t.doubt {
                t.doubted_at = None;
            }
        }
        self.wants_detection = self
            .tracks
            .iter()
            .any(|t| t.doubted_at == Some(now) && Some(t.id) == owner_track);
        let owner = self.owner.as_ref();
        let owner_track = owner.and_then(|o| o.track);
        let mut faces = Faces::default();
        for t in &self.tracks {
            if Some(t.id) == owner_track && t.shows_owner() {
                let id = owner.map_or(t.id, |o| o.id);
                faces.reported.push(Face { id, ..t.face() });
            } else {
                faces.others.push(t.rect);
            }
        }
        faces
    }

    /// Overlapping faces may swap tracks: both are checked again before either is the owner
    /// (faces side by side, however close, do not overlap).
    fn doubt_crossings(&mut self) {
        let rects: Vec<(u64, Rect)> = self.tracks.iter().map(|t| (t.id, t.rect)).collect();
        for t in &mut self.tracks {
            let near = |(id, r): &(u64, Rect)| *id != t.id && r.iou(&t.rect) > 0.0;
            if rects.iter().any(near) {
                t.doubt = true;
            }
        }
    }

    /// No owner yet: the face the enrol rule picks becomes them, once it is seen from the
    /// front (its descriptor is what everything after is compared with).
    fn enroll(
        &mut self,
        detections: &[Detection],
        identity: &mut dyn Identify,
        settings: &TrackerSettings,
    ) {
        let seen = self.tracks.iter().filter(|t| t.matched.is_some());
        let candidate = match settings.enroll {
            Enroll::Largest => seen.max_by(|a, b| a.rect.area().total_cmp(&b.rect.area())),
            Enroll::First => seen.min_by_key(|t| t.id),
        };
        let Some((id, d)) = candidate.map(|t| (t.id, detections[t.matched.expect("seen")])) else {
            return;
        };
        if !is_frontal(&d) {
            return;
        }
        let Some(descriptor) = identity.describe(&d) else {
            return;
        };
        self.owner = Some(Owner {
            id,
            track: Some(id),
            gallery: vec![descriptor],
            distance: Some(0.0),
        });
        let now = self.frame;
        if let Some(t) = self.tracks.iter_mut().find(|t| t.id == id) {
            t.identity = Verdict::Owner;
            t.checked_at = Some(now);
            t.doubt = false;
        }
    }

    /// Describes the tracks most in need of it (the owner's in doubt, unknown faces, the
    /// owner's due again, strangers due again) and moves the owner to the track identity
    /// says is them, or to none.
    fn check_identities(
        &mut self,
        detections: &[Detection],
        identity: &mut dyn Identify,
        settings: &TrackerSettings,
    ) {
        let Some(owner) = &mut self.owner else {
            return;
        };
        let now = self.frame;
        let since = |t: &Track| t.checked_at.map_or(u64::MAX, |c| now - c);
        let priority = |t: &Track| -> Option<u8> {
            let is_owner_track = owner.track == Some(t.id);
            match (is_owner_track, t.identity, t.doubt) {
                (true, _, true) => Some(0),
                (_, Verdict::Unknown, _) => Some(1),
                (true, _, false) if since(t) >= OWNER_RECHECK_FRAMES => Some(2),
                (false, _, true) => Some(3),
                (false, _, false) => {
                    let near = t.distance < settings.identity_threshold + NEAR_MARGIN;
                    let every = match (owner.track.is_some(), near) {
                        (true, _) => STRANGER_RECHECK_FRAMES,
                        (false, true) => 1,
                        (false, false) => SEARCH_RECHECK_FRAMES,
                    };
                    (since(t) >= every).then_some(4)
                }
                _ => None,
            }
        };
        let mut due: Vec<(u8, u64, usize)> = self
            .tracks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.matched.is_some_and(|di| is_frontal(&detections[di])))
            .filter_map(|(i, t)| Some((priority(t)?, u64::MAX - since(t), i)))
            .collect();
        due.sort_unstable();
        let mut best: Option<(f32, usize, Option<Descriptor>)> = None;
        for &(_, _, i) in due.iter().take(MAX_CHECKS_PER_RUN) {
            let t = &mut self.tracks[i];
            let Some(descriptor) = identity.describe(&detections[t.matched.expect("due")]) else {
                continue;
            };
            let distance = owner.distance(&descriptor);
            let confirmed = owner.track == Some(t.id) && !t.doubt;
            let limit = settings.identity_threshold + if confirmed { KEEP_MARGIN } else { 0.0 };
            t.checked_at = Some(now);
            t.distance = distance;
            t.doubt = false;
            if distance < limit {
                t.identity = Verdict::Owner;
                if best.as_ref().is_none_or(|b| distance < b.0) {
                    let learn = confirmed && distance < settings.identity_threshold;
                    best = Some((distance, i, learn.then_some(descriptor)));
                }
            } else {
                t.identity = Verdict::Stranger;
                if owner.track == Some(t.id) {
                    owner.track = None;
                }
            }
        }
        let Some((distance, i, learnt)) = best else {
            return;
        };
        // One person, one track: a track identity just confirmed takes the owner from any
        // other, which is then unknown until checked.
        let id = self.tracks[i].id;
        for t in &mut self.tracks {
            if t.id != id && t.identity == Verdict::Owner {
                t.identity = Verdict::Unknown;
            }
        }
        owner.track = Some(id);
        owner.distance = Some(distance);
        if let Some(descriptor) = learnt {
            owner.learn(descriptor);
        }
    }
}

impl Track {
    /// Identity said this is the owner and nothing since put it in doubt.
    fn shows_owner(&self) -> bool {
        self.identity == Verdict::Owner && !self.doubt
    }

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
    if let Some((cost, _, _)) = best {
        // A face that suddenly matches its template much worse may be someone else's.
        let usual = *t.usual_cost.get_or_insert(cost);
        if cost > DOUBT_MIN_COST && cost > DOUBT_COST_RATIO * usual {
            t.doubt = true;
        }
        t.usual_cost = Some(usual + (cost - usual) * 0.2);
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
