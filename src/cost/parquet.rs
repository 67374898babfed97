//! FOCUS exports in Parquet, read with the `parquet` crate's column readers
//! (no arrow): per row group, each needed column is decoded into a vector
//! (nulls from the definition levels), then rows go to the sink. Memory is
//! one row group of seven columns, whatever the file's size.
//!
//! Amounts may be DOUBLE/FLOAT, INT32/INT64 (plain or DECIMAL), or DECIMAL
//! in a (fixed-length) byte array, or text; `ChargePeriodStart` a
//! TIMESTAMP (INT64 in any unit, or legacy INT96), a DATE, or text. The
//! text columns may be integers (an INT64 `SubAccountId`: read as its
//! decimal text). `Tags` must be JSON text (a Parquet MAP is refused with a
//! clear error). Row groups can be read separately ([`read_groups`]), so a
//! big file is read on several threads.

use std::fs::File;
use std::path::Path;

use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::{get_typed_column_reader, ColumnReader};
use parquet::data_type::{
    ByteArray, ByteArrayType, DoubleType, FixedLenByteArrayType, FloatType, Int32Type, Int64Type,
    Int96Type,
};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use rust_decimal::Decimal;

use super::read::{columns, parse_amount, parse_day, Row, Sink};
use super::CostError;

/// One decoded column of a row group.
enum Col {
    Amount(Vec<Option<Decimal>>),
    Day(Vec<Option<i32>>),
    Text(Vec<Option<ByteArray>>),
}

/// How many row groups a Parquet file has, and its uncompressed size.
pub fn shape(path: &Path) -> Result<(usize, u64), CostError> {
    let file = File::open(path).map_err(|source| CostError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let reader = SerializedFileReader::new(file).map_err(|e| CostError::Parquet {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let bytes = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.total_byte_size().max(0) as u64)
        .sum();
    Ok((reader.num_row_groups(), bytes))
}

/// Reads a Parquet file into `sink`; returns the rows read.
pub fn read(path: &Path, metric: &str, sink: &mut dyn Sink) -> Result<u64, CostError> {
    read_groups(path, metric, 0..usize::MAX, sink)
}

/// Reads row groups `groups` of a Parquet file into `sink` (rows are
/// numbered from the file's first); returns the rows read.
pub fn read_groups(
    path: &Path,
    metric: &str,
    groups: std::ops::Range<usize>,
    sink: &mut dyn Sink,
) -> Result<u64, CostError> {
    let shown = path.display().to_string();
    let perr = |e: parquet::errors::ParquetError| CostError::Parquet {
        path: shown.clone(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|source| CostError::Io {
        path: shown.clone(),
        source,
    })?;
    let reader = SerializedFileReader::new(file).map_err(perr)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let leaves: Vec<String> = schema.columns().iter().map(|c| c.path().string()).collect();
    let (req, opt) = columns(path, leaves.iter().map(String::as_str), metric)?;
    for (i, c) in opt.iter().enumerate() {
        if let Some(c) = c {
            if schema.column(*c).max_rep_level() > 0 || leaves[*c].contains('.') {
                return Err(CostError::Parquet {
                    path: shown.clone(),
                    message: format!(
                        "column {} is nested (a MAP or LIST); idp reads it as JSON text",
                        super::read::OPTIONAL[i]
                    ),
                });
            }
        }
    }
    let groups = groups.start.min(reader.num_row_groups())..groups.end.min(reader.num_row_groups());
    let mut base_row: u64 = (0..groups.start)
        .map(|g| reader.metadata().row_group(g).num_rows() as u64)
        .sum();
    let mut read = 0u64;
    for g in groups {
        let group = reader.get_row_group(g).map_err(perr)?;
        let n = group.metadata().num_rows() as usize;
        let load = |c: usize, what: Want| -> Result<Col, CostError> {
            let desc = schema.column(c);
            let col = group.get_column_reader(c).map_err(perr)?;
            decode(col, &desc, n, what, &shown, &leaves[c], base_row, c)
        };
        let amount = load(req[0], Want::Amount)?;
        let currency = load(req[1], Want::Text)?;
        let start = load(req[2], Want::Day)?;
        let service = load(req[3], Want::Text)?;
        let optional = |i: usize| -> Result<Option<Col>, CostError> {
            opt[i].map(|c| load(c, Want::Text)).transpose()
        };
        let (resource, sub, tags) = (optional(0)?, optional(1)?, optional(2)?);
        let (Col::Amount(amount), Col::Day(start)) = (amount, start) else {
            unreachable!("decode returns the kind asked for")
        };
        let (currency, service) = (Some(currency), Some(service));
        for i in 0..n {
            let Some(a) = amount[i] else { continue };
            let row_no = base_row + i as u64 + 1;
            let day = start[i].ok_or_else(|| CostError::BadValue {
                path: shown.clone(),
                row: row_no,
                column: req[2] + 1,
                name: leaves[req[2]].clone(),
                value: String::new(),
                why: "null ChargePeriodStart".into(),
            })?;
            let bad_utf8 = |b: &[u8], c: usize| CostError::BadValue {
                path: shown.clone(),
                row: row_no,
                column: c + 1,
                name: leaves[c].clone(),
                value: String::from_utf8_lossy(b).into_owned(),
                why: "not UTF-8".into(),
            };
            let cur = text(&currency, i);
            let cur = match std::str::from_utf8(cur) {
                Ok(v) => v,
                Err(_) => return Err(bad_utf8(cur, req[1])),
            };
            sink.row(Row {
                amount: a,
                currency: cur,
                day,
                service: utf(text(&service, i)),
                resource: utf(text(&resource, i)),
                sub_account: utf(text(&sub, i)),
                tags: utf(text(&tags, i)),
            });
        }
        base_row += n as u64;
        read += n as u64;
    }
    Ok(read)
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    Amount,
    Day,
    Text,
}

/// Reads `n` records of one column: the non-null values and the
/// definition levels, spread back into one slot per row.
fn column<T: parquet::data_type::DataType>(
    reader: ColumnReader,
    max_def: i16,
    n: usize,
) -> parquet::errors::Result<Vec<Option<T::T>>>
where
    T::T: Clone + Default,
{
    let mut typed = get_typed_column_reader::<T>(reader);
    let mut values: Vec<T::T> = Vec::with_capacity(n);
    let mut defs: Vec<i16> = Vec::with_capacity(n);
    let mut read = 0;
    while read < n {
        let (records, _, _) = typed.read_records(n - read, Some(&mut defs), None, &mut values)?;
        if records == 0 {
            break;
        }
        read += records;
    }
    if max_def == 0 {
        return Ok(values.into_iter().map(Some).collect());
    }
    let mut it = values.into_iter();
    Ok(defs
        .iter()
        .map(|d| if *d == max_def { it.next() } else { None })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn decode(
    reader: ColumnReader,
    desc: &ColumnDescriptor,
    n: usize,
    want: Want,
    path: &str,
    name: &str,
    base_row: u64,
    index: usize,
) -> Result<Col, CostError> {
    let perr = |e: parquet::errors::ParquetError| CostError::Parquet {
        path: path.to_string(),
        message: e.to_string(),
    };
    let bad = |i: usize, value: String, why: &str| CostError::BadValue {
        path: path.to_string(),
        row: base_row + i as u64 + 1,
        column: index + 1,
        name: name.to_string(),
        value,
        why: why.to_string(),
    };
    let max_def = desc.max_def_level();
    let logical = desc.logical_type_ref().cloned();
    let scale = match &logical {
        Some(LogicalType::Decimal { scale, .. }) => Some(*scale as u32),
        _ if desc.converted_type() == parquet::basic::ConvertedType::DECIMAL => {
            Some(desc.type_scale() as u32)
        }
        _ => None,
    };
    let unit_per_day: Option<i64> = match &logical {
        Some(LogicalType::Timestamp { unit, .. }) => Some(match unit {
            TimeUnit::MILLIS => 86_400_000,
            TimeUnit::MICROS => 86_400_000_000,
            TimeUnit::NANOS => 86_400_000_000_000,
        }),
        _ => match desc.converted_type() {
            parquet::basic::ConvertedType::TIMESTAMP_MILLIS => Some(86_400_000),
            parquet::basic::ConvertedType::TIMESTAMP_MICROS => Some(86_400_000_000),
            _ => None,
        },
    };
    let is_date = matches!(logical, Some(LogicalType::Date))
        || desc.converted_type() == parquet::basic::ConvertedType::DATE;
    let unsupported = || CostError::Parquet {
        path: path.to_string(),
        message: format!(
            "column {name} has Parquet type {:?}{}, which idp cannot read as {}",
            desc.physical_type(),
            logical
                .as_ref()
                .map(|l| format!(" ({l:?})"))
                .unwrap_or_default(),
            match want {
                Want::Amount => "an amount",
                Want::Day => "a timestamp",
                Want::Text => "text",
            }
        ),
    };
    let text_to = |v: Vec<Option<parquet::data_type::ByteArray>>| -> Result<Col, CostError> {
        match want {
            Want::Text => Ok(Col::Text(v)),
            Want::Amount => {
                let mut out = Vec::with_capacity(v.len());
                for (i, b) in v.into_iter().enumerate() {
                    out.push(match b {
                        None => None,
                        Some(b) => match scale {
                            Some(s) => Some(Decimal::from_i128_with_scale(be_i128(b.data()), s)),
                            None => {
                                let t = String::from_utf8_lossy(b.data()).into_owned();
                                if t.is_empty() || t == "NULL" {
                                    None
                                } else {
                                    Some(
                                        parse_amount(&t)
                                            .ok_or_else(|| bad(i, t, "not a number"))?,
                                    )
                                }
                            }
                        },
                    });
                }
                Ok(Col::Amount(out))
            }
            Want::Day => {
                let mut out = Vec::with_capacity(v.len());
                for (i, b) in v.into_iter().enumerate() {
                    out.push(match b {
                        None => None,
                        Some(b) => {
                            let t = String::from_utf8_lossy(b.data()).into_owned();
                            Some(parse_day(&t).ok_or_else(|| bad(i, t, "not a date"))?)
                        }
                    });
                }
                Ok(Col::Day(out))
            }
        }
    };
    match desc.physical_type() {
        Physical::BYTE_ARRAY => text_to(column::<ByteArrayType>(reader, max_def, n).map_err(perr)?),
        Physical::FIXED_LEN_BYTE_ARRAY if want == Want::Amount && scale.is_some() => {
            let v = column::<FixedLenByteArrayType>(reader, max_def, n).map_err(perr)?;
            Ok(Col::Amount(
                v.into_iter()
                    .map(|b| {
                        b.map(|b| {
                            Decimal::from_i128_with_scale(be_i128(b.data()), scale.unwrap_or(0))
                        })
                    })
                    .collect(),
            ))
        }
        Physical::DOUBLE | Physical::FLOAT if want == Want::Amount => {
            let v: Vec<Option<f64>> = if desc.physical_type() == Physical::DOUBLE {
                column::<DoubleType>(reader, max_def, n).map_err(perr)?
            } else {
                column::<FloatType>(reader, max_def, n)
                    .map_err(perr)?
                    .into_iter()
                    .map(|f| f.map(f64::from))
                    .collect()
            };
            let mut out = Vec::with_capacity(v.len());
            for (i, f) in v.into_iter().enumerate() {
                out.push(match f {
                    None => None,
                    Some(f) if !f.is_finite() => {
                        return Err(bad(i, f.to_string(), "not a finite number"))
                    }
                    // The shortest text that reads back as the same double:
                    // what the exporter meant, not the binary expansion.
                    Some(f) => Some(
                        parse_amount(&format!("{f}"))
                            .or_else(|| Decimal::from_f64_retain(f))
                            .ok_or_else(|| bad(i, f.to_string(), "out of range"))?,
                    ),
                });
            }
            Ok(Col::Amount(out))
        }
        Physical::INT32 | Physical::INT64 => {
            let v: Vec<Option<i64>> = if desc.physical_type() == Physical::INT32 {
                column::<Int32Type>(reader, max_def, n)
                    .map_err(perr)?
                    .into_iter()
                    .map(|x| x.map(i64::from))
                    .collect()
            } else {
                column::<Int64Type>(reader, max_def, n).map_err(perr)?
            };
            match want {
                Want::Amount => Ok(Col::Amount(
                    v.into_iter()
                        .map(|x| {
                            x.map(|x| Decimal::from_i128_with_scale(x as i128, scale.unwrap_or(0)))
                        })
                        .collect(),
                )),
                Want::Day if is_date => Ok(Col::Day(
                    v.into_iter().map(|x| x.map(|d| d as i32)).collect(),
                )),
                Want::Day => match unit_per_day {
                    Some(u) => Ok(Col::Day(
                        v.into_iter()
                            .map(|x| x.map(|t| t.div_euclid(u) as i32))
                            .collect(),
                    )),
                    None => Err(unsupported()),
                },
                // Ids (SubAccountId, …) some writers store as integers:
                // their decimal text, as a CSV export would have it.
                Want::Text => Ok(Col::Text(
                    v.into_iter()
                        .map(|x| {
                            x.map(|x| {
                                let t = match scale {
                                    Some(s) => {
                                        Decimal::from_i128_with_scale(x as i128, s).to_string()
                                    }
                                    None => x.to_string(),
                                };
                                ByteArray::from(t.into_bytes())
                            })
                        })
                        .collect(),
                )),
            }
        }
        Physical::INT96 if want == Want::Day => {
            let v = column::<Int96Type>(reader, max_def, n).map_err(perr)?;
            Ok(Col::Day(
                v.into_iter()
                    .map(|x| x.map(|t| t.to_seconds().div_euclid(86_400) as i32))
                    .collect(),
            ))
        }
        _ => Err(unsupported()),
    }
}

fn text(c: &Option<Col>, i: usize) -> &[u8] {
    match c {
        Some(Col::Text(v)) => v[i].as_ref().map_or(&[][..], |b| b.data()),
        _ => b"",
    }
}

fn utf(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// A big-endian two's complement integer of up to 16 bytes.
fn be_i128(b: &[u8]) -> i128 {
    let neg = b.first().is_some_and(|x| x & 0x80 != 0);
    let mut buf = if neg { [0xffu8; 16] } else { [0u8; 16] };
    let b = &b[b.len().saturating_sub(16)..];
    buf[16 - b.len()..].copy_from_slice(b);
    i128::from_be_bytes(buf)
}
