//! Fake upstreams on 127.0.0.1 for the client tests: an axum server that records every request
//! and answers through a per-test closure, and a raw HTTP/1.1 server that streams a chunked body
//! with pauses. Both run on the test's runtime and stop with it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON request body")
    }
    /// The form fields of an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> BTreeMap<String, String> {
        form_decode(&String::from_utf8_lossy(&self.body))
    }
    pub fn query_map(&self) -> BTreeMap<String, String> {
        form_decode(&self.query)
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

pub fn form_decode(s: &str) -> BTreeMap<String, String> {
    let dec = |x: &str| {
        let bytes = x.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

/// What the fake answers.
pub enum Reply {
    Json(u16, Value),
    JsonWith(u16, Value, Vec<(&'static str, String)>),
    Text(u16, &'static str, String),
    /// Answer after a pause (for time-outs).
    Delay(Duration, Box<Reply>),
}

pub fn json(status: u16, v: Value) -> Reply {
    Reply::Json(status, v)
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct FakeState {
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Arc<Handler>,
}

/// A running fake upstream.
pub struct Fake {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|s| s.path == path).count()
    }
}

/// Starts a fake whose answers come from `handler(request, index of the request)`.
pub async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Fake {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = FakeState {
        seen: seen.clone(),
        handler: Arc::new(handler),
    };
    let app = axum::Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Fake { addr, seen }
}

async fn handle(
    State(state): State<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    };
    let index = {
        let mut list = state.seen.lock().unwrap();
        list.push(seen.clone());
        list.len() - 1
    };
    let reply = (state.handler)(&seen, index);
    render(reply).await
}

fn render(reply: Reply) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Json(status, v) => (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                v.to_string(),
            )
                .into_response(),
            Reply::JsonWith(status, v, extra) => {
                let mut r = (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    v.to_string(),
                )
                    .into_response();
                for (k, val) in extra {
                    r.headers_mut().insert(
                        HeaderName::from_static(k),
                        HeaderValue::from_str(&val).unwrap(),
                    );
                }
                r
            }
            Reply::Text(status, ctype, text) => (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", ctype)],
                text,
            )
                .into_response(),
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                render(*inner).await
            }
        }
    })
}

/// A raw HTTP/1.1 server that answers every request with status 200 and a chunked body made of
/// `parts`, sleeping the given time before each part; after the last part it ends the body unless
/// `hang` (then it keeps the connection open without sending more). Returns the address and the
/// request heads it saw.
pub async fn start_chunked(
    parts: Vec<(Duration, Vec<u8>)>,
    hang: bool,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let heads2 = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let parts = parts.clone();
            let heads = heads2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                // Read the head and the body announced by Content-Length.
                loop {
                    let n = sock.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        while buf.len() < end + 4 + len {
                            let n = sock.read(&mut tmp).await.unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&tmp[..n]);
                        }
                        heads.lock().unwrap().push(format!(
                            "{head}\r\n\r\n{}",
                            String::from_utf8_lossy(&buf[end + 4..])
                        ));
                        break;
                    }
                }
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                    )
                    .await;
                for (pause, part) in parts {
                    tokio::time::sleep(pause).await;
                    let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
                    chunk.extend_from_slice(&part);
                    chunk.extend_from_slice(b"\r\n");
                    if sock.write_all(&chunk).await.is_err() {
                        return;
                    }
                    let _ = sock.flush().await;
                }
                if hang {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                } else {
                    let _ = sock.write_all(b"0\r\n\r\n").await;
                }
            });
        }
    });
    (addr, heads)
}
