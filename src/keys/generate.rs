//! Key generation: charsets, lengths, and the operating system's CSPRNG.
//!
//! Characters are drawn with `rand`'s uniform range sampling (rejection sampling, so no
//! modulo bias) from the OS random source; encoded keys (`base64`, `base64url`, `hex`
//! with `--bytes`) encode raw random bytes. Every intermediate buffer is zeroized.

use crate::keys::secret::Secret;
use base64::Engine as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rand::{Rng, RngExt, TryRng};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// The guide's symbols: `string.ascii_letters + string.digits + "!@#$%^&*()_+-=[]{}|;:,.<>?"`.
pub const GUIDE_SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|;:,.<>?";
/// The guide's minimum key length in characters.
pub const MIN_LENGTH: usize = 32;
/// The guide's recommended key length.
pub const RECOMMENDED_LENGTH: usize = 64;
/// Upper bound on `--length` / `--bytes`, to keep a typo from allocating gigabytes.
pub const MAX_LENGTH: usize = 4096;
/// Upper bound on `--count`.
pub const MAX_COUNT: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    /// A–Z a–z 0–9 and the guide's symbols (88 characters).
    #[default]
    Guide,
    /// A–Z a–z 0–9.
    Alnum,
    /// 0–9 a–f.
    Hex,
    /// Standard base64 with padding (`openssl rand -base64`).
    Base64,
    /// URL-safe base64 without padding.
    Base64url,
}

impl Charset {
    pub const ALL: [Charset; 5] = [
        Charset::Guide,
        Charset::Alnum,
        Charset::Hex,
        Charset::Base64,
        Charset::Base64url,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Charset::Guide => "guide",
            Charset::Alnum => "alnum",
            Charset::Hex => "hex",
            Charset::Base64 => "base64",
            Charset::Base64url => "base64url",
        }
    }

    /// The alphabet characters are drawn from when a length in characters is asked.
    pub fn alphabet(self) -> Vec<char> {
        const LETTERS_DIGITS: &str =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        match self {
            Charset::Guide => LETTERS_DIGITS
                .chars()
                .chain(GUIDE_SYMBOLS.chars())
                .collect(),
            Charset::Alnum => LETTERS_DIGITS.chars().collect(),
            Charset::Hex => "0123456789abcdef".chars().collect(),
            Charset::Base64 => LETTERS_DIGITS.chars().chain("+/".chars()).collect(),
            Charset::Base64url => LETTERS_DIGITS.chars().chain("-_".chars()).collect(),
        }
    }

    /// Encodings turn random bytes into text; `--bytes` applies to them.
    pub fn is_encoding(self) -> bool {
        matches!(self, Charset::Hex | Charset::Base64 | Charset::Base64url)
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Charset {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Charset::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| KeyError::UnknownCharset(s.to_string()))
    }
}

/// How big a key is: characters drawn from an alphabet, or random bytes encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Chars(usize),
    Bytes(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub charset: Charset,
    pub size: Size,
}

impl Default for KeySpec {
    fn default() -> Self {
        KeySpec {
            charset: Charset::Guide,
            size: Size::Chars(RECOMMENDED_LENGTH),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "a key of {0} characters is too short: the guide's minimum is 32 characters (64 recommended); use --length 64"
    )]
    TooShort(usize),
    #[error(
        "{0} random bytes are too few: use at least 24 bytes (--bytes 64 matches `openssl rand -base64 64`)"
    )]
    TooFewBytes(usize),
    #[error("a key of {0} characters (or bytes) is too long: the maximum is {MAX_LENGTH}")]
    TooLong(usize),
    #[error("unknown charset `{0}`: use one of guide, alnum, hex, base64, base64url")]
    UnknownCharset(String),
    #[error(
        "--bytes applies to encodings (hex, base64, base64url); for charset `{0}` use --length"
    )]
    BytesNeedEncoding(Charset),
    #[error("the operating system's random source failed: {0}")]
    Rng(String),
    #[error(
        "could not draw a key that every reader of the targets reads back exactly; try another charset"
    )]
    NoPortableDraw,
}

impl KeySpec {
    /// Builds a spec from the CLI's `--charset`, `--length` and `--bytes`, applying the
    /// guide's rules: at least 32 characters, `--bytes` only for encodings.
    pub fn new(
        charset: Charset,
        length: Option<usize>,
        bytes: Option<usize>,
    ) -> Result<KeySpec, KeyError> {
        let size = match (length, bytes) {
            (_, Some(_)) if !charset.is_encoding() => {
                return Err(KeyError::BytesNeedEncoding(charset));
            }
            (_, Some(b)) => Size::Bytes(b),
            (Some(n), None) => Size::Chars(n),
            (None, None) => Size::Chars(RECOMMENDED_LENGTH),
        };
        let spec = KeySpec { charset, size };
        spec.validate()?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<(), KeyError> {
        match self.size {
            Size::Chars(n) if n < MIN_LENGTH => Err(KeyError::TooShort(n)),
            Size::Chars(n) if n > MAX_LENGTH => Err(KeyError::TooLong(n)),
            // 24 bytes encode to 32 base64 characters or 48 hex digits: the guide's minimum.
            Size::Bytes(b) if b < 24 => Err(KeyError::TooFewBytes(b)),
            Size::Bytes(b) if b > MAX_LENGTH => Err(KeyError::TooLong(b)),
            _ => Ok(()),
        }
    }
}

/// Draws one key from the OS CSPRNG.
pub fn generate(spec: &KeySpec) -> Result<Secret, KeyError> {
    spec.validate()?;
    // Probe the OS source once so a failure is an error, not a panic; afterwards the
    // source does not fail (getrandom only fails on a broken or missing device).
    let mut probe = [0u8; 1];
    SysRng
        .try_fill_bytes(&mut probe)
        .map_err(|e| KeyError::Rng(e.to_string()))?;
    let mut rng = UnwrapErr(OsBuffer::new());
    match spec.size {
        Size::Chars(n) => {
            let alphabet = spec.charset.alphabet();
            // Reserve the whole length up front: a reallocation would leave an unzeroized copy.
            let mut out = Zeroizing::new(String::with_capacity(n * 4));
            for _ in 0..n {
                // `random_range` samples uniformly by rejection: no modulo bias.
                out.push(alphabet[rng.random_range(0..alphabet.len())]);
            }
            Ok(Secret::new(std::mem::take(&mut *out)))
        }
        Size::Bytes(b) => {
            let mut raw = Zeroizing::new(vec![0u8; b]);
            rng.fill_bytes(&mut raw);
            Ok(Secret::new(encode(spec.charset, &raw)))
        }
    }
}

/// The OS random source read 256 bytes at a time: one `getrandom` call serves several
/// characters instead of one call each. The buffer is zeroized when dropped, and every
/// byte is used once.
struct OsBuffer {
    buf: Zeroizing<[u8; 256]>,
    pos: usize,
}

impl OsBuffer {
    fn new() -> Self {
        OsBuffer {
            buf: Zeroizing::new([0; 256]),
            pos: 256,
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], rand::rngs::SysError> {
        let mut out = [0u8; N];
        self.try_fill_bytes(&mut out)?;
        Ok(out)
    }
}

impl TryRng for OsBuffer {
    type Error = rand::rngs::SysError;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let mut filled = 0;
        while filled < dst.len() {
            if self.pos == self.buf.len() {
                SysRng.try_fill_bytes(&mut self.buf[..])?;
                self.pos = 0;
            }
            let n = (dst.len() - filled).min(self.buf.len() - self.pos);
            dst[filled..filled + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.buf[self.pos..self.pos + n].fill(0);
            self.pos += n;
            filled += n;
        }
        Ok(())
    }
}

fn encode(charset: Charset, raw: &[u8]) -> String {
    match charset {
        Charset::Hex => {
            let mut s = String::with_capacity(raw.len() * 2);
            for b in raw {
                s.push(char::from_digit((b >> 4) as u32, 16).unwrap());
                s.push(char::from_digit((b & 0xf) as u32, 16).unwrap());
            }
            s
        }
        Charset::Base64 => base64::engine::general_purpose::STANDARD.encode(raw),
        Charset::Base64url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        Charset::Guide | Charset::Alnum => unreachable!("character sets are drawn, not encoded"),
    }
}

/// Draws keys until `accept` takes one. Used to get a key that every reader of every
/// target reads back exactly (the guide charset can draw `${x}`, which python-dotenv
/// expands). The odds of a rejection are small, so 1,000 tries never run out in practice
/// for the shipped charsets; a custom predicate that rejects everything gets an error.
pub fn generate_where(
    spec: &KeySpec,
    mut accept: impl FnMut(&Secret) -> bool,
) -> Result<Secret, KeyError> {
    for _ in 0..1000 {
        let key = generate(spec)?;
        if accept(&key) {
            return Ok(key);
        }
    }
    Err(KeyError::NoPortableDraw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// Critical value of the chi-square distribution with `df` degrees of freedom at
    /// p = 1e-6 (Wilson–Hilferty): a correct sampler fails this once in a million runs.
    fn critical(df: f64) -> f64 {
        let z = 4.753_424_3;
        let a = 2.0 / (9.0 * df);
        df * (1.0 - a + z * a.sqrt()).powi(3)
    }

    fn counts_of(charset: Charset, keys: usize, len: usize) -> Vec<u64> {
        let alphabet = charset.alphabet();
        let mut counts = vec![0u64; alphabet.len()];
        let spec = KeySpec {
            charset,
            size: Size::Chars(len),
        };
        for _ in 0..keys {
            for c in generate(&spec).unwrap().expose_secret().chars() {
                counts[alphabet
                    .iter()
                    .position(|&a| a == c)
                    .expect("character outside the alphabet")] += 1;
            }
        }
        counts
    }

    #[test]
    fn guide_charset_is_uniform_over_a_million_characters() {
        let counts = counts_of(Charset::Guide, 15_625, 64);
        assert_eq!(counts.iter().sum::<u64>(), 1_000_000);
        let stat = chi_square(&counts);
        let limit = critical((counts.len() - 1) as f64);
        assert!(
            stat < limit,
            "chi-square {stat:.1} >= {limit:.1}: not uniform"
        );
        assert!(
            counts.iter().all(|&c| c > 0),
            "every character of the alphabet appears"
        );
    }

    #[test]
    fn other_charsets_are_uniform() {
        for charset in [
            Charset::Alnum,
            Charset::Hex,
            Charset::Base64,
            Charset::Base64url,
        ] {
            let counts = counts_of(charset, 4_000, 64);
            let stat = chi_square(&counts);
            let limit = critical((counts.len() - 1) as f64);
            assert!(
                stat < limit,
                "{charset}: chi-square {stat:.1} >= {limit:.1}"
            );
        }
    }

    #[test]
    fn the_uniformity_test_catches_modulo_bias() {
        // What `byte % 88` would give: 256 = 2*88 + 80, so the first 80 symbols come up
        // 3 times in 256 and the last 8 only twice. The test above must reject that.
        let mut counts = vec![0u64; 88];
        let mut src = OsBuffer::new();
        for _ in 0..1_000_000 {
            let b = src.take::<1>().unwrap()[0];
            counts[b as usize % 88] += 1;
        }
        assert!(chi_square(&counts) > critical(87.0));
    }

    #[test]
    fn lengths_and_alphabets_are_exact() {
        for charset in [
            Charset::Guide,
            Charset::Alnum,
            Charset::Hex,
            Charset::Base64,
            Charset::Base64url,
        ] {
            for len in [32, 33, 64, 100] {
                let key = generate(&KeySpec {
                    charset,
                    size: Size::Chars(len),
                })
                .unwrap();
                assert_eq!(key.char_len(), len);
                let alphabet = charset.alphabet();
                assert!(key.expose_secret().chars().all(|c| alphabet.contains(&c)));
            }
        }
        assert_eq!(Charset::Guide.alphabet().len(), 88);
        assert_eq!(Charset::Alnum.alphabet().len(), 62);
    }

    #[test]
    fn encodings_decode_to_the_requested_bytes() {
        let b64 = generate(&KeySpec {
            charset: Charset::Base64,
            size: Size::Bytes(64),
        })
        .unwrap();
        assert_eq!(
            b64.char_len(),
            88,
            "openssl rand -base64 64 is 88 characters"
        );
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.expose_secret())
            .unwrap();
        assert_eq!(raw.len(), 64);
        let url = generate(&KeySpec {
            charset: Charset::Base64url,
            size: Size::Bytes(32),
        })
        .unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(url.expose_secret())
            .unwrap();
        assert_eq!(raw.len(), 32);
        let hex = generate(&KeySpec {
            charset: Charset::Hex,
            size: Size::Bytes(32),
        })
        .unwrap();
        assert_eq!(hex.char_len(), 64);
        assert!(
            hex.expose_secret()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn spec_enforces_the_guide_minimum() {
        let err = KeySpec::new(Charset::Guide, Some(16), None).unwrap_err();
        assert!(err.to_string().contains("minimum is 32"), "{err}");
        assert!(KeySpec::new(Charset::Guide, Some(32), None).is_ok());
        assert_eq!(
            KeySpec::new(Charset::Guide, None, Some(64)),
            Err(KeyError::BytesNeedEncoding(Charset::Guide))
        );
        assert_eq!(
            KeySpec::new(Charset::Base64, None, Some(8)),
            Err(KeyError::TooFewBytes(8))
        );
        assert_eq!(
            KeySpec::new(Charset::Hex, Some(10_000), None),
            Err(KeyError::TooLong(10_000))
        );
        assert_eq!("base64url".parse::<Charset>(), Ok(Charset::Base64url));
        assert!("b64".parse::<Charset>().is_err());
    }

    #[test]
    fn generate_where_redraws_until_accepted() {
        let spec = KeySpec::default();
        let mut tries = 0;
        let key = generate_where(&spec, |_| {
            tries += 1;
            tries == 3
        })
        .unwrap();
        assert_eq!(key.char_len(), 64);
        assert_eq!(
            generate_where(&spec, |_| false),
            Err(KeyError::NoPortableDraw)
        );
    }
}
