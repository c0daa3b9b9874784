//! No text may panic its parser (see warung::inputs::chat_command).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        warung::inputs::chat_command(text);
    }
});
