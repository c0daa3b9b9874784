//! `GET /`: a small page that links what this shop serves: the admin page, the chat simulator
//! (when it runs), the ops page (on the operators' address), the API description and the health
//! endpoints. It holds no data, so it needs no token.

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::pages;
use crate::engine::Engine;
use crate::flows::service::Gateway;
use crate::providers::whatsapp::WhatsAppMode;

#[get("/")]
pub async fn index(engine: web::Data<Engine>, gateway: web::Data<Gateway>, request: HttpRequest) -> HttpResponse {
    let http = &engine.settings.http;
    let simulator = gateway.whatsapp.mode == WhatsAppMode::Simulator;
    let ops = if http.ops_shared() {
        "/ops".to_string()
    } else {
        format!("http://{}/ops", ops_address(&http.ops_bind, request.connection_info().host()))
    };
    pages::respond_made(render(&engine.shop.values().shop_name, simulator, &ops, http.ops_shared()))
}

/// The ops address as a browser reaches it: a wildcard bind (`0.0.0.0:9090`) is reached on the
/// host this page was asked for.
fn ops_address(ops_bind: &str, host: &str) -> String {
    let (ip, port) = ops_bind.rsplit_once(':').unwrap_or((ops_bind, ""));
    if ip == "0.0.0.0" || ip == "[::]" {
        let host = host.rsplit_once(':').map_or(host, |(name, _)| name);
        format!("{host}:{port}")
    } else {
        ops_bind.to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn render(shop: &str, simulator: bool, ops: &str, ops_shared: bool) -> String {
    let mut links = vec![(
        "/admin".to_string(),
        "Halaman admin",
        "Produk, stok, harga, pesanan, pelanggan dan saldo (perlu token admin).",
    )];
    if simulator {
        links.push((
            "/simulator".to_string(),
            "Simulator chat",
            "Coba toko seperti pelanggan WhatsApp, dengan pembayaran QRIS tiruan.",
        ));
    }
    let ops_note = if ops_shared {
        "Aktor, antrean pesan, jurnal, cluster (perlu token ops)."
    } else {
        "Aktor, antrean pesan, jurnal, cluster (hanya dari alamat operator)."
    };
    links.push((ops.to_string(), "Halaman ops", ops_note));
    links.push((
        "/admin/api/openapi.json".to_string(),
        "Dokumen API (OpenAPI)",
        "Deskripsi API admin untuk integrasi.",
    ));
    links.push(("/health".to_string(), "Kesehatan: /health", "Proses berjalan."));
    links.push(("/ready".to_string(), "Kesiapan: /ready", "Database menjawab dan jurnal bisa menyimpan."));
    let items: String = links
        .iter()
        .map(|(href, title, note)| {
            format!("<li><a href=\"{}\">{}</a><span>{}</span></li>", escape(href), escape(title), escape(note))
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{shop}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;color:#1f2328}}\
         h1{{font-size:1.4rem}}ul{{list-style:none;padding:0}}li{{padding:.75rem 0;border-bottom:1px solid #d8dee4}}\
         a{{font-weight:600;font-size:1.05rem;color:#0b6e4f}}span{{display:block;color:#57606a;margin-top:.2rem}}\
         footer{{color:#57606a;font-size:.85rem;margin-top:1rem}}</style></head>\
         <body><h1>{shop}</h1><p>Mesin toko warung v{version}.</p><ul>{items}</ul>\
         <footer>Hanya webhook (/webhooks/whatsapp, /webhooks/midtrans) yang perlu dibuka ke internet.</footer>\
         </body></html>",
        shop = escape(shop),
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_links_the_simulator_only_when_it_runs_and_escapes_the_shop_name() {
        let on = render("Toko <b>", true, "http://127.0.0.1:9090/ops", false);
        assert!(on.contains("href=\"/simulator\"") && on.contains("href=\"/admin\""));
        assert!(on.contains("href=\"http://127.0.0.1:9090/ops\"") && on.contains("/admin/api/openapi.json"));
        assert!(on.contains("Toko &lt;b&gt;") && !on.contains("<b>"));
        let off = render("Toko", false, "/ops", true);
        assert!(!off.contains("/simulator") && off.contains("perlu token ops"));
    }

    #[test]
    fn a_wildcard_ops_address_is_reached_on_the_pages_own_host() {
        assert_eq!(ops_address("0.0.0.0:9090", "shop.example.com:8080"), "shop.example.com:9090");
        assert_eq!(ops_address("127.0.0.1:9090", "shop.example.com"), "127.0.0.1:9090");
    }
}
