// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What the payloader and depayloader agree on (docs/rtp-pixeldiff.md); the caps live in
//! `video_glue::rtp`, which the participant bins share.

pub use video_glue::rtp::*;
