//! The Hotel app as a unikernel image (`make run`): its API at
//! `/api/hotels`, its page at `/hotels`, on port 80.
#![no_std]
#![no_main]

use bedrock_hotel::Hotels;

bedrock_kernel::app!(Hotels = Hotels::new());
