// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! What pixelmeet's elements share: the in-place filters' (`faceroi`, `bgreplace`) pad templates,
//! the `picture` layout of a negotiated format and of a mapped frame, named custom events, the
//! face ROI meta, the pixeldiff RTP caps; and the stats clock every element's periodic messages
//! use.

pub mod roi;
pub mod rtp;
pub mod stats;

use gst_video::prelude::*;
use picture::{Component, PictureLayout};

/// The file a string property names (`location`, `model-location`); unset is `None`.
pub fn path_of(value: &gst::glib::Value) -> Option<std::path::PathBuf> {
    value
        .get::<Option<String>>()
        .expect("type checked upstream")
        .map(std::path::PathBuf::from)
}

/// A file as the value of a string property; `None` is unset.
pub fn path_value(path: Option<&std::path::Path>) -> gst::glib::Value {
    path.map(|p| p.to_string_lossy().into_owned()).to_value()
}

/// Raw video caps with these formats, any size and rate.
pub fn raw_caps(formats: &[gst_video::VideoFormat]) -> gst::Caps {
    gst_video::VideoCapsBuilder::new()
        .format_list(formats.iter().copied())
        .build()
}

/// An always `src` and an always `sink` pad template with the same caps.
pub fn always_pad_templates(caps: &gst::Caps) -> Vec<gst::PadTemplate> {
    src_and_sink_templates(caps, caps)
}

/// An always `src` pad template of `src` caps and an always `sink` one of `sink` caps.
pub fn src_and_sink_templates(src: &gst::Caps, sink: &gst::Caps) -> Vec<gst::PadTemplate> {
    [
        ("src", gst::PadDirection::Src, src),
        ("sink", gst::PadDirection::Sink, sink),
    ]
    .into_iter()
    .map(|(name, direction, caps)| {
        gst::PadTemplate::new(name, direction, gst::PadPresence::Always, caps)
            .expect("valid pad template")
    })
    .collect()
}

/// Enum types of element properties, one line a value: `Variant = number, "nick", "description"`.
/// The nick is what gst-launch and the element reference use; the type name is the GType's.
///
/// ```ignore
/// video_glue::property_enums! {
///     pub enum Mode: "GstFaceRoiMode" {
///         All = 0, "all", "All: report every face";
///     }
/// }
/// ```
#[macro_export]
macro_rules! property_enums {
    ($($(#[$meta:meta])* $vis:vis enum $name:ident : $gtype:tt {
        $($variant:ident = $value:tt, $nick:tt, $description:tt;)*
    })*) => {$(
        $(#[$meta])*
        #[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
        #[repr(u32)]
        #[enum_type(name = $gtype)]
        $vis enum $name {
            $(#[enum_value(name = $description, nick = $nick)] $variant = $value,)*
        }
    )*};
}

/// `gst::plugin_define!` for a pixelmeet plugin: description, version (with the commit),
/// licence, package and date come from the calling crate's Cargo metadata and build script
/// (`gst-plugin-version-helper`).
#[macro_export]
macro_rules! plugin_define {
    ($name:ident, $init:ident) => {
        gst::plugin_define!(
            $name,
            env!("CARGO_PKG_DESCRIPTION"),
            $init,
            concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
            "MPL",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_REPOSITORY"),
            env!("BUILD_REL_DATE")
        );
    };
}

/// A negotiated raw video format and its components as `picture` describes them.
#[derive(Clone, Debug)]
pub struct Format {
    pub info: gst_video::VideoInfo,
    pub components: Vec<Component>,
}

impl Format {
    pub fn from_caps(caps: &gst::CapsRef) -> Option<Self> {
        let info = gst_video::VideoInfo::from_caps(caps).ok()?;
        let f = info.format_info();
        let n = f.n_components() as usize;
        let components = Component::of_format(
            f.is_rgb(),
            &f.plane()[..n],
            &f.poffset()[..n],
            &f.pixel_stride()[..n],
            &f.w_sub()[..n],
            &f.h_sub()[..n],
        );
        Some(Format { info, components })
    }

    /// Whether `other` has the same picture size (a tracker or a learnt background carries over).
    pub fn same_size(&self, other: &gst_video::VideoInfo) -> bool {
        (self.info.width(), self.info.height()) == (other.width(), other.height())
    }

    /// The layout of a mapped frame (with its own strides); check it against the planes
    /// before use.
    pub fn layout<T>(&self, frame: &gst_video::VideoFrameRef<T>) -> PictureLayout {
        PictureLayout {
            width: self.info.width(),
            height: self.info.height(),
            components: self.components.clone(),
            strides: frame
                .plane_stride()
                .iter()
                .take(frame.n_planes() as usize)
                .map(|&s| s.max(0) as usize)
                .collect(),
        }
    }
}

/// Maps `buf` readable as `format`, checks the layout against its planes and runs `f` on them.
/// A buffer that cannot be mapped or does not fit the caps is an error posted on `element`.
pub fn with_planes<R>(
    element: &gst::Element,
    buf: &gst::BufferRef,
    format: &Format,
    f: impl FnOnce(&PictureLayout, &[&[u8]]) -> Result<R, gst::FlowError>,
) -> Result<R, gst::FlowError> {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buf, &format.info)
        .map_err(|_| map_failed(element))?;
    let planes: Vec<&[u8]> = (0..frame.n_planes())
        .map(|p| frame.plane_data(p).unwrap_or(&[]))
        .collect();
    let layout = format.layout(&frame);
    check_fits(element, &layout, planes.iter().map(|p| p.len()))?;
    f(&layout, &planes)
}

/// [`with_planes`], mapped writable.
pub fn with_planes_mut<R>(
    element: &gst::Element,
    buf: &mut gst::BufferRef,
    format: &Format,
    f: impl FnOnce(&PictureLayout, &mut [&mut [u8]]) -> Result<R, gst::FlowError>,
) -> Result<R, gst::FlowError> {
    let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buf, &format.info)
        .map_err(|_| map_failed(element))?;
    let layout = format.layout(&frame);
    let n_planes = frame.n_planes() as usize;
    let mut planes: Vec<&mut [u8]> = frame.planes_data_mut().into_iter().take(n_planes).collect();
    check_fits(element, &layout, planes.iter().map(|p| p.len()))?;
    f(&layout, &mut planes)
}

fn map_failed(element: &gst::Element) -> gst::FlowError {
    gst::element_error!(element, gst::CoreError::Failed, ["cannot map the buffer"]);
    gst::FlowError::Error
}

fn check_fits(
    element: &gst::Element,
    layout: &PictureLayout,
    lengths: impl Iterator<Item = usize>,
) -> Result<(), gst::FlowError> {
    layout.check(&lengths.collect::<Vec<_>>()).map_err(|e| {
        gst::element_error!(
            element,
            gst::StreamError::Format,
            ["buffer does not fit the caps: {e}"]
        );
        gst::FlowError::Error
    })
}

/// An action signal `name` that runs `run` on the element it is emitted on.
pub fn action_signal<T>(name: &str, run: fn(&T)) -> gst::glib::subclass::Signal
where
    T: gst::glib::prelude::ObjectType + for<'a> gst::glib::value::FromValue<'a>,
{
    gst::glib::subclass::Signal::builder(name)
        .action()
        .class_handler(move |args| {
            let element = args[0].get::<T>().expect("the signal's first argument");
            run(&element);
            None
        })
        .build()
}

/// Whether `event` is a custom event (either direction) whose structure is called `name`.
pub fn is_custom_event(event: &gst::Event, name: &str) -> bool {
    matches!(
        event.type_(),
        gst::EventType::CustomDownstream
            | gst::EventType::CustomUpstream
            | gst::EventType::CustomBoth
    ) && event.structure().is_some_and(|s| s.name() == name)
}
