//! Directory listings that never hold the event loop for long.
//!
//! A listing request writes the page's head into a new memfd and queues a
//! [`Job`]. The worker's one [`Lister`] takes jobs one at a time and works
//! on the current one in bounded steps, one per turn of the event loop:
//! it reads the directory once (getdents64, `DENTS` bytes a call) into a
//! bounded arena, sorts it once (insertion-sorted runs, then a bottom-up
//! merge sort over records that point into the arena: O(n log n)), and
//! appends the HTML to the memfd. The worker then sends the memfd like a
//! file. Past `MAX_LISTING_ENTRIES` entries or `MAX_LISTING_NAME_BYTES` of
//! names the listing stops and the client gets 403 with a page saying why.
//!
//! A record is one `u128`: the name's first 8 bytes (big-endian, zero
//! padded: names never hold NUL, so the padding sorts like "shorter"),
//! then the name's offset in the arena, its length and its getdents64
//! type. Most comparisons end on the first 8 bytes.

use crate::dir::{self, DT_DIR, MAX_NAME};
use crate::files::TEMP_PREFIX;
use crate::out::Cursor;
use crate::sys::mem::Zeroed;
use crate::sys::{self, Errno};

/// Most entries one listing holds; a larger directory gets 403.
pub const MAX_LISTING_ENTRIES: usize = 131_072;
/// Most bytes of names one listing holds (64 bytes a name on average at
/// the entry cap); past it, 403.
pub const MAX_LISTING_NAME_BYTES: usize = 8 << 20;
/// Longest a listing step runs before the worker serves its other
/// clients again (µs).
pub const STEP_US: u64 = 1_000;
/// Bytes read from the directory per getdents64 call.
const DENTS: usize = 64 * 1024;
/// The HTML is built here and written to the memfd when this fills.
const PAGE: usize = 64 * 1024;
/// The longest line one entry makes: every byte of the longest name
/// escaped in the link (3 bytes) and in the text (6 bytes).
const MAX_LINE: usize = 40 + 9 * MAX_NAME;
/// Runs of this many records are insertion-sorted before merging.
const RUN: usize = 16;
/// Work between two looks at the clock.
const CLOCK_EVERY: usize = 256;

const _: () = assert!(MAX_LISTING_NAME_BYTES <= u32::MAX as usize);
const _: () = assert!(PAGE > 2 * MAX_LINE);

/// What the reply to a listing request needs once the body is built.
pub struct Job {
    /// The directory (closed when the job finishes).
    pub dir: i32,
    /// The body being built.
    pub mfd: i32,
    /// Bytes in `mfd` so far.
    pub size: u64,
}

impl Job {
    /// Closes both descriptors (the request is gone).
    pub fn drop_fds(self) {
        sys::close(self.dir);
        sys::close(self.mfd);
    }
}

/// How a listing ended. The directory is closed; the memfd is the
/// caller's.
pub enum Outcome {
    /// `job.mfd` holds the whole page, `job.size` bytes.
    Listed(Job),
    /// More than the caps allow.
    TooBig(Job),
    /// Reading the directory or writing the memfd failed.
    Failed(Job, Errno),
}

/// How much work a step may still do.
struct Budget {
    units: usize,
    max_units: usize,
    deadline_us: u64,
    next_look: usize,
}

impl Budget {
    /// Counts `n` units; true when the step must end.
    fn spend(&mut self, n: usize) -> bool {
        self.units += n;
        if self.units >= self.max_units {
            return true;
        }
        if self.deadline_us != u64::MAX && self.units >= self.next_look {
            self.next_look = self.units + CLOCK_EVERY;
            return sys::clock_us(sys::CLOCK_MONOTONIC) > self.deadline_us;
        }
        false
    }
}

impl Outcome {
    /// The job it ended.
    pub fn job(&self) -> &Job {
        match self {
            Outcome::Listed(j) | Outcome::TooBig(j) | Outcome::Failed(j, _) => j,
        }
    }
}

/// Whether a step finished the current job.
pub enum Progress {
    Working,
    Finished(Outcome),
}

/// Starts a listing of `dir` (taken over) for request path `path`: a
/// memfd holding the page up to its first entry.
pub fn begin(dir: i32, path: &str) -> Result<Job, Errno> {
    let mfd = match sys::memfd_create(b"bedrock-listing\0") {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(dir);
            return Err(e);
        }
    };
    let job = Job { dir, mfd, size: 0 };
    let mut esc = [0u8; bedrock_http::MAX_TARGET_LEN * 6];
    let mut c = Cursor::new(&mut esc);
    html_escape(&mut c, path.as_bytes());
    let n = c.len();
    let esc = &esc[..n];
    let parts: [&[u8]; 5] = [
        b"<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of ",
        esc,
        b"</title>\n<h1>Index of ",
        esc,
        b"</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n",
    ];
    let mut size = 0;
    for part in parts {
        if let Err(e) = sys::write_all(mfd, part) {
            job.drop_fds();
            return Err(e);
        }
        size += part.len() as u64;
    }
    Ok(Job { size, ..job })
}

/// Whether a listing of `entries` names of `bytes` bytes in all fits the
/// caps.
fn fits(entries: usize, bytes: usize, max_entries: usize, max_bytes: usize) -> bool {
    entries <= max_entries && bytes <= max_bytes
}

/// Where the current job is.
enum Stage {
    Idle,
    /// Reading entries; `dents[at..len]` not yet taken.
    Read {
        at: usize,
        len: usize,
    },
    /// Insertion-sorting the runs from `at`.
    Runs {
        at: usize,
    },
    Merge(Merge),
    /// Writing the entries from `at` of the sorted records.
    Emit {
        at: usize,
        in_b: bool,
    },
}

/// One worker's listing builder: the arena and the current job.
pub struct Lister {
    /// Records: `[..cap]` and `[cap..]` are the merge sort's two halves.
    recs: Zeroed<u128>,
    names: Zeroed<u8>,
    /// getdents64's buffer, then the HTML page buffer.
    scratch: Zeroed<u8>,
    max_entries: usize,
    max_bytes: usize,
    job: Option<Job>,
    stage: Stage,
    count: usize,
    used: usize,
    page_len: usize,
}

impl Lister {
    /// A lister with the given caps (the worker's: the named constants).
    pub fn new(max_entries: usize, max_bytes: usize) -> Result<Lister, Errno> {
        Ok(Lister {
            recs: Zeroed::new(2 * max_entries.max(1))?,
            names: Zeroed::new(max_bytes.max(1))?,
            scratch: Zeroed::new(DENTS + PAGE)?,
            max_entries,
            max_bytes,
            job: None,
            stage: Stage::Idle,
            count: 0,
            used: 0,
            page_len: 0,
        })
    }

    /// Whether a job is under way.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Takes `job` on (the lister must be idle).
    pub fn start(&mut self, job: Job) {
        debug_assert!(self.job.is_none());
        self.job = Some(job);
        self.stage = Stage::Read { at: 0, len: 0 };
        self.count = 0;
        self.used = 0;
        self.page_len = 0;
    }

    /// Drops the current job (its client is gone).
    pub fn abort(&mut self) {
        if let Some(job) = self.job.take() {
            job.drop_fds();
        }
        self.reset();
    }

    fn reset(&mut self) {
        self.stage = Stage::Idle;
        let cap = self.max_entries.max(1);
        self.recs.release(2 * cap);
        self.names.release(self.used);
        self.count = 0;
        self.used = 0;
    }

    fn finish(&mut self, how: impl FnOnce(Job) -> Outcome) -> Progress {
        let Some(job) = self.job.take() else {
            return Progress::Working;
        };
        sys::close(job.dir);
        self.reset();
        Progress::Finished(how(job))
    }

    /// Works on the current job for at most `max_units` units (an entry
    /// read, a record moved, an entry written) or until the monotonic
    /// clock passes `deadline_us` (`u64::MAX`: never looked at).
    pub fn step(&mut self, max_units: usize, deadline_us: u64) -> Progress {
        let mut budget = Budget {
            units: 0,
            max_units: max_units.max(1),
            deadline_us,
            next_look: CLOCK_EVERY,
        };
        loop {
            let r = match self.stage {
                Stage::Idle => return Progress::Working,
                Stage::Read { .. } => self.read(&mut budget),
                Stage::Runs { .. } | Stage::Merge(_) => self.sort(&mut budget),
                Stage::Emit { .. } => self.emit(&mut budget),
            };
            match r {
                Err(StepEnd::TooBig) => return self.finish(Outcome::TooBig),
                Err(StepEnd::Failed(e)) => return self.finish(|j| Outcome::Failed(j, e)),
                Err(StepEnd::Done) => return self.finish(Outcome::Listed),
                Ok(true) => return Progress::Working,
                Ok(false) => {} // the stage is over: on to the next
            }
        }
    }

    /// Reads entries into the arena until the budget ends or the
    /// directory does (then on to sorting).
    /// Ok(true): out of budget; Ok(false): the stage is over.
    fn read(&mut self, budget: &mut Budget) -> Result<bool, StepEnd> {
        let Stage::Read { mut at, mut len } = self.stage else {
            return Ok(false);
        };
        let Some(job) = self.job.as_ref() else {
            return Ok(false);
        };
        let dents = &mut self.scratch.slice()[..DENTS];
        let names = self.names.slice();
        let recs = self.recs.slice();
        let result = loop {
            let Some(d) = dir::dirent(dents, at, len) else {
                match sys::getdents64(job.dir, dents) {
                    Ok(0) => {
                        self.stage = Stage::Runs { at: 0 };
                        return Ok(false);
                    }
                    Ok(n) => {
                        (at, len) = (0, n);
                        continue;
                    }
                    Err(e) => break Err(StepEnd::Failed(e)),
                }
            };
            at = d.next;
            let name = &dents[d.name_at..d.name_at + d.name_len];
            if name == b"." || name == b".." || name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let bytes = self.used + name.len();
            if !fits(self.count + 1, bytes, self.max_entries, self.max_bytes) {
                break Err(StepEnd::TooBig);
            }
            names[self.used..bytes].copy_from_slice(name);
            recs[self.count] = record(name, self.used, d.kind);
            self.used = bytes;
            self.count += 1;
            if budget.spend(1) {
                break Ok(true);
            }
        };
        self.stage = Stage::Read { at, len };
        result
    }

    /// Sorts the records; true when out of budget.
    fn sort(&mut self, budget: &mut Budget) -> Result<bool, StepEnd> {
        let n = self.count;
        let cap = self.max_entries.max(1);
        let names = &self.names.slice()[..self.used];
        let (a, b) = self.recs.slice().split_at_mut(cap);
        if let Stage::Runs { mut at } = self.stage {
            while at < n {
                let end = (at + RUN).min(n);
                insertion_sort(&mut a[at..end], names);
                at = end;
                if budget.spend(RUN) {
                    self.stage = Stage::Runs { at };
                    return Ok(true);
                }
            }
            self.stage = Stage::Merge(Merge::new(n));
        }
        if let Stage::Merge(mut m) = self.stage {
            let done = m.run(&mut a[..n], &mut b[..n], names, &mut |k| budget.spend(k));
            self.stage = if done {
                Stage::Emit {
                    at: 0,
                    in_b: m.in_b,
                }
            } else {
                Stage::Merge(m)
            };
            return Ok(!done);
        }
        Ok(false)
    }

    /// Appends the sorted entries' lines to the memfd.
    fn emit(&mut self, budget: &mut Budget) -> Result<bool, StepEnd> {
        let Stage::Emit { mut at, in_b } = self.stage else {
            return Ok(false);
        };
        let Some(job) = self.job.as_mut() else {
            return Ok(false);
        };
        let cap = self.max_entries.max(1);
        let n = self.count;
        let recs = &self.recs.slice()[if in_b { cap } else { 0 }..][..n];
        let names = &self.names.slice()[..self.used];
        let page = &mut self.scratch.slice()[DENTS..];
        let flush = |page: &[u8], len: &mut usize, job: &mut Job| {
            let r = sys::write_all(job.mfd, &page[..*len]);
            job.size += *len as u64;
            *len = 0;
            r.map_err(StepEnd::Failed)
        };
        while at < n {
            if self.page_len > PAGE - MAX_LINE {
                flush(page, &mut self.page_len, job)?;
            }
            let r = recs[at];
            let mut c = Cursor::new(&mut page[self.page_len..]);
            entry_line(&mut c, name_of(r, names), kind_of(r) == DT_DIR);
            self.page_len += c.len();
            at += 1;
            if budget.spend(1) {
                self.stage = Stage::Emit { at, in_b };
                return Ok(true);
            }
        }
        let mut c = Cursor::new(&mut page[self.page_len..]);
        c.s("</ul>\n");
        self.page_len += c.len();
        flush(page, &mut self.page_len, job)?;
        Err(StepEnd::Done)
    }
}

/// Why a stage stopped other than for time.
enum StepEnd {
    Done,
    TooBig,
    Failed(Errno),
}

fn record(name: &[u8], at: usize, kind: u8) -> u128 {
    let mut key = [0u8; 8];
    let k = name.len().min(8);
    key[..k].copy_from_slice(&name[..k]);
    (u128::from(u64::from_be_bytes(key)) << 64)
        | ((at as u128) << 32)
        | ((name.len() as u128) << 8)
        | u128::from(kind)
}

fn name_of(r: u128, names: &[u8]) -> &[u8] {
    let at = (r >> 32) as u32 as usize;
    let len = usize::from((r >> 8) as u8);
    &names[at..at + len]
}

fn kind_of(r: u128) -> u8 {
    r as u8
}

/// Bytewise name order: the 8-byte keys, then the rest of the names.
fn le(a: u128, b: u128, names: &[u8]) -> bool {
    let (ka, kb) = ((a >> 64) as u64, (b >> 64) as u64);
    if ka != kb {
        return ka < kb;
    }
    let (na, nb) = (name_of(a, names), name_of(b, names));
    na[na.len().min(8)..] <= nb[nb.len().min(8)..]
}

fn insertion_sort(run: &mut [u128], names: &[u8]) {
    for i in 1..run.len() {
        let r = run[i];
        let mut j = i;
        while j > 0 && !le(run[j - 1], r, names) {
            run[j] = run[j - 1];
            j -= 1;
        }
        run[j] = r;
    }
}

/// A bottom-up merge sort in progress over runs already sorted (`RUN`
/// long), resumable after any record moved.
#[derive(Clone, Copy)]
struct Merge {
    n: usize,
    width: usize,
    /// The pair of runs being merged: `[lo, mid)` and `[mid, hi)`.
    lo: usize,
    i: usize,
    j: usize,
    k: usize,
    /// The current pass reads from the second half (`b`).
    in_b: bool,
}

impl Merge {
    fn new(n: usize) -> Merge {
        let mut m = Merge {
            n,
            width: RUN,
            lo: 0,
            i: 0,
            j: 0,
            k: 0,
            in_b: false,
        };
        m.pair(0);
        m
    }

    fn pair(&mut self, lo: usize) {
        self.lo = lo;
        self.i = lo;
        self.j = (lo + self.width).min(self.n);
        self.k = lo;
    }

    /// Merges until done (true) or `spend(records moved)` says stop.
    fn run(
        &mut self,
        a: &mut [u128],
        b: &mut [u128],
        names: &[u8],
        spend: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        while self.width < self.n {
            let (src, dst): (&[u128], &mut [u128]) = if self.in_b {
                (&*b, &mut *a)
            } else {
                (&*a, &mut *b)
            };
            let mid = (self.lo + self.width).min(self.n);
            let hi = (self.lo + 2 * self.width).min(self.n);
            let mut moved = 0;
            let mut stop = false;
            while self.k < hi && !stop {
                let left = self.i < mid && (self.j >= hi || le(src[self.i], src[self.j], names));
                if left {
                    dst[self.k] = src[self.i];
                    self.i += 1;
                } else {
                    dst[self.k] = src[self.j];
                    self.j += 1;
                }
                self.k += 1;
                moved += 1;
                if moved == CLOCK_EVERY {
                    stop = spend(moved);
                    moved = 0;
                }
            }
            if self.k >= hi {
                if hi >= self.n {
                    self.width *= 2;
                    self.in_b = !self.in_b;
                    self.pair(0);
                } else {
                    self.pair(hi);
                }
            }
            if stop || (moved > 0 && spend(moved)) {
                return self.width >= self.n;
            }
        }
        true
    }
}

/// `<li><a href="NAME">NAME</a></li>` (a slash after directories).
fn entry_line(c: &mut Cursor<'_>, name: &[u8], is_dir: bool) {
    let slash = if is_dir { "/" } else { "" };
    c.s("<li><a href=\"");
    url_escape(c, name);
    c.s(slash).s("\">");
    html_escape(c, name);
    c.s(slash).s("</a></li>\n");
}

fn html_escape(c: &mut Cursor<'_>, s: &[u8]) {
    for &b in s {
        match b {
            b'&' => c.s("&amp;"),
            b'<' => c.s("&lt;"),
            b'>' => c.s("&gt;"),
            b'"' => c.s("&quot;"),
            b'\'' => c.s("&#39;"),
            _ => c.b(&[b]),
        };
    }
}

fn url_escape(c: &mut Cursor<'_>, s: &[u8]) {
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            c.b(&[b]);
        } else {
            c.s("%").b(&[
                b"0123456789ABCDEF"[usize::from(b >> 4)],
                b"0123456789ABCDEF"[usize::from(b & 15)],
            ]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{dir_fd, temp_dir};
    use std::fs;

    /// The page a lister builds for `d`, stepping `units` at a time, and
    /// how many steps it took.
    fn list(
        lister: &mut Lister,
        d: &std::path::Path,
        units: usize,
    ) -> (Result<Vec<u8>, &'static str>, usize) {
        let job = begin(dir_fd(d), "/x/").unwrap();
        lister.start(job);
        let mut steps = 0;
        loop {
            steps += 1;
            if let Progress::Finished(outcome) = lister.step(units, u64::MAX) {
                assert!(!lister.busy());
                let r = match outcome {
                    Outcome::Listed(job) => {
                        let mut page = vec![0u8; job.size as usize];
                        assert_eq!(sys::pread(job.mfd, &mut page, 0), Ok(page.len()));
                        sys::close(job.mfd);
                        Ok(page)
                    }
                    Outcome::TooBig(job) => {
                        sys::close(job.mfd);
                        Err("too big")
                    }
                    Outcome::Failed(job, _) => {
                        sys::close(job.mfd);
                        Err("failed")
                    }
                };
                return (r, steps);
            }
        }
    }

    /// The names a page links to, in page order (a slash on directories).
    fn links(page: &[u8]) -> Vec<Vec<u8>> {
        let text = std::str::from_utf8(page).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("<li><a href=\""))
            .map(|l| {
                let href = &l[..l.find('"').unwrap()];
                let mut out = Vec::new();
                let b = href.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' {
                        out.push(u8::from_str_radix(&href[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                out
            })
            .collect()
    }

    /// Creates `count` files with scrambled names (and shared 8-byte
    /// prefixes), a directory and a temp file; the sorted links expected.
    fn fill(d: &std::path::Path, count: usize) -> Vec<Vec<u8>> {
        let mut want = vec![b"../".to_vec()];
        for i in 0..count {
            let name = match i % 4 {
                0 => format!("B{:x}", (i * 7919) % 100_003),
                1 => format!("a{:x}", (i * 7919) % 100_003),
                // Same first 8 bytes: the rest decides.
                2 => format!("prefix12{:x}", (i * 31) % 1009),
                _ => format!("prefix1{}", i % 10),
            };
            if fs::File::create_new(d.join(&name)).is_ok() {
                want.push(name.into_bytes());
            }
        }
        fs::create_dir(d.join("\u{e9}dir")).unwrap();
        want.push("\u{e9}dir/".as_bytes().to_vec());
        fs::write(d.join(".bedrock-put-1234"), b"temp").unwrap();
        want[1..].sort_by(|a, b| {
            let strip = |n: &[u8]| n.strip_suffix(b"/").unwrap_or(n).to_vec();
            strip(a).cmp(&strip(b))
        });
        want
    }

    #[test]
    fn listings_are_complete_and_sorted_bytewise_at_any_step_size() {
        let mut lister = Lister::new(MAX_LISTING_ENTRIES, MAX_LISTING_NAME_BYTES).unwrap();
        for count in [0, 1, RUN - 2, RUN, RUN + 1, 2 * RUN, 333, 3000] {
            let d = temp_dir(&format!("listing-{count}"));
            let want = fill(&d, count);
            for units in [1, 7, 1000, usize::MAX] {
                let (page, steps) = list(&mut lister, &d, units);
                let page = page.unwrap();
                assert_eq!(links(&page), want, "{count} files, {units} units a step");
                assert!(page.starts_with(b"<!doctype html>"));
                assert!(page.ends_with(b"</ul>\n"));
                if units == 1 {
                    assert!(steps > want.len(), "one unit a step takes many steps");
                }
            }
        }
    }

    #[test]
    fn entry_cap_at_and_past() {
        let d = temp_dir("listing-cap");
        for i in 0..10 {
            fs::write(d.join(format!("f{i}")), b"").unwrap();
        }
        fs::write(d.join(".bedrock-put-x"), b"").unwrap(); // not counted
        let mut at = Lister::new(10, 1 << 20).unwrap();
        assert_eq!(links(&list(&mut at, &d, 3).0.unwrap()).len(), 11);
        let mut past = Lister::new(9, 1 << 20).unwrap();
        assert_eq!(list(&mut past, &d, 3).0, Err("too big"));
        // The lister is free again and lists what fits.
        fs::remove_file(d.join("f0")).unwrap();
        assert_eq!(links(&list(&mut past, &d, 3).0.unwrap()).len(), 10);
    }

    #[test]
    fn name_bytes_cap_at_and_past() {
        let d = temp_dir("listing-bytes");
        for n in ["aaaa", "bbb", "c"] {
            fs::write(d.join(n), b"").unwrap();
        }
        let mut at = Lister::new(100, 8).unwrap();
        assert_eq!(links(&list(&mut at, &d, 2).0.unwrap()).len(), 4);
        let mut past = Lister::new(100, 7).unwrap();
        assert_eq!(list(&mut past, &d, 2).0, Err("too big"));
    }

    #[test]
    fn the_caps_are_the_named_constants() {
        let (e, b) = (MAX_LISTING_ENTRIES, MAX_LISTING_NAME_BYTES);
        assert!(fits(e, b, e, b));
        assert!(!fits(e + 1, b, e, b));
        assert!(!fits(e, b + 1, e, b));
        // Every entry at the cap can have an average name of 64 bytes.
        assert_eq!(b / e, 64);
    }

    #[test]
    fn an_aborted_listing_frees_the_lister() {
        let d = temp_dir("listing-abort");
        let want = fill(&d, 500);
        let mut lister = Lister::new(MAX_LISTING_ENTRIES, MAX_LISTING_NAME_BYTES).unwrap();
        let job = begin(dir_fd(&d), "/x/").unwrap();
        lister.start(job);
        assert!(matches!(lister.step(700, u64::MAX), Progress::Working));
        lister.abort();
        assert!(!lister.busy());
        assert!(matches!(lister.step(1, u64::MAX), Progress::Working));
        assert_eq!(links(&list(&mut lister, &d, 50).0.unwrap()), want);
    }

    #[test]
    fn merge_sort_matches_a_reference_sort() {
        // Pure: names in an arena, no directory.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [0, 1, 2, RUN - 1, RUN, RUN + 1, 3 * RUN + 5, 1000, 4099] {
            let mut names = Vec::new();
            let mut a = vec![0u128; n];
            for r in a.iter_mut() {
                let len = 1 + (rnd() % 12) as usize;
                let name: Vec<u8> = (0..len).map(|_| b"ab\xff"[(rnd() % 3) as usize]).collect();
                *r = record(&name, names.len(), 8);
                names.extend_from_slice(&name);
            }
            let mut want: Vec<Vec<u8>> = a.iter().map(|&r| name_of(r, &names).to_vec()).collect();
            want.sort();
            for run in a.chunks_mut(RUN) {
                insertion_sort(run, &names);
            }
            let mut b = vec![0u128; n];
            let mut m = Merge::new(n);
            let mut calls = 0;
            while !m.run(&mut a, &mut b, &names, &mut |_| {
                calls += 1;
                calls % 3 == 0
            }) {}
            let sorted = if m.in_b { &b } else { &a };
            let got: Vec<Vec<u8>> = sorted
                .iter()
                .map(|&r| name_of(r, &names).to_vec())
                .collect();
            assert_eq!(got, want, "{n} names");
        }
    }

    #[test]
    fn listing_escapes() {
        let mut buf = [0u8; 128];
        let mut c = Cursor::new(&mut buf);
        html_escape(&mut c, b"<a href='x'>&\"");
        let n = c.len();
        assert_eq!(&buf[..n], b"&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
        let mut c = Cursor::new(&mut buf);
        url_escape(&mut c, "a b/%\u{e9}~".as_bytes());
        let n = c.len();
        assert_eq!(&buf[..n], b"a%20b%2F%25%C3%A9~");
        // The longest line fits in MAX_LINE.
        let mut line = [0u8; MAX_LINE];
        let mut c = Cursor::new(&mut line);
        entry_line(&mut c, &[b'"'; MAX_NAME], true);
        assert!(!c.overflow);
    }
}
