//! A cheap walk over the IPC stream framing that rejects decompression bombs before arrow-rs
//! allocates the sizes a compressed buffer declares.
//!
//! arrow-ipc reserves each compressed buffer's declared decompressed length up front, so eight
//! bytes claiming an exabyte would abort the process (or trap the wasm instance). Here every
//! message's metadata is parsed (with flatbuffer verification) and each compressed buffer's
//! declared length is checked against its compressed length and a total budget; every buffer
//! must lie inside its message body (arrow-ipc 60 panics on a buffer offset past the body, found
//! by this crate's corruption test). Anything else this
//! walk cannot interpret is left to arrow-rs, which reports it as an IPC error.

use crate::HgArrowError;

/// The largest accepted ratio between a buffer's declared decompressed size and its compressed
/// size (LZ4 frames cannot exceed about 255:1; this leaves room for other codecs).
pub const MAX_COMPRESSION_RATIO: u64 = 1024;

const CONTINUATION: [u8; 4] = [0xff; 4];

pub(crate) fn check_stream(bytes: &[u8], max_decoded_bytes: u64) -> Result<(), HgArrowError> {
    let mut pos = 0usize;
    let mut declared_total: u64 = 0;
    loop {
        let Some(mut len_bytes) = bytes.get(pos..pos + 4) else {
            return Ok(());
        };
        if len_bytes == CONTINUATION {
            pos += 4;
            match bytes.get(pos..pos + 4) {
                Some(b) => len_bytes = b,
                None => return Ok(()),
            }
        }
        let meta_len = i32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        pos += 4;
        if meta_len <= 0 {
            return Ok(());
        }
        let meta_end = match pos.checked_add(meta_len as usize) {
            Some(end) if end <= bytes.len() => end,
            _ => return Ok(()),
        };
        let Ok(message) = arrow_ipc::root_as_message(&bytes[pos..meta_end]) else {
            return Ok(());
        };
        pos = meta_end;
        let Ok(body_len) = usize::try_from(message.bodyLength()) else {
            return Ok(());
        };
        let body_end = match pos.checked_add(body_len) {
            Some(end) if end <= bytes.len() => end,
            _ => return Ok(()),
        };
        let body = &bytes[pos..body_end];
        pos = body_end;

        let batch = message
            .header_as_record_batch()
            .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        let Some(batch) = batch else { continue };
        let compressed = batch.compression().is_some();
        let Some(buffers) = batch.buffers() else {
            continue;
        };
        for buffer in buffers.iter() {
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
            if !compressed || length < 8 {
                declared_total = declared_total.saturating_add(length as u64);
                continue;
            }
            let Some(head) = offset.checked_add(8).and_then(|end| body.get(offset..end)) else {
                continue;
            };
            let declared = i64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
            if declared < 0 {
                // -1 marks a buffer stored uncompressed.
                declared_total = declared_total.saturating_add(length as u64);
                continue;
            }
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
            declared_total = declared_total.saturating_add(declared);
        }
        if declared_total > max_decoded_bytes {
            return Err(HgArrowError::TooLarge(format!(
                "the stream's buffers declare more than {max_decoded_bytes} decoded bytes"
            )));
        }
    }
}
