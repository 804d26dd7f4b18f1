//! Shared by the benchmarks: a minimal loopback HTTP/1.1 server.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts the server on `runtime`; every request gets `raw_reply`, a whole HTTP/1.1
/// response (status line, headers, body) written as given.
pub(crate) fn start_raw_server(
    runtime: &tokio::runtime::Runtime,
    raw_reply: &'static str,
) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve_raw(listener, raw_reply));
        addr
    })
}

/// Starts the server on `runtime`; every request gets `reply_body` as JSON.
pub(crate) fn start_server(
    runtime: &tokio::runtime::Runtime,
    reply_body: &'static str,
) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, reply_body));
        addr
    })
}

/// A minimal keep-alive HTTP/1.1 server: reads a request (headers + content-length body)
/// and answers a fixed JSON reply. Minimal so that the measurement is the client's.
async fn serve(listener: tokio::net::TcpListener, reply_body: &'static str) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply_body}",
        reply_body.len()
    );
    serve_raw(listener, Box::leak(reply.into_boxed_str())).await;
}

async fn serve_raw(listener: tokio::net::TcpListener, reply: &'static str) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            let mut chunk = [0u8; 4096];
            loop {
                // Read until a whole request is buffered.
                let complete = loop {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break Some(end + 4 + len);
                        }
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let Some(used) = complete else { return };
                buf.drain(..used);
                if socket.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}
