//! PUT: checks and preconditions, then the body streamed to a locked temp
//! file `.bedrock-put-<random>` in the target's directory, fsynced,
//! renamed over the target and the directory fsynced: the target is the
//! old file or the whole new one, never a part. 201 created, 204 replaced.

use bedrock_http::{BodyKind, Request, MAX_TARGET_LEN};

use super::auth::write_allowed;
use super::path::{open_status, resolve, RESOLVE, TEMP_PREFIX};
use super::reply::{error, small};
use super::validators::{check, Validators};
use super::{Answer, FileCfg};
use crate::dir;
use crate::out::Cursor;
use crate::sys::{self, Errno, Fd};

/// Temp names tried before giving up (500): each is 64 random bits, so
/// a second try is already rare.
const TEMP_NAME_TRIES: usize = 8;

/// An upload in progress: the body goes to `tmp` in `dir`, renamed to
/// `name` when complete.
pub struct Upload {
    // Declared before `dir`: closed first.
    tmp: Fd,
    dir: Fd,
    tmp_name: [u8; 48],
    name: [u8; 258],
    created: bool,
    received: u64,
    max: u64,
}

impl Upload {
    fn tmp_c(&self) -> &[u8] {
        let n = self.tmp_name.iter().position(|&b| b == 0).unwrap_or(0);
        &self.tmp_name[..n + 1]
    }
    fn name_c(&self) -> &[u8] {
        let n = self.name.iter().position(|&b| b == 0).unwrap_or(0);
        &self.name[..n + 1]
    }

    /// Writes body bytes to the temp file. Err(status): past `--max-body`
    /// (413), the disk or quota full (507), another failure (500).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), u16> {
        self.received += bytes.len() as u64;
        if self.received > self.max {
            return Err(413);
        }
        sys::write_all(self.tmp.raw(), bytes).map_err(|e| match e {
            Errno::ENOSPC | Errno::EDQUOT => 507,
            _ => 500,
        })
    }

    /// Drops the upload: the temp file is removed, the target untouched.
    /// (Unlinked before the close drops its lock: see `dir::reap_orphans`.)
    pub fn abort(self) {
        let _ = sys::unlinkat(self.dir.raw(), self.tmp_c(), 0);
    }

    /// Makes the upload the file: fsync, rename over the target, fsync
    /// the directory. 201 when created, 204 when replaced.
    pub fn commit(self, cfg: &FileCfg<'_>, out: &mut [u8]) -> Answer {
        // The temp file stays open (locked) until it is renamed.
        let ok = sys::fsync(self.tmp.raw()).is_ok();
        let (dir, tmp) = (self.dir.raw(), self.tmp_c());
        if !(ok && sys::renameat(dir, tmp, dir, self.name_c()).is_ok()) {
            self.abort();
            return error(cfg, out, 500, &[]);
        }
        let Upload {
            tmp, dir, created, ..
        } = self;
        drop(tmp); // unlocked once renamed, before the directory's fsync
        let _ = sys::fsync(dir.raw());
        if created {
            small(
                out,
                201,
                Some("text/plain; charset=utf-8"),
                &[],
                b"created\n",
            )
        } else {
            small(out, 204, None, &[], b"")
        }
    }
}

/// Starts a PUT: checks, preconditions, the temp file. Err(reply) when
/// it cannot go on.
// No heap to box the refusal in: it is returned by value, once a request.
#[allow(clippy::result_large_err)]
pub fn put_start(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    path: &str,
    body: BodyKind,
    out: &mut [u8],
) -> Result<Upload, Answer> {
    write_allowed(cfg, req, out)?;
    match body {
        BodyKind::None => return Err(error(cfg, out, 411, &[])),
        BodyKind::Length(n) if n > cfg.max_put => return Err(error(cfg, out, 413, &[])),
        BodyKind::Length(_) | BodyKind::Chunked => {}
    }
    let rel = resolve(path).map_err(|e| error(cfg, out, e.status(), &[]))?;
    let mut parent = [0u8; MAX_TARGET_LEN + 2];
    let mut name = [0u8; 258];
    if rel.is_root() || rel.slash {
        return Err(error(cfg, out, 403, &[]));
    }
    let Some((parent_c, name_c)) = rel.split(&mut parent, &mut name) else {
        return Err(error(cfg, out, 403, &[]));
    };
    let flags = sys::O_RDONLY | sys::O_DIRECTORY;
    let dir = Fd::openat2(cfg.root, parent_c, flags, 0, RESOLVE).map_err(|e| {
        // A missing directory is a conflict with the tree (RFC 9110 15.5.10).
        let status = match open_status(e) {
            404 => 409,
            other => other,
        };
        error(cfg, out, status, &[])
    })?;
    let existing = match sys::statx(dir.raw(), name_c, sys::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if st.is_file() => Some(st),
        Ok(_) => return Err(error(cfg, out, 403, &[])), // a directory, symlink or device
        Err(_) => None,
    };
    let v = existing.as_ref().map(Validators::of);
    if let Some(status) = check(req, v.as_ref()).status() {
        return Err(error(cfg, out, status, &[]));
    }
    let (tmp_name, tmp) = temp_file(&dir).map_err(|e| error(cfg, out, open_status(e), &[]))?;
    let mut up = Upload {
        tmp,
        dir,
        tmp_name,
        name: [0; 258],
        created: existing.is_none(),
        received: 0,
        max: cfg.max_put,
    };
    up.name[..name_c.len()].copy_from_slice(name_c);
    Ok(up)
}

/// A new temp file in `dir`, locked (`dir::claim_temp`): its
/// NUL-terminated name and descriptor. EEXIST (500) when every name tried
/// was taken or being swept.
fn temp_file(dir: &Fd) -> Result<([u8; 48], Fd), Errno> {
    let flags = sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL;
    for _ in 0..TEMP_NAME_TRIES {
        let mut name = [0u8; 48];
        let mut rnd = [0u8; 8];
        let _ = sys::getrandom(&mut rnd);
        let mut c = Cursor::new(&mut name);
        c.b(TEMP_PREFIX).hex(u64::from_ne_bytes(rnd)).s("\0");
        let n = c.len();
        match Fd::openat2(dir.raw(), &name[..n], flags, 0o644, RESOLVE) {
            // Not claimed: the orphan sweep is removing it.
            Ok(fd) if dir::claim_temp(fd.raw()).is_err() => continue,
            Ok(fd) => return Ok((name, fd)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::EEXIST)
}
