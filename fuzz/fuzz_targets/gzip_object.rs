//! The gzip path (one-shot libdeflate, streaming flate2 with damage, any number of members)
//! on any bytes after a gzip header, in small windows and through the whole scan: never a
//! panic, offsets that add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3trawl::format::access_log::DecoderOptions;
use s3trawl::scan::{Output, ScanOptions, decode_all};
use s3trawl::source::decompress::{Chunk, Windows};

fuzz_target!(|data: &[u8]| {
    let mut raw = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
    raw.extend_from_slice(data);
    let raw = bytes::Bytes::from(raw);
    let mut offset = 0u64;
    for item in Windows::with_window_size(raw.clone(), 64) {
        match item {
            Ok(Chunk::Lines(w)) => {
                assert_eq!(w.offset, offset);
                offset += w.data.len() as u64;
            }
            Ok(Chunk::LongLine(l)) => offset = l.offset + l.len + u64::from(l.terminated),
            Err(d) => {
                assert!(d.offset >= offset);
                break;
            }
        }
    }
    let options = ScanOptions {
        decoder: DecoderOptions::default(),
        cloudtrail_projection: None,
        cloudtrail_prefilter: None,
        output: Output::Ingest,
    };
    let _ = decode_all("fuzz.gz", raw, options);
});
