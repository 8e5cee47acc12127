//! The CloudTrail reader (every shape: documents, one record per line, envelopes, damaged
//! text) on any text: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3trawl::format::access_log::DecoderOptions;
use s3trawl::scan::{Output, ScanOptions, decode_all};

fuzz_target!(|data: &[u8]| {
    // Steered towards JSON: the reader is chosen by the content's first byte.
    let mut raw = Vec::with_capacity(data.len() + 1);
    if !data.starts_with(b"{") && !data.starts_with(b"[") {
        raw.push(b'{');
    }
    raw.extend_from_slice(data);
    let options = ScanOptions {
        decoder: DecoderOptions::default(),
        cloudtrail_projection: None,
        cloudtrail_prefilter: None,
        output: Output::CloudTrail,
    };
    let _ = decode_all("fuzz.json", bytes::Bytes::from(raw), options);
});
