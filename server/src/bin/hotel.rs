//! The Hotel app on bedrock-serve (`make serve`): its API at `/api` and
//! its page at `/hotels`, files everywhere else, hotels kept in
//! `--data DIR/hotels.journal`.
#![no_std]
#![no_main]

use bedrock_hotel::Hotels;
use bedrock_serve::AppSpec;

bedrock_serve::app!(AppSpec {
    mount: &["/api", "/hotels"],
    journal: "hotels.journal",
    new: Hotels::new,
});
