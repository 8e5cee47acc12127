//! AWS CloudTrail: the `cloudtrail` table's schema, lenient JSON reading, the shapes records
//! arrive in, and the decoder into Arrow.

pub mod decoder;
pub mod json;
pub mod lexer;
pub mod schema;
pub mod shapes;

pub use decoder::{CloudTrailDecoder, Prefilter};
