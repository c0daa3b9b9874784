//! The HTTP surface. `health`: liveness and readiness; `admin`: the engine's admin API behind a
//! bearer token; `ops`: what the actors are doing; `webhooks`: what providers send us; `errors`:
//! the one mapping from domain errors to HTTP responses.

mod admin;
mod errors;
mod health;
mod ops;
mod webhooks;

use actix_web::{web, App, HttpServer};

pub use errors::ApiError;

use crate::engine::Engine;

/// How long requests in progress may take to finish after a stop, before they are cut.
const HTTP_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Builds the server the binary runs and the tests start on a random port.
pub fn server(engine: Engine, listener: std::net::TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let body_limit = engine.settings.http.body_limit_bytes;
    let data = web::Data::new(engine);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(errors::json_error))
            .app_data(web::PathConfig::default().error_handler(errors::path_error))
            .configure(health::routes)
            .service(ops::scope())
            .service(admin::scope())
            .service(webhooks::scope())
            .default_service(web::to(errors::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(HTTP_SHUTDOWN_TIMEOUT_SECS)
    // The binary handles signals itself: actix-server would stop the whole actix System on a
    // signal, and with it the journal's thread before the final flush.
    .disable_signals()
    .run();
    Ok(server)
}
