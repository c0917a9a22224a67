//! The routes of the Hotel API and how the app answers them.

use bedrock_store::Store;
use bedrock_web::{route, Ctx, Outcome, Records, Reject, Reply, Route, Service};
use bedrock_web::{Stream, JSON};

use crate::body::parse_hotel;
use crate::limits::{CAPACITY, CHANGE_LOG_BYTES};
use crate::page::{index_reply, page_reply};
use crate::record::Hotel;

/// The stream kind of `GET /api/hotels`. Its phase lives in the cursor's
/// top bits, the next id to send in the rest.
pub const LIST_STREAM: u32 = 1;

/// The app's state: every hotel, and the changes requests made that the
/// host has not taken yet (see `bedrock_web::Persist`).
pub struct Hotels {
    hotels: HotelRecords,
}

type HotelRecords = Records<Hotel, CAPACITY, CHANGE_LOG_BYTES>;

impl Default for Hotels {
    fn default() -> Self {
        Self::new()
    }
}

impl Hotels {
    /// No hotels. `const`, so the app can live in a `static`.
    pub const fn new() -> Self {
        Hotels {
            hotels: Records::new(),
        }
    }

    /// The records, for servers and tests that inspect them.
    pub fn store(&self) -> &Store<Hotel, CAPACITY> {
        self.hotels.store()
    }
}

/// One record as the body of a reply.
fn record_reply(status: u16, id: u64, hotel: &Hotel, out: &mut [u8]) -> Outcome {
    Reply::json(status, out, |w| hotel.write_json(id, w))
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
        Ok(Reply::stream(200, JSON, Stream::new(LIST_STREAM, 0)))
    }
}

route! {
    /// `POST /api/hotels`: creates a hotel; 201 with the record and its
    /// `Location`.
    POST "/api/hotels" as CREATE;
    fn create(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let hotel = parse_hotel(cx.content_type(), cx.body)?;
        let id = app.hotels.create(hotel)?;
        let mut location = [0u8; 40];
        let prefix = b"/api/hotels/";
        location[..prefix.len()].copy_from_slice(prefix);
        let digits = bedrock_http::write_decimal(id, &mut location[prefix.len()..])
            .map_err(|_| Reject::new(500, "location too long"))?;
        let reply = record_reply(201, id, &hotel, cx.out)?;
        Ok(reply.header("Location", &location[..prefix.len() + digits]))
    }
}

route! {
    /// `GET /api/hotels/{id}`: one hotel.
    GET "/api/hotels/{id}" as SHOW;
    fn show(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        let hotel = app.hotels.get(id)?;
        record_reply(200, id, &hotel, cx.out)
    }
}

route! {
    /// `PUT /api/hotels/{id}`: replaces name and city; 200 with the record.
    PUT "/api/hotels/{id}" as UPDATE;
    fn update(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        let id: u64 = cx.param("id")?;
        app.hotels.get(id)?;
        let hotel = parse_hotel(cx.content_type(), cx.body)?;
        app.hotels.update(id, hotel)?;
        record_reply(200, id, &hotel, cx.out)
    }
}

route! {
    /// `DELETE /api/hotels/{id}`: 204, or 404 when there is no such hotel.
    DELETE "/api/hotels/{id}" as DELETE;
    fn delete(app: &mut Hotels, cx: &mut Ctx<'_>) -> Outcome {
        app.hotels.delete(cx.param("id")?)?;
        Ok(Reply::no_content())
    }
}

impl Service for Hotels {
    const ROUTES: &'static [Route<Self>] = &[INDEX, HOTEL_PAGE, LIST, CREATE, SHOW, UPDATE, DELETE];
    const MAX_BODY: usize = crate::limits::MAX_BODY_BYTES;
    const MIN_STREAM_BUFFER: usize = crate::limits::MIN_STREAM_BUFFER;

    /// Errors are JSON: `{"error":"...","status":404}`.
    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        reject.json_reply(out)
    }

    /// `out` holds at least [`crate::MIN_STREAM_BUFFER`] bytes, so one
    /// record always fits and every piece makes progress.
    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        match stream.kind {
            LIST_STREAM => self
                .hotels
                .json_piece(stream, out, |w, id, hotel| hotel.write_json(id, w)),
            _ => 0,
        }
    }
}

// Each create, update and delete is one change record (`Records`, a hotel
// as in `change`); replay rebuilds the store with the same ids.
bedrock_web::persist_records!(Hotels, hotels: HotelRecords);
