//! Decompressed content as line-aligned windows.
//!
//! A window holds whole lines (only the object's last window may end without a line break), so
//! windows can be decoded independently and in parallel. Plain objects are sliced without a
//! copy. Gzip objects (any number of members, as `cat a.gz b.gz` makes) are decompressed whole
//! with libdeflate when small, else streamed through flate2 one window at a time, which bounds
//! memory whatever the object's size. Damage (a truncated or corrupt stream) ends the windows
//! with a [`Damage`] that says where, after every complete line before it.

use std::io::Read;

use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use memchr::memrchr;

/// Target size of a window of decompressed data.
pub const WINDOW_SIZE: usize = 8 << 20;

/// Gzip objects whose content is at most this big are decompressed in one call with libdeflate
/// (about 1.5× faster than streaming); bigger ones are streamed.
pub const WHOLE_GUNZIP_LIMIT: usize = 64 << 20;

/// A line longer than this is not a log line; it is cut here and the rest skipped to the next
/// line break, so one newline-free object cannot take all memory.
pub const MAX_LINE: usize = 64 << 20;

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

/// Where and why decompression stopped early.
#[derive(Debug, Clone)]
pub struct Damage {
    /// Decompressed bytes readable before the damage.
    pub offset: u64,
    /// The incomplete line just before the damage (may be empty).
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

/// Iterator over an object's windows; see the module documentation.
pub struct Windows {
    source: Source,
    offset: u64,
    window: usize,
    /// Damage found while reading the window just returned; reported on the next call.
    pending: Option<Damage>,
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
        }
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
    type Item = Result<Window, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(damage) = self.pending.take() {
            self.source = Source::Done;
            return Some(Err(damage));
        }
        let window = self.window;
        let offset = self.offset;
        let item = match &mut self.source {
            Source::Done => None,
            Source::Plain { data, pos } => Self::next_plain(data, pos, window, offset).map(Ok),
            Source::Gzip { reader, carry } => {
                Some(next_gzip(reader, carry, window, offset, &mut self.pending))
            }
        };
        match &item {
            Some(Ok(w)) if w.last => self.source = Source::Done,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => self.source = Source::Done,
        }
        if let Some(Ok(w)) = &item {
            self.offset += w.data.len() as u64;
        }
        item
    }
}

/// Reads until the buffer holds at least `window` bytes and a line break, or the stream ends.
fn next_gzip(
    reader: &mut MultiGzDecoder<std::io::Cursor<Bytes>>,
    carry: &mut Vec<u8>,
    window: usize,
    offset: u64,
    pending: &mut Option<Damage>,
) -> Result<Window, Damage> {
    let mut buf = std::mem::take(carry);
    buf.reserve(window);
    let mut last_break = memrchr(b'\n', &buf);
    let mut error = None;
    let mut done = false;
    while !(buf.len() >= window && last_break.is_some()) {
        if buf.len() >= MAX_LINE && last_break.is_none() {
            // No line break in MAX_LINE bytes: hand the bytes over as they are.
            return Ok(Window {
                data: Bytes::from(buf),
                offset,
                last: false,
            });
        }
        let start = buf.len();
        buf.resize(start + window, 0);
        let (n, err) = read_some(reader, &mut buf[start..]);
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
        // Keep the complete lines; report the damage after them.
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
        *pending = Some(damage);
        return Ok(Window {
            data: Bytes::from(buf),
            offset,
            last: false,
        });
    }
    if done {
        return Ok(Window {
            data: Bytes::from(buf),
            offset,
            last: true,
        });
    }
    let cut = last_break.map_or(buf.len(), |i| i + 1);
    *carry = buf[cut..].to_vec();
    buf.truncate(cut);
    Ok(Window {
        data: Bytes::from(buf),
        offset,
        last: false,
    })
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
                Ok(w) => {
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

    #[test]
    fn no_trailing_newline() {
        let (out, offsets, _) =
            collect(Windows::with_window_size(Bytes::from_static(b"a\nb\nc"), 1));
        assert_eq!(out, b"a\nb\nc");
        assert_eq!(offsets, vec![0, 2, 4]);
    }
}
