// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use background_model::compose::{blur_into, copy_planes, read_alpha, replace, write_alpha};
use background_model::mask::{blur, resize};
use background_model::{
    silhouette, Backdrop, BackdropImage, BackgroundModel, FrozenPlate, HeadAndShoulders,
    ModelSettings,
};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use picture::{Gray, PictureLayout, Rect};
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use video_glue::Format;

const DEFAULT_METHOD: Method = Method::Model;
const DEFAULT_BACKGROUND: Background = Background::Color;
// A calm slate blue: reads as "a background" and keeps skin tones natural next to it.
const DEFAULT_COLOR: u32 = 0xff34_4a5e;
const DEFAULT_BLUR_RADIUS: u32 = 15;
const DEFAULT_FEATHER: u32 = 3;
const DEFAULT_OUTPUT_MASK: bool = false;
// The model and the silhouettes work on a copy at most this wide: person outlines need no
// more, and it keeps a 640x480 frame well under 5 ms.
const WORKING_WIDTH: u32 = 320;
const RELEARN_EVENT: &str = "bgreplace-relearn";

#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstBgReplaceMethod")]
pub enum Method {
    #[enum_value(
        name = "Model: a learnt background, led by faces from faceroi's ROI meta",
        nick = "model"
    )]
    Model = 0,
    #[enum_value(
        name = "Alpha: the input's alpha channel is the mask (255 = person)",
        nick = "alpha"
    )]
    Alpha = 1,
    #[enum_value(
        name = "ROI: a soft head-and-shoulders silhouette from the ROI meta alone",
        nick = "roi"
    )]
    Roi = 2,
}

#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstBgReplaceBackground")]
pub enum Background {
    #[enum_value(name = "Color: a flat colour (color)", nick = "color")]
    Color = 0,
    #[enum_value(name = "Image: a PNG or JPEG picture (location)", nick = "image")]
    Image = 1,
    #[enum_value(name = "Blur: the frame blurred (blur-radius)", nick = "blur")]
    Blur = 2,
    #[enum_value(name = "Freeze: a still plate of the room", nick = "freeze")]
    Freeze = 3,
}

#[derive(Clone, Debug)]
struct Settings {
    method: Method,
    background: Background,
    color: u32,
    location: Option<PathBuf>,
    blur_radius: u32,
    learning_rate: f64,
    threshold: f64,
    feather: u32,
    output_mask: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let model = ModelSettings::default();
        Settings {
            method: DEFAULT_METHOD,
            background: DEFAULT_BACKGROUND,
            color: DEFAULT_COLOR,
            location: None,
            blur_radius: DEFAULT_BLUR_RADIUS,
            learning_rate: model.learning_rate as f64,
            threshold: model.threshold as f64,
            feather: DEFAULT_FEATHER,
            output_mask: DEFAULT_OUTPUT_MASK,
        }
    }
}

impl Settings {
    fn model(&self) -> ModelSettings {
        ModelSettings {
            learning_rate: self.learning_rate as f32,
            threshold: self.threshold as f32,
        }
    }

    /// Whether the negotiated format must carry alpha.
    fn needs_alpha(&self) -> bool {
        self.method == Method::Alpha || self.output_mask
    }
}

#[derive(Default)]
struct State {
    format: Option<Format>,
    model: BackgroundModel,
    image: Option<(PathBuf, BackdropImage)>,
    /// The image as planes of the current layout, with the plane lengths it was made for.
    image_plate: Option<(Vec<usize>, Vec<Vec<u8>>)>,
    blur_plate: Vec<Vec<u8>>,
    frozen: FrozenPlate,
}

#[derive(Default)]
pub struct BgReplace {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "bgreplace",
        gst::DebugColorFlags::empty(),
        Some("Background replacement"),
    )
});

// The formats with an alpha channel come last: `method=alpha` and `output-mask` need them.
const FORMATS: &[gst_video::VideoFormat] = &[
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Yv12,
    gst_video::VideoFormat::Nv12,
    gst_video::VideoFormat::Nv21,
    gst_video::VideoFormat::Y42b,
    gst_video::VideoFormat::Y444,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Xrgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Argb,
    gst_video::VideoFormat::Abgr,
    gst_video::VideoFormat::Ayuv,
    gst_video::VideoFormat::A420,
];
const FIRST_ALPHA_FORMAT: usize = 10;

/// The faces on a buffer, from faceroi's ROI meta (the face before margin when the meta says
/// it); `None` when the buffer carries no face meta at all.
fn faces(buf: &gst::BufferRef) -> Option<Vec<Rect>> {
    let faces: Vec<Rect> = buf
        .iter_meta::<gst_video::VideoRegionOfInterestMeta>()
        .filter(|m| m.roi_type() == "face")
        .map(|m| {
            let tight = m.param("detection").and_then(|d| {
                Some(Rect::new(
                    d.get::<i32>("face-x").ok()? as f32,
                    d.get::<i32>("face-y").ok()? as f32,
                    d.get::<u32>("face-width").ok()? as f32,
                    d.get::<u32>("face-height").ok()? as f32,
                ))
            });
            let (x, y, w, h) = m.rect();
            tight.unwrap_or(Rect::new(x as f32, y as f32, w as f32, h as f32))
        })
        .collect();
    (!faces.is_empty()).then_some(faces)
}

#[glib::object_subclass]
impl ObjectSubclass for BgReplace {
    const NAME: &'static str = "GstBgReplace";
    type Type = super::BgReplace;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for BgReplace {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let defaults = Settings::default();
            vec![
                glib::ParamSpecEnum::builder_with_default("method", DEFAULT_METHOD)
                    .nick("Method")
                    .blurb("How person and background are told apart")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("background", DEFAULT_BACKGROUND)
                    .nick("Background")
                    .blurb("What replaces the background")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("color")
                    .nick("Colour")
                    .blurb(
                        "Background colour for background=color, as 0xAARRGGBB; alpha below \
                         255 tints the real background instead of hiding it",
                    )
                    .default_value(DEFAULT_COLOR)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb(
                        "PNG or JPEG picture for background=image, scaled to cover the frame; \
                         read when the element starts (READY to PAUSED)",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("blur-radius")
                    .nick("Blur radius")
                    .blurb("Blur for background=blur, in frame pixels (1-200)")
                    .minimum(1)
                    .maximum(200)
                    .default_value(DEFAULT_BLUR_RADIUS)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("learning-rate")
                    .nick("Learning rate")
                    .blurb(
                        "method=model: weight of each frame in the learnt background (0-1; \
                         0.01 adapts over about 100 frames, 0 freezes the model once learnt)",
                    )
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(defaults.learning_rate)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Threshold")
                    .blurb(
                        "method=model: distance from the learnt background, in standard \
                         deviations of its noise, from which a pixel is person (1-20; lower \
                         finds more person and more false person)",
                    )
                    .minimum(1.0)
                    .maximum(20.0)
                    .default_value(defaults.threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("feather")
                    .nick("Feather")
                    .blurb("Soften the mask edge over this many frame pixels (0-50)")
                    .maximum(50)
                    .default_value(DEFAULT_FEATHER)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("output-mask")
                    .nick("Output mask")
                    .blurb(
                        "Also write the mask into the alpha channel (255 = person); a format \
                         with alpha is then negotiated",
                    )
                    .default_value(DEFAULT_OUTPUT_MASK)
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![glib::subclass::Signal::builder("relearn")
                .action()
                .class_handler(|args| {
                    let element = args[0].get::<super::BgReplace>().expect("signal arg");
                    element.imp().relearn();
                    None
                })
                .build()]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        let needed_alpha = s.needs_alpha();
        match pspec.name() {
            "method" => s.method = value.get().expect("type checked upstream"),
            "background" => s.background = value.get().expect("type checked upstream"),
            "color" => s.color = value.get().expect("type checked upstream"),
            "location" => {
                s.location = value
                    .get::<Option<String>>()
                    .expect("type checked upstream")
                    .map(PathBuf::from)
            }
            "blur-radius" => s.blur_radius = value.get().expect("type checked upstream"),
            "learning-rate" => s.learning_rate = value.get().expect("type checked upstream"),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "feather" => s.feather = value.get().expect("type checked upstream"),
            "output-mask" => s.output_mask = value.get().expect("type checked upstream"),
            _ => unimplemented!(),
        }
        let renegotiate = s.needs_alpha() != needed_alpha;
        drop(s);
        gst::info!(CAT, imp = self, "{} set to {:?}", pspec.name(), value);
        if renegotiate {
            self.obj().reconfigure_src();
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        match pspec.name() {
            "method" => s.method.to_value(),
            "background" => s.background.to_value(),
            "color" => s.color.to_value(),
            "location" => s
                .location
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .to_value(),
            "blur-radius" => s.blur_radius.to_value(),
            "learning-rate" => s.learning_rate.to_value(),
            "threshold" => s.threshold.to_value(),
            "feather" => s.feather.to_value(),
            "output-mask" => s.output_mask.to_value(),
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for BgReplace {}

impl ElementImpl for BgReplace {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Background replacement",
                "Filter/Effect/Video",
                "Replaces the background behind a person by a colour, a picture, a blur or a \
                 still plate, from a learnt model led by faces, the input alpha or ROI meta",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| video_glue::always_pad_templates(&video_glue::raw_caps(FORMATS)));
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for BgReplace {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let mut state = State::default();
        if settings.background == Background::Image {
            state.image = Some(load_image(&settings)?);
        }
        *self.state.lock().unwrap() = Some(state);
        gst::debug!(CAT, imp = self, "started");
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
    }

    fn transform_caps(
        &self,
        _direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        // In place: the same caps on both sides, narrowed to alpha formats when needed.
        let caps = if self.settings.lock().unwrap().needs_alpha() {
            caps.intersect_with_mode(
                &video_glue::raw_caps(&FORMATS[FIRST_ALPHA_FORMAT..]),
                gst::CapsIntersectMode::First,
            )
        } else {
            caps.clone()
        };
        Some(match filter {
            Some(f) => f.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
            None => caps,
        })
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let format = Format::from_caps(incaps)
            .ok_or_else(|| gst::loggable_error!(CAT, "cannot parse caps {incaps}"))?;
        let mut guard = self.state.lock().unwrap();
        let state = guard
            .as_mut()
            .ok_or_else(|| gst::loggable_error!(CAT, "caps before start"))?;
        if !state
            .format
            .as_ref()
            .is_some_and(|f| f.same_size(&format.info))
        {
            // A learnt room at another size means nothing here.
            state.model.relearn();
            state.frozen.reset();
        }
        state.image_plate = None;
        gst::debug!(CAT, imp = self, "format {:?}", format.info);
        state.format = Some(format);
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if video_glue::is_custom_event(&event, RELEARN_EVENT) {
            self.relearn();
            return true;
        }
        self.parent_sink_event(event)
    }

    fn src_event(&self, event: gst::Event) -> bool {
        if video_glue::is_custom_event(&event, RELEARN_EVENT) {
            self.relearn();
            return true;
        }
        self.parent_src_event(event)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = self.settings.lock().unwrap().clone();
        let faces = faces(buf);
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let format = state.format.as_ref().ok_or(gst::FlowError::NotNegotiated)?;
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buf, &format.info)
            .map_err(|_| {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Failed,
                    ["cannot map the buffer writable"]
                );
                gst::FlowError::Error
            })?;
        let n_planes = frame.n_planes() as usize;
        let layout = format.layout(&frame);
        let mut all_planes = frame.planes_data_mut();
        let planes = &mut all_planes[..n_planes];
        let lengths: Vec<usize> = planes.iter().map(|p| p.len()).collect();
        if let Err(e) = layout.check(&lengths) {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["buffer does not fit the caps: {e}"]
            );
            return Err(gst::FlowError::Error);
        }

        let mask = self.mask(state, &layout, planes, faces.as_deref(), &settings)?;
        self.replace_background(state, &layout, planes, &lengths, &mask, &settings)?;
        if settings.output_mask {
            write_alpha(&layout, planes, &mask);
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Reads the picture at `location`, or says clearly why it cannot be used.
fn load_image(settings: &Settings) -> Result<(PathBuf, BackdropImage), gst::ErrorMessage> {
    let path = settings.location.clone().ok_or_else(|| {
        gst::error_msg!(
            gst::ResourceError::NotFound,
            ("background=image needs a location: the PNG or JPEG picture to show")
        )
    })?;
    if !path.exists() {
        return Err(gst::error_msg!(
            gst::ResourceError::NotFound,
            ("background picture {} does not exist", path.display())
        ));
    }
    let image = BackdropImage::open(&path)
        .map_err(|e| gst::error_msg!(gst::ResourceError::OpenRead, ("{e}")))?;
    Ok((path, image))
}

impl BgReplace {
    fn relearn(&self) {
        gst::info!(CAT, imp = self, "relearning the background");
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state.model.relearn();
            state.frozen.reset();
        }
    }

    /// The person mask at frame size (255 = person).
    fn mask(
        &self,
        state: &mut State,
        layout: &PictureLayout,
        planes: &[&mut [u8]],
        faces: Option<&[Rect]>,
        settings: &Settings,
    ) -> Result<Gray, gst::FlowError> {
        let planes: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
        let (width, height) = (layout.width as usize, layout.height as usize);
        if settings.method == Method::Alpha {
            return read_alpha(layout, &planes).ok_or_else(|| {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Negotiation,
                    ["method=alpha needs a format with a full-size alpha channel"]
                );
                gst::FlowError::NotNegotiated
            });
        }
        let scale = (WORKING_WIDTH as f32 / width.max(1) as f32).min(1.0);
        let ww = ((width as f32 * scale).round() as usize).max(1);
        let wh = ((height as f32 * scale).round() as usize).max(1);
        let people: Vec<HeadAndShoulders> = faces
            .unwrap_or_default()
            .iter()
            .map(|f| HeadAndShoulders::from_face(f).scaled(scale))
            .collect();
        let small = match settings.method {
            Method::Roi => silhouette::soft_mask(&people, ww, wh),
            _ => {
                let working = layout.working_frame(&planes, ww, wh);
                let prior = faces.map(|_| silhouette::prior(&people, ww, wh));
                state
                    .model
                    .segment(&working, prior.as_ref(), &settings.model())
                    .clone()
            }
        };
        let feather = (settings.feather as f32 * scale).round() as usize;
        Ok(resize(&blur(&small, feather), width, height))
    }

    fn replace_background(
        &self,
        state: &mut State,
        layout: &PictureLayout,
        planes: &mut [&mut [u8]],
        lengths: &[usize],
        mask: &Gray,
        settings: &Settings,
    ) -> Result<(), gst::FlowError> {
        let backdrop = match settings.background {
            Background::Color => {
                let [a, r, g, b] = settings.color.to_be_bytes();
                Backdrop::Colour {
                    rgb: [r, g, b],
                    opacity: a,
                }
            }
            Background::Image => {
                let location_changed = state
                    .image
                    .as_ref()
                    .is_none_or(|(path, _)| Some(path) != settings.location.as_ref());
                if location_changed {
                    // Switched to image while running, or a new location: read it now.
                    let loaded = load_image(settings).map_err(|e| {
                        self.post_error_message(e);
                        gst::FlowError::Error
                    })?;
                    state.image = Some(loaded);
                    state.image_plate = None;
                }
                let fits = state
                    .image_plate
                    .as_ref()
                    .is_some_and(|(l, _)| l == lengths);
                if !fits {
                    let (_, image) = state.image.as_ref().expect("loaded above");
                    state.image_plate = Some((lengths.to_vec(), image.plate(layout, lengths)));
                }
                Backdrop::Plate(&state.image_plate.as_ref().expect("made above").1)
            }
            Background::Blur => {
                let ro: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
                if state
                    .blur_plate
                    .iter()
                    .map(Vec::len)
                    .ne(lengths.iter().copied())
                {
                    state.blur_plate = copy_planes(&ro);
                }
                blur_into(
                    layout,
                    &ro,
                    &mut state.blur_plate,
                    settings.blur_radius as usize,
                );
                Backdrop::Plate(&state.blur_plate)
            }
            Background::Freeze => {
                let ro: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
                state.frozen.update(layout, &ro, mask);
                Backdrop::Plate(&state.frozen.plate)
            }
        };
        replace(layout, planes, mask, backdrop);
        Ok(())
    }
}
