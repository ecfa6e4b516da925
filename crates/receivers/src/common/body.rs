//! Request bodies: reading under a size cap and undoing `Content-Encoding`.
//!
//! Each product decides which bytes count against its limit and what it answers; these are
//! the mechanics they share.

use std::io::Read;

use axum::body::Body;
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use axum::http::HeaderMap;
use futures_util::StreamExt;

/// A body's `Content-Encoding`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
    /// Anything else, as sent (lowercased); each product decides what to do with it.
    Other(String),
}

/// The `Content-Encoding` of a request (absent or `identity`: [`Encoding::Identity`]).
pub fn encoding_of(headers: &HeaderMap) -> Encoding {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Encoding::Identity;
    };
    let v = value
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match v.as_str() {
        "" | "identity" => Encoding::Identity,
        "gzip" | "x-gzip" => Encoding::Gzip,
        "deflate" | "x-deflate" => Encoding::Deflate,
        _ => Encoding::Other(v),
    }
}

/// The `Content-Length` a client declared, if any.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Why a body could not be read or decoded.
#[derive(Debug)]
pub enum BodyError {
    /// More bytes than the cap.
    TooLarge,
    /// The connection failed mid-body.
    Read(String),
    /// The bytes are not valid for their `Content-Encoding`.
    Corrupt(std::io::Error),
}

/// Reads a whole body, refusing it once it passes `cap` bytes (and at once when the declared
/// `Content-Length` does).
pub async fn read_raw(body: Body, headers: &HeaderMap, cap: u64) -> Result<Vec<u8>, BodyError> {
    if declared_length(headers).is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge);
    }
    let mut raw = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        raw.extend_from_slice(&chunk);
        if raw.len() as u64 > cap {
            return Err(BodyError::TooLarge);
        }
    }
    Ok(raw)
}

/// Decompresses at most `cap` bytes; `None` for an identity (or unknown) encoding, whose bytes
/// are used as they are.
pub fn decode(raw: &[u8], encoding: &Encoding, cap: u64) -> Result<Option<Vec<u8>>, BodyError> {
    let mut bytes = Vec::new();
    let read = match encoding {
        Encoding::Identity | Encoding::Other(_) => return Ok(None),
        Encoding::Gzip => flate2::read::MultiGzDecoder::new(raw)
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes),
        Encoding::Deflate => flate2::read::ZlibDecoder::new(raw)
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes),
    };
    read.map_err(BodyError::Corrupt)?;
    if bytes.len() as u64 > cap {
        return Err(BodyError::TooLarge);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_undone_under_the_cap() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[b'a'; 1000]).unwrap();
        let raw = gz.finish().unwrap();
        let out = decode(&raw, &Encoding::Gzip, 1000).unwrap().unwrap();
        assert_eq!(out.len(), 1000);
        assert!(matches!(
            decode(&raw, &Encoding::Gzip, 999),
            Err(BodyError::TooLarge)
        ));
        assert!(matches!(
            decode(b"not gzip", &Encoding::Gzip, 10),
            Err(BodyError::Corrupt(_))
        ));
        assert!(decode(b"x", &Encoding::Identity, 0).unwrap().is_none());
    }

    #[test]
    fn encodings_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        assert_eq!(encoding_of(&h), Encoding::Identity);
        h.insert(CONTENT_ENCODING, "GZIP".parse().unwrap());
        assert_eq!(encoding_of(&h), Encoding::Gzip);
        h.insert(CONTENT_ENCODING, "br".parse().unwrap());
        assert_eq!(encoding_of(&h), Encoding::Other("br".into()));
    }
}
