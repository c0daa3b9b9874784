//! The HTTP surface. `health`: liveness and readiness; `admin`: the engine's admin API behind a
//! bearer token; `ops`: what the actors are doing; `metrics`: Prometheus; `webhooks`: what providers send us;
//! `simulator`: the stand-in providers and chat page when credentials are not set; `errors`: the
//! one mapping from domain errors to HTTP responses; `request_id`: every request's id; `access`:
//! every request's span, log line and counts.

mod access;
mod admin;
mod backlog;
mod cached;
mod errors;
mod health;
mod index;
mod metrics;
mod ops;
mod pages;
pub mod request_id;
mod simulator;
mod webhooks;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpServer};

pub use access::HttpCounters;

pub use errors::ApiError;

use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::settings::Secret;
use crate::simulator::Simulator;

/// How long requests in progress may take to finish after a stop, before they are cut.
const HTTP_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Where the HTTP surface is served. The public listener takes the webhooks, the admin API and
/// page, the simulator and `/health` and a cheap `/ready`. The ops listener, on an address only
/// operators reach, takes `/ops`, `/metrics` and the detail of `/ready`; without one, those are
/// served on the public listener behind the ops token (or not at all).
pub struct Listeners {
    pub public: TcpListener,
    pub ops: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(public: TcpListener) -> Listeners {
        Listeners { public, ops: None }
    }
}

impl Listeners {
    /// Binds what the settings name: the ops listener on an address of its own, unless it shares
    /// the public one.
    pub fn bind(settings: &crate::settings::HttpSettings) -> std::io::Result<Listeners> {
        let public = TcpListener::bind(&settings.bind)?;
        let ops = if settings.ops_shared() { None } else { Some(TcpListener::bind(&settings.ops_bind)?) };
        Ok(Listeners { public, ops })
    }
}

/// Who may see the ops routes: requests on the ops listener, or carrying the ops token.
#[derive(Clone)]
struct OpsAccess {
    listener: Option<SocketAddr>,
    token: Option<Secret>,
}

/// Set on a request that may see the ops routes (and the detail of `/ready`).
#[derive(Clone, Copy)]
pub(crate) struct OpsView;

/// Builds the HTTP server over the engine and its gateway (`startup` builds both).
pub fn server(
    engine: Engine,
    gateway: Gateway,
    listeners: impl Into<Listeners>,
) -> std::io::Result<actix_web::dev::Server> {
    let listeners = listeners.into();
    backlog::widen(&listeners.public)?;
    if let Some(ops) = &listeners.ops {
        backlog::widen(ops)?;
    }
    let body_limit = engine.settings.http.body_limit_bytes;
    let access = OpsAccess {
        listener: listeners.ops.as_ref().map(TcpListener::local_addr).transpose()?,
        token: engine.settings.http.ops_token.clone(),
    };
    let simulator = Simulator::for_gateway(&gateway).map(Arc::new);
    let reads = web::Data::new(StoreReads::new());
    let http_counters = web::Data::new(access::HttpCounters::default());
    let data = web::Data::new(engine);
    let gateway = web::Data::new(gateway);
    let access = web::Data::new(access);
    let server = HttpServer::new(move || {
        let mut app = App::new()
            .wrap(from_fn(listener_guard))
            .wrap(from_fn(access::observe))
            .app_data(data.clone())
            .app_data(gateway.clone())
            .app_data(access.clone())
            .app_data(reads.clone())
            .app_data(http_counters.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(errors::json_error))
            .app_data(web::PathConfig::default().error_handler(errors::path_error))
            .configure(health::routes)
            .service(index::index)
            .service(metrics::metrics)
            .service(ops::scope())
            .service(admin::openapi_document)
            .service(admin::page)
            .service(admin::scope())
            .service(webhooks::scope());
        if let Some(simulator) = &simulator {
            app = app.service(simulator::scope(simulator.clone()));
        }
        app.default_service(web::to(errors::not_found))
    });
    let server = match listeners.ops {
        Some(ops) => server.listen(listeners.public)?.listen(ops)?,
        None => server.listen(listeners.public)?,
    };
    Ok(server
        .shutdown_timeout(HTTP_SHUTDOWN_TIMEOUT_SECS)
        // The binary handles signals itself: actix-server would stop the whole actix System on a
        // signal, and with it the journal's thread before the final flush.
        .disable_signals()
        .run())
}

/// What `/ready` and `/metrics` read from the store, cached (see `cached`).
pub(crate) struct StoreReads {
    pub ready: cached::Cached<(bool, serde_json::Value)>,
    pub counts: cached::Cached<Result<crate::store::StoreCounts, String>>,
}

impl StoreReads {
    fn new() -> StoreReads {
        let ttl = Duration::from_millis(cached::STORE_READS_CACHED_MS);
        StoreReads { ready: cached::Cached::new(ttl), counts: cached::Cached::new(ttl) }
    }
}

/// Keeps the ops routes to those who may see them, and the ops listener to the ops routes: a
/// request anywhere else is answered as if the route did not exist.
async fn listener_guard(
    request: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let access = request.app_data::<web::Data<OpsAccess>>().expect("ops access data").clone();
    let on_ops_listener = access.listener.is_some_and(|ops| ops == request.app_config().local_addr());
    // The path as the router matches it (percent-escapes decoded): `/%6Detrics` is `/metrics`.
    let path = request.match_info().as_str();
    let ops_route = path == "/ops" || path.starts_with("/ops/") || path == "/metrics";
    let shared_route = path == "/health" || path == "/ready";
    // The token matters only for what the ops view shows on the public listener: a webhook or an
    // admin call does not pay for its check.
    let with_token = !on_ops_listener
        && (ops_route || shared_route)
        && access.token.as_ref().is_some_and(|token| {
            request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| token.matches(given))
        });
    let allowed = if on_ops_listener { ops_route || shared_route } else { !ops_route || with_token };
    if !allowed {
        let (request, _) = request.into_parts();
        let response = errors::not_found().await;
        return Ok(ServiceResponse::new(request, response));
    }
    if on_ops_listener || with_token {
        request.extensions_mut().insert(OpsView);
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}
