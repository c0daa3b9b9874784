//! No text may panic its parser (see warung::inputs::admin_fields).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        warung::inputs::admin_fields(text);
    }
});
