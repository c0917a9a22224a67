//! Request paths made relative to the root: percent-decoded, `..` and
//! NUL refused, empty and `.` segments dropped, the server's temp files
//! hidden; and how a failed open maps to a status.

use bedrock_http::{percent_decode, PercentError, MAX_TARGET_LEN};

use crate::sys::{self, Errno};

/// Prefix of in-flight PUT temp files: never listed, served or deleted.
pub const TEMP_PREFIX: &[u8] = b".bedrock-put-";

/// How paths under the root are opened: never above it, never through a
/// symlink.
pub(super) const RESOLVE: u64 = sys::RESOLVE_BENEATH | sys::RESOLVE_NO_SYMLINKS;

/// Why a path cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// `..`, NUL, or a name the server owns: 403.
    Forbidden,
    /// A temp file: 404 (it does not exist as far as clients know).
    Hidden,
    /// A broken escape: 400.
    Bad,
    /// Too long: 414.
    TooLong,
}

impl PathError {
    pub fn status(self) -> u16 {
        match self {
            PathError::Forbidden => 403,
            PathError::Hidden => 404,
            PathError::Bad => 400,
            PathError::TooLong => 414,
        }
    }
}

/// A request path made relative to the root, NUL-terminated (`.` for
/// the root itself).
pub struct RelPath {
    buf: [u8; MAX_TARGET_LEN + 2],
    len: usize,
    /// The request path ended in `/`.
    pub slash: bool,
}

impl RelPath {
    /// With the NUL.
    pub fn c(&self) -> &[u8] {
        &self.buf[..self.len + 1]
    }
    /// Without the NUL.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    pub fn is_root(&self) -> bool {
        self.bytes() == b"."
    }
    /// (parent directory with NUL, last segment with NUL) in `bufs`.
    pub(super) fn split<'b>(
        &self,
        parent: &'b mut [u8; MAX_TARGET_LEN + 2],
        name: &'b mut [u8; 258],
    ) -> Option<(&'b [u8], &'b [u8])> {
        let b = self.bytes();
        let cut = b.iter().rposition(|&c| c == b'/');
        let (dir, last): (&[u8], &[u8]) = match cut {
            Some(i) => (&b[..i], &b[i + 1..]),
            None => (b".", b),
        };
        if last.len() > 255 || last == b"." {
            return None;
        }
        parent[..dir.len()].copy_from_slice(dir);
        parent[dir.len()] = 0;
        name[..last.len()].copy_from_slice(last);
        name[last.len()] = 0;
        Some((&parent[..dir.len() + 1], &name[..last.len() + 1]))
    }
}

/// Decodes and checks a request path: percent-decoding, NUL and `..`
/// refused, empty and `.` segments dropped, temp files hidden.
pub fn resolve(path: &str) -> Result<RelPath, PathError> {
    let mut decoded = [0u8; MAX_TARGET_LEN];
    if path.len() > MAX_TARGET_LEN {
        return Err(PathError::TooLong);
    }
    let d = match percent_decode(path.as_bytes(), &mut decoded) {
        Ok(d) => d,
        Err(PercentError::EncodedNul) => return Err(PathError::Forbidden),
        Err(PercentError::InvalidEscape) => return Err(PathError::Bad),
        Err(PercentError::OutputFull) => return Err(PathError::TooLong),
    };
    let mut rel = RelPath {
        buf: [0; MAX_TARGET_LEN + 2],
        len: 0,
        slash: d.last() == Some(&b'/'),
    };
    for seg in d.split(|&b| b == b'/') {
        if seg.is_empty() || seg == b"." {
            continue;
        }
        if seg == b".." {
            return Err(PathError::Forbidden);
        }
        if seg.starts_with(TEMP_PREFIX) {
            return Err(PathError::Hidden);
        }
        if seg.contains(&0) {
            return Err(PathError::Forbidden);
        }
        let sep = usize::from(rel.len > 0);
        if rel.len + sep + seg.len() > MAX_TARGET_LEN {
            return Err(PathError::TooLong);
        }
        if sep == 1 {
            rel.buf[rel.len] = b'/';
        }
        rel.buf[rel.len + sep..rel.len + sep + seg.len()].copy_from_slice(seg);
        rel.len += sep + seg.len();
    }
    if rel.len == 0 {
        rel.buf[0] = b'.';
        rel.len = 1;
    }
    rel.buf[rel.len] = 0;
    Ok(rel)
}

/// The status for a path that could not be opened.
pub(super) fn open_status(e: Errno) -> u16 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG => 404,
        // ELOOP: a symlink on the way; EXDEV: an escape from the root.
        Errno::ELOOP | Errno::EXDEV | Errno::EACCES | Errno::EPERM => 403,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) -> (String, bool) {
        let rel = resolve(path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        (String::from_utf8(rel.bytes().to_vec()).unwrap(), rel.slash)
    }

    fn err(path: &str) -> u16 {
        match resolve(path) {
            Ok(rel) => panic!("{path} resolved to {:?}", rel.bytes()),
            Err(e) => e.status(),
        }
    }

    #[test]
    fn safe_paths_resolve_relative_to_the_root() {
        assert_eq!(ok("/"), (".".into(), true));
        assert_eq!(ok(""), (".".into(), false));
        assert_eq!(ok("/hello.txt"), ("hello.txt".into(), false));
        assert_eq!(ok("/sub/dir/"), ("sub/dir".into(), true));
        assert_eq!(ok("//a///b/./c"), ("a/b/c".into(), false));
        assert_eq!(ok("/ohwell...txt"), ("ohwell...txt".into(), false));
        assert_eq!(ok("/..."), ("...".into(), false));
        assert_eq!(ok("/sp%20ace.txt"), ("sp ace.txt".into(), false));
        assert_eq!(ok("/%252e%252e/x"), ("%2e%2e/x".into(), false));
        assert_eq!(ok("/a\\..\\b"), ("a\\..\\b".into(), false));
        assert!(resolve("/x").unwrap().c().ends_with(b"x\0"));
    }

    #[test]
    fn traversal_nul_and_temp_files_are_refused() {
        for p in [
            "/..",
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/x",
            "/%2E%2E",
            "/.%2e/x",
            "/a/%2e%2e%2f..%2fx",
            "/a%2f..%2f..%2fx",
        ] {
            assert_eq!(err(p), 403, "{p}");
        }
        assert_eq!(err("/a%00b"), 403);
        assert_eq!(err("/hello.txt%00.png"), 403);
        assert_eq!(err("/.bedrock-put-0123"), 404);
        assert_eq!(err("/sub/.bedrock-put-x/y"), 404);
        assert_eq!(err("/%2ebedrock-put-x"), 404);
        assert_eq!(ok("/x.bedrock-put-"), ("x.bedrock-put-".into(), false));
        assert_eq!(err("/%zz"), 400);
        assert_eq!(err("/%4"), 400);
    }

    #[test]
    fn path_length_at_and_past_the_limit() {
        let at = format!("/{}", "a".repeat(MAX_TARGET_LEN - 1));
        assert_eq!(ok(&at).0.len(), MAX_TARGET_LEN - 1);
        let past = format!("/{}", "a".repeat(MAX_TARGET_LEN));
        assert_eq!(err(&past), 414);
    }
}
