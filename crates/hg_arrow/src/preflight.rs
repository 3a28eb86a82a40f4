//! A cheap walk over the IPC stream framing that rejects input arrow-rs would panic or
//! over-allocate on, before arrow-rs decodes it.
//!
//! Checked for every record batch and dictionary batch (metadata parsed with flatbuffer
//! verification):
//! - every buffer lies inside its message body (arrow-ipc 60 panics on an offset past it);
//! - a compressed buffer's declared decompressed length is at most [`MAX_COMPRESSION_RATIO`]
//!   times its compressed length, and all declared lengths together stay within the budget
//!   (arrow-ipc reserves the declared length up front, so eight bytes claiming an exabyte would
//!   abort the process or trap the wasm instance);
//! - each buffer's (decoded) length is a multiple of its element width for the column's type
//!   (offsets, views, primitive values, dictionary keys): arrow-data 60 validates the minimum
//!   length but then asserts an exact multiple, and panics otherwise;
//! - the batch has exactly the buffers its columns need (a corrupted variadic buffer count of a
//!   view column otherwise shifts buffers onto the wrong columns, with the same panic).
//!
//! Both panics were found by this crate's corruption test. Anything this walk cannot interpret
//! is left to arrow-rs, which reports it as an IPC error.

use std::collections::HashMap;

use arrow_schema::{DataType, Field, UnionMode};

use crate::HgArrowError;

/// The largest accepted ratio between a buffer's declared decompressed size and its compressed
/// size (LZ4 frames cannot exceed about 255:1; this leaves room for other codecs).
pub const MAX_COMPRESSION_RATIO: u64 = 1024;

const CONTINUATION: [u8; 4] = [0xff; 4];

/// More variadic buffers than a batch could hold in any realistic stream; larger counts are
/// treated as this many (and then disagree with the batch's buffer count).
const MAX_VARIADIC_BUFFERS: usize = 1 << 16;

/// The schema's column types and the value type of each dictionary id.
struct Layout {
    columns: Vec<DataType>,
    dictionaries: HashMap<i64, DataType>,
}

fn child_fields(dt: &DataType) -> Vec<&Field> {
    match dt {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => vec![f.as_ref()],
        DataType::Struct(fs) => fs.iter().map(|f| f.as_ref()).collect(),
        DataType::Union(fs, _) => fs.iter().map(|(_, f)| f.as_ref()).collect(),
        DataType::RunEndEncoded(r, v) => vec![r.as_ref(), v.as_ref()],
        DataType::Dictionary(_, v) => child_fields(v),
        _ => Vec::new(),
    }
}

/// Records the value type of every dictionary-encoded field (flatbuffer and converted trees
/// are walked side by side).
fn collect_dictionaries(fb: arrow_ipc::Field, field: &Field, out: &mut HashMap<i64, DataType>) {
    if let (Some(d), DataType::Dictionary(_, value)) = (fb.dictionary(), field.data_type()) {
        out.insert(d.id(), value.as_ref().clone());
    }
    if let Some(children) = fb.children() {
        for (fb_child, child) in children.iter().zip(child_fields(field.data_type())) {
            collect_dictionaries(fb_child, child, out);
        }
    }
}

fn layout_of(schema: arrow_ipc::Schema) -> Option<Layout> {
    let converted = arrow_ipc::convert::try_fb_to_schema(schema).ok()?;
    let mut dictionaries = HashMap::new();
    if let Some(fields) = schema.fields() {
        for (fb, field) in fields.iter().zip(converted.fields().iter()) {
            collect_dictionaries(fb, field, &mut dictionaries);
        }
    }
    Some(Layout {
        columns: converted
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect(),
        dictionaries,
    })
}

/// Pushes the element width of each IPC buffer of a column of type `dt`, in buffer order
/// (1 where any length is valid). `None` for types this walk does not model.
fn buffer_widths(
    dt: &DataType,
    variadic: &mut dyn Iterator<Item = i64>,
    out: &mut Vec<usize>,
) -> Option<()> {
    match dt {
        DataType::Null => {}
        DataType::Boolean => out.extend([1, 1]),
        DataType::Dictionary(key, _) => out.extend([1, key.primitive_width()?]),
        DataType::Utf8 | DataType::Binary => out.extend([1, 4, 1]),
        DataType::LargeUtf8 | DataType::LargeBinary => out.extend([1, 8, 1]),
        DataType::Utf8View | DataType::BinaryView => {
            out.extend([1, 16]);
            // A count past the buffers that exist is capped: the buffer count check then fails.
            let n = usize::try_from(variadic.next()?).unwrap_or(usize::MAX);
            out.extend(std::iter::repeat_n(1, n.min(MAX_VARIADIC_BUFFERS)));
        }
        DataType::FixedSizeBinary(_) => out.extend([1, 1]),
        DataType::List(f) | DataType::Map(f, _) => {
            out.extend([1, 4]);
            buffer_widths(f.data_type(), variadic, out)?;
        }
        DataType::LargeList(f) => {
            out.extend([1, 8]);
            buffer_widths(f.data_type(), variadic, out)?;
        }
        DataType::ListView(f) => {
            out.extend([1, 4, 4]);
            buffer_widths(f.data_type(), variadic, out)?;
        }
        DataType::LargeListView(f) => {
            out.extend([1, 8, 8]);
            buffer_widths(f.data_type(), variadic, out)?;
        }
        DataType::FixedSizeList(f, _) => {
            out.push(1);
            buffer_widths(f.data_type(), variadic, out)?;
        }
        DataType::Struct(fs) => {
            out.push(1);
            for f in fs {
                buffer_widths(f.data_type(), variadic, out)?;
            }
        }
        DataType::Union(fs, mode) => {
            out.push(1);
            if *mode == UnionMode::Dense {
                out.push(4);
            }
            for (_, f) in fs.iter() {
                buffer_widths(f.data_type(), variadic, out)?;
            }
        }
        DataType::RunEndEncoded(r, v) => {
            buffer_widths(r.data_type(), variadic, out)?;
            buffer_widths(v.data_type(), variadic, out)?;
        }
        other => out.extend([1, other.primitive_width()?]),
    }
    Some(())
}

pub(crate) fn check_stream(bytes: &[u8], max_decoded_bytes: u64) -> Result<(), HgArrowError> {
    check_stream_counting(bytes, max_decoded_bytes).map(|_| ())
}

/// How many batches were seen and how many had their buffer widths checked.
#[derive(Debug, Default, PartialEq)]
struct Walked {
    batches: usize,
    widths_checked: usize,
}

fn check_stream_counting(bytes: &[u8], max_decoded_bytes: u64) -> Result<Walked, HgArrowError> {
    let mut walked = Walked::default();
    let mut pos = 0usize;
    let mut declared_total: u64 = 0;
    let mut layout: Option<Layout> = None;
    loop {
        let Some(mut len_bytes) = bytes.get(pos..pos + 4) else {
            return Ok(walked);
        };
        if len_bytes == CONTINUATION {
            pos += 4;
            match bytes.get(pos..pos + 4) {
                Some(b) => len_bytes = b,
                None => return Ok(walked),
            }
        }
        let meta_len = i32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        pos += 4;
        if meta_len <= 0 {
            return Ok(walked);
        }
        let meta_end = match pos.checked_add(meta_len as usize) {
            Some(end) if end <= bytes.len() => end,
            _ => return Ok(walked),
        };
        let Ok(message) = arrow_ipc::root_as_message(&bytes[pos..meta_end]) else {
            return Ok(walked);
        };
        pos = meta_end;
        let Ok(body_len) = usize::try_from(message.bodyLength()) else {
            return Ok(walked);
        };
        let body_end = match pos.checked_add(body_len) {
            Some(end) if end <= bytes.len() => end,
            _ => return Ok(walked),
        };
        let body = &bytes[pos..body_end];
        pos = body_end;

        if let Some(schema) = message.header_as_schema() {
            layout = layout_of(schema);
            continue;
        }
        // The column types whose buffers this batch holds (None: not modelled, skip the widths).
        let (batch, types): (_, Option<Vec<DataType>>) =
            if let Some(b) = message.header_as_record_batch() {
                (b, layout.as_ref().map(|l| l.columns.clone()))
            } else if let Some(d) = message.header_as_dictionary_batch() {
                let Some(data) = d.data() else { continue };
                let value = layout
                    .as_ref()
                    .and_then(|l| l.dictionaries.get(&d.id()).cloned());
                (data, value.map(|v| vec![v]))
            } else {
                continue;
            };
        walked.batches += 1;
        let compressed = batch.compression().is_some();
        let Some(buffers) = batch.buffers() else {
            continue;
        };
        let widths = types.and_then(|types| {
            let mut variadic = batch.variadicBufferCounts().into_iter().flatten();
            let mut widths = Vec::new();
            for t in &types {
                buffer_widths(t, &mut variadic, &mut widths)?;
            }
            Some(widths)
        });
        if let Some(widths) = &widths {
            // A count that disagrees with the schema (for example a corrupted variadic buffer
            // count) would make arrow-rs read buffers as the wrong columns.
            if widths.len() != buffers.len() {
                return Err(HgArrowError::Ipc(format!(
                    "a batch has {} buffers but its columns need {}",
                    buffers.len(),
                    widths.len()
                )));
            }
        }
        walked.widths_checked += usize::from(widths.is_some());
        for (i, buffer) in buffers.iter().enumerate() {
            // arrow-ipc slices the body at these offsets and panics when one lies outside it.
            let in_body = match (
                usize::try_from(buffer.offset()),
                usize::try_from(buffer.length()),
            ) {
                (Ok(offset), Ok(length)) => offset
                    .checked_add(length)
                    .is_some_and(|end| end <= body.len())
                    .then_some((offset, length)),
                _ => None,
            };
            let Some((offset, length)) = in_body else {
                return Err(HgArrowError::Ipc(format!(
                    "buffer at offset {} with length {} lies outside the {}-byte message body",
                    buffer.offset(),
                    buffer.length(),
                    body.len()
                )));
            };
            let decoded = if !compressed || length < 8 {
                length as u64
            } else {
                let head = &body[offset..offset + 8];
                let declared = i64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
                if declared < 0 {
                    // -1 marks a buffer stored uncompressed after the 8-byte prefix.
                    length as u64 - 8
                } else {
                    let declared = declared as u64;
                    let allowed = (length as u64 - 8)
                        .saturating_mul(MAX_COMPRESSION_RATIO)
                        .saturating_add(64);
                    if declared > allowed {
                        return Err(HgArrowError::Ipc(format!(
                            "compressed buffer declares {declared} decompressed bytes from {} compressed bytes (more than {MAX_COMPRESSION_RATIO}:1)",
                            length - 8
                        )));
                    }
                    declared
                }
            };
            if let Some(width) = widths.as_ref().map(|w| w[i]) {
                if width > 1 && decoded % width as u64 != 0 {
                    return Err(HgArrowError::Ipc(format!(
                        "buffer {i} of a batch has {decoded} bytes, not a whole number of {width}-byte values"
                    )));
                }
            }
            declared_total = declared_total.saturating_add(decoded);
        }
        if declared_total > max_decoded_bytes {
            return Err(HgArrowError::TooLarge(format!(
                "the stream's buffers declare more than {max_decoded_bytes} decoded bytes"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_batch_has_its_buffer_widths_checked() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ipc");
        let mut total = 0;
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "arrow") {
                let bytes = std::fs::read(&path).expect("readable");
                let walked = check_stream_counting(&bytes, u64::MAX).expect("valid fixture");
                assert_eq!(walked.batches, walked.widths_checked, "{}", path.display());
                total += walked.batches;
            }
        }
        assert!(total >= 10, "{total} batches");
    }
}
