//! bedrock store (placeholder).
#![no_std]
#![forbid(unsafe_code)]
