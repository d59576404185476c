//! Where a checkpoint's bytes come from: a file, read at offsets as the parser asks, or bytes
//! in memory (the fuzz tests). The parser learns the length first and checks every offset
//! and size it reads against it, so that no declared size is trusted before the bytes exist.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, ErrorKind, Result};

/// Bytes to read at offsets.
pub(crate) trait Source {
    /// The number of bytes.
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`. Reading past the end is a `Format` error (a file that
    /// shrank while it was read), never a short read.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
    /// The name that messages give it: the file's path, or what the bytes are.
    fn name(&self) -> &str;
}

/// A `Format` error about `source`: "`name`: `what`".
pub(crate) fn malformed(source: &dyn Source, what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Format, format!("{}: {}", source.name(), what))
}

/// Reads a file at offsets.
pub(crate) struct FileSource {
    file: File,
    len: u64,
    name: String,
}

impl FileSource {
    pub(crate) fn new(file: File, len: u64, name: String) -> FileSource {
        FileSource { file, len, name }
    }
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if offset.checked_add(buf.len() as u64).is_none_or(|end| end > self.len) {
            return Err(malformed(self, format_args!("a read of {} bytes at offset {} is past the end ({} bytes)", buf.len(), offset, self.len)));
        }
        // `&File` reads and seeks: no lock is needed, the parser reads from one thread.
        let mut file = &self.file;
        let result = file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(buf));
        result.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                malformed(self, format_args!("the file ended before offset {} (it was {} bytes when opened)", offset + buf.len() as u64, self.len))
            }
            _ => Error::new(ErrorKind::Io, format!("{}: cannot read: {}", self.name, e)),
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Bytes in memory, under a name for messages.
pub(crate) struct BytesSource<'a> {
    bytes: &'a [u8],
    name: &'a str,
}

impl<'a> BytesSource<'a> {
    pub(crate) fn new(bytes: &'a [u8], name: &'a str) -> BytesSource<'a> {
        BytesSource { bytes, name }
    }
}

impl Source for BytesSource<'_> {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let range = usize::try_from(offset).ok().and_then(|start| Some(start..start.checked_add(buf.len())?));
        match range.and_then(|r| self.bytes.get(r)) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(malformed(self, format_args!("a read of {} bytes at offset {} is past the end ({} bytes)", buf.len(), offset, self.bytes.len()))),
        }
    }

    fn name(&self) -> &str {
        self.name
    }
}
