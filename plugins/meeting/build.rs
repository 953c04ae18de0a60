// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

fn main() {
    gst_plugin_version_helper::info()
}
