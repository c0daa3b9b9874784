//! The settings' checks: every problem found is reported, each naming its setting and its
//! environment variable.

use std::net::SocketAddr;

use super::{Settings, SettingsError};

impl Settings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        self.check_store_and_http(&mut problems);
        self.check_engine_and_admin(&mut problems);
        self.check_providers(&mut problems);
        self.check_shop(&mut problems);
        self.check_cluster(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }

    /// The database and the listeners.
    fn check_store_and_http(&self, problems: &mut Vec<String>) {
        if self.database.url.expose().trim().is_empty() {
            problems.push("database.url (WARUNG_DATABASE__URL) must not be empty".to_string());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".to_string());
        }
        if self.http.bind.parse::<SocketAddr>().is_err() {
            problems.push(format!("http.bind (WARUNG_HTTP__BIND) must be host:port, got {:?}", self.http.bind));
        }
        if self.http.ops_bind.parse::<SocketAddr>().is_err() {
            problems
                .push(format!("http.ops_bind (WARUNG_HTTP__OPS_BIND) must be host:port, got {:?}", self.http.ops_bind));
        }
        if self.http.ops_shared() && self.http.ops_token.as_ref().is_none_or(|t| t.expose().len() < 16) {
            problems.push(
                "http.ops_bind is the public address: the ops routes then need WARUNG_HTTP__OPS_TOKEN (16+ characters), \
                 or serve them on an address of their own (WARUNG_HTTP__OPS_BIND, default 127.0.0.1:9090)"
                    .to_string(),
            );
        }
        if self.http.body_limit_bytes == 0 {
            problems.push("http.body_limit_bytes must be positive".to_string());
        }
        if let Some(url) = &self.redis.url {
            if !url.expose().starts_with("redis://") && !url.expose().starts_with("rediss://") {
                problems.push(format!(
                    "redis.url (WARUNG_REDIS__URL) must be redis://host:port or rediss://host:port (TLS), got {url}"
                ));
            }
        }
        if let Some(file) = &self.redis.ca_file {
            if !file.is_file() {
                problems
                    .push(format!("redis.ca_file (WARUNG_REDIS__CA_FILE) {} is not a readable file", file.display()));
            }
        }
    }

    /// The engine's limits and the admin token.
    fn check_engine_and_admin(&self, problems: &mut Vec<String>) {
        problems.extend(self.database.journal_options().limits.problems());
        if !(1..=crate::store::WRITER_LOCK_CHECK_MS_MAX).contains(&self.database.writer_lock_check_ms) {
            problems.push(format!(
                "database.writer_lock_check_ms must be between 1 and {}",
                crate::store::WRITER_LOCK_CHECK_MS_MAX
            ));
        }
        if self.engine.mailbox_capacity == 0 {
            problems.push("engine.mailbox_capacity must be positive".to_string());
        }
        if !(1..=warung_actors::supervisor::LANES_MAX).contains(&self.engine.lanes) {
            problems.push(format!("engine.lanes must be between 1 and {}", warung_actors::supervisor::LANES_MAX));
        }
        if self.engine.journal_batch_events_max == 0 {
            problems.push("engine.journal_batch_events_max must be positive".to_string());
        }
        if self.engine.payment_ttl_secs == 0
            || self.engine.transfer_ttl_secs == 0
            || self.engine.saldo_reservation_ttl_secs == 0
        {
            problems.push(
                "engine.payment_ttl_secs, engine.transfer_ttl_secs and engine.saldo_reservation_ttl_secs must be positive"
                    .to_string(),
            );
        }
        if self.backup.every_hours == 0 || self.backup.keep == 0 {
            problems.push(
                "backup.every_hours (WARUNG_BACKUP__EVERY_HOURS) and backup.keep (WARUNG_BACKUP__KEEP) must be at least 1"
                    .to_string(),
            );
        }
        if let Some(token) = &self.admin.token {
            if token.expose().len() < 16 {
                problems.push("admin.token (WARUNG_ADMIN__TOKEN) must be at least 16 characters".to_string());
            }
        }
    }

    /// WhatsApp and Midtrans: all credentials or none, and both live or both simulated.
    fn check_providers(&self, problems: &mut Vec<String>) {
        let whatsapp = &self.whatsapp;
        let credentials =
            [whatsapp.app_secret.is_some(), whatsapp.access_token.is_some(), whatsapp.phone_number_id.is_some()];
        if credentials.contains(&true) && credentials.contains(&false) {
            problems.push(
                "whatsapp: set all of WARUNG_WHATSAPP__APP_SECRET, WARUNG_WHATSAPP__ACCESS_TOKEN and \
                 WARUNG_WHATSAPP__PHONE_NUMBER_ID to talk to Meta, or none of them for the simulator"
                    .to_string(),
            );
        }
        if [&whatsapp.app_secret, &whatsapp.verify_token, &whatsapp.access_token]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.expose().is_empty()))
        {
            problems.push("whatsapp: a secret that is set must not be empty".to_string());
        }
        if !whatsapp.api_base_url.starts_with("http://") && !whatsapp.api_base_url.starts_with("https://") {
            problems.push(format!(
                "whatsapp.api_base_url (WARUNG_WHATSAPP__API_BASE_URL) must be an http(s) URL, got {:?}",
                whatsapp.api_base_url
            ));
        }
        if whatsapp.messages_per_second == 0 {
            problems.push("whatsapp.messages_per_second must be positive".to_string());
        }
        let midtrans = &self.midtrans;
        if midtrans.server_key.as_ref().is_some_and(|s| s.expose().is_empty()) {
            problems.push("midtrans.server_key (WARUNG_MIDTRANS__SERVER_KEY) must not be empty when set".to_string());
        }
        for (name, url) in
            [("api_base_url", Some(&midtrans.api_base_url)), ("notification_url", midtrans.notification_url.as_ref())]
        {
            if let Some(url) = url {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    problems.push(format!("midtrans.{name} must be an http(s) URL, got {url:?}"));
                }
            }
        }
        if whatsapp.is_live() != midtrans.server_key.is_some() && !self.simulator.allow_mixed {
            let (live, simulated) =
                if whatsapp.is_live() { ("WhatsApp", "Midtrans") } else { ("Midtrans", "WhatsApp") };
            problems.push(format!(
                "{live} is live but {simulated} would run simulated: set {simulated}'s credentials too, or none of \
                 either. The simulator never runs beside a live provider (its pay button would hand out goods for \
                 free); for development only, WARUNG_SIMULATOR__ALLOW_MIXED=true allows it"
            ));
        }
    }

    /// The shop's own settings.
    fn check_shop(&self, problems: &mut Vec<String>) {
        if self.shop.purchases_per_minute == 0 {
            problems.push("shop.purchases_per_minute (WARUNG_SHOP__PURCHASES_PER_MINUTE) must be positive".to_string());
        }
        if self.shop.name.trim().is_empty() {
            problems.push("shop.name (WARUNG_SHOP__NAME) must not be empty".to_string());
        }
        if let Err(error) = crate::shop::parse_admin_numbers(&self.shop.admin_numbers) {
            problems.push(format!("shop.admin_numbers (WARUNG_SHOP__ADMIN_NUMBERS): {error}"));
        }
        if self.shop.daily_summary_hour > 23 {
            problems
                .push("shop.daily_summary_hour (WARUNG_SHOP__DAILY_SUMMARY_HOUR) is an hour from 0 to 23".to_string());
        }
        let transfer = [&self.transfer.bank, &self.transfer.account_number, &self.transfer.account_name];
        let set = transfer.iter().filter(|f| f.as_deref().is_some_and(|t| !t.trim().is_empty())).count();
        if set != 0 && set != transfer.len() {
            problems.push(
                "transfer: set WARUNG_TRANSFER__BANK, WARUNG_TRANSFER__ACCOUNT_NUMBER and WARUNG_TRANSFER__ACCOUNT_NAME \
                 together (transfer is offered only with all three), or none"
                    .to_string(),
            );
        }
    }
}
