#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hisaab_fuzz::checkpoint_target(data));
