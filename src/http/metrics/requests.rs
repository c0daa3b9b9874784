//! HTTP requests by route (the router's pattern), method and status, and their latency.

use super::Exposition;
use crate::http::access::LATENCY_BOUNDS_SECS;
use crate::http::HttpCounters;

pub(super) fn families(out: &mut Exposition, counters: &HttpCounters) {
    out.family("warung_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
    for (route, method, status, count) in counters.requests() {
        let status = status.to_string();
        out.sample("warung_http_requests_total", &[("route", &route), ("method", method), ("status", &status)], count);
    }
    out.family(
        "warung_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route and method.",
    );
    for latency in counters.latencies() {
        let route = latency.route.as_str();
        for (bound, count) in LATENCY_BOUNDS_SECS.iter().zip(&latency.cumulative) {
            let le = bound.to_string();
            let labels = [("route", route), ("method", latency.method), ("le", le.as_str())];
            out.sample("warung_http_request_duration_seconds_bucket", &labels, count);
        }
        let total = *latency.cumulative.last().expect("the total is last");
        let labels = [("route", route), ("method", latency.method), ("le", "+Inf")];
        out.sample("warung_http_request_duration_seconds_bucket", &labels, total);
        let plain = [("route", latency.route.as_str()), ("method", latency.method)];
        out.sample("warung_http_request_duration_seconds_sum", &plain, latency.sum_secs);
        out.sample("warung_http_request_duration_seconds_count", &plain, total);
    }
}
