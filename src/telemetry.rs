//! Tracing, set up once: lines filtered by `RUST_LOG` (default `info`), human-readable or JSON
//! (`WARUNG_LOG__FORMAT=json`, one object per line for a log collector). Every HTTP request runs
//! in a span carrying its request id (`http::request_id`) and its route's pattern (never its path,
//! which may hold a phone number); a JSON line lists every span it is in, so a request's lines are
//! found together however deep the flow that wrote them.

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
    };
}
