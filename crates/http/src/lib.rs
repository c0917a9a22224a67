//! bedrock http (placeholder).
#![no_std]
#![forbid(unsafe_code)]
