//! A raw HTTP/2 peer that writes frames a well-behaved client never would (more streams than
//! the server allows, malformed requests), for the transport-abuse tests. RFC 9113 §4, §6.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test support: a failure must fail the test"
)]

use core::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Mutex;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// DATA frame type (RFC 9113 §6.1).
pub const DATA: u8 = 0x0;
/// HEADERS frame type (§6.2).
pub const HEADERS: u8 = 0x1;
/// RST_STREAM frame type (§6.4).
pub const RST_STREAM: u8 = 0x3;
/// SETTINGS frame type (§6.5).
pub const SETTINGS: u8 = 0x4;
/// PING frame type (§6.7).
pub const PING: u8 = 0x6;
/// GOAWAY frame type (§6.8).
pub const GOAWAY: u8 = 0x7;
/// The END_STREAM flag.
pub const END_STREAM: u8 = 0x1;
/// The END_HEADERS flag.
pub const END_HEADERS: u8 = 0x4;
/// The ACK flag of SETTINGS and PING.
pub const ACK: u8 = 0x1;
/// SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2).
pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// RST_STREAM / GOAWAY error codes (RFC 9113 §7): PROTOCOL_ERROR.
pub const PROTOCOL_ERROR: u32 = 0x1;
/// REFUSED_STREAM.
pub const REFUSED_STREAM: u32 = 0x7;
/// ENHANCE_YOUR_CALM.
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

/// One frame as read: its type, flags, stream and payload.
#[derive(Debug)]
pub struct Frame {
    /// Its type.
    pub kind: u8,
    /// Its flags.
    pub flags: u8,
    /// Its stream id.
    pub stream: u32,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// The error code of a RST_STREAM or GOAWAY.
    pub fn error_code(&self) -> u32 {
        let at = if self.kind == GOAWAY { 4 } else { 0 };
        u32::from_be_bytes(self.payload[at..at + 4].try_into().unwrap())
    }
}

/// The bytes of one frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// HPACK "literal without indexing, indexed name" with a 4-bit name index (RFC 7541 §6.2.2).
fn literal(out: &mut Vec<u8>, name_index: u8, value: &str) {
    if name_index < 15 {
        out.push(name_index);
    } else {
        out.push(0x0f);
        out.push(name_index - 15);
    }
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

/// The header block of a gRPC call to `path`: POST, http, the path, content-type and te.
pub fn grpc_headers(authority: &str, path: &str) -> Vec<u8> {
    let mut block = vec![0x83, 0x86]; // :method POST, :scheme http (static table 3 and 6)
    literal(&mut block, 4, path); // :path
    literal(&mut block, 1, authority); // :authority
    literal(&mut block, 31, "application/grpc"); // content-type
    block.push(0x00); // te: trailers, a literal name
    block.push(2);
    block.extend_from_slice(b"te");
    block.push(8);
    block.extend_from_slice(b"trailers");
    block
}

/// A raw connection that has sent the preface and an empty SETTINGS frame. It answers the
/// server's SETTINGS and PINGs as it reads.
#[derive(Debug)]
pub struct RawH2 {
    read: OwnedReadHalf,
    buf: Vec<u8>,
    write: Writer,
}

/// The writing side of a [`RawH2`], to write from another task while it reads.
#[derive(Clone, Debug)]
pub struct Writer(Arc<Mutex<OwnedWriteHalf>>);

impl Writer {
    /// Writes `bytes` to the connection.
    ///
    /// # Errors
    /// The socket's.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.lock().await.write_all(bytes).await
    }
}

impl RawH2 {
    /// Connects to `addr` and sends the preface and an empty SETTINGS frame.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (read, write) = stream.into_split();
        let mut conn = Self {
            read,
            buf: Vec::new(),
            write: Writer(Arc::new(Mutex::new(write))),
        };
        conn.send(PREFACE).await.unwrap();
        conn.send(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
        conn
    }

    /// Writes `bytes` to the connection.
    ///
    /// # Errors
    /// The socket's.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write.send(bytes).await
    }

    /// This connection, still reading, and a handle that writes to it.
    pub fn split(self) -> (Self, Writer) {
        let writer = self.write.clone();
        (self, writer)
    }

    /// The next frame, or `None` once the server has closed the connection.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
                if self.buf.len() >= 9 + len {
                    let header: Vec<u8> = self.buf.drain(..9).collect();
                    let payload = self.buf.drain(..len).collect();
                    let frame = Frame {
                        kind: header[3],
                        flags: header[4],
                        stream: u32::from_be_bytes(header[5..9].try_into().unwrap()) & 0x7fff_ffff,
                        payload,
                    };
                    if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                        let _ = self.send(&frame_ack()).await;
                    }
                    if frame.kind == PING && frame.flags & ACK == 0 {
                        let pong = self::frame(PING, ACK, 0, &frame.payload);
                        let _ = self.send(&pong).await;
                    }
                    return Some(frame);
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.read.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The server's first SETTINGS frame as (identifier, value) pairs.
    pub async fn server_settings(&mut self) -> Vec<(u16, u32)> {
        loop {
            let frame = self
                .next()
                .await
                .expect("connection closed before SETTINGS");
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                return frame
                    .payload
                    .chunks_exact(6)
                    .map(|c| {
                        (
                            u16::from_be_bytes([c[0], c[1]]),
                            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                        )
                    })
                    .collect();
            }
        }
    }
}

fn frame_ack() -> Vec<u8> {
    frame(SETTINGS, ACK, 0, &[])
}

/// A gRPC message frame header (RFC-less: gRPC over HTTP/2, "Length-Prefixed-Message"):
/// uncompressed, `len` bytes to follow.
pub fn grpc_prefix(len: u32) -> [u8; 5] {
    let l = len.to_be_bytes();
    [0, l[0], l[1], l[2], l[3]]
}
