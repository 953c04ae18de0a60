// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The meeting's SRTP key, read from a file inside the process so it never appears on a
//! command line, and the SRTP elements both bins make from it.
//!
//! A key file holds 60 hex digits: AES-128 counter mode's 16-byte master key and 14-byte salt
//! (`pipelines/send --make-key` writes one). Files that group or others may read are refused.

use gst::glib;
use gst::prelude::*;
use std::io::Read as _;
use std::path::Path;

/// Master key and salt.
const KEY_BYTES: usize = 30;

#[derive(Clone)]
pub struct SrtpKey(Vec<u8>);

impl std::fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("SrtpKey(..)")
    }
}

impl SrtpKey {
    pub fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("the key file {shown} is not a regular file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the key file {shown} may be read by others (mode {:o}); chmod 600 it",
                    mode & 0o777
                ));
            }
        }
        // Twice the key's length is room for spaces and line ends; a longer file is not a key.
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(4 * KEY_BYTES as u64).read_to_string(&mut text))
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        Self::from_hex(&text).ok_or_else(|| {
            format!("{shown} holds no SRTP key: 60 hex digits (make one with pipelines/send --make-key FILE)")
        })
    }

    fn from_hex(text: &str) -> Option<Self> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if digits.len() != 2 * KEY_BYTES {
            return None;
        }
        let bytes = digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Self(bytes))
    }

    fn buffer(&self) -> gst::Buffer {
        gst::Buffer::from_slice(self.0.clone())
    }

    /// An `srtpenc` protecting RTP and RTCP with this key.
    pub fn encoder(&self, name: &str) -> Result<gst::Element, glib::BoolError> {
        let enc = crate::graph::make("srtpenc", name)?;
        enc.set_property("key", self.buffer());
        for (_, property, value) in CIPHERS {
            enc.set_property_from_str(property, value);
        }
        Ok(enc)
    }

    /// An `srtpdec` that takes this key for every sender it hears from (whose SSRCs are random).
    pub fn decoder(&self, name: &str) -> Result<gst::Element, glib::BoolError> {
        let dec = crate::graph::make("srtpdec", name)?;
        // The answer to request-key: the key and ciphers as srtpdec reads them from caps.
        let mut key =
            gst::Structure::builder("application/x-srtp").field("srtp-key", self.buffer());
        for (field, _, value) in CIPHERS {
            key = key.field(field, value);
        }
        let caps = gst::Caps::builder_full().structure(key.build()).build();
        dec.connect("request-key", false, move |_| Some(caps.to_value()));
        Ok(dec)
    }
}

/// AES-128 counter mode with HMAC-SHA1-80 for RTP and RTCP (RFC 3711's default), as srtpdec's
/// caps field and srtpenc's property name it.
const CIPHERS: [(&str, &str, &str); 4] = [
    ("srtp-cipher", "rtp-cipher", "aes-128-icm"),
    ("srtp-auth", "rtp-auth", "hmac-sha1-80"),
    ("srtcp-cipher", "rtcp-cipher", "aes-128-icm"),
    ("srtcp-auth", "rtcp-auth", "hmac-sha1-80"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_sixty_hex_digits() {
        let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccdd";
        assert!(SrtpKey::from_hex(&format!("{key}\n")).is_some());
        assert!(SrtpKey::from_hex(&key[..58]).is_none());
        assert!(SrtpKey::from_hex(&format!("{}zz", &key[..58])).is_none());
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let path = std::env::temp_dir().join(format!("pixelmeet-key-{}", std::process::id()));
        std::fs::write(
            &path,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccdd\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = SrtpKey::read(&path).unwrap_err();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SrtpKey::read(&path).is_ok());
        std::fs::remove_file(&path).unwrap();
    }
}
