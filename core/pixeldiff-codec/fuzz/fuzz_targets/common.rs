// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Shared by the fuzz targets: export the decoder's picture into correctly sized buffers and
//! check what must hold for any input.

use pixeldiff_codec::{
    memory_planes, packed_frame_size, packed_plane_sizes, packed_planes_mut, Decoder, OutPlane,
    MAX_DIMENSION,
};

/// After any `decode`, the layout (if any) must be sane and exporting into buffers sized from it,
/// tightly packed and with padded rows, must succeed without panicking.
pub fn check_and_export(dec: &Decoder, pad: usize) {
    let Some(layout) = dec.layout() else {
        // Nothing decoded yet: export must refuse, not panic.
        let mut empty: [OutPlane; 0] = [];
        assert!(dec.export(&mut empty).is_err());
        return;
    };
    assert!(layout.width >= 1 && layout.width <= MAX_DIMENSION);
    assert!(layout.height >= 1 && layout.height <= MAX_DIMENSION);
    assert!(dec.picture().is_some());

    // Tightly packed, as the property tests do.
    let mut out = vec![0u8; packed_frame_size(&layout)];
    let mut planes = packed_planes_mut(&layout, &mut out).expect("buffer sized from the layout");
    assert_eq!(planes.len(), memory_planes(layout.format));
    dec.export(&mut planes)
        .expect("export into a correctly sized frame must succeed");

    // Rows padded by `pad` bytes (strides as a video frame with alignment would have them).
    if pad > 0 {
        let sizes = packed_plane_sizes(&layout);
        let mut bufs: Vec<Vec<u8>> = sizes
            .iter()
            .map(|&(row, rows)| vec![0u8; (row + pad) * rows])
            .collect();
        let mut planes: Vec<OutPlane> = bufs
            .iter_mut()
            .zip(&sizes)
            .map(|(b, &(row, _))| OutPlane {
                data: b.as_mut_slice(),
                stride: row + pad,
            })
            .collect();
        dec.export(&mut planes)
            .expect("export into a padded frame must succeed");
        // Too few planes must be refused, not panic.
        if planes.len() > 1 {
            assert!(dec.export(&mut planes[..1]).is_err());
        }
    }
}
