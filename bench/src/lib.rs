// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixelmeet's measurements, behind the `*-bench` programs and BENCHMARKS.md: Y4M clips,
//! rate-distortion and CPU of encoder pairs, composites with hand-marked regions, face photos,
//! owner scenes and identity samples, tables, plots and contact sheets.

pub mod composite;
pub mod contact;
pub mod faces;
pub mod identity;
pub mod owner_scene;
pub mod plot;
pub mod rd;
pub mod regions;
pub mod table;
pub mod y4m;
