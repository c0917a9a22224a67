//! The routes of the Hotel API and how the app answers them.

use bedrock_json::{ArrayCursor, JsonWriter, SliceSink};
use bedrock_store::{Store, StoreError};
use bedrock_web::{route, ChangeLog, Ctx, Outcome, Persist, Reject, Reply, Route, Service, Stream};

use crate::body::parse_hotel;
use crate::change::{self, MAX_CHANGE_BYTES};
use crate::limits::{CAPACITY, CHANGE_LOG_BYTES};
use crate::page::{index_reply, page_reply};
use crate::record::Hotel;

const JSON: &str = "application/json";

/// The stream kind of `GET /api/hotels`. Its phase lives in the cursor's
/// top bits, the next id to send in the rest.
pub const LIST_STREAM: u32 = 1;

/// The app's state: every hotel, and the changes requests made that the
/// host has not taken yet (see [`Persist`]).
pub struct Hotels {
    store: Store<Hotel, CAPACITY>,
    changes: ChangeLog<CHANGE_LOG_BYTES>,
}

impl Default for Hotels {
    fn default() -> Self {
        Self::new()
    }
}

impl Hotels {
    /// No hotels. `const`, so the app can live in a `static`.
    pub const fn new() -> Self {
        Hotels {
            store: Store::new(),
            changes: ChangeLog::new(),
        }
    }

    /// The records, for servers and tests that inspect them.
    pub fn store(&self) -> &Store<Hotel, CAPACITY> {
        &self.store
    }

    /// Refuses a change before it is made when its record could not be
    /// kept (the host takes the records after every request, so this
    /// only happens if it does not).
    fn room_for_a_change(&self) -> Result<(), Reject> {
        if self.changes.has_room(MAX_CHANGE_BYTES) {
            Ok(())
        } else {
            Err(Reject::new(503, "changes are waiting to be recorded"))
        }
    }

    /// Records "hotel `id` is now `hotel`" (after a create or an update).
    fn record_put(&mut self, id: u64, hotel: &Hotel) {
        let mut buf = [0u8; MAX_CHANGE_BYTES];
        let n = change::put(id, hotel, &mut buf);
        // Room was checked before the change (`room_for_a_change`).
        let _ = self.changes.record(&[&buf[..n]]);
    }

    /// Writes one record as the body of a reply.
    fn record_reply(status: u16, id: u64, hotel: &Hotel, out: &mut [u8]) -> Outcome {
        let mut w = JsonWriter::new(SliceSink::new(out));
        hotel
            .write_json(id, &mut w)
            .map_err(|_| Reject::new(500, "reply buffer too small"))?;
        Ok(Reply::out(status, JSON, w.sink().as_bytes().len()))
    }

    /// Writes the next piece of the list into `out`. Precondition: `out`
    /// holds at least [`crate::MIN_STREAM_BUFFER`] bytes, so one record
    /// always fits and every piece makes progress.
    fn list_piece(&self, stream: &mut Stream, out: &mut [u8]) -> usize {
        let mut cursor = ArrayCursor(stream.cursor);
        let items = self.store.iter_from(cursor.next_key());
        let n = cursor.piece(out, items, |w, id, hotel| hotel.write_json(id, w));
        stream.cursor = cursor.0;
        n
    }
}

route! {
    /// `GET /`: the web page for browsers, the welcome text for terminals,
    /// chosen by `Accept` (see [`crate::wants_html`]).
    GET "/" as INDEX;
    fn index(_app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        Ok(index_reply(cx.header("accept")))
    }
}

route! {
    /// `GET /hotels`: the web page, whatever the client accepts.
    GET "/hotels" as HOTEL_PAGE;
    fn page(_app: &mut Hotels, _cx: &mut Ctx<'_>) -> Outcome {
        Ok(page_reply())
    }
}

route! {
    /// `GET /api/hotels`: every hotel, in id order, streamed.
    GET "/api/hotels" as LIST;
    fn list(_app: &mut Hotels, _cx: &mut Ctx<'_>) -> Outcome {
        let stream = Stream::new(LIST_STREAM, 0);
        Ok(Reply::stream(200, JSON, stream))
    }
}

route! {
    /// `POST /api/hotels`: creates a hotel; 201 with the record and its
    /// `Location`.
    POST "/api/hotels" as CREATE;
    fn create(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let hotel = parse_hotel(cx.content_type(), cx.body)?;
        app.room_for_a_change()?;
        let id = app.store.insert(hotel).map_err(store_reject)?;
        app.record_put(id, &hotel);
        let mut location = [0u8; 40];
        let prefix = b"/api/hotels/";
        location[..prefix.len()].copy_from_slice(prefix);
        let digits = bedrock_http::write_decimal(id, &mut location[prefix.len()..])
            .map_err(|_| Reject::new(500, "location too long"))?;
        let reply = Hotels::record_reply(201, id, &hotel, cx.out)?;
        Ok(reply.header("Location", &location[..prefix.len() + digits]))
    }
}

route! {
    /// `GET /api/hotels/{id}`: one hotel.
    GET "/api/hotels/{id}" as SHOW;
    fn show(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let hotel = app.store.get(id).ok_or(NOT_FOUND)?;
        Hotels::record_reply(200, id, hotel, cx.out)
    }
}

route! {
    /// `PUT /api/hotels/{id}`: replaces name and city; 200 with the record.
    PUT "/api/hotels/{id}" as UPDATE;
    fn update(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        if app.store.get(id).is_none() {
            return Err(NOT_FOUND);
        }
        let hotel = parse_hotel(cx.content_type(), cx.body)?;
        app.room_for_a_change()?;
        app.store.replace(id, hotel).map_err(store_reject)?;
        app.record_put(id, &hotel);
        Hotels::record_reply(200, id, &hotel, cx.out)
    }
}

route! {
    /// `DELETE /api/hotels/{id}`: 204, or 404 when there is no such hotel.
    DELETE "/api/hotels/{id}" as DELETE;
    fn delete(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        app.room_for_a_change()?;
        app.store.remove(id).ok_or(NOT_FOUND)?;
        let _ = app.changes.record(&[&change::delete(id)]);
        Ok(Reply::no_content())
    }
}

const NOT_FOUND: Reject = Reject::new(404, "no hotel with this id");

fn store_reject(e: StoreError) -> Reject {
    match e {
        StoreError::Full | StoreError::IdsExhausted => Reject::new(507, "the hotel store is full"),
        StoreError::NotFound => NOT_FOUND,
    }
}

impl Service for Hotels {
    const ROUTES: &'static [Route<Self>] = &[INDEX, HOTEL_PAGE, LIST, CREATE, SHOW, UPDATE, DELETE];
    const MAX_BODY: usize = crate::limits::MAX_BODY_BYTES;
    const MIN_STREAM_BUFFER: usize = crate::limits::MIN_STREAM_BUFFER;

    /// Errors are JSON: `{"error":"...","status":404}`.
    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        let mut w = JsonWriter::new(SliceSink::new(out));
        let written = w
            .begin_object()
            .and_then(|()| w.field_str("error", reject.message))
            .and_then(|()| w.field_u64("status", u64::from(reject.status)))
            .and_then(|()| w.end_object());
        match written {
            Ok(()) => Reply::out(reject.status, JSON, w.sink().as_bytes().len()),
            Err(_) => Reply::new(reject.status),
        }
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        match stream.kind {
            LIST_STREAM => self.list_piece(stream, out),
            _ => 0,
        }
    }
}

/// Each create, update and delete is one record (`change`); replay
/// rebuilds the store with the same ids.
impl Persist for Hotels {
    const MAX_CHANGE: usize = MAX_CHANGE_BYTES;

    fn drain_changes(&mut self, sink: &mut dyn FnMut(&[u8])) {
        self.changes.drain(sink);
    }

    fn replay(&mut self, record: &[u8]) -> bool {
        change::apply(record, &mut self.store)
    }

    fn clear(&mut self) {
        self.store.clear();
        self.changes.clear();
    }

    /// Every hotel as a put, then the next id.
    fn snapshot(&self, sink: &mut dyn FnMut(&[u8])) {
        let mut buf = [0u8; MAX_CHANGE_BYTES];
        for (id, hotel) in self.store.iter() {
            let n = change::put(id, hotel, &mut buf);
            sink(&buf[..n]);
        }
        sink(&change::next_id(self.store.next_id()));
    }
}
