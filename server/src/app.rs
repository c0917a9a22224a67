//! The app this server runs, whatever its type: the worker sees it as an
//! [`ApiHost`] (which paths it answers, and one call that answers a
//! request with its store locked and its changes journaled), so only
//! this file is generic over the app. The hosted app holds its journal's
//! file descriptor, so no caller handles the journal.

use bedrock_http::{Method, Request};
use bedrock_web::{dispatch, Persist, Reject, Reply, Response, Service, Stream};

use crate::journal;
use crate::out::{errno_text, say, Line};
use crate::sys::mem::Shared;
use crate::sys::{self, Errno, Res};

/// The largest request body a connection holds for the app.
pub const BODY_BUFFER: usize = 8192;
/// A connection's reply-body buffer (one streamed piece, a small file).
pub const REPLY_BUFFER: usize = 16 * 1024;

/// How an app is served: what it is, where it answers and where its data
/// goes.
pub struct AppSpec<S> {
    /// Path prefixes the app answers (`/api` covers `/api` and
    /// `/api/...`); every other path is a file under `--root`.
    pub mount: &'static [&'static str],
    /// The journal's file name in `--data`.
    pub journal: &'static str,
    /// The app, empty (it is built in memory shared by the workers).
    pub new: fn() -> S,
}

/// What the worker needs of the app.
pub trait ApiHost: Sync {
    /// Whether `path` (origin-form, no query) is the app's.
    fn owns(&self, path: &str) -> bool;

    /// The largest request body the app takes.
    fn max_body(&self) -> usize;

    /// Answers `request` (its whole body in `body`, the reply body
    /// written into `out`) with the store locked, then journals and
    /// fsyncs the changes it recorded: before this returns, so before
    /// any byte of the reply can leave. A request whose method can change
    /// the store is refused with 503 while the journal is broken.
    /// Err(status): a change could not be recorded; the store is as it
    /// was before it (rebuilt from the journal) and the reply must be
    /// replaced by this status.
    fn respond(
        &self,
        request: &Request<'_, '_>,
        body: &[u8],
        out: &mut [u8],
    ) -> Result<Response, u16>;

    /// Whether changes can be made durable now (`GET /readyz`): not once
    /// a failure could not be undone, nor while the journal's file system
    /// is read-only or has no room for the app's longest change.
    fn readiness(&self) -> Result<(), &'static str>;

    /// The next piece of one of the app's streamed bodies (store locked).
    fn stream(&self, stream: &mut Stream, out: &mut [u8]) -> usize;

    /// The app's rendering of a refusal.
    fn render_reject(&self, reject: Reject, out: &mut [u8]) -> Reply;

    /// A worker died: if it held the store's lock, the store may be
    /// half-changed; rebuild it from the journal.
    fn repair(&self, dead: i32);
}

/// What every worker shares under one lock: the app, and whether its
/// journal still takes records (not after a failure that could not be
/// undone: changes are then refused until a restart replays it).
pub struct Journaled<S> {
    app: S,
    broken: bool,
}

/// The app as the workers reach it: its shared, journaled state, the
/// paths it answers (read without the lock) and its journal (`--data`;
/// none: in memory only). Every process shares the journal's one file
/// description, opened before the workers are forked.
pub struct Hosted<S: 'static> {
    shared: &'static Shared<Journaled<S>>,
    mount: &'static [&'static str],
    journal: Option<i32>,
}

impl<S: Persist> Journaled<S> {
    /// Rebuilds the app from the journal, which holds exactly the changes
    /// that were recorded (a change it could not record is undone this
    /// way, and so is one a dead worker left half-made). A torn tail is
    /// cut off; a journal that cannot be read or cut is marked broken.
    fn rebuild(&mut self, fd: i32) -> Res<journal::Replayed> {
        self.app.clear();
        let replayed = journal::replay(fd, S::MAX_CHANGE, &mut |r| self.app.replay(r));
        if let Ok(r) = &replayed {
            r.report();
        }
        self.broken |= replayed.is_err();
        replayed
    }

    /// Journals every change the app recorded, in order; on a failure the
    /// app is rebuilt without it. Ok(whether anything was written).
    fn record(&mut self, fd: Option<i32>) -> Result<bool, Errno> {
        let mut failed = None;
        let mut written = false;
        self.app.drain_changes(&mut |change| {
            if failed.is_some() {
                return;
            }
            match fd.map(|fd| journal::append(fd, change)) {
                Some(Err(e)) => failed = Some(e),
                Some(Ok(())) => written = true,
                None => {}
            }
        });
        match (failed, fd) {
            (Some(e), Some(fd)) => {
                let undone = self.rebuild(fd).is_ok();
                say(&[
                    b"journal: append failed (",
                    errno_text(e),
                    if undone {
                        b"); the change was undone"
                    } else {
                        b"); the journal cannot be repaired: changes refused until restart"
                    },
                ]);
                Err(e)
            }
            _ => Ok(written),
        }
    }
}

/// Maps the app into memory shared by the workers and replays its journal
/// (opened in `data`, if given) into it.
pub fn open<S: Service + Persist + Send>(spec: &AppSpec<S>, data: Option<&[u8]>) -> Hosted<S> {
    const { bedrock_web::assert_fits::<S>(BODY_BUFFER, REPLY_BUFFER, journal::MAX_RECORD) };
    let new = spec.new;
    let Ok(shared) = Shared::create(|| Journaled {
        app: new(),
        broken: false,
    }) else {
        fail(&[b"cannot map the shared app store"])
    };
    let journal = data.map(|dir| {
        let mut name = [0u8; 256];
        let len = spec.journal.len().min(name.len() - 1);
        name[..len].copy_from_slice(&spec.journal.as_bytes()[..len]);
        let fd = match journal::open(dir, &name[..len + 1]) {
            Ok(fd) => fd,
            Err(e) => fail(&[
                b"cannot open the journal in --data ",
                dir,
                b": ",
                errno_text(e),
            ]),
        };
        match shared.lock().rebuild(fd) {
            Ok(r) => {
                let mut line = Line::new();
                line.s("bedrock-serve: journal: replayed ")
                    .n(r.records)
                    .s(" records\n");
                let _ = sys::write_all(2, line.as_bytes());
            }
            Err(e) => fail(&[b"cannot read the journal: ", errno_text(e)]),
        }
        fd
    });
    Hosted {
        shared,
        mount: spec.mount,
        journal,
    }
}

fn fail(parts: &[&[u8]]) -> ! {
    say(parts);
    sys::exit(1)
}

impl<S: Service + Persist + Send> ApiHost for Hosted<S> {
    fn owns(&self, path: &str) -> bool {
        self.mount.iter().any(|m| {
            path.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    fn max_body(&self) -> usize {
        S::MAX_BODY
    }

    fn respond(
        &self,
        request: &Request<'_, '_>,
        body: &[u8],
        out: &mut [u8],
    ) -> Result<Response, u16> {
        let may_change = !matches!(request.method, Method::Get | Method::Head | Method::Options);
        let (response, written) = {
            let mut shared = self.shared.lock();
            if shared.broken && may_change {
                return Err(503);
            }
            let response = dispatch(&mut shared.app, request, body, out);
            match shared.record(self.journal) {
                Ok(written) => (response, written),
                Err(e) => {
                    drop(shared);
                    sys::trim_stack(); // the rebuild's temporaries
                    return Err(journal::failure_status(e));
                }
            }
        };
        if let (Some(fd), true) = (self.journal, written) {
            if let Err(e) = sys::fsync(fd) {
                // Whether the record reached the disk is unknown: take no
                // more changes; a restart replays what the disk holds.
                self.shared.lock().broken = true;
                say(&[
                    b"journal: fsync failed (",
                    errno_text(e),
                    b"); changes refused until restart",
                ]);
                return Err(500);
            }
        }
        Ok(response)
    }

    fn readiness(&self) -> Result<(), &'static str> {
        if self.shared.lock().broken {
            return Err(
                "journal: a failed write could not be undone; changes refused until a restart",
            );
        }
        self.journal
            .map_or(Ok(()), |fd| journal::writable(fd, S::MAX_CHANGE))
    }

    fn stream(&self, stream: &mut Stream, out: &mut [u8]) -> usize {
        self.shared.lock().app.stream(stream, out)
    }

    fn render_reject(&self, reject: Reject, out: &mut [u8]) -> Reply {
        self.shared.lock().app.render_reject(reject, out)
    }

    fn repair(&self, dead: i32) {
        let Some(mut store) = self.shared.take_over(dead) else {
            return;
        };
        say(&[b"a worker died holding the app store's lock; rebuilding the store"]);
        if let Some(fd) = self.journal {
            if store.rebuild(fd).is_err() {
                say(&[b"journal replay failed while repairing the store; refusing changes"]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedrock_hotel::Hotels;
    use std::os::fd::AsRawFd;

    fn put(id: u64, name: &str, city: &str) -> Vec<u8> {
        let mut r = vec![1];
        r.extend(id.to_le_bytes());
        for f in [name, city] {
            r.push(f.len() as u8);
            r.extend(f.as_bytes());
        }
        r
    }

    fn names(j: &Journaled<Hotels>) -> Vec<(u64, String)> {
        j.app
            .store()
            .iter()
            .map(|(id, h)| (id, h.name.as_str().into()))
            .collect()
    }

    #[test]
    fn rebuild_undoes_unrecorded_changes() {
        let path = crate::test_util::temp_dir("rebuild").join("app.journal");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .unwrap();
        let fd = f.as_raw_fd();
        let shared = Shared::create(|| Journaled {
            app: Hotels::new(),
            broken: false,
        })
        .unwrap();
        let mut j = shared.lock();
        let recorded = put(1, "Rec", "orded");
        assert!(j.app.replay(&recorded));
        journal::append(fd, &recorded).unwrap();
        assert!(j.app.replay(&put(2, "Not", "recorded")));
        j.rebuild(fd).unwrap();
        assert_eq!(names(&j), [(1, "Rec".into())]);
        assert!(!j.broken);
        // A journal that cannot be read marks the store broken.
        assert!(j.rebuild(-1).is_err());
        assert!(j.broken);
    }

    #[test]
    fn mount_points_cover_their_subtree_only() {
        let mount: &'static [&'static str] = &["/api", "/hotels"];
        let hosted = Hosted::<Hotels> {
            shared: Shared::create(|| Journaled {
                app: Hotels::new(),
                broken: false,
            })
            .unwrap(),
            mount,
            journal: None,
        };
        for owned in ["/api", "/api/", "/api/hotels/1", "/hotels"] {
            assert!(hosted.owns(owned), "{owned}");
        }
        for file in ["/", "/apix", "/hotels.html", "/index.html", "/ap"] {
            assert!(!hosted.owns(file), "{file}");
        }
    }
}
