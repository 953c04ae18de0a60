// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A synthetic participant for the examples and the demo when there is no camera: a drawn
//! person (`face_tracking::synthetic`) in a textured room with camera noise, swaying a little,
//! whom faceroi finds and bgreplace cuts out, and optionally a visitor who walks in and out. A
//! `videotestsrc` has no face, so it would show none of what the elements do.

use std::sync::Mutex;

use face_tracking::synthetic::{Person, Room};
use gst::prelude::*;

/// When a second person is in the picture, in seconds from the start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Visit {
    pub enters: f64,
    pub leaves: f64,
}

pub struct Scene {
    room: Room,
    width: usize,
    height: usize,
    visit: Option<Visit>,
}

impl Scene {
    /// A room of `width` x `height` with one person in it.
    pub fn new(width: usize, height: usize) -> Self {
        Scene {
            room: Room::new(width, height),
            width,
            height,
            visit: None,
        }
    }

    /// A second person stands beside the first during `visit`.
    pub fn with_visit(mut self, visit: Visit) -> Self {
        self.visit = Some(visit);
        self
    }

    /// Who is in the picture at `t` seconds.
    pub fn people_at(&self, t: f64) -> Vec<Person> {
        let (w, h) = (self.width as f32, self.height as f32);
        let t = t as f32;
        // Face a quarter of the picture height, the head moving as a talking person's does.
        let host = Person {
            x: w * (0.55 + 0.04 * (0.9 * t).sin()),
            y: h * (0.42 + 0.015 * (1.7 * t).sin()),
            size: h * 0.25,
            skin: 170,
            // A warm shirt, apart from the default blue-grey backdrop of bgreplace.
            shirt: [110, 110, 165],
        };
        let mut people = vec![host];
        if let Some(v) = self.visit {
            if (v.enters..v.leaves).contains(&(t as f64)) {
                people.push(Person {
                    x: w * 0.2,
                    y: h * 0.48,
                    size: h * 0.2,
                    skin: 140,
                    shirt: [110, 90, 170],
                });
            }
        }
        people
    }

    /// The I420 picture at `t` seconds (tightly packed planes).
    pub fn frame(&mut self, t: f64) -> Vec<u8> {
        let people = self.people_at(t);
        self.room.frame(&people, 1.0).0
    }
}

/// Fixed caps of raw I420 video of `width` x `height` at `fps` frames a second; an error for a
/// zero size or rate.
pub fn i420_caps(width: u32, height: u32, fps: u32) -> Result<gst::Caps, gst::glib::BoolError> {
    gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, width, height)
        .fps(gst::Fraction::new(fps as i32, 1))
        .build()?
        .to_caps()
}

/// An `appsrc` that plays `scene` as I420 at `fps`, timestamped from 0, for `frames` frames
/// then EOS (`None`: until stopped). A live source (`live`) must be paced downstream, e.g. by
/// `clocksync`: appsrc pushes as fast as its queue drains.
pub fn scene_source(scene: Scene, fps: u32, frames: Option<u64>, live: bool) -> gst::Element {
    let caps =
        i420_caps(scene.width as u32, scene.height as u32, fps).expect("a drawn room has a size");
    let frame_duration = gst::ClockTime::SECOND / fps.max(1) as u64;
    let state = Mutex::new((scene, 0u64));
    gst_app::AppSrc::builder()
        .name("scene")
        .caps(&caps)
        .format(gst::Format::Time)
        .is_live(live)
        .callbacks(
            gst_app::AppSrcCallbacks::builder()
                .need_data(move |src, _| {
                    let mut state = state.lock().unwrap();
                    let (scene, n) = &mut *state;
                    if frames.is_some_and(|last| *n >= last) {
                        let _ = src.end_of_stream();
                        return;
                    }
                    let pts = frame_duration * *n;
                    let mut buffer = gst::Buffer::from_mut_slice(scene.frame(pts.seconds_f64()));
                    {
                        let b = buffer.get_mut().expect("a new buffer is writable");
                        b.set_pts(pts);
                        b.set_duration(frame_duration);
                    }
                    *n += 1;
                    // A flushing or stopped source refuses the buffer: nothing to do about it.
                    let _ = src.push_buffer(buffer);
                })
                .build(),
        )
        .build()
        .upcast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visitor_comes_and_goes() {
        let scene = Scene::new(320, 240).with_visit(Visit {
            enters: 1.0,
            leaves: 2.0,
        });
        assert_eq!(scene.people_at(0.5).len(), 1);
        assert_eq!(scene.people_at(1.5).len(), 2);
        assert_eq!(scene.people_at(2.0).len(), 1);
    }

    #[test]
    fn frames_are_i420_and_change() {
        let mut scene = Scene::new(320, 240);
        let a = scene.frame(0.0);
        let b = scene.frame(1.0);
        assert_eq!(a.len(), 320 * 240 * 3 / 2);
        assert_ne!(a, b);
    }
}
