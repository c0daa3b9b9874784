//! No body reaching the handler may panic it (see warung::inputs::midtrans_notification).
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    warung::inputs::midtrans_notification(body);
});
