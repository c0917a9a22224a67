//! The Hotel app on bedrock-serve (`make serve`): its API at `/api` and
//! its page at `/hotels`, files everywhere else, hotels kept in
//! `--data DIR/hotels.journal`.
#![no_std]
#![no_main]

use bedrock_hotel::Hotels;

bedrock_serve::app!(Hotels::new, mount: &["/api", "/hotels"], journal: "hotels.journal");
