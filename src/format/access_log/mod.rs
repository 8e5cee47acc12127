//! S3 server access logs: the schema of `access_logs`, the record parser and the decoder.

pub mod decoder;
pub mod lex;
pub mod parse;
pub mod schema;
mod shape;
mod tail;

pub use decoder::{AccessLogDecoder, DecodeCounts, DecoderOptions};
