#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pymcp_core::fuzz::glob(data));
