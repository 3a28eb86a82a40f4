//! Bounded decompression (gzip, zlib, raw deflate) and archive member extraction (zip, tar).
//!
//! Every read goes through [`read_bounded`], which never buffers more than its cap plus one
//! byte, so a bomb costs at most the cap in memory and time.

use std::io::{Cursor, Read};

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::{Limit, Limits};

/// Bytes read up to a cap, the limit that cut them (if any) and a read error (if any).
pub(crate) struct Bounded {
    pub bytes: Vec<u8>,
    pub stopped_by: Option<Limit>,
    pub error: Option<String>,
}

/// Reads at most `cap` bytes; reading one more means the limit `limit` stopped the stream.
fn read_bounded(reader: impl Read, cap: usize, limit: Limit) -> Bounded {
    let mut bytes = Vec::new();
    let mut reader = reader.take((cap as u64).saturating_add(1));
    let error = reader.read_to_end(&mut bytes).err().map(|e| e.to_string());
    let stopped_by = if bytes.len() > cap {
        bytes.truncate(cap);
        Some(limit)
    } else {
        None
    };
    Bounded {
        bytes,
        stopped_by,
        error,
    }
}

/// The smallest of several caps and the limit it comes from.
fn tightest(caps: &[(usize, Limit)]) -> (usize, Limit) {
    caps.iter()
        .copied()
        .min_by_key(|(cap, _)| *cap)
        .unwrap_or((0, Limit::MaxTotalOutputBytes))
}

fn ratio_cap(limits: &Limits, compressed: usize) -> usize {
    compressed
        .saturating_mul(limits.max_expansion_ratio)
        .max(limits.expansion_floor_bytes)
}

/// A compressed stream format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stream {
    Gzip,
    Zlib,
    Deflate,
}

/// Decompresses `input` with at most `remaining` bytes of output budget.
pub(crate) fn decompress(
    stream: Stream,
    input: &[u8],
    limits: &Limits,
    remaining: usize,
) -> Bounded {
    let (cap, limit) = tightest(&[
        (remaining, Limit::MaxTotalOutputBytes),
        (ratio_cap(limits, input.len()), Limit::MaxExpansionRatio),
    ]);
    match stream {
        Stream::Gzip => read_bounded(MultiGzDecoder::new(input), cap, limit),
        Stream::Zlib => read_bounded(ZlibDecoder::new(input), cap, limit),
        Stream::Deflate => {
            let mut decoder = DeflateDecoder::new(input);
            let mut out = read_bounded(&mut decoder, cap, limit);
            // Trailing bytes after the final block mean this was not a deflate stream.
            if out.error.is_none()
                && out.stopped_by.is_none()
                && (decoder.total_in() as usize) < input.len()
            {
                out.error = Some("data after the end of the deflate stream".to_owned());
            }
            out
        }
    }
}

/// One archive member.
pub(crate) struct Member {
    pub name: String,
    pub bytes: Vec<u8>,
    pub stopped_by: Option<Limit>,
    pub error: Option<String>,
}

/// The members read from an archive, and why reading ended early (if it did).
pub(crate) struct Archive {
    pub members: Vec<Member>,
    pub stopped_by: Option<Limit>,
    pub error: Option<String>,
}

fn member_cap(limits: &Limits, remaining: usize, compressed: Option<usize>) -> (usize, Limit) {
    let mut caps = vec![
        (remaining, Limit::MaxTotalOutputBytes),
        (limits.max_member_size, Limit::MaxMemberSize),
    ];
    if let Some(compressed) = compressed {
        caps.push((ratio_cap(limits, compressed), Limit::MaxExpansionRatio));
    }
    tightest(&caps)
}

/// Reads a zip archive's members (directories as empty members), spending `remaining`.
pub(crate) fn zip_members(input: &[u8], limits: &Limits, remaining: &mut usize) -> Archive {
    let mut archive = match zip::ZipArchive::new(Cursor::new(input)) {
        Ok(a) => a,
        Err(e) => {
            return Archive {
                members: Vec::new(),
                stopped_by: None,
                error: Some(format!("zip: {e}")),
            }
        }
    };
    let mut out = Archive {
        members: Vec::new(),
        stopped_by: None,
        error: None,
    };
    for i in 0..archive.len() {
        if out.members.len() >= limits.max_archive_members {
            out.stopped_by = Some(Limit::MaxArchiveMembers);
            break;
        }
        if *remaining == 0 {
            out.stopped_by = Some(Limit::MaxTotalOutputBytes);
            break;
        }
        let fallback_name = archive
            .name_for_index(i)
            .map_or_else(|| format!("#{i}"), str::to_owned);
        let member = match archive.by_index(i) {
            Ok(file) => {
                let name = file.name().to_owned();
                if file.is_dir() {
                    Member {
                        name,
                        bytes: Vec::new(),
                        stopped_by: None,
                        error: None,
                    }
                } else {
                    let compressed = usize::try_from(file.compressed_size()).unwrap_or(usize::MAX);
                    let (cap, limit) = member_cap(limits, *remaining, Some(compressed));
                    let read = read_bounded(file, cap, limit);
                    Member {
                        name,
                        bytes: read.bytes,
                        stopped_by: read.stopped_by,
                        error: read.error.map(|e| format!("zip member: {e}")),
                    }
                }
            }
            Err(e) => Member {
                name: fallback_name,
                bytes: Vec::new(),
                stopped_by: None,
                error: Some(format!("zip member: {e}")),
            },
        };
        *remaining = remaining.saturating_sub(member.bytes.len());
        out.members.push(member);
    }
    out
}

/// Reads a tar archive's members (non-files as empty members), spending `remaining`.
pub(crate) fn tar_members(input: &[u8], limits: &Limits, remaining: &mut usize) -> Archive {
    let mut out = Archive {
        members: Vec::new(),
        stopped_by: None,
        error: None,
    };
    let mut archive = tar::Archive::new(Cursor::new(input));
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            out.error = Some(format!("tar: {e}"));
            return out;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.error = Some(format!("tar: {e}"));
                break;
            }
        };
        if out.members.len() >= limits.max_archive_members {
            out.stopped_by = Some(Limit::MaxArchiveMembers);
            break;
        }
        if *remaining == 0 {
            out.stopped_by = Some(Limit::MaxTotalOutputBytes);
            break;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member = if entry.header().entry_type().is_file() {
            let (cap, limit) = member_cap(limits, *remaining, None);
            let read = read_bounded(entry, cap, limit);
            Member {
                name,
                bytes: read.bytes,
                stopped_by: read.stopped_by,
                error: read.error.map(|e| format!("tar member: {e}")),
            }
        } else {
            Member {
                name,
                bytes: Vec::new(),
                stopped_by: None,
                error: None,
            }
        };
        *remaining = remaining.saturating_sub(member.bytes.len());
        out.members.push(member);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_the_ratio() {
        let bomb = gzip(&vec![0u8; 4 * 1024 * 1024]);
        let limits = Limits {
            expansion_floor_bytes: 1000,
            ..Limits::default()
        };
        let out = decompress(Stream::Gzip, &bomb, &limits, usize::MAX);
        assert_eq!(out.stopped_by, Some(Limit::MaxExpansionRatio));
        assert_eq!(out.bytes.len(), (bomb.len() * 100).max(1000));
    }

    #[test]
    fn budget_wins_when_tighter() {
        let data = gzip(b"hello hello hello hello");
        let out = decompress(Stream::Gzip, &data, &Limits::default(), 5);
        assert_eq!(out.bytes, b"hello");
        assert_eq!(out.stopped_by, Some(Limit::MaxTotalOutputBytes));
    }

    #[test]
    fn truncated_gzip_reports_an_error() {
        let mut data = gzip(&[b'a'; 1000]);
        data.truncate(data.len() - 6);
        let out = decompress(Stream::Gzip, &data, &Limits::default(), usize::MAX);
        assert!(out.error.is_some());
    }
}
