//! The welcome page at `/`.

/// What `GET /` answers: where to go next, readable in a terminal.
pub const WELCOME: &[u8] = b"Welcome to bedrock: the Hotel API.\n\
\n\
  GET    /api/hotels          list every hotel (JSON)\n\
  POST   /api/hotels          create one: body \"name,city\", a form, or JSON\n\
  GET    /api/hotels/{id}     one hotel\n\
  PUT    /api/hotels/{id}     replace its name and city\n\
  DELETE /api/hotels/{id}     delete it\n\
\n\
Try: curl -X POST -d \"Hilton,Toronto\" localhost:8888/api/hotels\n";
