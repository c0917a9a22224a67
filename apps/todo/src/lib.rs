//! A Todo-Backend (<https://todobackend.com>) written on bedrock the way a
//! user would: routes, JSON bodies, a streamed list, CORS for every reply,
//! and its todos kept in `bedrock_web::Records`, which records each change
//! for the host to journal. Its API root is `/todos`; every item's `url`
//! is absolute, built from the request's `Host`. It does no I/O: both
//! servers run it (`make run APP=todo`, `make serve APP=todo`).
#![no_std]
#![forbid(unsafe_code)]

use bedrock_json::{JsonError, JsonWriter, SliceSink};
use bedrock_store::Text;
use bedrock_web::{allow_any_origin, log_bytes, route, Ctx, JsonBody, Outcome, Record};
use bedrock_web::{Records, Reject, Reply, Request, Route, Service, Stream, Url, JSON};

/// Todos kept at most (507 past it).
pub const CAPACITY: usize = 1000;
/// Longest title, in bytes.
pub const MAX_TITLE: usize = 200;
/// Largest request body.
pub const MAX_BODY: usize = 1024;
const LIST: u32 = 1;

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

impl Todo {
    /// What a create starts from: no title yet.
    const UNTITLED: Todo = Todo {
        title: Text::empty(),
        completed: false,
        order: None,
    };

    /// This todo with the fields a JSON `body` sets; others are ignored.
    fn patched(mut self, body: &[u8]) -> Result<Todo, Reject> {
        let body = JsonBody::parse(body)?;
        let title = "title must be a string of 1 to 200 bytes, without control characters";
        if let Some(title) = body.get("title", title)? {
            self.title = title;
        }
        if let Some(completed) = body.get("completed", "completed must be true or false")? {
            self.completed = completed;
        }
        if let Some(order) = body.get("order", "order must be an integer or null")? {
            self.order = order;
        }
        Ok(self)
    }

    /// Writes `{"title":..,"completed":..,"order":..}`, with the `url` of
    /// todo `id` on `host` when given one.
    fn write(
        &self,
        w: &mut JsonWriter<SliceSink<'_>>,
        url: Option<(&[u8], u64)>,
    ) -> Result<(), JsonError> {
        w.begin_object()?;
        w.field_str("title", self.title.as_str())?;
        w.field_bool("completed", self.completed)?;
        match self.order {
            Some(order) => w.field_i64("order", order)?,
            None => w.field_null("order")?,
        }
        if let Some((host, id)) = url {
            let url = Url::new(host, "/todos/", id).ok_or(JsonError::Full)?;
            w.field_str("url", url.as_str())?;
        }
        w.end_object()
    }
}

/// A todo in a change record (what the host journals) is its JSON.
impl Record for Todo {
    /// Its fields, the title all escapes.
    const MAX_BYTES: usize = 64 + 6 * MAX_TITLE;
    const NOT_FOUND: Reject = Reject::new(404, "no todo with this id");
    const FULL: Reject = Reject::new(507, "the todo list is full");

    fn encode(&self, out: &mut [u8]) -> usize {
        let mut w = JsonWriter::new(SliceSink::new(out));
        // MAX_BYTES holds the longest todo.
        let _ = self.write(&mut w, None);
        w.sink().as_bytes().len()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let todo = Todo::UNTITLED.patched(bytes).ok()?;
        (!todo.title.as_str().is_empty()).then_some(todo)
    }
}

/// Every todo, and room for the change records of four requests.
type List = Records<Todo, CAPACITY, { log_bytes::<Todo>(4) }>;

/// The app: its todos.
pub struct Todos {
    todos: List,
}

impl Todos {
    /// No todos. `const`, so the app can live in a `static`.
    pub const fn new() -> Self {
        Todos {
            todos: Records::new(),
        }
    }
}

impl Default for Todos {
    fn default() -> Self {
        Self::new()
    }
}

/// One todo as a reply body.
fn todo_reply(cx: &mut Ctx<'_>, status: u16, id: u64, todo: &Todo) -> Outcome {
    let host = cx.host()?;
    Reply::json(status, cx.out, |w| todo.write(w, Some((host, id))))
}

route! {
    /// `GET /todos`: every todo, in creation order, streamed.
    GET "/todos" as LIST_ALL;
    fn list(_app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::stream(200, JSON, Stream::new(LIST, 0).with_host(cx)?))
    }
}

route! {
    /// `POST /todos`: a new todo (`title` required); 201 with it.
    POST "/todos" as CREATE;
    fn create(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let todo = Todo::UNTITLED.patched(cx.body)?;
        if todo.title.as_str().is_empty() {
            return Err(Reject::new(422, "a todo needs a title"));
        }
        let id = app.todos.create(todo)?;
        todo_reply(cx, 201, id, &todo)
    }
}

route! {
    /// `DELETE /todos`: every todo goes; 204.
    DELETE "/todos" as CLEAR;
    fn clear(app: &mut Todos, _cx: &mut Ctx<'_>) -> Outcome {
        app.todos.delete_all()?;
        Ok(Reply::no_content())
    }
}

route! {
    /// `GET /todos/{id}`: one todo.
    GET "/todos/{id}" as SHOW;
    fn show(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let todo = app.todos.get(id)?;
        todo_reply(cx, 200, id, &todo)
    }
}

route! {
    /// `PATCH /todos/{id}`: changes the fields given; 200 with the todo.
    PATCH "/todos/{id}" as UPDATE;
    fn update(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let todo = app.todos.get(id)?.patched(cx.body)?;
        app.todos.update(id, todo)?;
        todo_reply(cx, 200, id, &todo)
    }
}

route! {
    /// `DELETE /todos/{id}`: 204, or 404.
    DELETE "/todos/{id}" as DELETE;
    fn delete(app: &mut Todos, cx: &mut Ctx<'_>) -> Outcome {
        app.todos.delete(cx.param("id")?)?;
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

    /// CORS: any page may call the API, and a preflight learns the
    /// methods and headers it may use.
    fn finish(&mut self, request: &Request<'_, '_>, reply: Reply) -> Reply {
        allow_any_origin(request, reply)
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        let host = stream.note;
        let url = |id| Some((host.as_bytes(), id));
        self.todos
            .json_piece(stream, out, |w, id, todo| todo.write(w, url(id)))
    }
}

// The host takes, replays and snapshots the todos' change records.
bedrock_web::persist_records!(Todos, todos: List);
