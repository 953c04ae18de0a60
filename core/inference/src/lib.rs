// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! Runs small convolutional networks on the CPU with [tract], in pure Rust.
//!
//! The networks pixelmeet ships live in the repository's `models/` folder (converted from the
//! MediaPipe packages named in `models/README.md`, Apache-2.0) and are embedded here, so no
//! file is read and nothing is downloaded at run time; [`Network::from_file`] loads another
//! ONNX file of the same shape instead.
//!
//! Every network takes one `[1, 3, height, width]` float32 image (NCHW, RGB) and gives float32
//! outputs; [`Network::run`] checks the shapes, so a file with another input is a clear error
//! when it is loaded, never a panic while running.

pub mod image;
pub mod models;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

/// Why a network cannot be loaded or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The image shape a network reads: `[1, 3, height, width]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    pub height: usize,
    pub width: usize,
}

impl InputShape {
    pub fn len(&self) -> usize {
        3 * self.height * self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One output of a run: its shape and values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A loaded, optimised network, ready to run on one thread.
pub struct Network {
    name: String,
    input: InputShape,
    /// What each output must hold, checked at load time: element counts per output.
    outputs: Vec<usize>,
    plan: Arc<TypedRunnableModel>,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("name", &self.name)
            .field("input", &self.input)
            .field("outputs", &self.outputs)
            .finish()
    }
}

impl Network {
    /// Loads an ONNX network from memory for an input of `input`, checking that it gives
    /// `output_lens.len()` outputs of those element counts.
    pub fn from_onnx(
        name: &str,
        bytes: &[u8],
        input: InputShape,
        output_lens: &[usize],
    ) -> Result<Self, Error> {
        let fail = |what: &str, e: &dyn fmt::Display| Error(format!("{name}: {what}: {e}"));
        let model = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(|e| fail("not a readable ONNX network", &e))?
            .with_input_fact(0, f32::fact([1, 3, input.height, input.width]).into())
            .map_err(|e| fail("cannot take the input shape", &e))?
            .into_optimized()
            .map_err(|e| {
                fail(
                    &format!(
                        "does not accept a [1, 3, {}, {}] image",
                        input.height, input.width
                    ),
                    &e,
                )
            })?;
        let found: Vec<Option<usize>> = model
            .output_outlets()
            .map_err(|e| fail("no outputs", &e))?
            .iter()
            .map(|o| {
                model
                    .outlet_fact(*o)
                    .ok()
                    .and_then(|f| f.shape.as_concrete().map(|s| s.iter().product()))
            })
            .collect();
        let expected: Vec<Option<usize>> = output_lens.iter().map(|&n| Some(n)).collect();
        if found != expected {
            return Err(Error(format!(
                "{name}: outputs of {found:?} values where {output_lens:?} are needed"
            )));
        }
        let plan = model
            .into_runnable()
            .map_err(|e| fail("cannot be planned", &e))?;
        Ok(Network {
            name: name.to_owned(),
            input,
            outputs: output_lens.to_vec(),
            plan,
        })
    }

    /// Loads an ONNX file, as [`from_onnx`](Self::from_onnx) does.
    pub fn from_file(path: &Path, input: InputShape, output_lens: &[usize]) -> Result<Self, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
        Network::from_onnx(&path.display().to_string(), &bytes, input, output_lens)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn input(&self) -> InputShape {
        self.input
    }

    /// Runs the network on one NCHW RGB image of [`input`](Self::input)'s shape.
    pub fn run(&self, image: Vec<f32>) -> Result<Vec<Output>, Error> {
        if image.len() != self.input.len() {
            return Err(Error(format!(
                "{}: an image of {} values where {} are needed",
                self.name,
                image.len(),
                self.input.len()
            )));
        }
        let tensor = tract_ndarray::Array4::from_shape_vec(
            (1, 3, self.input.height, self.input.width),
            image,
        )
        .map_err(|e| Error(format!("{}: {e}", self.name)))?;
        let results = self
            .plan
            .run(tvec!(Tensor::from(tensor).into()))
            .map_err(|e| Error(format!("{}: run failed: {e}", self.name)))?;
        results
            .iter()
            .map(|t| {
                let data = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| Error(format!("{}: output is not float32: {e}", self.name)))?;
                Ok(Output {
                    shape: t.shape().to_vec(),
                    data: data.iter().copied().collect(),
                })
            })
            .collect()
    }
}
