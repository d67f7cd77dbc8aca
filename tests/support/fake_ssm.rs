//! A scripted fake SSM endpoint speaking AWS JSON 1.1 over plain HTTP/1.1.
//!
//! Written with `std` only: a non-blocking accept loop on `127.0.0.1:0` and one
//! thread per connection (keep-alive: each connection thread keeps reading
//! requests until the client closes it). Every request is recorded (target,
//! JSON body, headers, arrival time) so tests can assert how many calls the
//! binary made, and that it made none at all.
//!
//! `AmazonSSM.GetCommandInvocation` calls are answered from a script: a list
//! of [`Step`]s consumed one per call, the last one repeating forever.
//! Dropping the [`FakeSsm`] stops the accept loop and shuts down every open
//! connection, so no test can hang on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The X-Amz-Target of the call the script answers.
pub const GET_COMMAND_INVOCATION: &str = "AmazonSSM.GetCommandInvocation";

/// A well-formed 36-character command id.
pub const CMD_ID: &str = "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60";
/// A well-formed 17-character instance id.
pub const INSTANCE_ID: &str = "i-0123456789abcdef0";

/// One scripted answer to a GetCommandInvocation call.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer with this HTTP status and this JSON body text.
    Json(u16, String),
    /// Answer with an AWS JSON 1.1 error: status, `__type` code, message.
    Error(u16, String, String),
    /// Answer `500 Internal Server Error` with an `InternalServerError` body.
    Status500,
    /// Read the request, then close the socket without answering.
    DropConnection,
    /// Wait this long, then play the inner step.
    Delay(Duration, Box<Step>),
}

impl Step {
    /// `200 OK` with this invocation record.
    pub fn ok(body: &Value) -> Step {
        Step::Json(200, body.to_string())
    }

    /// `200 OK` with this exact body text (to control key order and escapes).
    pub fn ok_raw(body: &str) -> Step {
        Step::Json(200, body.to_owned())
    }

    /// `400 InvocationDoesNotExist`, what SSM answers while an invocation is not visible yet.
    pub fn not_found() -> Step {
        Step::Error(400, "InvocationDoesNotExist".into(), String::new())
    }

    /// `400 ThrottlingException`.
    pub fn throttled() -> Step {
        Step::Error(400, "ThrottlingException".into(), "Rate exceeded".into())
    }

    /// `400 AccessDeniedException` with this message.
    pub fn access_denied(message: &str) -> Step {
        Step::Error(400, "AccessDeniedException".into(), message.into())
    }

    /// The inner step, played after `delay`.
    pub fn delayed(delay: Duration, inner: Step) -> Step {
        Step::Delay(delay, Box::new(inner))
    }
}

/// A realistic GetCommandInvocation response body.
///
/// `ResponseCode` is 0 for Success, 1 for other terminal states and -1 while
/// the invocation is still pending or running, as SSM reports it.
pub fn invocation(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Value {
    let running = matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling");
    let response_code = match status {
        "Success" => 0,
        _ if running => -1,
        _ => 1,
    };
    let end = if running {
        ""
    } else {
        "2024-05-14T09:12:33.807Z"
    };
    json!({
        "CommandId": CMD_ID,
        "InstanceId": INSTANCE_ID,
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "PluginName": "aws:runShellScript",
        "ResponseCode": response_code,
        "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
        "ExecutionElapsedTime": if running { "" } else { "PT2.516S" },
        "ExecutionEndDateTime": end,
        "Status": status,
        "StatusDetails": status_details,
        "StandardOutputContent": stdout,
        "StandardOutputUrl": "",
        "StandardErrorContent": stderr,
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": {
            "CloudWatchLogGroupName": "",
            "CloudWatchOutputEnabled": false
        }
    })
}

/// [`invocation`] wrapped in a `200 OK` step.
pub fn invocation_step(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Step {
    Step::ok(&invocation(status, status_details, stdout, stderr))
}

/// One request as the fake endpoint saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// Value of the `X-Amz-Target` header, if any.
    pub target: Option<String>,
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
    /// When the request had been read completely.
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    steps: Vec<Step>,
    next_step: AtomicUsize,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    open: Mutex<Vec<TcpStream>>,
    shutdown: AtomicBool,
    started: Instant,
}

impl State {
    fn next_step(&self) -> Step {
        let i = self.next_step.fetch_add(1, Ordering::SeqCst);
        self.steps[i.min(self.steps.len() - 1)].clone()
    }
}

/// The fake endpoint. Shuts down when dropped.
pub struct FakeSsm {
    addr: SocketAddr,
    state: Arc<State>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FakeSsm {
    /// Starts a fake answering GetCommandInvocation calls from `steps`
    /// (one step per call, the last step repeating forever).
    pub fn start(steps: Vec<Step>) -> FakeSsm {
        assert!(
            !steps.is_empty(),
            "a fake SSM script needs at least one step"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            steps,
            next_step: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
        });
        let accept_state = Arc::clone(&state);
        let accept_thread = thread::Builder::new()
            .name("fake-ssm-accept".into())
            .spawn(move || accept_loop(listener, accept_state))
            .expect("spawn accept thread");
        FakeSsm {
            addr,
            state,
            accept_thread: Some(accept_thread),
        }
    }

    /// A fake whose every GetCommandInvocation call gets this one answer.
    pub fn always(step: Step) -> FakeSsm {
        FakeSsm::start(vec![step])
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// When the fake started (to relate arrival times to a test's start).
    pub fn started(&self) -> Instant {
        self.state.started
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The GetCommandInvocation requests received so far.
    pub fn get_invocation_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(GET_COMMAND_INVOCATION))
            .collect()
    }

    /// How many GetCommandInvocation calls were made (SDK retries included).
    pub fn get_invocation_calls(&self) -> usize {
        self.get_invocation_requests().len()
    }

    /// How many requests of any kind arrived.
    pub fn total_requests(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` GetCommandInvocation calls arrived; false on timeout.
    pub fn wait_for_calls(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.get_invocation_calls() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asserts that nothing at all reached the endpoint: no connection, no request.
    /// Waits a moment first so that a request in flight is not missed.
    pub fn assert_untouched(&self) {
        thread::sleep(Duration::from_millis(100));
        assert_eq!(
            self.total_requests(),
            0,
            "expected no request at all, got {:#?}",
            self.requests()
        );
        assert_eq!(self.connections(), 0, "expected no connection at all");
    }
}

impl Drop for FakeSsm {
    fn drop(&mut self) {
        self.state.shutdown.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        // Wake every connection thread blocked in a read: they see EOF and end.
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    while !state.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                state.connections.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                if let Ok(clone) = stream.try_clone() {
                    state.open.lock().unwrap().push(clone);
                }
                let conn_state = Arc::clone(&state);
                let _ = thread::Builder::new()
                    .name("fake-ssm-conn".into())
                    .spawn(move || serve_connection(stream, conn_state));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request; `None` on EOF or a malformed request.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    // Tolerate stray blank lines between keep-alive requests.
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();

    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };

    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = String::new();
            if reader.read_line(&mut size_line).ok()? == 0 {
                return None;
            }
            let size_hex = size_line.trim().split(';').next()?.trim().to_owned();
            let size = usize::from_str_radix(&size_hex, 16).ok()?;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t).ok()? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf).ok()?;
        }
    } else if let Some(len) = header("content-length") {
        let len: usize = len.parse().ok()?;
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn error_body(code: &str, message: &str) -> String {
    if message.is_empty() {
        json!({ "__type": code }).to_string()
    } else {
        json!({ "__type": code, "message": message }).to_string()
    }
}

fn write_response(stream: &mut TcpStream, status: u16, body: &str, request_no: usize) -> bool {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {len}\r\n\
         x-amzn-RequestId: 6f1e7c2a-0000-4000-8000-{request_no:012x}\r\n\
         Connection: keep-alive\r\n\
         \r\n",
        reason = reason(status),
        len = body.len(),
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .and_then(|()| stream.flush())
        .is_ok()
}

/// Plays one step; returns false when the connection must be closed.
fn play(stream: &mut TcpStream, step: Step, request_no: usize, state: &State) -> bool {
    match step {
        Step::Json(status, body) => write_response(stream, status, &body, request_no),
        Step::Error(status, code, message) => {
            write_response(stream, status, &error_body(&code, &message), request_no)
        }
        Step::Status500 => write_response(
            stream,
            500,
            &error_body("InternalServerError", "An internal error occurred."),
            request_no,
        ),
        Step::DropConnection => {
            let _ = stream.shutdown(Shutdown::Both);
            false
        }
        Step::Delay(delay, inner) => {
            // Sleep in small slices so a dropped fake does not keep threads around.
            let deadline = Instant::now() + delay;
            while Instant::now() < deadline {
                if state.shutdown.load(Ordering::SeqCst) {
                    return false;
                }
                thread::sleep(Duration::from_millis(5).min(deadline - Instant::now()));
            }
            play(stream, *inner, request_no, state)
        }
    }
}

fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        if state.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let target = req
            .headers
            .iter()
            .find(|(k, _)| k == "x-amz-target")
            .map(|(_, v)| v.clone());
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let request_no = {
            let mut requests = state.requests.lock().unwrap();
            requests.push(Recorded {
                method: req.method,
                path: req.path,
                headers: req.headers,
                target: target.clone(),
                body,
                at: Instant::now(),
            });
            requests.len()
        };
        let step = if target.as_deref() == Some(GET_COMMAND_INVOCATION) {
            state.next_step()
        } else {
            Step::Error(
                400,
                "UnknownOperationException".into(),
                format!("the fake SSM endpoint does not implement {target:?}"),
            )
        };
        if !play(&mut writer, step, request_no, &state) {
            return;
        }
    }
}
