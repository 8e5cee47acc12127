//! Decompressed content as line-aligned windows.
//!
//! A window holds whole lines (only the object's last window may end without a line break), so
//! windows can be decoded independently and in parallel. Plain objects are sliced without a
//! copy. Gzip objects (any number of members, as `cat a.gz b.gz` makes) are decompressed whole
//! with libdeflate when small, else streamed through flate2 one window at a time, which bounds
//! memory whatever the object's size. Damage (a truncated or corrupt stream) ends the windows
//! with a [`Damage`] that says where, after every complete line before it and with the
//! incomplete one (a minified JSON document is one line: its readable part must not be lost).
//!
//! Streaming needs a bound on a line: a line longer than [`MAX_LINE`] is skipped to its line
//! break and handed over as a [`Chunk::LongLine`] (where it starts, how long it is, its first
//! bytes), so that it becomes one reject with its true place and the lines after it keep
//! theirs. JSON is not read line by line: [`Windows::whole_text`] (or a first line that sniffs
//! as JSON) hands everything over as it comes.

use std::io::Read;

use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use memchr::memrchr;

/// Target size of a window of decompressed data.
pub const WINDOW_SIZE: usize = 8 << 20;

/// Gzip objects whose content is at most this big are decompressed in one call with libdeflate
/// (about 1.5× faster than streaming); bigger ones are streamed.
pub const WHOLE_GUNZIP_LIMIT: usize = 64 << 20;

pub use crate::format::MAX_LINE;
use crate::format::{LogKind, MAX_REJECT_RAW, sniff};

pub fn is_gzip(data: &[u8]) -> bool {
    data.len() >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

/// A piece of decompressed content.
#[derive(Debug, Clone)]
pub struct Window {
    pub data: Bytes,
    /// Offset of `data[0]` in the decompressed object.
    pub offset: u64,
    /// The object's last window: its final line may lack a line break.
    pub last: bool,
}

/// What the windows yield.
#[derive(Debug, Clone)]
pub enum Chunk {
    Lines(Window),
    /// A line longer than [`MAX_LINE`], not kept (streamed objects only).
    LongLine(LongLine),
}

/// A line too long to keep: its place, its length and its first bytes.
#[derive(Debug, Clone)]
pub struct LongLine {
    /// Offset of its first byte in the decompressed object.
    pub offset: u64,
    /// Its length, without the line break.
    pub len: u64,
    /// Its first [`MAX_REJECT_RAW`] bytes.
    pub head: Bytes,
    /// Whether a line break ends it (else the object, or damage, does).
    pub terminated: bool,
}

/// Where and why decompression stopped early.
#[derive(Debug, Clone)]
pub struct Damage {
    /// Decompressed bytes readable before the damage.
    pub offset: u64,
    /// The incomplete line just before the damage (may be empty): for a minified JSON document,
    /// everything that could be read.
    pub partial_line: Bytes,
    pub cause: String,
}

enum Source {
    Plain {
        data: Bytes,
        pos: usize,
    },
    Gzip {
        reader: Box<MultiGzDecoder<std::io::Cursor<Bytes>>>,
        carry: Vec<u8>,
    },
    Done,
}

/// How a streamed object's content is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Whole lines; a line over [`MAX_LINE`] is skipped.
    Lines,
    /// As it comes (JSON, read as one text).
    Whole,
}

/// Iterator over an object's windows; see the module documentation.
pub struct Windows {
    source: Source,
    offset: u64,
    window: usize,
    /// Damage found while reading the window just returned; reported on the next call.
    pending: Option<Damage>,
    cut: Cut,
    /// Whether anything has been handed over yet.
    started: bool,
    /// A read error met while skipping a long line, after data that is still to be handed
    /// over: reported when that data is.
    failed: Option<std::io::Error>,
}

impl Windows {
    pub fn new(raw: Bytes) -> Self {
        Self::with_window_size(raw, WINDOW_SIZE)
    }

    pub fn with_window_size(raw: Bytes, window: usize) -> Self {
        let source = if is_gzip(&raw) {
            match gunzip_whole(&raw) {
                Some(data) => Source::Plain {
                    data: Bytes::from(data),
                    pos: 0,
                },
                None => Source::Gzip {
                    reader: Box::new(MultiGzDecoder::new(std::io::Cursor::new(raw))),
                    carry: Vec::new(),
                },
            }
        } else {
            Source::Plain { data: raw, pos: 0 }
        };
        Windows {
            source,
            offset: 0,
            window: window.max(1),
            pending: None,
            cut: Cut::Lines,
            started: false,
            failed: None,
        }
    }

    /// Hands the rest of the content over as it comes, lines of any length included (for JSON,
    /// which is read as one text).
    pub fn whole_text(&mut self) {
        self.cut = Cut::Whole;
    }

    fn next_plain(data: &Bytes, pos: &mut usize, window: usize, offset: u64) -> Option<Window> {
        if *pos >= data.len() {
            return None;
        }
        let start = *pos;
        let target = (start + window).min(data.len());
        let end = match memchr::memchr(b'\n', &data[target..]) {
            Some(i) => target + i + 1,
            None => data.len(),
        };
        *pos = end;
        Some(Window {
            data: data.slice(start..end),
            offset,
            last: end == data.len(),
        })
    }
}

impl Iterator for Windows {
    type Item = Result<Chunk, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(damage) = self.pending.take() {
            self.source = Source::Done;
            return Some(Err(damage));
        }
        let window = self.window;
        let offset = self.offset;
        let item = match &mut self.source {
            Source::Done => None,
            Source::Plain { data, pos } => {
                Self::next_plain(data, pos, window, offset).map(|w| Ok(Chunk::Lines(w)))
            }
            Source::Gzip { reader, carry } => {
                let mut stream = Stream {
                    reader,
                    carry,
                    window,
                    offset,
                    pending: &mut self.pending,
                    cut: &mut self.cut,
                    started: self.started,
                    failed: &mut self.failed,
                };
                Some(stream.next())
            }
        };
        self.started = true;
        match &item {
            Some(Ok(Chunk::Lines(w))) => {
                self.offset += w.data.len() as u64;
                if w.last {
                    self.source = Source::Done;
                }
            }
            Some(Ok(Chunk::LongLine(l))) => {
                self.offset += l.len + u64::from(l.terminated);
                if !l.terminated && self.pending.is_none() {
                    self.source = Source::Done;
                }
            }
            Some(Err(_)) | None => self.source = Source::Done,
        }
        item
    }
}

/// One step of reading a gzip stream.
struct Stream<'a> {
    reader: &'a mut MultiGzDecoder<std::io::Cursor<Bytes>>,
    /// The incomplete line after the last window (a window's data always starts a line).
    carry: &'a mut Vec<u8>,
    window: usize,
    offset: u64,
    pending: &'a mut Option<Damage>,
    cut: &'a mut Cut,
    started: bool,
    failed: &'a mut Option<std::io::Error>,
}

impl Stream<'_> {
    /// Reads until the buffer holds at least `window` bytes and a line break, or the stream
    /// ends.
    fn next(&mut self) -> Result<Chunk, Damage> {
        let (window, offset) = (self.window, self.offset);
        let mut buf = std::mem::take(self.carry);
        buf.reserve(window);
        let mut last_break = memrchr(b'\n', &buf);
        let mut error = None;
        let mut done = false;
        while !(buf.len() >= window && (last_break.is_some() || *self.cut == Cut::Whole)) {
            // An object whose first window has no line break and reads as JSON is one text
            // from its start: handed over window by window, not gathered up to MAX_LINE first.
            if !self.started
                && *self.cut == Cut::Lines
                && buf.len() >= window
                && last_break.is_none()
                && sniff(&buf) == LogKind::Json
            {
                *self.cut = Cut::Whole;
                continue;
            }
            if buf.len() >= MAX_LINE && last_break.is_none() {
                // No line break in MAX_LINE bytes (`buf` starts a line). JSON is handed over as
                // it is; a log line that long is skipped to its end.
                if !self.started && sniff(&buf) == LogKind::Json {
                    *self.cut = Cut::Whole;
                }
                if *self.cut == Cut::Whole {
                    return Ok(Chunk::Lines(Window {
                        data: Bytes::from(buf),
                        offset,
                        last: false,
                    }));
                }
                return Ok(Chunk::LongLine(self.skip_line(buf)));
            }
            if let Some(e) = self.failed.take() {
                error = Some(e);
                break;
            }
            let start = buf.len();
            buf.resize(start + window, 0);
            let (n, err) = read_some(self.reader, &mut buf[start..]);
            buf.truncate(start + n);
            if let Some(i) = memrchr(b'\n', &buf[start..]) {
                last_break = Some(start + i);
            }
            if err.is_some() || n == 0 {
                error = err;
                done = true;
                break;
            }
        }
        if let Some(e) = error {
            // Keep the complete lines; report the damage after them, with the incomplete line.
            let cut = last_break.map_or(0, |i| i + 1);
            let damage = Damage {
                offset: offset + cut as u64,
                partial_line: Bytes::copy_from_slice(&buf[cut..]),
                cause: describe(&e),
            };
            buf.truncate(cut);
            if buf.is_empty() {
                return Err(damage);
            }
            *self.pending = Some(damage);
            return Ok(Chunk::Lines(Window {
                data: Bytes::from(buf),
                offset,
                last: false,
            }));
        }
        if done {
            return Ok(Chunk::Lines(Window {
                data: Bytes::from(buf),
                offset,
                last: true,
            }));
        }
        let cut = match *self.cut {
            Cut::Lines => last_break.map_or(buf.len(), |i| i + 1),
            Cut::Whole => buf.len(),
        };
        *self.carry = buf[cut..].to_vec();
        buf.truncate(cut);
        Ok(Chunk::Lines(Window {
            data: Bytes::from(buf),
            offset,
            last: false,
        }))
    }

    /// Reads past the line that `buf` starts (already [`MAX_LINE`] long) to its line break;
    /// what follows the break is kept for the next window.
    fn skip_line(&mut self, mut buf: Vec<u8>) -> LongLine {
        let head = Bytes::copy_from_slice(&buf[..MAX_REJECT_RAW.min(buf.len())]);
        let mut len = buf.len() as u64;
        buf.resize(self.window.max(1 << 16), 0);
        loop {
            let (n, err) = read_some(self.reader, &mut buf);
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                *self.carry = buf[i + 1..n].to_vec();
                // The lines after it are handed over first, then the damage.
                *self.failed = err;
                return LongLine {
                    offset: self.offset,
                    len: len + i as u64,
                    head,
                    terminated: true,
                };
            }
            len += n as u64;
            if let Some(e) = err {
                *self.pending = Some(Damage {
                    offset: self.offset + len,
                    partial_line: Bytes::new(),
                    cause: describe(&e),
                });
            }
            if n == 0 || self.pending.is_some() {
                return LongLine {
                    offset: self.offset,
                    len,
                    head,
                    terminated: false,
                };
            }
        }
    }
}

/// Fills `buf` as far as the stream allows; an error comes back with what was read before it.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "gzip stream is truncated".to_string(),
        _ => format!("gzip stream is corrupt ({e})"),
    }
}

/// One-shot decompression of a gzip object whose content is small enough, with libdeflate.
/// Handles any number of members; `None` (damage, or content over the limit) means: stream
/// instead, which also locates and reports damage.
fn gunzip_whole(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() < 18 {
        return None;
    }
    // The trailer of the last member records its size (mod 2^32): a good first guess.
    let last_size = u32::from_le_bytes(raw[raw.len() - 4..].try_into().ok()?) as usize;
    if last_size > WHOLE_GUNZIP_LIMIT {
        return None;
    }
    // Not zeroed: libdeflate writes what it produces and only that is kept (zeroing the
    // buffer first was 4% of a gzip scan).
    let out: Vec<u8> = Vec::with_capacity(last_size.max(4096));
    INFLATER.with(|cell| {
        // A decompressor is ~10 KB to allocate and clear, once per thread rather than per
        // object (10,000 small objects: 16% of the instructions). `try_borrow_mut` keeps a
        // re-entrant call (there is none) from panicking: it would just get its own.
        match cell.try_borrow_mut() {
            Ok(mut slot) => {
                if slot.is_none() {
                    *slot = Some(Inflater::new()?);
                }
                gunzip_members(raw, slot.as_mut()?, out)
            }
            Err(_) => gunzip_members(raw, &mut Inflater::new()?, out),
        }
    })
}

thread_local! {
    static INFLATER: std::cell::RefCell<Option<Inflater>> = const { std::cell::RefCell::new(None) };
}

/// Inflates every member of `raw` into `out` (see [`gunzip_whole`]).
fn gunzip_members(raw: &[u8], inflater: &mut Inflater, mut out: Vec<u8>) -> Option<Vec<u8>> {
    let mut pos = 0;
    while pos < raw.len() {
        if !is_gzip(&raw[pos..]) {
            return None;
        }
        loop {
            match inflater.gunzip_member(&raw[pos..], out.spare_capacity_mut()) {
                Member::Done { used, produced } => {
                    pos += used;
                    // SAFETY: libdeflate wrote `produced` bytes at the start of the spare
                    // capacity, right after the `out.len()` bytes already there.
                    unsafe { out.set_len(out.len() + produced) };
                    break;
                }
                Member::NeedSpace if out.capacity() < WHOLE_GUNZIP_LIMIT => {
                    let grown = (out.capacity() * 2).min(WHOLE_GUNZIP_LIMIT);
                    out.reserve_exact(grown - out.len());
                }
                Member::NeedSpace | Member::Bad => return None,
            }
        }
    }
    Some(out)
}

enum Member {
    Done { used: usize, produced: usize },
    NeedSpace,
    Bad,
}

/// A libdeflate decompressor. `libdeflater` does not expose the `_ex` call that says how much
/// input a member used, which multi-member objects need, so this calls libdeflate directly.
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

impl Inflater {
    fn new() -> Option<Self> {
        // SAFETY: plain allocation; NULL (out of memory) is checked.
        std::ptr::NonNull::new(unsafe { libdeflate_sys::libdeflate_alloc_decompressor() })
            .map(Inflater)
    }

    /// Inflates the member at the start of `input` into `out`, which need not be initialized:
    /// on success its first `produced` bytes are.
    fn gunzip_member(&mut self, input: &[u8], out: &mut [std::mem::MaybeUninit<u8>]) -> Member {
        let (mut used, mut produced) = (0usize, 0usize);
        // SAFETY: the pointers and lengths come from live slices; libdeflate writes at most
        // `out.len()` bytes into `out` and the two counts into the locals.
        let result = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut produced,
            )
        };
        match result {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS if used > 0 => {
                Member::Done { used, produced }
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::NeedSpace,
            _ => Member::Bad,
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor and freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn collect(w: Windows) -> (Vec<u8>, Vec<u64>, Option<Damage>) {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        let mut damage = None;
        for item in w {
            match item {
                Ok(Chunk::LongLine(l)) => panic!("unexpected long line {l:?}"),
                Ok(Chunk::Lines(w)) => {
                    assert_eq!(w.offset as usize, out.len());
                    assert!(
                        w.last || w.data.ends_with(b"\n"),
                        "windows end at line breaks"
                    );
                    offsets.push(w.offset);
                    out.extend_from_slice(&w.data);
                }
                Err(d) => damage = Some(d),
            }
        }
        (out, offsets, damage)
    }

    fn text(lines: usize) -> Vec<u8> {
        (0..lines)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 50)))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn plain_gzip_and_multi_member_give_the_same_bytes() {
        let data = text(2000);
        let mut multi = gz(&data[..1000]);
        multi.extend(gz(&data[1000..]));
        for raw in [data.clone(), gz(&data), multi] {
            let (out, offsets, damage) = collect(Windows::with_window_size(Bytes::from(raw), 4096));
            assert_eq!(out, data);
            assert!(offsets.len() > 1);
            assert!(damage.is_none());
        }
    }

    #[test]
    fn members_of_equal_size_are_all_read() {
        // Regression: with two members of the same size, the last trailer's size fits the first
        // member exactly, so a one-member decoder stopped after it without an error.
        let member = b"same line\n".repeat(10);
        let mut raw = gz(&member);
        raw.extend(gz(&member));
        let (out, _, damage) = collect(Windows::new(Bytes::from(raw)));
        assert_eq!(out.len(), member.len() * 2);
        assert!(damage.is_none());
    }

    #[test]
    fn big_gzip_streams_in_windows() {
        // Larger than the one-shot limit would be slow to test; a multi-member object takes the
        // streaming path too.
        let data = text(50_000);
        let mut raw = gz(&data[..10]);
        raw.extend(gz(&data[10..]));
        let (out, offsets, _) = collect(Windows::with_window_size(Bytes::from(raw), 64 << 10));
        assert_eq!(out, data);
        assert!(offsets.len() > 5);
    }

    #[test]
    fn truncated_gzip_keeps_the_lines_before_the_damage() {
        let data = text(20_000);
        let mut a = gz(&data[..100]);
        a.extend(gz(&data[100..]));
        let cut = a.len() * 2 / 3;
        let (out, _, damage) = collect(Windows::with_window_size(
            Bytes::copy_from_slice(&a[..cut]),
            4096,
        ));
        let damage = damage.expect("damage is reported");
        assert!(!out.is_empty());
        assert!(
            data.starts_with(&out),
            "what was read is a prefix of the content"
        );
        assert!(out.ends_with(b"\n"));
        assert_eq!(damage.offset as usize, out.len());
        assert!(
            damage.cause.contains("truncated") || damage.cause.contains("corrupt"),
            "{}",
            damage.cause
        );
    }

    #[test]
    fn corrupt_gzip_header_is_damage_at_zero() {
        let (out, _, damage) = collect(Windows::new(Bytes::from_static(
            b"\x1f\x8b\x08garbage-garbage-garbage",
        )));
        assert!(out.is_empty());
        assert_eq!(damage.unwrap().offset, 0);
    }

    /// A streamed gzip object whose lines are `before`, one of `long` bytes, and `after`.
    fn with_long_line(before: &[u8], long: usize, after: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(before).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        let mut left = long;
        while left > 0 {
            let n = left.min(chunk.len());
            e.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        e.write_all(after).unwrap();
        let mut raw = e.finish().unwrap();
        // A second member forces the streaming path whatever the size.
        raw.extend(gz(b""));
        raw
    }

    #[test]
    fn a_line_longer_than_the_limit_is_skipped_with_its_place_and_length() {
        let before = b"first line\n";
        let after = b"\nnext line\nlast line\n";
        let long = MAX_LINE + 5 * (1 << 20) + 3;
        let raw = with_long_line(before, long, after);
        let items: Vec<_> = Windows::with_window_size(Bytes::from(raw), 1 << 20).collect();
        let mut text = Vec::new();
        let mut longs = Vec::new();
        for item in items {
            match item.expect("no damage") {
                Chunk::Lines(w) => {
                    assert!(w.last || w.data.ends_with(b"\n"));
                    text.extend_from_slice(&w.data);
                }
                Chunk::LongLine(l) => {
                    assert_eq!(l.offset as usize, text.len(), "offset of the long line");
                    text.extend(std::iter::repeat_n(b'#', l.len as usize + 1));
                    longs.push(l);
                }
            }
        }
        assert_eq!(longs.len(), 1);
        let l = &longs[0];
        assert_eq!(l.offset as usize, before.len());
        assert_eq!(l.len as usize, long);
        assert!(l.terminated);
        assert_eq!(l.head.len(), MAX_REJECT_RAW);
        assert!(text.ends_with(b"#next line\nlast line\n"));
        assert_eq!(text.len(), before.len() + long + after.len());
    }

    #[test]
    fn damage_inside_a_long_line_comes_after_the_lines_before_it() {
        let raw = with_long_line(b"a\n", MAX_LINE + (1 << 20), b"\nb\n");
        let cut = &raw[..raw.len() - 40];
        let items: Vec<_> =
            Windows::with_window_size(Bytes::copy_from_slice(cut), 1 << 20).collect();
        assert!(matches!(&items[0], Ok(Chunk::Lines(w)) if &w.data[..] == b"a\n"));
        match items.last() {
            // The damage is met while the long line is skipped, or before it reaches the limit.
            Some(Err(d)) => assert!(d.offset as usize + d.partial_line.len() > MAX_LINE, "{d:?}"),
            other => panic!("damage last, not {other:?}"),
        }
    }

    #[test]
    fn json_is_handed_over_whatever_its_line_length() {
        let mut doc = b"{\"Records\":[".to_vec();
        doc.extend(std::iter::repeat_n(b' ', MAX_LINE + 100));
        doc.extend_from_slice(b"]}");
        let mut raw = gz(&doc);
        raw.extend(gz(b""));
        let mut out = Vec::new();
        for item in Windows::with_window_size(Bytes::from(raw), 1 << 20) {
            match item.expect("no damage") {
                Chunk::Lines(w) => out.extend_from_slice(&w.data),
                Chunk::LongLine(_) => panic!("JSON is not cut into lines"),
            }
        }
        assert_eq!(out, doc);
    }

    #[test]
    fn no_trailing_newline() {
        let (out, offsets, _) =
            collect(Windows::with_window_size(Bytes::from_static(b"a\nb\nc"), 1));
        assert_eq!(out, b"a\nb\nc");
        assert_eq!(offsets, vec![0, 2, 4]);
    }
}
