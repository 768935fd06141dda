//! Misbehaving endpoints on loopback, for the provider's timeouts and error messages: one that
//! accepts connections and never answers, one that answers every request with a fixed HTTP
//! status and an HTML page (a mistyped region or path against an emulator, a proxy's error
//! page). Each runs on its own thread and stops when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A loopback HTTP endpoint that misbehaves in one way; stopped (and its connections closed)
/// on drop.
#[derive(Debug)]
pub struct LoopbackServer {
    port: u16,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Reads whatever arrives, never writes, keeps the connection open.
    Silent,
    /// Answers each request with this status and an HTML body.
    Answer(u16, &'static str),
}

impl LoopbackServer {
    /// Accepts connections and never answers: the request hangs until the client gives up.
    pub fn silent() -> Self {
        Self::start(Behaviour::Silent)
    }

    /// Answers every request with `status` and an HTML page whose text is `body`
    /// (`Connection: close`).
    pub fn answering(status: u16, body: &'static str) -> Self {
        Self::start(Behaviour::Answer(status, body))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .unwrap_or_else(|err| panic!("cannot bind a loopback port: {err}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("no local address: {err}"))
            .port();
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|err| panic!("cannot make the listener non-blocking: {err}"));
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, connections) = (Arc::clone(&stop), Arc::clone(&connections));
            thread::spawn(move || serve(&listener, behaviour, &stop, &connections))
        };
        Self {
            port,
            stop,
            connections,
            thread: Some(thread),
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: &TcpListener,
    behaviour: Behaviour,
    stop: &Arc<AtomicBool>,
    connections: &Arc<AtomicUsize>,
) {
    // Silent connections are held here, open, until the server stops.
    let mut held: Vec<TcpStream> = Vec::new();
    let mut answering: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                connections.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nonblocking(false);
                match behaviour {
                    Behaviour::Silent => held.push(stream),
                    Behaviour::Answer(status, body) => {
                        answering.push(thread::spawn(move || answer(stream, status, body)));
                    }
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
        // Discard what silent connections send, so their buffers never fill.
        for stream in &held {
            let _ = stream.set_nonblocking(true);
            let mut sink = [0_u8; 4096];
            let mut reader = stream;
            while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
        }
    }
    drop(held);
    for handle in answering {
        let _ = handle.join();
    }
}

/// Reads one request (head and `Content-Length` body) and answers it.
fn answer(mut stream: TcpStream, status: u16, text: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let reason = match status {
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let body = format!(
        "<!doctype html>\n<html lang=en>\n<title>{status} {reason}</title>\n<h1>{reason}</h1>\n<p>{text}</p>\n"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
