//! Every request at the edge: its id (`request_id`), a span carrying it, one log line when it
//! completes (method, matched route, status, latency, request id), and its count and latency by
//! route for `/metrics`. The route is the router's pattern (`/admin/api/customers/{id}`), never
//! the path: paths carry phone numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use dashmap::DashMap;
use tracing::Instrument as _;

use super::request_id;

/// Upper bounds, in seconds, of the request latency histogram.
pub const LATENCY_BOUNDS_SECS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A request that matched no route is counted under this name, whatever its path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Requests by route, method and status, and their latency by route and method. Label sets stay
/// bounded: routes are the application's patterns (or `unmatched`), methods the standard ones
/// (or `other`), statuses the few codes the application answers.
#[derive(Default)]
pub struct HttpCounters {
    requests: DashMap<(String, &'static str, u16), AtomicU64>,
    latency: DashMap<(String, &'static str), Latency>,
}

#[derive(Default)]
struct Latency {
    /// Requests at or under each bound (not cumulative; the exposition adds them up).
    buckets: [AtomicU64; LATENCY_BOUNDS_SECS.len() + 1],
    sum_micros: AtomicU64,
}

/// One route's figures, read for the exposition.
pub struct RouteLatency {
    pub route: String,
    pub method: &'static str,
    /// Cumulative counts at each of `LATENCY_BOUNDS_SECS`, then the total.
    pub cumulative: Vec<u64>,
    pub sum_secs: f64,
}

impl HttpCounters {
    fn record(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let count = |key| self.requests.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
        count((route.to_string(), method, status));
        let latency = self.latency.entry((route.to_string(), method)).or_default();
        let bucket =
            LATENCY_BOUNDS_SECS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BOUNDS_SECS.len());
        latency.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        latency.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// `(route, method, status, requests)`, sorted.
    pub fn requests(&self) -> Vec<(String, &'static str, u16, u64)> {
        let mut all: Vec<_> = self
            .requests
            .iter()
            .map(|entry| {
                let (route, method, status) = entry.key();
                (route.clone(), *method, *status, entry.value().load(Ordering::Relaxed))
            })
            .collect();
        all.sort();
        all
    }

    pub fn latencies(&self) -> Vec<RouteLatency> {
        let mut all: Vec<RouteLatency> = self
            .latency
            .iter()
            .map(|entry| {
                let (route, method) = entry.key();
                let mut total = 0;
                let cumulative = entry
                    .value()
                    .buckets
                    .iter()
                    .map(|bucket| {
                        total += bucket.load(Ordering::Relaxed);
                        total
                    })
                    .collect();
                let sum_secs = entry.value().sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
                RouteLatency { route: route.clone(), method, cumulative, sum_secs }
            })
            .collect();
        all.sort_by(|a, b| (&a.route, a.method).cmp(&(&b.route, b.method)));
        all
    }
}

/// The standard methods by name; any other is `other`, so a client cannot invent label values.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The middleware: runs the request inside its span, then logs and counts it.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id::of(&request);
    let route = request.match_pattern().unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    let method = method_label(request.method());
    let counters = request.app_data::<web::Data<HttpCounters>>().cloned();
    let span = tracing::info_span!("http", request_id = %id, method, route = %route);
    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let seconds = started.elapsed().as_secs_f64();
    span.in_scope(|| {
        tracing::info!(
            method,
            route = %route,
            status = status.as_u16(),
            latency_ms = (seconds * 1e3 * 10.0).round() / 10.0,
            request_id = %id,
            "request"
        )
    });
    if let Some(counters) = counters {
        counters.record(&route, method, status.as_u16(), seconds);
    }
    let mut response = outcome?;
    let (name, value) = request_id::header(&id);
    response.headers_mut().insert(name, value);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_their_bucket_and_add_up() {
        let counters = HttpCounters::default();
        counters.record("/health", "GET", 200, 0.0004);
        counters.record("/health", "GET", 200, 0.02);
        counters.record("/health", "GET", 503, 30.0);
        assert_eq!(
            counters.requests(),
            vec![("/health".to_string(), "GET", 200, 2), ("/health".to_string(), "GET", 503, 1)]
        );
        let latency = &counters.latencies()[0];
        assert_eq!(latency.cumulative[0], 1, "0.4 ms is under 1 ms");
        assert_eq!(latency.cumulative[4], 2, "20 ms is under 25 ms");
        assert_eq!(latency.cumulative[LATENCY_BOUNDS_SECS.len() - 1], 2, "30 s is past the last bound");
        assert_eq!(*latency.cumulative.last().unwrap(), 3);
        assert!((latency.sum_secs - 30.0204).abs() < 1e-3);
    }

    #[test]
    fn only_standard_methods_become_labels() {
        assert_eq!(method_label(&actix_web::http::Method::GET), "GET");
        let invented = actix_web::http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
    }
}
