// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

use face_tracking::{
    Descriptor, Detection, DetectorKind, DetectorSettings, Face, FaceDetector, FaceRecognizer,
    Faces, Photo, Picture, PictureLayout, PixelRect, Rect, Tracker, TrackerSettings,
    DEFAULT_IDENTITY_THRESHOLD,
};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use video_glue::Format;

const DEFAULT_DETECTOR: Detector = Detector::BlazeFace;
// BlazeFace finds faces of 14 px in its 192-pixel input: 24 px at 320 wide, so group photos and
// people further back are reported.
const DEFAULT_MIN_FACE_SIZE: u32 = 24;
const DEFAULT_SCORE_THRESHOLD: f64 = 2.0;
const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;
const DEFAULT_DETECTION_INTERVAL: u32 = 5;
const DEFAULT_WORKING_WIDTH: u32 = 320;
const DEFAULT_MAX_FACES: u32 = 8;
const DEFAULT_MARGIN: u32 = 0;
const DEFAULT_UPDATES: Updates = Updates::EveryFrame;
const DEFAULT_DRAW: bool = false;
const DEFAULT_MODE: Mode = Mode::All;
const DEFAULT_ENROLL: Enroll = Enroll::Largest;
// Owner mode is for hiding everyone else: by default it does.
const DEFAULT_MASK_OTHERS: MaskOthers = MaskOthers::Pixelate;
const DEFAULT_NO_FACE_ACTION: NoFaceAction = NoFaceAction::Pass;
const DEFAULT_OWNER_ABSENT_ACTION: NoFaceAction = NoFaceAction::Pass;
// A face missing from this many detections in a row (and at least half a second at 30 fps) is
// gone: long enough to bridge a turned head or a hand in front of the face.
const MISSED_DETECTIONS: u32 = 3;
const MIN_MISSED_FRAMES: u32 = 15;
const ENROLL_EVENT: &str = "faceroi-enroll";
const BOX_COLOUR: [u8; 3] = [0, 255, 0];
const OWNER_BOX_COLOUR: [u8; 3] = [255, 160, 0];
const FILL_COLOUR: [u8; 3] = [40, 40, 40];
const BLANK_COLOUR: [u8; 3] = [0, 0, 0];

video_glue::property_enums! {
    pub enum Detector: "GstFaceRoiDetector" {
        BlazeFace = 0, "blazeface", "BlazeFace full range: a neural detector for frontal, turned and distant faces \
                (min-confidence)";
        BlazeFaceShort = 1, "blazeface-short", "BlazeFace short range: a smaller network for faces within about 2 m \
                (min-confidence)";
        SeetaFace = 2, "seetaface", "SeetaFace: rustface's cascade, frontal faces only (score-threshold)";
    }
}

impl Detector {
    fn kind(self) -> DetectorKind {
        match self {
            Detector::BlazeFace => DetectorKind::BlazeFace,
            Detector::BlazeFaceShort => DetectorKind::BlazeFaceShort,
            Detector::SeetaFace => DetectorKind::SeetaFace,
        }
    }
}

video_glue::property_enums! {
    pub enum Updates: "GstFaceRoiUpdates" {
        EveryFrame = 0, "every-frame", "Every frame: a message for every buffer";
        OnChange = 1, "on-change", "On change: a message when the number of faces changes";
        OnFace = 2, "on-face", "On face: a message for every buffer with a face";
        None = 3, "none", "None: no faceroi messages (presence is still posted)";
    }

    pub enum Mode: "GstFaceRoiMode" {
        All = 0, "all", "All: report every face";
        Owner = 1, "owner", "Owner: report only the enrolled owner";
    }

    pub enum Enroll: "GstFaceRoiEnroll" {
        Largest = 0, "largest", "Largest: the largest face becomes the owner";
        First = 1, "first", "First: the face seen first becomes the owner";
    }

    pub enum MaskOthers: "GstFaceRoiMaskOthers" {
        None = 0, "none", "None: other faces stay visible";
        Fill = 1, "fill", "Fill: other faces are painted over in dark grey";
        Pixelate = 2, "pixelate", "Pixelate: other faces become coarse blocks (a strong blur)";
    }

    pub enum NoFaceAction: "GstFaceRoiNoFaceAction" {
        Pass = 0, "pass", "Pass: frames without a face go through";
        Drop = 1, "drop", "Drop: no frames while nobody is there";
        Blank = 2, "blank", "Blank: frames without a face are painted black";
    }
}

#[derive(Debug, Clone)]
struct Settings {
    detector: Detector,
    model_location: Option<PathBuf>,
    min_face_size: u32,
    score_threshold: f64,
    min_confidence: f64,
    detection_interval: u32,
    working_width: u32,
    max_faces: u32,
    margin: u32,
    updates: Updates,
    draw: bool,
    mode: Mode,
    enroll: Enroll,
    mask_others: MaskOthers,
    no_face_action: NoFaceAction,
    owner_absent_action: NoFaceAction,
    owner_photo: Option<PathBuf>,
    identity_threshold: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            detector: DEFAULT_DETECTOR,
            model_location: None,
            min_face_size: DEFAULT_MIN_FACE_SIZE,
            score_threshold: DEFAULT_SCORE_THRESHOLD,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            detection_interval: DEFAULT_DETECTION_INTERVAL,
            working_width: DEFAULT_WORKING_WIDTH,
            max_faces: DEFAULT_MAX_FACES,
            margin: DEFAULT_MARGIN,
            updates: DEFAULT_UPDATES,
            draw: DEFAULT_DRAW,
            mode: DEFAULT_MODE,
            enroll: DEFAULT_ENROLL,
            mask_others: DEFAULT_MASK_OTHERS,
            no_face_action: DEFAULT_NO_FACE_ACTION,
            owner_absent_action: DEFAULT_OWNER_ABSENT_ACTION,
            owner_photo: None,
            identity_threshold: DEFAULT_IDENTITY_THRESHOLD as f64,
        }
    }
}

impl Settings {
    fn detector(&self) -> DetectorSettings {
        DetectorSettings {
            min_face_size: self.min_face_size,
            score_threshold: self.score_threshold,
            min_confidence: self.min_confidence,
            working_width: self.working_width,
        }
    }

    /// The detector these settings ask for, or why it cannot be had.
    fn load_detector(&self) -> Result<FaceDetector, gst::ErrorMessage> {
        FaceDetector::load(self.detector.kind(), self.model_location.as_deref()).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Init,
                ("cannot load the {:?} face detector: {e}", self.detector)
            )
        })
    }

    fn tracker(&self) -> TrackerSettings {
        TrackerSettings {
            mode: match self.mode {
                Mode::All => face_tracking::Mode::All,
                Mode::Owner => face_tracking::Mode::Owner,
            },
            enroll: match self.enroll {
                Enroll::Largest => face_tracking::Enroll::Largest,
                Enroll::First => face_tracking::Enroll::First,
            },
            max_faces: self.max_faces as usize,
            max_missed_frames: (self.detection_interval * MISSED_DETECTIONS).max(MIN_MISSED_FRAMES),
            identity_threshold: self.identity_threshold as f32,
        }
    }

    /// The descriptor of the largest face seen from the front in `owner-photo`.
    fn photo_descriptor(
        &self,
        detector: &mut FaceDetector,
        recognizer: &FaceRecognizer,
    ) -> Result<Option<Descriptor>, gst::ErrorMessage> {
        let Some(path) = &self.owner_photo else {
            return Ok(None);
        };
        let fail = |why: String| {
            gst::error_msg!(
                gst::ResourceError::OpenRead,
                ["owner-photo {}: {why}", path.display()]
            )
        };
        let data = picture::read_picture_file(path).map_err(fail)?;
        let image = image::load_from_memory(&data)
            .map_err(|e| fail(e.to_string()))?
            .to_rgb8();
        let photo = Photo::new(image.width(), image.height(), image.into_raw());
        let descriptor = photo.with_picture(|picture| {
            let faces = face_tracking::identity::frontal_faces(detector, picture, &self.detector())
                .map_err(|e| fail(e.to_string()))?;
            let face = faces
                .first()
                .ok_or_else(|| fail("no face seen from the front".into()))?;
            recognizer
                .describe_steadily(picture, face)
                .map_err(|e| fail(e.to_string()))
        })?;
        Ok(Some(descriptor))
    }
}

fn load_recognizer() -> Result<FaceRecognizer, gst::ErrorMessage> {
    FaceRecognizer::load(None).map_err(|e| {
        gst::error_msg!(
            gst::LibraryError::Init,
            ("cannot load the face descriptor network: {e}")
        )
    })
}

/// What a negotiated format means for reading and painting.
struct State {
    detector: FaceDetector,
    /// Loaded when owner mode first needs it (or at start for `owner-photo`).
    recognizer: Option<FaceRecognizer>,
    tracker: Tracker,
    /// Whether the owner was reported on the previous frame: `faceroi-owner` messages.
    owner_present: Option<bool>,
    format: Option<Format>,
    frames: u64,
    /// Number of faces reported for the previous frame: `updates=on-change` and presence.
    last_count: Option<usize>,
    detect_next: bool,
}

impl State {
    fn new(detector: FaceDetector) -> Self {
        State {
            detector,
            recognizer: None,
            tracker: Tracker::new(),
            owner_present: None,
            format: None,
            frames: 0,
            last_count: None,
            detect_next: true,
        }
    }
}

#[derive(Default)]
pub struct FaceRoi {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "faceroi",
        gst::DebugColorFlags::empty(),
        Some("Face detection and tracking with ROI meta"),
    )
});

// 8-bit formats whose components are whole bytes: one description serves all of them.
const FORMATS: [gst_video::VideoFormat; 17] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Yv12,
    gst_video::VideoFormat::Nv12,
    gst_video::VideoFormat::Nv21,
    gst_video::VideoFormat::Y42b,
    gst_video::VideoFormat::Y444,
    gst_video::VideoFormat::Gray8,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Xrgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Argb,
    gst_video::VideoFormat::Abgr,
];

#[glib::object_subclass]
impl ObjectSubclass for FaceRoi {
    const NAME: &'static str = "GstFaceRoi";
    type Type = super::FaceRoi;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for FaceRoi {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("detector", DEFAULT_DETECTOR)
                    .nick("Detector")
                    .blurb("Which face detector runs; loaded when the element starts")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model-location")
                    .nick("Model location")
                    .blurb(
                        "An ONNX file to use instead of the embedded BlazeFace network, with \
                         the same input and outputs (unset = embedded; ignored by seetaface); \
                         read when the element starts",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("min-face-size")
                    .nick("Minimum face size")
                    .blurb(
                        "Smallest face to report, in frame pixels (20-4096); detector=seetaface \
                         also scans a copy scaled so such a face is 40 px wide, unless \
                         working-width caps it",
                    )
                    .minimum(20)
                    .maximum(4096)
                    .default_value(DEFAULT_MIN_FACE_SIZE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("score-threshold")
                    .nick("Score threshold")
                    .blurb(
                        "detector=seetaface: detections scoring below this are ignored (0.1-100; \
                         about 2 is the edge of a face, clear faces score 10-30)",
                    )
                    .minimum(0.1)
                    .maximum(100.0)
                    .default_value(DEFAULT_SCORE_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("min-confidence")
                    .nick("Minimum confidence")
                    .blurb(
                        "detector=blazeface and blazeface-short: detections less probable than \
                         this are ignored (0.05-1; clear faces score above 0.9)",
                    )
                    .minimum(0.05)
                    .maximum(1.0)
                    .default_value(DEFAULT_MIN_CONFIDENCE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("detection-interval")
                    .nick("Detection interval")
                    .blurb(
                        "Run the detector every this many frames (1-300) and track faces in \
                         between",
                    )
                    .minimum(1)
                    .maximum(300)
                    .default_value(DEFAULT_DETECTION_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("working-width")
                    .nick("Working width")
                    .blurb(
                        "Widest copy the detector and tracker read, in pixels (0 = as wide as \
                         min-face-size needs, up to 2048); seetaface misses faces narrower \
                         than 40 x frame width / working-width, blazeface letterboxes the copy \
                         into its input",
                    )
                    .maximum(2048)
                    .default_value(DEFAULT_WORKING_WIDTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("max-faces")
                    .nick("Maximum faces")
                    .blurb("Report at most this many faces, largest first (1-64)")
                    .minimum(1)
                    .maximum(64)
                    .default_value(DEFAULT_MAX_FACES)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("margin")
                    .nick("Margin")
                    .blurb(
                        "Widen reported boxes by this percentage of the face on each side, \
                         more below for the shoulders (0-300; 0 = the face itself)",
                    )
                    .maximum(300)
                    .default_value(DEFAULT_MARGIN)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("updates", DEFAULT_UPDATES)
                    .nick("Updates")
                    .blurb("When to post faceroi messages")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("draw")
                    .nick("Draw")
                    .blurb("Draw the reported boxes into the picture (green; orange for the owner)")
                    .default_value(DEFAULT_DRAW)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("mode", DEFAULT_MODE)
                    .nick("Mode")
                    .blurb("Report every face, or only the enrolled owner")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("enroll", DEFAULT_ENROLL)
                    .nick("Enroll")
                    .blurb("Which face becomes the owner in mode=owner")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("mask-others", DEFAULT_MASK_OTHERS)
                    .nick("Mask others")
                    .blurb("In mode=owner, hide the faces of everyone but the owner")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("no-face-action", DEFAULT_NO_FACE_ACTION)
                    .nick("No-face action")
                    .blurb("What happens to frames while no face is reported")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default(
                    "owner-absent-action",
                    DEFAULT_OWNER_ABSENT_ACTION,
                )
                .nick("Owner-absent action")
                .blurb(
                    "In mode=owner, what happens to frames while the owner is not seen: pass \
                     (every face masked as mask-others says), drop or blank",
                )
                .mutable_playing()
                .build(),
                glib::ParamSpecString::builder("owner-photo")
                    .nick("Owner photo")
                    .blurb(
                        "In mode=owner, a photo (PNG or JPEG) whose largest frontal face is the \
                         owner, instead of enrolling a face of the stream (unset = enroll as \
                         the enroll property says); read when the element starts",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("identity-threshold")
                    .nick("Identity threshold")
                    .blurb(
                        "In mode=owner, a face is the owner when its descriptor lies closer than \
                         this to theirs (euclidean distance, 0.2-1.0; lower refuses strangers \
                         more surely and the owner more often; dlib's own is 0.6)",
                    )
                    .minimum(0.2)
                    .maximum(1.0)
                    .default_value(DEFAULT_IDENTITY_THRESHOLD as f64)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("owner-id")
                    .nick("Owner id")
                    .blurb("Id reported for the enrolled owner (0 = none yet)")
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![video_glue::action_signal::<super::FaceRoi>(
                "enroll-owner",
                |e| e.imp().request_enroll(),
            )]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap();
        match pspec.name() {
            "detector" => s.detector = value.get().expect("type checked upstream"),
            "model-location" => s.model_location = video_glue::path_of(value),
            "min-face-size" => s.min_face_size = value.get().expect("type checked upstream"),
            "score-threshold" => s.score_threshold = value.get().expect("type checked upstream"),
            "min-confidence" => s.min_confidence = value.get().expect("type checked upstream"),
            "detection-interval" => {
                s.detection_interval = value.get().expect("type checked upstream")
            }
            "working-width" => s.working_width = value.get().expect("type checked upstream"),
            "max-faces" => s.max_faces = value.get().expect("type checked upstream"),
            "margin" => s.margin = value.get().expect("type checked upstream"),
            "updates" => s.updates = value.get().expect("type checked upstream"),
            "draw" => s.draw = value.get().expect("type checked upstream"),
            "mode" => s.mode = value.get().expect("type checked upstream"),
            "enroll" => s.enroll = value.get().expect("type checked upstream"),
            "mask-others" => s.mask_others = value.get().expect("type checked upstream"),
            "no-face-action" => s.no_face_action = value.get().expect("type checked upstream"),
            "owner-absent-action" => {
                s.owner_absent_action = value.get().expect("type checked upstream")
            }
            "owner-photo" => s.owner_photo = video_glue::path_of(value),
            "identity-threshold" => {
                s.identity_threshold = value.get().expect("type checked upstream")
            }
            _ => unimplemented!(),
        }
        gst::info!(CAT, imp = self, "{} set to {:?}", pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap();
        match pspec.name() {
            "detector" => s.detector.to_value(),
            "model-location" => video_glue::path_value(s.model_location.as_deref()),
            "min-face-size" => s.min_face_size.to_value(),
            "score-threshold" => s.score_threshold.to_value(),
            "min-confidence" => s.min_confidence.to_value(),
            "detection-interval" => s.detection_interval.to_value(),
            "working-width" => s.working_width.to_value(),
            "max-faces" => s.max_faces.to_value(),
            "margin" => s.margin.to_value(),
            "updates" => s.updates.to_value(),
            "draw" => s.draw.to_value(),
            "mode" => s.mode.to_value(),
            "enroll" => s.enroll.to_value(),
            "mask-others" => s.mask_others.to_value(),
            "no-face-action" => s.no_face_action.to_value(),
            "owner-absent-action" => s.owner_absent_action.to_value(),
            "owner-photo" => video_glue::path_value(s.owner_photo.as_deref()),
            "identity-threshold" => s.identity_threshold.to_value(),
            "owner-id" => {
                drop(s);
                let state = self.state.lock().unwrap();
                state
                    .as_ref()
                    .and_then(|st| st.tracker.owner_id())
                    .unwrap_or(0)
                    .to_value()
            }
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for FaceRoi {}

impl ElementImpl for FaceRoi {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Face ROI",
                "Filter/Analyzer/Video",
                "Detects and tracks faces, attaches region-of-interest meta, follows the owner \
                 and handles frames without a face",
                "pixelmeet developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| video_glue::always_pad_templates(&video_glue::raw_caps(&FORMATS)));
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for FaceRoi {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings.lock().unwrap().clone();
        let detector = settings.load_detector()?;
        gst::debug!(CAT, imp = self, "detector {:?}", detector.kind());
        let mut state = State::new(detector);
        // Owner mode loads its network here rather than on the first frame; a switch to owner
        // mode while playing loads it then.
        if settings.mode == Mode::Owner || settings.owner_photo.is_some() {
            let recognizer = load_recognizer()?;
            let photo = settings.photo_descriptor(&mut state.detector, &recognizer)?;
            if photo.is_some() {
                state.tracker.set_owner_photo(photo);
                gst::info!(
                    CAT,
                    imp = self,
                    "owner enrolled from {:?}",
                    settings.owner_photo
                );
            }
            state.recognizer = Some(recognizer);
        }
        *self.state.lock().unwrap() = Some(state);
        gst::debug!(CAT, imp = self, "started");
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap() = None;
        Ok(())
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
            // Boxes from another geometry mean nothing here.
            state.tracker.reset();
            state.detect_next = true;
        }
        gst::debug!(CAT, imp = self, "format {:?}", format.info);
        state.format = Some(format);
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if video_glue::is_custom_event(&event, ENROLL_EVENT) {
            self.request_enroll();
            return true;
        }
        if let gst::EventView::FlushStop(_) = event.view() {
            if let Some(state) = self.state.lock().unwrap().as_mut() {
                state.tracker.reset();
                state.detect_next = true;
            }
        }
        self.parent_sink_event(event)
    }

    fn src_event(&self, event: gst::Event) -> bool {
        if video_glue::is_custom_event(&event, ENROLL_EVENT) {
            self.request_enroll();
            return true;
        }
        self.parent_src_event(event)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let settings = self.settings.lock().unwrap().clone();
        let mut guard = self.state.lock().unwrap();
        let state = guard.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        let (faces, format) = self.analyse(state, buf, &settings)?;
        let info = &format.info;
        let present = !faces.reported.is_empty();
        let previous = state.last_count.replace(faces.reported.len());
        let presence_changed = previous.map(|n| n > 0) != Some(present);
        let count_changed = previous != Some(faces.reported.len());
        let owner_mode = settings.mode == Mode::Owner;
        let owner = state.tracker.owner_status();
        let owner_changed =
            owner_mode && state.owner_present.replace(owner.present) != Some(owner.present);
        drop(guard);
        if owner_changed {
            gst::info!(
                CAT,
                imp = self,
                "owner present: {} ({owner:?})",
                owner.present
            );
            self.post(self.owner_message(buf, &owner));
        }
        // Fail closed: while the owner is not seen every face is masked, and the frame may go.
        let owner_absent = owner_mode && !owner.present;
        let absent_action = if owner_absent {
            settings.owner_absent_action
        } else {
            NoFaceAction::Pass
        };

        let reported: Vec<(Face, PixelRect)> = faces
            .reported
            .iter()
            .filter_map(|f| {
                let r = f
                    .rect
                    .widened(settings.margin)
                    .to_pixels(info.width(), info.height())?;
                Some((*f, r))
            })
            .collect();
        let blank = (!present && settings.no_face_action == NoFaceAction::Blank)
            || absent_action == NoFaceAction::Blank;
        let mask = settings.mode == Mode::Owner
            && settings.mask_others != MaskOthers::None
            && !faces.others.is_empty();
        let draw = settings.draw && present;
        if blank || mask || draw {
            self.paint(buf, &format, &reported, &faces.others, &settings, blank)?;
        }
        for (face, r) in &reported {
            let id = i32::try_from(face.id).unwrap_or(i32::MAX);
            // The face itself, before `margin`: what bgreplace grows a head-and-shoulders
            // silhouette from, whatever margin the encoder was given.
            video_glue::roi::add_face(buf, id, *r, face.rect, face.confidence as f64);
        }
        if owner_mode {
            // What bgreplace keep=owner replaces whole.
            for other in &faces.others {
                if let Some(r) = other.to_pixels(info.width(), info.height()) {
                    video_glue::roi::add_masked_face(buf, r);
                }
            }
        }

        let post_faces = match settings.updates {
            Updates::EveryFrame => true,
            Updates::OnChange => count_changed,
            Updates::OnFace => present,
            Updates::None => false,
        };
        if post_faces {
            self.post(self.faces_message(buf, &reported));
        }
        if presence_changed {
            gst::info!(CAT, imp = self, "face present: {present}");
            self.post(self.presence_message(buf, present, reported.len()));
        }
        if (!present && settings.no_face_action == NoFaceAction::Drop)
            || absent_action == NoFaceAction::Drop
        {
            return Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED);
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

impl FaceRoi {
    fn request_enroll(&self) {
        gst::info!(CAT, imp = self, "owner re-enrollment requested");
        if let Some(state) = self.state.lock().unwrap().as_mut() {
            state.tracker.request_enroll();
            state.detect_next = true;
        }
    }

    /// Reads the frame and tracks its faces.
    fn analyse(
        &self,
        state: &mut State,
        buf: &gst::BufferRef,
        settings: &Settings,
    ) -> Result<(Faces, Format), gst::FlowError> {
        let format = state.format.clone().ok_or(gst::FlowError::NotNegotiated)?;
        let element = self.obj();
        let faces =
            video_glue::with_planes(element.upcast_ref(), buf, &format, |layout, planes| {
                self.track(state, layout, planes, settings)
            })?;
        Ok((faces, format))
    }

    /// Runs the detector when due and advances the tracker.
    fn track(
        &self,
        state: &mut State,
        layout: &PictureLayout,
        planes: &[&[u8]],
        settings: &Settings,
    ) -> Result<Faces, gst::FlowError> {
        let detector_settings = settings.detector();
        let (ww, wh) = detector_settings.working_size(layout.width, layout.height);
        let detect = state.detect_next
            || state.tracker.wants_detection()
            || state
                .frames
                .is_multiple_of(settings.detection_interval.max(1) as u64);
        state.detect_next = false;
        state.frames += 1;
        let faces = if detect {
            let working = layout.working_frame(planes, ww, wh);
            let found = state
                .detector
                .detect(&working, &detector_settings)
                .map_err(|e| {
                    gst::element_imp_error!(
                        self,
                        gst::StreamError::Failed,
                        ["face detection failed: {e}"]
                    );
                    gst::FlowError::Error
                })?;
            gst::trace!(CAT, imp = self, "{} detections on {ww}x{wh}", found.len());
            if settings.mode == Mode::Owner {
                self.update_owner(state, &working, &found, layout, planes, settings)?
            } else {
                state
                    .tracker
                    .update(&working, Some(&found), &settings.tracker())
            }
        } else {
            let working = layout.working_luma(planes, ww, wh);
            state.tracker.update(&working, None, &settings.tracker())
        };
        Ok(faces)
    }

    /// Advances the tracker in owner mode: faces it asks about are described from the
    /// full-resolution picture.
    fn update_owner(
        &self,
        state: &mut State,
        working: &face_tracking::WorkingFrame,
        found: &[Detection],
        layout: &PictureLayout,
        planes: &[&[u8]],
        settings: &Settings,
    ) -> Result<Faces, gst::FlowError> {
        if state.recognizer.is_none() {
            state.recognizer = Some(load_recognizer().map_err(|e| {
                self.post_error_message(e);
                gst::FlowError::Error
            })?);
        }
        let recognizer = state.recognizer.as_ref().expect("loaded above");
        let picture = Picture { layout, planes };
        let mut failure = None;
        let mut identify = |d: &Detection| match recognizer.describe(picture, d) {
            Ok(descriptor) => {
                gst::log!(CAT, imp = self, "described the face at {:?}", d.rect);
                Some(descriptor)
            }
            Err(e) => {
                failure.get_or_insert(e);
                None
            }
        };
        let faces =
            state
                .tracker
                .update_with(working, Some(found), &mut identify, &settings.tracker());
        if let Some(e) = failure {
            gst::element_imp_error!(
                self,
                gst::StreamError::Failed,
                ["face description failed: {e}"]
            );
            return Err(gst::FlowError::Error);
        }
        Ok(faces)
    }

    /// Blanks the frame, or masks `others` and outlines the `reported` boxes, as set.
    #[allow(clippy::too_many_arguments)]
    fn paint(
        &self,
        buf: &mut gst::BufferRef,
        format: &Format,
        reported: &[(Face, PixelRect)],
        others: &[Rect],
        settings: &Settings,
        blank: bool,
    ) -> Result<(), gst::FlowError> {
        let element = self.obj();
        video_glue::with_planes_mut(element.upcast_ref(), buf, format, |layout, planes| {
            self.paint_planes(layout, planes, reported, others, settings, blank);
            Ok(())
        })
    }

    fn paint_planes(
        &self,
        layout: &PictureLayout,
        planes: &mut [&mut [u8]],
        reported: &[(Face, PixelRect)],
        others: &[Rect],
        settings: &Settings,
        blank: bool,
    ) {
        let (w, h) = (layout.width, layout.height);
        if blank {
            let all = PixelRect {
                x: 0,
                y: 0,
                width: w,
                height: h,
            };
            layout.fill(planes, all, BLANK_COLOUR);
            return;
        }
        if settings.mode == Mode::Owner {
            for other in others {
                // Masks cover the head, not just the detected face box.
                let Some(r) = other.widened(25).to_pixels(w, h) else {
                    continue;
                };
                match settings.mask_others {
                    MaskOthers::None => {}
                    MaskOthers::Fill => layout.fill(planes, r, FILL_COLOUR),
                    MaskOthers::Pixelate => layout.pixelate(planes, r, (r.width / 6).max(8)),
                }
            }
        }
        if settings.draw {
            let colour = if settings.mode == Mode::Owner {
                OWNER_BOX_COLOUR
            } else {
                BOX_COLOUR
            };
            for (_, r) in reported {
                layout.outline(planes, *r, (w / 320).max(2), colour);
            }
        }
    }

    /// A message structure with facedetect's timing fields.
    fn timing(&self, name: &str, buf: &gst::BufferRef) -> gst::structure::Builder {
        let pts = buf.pts();
        let segment = self.obj().segment();
        let segment = segment.downcast_ref::<gst::ClockTime>();
        let running = segment.and_then(|s| s.to_running_time(pts));
        let stream = segment.and_then(|s| s.to_stream_time(pts));
        gst::Structure::builder(name)
            .field("timestamp", pts.map_or(u64::MAX, |t| t.nseconds()))
            .field("stream-time", stream.map_or(u64::MAX, |t| t.nseconds()))
            .field("running-time", running.map_or(u64::MAX, |t| t.nseconds()))
            .field(
                "duration",
                buf.duration().map_or(u64::MAX, |t| t.nseconds()),
            )
    }

    fn faces_message(&self, buf: &gst::BufferRef, faces: &[(Face, PixelRect)]) -> gst::Structure {
        let list = gst::List::new(faces.iter().map(|(f, r)| {
            gst::Structure::builder("face")
                .field("x", r.x)
                .field("y", r.y)
                .field("width", r.width)
                .field("height", r.height)
                .field("confidence", f.confidence as f64)
                .field("id", u32::try_from(f.id).unwrap_or(u32::MAX))
                .build()
        }));
        self.timing("faceroi", buf).field("faces", list).build()
    }

    fn presence_message(
        &self,
        buf: &gst::BufferRef,
        present: bool,
        count: usize,
    ) -> gst::Structure {
        self.timing("faceroi-presence", buf)
            .field("face-present", present)
            .field("faces", count as u32)
            .build()
    }

    fn owner_message(
        &self,
        buf: &gst::BufferRef,
        owner: &face_tracking::OwnerStatus,
    ) -> gst::Structure {
        self.timing("faceroi-owner", buf)
            .field("owner-present", owner.present)
            .field(
                "owner-id",
                owner
                    .id
                    .map_or(0, |id| u32::try_from(id).unwrap_or(u32::MAX)),
            )
            .field("distance", owner.distance.map_or(-1.0, f64::from))
            .build()
    }

    fn post(&self, s: gst::Structure) {
        let msg = gst::message::Element::builder(s).src(&*self.obj()).build();
        // A harness element has no bus; nobody listening is not an error.
        let _ = self.obj().post_message(msg);
    }
}
