//! Streaming readers of FOCUS exports: `.csv`, `.csv.gz` and `.parquet`,
//! one row at a time into a [`Sink`], never the whole file in memory.
//!
//! Billing files are untrusted input: a value that does not parse is an
//! error at file:row:column (row 1 is the header of a CSV; Parquet rows
//! count from 1), never a silently skipped charge. A null amount (empty, or
//! the literal `NULL` some exports write) contributes nothing.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use rust_decimal::Decimal;

use super::CostError;

/// The columns a row needs, in this order.
pub const REQUIRED: [&str; 3] = ["BillingCurrency", "ChargePeriodStart", "ServiceName"];
/// Columns read when present (absent: empty).
pub const OPTIONAL: [&str; 3] = ["ResourceId", "SubAccountId", "Tags"];

/// One charge, borrowed from the reader's buffers.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The metric's amount.
    pub amount: Decimal,
    /// `BillingCurrency`.
    pub currency: &'a str,
    /// `ChargePeriodStart` as days since 1970-01-01, UTC.
    pub day: i32,
    /// `ServiceName`.
    pub service: &'a str,
    /// `ResourceId` (empty when null).
    pub resource: &'a str,
    /// `SubAccountId` (empty when null).
    pub sub_account: &'a str,
    /// `Tags` as JSON text (empty when null).
    pub tags: &'a str,
}

/// Receives rows.
pub trait Sink {
    /// One row.
    fn row(&mut self, row: Row<'_>);
}

/// A piece of a source that can be read on its own: a byte range of a
/// plain CSV (cut at a record boundary), a whole gzipped CSV (deflate
/// cannot be split), or a run of row groups of a Parquet file.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The file.
    pub path: PathBuf,
    /// Which part of it.
    pub piece: Piece,
}

/// See [`Unit`].
#[derive(Debug, Clone, Copy)]
pub enum Piece {
    /// The whole file.
    Whole,
    /// Bytes `start..end` of a plain CSV; `line` newlines precede `start`.
    Csv {
        /// First byte (0: the header is in this piece).
        start: u64,
        /// End, exclusive.
        end: u64,
        /// Newlines before `start` (for file:row in errors).
        line: u64,
    },
    /// Row groups `first..last` of a Parquet file.
    Parquet {
        /// First row group.
        first: usize,
        /// End, exclusive.
        last: usize,
    },
}

/// A cap on the bytes of billing data read (`cost.maxBytes`), shared by
/// the threads: plain CSV and Parquet files are counted before reading
/// (their size, Parquet's uncompressed size), a gzipped CSV as it is
/// decompressed.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Budget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// Counts `n` bytes of `path`: the error once past the limit.
    fn take(&self, n: u64, path: &Path) -> Result<(), CostError> {
        let used = self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if used > self.limit {
            return Err(CostError::TooBig {
                path: path.display().to_string(),
                limit: self.limit,
            });
        }
        Ok(())
    }
}

/// Why a budgeted reader stopped (inside an `io::Error`).
#[derive(Debug)]
struct OverBudget(u64);

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("over the budget")
    }
}
impl std::error::Error for OverBudget {}

/// Counts what it reads against a budget.
struct Counted<'b, R> {
    inner: R,
    budget: &'b Budget,
    path: &'b Path,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget
            .take(n as u64, self.path)
            .map_err(|_| std::io::Error::other(OverBudget(self.budget.limit)))?;
        Ok(n)
    }
}

/// A plain CSV smaller than this is read by one thread.
const SPLIT_BYTES: u64 = 16 << 20;

/// Cuts a source into units for `parts` threads: a plain CSV of at least
/// [`SPLIT_BYTES`] at record boundaries (a newline outside quotes: the
/// quotes before it are even in number), a Parquet file by row groups.
pub fn plan(path: &Path, parts: usize, budget: Option<&Budget>) -> Result<Vec<Unit>, CostError> {
    plan_with(path, parts, budget, SPLIT_BYTES)
}

fn plan_with(
    path: &Path,
    parts: usize,
    budget: Option<&Budget>,
    split_bytes: u64,
) -> Result<Vec<Unit>, CostError> {
    let name = path.to_string_lossy();
    let whole = || {
        Ok(vec![Unit {
            path: path.to_path_buf(),
            piece: Piece::Whole,
        }])
    };
    if name.ends_with(".parquet") {
        let (groups, bytes) = super::parquet::shape(path)?;
        if let Some(b) = budget {
            b.take(bytes, path)?;
        }
        let parts = parts.clamp(1, groups.max(1));
        return Ok((0..parts)
            .map(|i| Unit {
                path: path.to_path_buf(),
                piece: Piece::Parquet {
                    first: groups * i / parts,
                    last: groups * (i + 1) / parts,
                },
            })
            .collect());
    }
    if !name.ends_with(".csv") {
        return whole();
    }
    let io = |source| CostError::Io {
        path: path.display().to_string(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if let Some(b) = budget {
        b.take(size, path)?;
    }
    let parts = (size / split_bytes.max(1)).clamp(1, parts.max(1) as u64);
    if parts == 1 {
        return whole();
    }
    let mut file = File::open(path).map_err(io)?;
    let mut buf = vec![0u8; 1 << 18];
    let (mut pos, mut quotes, mut lines) = (0u64, 0u64, 0u64);
    let mut cuts = Vec::new();
    let mut target = size / parts;
    'read: loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        let mut at = 0usize;
        while at < n {
            if pos + (at as u64) < target {
                // Count up to the target in bulk.
                let upto = ((target - pos) as usize).min(n);
                let chunk = &block[at..upto];
                quotes += memchr::memchr_iter(b'"', chunk).count() as u64;
                lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
                at = upto;
                continue;
            }
            // Past the target: the next newline outside quotes.
            let c = block[at];
            at += 1;
            if c == b'"' {
                quotes += 1;
            } else if c == b'\n' {
                lines += 1;
                if quotes % 2 == 0 {
                    let cut = pos + at as u64;
                    cuts.push((cut, lines));
                    if cuts.len() as u64 == parts - 1 {
                        break 'read;
                    }
                    target = (size * (cuts.len() as u64 + 1) / parts).max(cut);
                }
            }
        }
        pos += n as u64;
    }
    let mut units = Vec::new();
    let (mut start, mut line) = (0u64, 0u64);
    for (cut, l) in cuts.into_iter().chain(std::iter::once((size, 0))) {
        if cut > start {
            units.push(Unit {
                path: path.to_path_buf(),
                piece: Piece::Csv {
                    start,
                    end: cut,
                    line,
                },
            });
        }
        (start, line) = (cut, l);
    }
    Ok(units)
}

/// Reads one unit (see [`plan`]); returns the rows read.
pub fn read_unit(
    unit: &Unit,
    metric: &str,
    budget: Option<&Budget>,
    sink: &mut dyn Sink,
) -> Result<u64, CostError> {
    let path = unit.path.as_path();
    match unit.piece {
        Piece::Whole if path.to_string_lossy().ends_with(".gz") => {
            let Some(budget) = budget else {
                return read_file(path, metric, sink);
            };
            let file = File::open(path).map_err(|source| CostError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
            read_csv(
                path,
                Counted {
                    inner: gz,
                    budget,
                    path,
                },
                metric,
                sink,
            )
        }
        Piece::Whole => read_file(path, metric, sink),
        Piece::Parquet { first, last } => {
            super::parquet::read_groups(path, metric, first..last, sink)
        }
        Piece::Csv { start, end, line } => {
            let io = |source| CostError::Io {
                path: path.display().to_string(),
                source,
            };
            let mut file = File::open(path).map_err(io)?;
            if start == 0 {
                return read_csv(path, file.take(end), metric, sink);
            }
            // The header, for the column indexes.
            let mut head = reader(BufReader::with_capacity(1 << 14, &file), true);
            let cols = Cols::of(path, &mut head, metric)?;
            drop(head);
            file.seek(SeekFrom::Start(start)).map_err(io)?;
            let mut body = reader(file.take(end - start), false);
            read_records(path, &mut body, &cols, line, sink)
        }
    }
}

/// Reads one file, by its extension.
pub fn read_file(path: &Path, metric: &str, sink: &mut dyn Sink) -> Result<u64, CostError> {
    let name = path.to_string_lossy();
    let io = |source| CostError::Io {
        path: path.display().to_string(),
        source,
    };
    if name.ends_with(".parquet") {
        return super::parquet::read(path, metric, sink);
    }
    let file = File::open(path).map_err(io)?;
    if name.ends_with(".gz") {
        let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
        read_csv(path, gz, metric, sink)
    } else if name.ends_with(".csv") {
        read_csv(path, file, metric, sink)
    } else {
        Err(CostError::Unsupported {
            path: path.display().to_string(),
        })
    }
}

fn is_null(b: &[u8]) -> bool {
    b.is_empty() || b == b"NULL" || b == b"null"
}

/// The columns of a header: (metric, required…, optional…) indexes, or the
/// error naming what is missing.
pub fn columns<'h>(
    path: &Path,
    header: impl Iterator<Item = &'h str> + Clone,
    metric: &str,
) -> Result<([usize; 4], [Option<usize>; 3]), CostError> {
    let find = |name: &str| {
        header
            .clone()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
    };
    let mut missing = Vec::new();
    let mut req = [0usize; 4];
    for (i, name) in std::iter::once(metric).chain(REQUIRED).enumerate() {
        match find(name) {
            Some(at) => req[i] = at,
            None => missing.push(name.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(CostError::MissingColumns {
            path: path.display().to_string(),
            columns: missing,
        });
    }
    let opt = OPTIONAL.map(find);
    Ok((req, opt))
}

fn reader<R: Read>(input: R, headers: bool) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(headers)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input)
}

fn csv_err(path: &Path, e: csv::Error, line: u64) -> CostError {
    let row = e.position().map(|p| p.line()).unwrap_or(0) + line;
    match e.into_kind() {
        csv::ErrorKind::Io(source) if source.get_ref().is_some_and(|e| e.is::<OverBudget>()) => {
            let limit = source
                .get_ref()
                .and_then(|e| e.downcast_ref::<OverBudget>())
                .map_or(0, |o| o.0);
            CostError::TooBig {
                path: path.display().to_string(),
                limit,
            }
        }
        csv::ErrorKind::Io(source) => CostError::Io {
            path: path.display().to_string(),
            source,
        },
        other => CostError::Csv {
            path: path.display().to_string(),
            row,
            message: format!("{other:?}"),
        },
    }
}

/// A CSV header: the column names and the indexes idp reads.
struct Cols {
    names: Vec<String>,
    req: [usize; 4],
    opt: [Option<usize>; 3],
}

impl Cols {
    fn of<R: Read>(path: &Path, r: &mut csv::Reader<R>, metric: &str) -> Result<Cols, CostError> {
        let header = r.byte_headers().map_err(|e| csv_err(path, e, 0))?;
        let names: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let (req, opt) = columns(path, names.iter().map(String::as_str), metric)?;
        Ok(Cols { names, req, opt })
    }
}

fn read_csv(
    path: &Path,
    input: impl Read,
    metric: &str,
    sink: &mut dyn Sink,
) -> Result<u64, CostError> {
    let mut r = reader(input, true);
    let cols = Cols::of(path, &mut r, metric)?;
    read_records(path, &mut r, &cols, 0, sink)
}

/// The records of `r` into `sink`; `line` newlines precede the reader's
/// first byte in the file.
fn read_records<R: Read>(
    path: &Path,
    r: &mut csv::Reader<R>,
    cols: &Cols,
    line: u64,
    sink: &mut dyn Sink,
) -> Result<u64, CostError> {
    let Cols { names, req, opt } = cols;
    let shown = || path.display().to_string();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match r.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(path, e, line)),
        }
        rows += 1;
        let at = record.position().map(|p| p.line()).unwrap_or(rows + 1) + line;
        if record.len() != names.len() {
            return Err(CostError::Csv {
                path: shown(),
                row: at,
                message: format!(
                    "{} fields where the header has {}",
                    record.len(),
                    names.len()
                ),
            });
        }
        let bad = |col: usize, why: &str| CostError::BadValue {
            path: shown(),
            row: at,
            column: col + 1,
            name: names[col].clone(),
            value: String::from_utf8_lossy(record.get(col).unwrap_or_default()).into_owned(),
            why: why.to_string(),
        };
        let text = |col: usize| -> Result<&str, CostError> {
            let b = record.get(col).unwrap_or_default();
            if is_null(b) {
                return Ok("");
            }
            std::str::from_utf8(b).map_err(|_| bad(col, "not UTF-8"))
        };
        let amount_text = text(req[0])?;
        if amount_text.is_empty() {
            continue;
        }
        let amount = parse_amount(amount_text).ok_or_else(|| bad(req[0], "not a number"))?;
        let day = parse_day(text(req[2])?).ok_or_else(|| bad(req[2], "not a date"))?;
        let opt_text = |i: usize| -> Result<&str, CostError> {
            match opt[i] {
                Some(c) => text(c),
                None => Ok(""),
            }
        };
        sink.row(Row {
            amount,
            currency: text(req[1])?,
            day,
            service: text(req[3])?,
            resource: opt_text(0)?,
            sub_account: opt_text(1)?,
            tags: opt_text(2)?,
        });
    }
    Ok(rows)
}

/// A decimal amount: plain (`-12.50`) or scientific (`1.5E-7`).
pub fn parse_amount(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if let Some(d) = plain_amount(s.as_bytes()) {
        return Some(d);
    }
    Decimal::from_str(s)
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

/// The common case without allocation or a general parser: an optional
/// sign, at most 19 digits and at most one `.`.
fn plain_amount(b: &[u8]) -> Option<Decimal> {
    let (neg, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mut m, mut scale, mut digits, mut dot) = (0u64, 0u32, 0u32, false);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 19 {
                    return None;
                }
                m = m * 10 + u64::from(c - b'0');
                scale += u32::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    Some(Decimal::from_parts(
        m as u32,
        (m >> 32) as u32,
        0,
        neg,
        scale,
    ))
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146097 + doe - 719468) as i32
}

/// The civil date of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z as i64 + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, d| a * 10 + (d - b'0') as u32))
}

/// `ChargePeriodStart` as a UTC day: `2024-09-18`, `2024-09-18 22:00:00`,
/// `2024-09-18T22:00:00Z`, `…:00.000+02:00`, `… UTC`. A time without a
/// zone is UTC (FOCUS requires UTC).
pub fn parse_day(s: &str) -> Option<i32> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i32, m) {
        return None;
    }
    let day = days_from_civil(y as i64, m, d);
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(day);
    }
    if rest[0] != b'T' && rest[0] != b' ' || rest.len() < 6 {
        return None;
    }
    let t = &rest[1..];
    let (h, mi) = (digits(t.get(0..2)?)?, digits(t.get(3..5)?)?);
    if t[2] != b':' || h > 23 || mi > 59 {
        return None;
    }
    let mut i = 5;
    let mut sec = 0;
    if t.get(i) == Some(&b':') {
        sec = digits(t.get(i + 1..i + 3)?)?;
        i += 3;
        if t.get(i) == Some(&b'.') {
            i += 1;
            while t.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    let zone = std::str::from_utf8(&t[i..]).ok()?.trim();
    let offset: i64 = match zone {
        "" | "Z" | "z" | "UTC" | "+00:00" | "+0000" | "+00" => 0,
        z => {
            let zb = z.as_bytes();
            let sign = match zb[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body: Vec<u8> = zb[1..].iter().copied().filter(|c| *c != b':').collect();
            if body.len() != 4 && body.len() != 2 {
                return None;
            }
            let oh = digits(&body[0..2])? as i64;
            let om = if body.len() == 4 {
                digits(&body[2..4])? as i64
            } else {
                0
            };
            sign * (oh * 3600 + om * 60)
        }
    };
    let secs = day as i64 * 86400 + h as i64 * 3600 + mi as i64 * 60 + sec as i64 - offset;
    Some(secs.div_euclid(86400) as i32)
}

/// Days in a month.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps each row as text.
    #[derive(Default)]
    struct Rows(Vec<String>);
    impl Sink for Rows {
        fn row(&mut self, r: Row<'_>) {
            self.0.push(format!(
                "{} {} {} {} {} {}",
                r.amount, r.currency, r.day, r.service, r.resource, r.tags
            ));
        }
    }

    #[test]
    fn a_csv_cut_at_record_boundaries_reads_as_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.csv");
        let mut text = String::from(
            "EffectiveCost,BillingCurrency,ChargePeriodStart,ServiceName,ResourceId,Tags\n",
        );
        for i in 0..500 {
            // Quoted fields with commas, quotes and newlines inside.
            text.push_str(&format!(
                "{i}.5,USD,2026-10-{:02},\"S3,\nline\",\"r\"\"{i}\",\"{{\"\"k\"\": \"\"v\n{i}\"\"}}\"\n",
                1 + i % 28
            ));
        }
        std::fs::write(&path, &text).unwrap();
        let mut whole = Rows::default();
        read_file(&path, "EffectiveCost", &mut whole).unwrap();
        assert_eq!(whole.0.len(), 500);
        for parts in [2, 3, 7] {
            let units = plan_with(&path, parts, None, 1).unwrap();
            assert_eq!(units.len(), parts, "{units:?}");
            let mut cut = Rows::default();
            for u in &units {
                read_unit(u, "EffectiveCost", None, &mut cut).unwrap();
            }
            assert_eq!(cut.0, whole.0, "{parts} parts");
        }
        // An error in a later piece names the file's own line.
        let bad_line = 1 + 3 * 400 + 1; // header, 3 lines a row, row 401
        let broken = text.replacen("400.5,USD", "oops,USD", 1);
        std::fs::write(&path, &broken).unwrap();
        let units = plan_with(&path, 4, None, 1).unwrap();
        let err = units
            .iter()
            .find_map(|u| read_unit(u, "EffectiveCost", None, &mut Rows::default()).err())
            .unwrap();
        assert!(
            matches!(err, CostError::BadValue { row, column: 1, .. } if row == bad_line),
            "{err}"
        );
        // A budget counts the file before reading it.
        let err = plan(&path, 2, Some(&Budget::new(100))).unwrap_err();
        assert!(matches!(err, CostError::TooBig { limit: 100, .. }), "{err}");
    }

    #[test]
    fn dates_in_the_forms_exports_write() {
        let d = days_from_civil(2024, 9, 18);
        assert_eq!(parse_day("2024-09-18"), Some(d));
        assert_eq!(parse_day("2024-09-18 22:00:00"), Some(d));
        assert_eq!(parse_day("2024-09-18T22:00:00Z"), Some(d));
        assert_eq!(parse_day("2024-09-18T22:00:00.000Z"), Some(d));
        assert_eq!(parse_day("2024-09-18T23:30:00-02:00"), Some(d + 1));
        assert_eq!(parse_day("2024-09-18T01:00:00+02:00"), Some(d - 1));
        assert_eq!(parse_day("2024-02-30"), None);
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(civil_from_days(d), (2024, 9, 18));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn amounts_are_exact() {
        let a = parse_amount("0.00000080000").unwrap() + parse_amount("0.1").unwrap();
        assert_eq!(a.to_string(), "0.10000080000");
        assert_eq!(parse_amount("1.5E-7").unwrap().to_string(), "0.00000015");
        assert!(parse_amount("12,5").is_none());
        assert_eq!(parse_amount("-12.50").unwrap().to_string(), "-12.50");
        assert_eq!(parse_amount("+.5").unwrap().to_string(), "0.5");
        assert_eq!(
            parse_amount("12345678901234567890.5").unwrap().to_string(),
            "12345678901234567890.5"
        );
        assert!(parse_amount("1.2.3").is_none());
        assert!(parse_amount("-").is_none());
    }
}
