//! A per-IP token bucket for sign-in attempts (SECURITY A3), checked before any password is
//! hashed. In memory: each instance of a scaled-out deployment limits on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Above this many tracked addresses, full buckets are forgotten.
const MAX_TRACKED: usize = 100_000;

/// Token buckets keyed by client IP.
pub struct IpLimiter {
    burst: f64,
    per_ms: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

impl IpLimiter {
    /// `burst` attempts at once, regaining `per_minute` a minute.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst),
            per_ms: f64::from(per_minute) / 60_000.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`, or says how many seconds until one is free.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > MAX_TRACKED {
            let (burst, per_ms) = (self.burst, self.per_ms);
            buckets.retain(|_, (tokens, at)| *tokens + (now_ms - *at) as f64 * per_ms < burst);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now_ms));
        let refilled = (*tokens + (now_ms - *at).max(0) as f64 * self.per_ms).min(self.burst);
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            *at = now_ms;
            Ok(())
        } else if self.per_ms > 0.0 {
            Err(((1.0 - refilled) / self.per_ms / 1000.0).ceil() as u64)
        } else {
            Err(3600)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_one_attempt_a_minute() {
        let limiter = IpLimiter::new(10, 1);
        let ip: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..10 {
            assert_eq!(limiter.check(ip, 0), Ok(()));
        }
        let wait = limiter.check(ip, 0).unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert!(limiter.check(ip, 30_000).is_err());
        assert_eq!(limiter.check(ip, 60_000), Ok(()));
        assert!(limiter.check(ip, 60_000).is_err());
    }

    #[test]
    fn addresses_have_separate_buckets() {
        let limiter = IpLimiter::new(1, 1);
        assert!(limiter.check([192, 0, 2, 1].into(), 0).is_ok());
        assert!(limiter.check([192, 0, 2, 2].into(), 0).is_ok());
        assert!(limiter.check([192, 0, 2, 1].into(), 0).is_err());
    }
}
