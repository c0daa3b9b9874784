//! Simulator mode's HTTP surface, mounted only when a provider runs simulated.
//!
//! - `GET /simulator`: the chat page; `/simulator/api/...`: what the page calls (a customer's
//!   chat, what they say, paying or letting a QR expire).
//! - `/simulator/whatsapp/{version}/{phone-number-id}/messages`: the stand-in Graph API.
//! - `/simulator/midtrans/v2/...`: the stand-in Midtrans Core API, and the QR images it links.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, Scope};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::Page;
use super::ApiError;
use crate::flows::service::SIMULATOR_MIDTRANS_PATH;
use crate::simulator::{Said, Simulator, SimulatorError, PAGE_HTML};

static SIMULATOR_PAGE: Page = Page::new(PAGE_HTML);

pub fn scope(simulator: Arc<Simulator>) -> Scope {
    web::scope("/simulator")
        .app_data(web::Data::from(simulator))
        .service(page)
        .service(chat_lines)
        .service(chat_say)
        .service(pay)
        .service(expire)
        .service(graph_send)
        .service(midtrans_charge)
        .service(midtrans_status)
        .service(midtrans_close)
        .service(qr_code)
}

impl From<SimulatorError> for ApiError {
    fn from(error: SimulatorError) -> ApiError {
        let status = match error {
            SimulatorError::NotSimulated => StatusCode::NOT_FOUND,
            SimulatorError::LiveCustomer => StatusCode::FORBIDDEN,
            SimulatorError::Refused(_) => StatusCode::CONFLICT,
            SimulatorError::Webhook(_) => StatusCode::BAD_GATEWAY,
        };
        ApiError::new(status, "simulator", error.to_string())
    }
}

#[get("")]
async fn page() -> HttpResponse {
    SIMULATOR_PAGE.respond()
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

#[get("/api/chat/{customer}")]
async fn chat_lines(
    sim: web::Data<Simulator>,
    customer: web::Path<String>,
    after: web::Query<After>,
) -> Result<HttpResponse, ApiError> {
    let whatsapp = sim.whatsapp.as_ref().ok_or(SimulatorError::NotSimulated)?;
    Ok(HttpResponse::Ok().json(whatsapp.lines(&customer, after.after)))
}

#[derive(Deserialize)]
struct Say {
    #[serde(default)]
    name: Option<String>,
    #[serde(flatten)]
    said: Said,
}

#[post("/api/chat/{customer}")]
async fn chat_say(
    sim: web::Data<Simulator>,
    customer: web::Path<String>,
    say: web::Json<Say>,
) -> Result<HttpResponse, ApiError> {
    let customer = customer.into_inner();
    let valid = !customer.is_empty() && customer.len() <= 20 && customer.chars().all(|c| c.is_ascii_digit());
    if !valid {
        return Err(ApiError::bad_request("bad_customer", "a simulated customer is a phone number: digits only"));
    }
    let name = say.name.clone().unwrap_or_else(|| "Pelanggan".into());
    sim.customer_says(&customer, &name, &say.said).await?;
    Ok(HttpResponse::Accepted().json(json!({"sent": true})))
}

#[post("/api/pay/{order_id}")]
async fn pay(sim: web::Data<Simulator>, order_id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    sim.pay(&order_id).await?;
    Ok(HttpResponse::Ok().json(json!({"paid": true})))
}

#[post("/api/expire/{order_id}")]
async fn expire(sim: web::Data<Simulator>, order_id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    sim.let_expire(&order_id).await?;
    Ok(HttpResponse::Ok().json(json!({"expired": true})))
}

/// The stand-in Graph API's send: checks the bearer token as Meta does, answers as Meta does.
#[post("/whatsapp/{version}/{phone_number_id}/messages")]
async fn graph_send(sim: web::Data<Simulator>, request: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    let Some(whatsapp) = sim.whatsapp.as_ref() else {
        return HttpResponse::NotFound().finish();
    };
    let bearer =
        request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|token| whatsapp.access_token.matches(token)) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}));
    }
    match whatsapp.receive_from_shop(&body) {
        Ok(id) => HttpResponse::Ok().json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"].as_str().unwrap_or("").trim_start_matches('+')}],
            "messages": [{"id": id}]
        })),
        Err(why) => {
            HttpResponse::BadRequest().json(json!({"error": {"message": why, "type": "OAuthException", "code": 100}}))
        }
    }
}

/// Midtrans' Basic auth: the server key as user name, no password.
fn midtrans_authorized(sim: &Simulator, request: &HttpRequest) -> bool {
    let Some(midtrans) = sim.midtrans.as_ref() else { return false };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", midtrans.server_key.expose()))
    );
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| crate::settings::secret::constant_time_eq(given.as_bytes(), expected.as_bytes()))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"status_code": "401", "status_message": "Access denied due to unauthorized transaction, please check client or server key"}))
}

#[post("/midtrans/v2/charge")]
async fn midtrans_charge(sim: web::Data<Simulator>, request: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    if !midtrans_authorized(&sim, &request) {
        return unauthorized();
    }
    let midtrans = sim.midtrans.as_ref().expect("authorized means simulated");
    let qr_base = format!("{}{SIMULATOR_MIDTRANS_PATH}", sim.engine_url);
    HttpResponse::Ok().json(midtrans.charge(&body, &qr_base))
}

#[get("/midtrans/v2/{order_id}/status")]
async fn midtrans_status(sim: web::Data<Simulator>, request: HttpRequest, order_id: web::Path<String>) -> HttpResponse {
    if !midtrans_authorized(&sim, &request) {
        return unauthorized();
    }
    HttpResponse::Ok().json(sim.midtrans.as_ref().expect("authorized means simulated").status(&order_id))
}

#[post("/midtrans/v2/{order_id}/{action}")]
async fn midtrans_close(
    sim: web::Data<Simulator>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    if !midtrans_authorized(&sim, &request) {
        return unauthorized();
    }
    let (order_id, action) = path.into_inner();
    let status = match action.as_str() {
        "expire" => "expire",
        "cancel" => "cancel",
        _ => return HttpResponse::NotFound().finish(),
    };
    let (answer, notification) = sim.midtrans.as_ref().expect("authorized means simulated").close(&order_id, status);
    if let Some(notification) = notification {
        // Midtrans notifies after answering; the engine may be waiting on this very answer.
        let sim = sim.into_inner();
        actix::spawn(async move {
            if let Err(error) = sim.notify(&notification).await {
                tracing::warn!(%error, "simulated Midtrans notification not delivered");
            }
        });
    }
    HttpResponse::Ok().json(answer)
}

/// A picture standing in for the QR code: the amount and a pattern, enough to see in a chat.
#[get("/midtrans/qris/{order_id}/qr-code")]
async fn qr_code(order_id: web::Path<String>) -> HttpResponse {
    let mut cells = String::new();
    let seed: u64 = order_id.bytes().fold(1469598103934665603, |h, b| (h ^ b as u64).wrapping_mul(1099511628211));
    for i in 0..144u64 {
        if (seed.rotate_left((i % 64) as u32) ^ i.wrapping_mul(0x9E37)) & 1 == 1 {
            cells.push_str(&format!(
                "<rect x='{}' y='{}' width='10' height='10'/>",
                20 + (i % 12) * 10,
                20 + (i / 12) * 10
            ));
        }
    }
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='160' height='180'><rect width='160' height='180' fill='white'/>\
         <g fill='black'>{cells}</g><text x='80' y='165' font-size='10' text-anchor='middle'>QRIS (simulator)</text></svg>"
    );
    HttpResponse::Ok().content_type("image/svg+xml").body(svg)
}
