//! S3 server access logs: the schema of `access_logs`, the record parser and the decoder.

pub mod decoder;
pub mod parse;
pub mod schema;

pub use decoder::{AccessLogDecoder, DecodeCounts, DecoderOptions};
