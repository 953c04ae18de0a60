// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use background_model::compose::{blur_into, copy_planes, read_alpha, replace, write_alpha};
use background_model::mask::{blur, resize};
use background_model::{
    silhouette, Backdrop, BackdropImage, BackgroundModel, FrozenPlate, HeadAndShoulders,
    ModelSettings, NeuralSettings, PersonSegmenter, SegmenterModel,
};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use picture::{Gray, PictureLayout, Rect};
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use video_glue::stats::{interval_property, post, IntervalClock, DEFAULT_STATS_INTERVAL};
use video_glue::Format;

const DEFAULT_METHOD: Method = Method::Neural;
const DEFAULT_SEGMENTER: Segmenter = Segmenter::Landscape;
const DEFAULT_BACKGROUND: Background = Background::Color;
// A calm slate blue: reads as "a background" and keeps skin tones natural next to it.
const DEFAULT_COLOR: u32 = 0xff34_4a5e;
const DEFAULT_BLUR_RADIUS: u32 = 15;
const DEFAULT_FEATHER: u32 = 3;
const DEFAULT_OUTPUT_MASK: bool = false;
const DEFAULT_KEEP: Keep = Keep::Everyone;
// The model and the silhouettes work on a copy at most this wide: person outlines need no
// more, and it keeps a 640x480 frame well under 5 ms.
const WORKING_WIDTH: u32 = 320;
const RELEARN_EVENT: &str = "bgreplace-relearn";

video_glue::property_enums! {
    pub enum Method: "GstBgReplaceMethod" {
        Model = 0, "model", "Model: a learnt background, led by faces from faceroi's ROI meta";
        Alpha = 1, "alpha", "Alpha: the input's alpha channel is the mask (255 = person)";
        Roi = 2, "roi", "ROI: a soft head-and-shoulders silhouette from the ROI meta alone";
        Neural = 3, "neural", "Neural: a person segmentation network, faces from faceroi's ROI meta always kept";
    }

    pub enum Segmenter: "GstBgReplaceSegmenter" {
        Landscape = 0, "landscape", "Landscape: MediaPipe selfie segmentation 256x144, for landscape calls";
        General = 1, "general", "General: MediaPipe selfie segmentation 256x256, for square and portrait frames";
    }
}

impl Segmenter {
    fn model(self) -> SegmenterModel {
        match self {
            Segmenter::Landscape => SegmenterModel::Landscape,
            Segmenter::General => SegmenterModel::General,
        }
    }
}

video_glue::property_enums! {
    pub enum Background: "GstBgReplaceBackground" {
        Color = 0, "color", "Color: a flat colour (color)";
        Image = 1, "image", "Image: a PNG or JPEG picture (location)";
        Blur = 2, "blur", "Blur: the frame blurred (blur-radius)";
        Freeze = 3, "freeze", "Freeze: a still plate of the room";
    }

    pub enum Keep: "GstBgReplaceKeep" {
        Everyone = 0, "everyone", "Everyone: every person stays";
        Faces = 1, "faces", "Faces: only the people whose faces faceroi reports (behind faceroi \
                mode=owner: the owner); the rest become background";
    }
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
    segmenter: Segmenter,
    model_location: Option<PathBuf>,
    person_threshold: f64,
    smoothing: f64,
    segment_interval: u32,
    skip_threshold: f64,
    feather: u32,
    output_mask: bool,
    stats_interval: u32,
    keep: Keep,
}

impl Default for Settings {
    fn default() -> Self {
        let model = ModelSettings::default();
        let neural = NeuralSettings::default();
        Settings {
            method: DEFAULT_METHOD,
            background: DEFAULT_BACKGROUND,
            color: DEFAULT_COLOR,
            location: None,
            blur_radius: DEFAULT_BLUR_RADIUS,
            learning_rate: model.learning_rate as f64,
            threshold: model.threshold as f64,
            segmenter: DEFAULT_SEGMENTER,
            model_location: None,
            person_threshold: neural.threshold as f64,
            smoothing: neural.smoothing as f64,
            segment_interval: neural.interval,
            skip_threshold: neural.skip_below as f64,
            feather: DEFAULT_FEATHER,
            output_mask: DEFAULT_OUTPUT_MASK,
            stats_interval: DEFAULT_STATS_INTERVAL,
            keep: DEFAULT_KEEP,
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

    fn neural(&self) -> NeuralSettings {
        NeuralSettings {
            threshold: self.person_threshold as f32,
            smoothing: self.smoothing as f32,
            interval: self.segment_interval,
            skip_below: self.skip_threshold as f32,
        }
    }

    /// The segmentation network these settings ask for, or why it cannot be had.
    fn load_segmenter(&self) -> Result<PersonSegmenter, gst::ErrorMessage> {
        PersonSegmenter::load(self.segmenter.model(), self.model_location.as_deref()).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Init,
                ("cannot load the person segmentation network: {e}")
            )
        })
    }

    /// Whether the negotiated format must carry alpha.
    fn needs_alpha(&self) -> bool {
        self.method == Method::Alpha || self.output_mask
    }
}

/// What the `bgreplace-stats` message of the current interval sums up.
#[derive(Default)]
struct StatsWindow {
    clock: IntervalClock,
    /// Frames since start, across windows.
    total_frames: u64,
    frames: u64,
    network_runs: u64,
    person_share: f64,
    busy: Duration,
}

#[derive(Default)]
struct State {
    format: Option<Format>,
    model: BackgroundModel,
    segmenter: Option<PersonSegmenter>,
    stats: StatsWindow,
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
    let faces = video_glue::roi::faces(buf, video_glue::roi::FACE);
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
                glib::ParamSpecEnum::builder_with_default("segmenter", DEFAULT_SEGMENTER)
                    .nick("Segmenter")
                    .blurb("method=neural: which segmentation network; loaded when the element starts")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb(
                        "method=neural: an ONNX file to use instead of the embedded network of \
                         segmenter, with the same input and output (unset = embedded); read \
                         when the element starts",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("person-threshold")
                    .nick("Person threshold")
                    .blurb(
                        "method=neural: person probability from which a pixel is person (0.05-0.95; \
                         lower keeps more of the edges and more of the room)",
                    )
                    .minimum(0.05)
                    .maximum(0.95)
                    .default_value(defaults.person_threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("smoothing")
                    .nick("Smoothing")
                    .blurb(
                        "method=neural: share of the previous mask a pixel that holds still \
                         keeps (0-0.95; 0 = every frame alone); moving pixels never lag",
                    )
                    .minimum(0.0)
                    .maximum(0.95)
                    .default_value(defaults.smoothing)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("segment-interval")
                    .nick("Segment interval")
                    .blurb(
                        "method=neural: run the network every this many frames (1-30); in \
                         between the last mask is refined on the new frame's edges",
                    )
                    .minimum(1)
                    .maximum(30)
                    .default_value(defaults.segment_interval)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("skip-threshold")
                    .nick("Skip threshold")
                    .blurb(
                        "method=neural: keep the last mask while the picture changed less than \
                         this mean difference since the network last ran, in 8-bit levels \
                         (0-50; 0 = never skip)",
                    )
                    .minimum(0.0)
                    .maximum(50.0)
                    .default_value(defaults.skip_threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("feather")
                    .nick("Feather")
                    .blurb("Soften the mask edge over this many frame pixels (0-50)")
                    .maximum(50)
                    .default_value(DEFAULT_FEATHER)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("keep", DEFAULT_KEEP)
                    .nick("Keep")
                    .blurb(
                        "Who stays in front of the background: everyone, or only the people \
                         whose faces faceroi reports (a person masked by faceroi mode=owner, or \
                         not connected to a reported face, is replaced whole; no reported face \
                         keeps nobody)",
                    )
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
                interval_property("bgreplace-stats"),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![video_glue::action_signal::<super::BgReplace>(
                "relearn",
                |e| e.imp().relearn(),
            )]
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
            "location" => s.location = video_glue::path_of(value),
            "blur-radius" => s.blur_radius = value.get().expect("type checked upstream"),
            "learning-rate" => s.learning_rate = value.get().expect("type checked upstream"),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "segmenter" => s.segmenter = value.get().expect("type checked upstream"),
            "model-location" => s.model_location = video_glue::path_of(value),
            "person-threshold" => s.person_threshold = value.get().expect("type checked upstream"),
            "smoothing" => s.smoothing = value.get().expect("type checked upstream"),
            "segment-interval" => s.segment_interval = value.get().expect("type checked upstream"),
            "skip-threshold" => s.skip_threshold = value.get().expect("type checked upstream"),
            "feather" => s.feather = value.get().expect("type checked upstream"),
            "output-mask" => s.output_mask = value.get().expect("type checked upstream"),
            "keep" => s.keep = value.get().expect("type checked upstream"),
            "stats-interval" => s.stats_interval = value.get().expect("type checked upstream"),
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
            "location" => video_glue::path_value(s.location.as_deref()),
            "blur-radius" => s.blur_radius.to_value(),
            "learning-rate" => s.learning_rate.to_value(),
            "threshold" => s.threshold.to_value(),
            "segmenter" => s.segmenter.to_value(),
            "model-location" => video_glue::path_value(s.model_location.as_deref()),
            "person-threshold" => s.person_threshold.to_value(),
            "smoothing" => s.smoothing.to_value(),
            "segment-interval" => s.segment_interval.to_value(),
            "skip-threshold" => s.skip_threshold.to_value(),
            "feather" => s.feather.to_value(),
            "output-mask" => s.output_mask.to_value(),
            "keep" => s.keep.to_value(),
            "stats-interval" => s.stats_interval.to_value(),
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
                 still plate, from a person segmentation network, a learnt model led by \
                 faces, the input alpha or ROI meta",
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
        if settings.method == Method::Neural {
            state.segmenter = Some(settings.load_segmenter()?);
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
            if let Some(s) = state.segmenter.as_mut() {
                s.reset();
            }
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
        let started = Instant::now();
        let settings = self.settings.lock().unwrap().clone();
        let faces = faces(buf);
        let masked = video_glue::roi::faces(buf, video_glue::roi::MASKED_FACE);
        let pts = buf.pts();
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let format = state.format.clone().ok_or(gst::FlowError::NotNegotiated)?;
        let element = self.obj();
        let (network_ran, share) =
            video_glue::with_planes_mut(element.upcast_ref(), buf, &format, |layout, planes| {
                let (mask, network_ran, share) =
                    self.mask(state, layout, planes, faces.as_deref(), &masked, &settings)?;
                let lengths: Vec<usize> = planes.iter().map(|p| p.len()).collect();
                self.replace_background(state, layout, planes, &lengths, &mask, &settings)?;
                if settings.output_mask {
                    write_alpha(layout, planes, &mask);
                }
                Ok((network_ran, share))
            })?;
        let message = state.stats.add(
            share,
            network_ran,
            started.elapsed(),
            pts,
            settings.stats_interval,
        );
        drop(guard);
        post(self.obj().upcast_ref(), message);
        Ok(gst::FlowSuccess::Ok)
    }
}

/// Share of `mask` that is person (>= 128).
fn person_share(mask: &Gray) -> f64 {
    let person = mask.data.iter().filter(|&&m| m >= 128).count();
    person as f64 / mask.data.len().max(1) as f64
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

impl StatsWindow {
    /// Accounts one frame; the `bgreplace-stats` structure when an interval has passed.
    fn add(
        &mut self,
        person_share: f64,
        network_ran: bool,
        busy: Duration,
        pts: Option<gst::ClockTime>,
        interval_ms: u32,
    ) -> Option<gst::Structure> {
        self.total_frames += 1;
        self.frames += 1;
        self.network_runs += network_ran as u64;
        self.person_share += person_share;
        self.busy += busy;
        self.clock
            .frame(pts, gst::ClockTime::from_mseconds(interval_ms as u64))?;
        let n = self.frames.max(1) as f64;
        let s = gst::Structure::builder("bgreplace-stats")
            .field("timestamp", pts)
            .field("frames", self.total_frames)
            .field("person-percent", 100.0 * self.person_share / n)
            .field("ms-per-frame", self.busy.as_secs_f64() * 1000.0 / n)
            .field("network-runs", self.network_runs)
            .build();
        *self = StatsWindow {
            clock: std::mem::take(&mut self.clock),
            total_frames: self.total_frames,
            ..StatsWindow::default()
        };
        Some(s)
    }
}

impl BgReplace {
    fn relearn(&self) {
        gst::info!(CAT, imp = self, "relearning the background");
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state.model.relearn();
            state.frozen.reset();
        }
    }

    /// The person mask at frame size (255 = person), whether a network ran for it, and the
    /// share of the picture that is person (counted at working size).
    fn mask(
        &self,
        state: &mut State,
        layout: &PictureLayout,
        planes: &[&mut [u8]],
        faces: Option<&[Rect]>,
        masked: &[Rect],
        settings: &Settings,
    ) -> Result<(Gray, bool, f64), gst::FlowError> {
        let planes: Vec<&[u8]> = planes.iter().map(|p| &**p).collect();
        let (width, height) = (layout.width as usize, layout.height as usize);
        if settings.method == Method::Alpha {
            let alpha = read_alpha(layout, &planes).ok_or_else(|| {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Negotiation,
                    ["method=alpha needs a format with a full-size alpha channel"]
                );
                gst::FlowError::NotNegotiated
            })?;
            let share = person_share(&alpha);
            return Ok((alpha, false, share));
        }
        let scale = (WORKING_WIDTH as f32 / width.max(1) as f32).min(1.0);
        let ww = ((width as f32 * scale).round() as usize).max(1);
        let wh = ((height as f32 * scale).round() as usize).max(1);
        let people: Vec<HeadAndShoulders> = faces
            .unwrap_or_default()
            .iter()
            .map(|f| HeadAndShoulders::from_face(f).scaled(scale))
            .collect();
        let mut network_ran = false;
        let small = match settings.method {
            Method::Roi => silhouette::soft_mask(&people, ww, wh),
            Method::Neural => {
                let working = layout.working_frame(&planes, ww, wh);
                let segmenter = state.segmenter.as_mut().ok_or_else(|| {
                    gst::element_imp_error!(
                        self,
                        gst::CoreError::StateChange,
                        ["method=neural was set after the element started: set it in READY"]
                    );
                    gst::FlowError::Error
                })?;
                let (mask, report) = segmenter
                    .segment(&working, &people, &settings.neural())
                    .map_err(|e| {
                        gst::element_imp_error!(
                            self,
                            gst::StreamError::Failed,
                            ["person segmentation failed: {e}"]
                        );
                        gst::FlowError::Error
                    })?;
                network_ran = report.ran;
                mask
            }
            _ => {
                let working = layout.working_frame(&planes, ww, wh);
                let prior = faces.map(|_| silhouette::prior(&people, ww, wh));
                state
                    .model
                    .segment(&working, prior.as_ref(), &settings.model())
                    .clone()
            }
        };
        let small = match settings.keep {
            Keep::Everyone => small,
            Keep::Faces => {
                let dropped: Vec<HeadAndShoulders> = masked
                    .iter()
                    .map(|f| HeadAndShoulders::from_face(f).scaled(scale))
                    .collect();
                silhouette::keep_people(&small, &people, &dropped)
            }
        };
        let feather = (settings.feather as f32 * scale).round() as usize;
        let share = person_share(&small);
        Ok((
            resize(&blur(&small, feather), width, height),
            network_ran,
            share,
        ))
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
