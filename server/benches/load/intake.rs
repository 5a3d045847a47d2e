//! Scenario 10, the SMTP intake: 1,000 messages of about 100 KiB (text and one attachment) from Exchange,
//! over 4 SMTP connections at once, each parsed, sealed, stored, queued and audited before its
//! 250. Messages a second, and the p50/p99 of a message's DATA-to-250.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct IntakeFigures {
    pub messages: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

async fn reply(stream: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap() == 0 {
            return all;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

async fn say(stream: &mut BufReader<TcpStream>, line: &str) -> String {
    stream.get_mut().write_all(line.as_bytes()).await.unwrap();
    stream.get_mut().write_all(b"\r\n").await.unwrap();
    reply(stream).await
}

/// One ~100 KiB message: 50 KiB of text and a 50 KiB file, base64 in 76-column lines.
fn message(from: &str, to: &str, n: usize) -> String {
    let text = "Minutes of the multi-agency meeting, item by item.\r\n".repeat(1000);
    let file: String = (0..50 * 1024 / 57).map(|i| format!("{:076}\r\n", i).replace('0', "A")).collect();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: [secure] Bench {n}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b\r\nContent-Type: application/octet-stream; name=minutes.bin\r\nContent-Disposition: attachment; filename=minutes.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{file}--b--"
    )
}

pub async fn intake(addr: SocketAddr, from: &str, to: &str, messages: usize, connections: usize) -> IntakeFigures {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (from, to) = (from.to_owned(), to.to_owned());
        let share = messages / connections + usize::from(c < messages % connections);
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
            assert!(reply(&mut stream).await.starts_with("220"));
            assert!(say(&mut stream, "EHLO bench").await.starts_with("250"));
            let (mut times, mut errors) = (Vec::new(), 0usize);
            for n in 0..share {
                assert!(say(&mut stream, &format!("MAIL FROM:<{from}>")).await.starts_with("250"));
                assert!(say(&mut stream, &format!("RCPT TO:<{to}>")).await.starts_with("250"));
                assert!(say(&mut stream, "DATA").await.starts_with("354"));
                let t = Instant::now();
                let answer = say(&mut stream, &format!("{}\r\n.", message(&from, &to, c * 10_000 + n))).await;
                times.push(t.elapsed());
                if !answer.starts_with("250") {
                    errors += 1;
                }
            }
            (times, errors)
        }));
    }
    let (mut times, mut errors): (Vec<Duration>, usize) = (Vec::new(), 0);
    for task in tasks {
        let (t, e) = task.await.unwrap();
        times.extend(t);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    IntakeFigures {
        messages: times.len(),
        errors,
        seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}
