// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! docs/elements.md against what GStreamer itself reports about the elements: every property
//! and signal an element installs is documented under its `## <element>` heading, every
//! documented one exists, and the type, read-only/READY marks, range, enum values and default
//! in each row are the ones the element has. Plugins and elements are enumerated from the
//! registry, so a new plugin, element, property, signal or enum value fails here until it is
//! documented.
//!
//! What the document must look like for this test (no `|` inside a table cell):
//! - one `## <factory name>` section per element; `###` subsections belong to it;
//! - property tables have the header `| property | type | range / values | default | meaning |`,
//!   the property name in backticks in the first cell;
//! - type cell: `bool`, `int`, `uint`, `int64`, `uint64`, `float`, `double`, `string`, `enum`,
//!   then `, read-only` for a property that cannot be set, `, READY` for one that can only be
//!   changed in NULL or READY;
//! - range cell of a settable number: the minimum and maximum, each in backticks; of an enum:
//!   every nick in backticks, nothing else in backticks;
//! - default cell: the value in backticks (decimal or 0x hex, `true`/`false`, the enum nick),
//!   or `unset` for a string that is NULL;
//! - signal tables have the header `| signal | kind | ... |`, `action` in the kind of an action
//!   signal;
//! - a `gst-launch-1.0` example line that uses the element and parses.

use pixelmeet_testkit as common;

use gst::glib;
use gst::glib::translate::IntoGlib;
use gst::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const DOC_PATH: &str = "docs/elements.md";
const DOC: &str = include_str!("../../docs/elements.md");
/// Plugins that must be among those found (a guard against finding none).
const PLUGINS: [&str; 3] = ["pixeldiff", "faceroi", "bgreplace"];

/// The element factories of our plugins, by name, from the registry. Our plugins are the ones
/// registered statically (no file) from a `gst-plugin-*` crate, so one added to
/// `pixelmeet::init` is covered without a list kept here.
fn factories() -> BTreeMap<String, gst::ElementFactory> {
    common::init();
    let registry = gst::Registry::get();
    let plugins: BTreeSet<String> = registry
        .plugins()
        .into_iter()
        .filter(|p| p.filename().is_none() && p.source().starts_with("gst-plugin-"))
        .map(|p| p.plugin_name().to_string())
        .collect();
    for plugin in PLUGINS {
        assert!(
            plugins.contains(plugin),
            "plugin {plugin} is not registered statically (found {plugins:?})"
        );
    }
    let mut out = BTreeMap::new();
    for plugin in &plugins {
        let features: Vec<_> = registry
            .features_by_plugin(plugin)
            .into_iter()
            .filter_map(|f| f.downcast::<gst::ElementFactory>().ok())
            .collect();
        assert!(
            !features.is_empty(),
            "plugin {plugin} registered no element factory"
        );
        for f in features {
            out.insert(f.name().to_string(), f);
        }
    }
    out
}

/// The `## name` sections of the document: name -> body lines (up to the next `## `).
fn sections(doc: &str) -> BTreeMap<String, Vec<&str>> {
    let mut out: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_code = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if !in_code {
            if let Some(title) = line.strip_prefix("## ") {
                let name = title.trim().to_string();
                assert!(
                    !out.contains_key(&name),
                    "{DOC_PATH}: two `## {name}` sections"
                );
                out.insert(name.clone(), Vec::new());
                current = Some(name);
                continue;
            }
        }
        if let Some(name) = &current {
            out.get_mut(name).expect("inserted above").push(line);
        }
    }
    out
}

/// A markdown table: the header cells (lower case) and the rows' cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Index of the column whose header starts with `prefix`.
    fn column(&self, prefix: &str) -> Option<usize> {
        self.header.iter().position(|h| h.starts_with(prefix))
    }
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

/// Tables in `lines` (runs of lines starting with `|`, the second being the `---` rule).
fn tables(lines: &[&str]) -> Vec<Table> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with('|') {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].trim_start().starts_with('|') {
            i += 1;
        }
        let block = &lines[start..i];
        let header = cells(block[0])
            .into_iter()
            .map(|c| c.to_lowercase())
            .collect();
        let rows = block.iter().skip(2).map(|l| cells(l)).collect();
        out.push(Table { header, rows });
    }
    out
}

/// The text between backticks in a cell, in order.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A property value as the document writes it.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Option<String>),
    Enum(String),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Bool(b) => write!(f, "`{b}`"),
            Val::Int(i) => write!(f, "`{i}`"),
            Val::Float(x) => write!(f, "`{x}`"),
            Val::Str(None) => write!(f, "unset"),
            Val::Str(Some(s)) => write!(f, "`{s}`"),
            Val::Enum(n) => write!(f, "`{n}`"),
        }
    }
}

impl Val {
    /// A GValue in the document's terms; None for kinds the document does not spell out
    /// (boxed, objects, flags).
    fn of(v: &glib::Value) -> Option<Val> {
        let t = v.type_();
        Some(if t == bool::static_type() {
            Val::Bool(v.get().ok()?)
        } else if t == i32::static_type() {
            Val::Int(v.get::<i32>().ok()?.into())
        } else if t == u32::static_type() {
            Val::Int(v.get::<u32>().ok()?.into())
        } else if t == i64::static_type() {
            Val::Int(v.get::<i64>().ok()?.into())
        } else if t == u64::static_type() {
            Val::Int(v.get::<u64>().ok()?.into())
        } else if t == f32::static_type() {
            Val::Float(v.get::<f32>().ok()?.into())
        } else if t == f64::static_type() {
            Val::Float(v.get::<f64>().ok()?)
        } else if t == String::static_type() {
            Val::Str(v.get::<Option<String>>().ok()?)
        } else if t.is_a(glib::Type::ENUM) {
            let (_, value) = glib::EnumValue::from_value(v)?;
            Val::Enum(value.nick().to_string())
        } else {
            return None;
        })
    }

    /// Parse `text` as a value of the same kind as `self`.
    fn parse_like(&self, text: &str) -> Option<Val> {
        Some(match self {
            Val::Bool(_) => Val::Bool(text.parse().ok()?),
            Val::Int(_) => Val::Int(match text.strip_prefix("0x") {
                Some(hex) => i128::from_str_radix(hex, 16).ok()?,
                None => text.parse().ok()?,
            }),
            Val::Float(_) => Val::Float(text.parse().ok()?),
            Val::Str(_) => Val::Str(Some(text.to_string())),
            Val::Enum(_) => Val::Enum(text.to_string()),
        })
    }

    /// Equal, floats to within rounding (an f32 default read as f64, 0.01 as 0.0099999998).
    fn matches(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Float(a), Val::Float(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0),
            _ => self == other,
        }
    }
}

/// The type word the document uses for a property's type.
fn type_word(pspec: &glib::ParamSpec) -> String {
    let t = pspec.value_type();
    let word = if t == bool::static_type() {
        "bool"
    } else if t == i32::static_type() {
        "int"
    } else if t == u32::static_type() {
        "uint"
    } else if t == i64::static_type() {
        "int64"
    } else if t == u64::static_type() {
        "uint64"
    } else if t == f32::static_type() {
        "float"
    } else if t == f64::static_type() {
        "double"
    } else if t == String::static_type() {
        "string"
    } else if t.is_a(glib::Type::ENUM) {
        "enum"
    } else if t.is_a(glib::Type::FLAGS) {
        "flags"
    } else {
        return t.name().to_string();
    };
    word.to_string()
}

/// Minimum and maximum of a numeric property.
fn range(pspec: &glib::ParamSpec) -> Option<(Val, Val)> {
    let int = |a: i128, b: i128| Some((Val::Int(a), Val::Int(b)));
    let float = |a: f64, b: f64| Some((Val::Float(a), Val::Float(b)));
    if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt>() {
        int(p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt>() {
        int(p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt64>() {
        int(p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt64>() {
        int(p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecFloat>() {
        float(p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecDouble>() {
        float(p.minimum(), p.maximum())
    } else {
        None
    }
}

/// Names of the signals `t` itself registers (not those of its ancestors).
fn signals_of(t: glib::Type) -> Vec<String> {
    let mut n = 0u32;
    // SAFETY: g_signal_list_ids returns a newly allocated array of `n` valid signal ids of an
    // instantiatable type (the class is initialised: an instance exists), freed with g_free
    // after the names (static strings owned by GObject) are copied.
    unsafe {
        let ids = glib::gobject_ffi::g_signal_list_ids(t.into_glib(), &mut n);
        let names = (0..n as usize)
            .map(|i| {
                let name = glib::gobject_ffi::g_signal_name(*ids.add(i));
                std::ffi::CStr::from_ptr(name)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        glib::ffi::g_free(ids.cast());
        names
    }
}

/// Rows of the `tables` whose first header cell is `kind` (`property`, `signal`), by the name
/// in their first cell; malformed or repeated rows go to `failures`.
fn rows_of<'a>(
    element: &str,
    tables: &'a [Table],
    kind: &str,
    failures: &mut Vec<String>,
) -> BTreeMap<String, (&'a Table, &'a Vec<String>)> {
    let mut out = BTreeMap::new();
    for table in tables.iter().filter(|t| t.header[0] == kind) {
        for row in &table.rows {
            let spans = code_spans(&row[0]);
            let [name] = spans[..] else {
                failures.push(format!(
                    "{element}: {kind} row `{}` does not give one name in backticks",
                    row.join(" | ")
                ));
                continue;
            };
            if row.len() != table.header.len() {
                failures.push(format!(
                    "{element}: {kind} `{name}` row has {} cells, its table {}",
                    row.len(),
                    table.header.len()
                ));
            }
            if out.insert(name.to_string(), (table, row)).is_some() {
                failures.push(format!("{element}: {kind} `{name}` is documented twice"));
            }
        }
    }
    out
}

/// Checks one documented property row against the element.
fn check_property_row(
    element: &gst::Element,
    pspec: &glib::ParamSpec,
    own: bool,
    table: &Table,
    row: &[String],
    failures: &mut Vec<String>,
) {
    let who = format!("{}.{}", element.factory().unwrap().name(), pspec.name());
    let cell = |prefix: &str| -> &str {
        table
            .column(prefix)
            .and_then(|i| row.get(i))
            .map_or("", String::as_str)
    };
    if ["type", "range", "default"]
        .iter()
        .any(|c| table.column(c).is_none())
    {
        failures.push(format!(
            "{who}: its property table lacks a type, range or default column"
        ));
        return;
    }
    let flags = pspec.flags();
    let writable = flags.contains(glib::ParamFlags::WRITABLE);

    // Type, read-only and READY marks.
    let type_cell = cell("type");
    let mut words = type_cell.split(',').map(str::trim);
    let expected = type_word(pspec);
    if words.next() != Some(expected.as_str()) {
        failures.push(format!(
            "{who}: documented type \"{type_cell}\", GStreamer says {expected}"
        ));
    }
    let marks: Vec<&str> = words.collect();
    if marks.contains(&"read-only") == writable {
        failures.push(format!(
            "{who}: {} but the docs {} it read-only",
            if writable { "writable" } else { "read-only" },
            if writable { "call" } else { "do not call" }
        ));
    }
    let ready_only = writable
        && flags.contains(gst::PARAM_FLAG_MUTABLE_READY)
        && !flags.intersects(gst::PARAM_FLAG_MUTABLE_PAUSED | gst::PARAM_FLAG_MUTABLE_PLAYING);
    if marks.contains(&"READY") != ready_only {
        failures.push(format!(
            "{who}: {} only in NULL or READY, the docs {} `READY` in its type cell",
            if ready_only {
                "changeable"
            } else {
                "not changeable"
            },
            if ready_only { "lack" } else { "have" }
        ));
    }

    // Range or enum values.
    let range_cell = cell("range");
    if pspec.value_type().is_a(glib::Type::ENUM) {
        let class = glib::EnumClass::with_type(pspec.value_type()).expect("an enum type");
        let nicks: BTreeSet<&str> = class.values().iter().map(|v| v.nick()).collect();
        let documented: BTreeSet<&str> = code_spans(range_cell).into_iter().collect();
        if nicks != documented {
            failures.push(format!(
                "{who}: documented values {documented:?}, the enum has {nicks:?}"
            ));
        }
    } else if let (true, Some((min, max))) = (writable, range(pspec)) {
        let spans = code_spans(range_cell);
        let documented: Vec<Option<Val>> = spans.iter().map(|s| min.parse_like(s)).collect();
        let ok =
            matches!(&documented[..], [Some(a), Some(b)] if a.matches(&min) && b.matches(&max));
        if !ok {
            failures.push(format!(
                "{who}: documented range \"{range_cell}\", GStreamer says {min} – {max}"
            ));
        }
    }

    // Default: what a fresh element reports. For a property the element installs, that must
    // also be the param spec's declared default (gst-inspect and the docs would disagree with
    // the code otherwise); an inherited property may legitimately be set by the subclass
    // (pixeldiffdec's min-force-key-unit-interval).
    if !flags.contains(glib::ParamFlags::READABLE) {
        return;
    }
    let Some(actual) = Val::of(&element.property_value(pspec.name())) else {
        return;
    };
    if own {
        let declared = Val::of(pspec.default_value()).expect("same kind as the value");
        if !declared.matches(&actual) {
            failures.push(format!(
                "{who}: a fresh element has {actual}, its param spec declares default {declared}"
            ));
        }
    }
    let default_cell = cell("default");
    let documented = match (&actual, code_spans(default_cell).first()) {
        (Val::Str(None), None) if default_cell == "unset" => Some(Val::Str(None)),
        (_, Some(span)) => actual.parse_like(span),
        _ => None,
    };
    if !documented.is_some_and(|d| d.matches(&actual)) {
        failures.push(format!(
            "{who}: documented default \"{default_cell}\", GStreamer says {actual}"
        ));
    }
}

/// Checks an example line: it runs gst-launch-1.0 with the element, and parses (elements from
/// other packages that are not installed are let pass).
fn check_examples(name: &str, lines: &[&str], failures: &mut Vec<String>) {
    let examples: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("gst-launch-1.0 "))
        .filter(|l| l.split_whitespace().any(|w| w == name))
        .collect();
    if examples.is_empty() {
        failures.push(format!(
            "{name}: no one-line `gst-launch-1.0` example using it under `## {name}`"
        ));
    }
    for example in examples {
        let pipeline = example.trim_start_matches("-m ").trim();
        match gst::parse::launch(pipeline) {
            Ok(p) => drop(p),
            Err(e) if e.kind::<gst::ParseError>() == Some(gst::ParseError::NoSuchElement) => {
                eprintln!("{name}: example not checked ({e}): {pipeline}");
            }
            Err(e) => failures.push(format!("{name}: example does not parse ({e}): {pipeline}")),
        }
    }
}

#[test]
fn every_element_property_and_signal_is_documented_as_gstreamer_reports_it() {
    let factories = factories();
    let sections = sections(DOC);
    let mut failures = Vec::new();

    for name in sections.keys() {
        if !factories.contains_key(name) {
            failures.push(format!(
                "{DOC_PATH} has a section `## {name}`, but the plugins have no such element"
            ));
        }
    }

    // The element types of our plugins. A property or signal counts as the element's own when
    // one of these types installed it (param spec owner type, signal's type): the element's
    // type, or one of ours it derives from. Those of GStreamer's classes (GstObject's `name`
    // and `parent`, GstBaseTransform's `qos`, the RTP base classes' `mtu`, ...) are not
    // required; they may be documented (as "inherited, worth knowing") and are then checked
    // like the rest.
    let ours: BTreeSet<glib::Type> = factories
        .values()
        .map(|f| f.load().expect("loads").element_type())
        .collect();

    for (name, factory) in &factories {
        let element = factory.create().build().expect("element is created");
        let Some(lines) = sections.get(name) else {
            failures.push(format!(
                "{DOC_PATH} has no `## {name}` section for the element {name}"
            ));
            continue;
        };
        let tables = tables(lines);

        let documented = rows_of(name, &tables, "property", &mut failures);
        for pspec in element.list_properties() {
            if ours.contains(&pspec.owner_type()) && !documented.contains_key(pspec.name()) {
                failures.push(format!(
                    "{name}: property `{}` is not documented (no row in a property table under \
                     `## {name}` in {DOC_PATH})",
                    pspec.name()
                ));
            }
        }
        for (property, (table, row)) in &documented {
            match element.find_property(property) {
                Some(pspec) => {
                    let own = ours.contains(&pspec.owner_type());
                    check_property_row(&element, &pspec, own, table, row, &mut failures);
                }
                None => failures.push(format!(
                    "{name}: {DOC_PATH} documents a property `{property}` the element does not \
                     have"
                )),
            }
        }

        let documented = rows_of(name, &tables, "signal", &mut failures);
        let mut own_signals = Vec::new();
        let mut t = element.type_();
        while ours.contains(&t) {
            own_signals.extend(signals_of(t));
            t = t.parent().expect("an element type has a parent");
        }
        for signal in &own_signals {
            if !documented.contains_key(signal) {
                failures.push(format!(
                    "{name}: signal `{signal}` is not documented (no row in a signal table under \
                     `## {name}`)"
                ));
            }
        }
        for (signal, (table, row)) in &documented {
            match glib::subclass::SignalId::lookup(signal, element.type_()) {
                Some(id) => {
                    let action = id.query().flags().contains(glib::SignalFlags::ACTION);
                    let kind = table.column("kind").and_then(|i| row.get(i));
                    if kind.is_some_and(|k| k.contains("action")) != action {
                        failures.push(format!(
                            "{name}: signal `{signal}` {} an action signal, its kind cell says \
                             otherwise",
                            if action { "is" } else { "is not" }
                        ));
                    }
                }
                None => failures.push(format!(
                    "{name}: {DOC_PATH} documents a signal `{signal}` the element does not have"
                )),
            }
        }

        check_examples(name, lines, &mut failures);
    }

    assert!(
        failures.is_empty(),
        "{DOC_PATH} disagrees with the elements:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn the_parser_finds_what_the_checks_rely_on() {
    // Guards the test itself: a parser that found no tables would pass everything vacuously.
    let sections = sections(DOC);
    let enc = tables(&sections["pixeldiffenc"]);
    let mut failures = Vec::new();
    let rows = rows_of("pixeldiffenc", &enc, "property", &mut failures);
    assert!(failures.is_empty(), "{failures:?}");
    assert!(rows.contains_key("quality") && rows.contains_key("roi-mode"));
    let (table, row) = rows["quality"];
    assert_eq!(code_spans(&row[table.column("default").unwrap()]), ["45"]);
    let faceroi = tables(&sections["faceroi"]);
    let signals = rows_of("faceroi", &faceroi, "signal", &mut failures);
    assert!(signals.contains_key("enroll-owner"));
    assert_eq!(
        Val::Int(0).parse_like("0xff344a5e"),
        Some(Val::Int(0xff34_4a5e))
    );
    assert!(Val::Float(0.01).matches(&Val::Float(0.01f32 as f64)));
}
