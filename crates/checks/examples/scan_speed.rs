//! How long the content checks take on 1 MiB: a digit-heavy case list and plain prose, whole
//! and in 64 KiB chunks as an upload arrives. `cargo run --release -p sealpost-checks
//! --example scan_speed`; prints the median and 95th percentile of 50 runs each.

use std::time::Instant;

use sealpost_checks::{Keywords, StreamScan, scan};

fn case_list(bytes: usize) -> String {
    let mut out = String::from("case,name,opened,status,notes\n");
    let mut n = 0u32;
    while out.len() < bytes {
        n += 1;
        out.push_str(&format!(
            "case-{n:06},Resident {},2026-{:02}-{:02},open,visit booked with the family support team\n",
            n % 977,
            n % 12 + 1,
            n % 28 + 1
        ));
    }
    out.truncate(bytes);
    out
}

fn prose(bytes: usize) -> String {
    let line = "The family were visited on Tuesday and the plan was agreed with the school and the health visitor.\n";
    line.repeat(bytes / line.len() + 1)[..bytes].to_owned()
}

fn time(name: &str, mut run: impl FnMut()) {
    let mut all: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    all.sort_by(f64::total_cmp);
    println!("{name}: p50 {:.2} ms, p95 {:.2} ms", all[25], all[47]);
}

fn main() {
    let keywords = Keywords::parse("safeguarding, child protection");
    let none = Keywords::default();
    for (what, text) in [("case list", case_list(1 << 20)), ("prose", prose(1 << 20))] {
        for (k, kw) in [("no keywords", &none), ("2 keywords", &keywords)] {
            time(&format!("1 MiB {what}, {k}, whole"), || {
                std::hint::black_box(scan(&text, kw));
            });
            time(&format!("1 MiB {what}, {k}, 64 KiB chunks"), || {
                let mut s = StreamScan::new(kw);
                for chunk in text.as_bytes().chunks(64 * 1024) {
                    s.feed(chunk);
                }
                std::hint::black_box(s.finish());
            });
        }
    }
}
