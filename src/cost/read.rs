//! Streaming readers of FOCUS exports: `.csv`, `.csv.gz` and `.parquet`,
//! one row at a time into a [`Sink`], never the whole file in memory.
//!
//! Billing files are untrusted input: a value that does not parse is an
//! error at file:row:column (row 1 is the header of a CSV; Parquet rows
//! count from 1), never a silently skipped charge. A null amount (empty, or
//! the literal `NULL` some exports write) contributes nothing.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::str::FromStr;

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

fn read_csv(
    path: &Path,
    input: impl Read,
    metric: &str,
    sink: &mut dyn Sink,
) -> Result<u64, CostError> {
    let shown = || path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let csv_err = |e: csv::Error| {
        let row = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            csv::ErrorKind::Io(source) => CostError::Io {
                path: shown(),
                source,
            },
            other => CostError::Csv {
                path: shown(),
                row,
                message: format!("{other:?}"),
            },
        }
    };
    let header = reader.byte_headers().map_err(csv_err)?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let (req, opt) = columns(path, names.iter().map(String::as_str), metric)?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(e)),
        }
        rows += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(rows + 1);
        let bad = |col: usize, why: &str| CostError::BadValue {
            path: shown(),
            row: line,
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
    Decimal::from_str(s)
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
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
    }
}
