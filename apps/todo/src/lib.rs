//! A Todo-Backend (<https://todobackend.com>) written on bedrock the way a
//! user would: routes, JSON bodies, a streamed list, CORS for every reply,
//! and persistence through explicit change records. Its API root is
//! `/todos`; every item's `url` is absolute, built from the request's
//! `Host`. It does no I/O: both servers run it (`make run APP=todo`,
//! `make serve APP=todo`).
#![no_std]
#![forbid(unsafe_code)]

mod body;
mod change;

use bedrock_json::{ArrayCursor, JsonError, JsonWriter, SliceSink};
use bedrock_store::{Store, Text};
use bedrock_web::{route, ChangeLog, Ctx, Method, Outcome, Persist, Reject, Reply, Request};
use bedrock_web::{Route, Service, Stream};

use body::Patch;

/// Todos kept at most (507 past it).
pub const CAPACITY: usize = 1000;
/// Longest title, in bytes.
pub const MAX_TITLE: usize = 200;
/// Largest request body.
pub const MAX_BODY: usize = 1024;
const JSON: &str = "application/json";
const LIST: u32 = 1;
const NOT_FOUND: Reject = Reject::new(404, "no todo with this id");
const BAD_HOST: Reject = Reject::new(400, "a Host this app cannot put in a URL");

/// One todo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Todo {
    /// What to do, 1 to [`MAX_TITLE`] bytes.
    pub title: Text<MAX_TITLE>,
    /// Whether it is done.
    pub completed: bool,
    /// Where the client wants it in its list.
    pub order: Option<i64>,
}

/// The app: every todo, and the changes the host has not taken yet.
pub struct Todos {
    store: Store<Todo, CAPACITY>,
    changes: ChangeLog<{ 4 * (2 + change::MAX_CHANGE) }>,
}

impl Todos {
    /// No todos. `const`, so the app can live in a `static`.
    pub const fn new() -> Self {
        Todos {
            store: Store::new(),
            changes: ChangeLog::new(),
        }
    }

    /// Applies `change` and records it; 503 before anything changes if
    /// its record could not be kept.
    fn commit(&mut self, change: change::Change) -> Result<(), Reject> {
        if !self.changes.has_room(change::MAX_CHANGE) {
            return Err(Reject::new(503, "changes are waiting to be recorded"));
        }
        change
            .apply(&mut self.store)
            .map_err(|_| Reject::new(507, "the todo list is full"))?;
        let mut buf = [0u8; change::MAX_CHANGE];
        let n = change.encode(&mut buf);
        self.changes
            .record(&[&buf[..n]])
            .map_err(|_| Reject::new(503, "change log full"))
    }
}

impl Default for Todos {
    fn default() -> Self {
        Self::new()
    }
}

/// A list stream noting the `Host`, the base of every `url`: it must be
/// plain visible ASCII (it goes into JSON unescaped) and fit the note.
fn base(cx: &Ctx<'_>) -> Result<Stream, Reject> {
    let host = cx.header("host").unwrap_or(b"localhost");
    let plain = |b: &u8| b.is_ascii_graphic() && *b != b'"' && *b != b'\\';
    let stream = Stream::new(LIST, 0).with_note(host);
    stream
        .filter(|_| !host.is_empty() && host.iter().all(plain))
        .ok_or(BAD_HOST)
}

/// Opens an object and writes a todo's fields; `order` is `null` when
/// unset.
fn write_fields(w: &mut JsonWriter<SliceSink<'_>>, t: &Todo) -> Result<(), JsonError> {
    w.begin_object()?;
    w.field_str("title", t.title.as_str())?;
    w.field_bool("completed", t.completed)?;
    match t.order {
        Some(order) => w.field_i64("order", order),
        None => w.field_null("order"),
    }
}

/// Writes `{"title":..,"completed":..,"order":..,"url":"http://HOST/todos/ID"}`.
fn write_todo(
    w: &mut JsonWriter<SliceSink<'_>>,
    host: &[u8],
    id: u64,
    t: &Todo,
) -> Result<(), JsonError> {
    let mut url = [0u8; 7 + bedrock_web::STREAM_NOTE_BYTES + 7 + 20];
    let at = 7 + host.len() + 7;
    url[..7].copy_from_slice(b"http://");
    url[7..at - 7].copy_from_slice(host);
    url[at - 7..at].copy_from_slice(b"/todos/");
    let digits = bedrock_http::write_decimal(id, &mut url[at..]).map_err(|_| JsonError::Full)?;
    write_fields(w, t)?;
    w.field_str(
        "url",
        core::str::from_utf8(&url[..at + digits]).unwrap_or(""),
    )?;
    w.end_object()
}

/// One todo as a reply body.
fn todo_reply(cx: &mut Ctx<'_>, status: u16, id: u64, todo: &Todo) -> Outcome {
    let base = base(cx)?;
    let mut w = JsonWriter::new(SliceSink::new(cx.out));
    write_todo(&mut w, base.note.as_bytes(), id, todo)
        .map_err(|_| Reject::new(500, "reply too large"))?;
    Ok(Reply::out(status, JSON, w.sink().as_bytes().len()))
}

route! {
    /// `GET /todos`: every todo, in creation order, streamed.
    GET "/todos" as LIST_ALL;
    fn list(_app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::stream(200, JSON, base(cx)?))
    }
}

route! {
    /// `POST /todos`: a new todo (`title` required); 201 with it.
    POST "/todos" as CREATE;
    fn create(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let p = Patch::parse(cx.body)?;
        let title = p.title.ok_or(Reject::new(422, "a todo needs a title"))?;
        let todo = Todo { title, completed: p.completed.unwrap_or(false), order: p.order.flatten() };
        let id = app.store.next_id();
        app.commit(change::Change::Put(id, todo))?;
        todo_reply(cx, 201, id, &todo)
    }
}

route! {
    /// `DELETE /todos`: every todo goes; 204.
    DELETE "/todos" as CLEAR;
    fn clear(app: &mut Todos, _cx: &mut Ctx<'_>) -> Outcome {
        app.commit(change::Change::Clear)?;
        Ok(Reply::no_content())
    }
}

route! {
    /// `GET /todos/{id}`: one todo.
    GET "/todos/{id}" as SHOW;
    fn show(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let todo = *app.store.get(id).ok_or(NOT_FOUND)?;
        todo_reply(cx, 200, id, &todo)
    }
}

route! {
    /// `PATCH /todos/{id}`: changes the fields given; 200 with the todo.
    PATCH "/todos/{id}" as UPDATE;
    fn update(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let mut todo = *app.store.get(id).ok_or(NOT_FOUND)?;
        let p = Patch::parse(cx.body)?;
        todo.title = p.title.unwrap_or(todo.title);
        todo.completed = p.completed.unwrap_or(todo.completed);
        todo.order = p.order.unwrap_or(todo.order);
        app.commit(change::Change::Put(id, todo))?;
        todo_reply(cx, 200, id, &todo)
    }
}

route! {
    /// `DELETE /todos/{id}`: 204, or 404.
    DELETE "/todos/{id}" as DELETE;
    fn delete(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        app.store.get(id).ok_or(NOT_FOUND)?;
        app.commit(change::Change::Delete(id))?;
        Ok(Reply::no_content())
    }
}

route! {
    /// `GET /todo` (and `/` on the unikernel): the app's web page.
    GET "/todo" as PAGE;
    fn page(_app: &mut Todos, _cx: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::fixed(200, "text/html; charset=utf-8", include_bytes!("page.html")))
    }
}

route! {
    GET "/" as INDEX;
    fn index(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        page(app, cx)
    }
}

impl Service for Todos {
    const ROUTES: &'static [Route<Self>] =
        &[LIST_ALL, CREATE, CLEAR, SHOW, UPDATE, DELETE, PAGE, INDEX];
    const MAX_BODY: usize = MAX_BODY;
    /// One todo, escaped at worst, its URL and the list's punctuation.
    const MIN_STREAM_BUFFER: usize = 64 + 6 * MAX_TITLE + bedrock_web::STREAM_NOTE_BYTES + 40;

    /// CORS (the Fetch standard's protocol): any origin may call the API,
    /// and a preflight learns the methods and headers it may use.
    fn finish(&mut self, request: &Request<'_, '_>, reply: Reply) -> Reply {
        let reply = reply.header("Access-Control-Allow-Origin", b"*");
        if request.method != Method::Options
            || request.header("access-control-request-method").is_none()
        {
            return reply;
        }
        reply
            .header(
                "Access-Control-Allow-Methods",
                b"GET, POST, PATCH, DELETE, OPTIONS",
            )
            .header("Access-Control-Allow-Headers", b"Content-Type, Accept")
            .header("Access-Control-Max-Age", b"600")
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        let mut cursor = ArrayCursor(stream.cursor);
        let (base, items) = (
            stream.note.as_bytes(),
            self.store.iter_from(cursor.next_key()),
        );
        let n = cursor.piece(out, items, |w, id, todo| write_todo(w, base, id, todo));
        stream.cursor = cursor.0;
        n
    }
}

/// Each create, update, delete and clear is one record (`change`).
impl Persist for Todos {
    const MAX_CHANGE: usize = change::MAX_CHANGE;

    fn drain_changes(&mut self, sink: &mut dyn FnMut(&[u8])) {
        self.changes.drain(sink);
    }

    fn replay(&mut self, record: &[u8]) -> bool {
        change::Change::decode(record).is_some_and(|c| c.apply(&mut self.store).is_ok())
    }

    fn clear(&mut self) {
        self.store.clear();
        self.changes.clear();
    }

    fn snapshot(&self, sink: &mut dyn FnMut(&[u8])) {
        let mut buf = [0u8; change::MAX_CHANGE];
        for (id, todo) in self.store.iter() {
            let n = change::Change::Put(id, *todo).encode(&mut buf);
            sink(&buf[..n]);
        }
        let n = change::Change::NextId(self.store.next_id()).encode(&mut buf);
        sink(&buf[..n]);
    }
}
