#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hisaab_fuzz::snapshot_target(data));
