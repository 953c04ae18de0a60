// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The networks embedded in the plugins: MediaPipe's selfie segmenters and BlazeFace face
//! detectors (Apache-2.0), converted from the TFLite files of their npm packages to ONNX by
//! `models/convert.py`, and dlib's face descriptor (CC0, from the PyPI package
//! `face_recognition_models`), converted by `models/dlib_to_onnx.py`. `models/README.md` gives each file's source package, version and
//! checksums; `models/LICENSE` and `models/NOTICE` travel with the installed plugins.

use crate::{Error, InputShape, Network};
use std::path::Path;

/// A network of a known shape: embedded, or another ONNX file of the same shape.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub input: InputShape,
    /// Element count of each output, in order.
    pub outputs: &'static [usize],
}

impl Embedded {
    /// Loads the embedded network.
    pub fn load(&self) -> Result<Network, Error> {
        self.load_from(None)
    }

    /// Loads `file` in its place when one is given (it must take and give the same shapes),
    /// else the embedded network: the one choice behind every `model-location` property.
    pub fn load_from(&self, file: Option<&Path>) -> Result<Network, Error> {
        match file {
            Some(path) => Network::from_file(path, self.input, self.outputs),
            None => Network::from_onnx(self.name, self.bytes, self.input, self.outputs),
        }
    }
}

macro_rules! model_file {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/", $name))
    };
}

/// Person segmentation, 256 wide and 144 high (landscape): one `[1, 1, 144, 256]` person
/// probability in [0, 1]; RGB input in [0, 1].
pub const SELFIE_LANDSCAPE: Embedded = Embedded {
    name: "selfie_segmentation_landscape.onnx",
    bytes: model_file!("selfie_segmentation_landscape.onnx"),
    input: InputShape {
        height: 144,
        width: 256,
    },
    outputs: &[144 * 256],
};

/// Person segmentation, 256x256 (general): one `[1, 1, 256, 256]` person probability in [0, 1];
/// RGB input in [0, 1].
pub const SELFIE_GENERAL: Embedded = Embedded {
    name: "selfie_segmentation.onnx",
    bytes: model_file!("selfie_segmentation.onnx"),
    input: InputShape {
        height: 256,
        width: 256,
    },
    outputs: &[256 * 256],
};

/// BlazeFace short range (faces within about 2 m), 128x128: `regressors` `[1, 896, 16]` and
/// `scores` `[1, 896, 1]` logits; RGB input in [-1, 1].
pub const BLAZEFACE_SHORT: Embedded = Embedded {
    name: "face_detection_short_range.onnx",
    bytes: model_file!("face_detection_short_range.onnx"),
    input: InputShape {
        height: 128,
        width: 128,
    },
    outputs: &[896 * 16, 896],
};

/// BlazeFace full range (faces up to about 5 m), 192x192: `regressors` `[1, 2304, 16]` and
/// `scores` `[1, 2304, 1]` logits; RGB input in [-1, 1].
pub const BLAZEFACE_FULL: Embedded = Embedded {
    name: "face_detection_full_range.onnx",
    bytes: model_file!("face_detection_full_range.onnx"),
    input: InputShape {
        height: 192,
        width: 192,
    },
    outputs: &[2304 * 16, 2304],
};

/// dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1`, CC0), 150x150: one
/// `[1, 128]` face descriptor; RGB input in 0-255 (the network subtracts dlib's mean itself).
pub const FACE_DESCRIPTOR: Embedded = Embedded {
    name: "dlib_face_recognition_resnet_model_v1.onnx",
    bytes: model_file!("dlib_face_recognition_resnet_model_v1.onnx"),
    input: InputShape {
        height: 150,
        width: 150,
    },
    outputs: &[128],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_network_loads_and_runs_on_a_grey_image() {
        for model in [
            SELFIE_LANDSCAPE,
            SELFIE_GENERAL,
            BLAZEFACE_SHORT,
            BLAZEFACE_FULL,
            FACE_DESCRIPTOR,
        ] {
            let network = model.load().unwrap_or_else(|e| panic!("{e}"));
            let out = network.run(vec![0.5; model.input.len()]).expect("runs");
            let lens: Vec<usize> = out.iter().map(|o| o.data.len()).collect();
            assert_eq!(lens, model.outputs, "{}", model.name);
            assert!(out.iter().all(|o| o.data.iter().all(|v| v.is_finite())));
        }
    }

    #[test]
    fn a_wrong_file_or_shape_is_an_error_not_a_panic() {
        let garbage = Network::from_onnx("garbage", b"not a network", SELFIE_LANDSCAPE.input, &[1]);
        assert!(garbage.unwrap_err().0.contains("garbage"));
        // The segmenter loaded where a face detector's two outputs are wanted.
        let wrong = Network::from_onnx(
            "swapped",
            SELFIE_LANDSCAPE.bytes,
            SELFIE_LANDSCAPE.input,
            BLAZEFACE_FULL.outputs,
        );
        assert!(wrong.unwrap_err().0.contains("outputs"), "output check");
        let missing = SELFIE_GENERAL.load_from(Some(Path::new("/nonexistent/model.onnx")));
        assert!(missing.unwrap_err().0.contains("cannot read"));
        let network = SELFIE_LANDSCAPE.load().expect("loads");
        assert!(
            network.run(vec![0.0; 7]).is_err(),
            "an image of the wrong size"
        );
    }
}
