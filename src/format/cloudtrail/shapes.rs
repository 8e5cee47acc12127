//! The shapes CloudTrail arrives in, as one object's text.
//!
//! - A delivered log file: `{"Records":[…]}`, minified or pretty-printed. Its records are
//!   streamed out of the array, so a truncated or corrupt file still yields every record
//!   before the damage, and one reject says where the damage is.
//! - One record per line (CloudTrail Lake exports, records extracted by other tools), or
//!   records one after another without a separator.
//! - EventBridge events, whose `detail` is the record.
//! - CloudWatch Logs subscription envelopes, whose `logEvents[].message` holds a record as a
//!   JSON string.
//! - Digest files (no `Records`): recognised and counted, not read as events.
//!
//! Anything else JSON is a reject. Damage never costs the complete records around it: a
//! document that is cut short, corrupt in the middle, starts inside a record (a copy out of a
//! terminal, an interrupted download) or ends in garbage is read on from the next record's
//! start wherever it is (the next `{` whose first key is one a record begins with), the
//! punctuation of the array skipped, and what lies between records is one reject with its byte
//! offset.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::json::{self, KeyIndex, elements, slots};
use super::lexer::{self, Lexer};

/// What the shapes are read into.
pub trait Sink {
    /// A record, as the raw JSON text it occupies; returns `false` if it could not be read as
    /// one (it is not an object).
    fn record(&mut self, raw: &str) -> bool;
    fn digest(&mut self);
    fn reject(&mut self, byte_offset: u64, reason: String, raw: &str);
    /// For the one-pass reading of a well-formed log file: the keys whose values
    /// [`Sink::record_slots`] takes (`None`: read every document the careful way).
    fn keys(&self) -> Option<&'static KeyIndex> {
        None
    }
    /// A record, as the values of [`Sink::keys`].
    fn record_slots(&mut self, _values: &json::Slots<'_>) {}
    /// Forgets every record so far: the one-pass reading gave up, the careful one starts over.
    fn restart(&mut self) {}
}

/// Reads every record of an object's text into `sink`.
pub fn read(text: &str, sink: &mut dyn Sink) {
    if first_key(text).is_some_and(|k| k.eq_ignore_ascii_case("Records")) {
        // Delivered log files are well-formed: read each record straight out of the document,
        // one pass over the text. Anything unusual (a record that is not an object, damage,
        // content after the document) starts over the careful way, which says where.
        if let Some(keys) = sink.keys() {
            if read_records_in_one_pass(text, keys, sink).is_ok() {
                return;
            }
            sink.restart();
        }
        if let Some(rest) = read_records_document(text, sink) {
            read_values(text, rest, sink);
        }
    } else {
        read_values(text, 0, sink);
    }
}

/// The first key of the object `text` starts with, if it starts with one.
fn first_key(text: &str) -> Option<&str> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let t = t.strip_prefix('{')?.trim_start().strip_prefix('"')?;
    Some(&t[..t.find('"')?])
}

/// `{"Records":[…]}` read in one pass with the strict [`lexer`], each record straight into
/// `sink`; [`lexer::Invalid`] if the text is anything but a well-formed document of object
/// records (the records read so far are then to be forgotten).
fn read_records_in_one_pass(text: &str, keys: &KeyIndex, sink: &mut dyn Sink) -> lexer::Result<()> {
    let mut lexer = Lexer::new(text);
    lexer.whitespace();
    lexer.object(0, |lexer, key| {
        if !key.is("Records") {
            return lexer.value(1).map(drop);
        }
        match lexer.peek() {
            Some(b'n') => lexer.value(1).map(drop),
            Some(b'[') => lexer.array(1, |lexer| {
                if lexer.peek() != Some(b'{') {
                    return Err(lexer::Invalid);
                }
                let values = json::read_slots(lexer, 2, keys)?;
                sink.record_slots(&values);
                Ok(())
            }),
            _ => Err(lexer::Invalid),
        }
    })?;
    lexer.end()
}

/// `{"Records": …, …}`: every `Records` value (the key in any case) collected as raw records,
/// every other value skipped.
struct LogFile<'o, 'de> {
    out: &'o mut Vec<&'de RawValue>,
}

impl<'de> DeserializeSeed<'de> for LogFile<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogFile<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key.eq_ignore_ascii_case("Records") {
                map.next_value_seed(RecordArray {
                    out: &mut *self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Streams `{"Records":[…]}`; returns where more content starts if the document is followed
/// by another one.
fn read_records_document(text: &str, sink: &mut dyn Sink) -> Option<usize> {
    let mut records: Vec<&RawValue> = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let result = LogFile { out: &mut records }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    for raw in &records {
        if !sink.record(raw.get()) {
            sink.reject(
                offset_of(text, raw.get()),
                "record is not a JSON object".into(),
                raw.get(),
            );
        }
    }
    match result {
        Ok(()) => None,
        Err(e) if e.to_string().starts_with("trailing characters") => Some(error_offset(text, &e)),
        Err(e) => {
            let at = error_offset(text, &e);
            let after = records
                .last()
                .map_or(0, |r| offset_of(text, r.get()) as usize + r.get().len());
            // The records after the damage, if any, are read on.
            let reason = format!(
                "JSON is truncated or corrupt after {} records: {e}",
                records.len()
            );
            salvage(text, after.min(text.len()), sink, Some((at as u64, reason)));
            None
        }
    }
}

/// The first keys a CloudTrail record is written with (a nested object never starts with one).
const RECORD_KEYS: &[&str] = &[
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "eventID",
    "userIdentity",
    "awsRegion",
];

/// Where the next record starts at or after `from`: a `{` whose first key is a record's.
fn next_record_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'{', &bytes[from.min(bytes.len())..])
        .map(|i| from + i)
        .find(|&i| {
            let rest = text[i + 1..].trim_start();
            RECORD_KEYS.iter().any(|k| {
                rest.strip_prefix('"')
                    .and_then(|r| r.strip_prefix(k))
                    .is_some_and(|r| r.starts_with('"'))
            })
        })
}

/// Whether the text between two records is only what an array of records puts there.
fn is_punctuation(gap: &str) -> bool {
    let mut rest = gap;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || ",[]{}:".contains(c));
        match rest.get(..9) {
            Some(k) if k.eq_ignore_ascii_case("\"Records\"") => rest = &rest[9..],
            _ => return rest.is_empty(),
        }
    }
}

/// Reads the records of damaged text from `from`: each record wherever it starts, the array's
/// punctuation between them skipped, anything else one reject. `damage` is the reject for what
/// comes before the first record (where the text broke, and why).
fn salvage(text: &str, from: usize, sink: &mut dyn Sink, mut damage: Option<(u64, String)>) {
    let mut pos = from;
    while pos < text.len() {
        let next = next_record_start(text, pos);
        let gap = &text[pos..next.unwrap_or(text.len())];
        if !is_punctuation(gap)
            && let Some((at, reason)) = damage.take()
        {
            // The damage is this text (garbage, the end of a record the text starts inside).
            sink.reject(at, reason, snippet(gap));
        } else if !is_punctuation(gap) {
            let lead = gap.len() - gap.trim_start().len();
            sink.reject(
                (pos + lead) as u64,
                "text that is not part of a CloudTrail record (the object is damaged here)".into(),
                snippet(gap.trim_start()),
            );
        }
        let Some(start) = next else { break };
        let mut one = serde_json::Deserializer::from_str(&text[start..]).into_iter::<&RawValue>();
        match one.next() {
            Some(Ok(raw)) => {
                if !sink.record(raw.get()) {
                    sink.reject(
                        start as u64,
                        "record is not a JSON object".into(),
                        raw.get(),
                    );
                }
                pos = start + raw.get().len();
            }
            _ => {
                // A record cut short or corrupt: up to the next record's start is the damage,
                // one reject (where the text broke and why, when that is known).
                let end = next_record_start(text, start + 1).unwrap_or(text.len());
                let (at, reason) = match damage.take() {
                    Some((at, reason)) => (
                        at,
                        format!("{reason} (the record at byte {start} is incomplete)"),
                    ),
                    None => (start as u64, "record is cut short or corrupt".into()),
                };
                sink.reject(at, reason, snippet(&text[start..end]));
                pos = end;
            }
        }
    }
    if let Some((at, reason)) = damage {
        sink.reject(at, reason, "");
    }
}

struct RecordArray<'o, 'de> {
    out: &'o mut Vec<&'de RawValue>,
}

impl<'de> DeserializeSeed<'de> for RecordArray<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordArray<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            self.out.push(raw);
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// JSON values one after another (one per line or not), from byte `start`.
fn read_values(text: &str, start: usize, sink: &mut dyn Sink) {
    let mut start = start;
    while start < text.len() {
        let mut stream =
            serde_json::Deserializer::from_str(&text[start..]).into_iter::<&RawValue>();
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => return,
                Some(Ok(value)) => {
                    classify(text, value.get(), offset_of(text, value.get()), sink, 0)
                }
                Some(Err(e)) => {
                    // Where the failed value starts, then the next line that starts an object
                    // or, when a record starts before that (minified text, a document that
                    // starts inside a record), the records from there on.
                    let rest = &text[start + before..];
                    let value_start = start + before + (rest.len() - rest.trim_start().len());
                    let resume = next_object_line(text, value_start);
                    let record = next_record_start(text, value_start + 1);
                    if let Some(r) = record
                        && resume.is_none_or(|l| r < l)
                    {
                        let reason = format!("not valid JSON: {e}");
                        salvage(text, value_start, sink, Some((value_start as u64, reason)));
                        return;
                    }
                    let end = resume.unwrap_or(text.len());
                    sink.reject(
                        value_start as u64,
                        format!("not valid JSON: {e}"),
                        snippet(&text[value_start..end]),
                    );
                    match resume {
                        Some(r) => {
                            start = r;
                            break;
                        }
                        None => return,
                    }
                }
            }
        }
    }
}

/// The start of the first line after `from` whose first non-blank character opens an object.
fn next_object_line(text: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    while let Some(nl) = text[pos..].find('\n') {
        pos += nl + 1;
        if text[pos..]
            .trim_start_matches([' ', '\t', '\r'])
            .starts_with('{')
        {
            return Some(pos);
        }
    }
    None
}

const MAX_NESTING: u32 = 3;

fn classify(text: &str, value: &str, offset: u64, sink: &mut dyn Sink, depth: u32) {
    let v = value;
    if v.starts_with('[') && depth < MAX_NESTING {
        for element in elements(value).unwrap_or_default() {
            classify(
                text,
                element,
                offset_of(text, element).max(offset),
                sink,
                depth + 1,
            );
        }
        return;
    }
    const KEYS: &[&str] = &[
        "Records",
        "logEvents",
        "detail",
        "detail-type",
        "digestStartTime",
        "digestSignatureAlgorithm",
        "eventVersion",
        "eventName",
        "eventTime",
        "eventSource",
        "userIdentity",
        "eventID",
        "eventCategory",
        "eventType",
    ];
    let Some(s) = slots(value, KEYS) else {
        sink.reject(
            offset,
            "a JSON value that is not a CloudTrail record".into(),
            snippet(v),
        );
        return;
    };
    if let Some(records) = s[0] {
        for record in elements(records).unwrap_or_default() {
            if !sink.record(record) {
                sink.reject(
                    offset_of(text, record).max(offset),
                    "record is not a JSON object".into(),
                    record,
                );
            }
        }
    } else if let Some(events) = s[1] {
        for event in elements(events).unwrap_or_default() {
            let message = slots(event, &["message"][..])
                .and_then(|m| json::text(m[0]).map(|t| t.into_owned()));
            match message.as_deref().map(serde_json::from_str::<&RawValue>) {
                Some(Ok(record)) if depth < MAX_NESTING => classify(
                    text,
                    record.get(),
                    offset_of(text, event).max(offset),
                    sink,
                    depth + 1,
                ),
                _ => sink.reject(
                    offset_of(text, event).max(offset),
                    "CloudWatch Logs event whose message is not a JSON record".into(),
                    snippet(event),
                ),
            }
        }
    } else if let (Some(detail), Some(_)) = (s[2], s[3]) {
        if depth < MAX_NESTING {
            classify(
                text,
                detail,
                offset_of(text, detail).max(offset),
                sink,
                depth + 1,
            );
        }
    } else if s[4].is_some() || s[5].is_some() {
        sink.digest();
    } else if s[6..].iter().any(Option::is_some) {
        if !sink.record(value) {
            sink.reject(offset, "record is not a JSON object".into(), snippet(v));
        }
    } else {
        sink.reject(
            offset,
            "a JSON object that is not a CloudTrail record, log file, EventBridge event or CloudWatch Logs envelope".into(),
            snippet(v),
        );
    }
}

/// Byte offset of `raw` in `text` when it is a slice of it, else 0.
fn offset_of(text: &str, raw: &str) -> u64 {
    let base = text.as_ptr() as usize;
    let at = raw.as_ptr() as usize;
    if at >= base && at <= base + text.len() {
        (at - base) as u64
    } else {
        0
    }
}

/// Byte offset of a serde_json error (it reports a line and a column).
fn error_offset(text: &str, e: &serde_json::Error) -> usize {
    if e.is_eof() {
        return text.len();
    }
    let mut offset = 0;
    for _ in 1..e.line() {
        match text[offset..].find('\n') {
            Some(i) => offset += i + 1,
            None => return text.len(),
        }
    }
    (offset + e.column().saturating_sub(1)).min(text.len())
}

/// The start of a value, for a reject's raw text.
fn snippet(s: &str) -> &str {
    let mut end = s.len().min(2048);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        records: Vec<String>,
        digests: usize,
        rejects: Vec<(u64, String)>,
    }

    impl Sink for Collect {
        fn record(&mut self, raw: &str) -> bool {
            let ok = raw.starts_with('{');
            if ok {
                self.records.push(raw.to_string());
            }
            ok
        }
        fn digest(&mut self) {
            self.digests += 1;
        }
        fn reject(&mut self, at: u64, reason: String, _: &str) {
            self.rejects.push((at, reason));
        }
    }

    fn read_all(text: &str) -> Collect {
        let mut c = Collect::default();
        read(text, &mut c);
        c
    }

    #[test]
    fn records_document() {
        let c = read_all(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#);
        assert_eq!(
            c.records,
            vec![r#"{"eventName":"A"}"#, r#"{"eventName":"B"}"#]
        );
        assert!(c.rejects.is_empty());
        let c = read_all("{\n  \"Records\": [\n    {\"eventName\": \"A\"},\n    7\n  ]\n}\n");
        assert_eq!(c.records.len(), 1);
        assert_eq!(c.rejects.len(), 1);
        assert!(c.rejects[0].1.contains("not a JSON object"));
    }

    #[test]
    fn truncated_document_keeps_the_records_before() {
        let text = r#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#;
        let c = read_all(text);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.rejects.len(), 1);
        assert!(
            c.rejects[0].1.contains("after 2 records"),
            "{}",
            c.rejects[0].1
        );
        assert_eq!(c.rejects[0].0 as usize, text.len());
    }

    #[test]
    fn lines_events_envelopes_and_digests() {
        let text = concat!(
            "{\"eventVersion\":\"1.08\",\"eventName\":\"A\"}\n",
            "{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventName\":\"B\"}}\n",
            "{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"{\\\"eventName\\\":\\\"C\\\"}\"}]}",
            "{\"eventName\":\"D\"}\n",
            "{\"digestStartTime\":\"2020-01-01T00:00:00Z\",\"logFiles\":[]}\n",
            "not json at all\n",
            "{\"broken\": \n",
            "{\"eventName\":\"E\"}\n",
            "{\"unrelated\": 1}\n",
        );
        let c = read_all(text);
        let names: Vec<String> = c
            .records
            .iter()
            .map(|r| r[r.find(":\"").unwrap() + 2..r.rfind('"').unwrap()].to_string())
            .collect();
        assert_eq!(names, vec!["1.08\",\"eventName\":\"A", "B", "C", "D", "E"]);
        assert_eq!(c.digests, 1);
        // "not json at all"; the broken object (it swallows the next line, which is then read
        // again on its own); the unrelated object.
        assert_eq!(c.rejects.len(), 3, "{:?}", c.rejects);
        assert_eq!(c.rejects[0].0 as usize, text.find("not json").unwrap());
        assert_eq!(c.rejects[1].0 as usize, text.find("{\"broken").unwrap());
        assert!(c.rejects[2].1.contains("not a CloudTrail record"));
    }
}

#[cfg(test)]
mod one_pass_tests {
    use super::*;
    use crate::format::cloudtrail::CloudTrailDecoder;

    /// The decoder, read in one pass or only the careful way.
    struct Reading {
        decoder: CloudTrailDecoder,
        one_pass: bool,
        rejects: Vec<(u64, String)>,
    }

    impl Sink for Reading {
        fn record(&mut self, raw: &str) -> bool {
            self.decoder.record(raw)
        }
        fn digest(&mut self) {}
        fn reject(&mut self, at: u64, reason: String, _: &str) {
            self.rejects.push((at, reason));
        }
        fn keys(&self) -> Option<&'static KeyIndex> {
            self.one_pass.then(|| self.decoder.keys())
        }
        fn record_slots(&mut self, values: &json::Slots<'_>) {
            self.decoder.record_slots(values);
        }
        fn restart(&mut self) {
            self.decoder.restart();
            self.rejects.clear();
        }
    }

    fn decode(text: &str, one_pass: bool) -> (Vec<arrow::array::RecordBatch>, Vec<(u64, String)>) {
        let mut r = Reading {
            decoder: CloudTrailDecoder::new("t", None, 8192),
            one_pass,
            rejects: Vec::new(),
        };
        read(text, &mut r);
        (r.decoder.finish().unwrap(), r.rejects)
    }

    fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                json_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "json" || e == "log") {
                out.push(path);
            }
        }
    }

    #[test]
    fn one_pass_and_careful_readings_agree_on_the_corpora() {
        let Some(root) = crate::test_support::corpora() else {
            return;
        };
        let mut files = Vec::new();
        json_files(&root.join("cloudtrail"), &mut files);
        // The log files as they are, and one more made of the records kept one per line.
        let mut documents = Vec::new();
        let mut line_records = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            if first_key(&text).is_some_and(|k| k.eq_ignore_ascii_case("Records")) {
                documents.push((path.display().to_string(), text));
            } else {
                line_records.extend(
                    text.lines()
                        .filter(|l| {
                            l.contains("\"eventVersion\"")
                                && serde_json::from_str::<IgnoredAny>(l).is_ok()
                        })
                        .map(str::to_string),
                );
            }
        }
        assert!(line_records.len() >= 10, "{}", line_records.len());
        documents.push((
            "records of the one-per-line fixtures".into(),
            format!("{{\"Records\":[\n{}\n]}}", line_records.join(",\n")),
        ));
        let log_files = documents.len();
        for (name, text) in &documents {
            let (fast, fast_rejects) = decode(text, true);
            let (careful, careful_rejects) = decode(text, false);
            assert_eq!(fast, careful, "{name}");
            assert_eq!(fast_rejects, careful_rejects, "{name}");
            assert!(fast.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
            // Every cut of the file: the one-pass reading gives up exactly where it must, and
            // whatever it gives then is what the careful reading gives.
            let step = (text.len() / 97).max(1);
            for end in (0..text.len()).step_by(step) {
                if text.is_char_boundary(end) {
                    let cut = &text[..end];
                    assert_eq!(decode(cut, true), decode(cut, false), "{name} cut at {end}");
                }
            }
        }
        assert!(log_files >= 2, "log files in the corpora: {log_files}");
    }

    #[test]
    fn one_pass_and_careful_readings_agree_on_generated_log_files() {
        // Nested identities, policies whose Principal is "*" or an object, batch deletes.
        let mut generator = crate::generate::cloudtrail::CloudTrailGenerator::new(7, 0);
        for _ in 0..3 {
            let file = generator.log_file(200_000, 1000.0);
            let text = std::str::from_utf8(&file).unwrap();
            let (fast, rejects) = decode(text, true);
            assert!(rejects.is_empty());
            assert!(fast.iter().map(|b| b.num_rows()).sum::<usize>() > 50);
            assert_eq!((fast, rejects), decode(text, false));
        }
    }
}
