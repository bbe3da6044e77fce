//! A redb file seen through a copy-on-write layer: reads come from the file, writes stay in
//! memory. redb's integrity check may repair what it checks, so it writes; run on an
//! [`Overlay`], it leaves the file byte for byte as it was.

use core::ops::Bound;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::sync::{Mutex, PoisonError};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// The unit of copy-on-write: redb's page size.
const BLOCK_LEN: usize = 4096;
const BLOCK: u64 = BLOCK_LEN as u64;

/// A file's bytes with the writes made since it was opened kept in memory. Locks go to the file,
/// so a writer elsewhere (a running server) excludes the check, and the check excludes it.
#[derive(Debug)]
pub(super) struct Overlay {
    file: FileBackend,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The length the database sees.
    len: u64,
    /// How much of the file is still visible: a shrink hides the rest for good.
    file_len: u64,
    /// Written blocks by index, each `BLOCK` bytes.
    blocks: BTreeMap<u64, Vec<u8>>,
}

fn out_of_range() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "read past the end")
}

impl Overlay {
    /// Layers `file` (opened for reading and writing, so its locks can be taken; it is never
    /// written).
    pub(super) fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(Self {
            file,
            state: Mutex::new(State {
                len,
                file_len: len,
                blocks: BTreeMap::new(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Block `index` as the database sees it: written, else from the file, else zeros.
    fn load(&self, state: &State, index: u64, into: &mut [u8]) -> io::Result<()> {
        if let Some(block) = state.blocks.get(&index) {
            into.copy_from_slice(block);
            return Ok(());
        }
        into.fill(0);
        let start = index.saturating_mul(BLOCK);
        let visible = state.file_len.saturating_sub(start).min(BLOCK);
        let visible = usize::try_from(visible).map_err(io::Error::other)?;
        if let Some(head) = into.get_mut(..visible)
            && !head.is_empty()
        {
            self.file.read(start, head)?;
        }
        Ok(())
    }
}

/// The blocks `[offset, offset + len)` touches, each with the part of it inside the range:
/// (block index, offset in the block, offset in the caller's buffer, length).
fn spans(offset: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
    let end = offset.saturating_add(len as u64);
    let first = offset / BLOCK;
    let last = end.div_ceil(BLOCK);
    (first..last).filter_map(move |index| {
        let block_start = index.saturating_mul(BLOCK);
        let from = offset.max(block_start);
        let to = end.min(block_start.saturating_add(BLOCK));
        let in_block = usize::try_from(from.checked_sub(block_start)?).ok()?;
        let in_buffer = usize::try_from(from.checked_sub(offset)?).ok()?;
        let count = usize::try_from(to.checked_sub(from)?).ok()?;
        Some((index, in_block, in_buffer, count))
    })
}

impl StorageBackend for Overlay {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.state().len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let state = self.state();
        if offset.saturating_add(out.len() as u64) > state.len {
            return Err(out_of_range());
        }
        let mut block = vec![0u8; BLOCK_LEN];
        for (index, in_block, in_buffer, count) in spans(offset, out.len()) {
            self.load(&state, index, &mut block)?;
            let (Some(to), Some(from)) = (
                out.get_mut(in_buffer..in_buffer.saturating_add(count)),
                block.get(in_block..in_block.saturating_add(count)),
            ) else {
                return Err(out_of_range());
            };
            to.copy_from_slice(from);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut state = self.state();
        if len < state.len {
            state.file_len = state.file_len.min(len);
            let keep = len.div_ceil(BLOCK);
            state.blocks.retain(|&index, _| index < keep);
            // The tail of a partly kept block reads as zeros once it grows again.
            let tail = usize::try_from(len % BLOCK).map_err(io::Error::other)?;
            if tail != 0
                && let Some(block) = state.blocks.get_mut(&(len / BLOCK))
                && let Some(rest) = block.get_mut(tail..)
            {
                rest.fill(0);
            }
        }
        state.len = len;
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut state = self.state();
        for (index, in_block, in_buffer, count) in spans(offset, data.len()) {
            let mut block = vec![0u8; BLOCK_LEN];
            self.load(&state, index, &mut block)?;
            let (Some(to), Some(from)) = (
                block.get_mut(in_block..in_block.saturating_add(count)),
                data.get(in_buffer..in_buffer.saturating_add(count)),
            ) else {
                return Err(out_of_range());
            };
            to.copy_from_slice(from);
            state.blocks.insert(index, block);
        }
        state.len = state.len.max(offset.saturating_add(data.len() as u64));
        Ok(())
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn writes_stay_in_memory_and_read_back() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let original: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        file.write_all(&original).unwrap();
        let overlay = Overlay::new(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(file.path())
                .unwrap(),
        )
        .unwrap();
        overlay.write(4000, &[0xAA; 200]).unwrap();
        overlay.write(12_000, &[0xBB; 10]).unwrap();
        assert_eq!(overlay.len().unwrap(), 12_010);
        let mut seen = vec![0u8; 12_010];
        overlay.read(0, &mut seen).unwrap();
        let mut expected = original.clone();
        expected[4000..4200].fill(0xAA);
        expected.resize(12_000, 0);
        expected.extend_from_slice(&[0xBB; 10]);
        assert_eq!(seen, expected);
        // A shrink hides the file's tail for good: growing again reads zeros.
        overlay.set_len(5000).unwrap();
        overlay.set_len(9000).unwrap();
        let mut tail = vec![1u8; 4000];
        overlay.read(5000, &mut tail).unwrap();
        assert!(tail.iter().all(|&b| b == 0));
        assert!(overlay.read(8999, &mut [0u8; 2]).is_err());
        assert_eq!(std::fs::read(file.path()).unwrap(), original);
    }
}
