//! Runs the requests of one verification pass, bounded: per host, at most
//! `per_host` in flight and one started every `interval`; a 429 (or 503)
//! answer waits for its `Retry-After` (else 1, 2, 4 s) before retrying, up
//! to three times, and holds back the host's other requests too; nothing
//! starts after the total deadline (those are `unknown`). Network-bound
//! threads of its own (scoped, a few per host), not the pipeline's workers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::client::{Client, Request};
use super::read::{read, Reading};
use super::spec::VerifySpec;

/// One request to make.
pub struct Task<'a> {
    pub spec: &'a VerifySpec,
    pub host: String,
    pub request: Request,
    pub secret: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_host: usize,
    pub interval: Duration,
    pub deadline: Instant,
}

/// What a pass did.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Requests sent (retries included).
    pub requests: usize,
    /// The most requests in flight at once, per host.
    pub peak: BTreeMap<String, usize>,
}

const RETRIES: u32 = 3;
const MAX_WAIT: u64 = 60;

pub fn run(client: &Client, tasks: &[Task<'_>], limits: Limits) -> (Vec<Reading>, Counts) {
    let mut groups: BTreeMap<&str, VecDeque<usize>> = BTreeMap::new();
    for (i, t) in tasks.iter().enumerate() {
        groups.entry(t.host.as_str()).or_default().push_back(i);
    }
    let hosts: Vec<(String, Host)> = groups
        .into_iter()
        .map(|(name, queue)| {
            let host = Host {
                queue: Mutex::new(queue),
                next: Mutex::new(Instant::now()),
                inflight: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            };
            (name.to_string(), host)
        })
        .collect();
    let results: Mutex<Vec<Option<Reading>>> = Mutex::new(vec![None; tasks.len()]);
    let requests = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (_, host) in &hosts {
            let n = limits.per_host.max(1).min(host.queue.lock().unwrap().len());
            for _ in 0..n {
                let (results, requests) = (&results, &requests);
                s.spawn(move || worker(client, tasks, host, limits, results, requests));
            }
        }
    });
    let peaks = hosts
        .into_iter()
        .map(|(name, h)| (name, h.peak.into_inner()))
        .collect();
    let readings = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Reading::unknown("not checked")))
        .collect();
    let counts = Counts {
        requests: requests.into_inner(),
        peak: peaks,
    };
    (readings, counts)
}

struct Host {
    queue: Mutex<VecDeque<usize>>,
    /// When the next request may start.
    next: Mutex<Instant>,
    inflight: AtomicUsize,
    peak: AtomicUsize,
}

fn worker(
    client: &Client,
    tasks: &[Task<'_>],
    host: &Host,
    limits: Limits,
    results: &Mutex<Vec<Option<Reading>>>,
    requests: &AtomicUsize,
) {
    loop {
        let Some(i) = host.queue.lock().unwrap().pop_front() else {
            return;
        };
        let reading = one(client, &tasks[i], host, limits, requests);
        results.lock().unwrap()[i] = Some(reading);
    }
}

fn one(
    client: &Client,
    t: &Task<'_>,
    host: &Host,
    limits: Limits,
    requests: &AtomicUsize,
) -> Reading {
    let mut attempt = 0;
    loop {
        // Take the host's next start slot.
        let start = {
            let mut next = host.next.lock().unwrap();
            let at = (*next).max(Instant::now());
            *next = at + limits.interval;
            at
        };
        if start >= limits.deadline {
            return Reading::unknown("not checked: the verification deadline passed");
        }
        std::thread::sleep(start.saturating_duration_since(Instant::now()));
        let now = host.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        host.peak.fetch_max(now, Ordering::SeqCst);
        requests.fetch_add(1, Ordering::Relaxed);
        let answer = client.send(&t.request, &t.secret);
        host.inflight.fetch_sub(1, Ordering::SeqCst);
        let a = match answer {
            Ok(a) => a,
            Err(msg) => return Reading::unknown(msg),
        };
        let throttled = a.status == 429 || (a.status == 503 && a.retry_after.is_some());
        if !throttled {
            return read(t.spec, &t.host, &a);
        }
        if attempt == RETRIES {
            return Reading::unknown(format!(
                "HTTP {}: still rate limited after {RETRIES} retries",
                a.status
            ));
        }
        let wait = Duration::from_secs(a.retry_after.unwrap_or(1 << attempt).min(MAX_WAIT));
        let resume = Instant::now() + wait;
        if resume >= limits.deadline {
            return Reading::unknown(format!(
                "HTTP {}: rate limited until after the verification deadline",
                a.status
            ));
        }
        {
            let mut next = host.next.lock().unwrap();
            *next = (*next).max(resume);
        }
        attempt += 1;
    }
}
