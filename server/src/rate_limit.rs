//! A per-IP token bucket for sign-in attempts (SECURITY A3), checked before any password is
//! hashed. IPv6 clients are counted per /64, the block one household or office is given, so
//! rotating addresses within it gains nothing. In memory: each instance of a scaled-out
//! deployment limits on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Above this many tracked addresses, full buckets are forgotten.
const MAX_TRACKED: usize = 100_000;

/// Token buckets keyed by client IP.
pub struct IpLimiter {
    burst: f64,
    per_ms: f64,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_ip: HashMap<IpAddr, (f64, i64)>,
    last_sweep_ms: i64,
}

impl IpLimiter {
    /// `burst` attempts at once, regaining `per_minute` a minute.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst),
            per_ms: f64::from(per_minute) / 60_000.0,
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// Takes one token for `ip`, or says how many seconds until one is free.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded memory: at most one sweep a second, forgetting full buckets; if a flood of
        // addresses keeps the table over its limit, start afresh rather than grow.
        if buckets.by_ip.len() > MAX_TRACKED && now_ms - buckets.last_sweep_ms >= 1000 {
            let (burst, per_ms) = (self.burst, self.per_ms);
            buckets
                .by_ip
                .retain(|_, (tokens, at)| *tokens + (now_ms - *at) as f64 * per_ms < burst);
            if buckets.by_ip.len() > MAX_TRACKED {
                buckets.by_ip.clear();
            }
            buckets.last_sweep_ms = now_ms;
        }
        let (tokens, at) = buckets.by_ip.entry(bucket_key(ip)).or_insert((self.burst, now_ms));
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

impl IpLimiter {
    /// Gives back the token an attempt took, when the attempt succeeded: the bucket counts
    /// failures only, so a council office behind one address can sign everyone in at 9 am.
    /// The token is taken first and given back after, so parallel guesses still each take one.
    pub fn refund(&self, ip: IpAddr) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((tokens, _)) = buckets.by_ip.get_mut(&bucket_key(ip)) {
            *tokens = (*tokens + 1.0).min(self.burst);
        }
    }
}

/// IPv4 addresses count alone; IPv6 addresses count per /64.
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
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

#[cfg(test)]
mod refund_tests {
    use super::*;

    #[test]
    fn a_refunded_attempt_does_not_count_and_a_refund_never_exceeds_the_burst() {
        let limiter = IpLimiter::new(2, 1);
        let ip: IpAddr = [192, 0, 2, 9].into();
        for _ in 0..20 {
            assert_eq!(limiter.check(ip, 0), Ok(()), "successes give their token back");
            limiter.refund(ip);
        }
        limiter.refund(ip);
        limiter.refund(ip);
        assert!(limiter.check(ip, 0).is_ok() && limiter.check(ip, 0).is_ok());
        assert!(limiter.check(ip, 0).is_err(), "two failures use the burst of two");
    }
}

#[cfg(test)]
mod ipv6_tests {
    use super::*;

    #[test]
    fn addresses_in_one_ipv6_64_share_a_bucket() {
        let limiter = IpLimiter::new(1, 1);
        assert!(limiter.check("2001:db8:1:2::1".parse().unwrap(), 0).is_ok());
        assert!(limiter.check("2001:db8:1:2:ffff::9".parse().unwrap(), 0).is_err());
        assert!(limiter.check("2001:db8:1:3::1".parse().unwrap(), 0).is_ok());
    }
}
