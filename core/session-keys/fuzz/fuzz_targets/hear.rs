// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::hear(data));
