//! DELETE of a file: 204 once it is unlinked (and its directory fsynced);
//! 404 when missing; 403 for the root, a directory or a symlink; 412 when
//! a precondition fails.

use bedrock_http::{Request, MAX_TARGET_LEN};

use super::auth::write_allowed;
use super::path::{open_status, resolve, RESOLVE};
use super::reply::{error, small};
use super::validators::{check, Validators};
use super::{Answer, FileCfg};
use crate::sys::{self, Fd};

/// DELETE of a file: 204; missing 404; directory or symlink 403.
pub fn delete(cfg: &FileCfg<'_>, req: &Request<'_, '_>, path: &str, out: &mut [u8]) -> Answer {
    if let Err(plan) = write_allowed(cfg, req, out) {
        return plan;
    }
    let rel = match resolve(path) {
        Ok(rel) => rel,
        Err(e) => return error(cfg, out, e.status(), &[]),
    };
    if rel.is_root() {
        return error(cfg, out, 403, &[]);
    }
    let mut parent = [0u8; MAX_TARGET_LEN + 2];
    let mut name = [0u8; 258];
    let Some((parent_c, name_c)) = rel.split(&mut parent, &mut name) else {
        return error(cfg, out, 403, &[]);
    };
    let flags = sys::O_RDONLY | sys::O_DIRECTORY;
    let dir = match Fd::openat2(cfg.root, parent_c, flags, 0, RESOLVE) {
        Ok(fd) => fd,
        Err(e) => return error(cfg, out, open_status(e), &[]),
    };
    let st = match sys::statx(dir.raw(), name_c, sys::AT_SYMLINK_NOFOLLOW) {
        Err(e) => return error(cfg, out, open_status(e), &[]),
        Ok(st) if !st.is_file() => return error(cfg, out, 403, &[]),
        Ok(st) => st,
    };
    if let Some(status) = check(req, Some(&Validators::of(&st))).status() {
        return error(cfg, out, status, &[]);
    }
    match sys::unlinkat(dir.raw(), name_c, 0) {
        Ok(()) => {
            let _ = sys::fsync(dir.raw());
            small(out, 204, None, &[], b"")
        }
        Err(e) => error(cfg, out, open_status(e), &[]),
    }
}
