//! The HTTP surface. `health`: liveness and readiness; `admin`: the engine's admin API behind a
//! bearer token; `ops`: what the actors are doing; `metrics`: Prometheus; `webhooks`: what providers send us;
//! `simulator`: the stand-in providers and chat page when credentials are not set; `errors`: the
//! one mapping from domain errors to HTTP responses; `request_id`: every request's id and span.

mod admin;
mod errors;
mod health;
mod metrics;
mod ops;
pub mod request_id;
mod simulator;
mod webhooks;

use std::sync::Arc;

use actix_web::{web, App, HttpServer};

pub use errors::ApiError;

use crate::engine::Engine;
use crate::gateway::Gateway;
use crate::simulator::Simulator;

/// How long requests in progress may take to finish after a stop, before they are cut.
const HTTP_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Builds the server the binary runs and the tests start on a random port, with the gateway
/// (started here: the simulator needs the address).
pub fn server(engine: Engine, listener: std::net::TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let gateway = Gateway::start(&engine, listener.local_addr()?);
    server_with(engine, gateway, listener)
}

/// As `server`, with a gateway the caller started (tests reach into it).
pub fn server_with(
    engine: Engine,
    gateway: Gateway,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let body_limit = engine.settings.http.body_limit_bytes;
    let simulator = Simulator::for_engine(&engine, &gateway).map(Arc::new);
    let data = web::Data::new(engine);
    let gateway = web::Data::new(gateway);
    let server = HttpServer::new(move || {
        let mut app = App::new()
            .wrap_fn(|request, service| {
                use actix_web::dev::Service as _;
                use tracing::Instrument as _;
                let id = request_id::of(&request);
                let span =
                    tracing::info_span!("http", request_id = %id, method = %request.method(), path = %request.path());
                let response = span.in_scope(|| service.call(request));
                async move {
                    let mut response = response.instrument(span).await?;
                    let (name, value) = request_id::header(&id);
                    response.headers_mut().insert(name, value);
                    Ok(response)
                }
            })
            .app_data(data.clone())
            .app_data(gateway.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(errors::json_error))
            .app_data(web::PathConfig::default().error_handler(errors::path_error))
            .configure(health::routes)
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
    })
    .listen(listener)?
    .shutdown_timeout(HTTP_SHUTDOWN_TIMEOUT_SECS)
    // The binary handles signals itself: actix-server would stop the whole actix System on a
    // signal, and with it the journal's thread before the final flush.
    .disable_signals()
    .run();
    Ok(server)
}
