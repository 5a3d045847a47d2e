//! The one door to the operating system's random number generator (SECURITY E7).

use crate::CryptoError;

/// Fills `N` bytes from the OS RNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}
