//! One HTTP/1.1 server core for every scripted endpoint: the fake SSM, ECS and CloudWatch Logs
//! endpoints of the tests and the benchmark's fleet endpoint (`bench/fleet_endpoint.rs` takes
//! this file with `#[path]`), so accepting, reading, answering, faults and the request log are
//! written once. `std` only.
//!
//! A [`Server`] listens on loopback and serves each connection on its own thread, request
//! after request (keep-alive), asking its [`Handler`] for a [`Reply`]: a response, a dropped
//! connection (a fault), or either after a delay. Each [`Request`] comes numbered and stamped
//! with its arrival, for the handler's log (the SSM fakes' engine keeps one log of calls for
//! all of them); [`Server::wait_until`] waits on what the handlers change without sleeping, and
//! [`Server::settle`] makes sure a finished client's requests were all read. Dropping the
//! server stops the accept loop and shuts every open connection down, so no test can hang on it.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The path of the request [`Server::settle`] sends itself; never logged nor counted.
const SETTLE_PATH: &str = "/__settle__";

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent: the path and, after `?`, the query.
    pub target: String,
    /// Header names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When it had been read completely.
    pub at: Instant,
    /// Its number among the requests this server read, from 1.
    pub seq: usize,
}

/// The value of header `name` (any case) among these (names lower-cased).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The path, without the query (nor, for a request sent to this server as a forward
    /// proxy, the `http://host` of its absolute-form target).
    pub fn path(&self) -> &str {
        let target = match self.proxied_host() {
            Some(host) => &self.target["http://".len() + host.len()..],
            None => self.target.as_str(),
        };
        target.split_once('?').map_or(target, |(p, _)| p)
    }

    /// The host (and port) of an absolute-form target (`GET http://host/path`): what a client
    /// asks a forward proxy for.
    pub fn proxied_host(&self) -> Option<&str> {
        let rest = self.target.strip_prefix("http://")?;
        Some(rest.find(['/', '?']).map_or(rest, |end| &rest[..end]))
    }

    /// The raw query string (empty without one).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// What to do with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer with this status, these headers (`Content-Length` is added) and this body.
    Send {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait this long (less if the server is dropped meanwhile), then play the inner reply.
    Delay(Duration, Box<Reply>),
    /// Answer 200 with this body, sent one byte at a time, one every `Duration`: an answer that
    /// starts at once and never quite ends.
    Trickle(Vec<u8>, Duration),
}

impl Reply {
    /// The status it answers with (`None` for a dropped connection).
    pub fn status(&self) -> Option<u16> {
        match self {
            Reply::Send { status, .. } => Some(*status),
            Reply::Drop => None,
            Reply::Delay(_, inner) => inner.status(),
            Reply::Trickle(..) => Some(200),
        }
    }

    /// No answer until the server is dropped (then a closed connection).
    pub fn never() -> Reply {
        Reply::Delay(Duration::from_secs(600), Box::new(Reply::Drop))
    }

    /// `status` with a body of type `content_type`.
    pub fn send(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Send {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// The same reply with one more header (on the response inside a delay, too).
    pub fn with_header(self, name: &str, value: String) -> Reply {
        match self {
            Reply::Send {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value));
                Reply::Send {
                    status,
                    headers,
                    body,
                }
            }
            Reply::Delay(d, inner) => Reply::Delay(d, Box::new(inner.with_header(name, value))),
            other => other,
        }
    }
}

/// Answers the requests of a [`Server`].
pub trait Handler: Send + Sync + 'static {
    fn answer(&self, request: &Request) -> Reply;

    /// Called once the reply to `request` was played (written, or the connection closed).
    fn answered(&self, _request: &Request) {}
}

impl<F: Fn(&Request) -> Reply + Send + Sync + 'static> Handler for F {
    fn answer(&self, request: &Request) -> Reply {
        self(request)
    }
}

/// The standard reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

struct Shared {
    handler: Box<dyn Handler>,
    /// Notified after every request handled and answered, for [`Server::wait_until`].
    changed: Condvar,
    /// Guards nothing but the wait on [`Shared::changed`].
    tick: Mutex<()>,
    seq: AtomicUsize,
    connections: AtomicUsize,
    /// Connections waiting for (the rest of) a request: an open one, or one whose peer closed
    /// it and that has not read to the end yet.
    reading: AtomicUsize,
    open: Mutex<Vec<TcpStream>>,
    shutdown: AtomicBool,
}

impl Shared {
    /// Wakes [`Server::wait_until`]: something may have changed.
    fn notify(&self) {
        drop(self.tick.lock().unwrap());
        self.changed.notify_all();
    }
}

/// A server on loopback. Stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// A server on a free loopback port.
    pub fn start(handler: impl Handler) -> Server {
        Server::bind("127.0.0.1:0", handler).expect("bind 127.0.0.1:0")
    }

    /// A server on `addr`.
    pub fn bind(addr: impl ToSocketAddrs, handler: impl Handler) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            changed: Condvar::new(),
            tick: Mutex::new(()),
            seq: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            reading: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("fake-accept".into())
            .spawn(move || accept_loop(&listener, &accepting))?;
        Ok(Server {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// A server that reads every request and never answers (until it is dropped): a black
    /// hole, or a firewalled metadata service.
    pub fn silent() -> Server {
        Server::start(|_: &Request| Reply::never())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Once the clients have exited: waits until every connection they made was accepted
    /// (counted) and read to its end (every request logged and handled). Connections are
    /// accepted in order, so once the server has answered one it made to itself, the earlier
    /// ones are accepted; each is then read until its closed end.
    #[track_caller]
    pub fn settle(&self) {
        let answer = request(&self.url(), "GET", SETTLE_PATH, &[], b"");
        assert_eq!(answer.map(|(s, _)| s), Some(200), "the server settles");
        let shared = &self.shared;
        let read = self.wait_until(Duration::from_secs(10), || {
            shared.reading.load(Ordering::SeqCst) == 0
        });
        let why = "a connection is still open: settle once the clients have exited";
        assert!(read, "{why}");
    }

    /// Waits until `ready` holds, checking it now and after each request handled; false when
    /// `timeout` passed first.
    pub fn wait_until(&self, timeout: Duration, ready: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut tick = self.shared.tick.lock().unwrap();
        loop {
            if ready() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            tick = self.shared.changed.wait_timeout(tick, left).unwrap().0;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        // Every connection thread blocked in a read sees EOF and ends.
        for stream in self.shared.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        // Counted before its thread runs, for [`Server::settle`].
        shared.reading.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        if let Ok(clone) = stream.try_clone() {
            shared.open.lock().unwrap().push(clone);
        }
        let serving = Arc::clone(shared);
        let _ = thread::Builder::new()
            .name("fake-conn".into())
            .spawn(move || serve(stream, &serving));
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut first = true;
    loop {
        let read = read_request(&mut reader);
        shared.reading.fetch_sub(1, Ordering::SeqCst);
        shared.notify();
        let Some((method, target, headers, body)) = read else {
            return;
        };
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        if first && target == SETTLE_PATH {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            let _ = write_reply(&mut writer, 200, &[], b"");
            return;
        }
        first = false;
        let request = Request {
            method,
            target,
            headers,
            body,
            at: Instant::now(),
            seq: shared.seq.fetch_add(1, Ordering::SeqCst) + 1,
        };
        let reply = shared.handler.answer(&request);
        shared.notify();
        let keep_open = play(&mut writer, reply, shared);
        shared.handler.answered(&request);
        if keep_open {
            shared.reading.fetch_add(1, Ordering::SeqCst);
        }
        shared.notify();
        if !keep_open {
            return;
        }
    }
}

/// Plays a reply; false when the connection must be closed.
fn play(stream: &mut TcpStream, reply: Reply, shared: &Shared) -> bool {
    match reply {
        Reply::Send {
            status,
            headers,
            body,
        } => write_reply(stream, status, &headers, &body),
        Reply::Drop => {
            let _ = stream.shutdown(Shutdown::Both);
            false
        }
        Reply::Delay(delay, inner) => {
            // In slices, so that a dropped server does not keep threads around.
            let deadline = Instant::now() + delay;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if shared.shutdown.load(Ordering::SeqCst) {
                    return false;
                }
                thread::sleep(left.min(Duration::from_millis(5)));
            }
            play(stream, *inner, shared)
        }
        Reply::Trickle(body, every) => {
            if !write_head(stream, 200, &[], body.len()) {
                return false;
            }
            for byte in body {
                for _ in 0..every.as_millis().div_ceil(5) {
                    if shared.shutdown.load(Ordering::SeqCst) {
                        return false;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                if stream
                    .write_all(&[byte])
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return false;
                }
            }
            true
        }
    }
}

fn write_head(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    len: usize,
) -> bool {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {len}\r\n\r\n"));
    stream
        .write_all(out.as_bytes())
        .and_then(|()| stream.flush())
        .is_ok()
}

fn write_reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> bool {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream
        .write_all(&bytes)
        .and_then(|()| stream.flush())
        .is_ok()
}

type Head = (String, String, Vec<(String, String)>);

/// Reads a request or status line and the headers after it; `None` on EOF or garbage.
fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut line = String::new();
    // Tolerate stray blank lines between keep-alive requests.
    while line.trim().is_empty() {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
    }
    let mut parts = line.split_whitespace();
    let (first, second) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            return Some((first, second, headers));
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

/// Reads a body framed by `Content-Length` or chunked transfer encoding.
fn read_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> Option<Vec<u8>> {
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers until an empty line.
                let mut t = String::from("x");
                while !t.trim().is_empty() {
                    t.clear();
                    if reader.read_line(&mut t).ok()? == 0 {
                        break;
                    }
                }
                return Some(body);
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    }
    if let Some(len) = header("content-length") {
        body = vec![0; len.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
    }
    Some(body)
}

type RawRequest = (String, String, Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP/1.1 request; `None` on EOF or a malformed request.
fn read_request(reader: &mut impl BufRead) -> Option<RawRequest> {
    let (method, target, headers) = read_head(reader)?;
    let body = read_body(reader, &headers)?;
    Some((method, target, headers, body))
}

/// Sends one request to `base_url` (`http://127.0.0.1:PORT`) on a new connection and reads the
/// answer: its status and body. `None` when the connection was closed without an answer.
pub fn request(
    base_url: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let host = base_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut reader = BufReader::new(stream);
    let (_, status, headers) = read_head(&mut reader)?;
    Some((status.parse().ok()?, read_body(&mut reader, &headers)?))
}
