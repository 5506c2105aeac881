#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hisaab_fuzz::apply_target(data));
