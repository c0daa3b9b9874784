//! Pages in headless Chromium (Debian's `chromium` and `chromium-driver`), driven over the W3C
//! WebDriver protocol: the simulator's chat (list the products, buy with QRIS, pay, see the
//! items), the live ops page (a sale and a hot product's mailbox charted during a load, on a
//! desktop and a phone), the index and the admin page; screenshots kept (see `keep_screenshot`).
//! `Driver` is shared with `browser_owner`, the admin page on a phone.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the page may take to show what a step waits for.
const PAGE_WAIT_SECS: u64 = 20;
/// The WebDriver name of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Driver {
    pub async fn start() -> Driver {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the browser test needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(PAGE_WAIT_SECS);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]}}}});
        let created: Value =
            http.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let session =
            created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
        let driver = Driver { process, base, session, http };
        // An element a step looks for may still be on its way (a sheet, a list after its call).
        driver.call(reqwest::Method::POST, "/timeouts", json!({"implicit": PAGE_WAIT_SECS * 1000})).await;
        driver
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method.clone(), url);
        if method == reqwest::Method::POST {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(answer["value"]["error"].is_null(), "WebDriver {path}: {answer}");
        answer["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({"url": url})).await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self.call(reqwest::Method::POST, "/element", json!({"using": "css selector", "value": css})).await;
        found[ELEMENT_KEY].as_str().unwrap().to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/value"), json!({"text": text})).await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), json!({})).await;
    }

    /// Empties an input (what `type_into` then types replaces the value instead of adding to it).
    pub async fn clear(&self, css: &str) {
        let element = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/clear"), json!({})).await;
    }

    /// Waits until `script` returns something other than `false` or `null`; returns it.
    pub async fn wait_until(&self, script: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(PAGE_WAIT_SECS);
        loop {
            let value = self.script(script).await;
            if !(value.is_null() || value == Value::Bool(false)) {
                return value;
            }
            assert!(tokio::time::Instant::now() < deadline, "the page never made this true: {script}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn text_of(&self, element_id: &str) -> String {
        let script = json!({"script": "const e = document.getElementById(arguments[0]); return e ? e.innerText : ''",
                            "args": [element_id]});
        self.call(reqwest::Method::POST, "/execute/sync", script).await.as_str().unwrap_or("").to_string()
    }

    /// Waits until the chat shows `wanted`; returns the chat.
    async fn wait_for(&self, wanted: &str) -> String {
        self.wait_for_in("chat", wanted).await
    }

    /// Waits until the element `element_id` shows `wanted`; returns its text.
    pub async fn wait_for_in(&self, element_id: &str, wanted: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(PAGE_WAIT_SECS);
        loop {
            let chat = self.text_of(element_id).await;
            if chat.contains(wanted) {
                return chat;
            }
            assert!(tokio::time::Instant::now() < deadline, "the page never showed {wanted:?}; it shows:\n{chat}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The page as PNG bytes.
    async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", json!({})).await;
        base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap()).unwrap()
    }

    /// The page's screenshot, kept in the test's temporary directory and, with
    /// `WARUNG_UPDATE_SCREENSHOTS=1`, in `docs/screenshots/` for the README.
    pub async fn keep_screenshot(&self, name: &str) {
        let png = self.screenshot().await;
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG screenshot");
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&shot, &png).unwrap();
        eprintln!("screenshot: {}", shot.display());
        if std::env::var("WARUNG_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(name), &png).unwrap();
        }
    }

    /// Runs `script` in the page and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", json!({"script": script, "args": []})).await
    }

    /// Resizes the window (a phone is 390 x 844).
    pub async fn window(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", json!({"width": width, "height": height})).await;
    }

    /// Whether the page fits the window's width (nothing to scroll sideways but its tables).
    pub async fn fits_width(&self) -> bool {
        self.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await.as_bool().unwrap()
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[actix_rt::test]
async fn a_customer_lists_buys_and_pays_by_qris_on_the_simulator_page_in_chromium() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    product_with_items(&engine, "viu", 15_000, 2).await;
    let address = serve(&engine);

    let driver = Driver::start().await;
    driver.open(&format!("{address}/simulator")).await;
    driver.type_into("#text", "produk").await;
    driver.click("#send").await;
    driver.wait_for("viu — Rp15.000 (stok 2)").await;

    driver.type_into("#text", "beli viu qris").await;
    driver.click("#send").await;
    driver.wait_for("Scan QRIS ini").await;
    driver.click("button.pay").await;
    let chat = driver.wait_for("Pembayaran QRIS diterima").await;
    assert!(chat.contains("viu-item-0"), "the item is delivered on the page:\n{chat}");
    driver.quit().await;

    let sold = engine.lanes.product_snapshot(&code("viu")).await.unwrap().sold;
    assert_eq!(sold, 1);
    engine.finish().await;
}

#[actix_rt::test]
async fn the_ops_page_charts_a_sale_and_a_hot_products_mailbox_live_in_chromium() {
    const BUYERS: usize = 3_000;
    // On the journal's log (the default): the page shows how far the tables are behind it.
    let engine = TestEngine::start(Backend::PostgresLog).await;
    let product = product_with_items(&engine, "hot", 1_000, BUYERS).await;
    let names: Vec<String> = (0..BUYERS).map(|b| format!("hot{b}")).collect();
    fund_all(&engine, &names, 1_000).await;
    let ops = serve_ops(&engine);

    let driver = Driver::start().await;
    driver.open(&format!("{ops}/ops")).await;
    driver.wait_for_in("status", "live").await;
    let load = spawn_hot_load(&engine, &product, names);
    let deepest = driver.wait_for_in("deepest", "hot").await;
    assert!(deepest.contains("product"), "{deepest}");
    driver.wait_for_in("depth-legend", "product hot").await;
    load.await.unwrap();
    // The charts keep what they saw: the sale's line and the mailbox's stay on screen.
    driver.wait_for_in("sold", "3000").await;
    driver.wait_for_in("revenue", "Rp3.000.000").await;
    // Caught up once the sale has paused (`database.projection_defer_ms`).
    driver.wait_for_in("projection", "0 changes, 0 ms").await;
    let lines: i64 = driver
        .script("return document.querySelectorAll('#sales-chart path, #depth-chart path, #commit-chart path').length")
        .await
        .as_i64()
        .unwrap();
    assert!(lines >= 4, "sales, refusals, a mailbox and the commit time are drawn: {lines}");
    let peak = driver.script(
        "return Math.max(...[...document.querySelectorAll('#sales-chart text')].map((t) => parseFloat(t.textContent) || 0))",
    );
    assert!(peak.await.as_f64().unwrap() > 0.0, "the sales chart's scale shows sales");
    driver.keep_screenshot("ops-page.png").await;
    let rows = driver.wait_for_in("products", "1").await;
    assert_eq!(rows.trim(), "1", "one product actor active");

    driver.window(390, 844).await;
    assert!(driver.fits_width().await, "the ops page fits a phone's width");
    driver.keep_screenshot("ops-page-phone.png").await;
    driver.quit().await;
    engine.finish().await;
}

#[actix_rt::test]
async fn the_index_page_links_every_page_in_chromium() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let address = serve(&engine);
    let driver = Driver::start().await;
    driver.open(&format!("{address}/")).await;
    let links = driver.script("return [...document.querySelectorAll('a')].map((a) => a.getAttribute('href'))").await;
    let links: Vec<&str> = links.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for wanted in ["/admin", "/simulator", "/admin/api/openapi.json", "/health", "/ready"] {
        assert!(links.contains(&wanted), "{wanted} in {links:?}");
    }
    assert!(links.iter().any(|l| l.ends_with("/ops")), "{links:?}");
    driver.window(390, 844).await;
    assert!(driver.fits_width().await, "the index fits a phone's width");
    driver.keep_screenshot("index-page.png").await;
    driver.quit().await;
    engine.finish().await;
}

#[actix_rt::test]
async fn the_admin_page_lists_products_uploads_stock_and_takes_one_off_sale_in_chromium() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    product_with_items(&engine, "viu", 15_000, 2).await;
    let address = serve(&engine);

    let driver = Driver::start().await;
    driver.open(&format!("{address}/admin")).await;
    driver.type_into("#token", ADMIN_TOKEN).await;
    driver.type_into("#admin-name", "siti").await;
    driver.click("#login").await;
    driver.click("#tab-products").await;
    let list = driver.wait_for_in("product-list", "viu").await;
    assert!(list.contains("Rp15.000"), "{list}");

    driver.click(r#"#product-list .row[data-code="viu"]"#).await;
    driver.type_into("#restock-items", "acc-new-1\nacc-new-2\n").await;
    driver.click("#restock").await;
    driver.wait_until("return !document.getElementById('confirm-dialog').hidden").await;
    let question = driver.text_of("confirm-text").await;
    assert!(question.contains('2') && question.contains("viu"), "the dialog says what is added: {question}");
    driver.click("#confirm-yes").await;
    driver.wait_until(r#"return document.querySelector('#product-facts[data-available="4"]')"#).await;
    driver.click("#product-active").await;
    let off_sale = r#"return document.querySelector('#product-list .row[data-code="viu"][data-active="false"]')"#;
    driver.wait_until(off_sale).await;
    driver.keep_screenshot("admin-page.png").await;
    driver.quit().await;

    let snapshot = engine.lanes.product_snapshot(&code("viu")).await.unwrap();
    assert_eq!((snapshot.available, snapshot.active), (4, false));
    let audit = engine.store.audit_trail(Some("viu"), 10).await.unwrap();
    assert_eq!((audit[0].admin.as_str(), audit[0].action.as_str()), ("siti", "set_active"));
    engine.finish().await;
}
