//! What an object holds, from its first bytes: access log, CloudTrail (JSON), digest, binary
//! or blank, decompressing only the start of a gzip object.
//!
//! In: an object's raw bytes. Out: its [`LogKind`], or `None` when the start is blank and the
//! kind is decided further in (by the scan, window by window).

use std::io::Read;

use crate::format::{LogKind, SNIFF_LEN, sniff};
use crate::source::decompress::is_gzip;

/// Gzip objects smaller than this (compressed) are sniffed after decompression, not before.
pub(super) const SNIFF_WHOLE_BELOW: usize = 256 << 10;

/// The kind of an object from its first bytes, decompressing only the start of a gzip object.
/// `None` when the start is blank (the kind is decided further in).
pub(super) fn sniff_raw(raw: &[u8]) -> Option<LogKind> {
    let kind = if is_gzip(raw) {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let _ = flate2::read::MultiGzDecoder::new(raw)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut head);
        if head.is_empty() {
            // Damage at the very start: let the full read report it.
            return None;
        }
        sniff(&head)
    } else {
        sniff(raw)
    };
    (kind != LogKind::Empty).then_some(kind)
}
