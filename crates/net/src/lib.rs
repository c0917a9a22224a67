//! bedrock's network stack (placeholder: being written for issue 4).
#![no_std]
#![forbid(unsafe_code)]

pub mod device;
pub mod time;
