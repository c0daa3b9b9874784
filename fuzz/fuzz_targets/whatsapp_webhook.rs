//! No body reaching the handler may panic it (see warung::inputs::whatsapp_webhook).
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    warung::inputs::whatsapp_webhook(body);
});
