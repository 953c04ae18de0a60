// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Meetings through an existing media server, rtpengine, with no GStreamer types: its ng
//! control protocol ([`ng`]), the SDP a participant exchanges with it ([`sdp`]), a room of
//! publishers and subscribers ([`room`]), and a local rtpengine for tests and demos
//! ([`local`]).

pub mod local;
pub mod ng;
pub mod room;
pub mod sdp;

pub use ng::NgError;
pub use room::Room;
pub use sdp::{Description, Media};
