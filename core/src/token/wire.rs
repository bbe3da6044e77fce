//! Bounded big-endian writer and reader for token bodies (FORMAT.md §3). Every length is checked:
//! a full buffer or a short input is an `Err`, never a panic.

use crate::Error;
use crate::claims::{Audience, Grant, MAX_AUDIENCE, MAX_SUBJECT_LEN, Subject};
use crate::id::{ClientId, ID_LEN};
use crate::scope::{MAX_SCOPE_LEN, Scope};

/// Writes a token body into a fixed buffer.
pub(crate) struct Writer<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> Writer<N> {
    pub(crate) const fn new() -> Self {
        Self(heapless::Vec::new())
    }

    /// Appends `bytes`, or leaves the body as it was if they do not fit.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0
            .extend_from_slice(bytes)
            .map_err(|_| Error::BufferTooSmall)
    }

    pub(crate) fn u8(&mut self, v: u8) -> Result<(), Error> {
        self.bytes(&[v])
    }

    /// A length-prefixed field: one length byte, then the bytes.
    pub(crate) fn short(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.u8(u8::try_from(bytes.len()).map_err(|_| Error::BufferTooSmall)?)?;
        self.bytes(bytes)
    }

    pub(crate) fn grant(&mut self, grant: &Grant) -> Result<(), Error> {
        // Each bounded field's length fits its one length byte.
        const {
            assert!(MAX_SUBJECT_LEN <= u8::MAX as usize);
            assert!(MAX_SCOPE_LEN <= u8::MAX as usize);
            assert!(MAX_AUDIENCE <= u8::MAX as usize);
        };
        self.bytes(grant.client_id.as_bytes())?;
        self.short(grant.subject.as_str().as_bytes())?;
        self.short(grant.scope.as_str().as_bytes())?;
        self.audience(&grant.audience)
    }

    /// A long field: a big-endian u16 length, then the bytes.
    pub(crate) fn long(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let len = u16::try_from(bytes.len()).map_err(|_| Error::BufferTooSmall)?;
        self.bytes(&len.to_be_bytes())?;
        self.bytes(bytes)
    }

    /// The audience: a count byte, then 16 bytes per client.
    pub(crate) fn audience(&mut self, audience: &Audience) -> Result<(), Error> {
        self.u8(u8::try_from(audience.len()).map_err(|_| Error::TooManyAudiences)?)?;
        audience
            .iter()
            .try_for_each(|aud| self.bytes(aud.as_bytes()))
    }

    /// Appends zero bytes until the length is a multiple of 3 (FORMAT.md §2).
    pub(crate) fn pad(&mut self) -> Result<(), Error> {
        while self.0.len() % 3 != 0 {
            self.u8(0)?;
        }
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// Reads a token body. Any short read is [`Error::MalformedToken`].
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(Error::MalformedToken)?;
        self.0 = rest;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        self.array::<1>().map(u8::from_be_bytes)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        self.array().map(u64::from_be_bytes)
    }

    pub(crate) fn short(&mut self) -> Result<&'a [u8], Error> {
        let len = usize::from(self.u8()?);
        let (head, rest) = self.0.split_at_checked(len).ok_or(Error::MalformedToken)?;
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn short_str(&mut self) -> Result<&'a str, Error> {
        core::str::from_utf8(self.short()?).map_err(|_| Error::MalformedToken)
    }

    /// A field written by [`Writer::long`], as UTF-8.
    pub(crate) fn long_str(&mut self) -> Result<&'a str, Error> {
        let len = usize::from(self.u16()?);
        let (head, rest) = self.0.split_at_checked(len).ok_or(Error::MalformedToken)?;
        self.0 = rest;
        core::str::from_utf8(head).map_err(|_| Error::MalformedToken)
    }

    /// An audience written by [`Writer::audience`] (for a login challenge; a grant reads its
    /// own in place, see [`Self::grant`]).
    pub(crate) fn audience(&mut self) -> Result<Audience, Error> {
        let mut audience = Audience::new();
        for _ in 0..self.u8()? {
            let aud = ClientId::from_bytes(self.array::<ID_LEN>()?);
            audience.push(aud).map_err(|_| Error::MalformedToken)?;
        }
        Ok(audience)
    }

    #[inline]
    pub(crate) fn grant(&mut self) -> Result<Grant, Error> {
        let client_id = ClientId::from_bytes(self.array::<ID_LEN>()?);
        // The MAC has passed, so this body is one we minted from validated claims: only what
        // memory safety needs (UTF-8, capacity) is checked again, not the claim syntax.
        let subject = Subject::from_verified(self.short_str()?).ok_or(Error::MalformedToken)?;
        let scope = Scope::from_verified(self.short_str()?).ok_or(Error::MalformedToken)?;
        // The audience is built in place, not through `Self::audience`: returning it in a
        // `Result` costs the gateway's access-token verify 136 bytes of stack and ~700
        // instructions (measured under QEMU, even with `#[inline(always)]`).
        let mut audience = Audience::new();
        for _ in 0..self.u8()? {
            let aud = ClientId::from_bytes(self.array::<ID_LEN>()?);
            audience.push(aud).map_err(|_| Error::MalformedToken)?;
        }
        Ok(Grant {
            client_id,
            subject,
            scope,
            audience,
        })
    }

    /// Accepts only the 0 to 2 zero bytes of padding that may follow the last field.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.0.len() < 3 && self.0.iter().all(|&b| b == 0) {
            Ok(())
        } else {
            Err(Error::MalformedToken)
        }
    }
}
