//! The access-log record grammar on any line, then the whole decoder on the same bytes as an
//! object: never a panic, and every non-blank line is a row or a reject.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3trawl::format::access_log::DecoderOptions;
use s3trawl::format::access_log::parse::{Record, parse_record};
use s3trawl::scan::{Output, ScanOptions, decode_all};

fuzz_target!(|data: &[u8]| {
    let mut rec = Record::default();
    let _ = parse_record(data, &mut rec, false);
    let _ = parse_record(data, &mut rec, true);
    let options = ScanOptions {
        decoder: DecoderOptions::default(),
        cloudtrail_projection: None,
        cloudtrail_prefilter: None,
        output: Output::AccessLogs,
    };
    if let Ok((batches, report)) = decode_all("fuzz.log", bytes::Bytes::copy_from_slice(data), options)
    {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let text_like = report.kind == s3trawl::format::LogKind::AccessLog;
        if text_like {
            let lines = data
                .split(|b| *b == b'\n')
                .filter(|l| l.iter().any(|b| !matches!(b, b' ' | b'\t' | b'\r')))
                .count() as u64;
            assert_eq!(rows as u64 + report.counts.rejects, lines, "a line lost");
        }
    }
});
