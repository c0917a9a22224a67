//! The virtio-blk request format (VIRTIO 1.2 §5.2.6): a 16-byte header
//! `type u32 | reserved u32 | sector u64` (little-endian), the data, and
//! one status byte the device writes.

/// Bytes in a sector, the unit of `sector` (§5.2.6: always 512, whatever
/// the device's block size).
pub const SECTOR: u64 = 512;
/// Bytes in the request header.
pub const HEADER_LEN: usize = 16;

const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read sectors into the buffer (VIRTIO_BLK_T_IN).
    Read,
    /// Write the buffer to sectors (VIRTIO_BLK_T_OUT).
    Write,
    /// Make every completed write durable (VIRTIO_BLK_T_FLUSH).
    Flush,
}

/// One request: what, where, and how many bytes of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlkRequest {
    /// Read, write or flush.
    pub op: Op,
    /// First sector (0 for a flush).
    pub sector: u64,
    /// Data bytes, a multiple of [`SECTOR`] (0 for a flush).
    pub len: u32,
}

impl BlkRequest {
    /// The header the device reads.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let kind = match self.op {
            Op::Read => T_IN,
            Op::Write => T_OUT,
            Op::Flush => T_FLUSH,
        };
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&kind.to_le_bytes());
        h[8..].copy_from_slice(&self.sector.to_le_bytes());
        h
    }

    /// Whether the request is well-formed for a disk of `capacity`
    /// sectors: data a whole number of sectors, inside the disk.
    pub fn fits(&self, capacity: u64) -> bool {
        match self.op {
            Op::Flush => self.len == 0,
            Op::Read | Op::Write => {
                let len = u64::from(self.len);
                len > 0
                    && len % SECTOR == 0
                    && self
                        .sector
                        .checked_add(len / SECTOR)
                        .is_some_and(|end| end <= capacity)
            }
        }
    }
}

/// The status byte the device writes (§5.2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkStatus {
    /// VIRTIO_BLK_S_OK.
    Ok,
    /// VIRTIO_BLK_S_IOERR: the device failed it.
    IoError,
    /// VIRTIO_BLK_S_UNSUPP: the device does not do it.
    Unsupported,
    /// Any other value: the device broke the protocol.
    Invalid(u8),
}

impl BlkStatus {
    /// Decodes the byte.
    pub fn from_byte(b: u8) -> BlkStatus {
        match b {
            0 => BlkStatus::Ok,
            1 => BlkStatus::IoError,
            2 => BlkStatus::Unsupported,
            other => BlkStatus::Invalid(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_spec_layout() {
        let w = BlkRequest {
            op: Op::Write,
            sector: 0x0102_0304_0506_0708,
            len: 512,
        };
        assert_eq!(w.header(), [1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]);
        let r = BlkRequest {
            op: Op::Read,
            sector: 3,
            len: 1024,
        };
        assert_eq!(r.header()[..4], [0, 0, 0, 0]);
        let f = BlkRequest {
            op: Op::Flush,
            sector: 0,
            len: 0,
        };
        assert_eq!(f.header()[..4], [4, 0, 0, 0]);
    }

    #[test]
    fn requests_fit_the_disk_at_and_past_its_end() {
        let at_end = BlkRequest {
            op: Op::Write,
            sector: 6,
            len: 1024,
        };
        assert!(at_end.fits(8));
        assert!(!BlkRequest {
            sector: 7,
            ..at_end
        }
        .fits(8));
        assert!(!BlkRequest {
            len: 1000,
            ..at_end
        }
        .fits(8));
        assert!(!BlkRequest { len: 0, ..at_end }.fits(8));
        assert!(!BlkRequest {
            sector: u64::MAX,
            ..at_end
        }
        .fits(u64::MAX));
        assert!(BlkRequest {
            op: Op::Flush,
            sector: 0,
            len: 0
        }
        .fits(0));
        assert!(!BlkRequest {
            op: Op::Flush,
            sector: 0,
            len: 512
        }
        .fits(8));
    }

    #[test]
    fn status_bytes() {
        assert_eq!(BlkStatus::from_byte(0), BlkStatus::Ok);
        assert_eq!(BlkStatus::from_byte(1), BlkStatus::IoError);
        assert_eq!(BlkStatus::from_byte(2), BlkStatus::Unsupported);
        assert_eq!(BlkStatus::from_byte(0xff), BlkStatus::Invalid(0xff));
    }
}
