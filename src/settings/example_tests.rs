//! `warung.toml.example` against the settings type: the same keys, the same defaults, the right
//! environment variable for each; and every text setting arrives exactly as written.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::*;

const EXAMPLE: &str = include_str!("../../warung.toml.example");

/// One `key = value` line of the example, live or commented out (unset by default).
#[derive(Debug)]
struct Documented {
    value: toml::Value,
    commented: bool,
    environment: Option<String>,
}

fn documented() -> BTreeMap<String, Documented> {
    let mut section = String::new();
    let mut environment = None;
    let mut settings = BTreeMap::new();
    for line in EXAMPLE.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            environment = None;
        } else if let Some(variable) = line.strip_prefix("# Environment: ") {
            environment = Some(variable.to_string());
        } else if let Some((key, value, commented)) = setting_line(line) {
            let value: toml::Table = toml::from_str(&format!("v = {value}"))
                .unwrap_or_else(|e| panic!("{section}.{key}: {value} is not a TOML value: {e}"));
            let full = format!("{section}.{key}");
            let previous = settings.insert(
                full.clone(),
                Documented { value: value["v"].clone(), commented, environment: environment.take() },
            );
            assert!(previous.is_none(), "{full} is documented twice");
        }
    }
    settings
}

/// `key = value` or `# key = value`; a sentence in a comment is neither.
fn setting_line(line: &str) -> Option<(&str, &str, bool)> {
    let (line, commented) = match line.strip_prefix("# ") {
        Some(rest) => (rest, true),
        None => (line, false),
    };
    let (key, value) = line.split_once(" = ")?;
    let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    is_key.then_some((key, value, commented))
}

/// The defaults as `section.key` → value (secrets masked, unset as null).
fn defaults() -> BTreeMap<String, Value> {
    let Value::Object(sections) = serde_json::to_value(Settings::default()).unwrap() else { unreachable!() };
    let mut flat = BTreeMap::new();
    for (section, fields) in sections {
        let Value::Object(fields) = fields else { panic!("{section} is not a section") };
        for (key, value) in fields {
            flat.insert(format!("{section}.{key}"), value);
        }
    }
    flat
}

#[test]
fn the_example_documents_every_setting_with_its_default_and_its_variable() {
    let documented = documented();
    let defaults = defaults();
    let missing: Vec<_> = defaults.keys().filter(|k| !documented.contains_key(*k)).collect();
    let unknown: Vec<_> = documented.keys().filter(|k| !defaults.contains_key(*k)).collect();
    assert!(missing.is_empty(), "settings missing from warung.toml.example: {missing:?}");
    assert!(unknown.is_empty(), "warung.toml.example documents settings that do not exist: {unknown:?}");
    for (key, doc) in &documented {
        assert_eq!(doc.environment.as_deref(), Some(env_var(key).as_str()), "{key}: its `# Environment:` line");
        let default = &defaults[key];
        if doc.commented {
            assert_eq!(default, &Value::Null, "{key} is shown commented out, so it must be unset by default");
        } else {
            let shown = serde_json::to_value(&doc.value).unwrap();
            assert_eq!(&shown, default, "{key}: the example shows {shown}, the default is {default}");
        }
    }
}

#[test]
fn the_example_loads_as_the_defaults_and_with_every_setting_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, EXAMPLE).unwrap();
    let loaded = Settings::load(Sources { file: Some(file.clone()), ..Sources::default() }).unwrap();
    assert_eq!(serde_json::to_value(&loaded).unwrap(), serde_json::to_value(Settings::default()).unwrap());

    let filled: String = EXAMPLE
        .lines()
        .map(|line| match setting_line(line.trim()) {
            Some((_, _, true)) => line.trim().trim_start_matches("# ").to_string(),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&file, filled).unwrap();
    let read = Settings::read(Sources { file: Some(file), ..Sources::default() });
    assert!(read.is_ok(), "every commented example is a value of its setting's type: {read:?}");
}

/// Text that a loader which guesses types would change: leading zeros, a boolean's spelling, a
/// number too long for an integer, a float's spelling, spaces, a word a parser might read as null.
const AWKWARD_TEXT: &[&str] =
    &["0000111122223333", "True", "123456789012345678901234567890", "1e5", "-0", "null", " spaced out ", "0x1F"];

/// The text settings, read back as text. A new text setting in the example fails the test below
/// until it is added here.
fn text_setting(settings: &Settings, key: &str) -> Option<String> {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    let secret = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_string());
    Some(match key {
        "database.url" => settings.database.url.expose().to_string(),
        "http.bind" => settings.http.bind.clone(),
        "http.ops_bind" => settings.http.ops_bind.clone(),
        "http.ops_token" => secret(&settings.http.ops_token)?,
        "redis.url" => settings.redis.url.as_ref()?.expose().to_string(),
        "redis.ca_file" => path(&settings.redis.ca_file)?,
        "admin.token" => secret(&settings.admin.token)?,
        "whatsapp.app_secret" => secret(&settings.whatsapp.app_secret)?,
        "whatsapp.verify_token" => secret(&settings.whatsapp.verify_token)?,
        "whatsapp.access_token" => secret(&settings.whatsapp.access_token)?,
        "whatsapp.phone_number_id" => settings.whatsapp.phone_number_id.clone()?,
        "whatsapp.api_base_url" => settings.whatsapp.api_base_url.clone(),
        "whatsapp.api_version" => settings.whatsapp.api_version.clone(),
        "midtrans.server_key" => secret(&settings.midtrans.server_key)?,
        "midtrans.api_base_url" => settings.midtrans.api_base_url.clone(),
        "midtrans.notification_url" => settings.midtrans.notification_url.clone()?,
        "shop.name" => settings.shop.name.clone(),
        "shop.admin_numbers" => settings.shop.admin_numbers.clone(),
        "transfer.bank" => settings.transfer.bank.clone()?,
        "transfer.account_number" => settings.transfer.account_number.clone()?,
        "transfer.account_name" => settings.transfer.account_name.clone()?,
        "cluster.name" => settings.cluster.name.clone(),
        "cluster.node_id" => settings.cluster.node_id.clone()?,
        "cluster.nats_url" => settings.cluster.nats_url.expose().to_string(),
        "backup.dir" => path(&settings.backup.dir)?,
        other => panic!("{other} is a text setting: add it to text_setting()"),
    })
}

/// Settings whose text is one of a few words, not free text.
const CHOICE_SETTINGS: &[&str] = &["log.format", "database.journal"];

#[test]
fn every_text_setting_arrives_exactly_as_written_from_the_environment_and_the_file() {
    let text_keys: Vec<String> = documented()
        .into_iter()
        .filter(|(key, doc)| doc.value.is_str() && !CHOICE_SETTINGS.contains(&key.as_str()))
        .map(|(key, _)| key)
        .collect();
    assert!(text_keys.len() >= 20, "the example names the text settings: {text_keys:?}");
    let dir = tempfile::tempdir().unwrap();
    for key in &text_keys {
        for text in AWKWARD_TEXT {
            let environment = HashMap::from([(env_var(key), text.to_string())]);
            let settings = Settings::read(Sources { environment, ..Sources::default() })
                .unwrap_or_else(|e| panic!("{key}={text:?} from the environment: {e}"));
            assert_eq!(text_setting(&settings, key).as_deref(), Some(*text), "{} from the environment", env_var(key));

            let (section, field) = key.split_once('.').unwrap();
            let file = dir.path().join("warung.toml");
            std::fs::write(&file, format!("[{section}]\n{field} = {}\n", toml::Value::from(*text))).unwrap();
            let settings = Settings::read(Sources { file: Some(file), ..Sources::default() })
                .unwrap_or_else(|e| panic!("{key}={text:?} from the file: {e}"));
            assert_eq!(text_setting(&settings, key).as_deref(), Some(*text), "{key} from the file");
        }
    }
}

#[test]
fn numbers_and_switches_still_come_from_the_environments_text() {
    let environment = HashMap::from([
        ("WARUNG_ENGINE__MAILBOX_CAPACITY".to_string(), "0064".to_string()),
        ("WARUNG_SIMULATOR__ALLOW_MIXED".to_string(), "true".to_string()),
        ("WARUNG_CLUSTER__TTL_MS".to_string(), "9000".to_string()),
    ]);
    let settings = Settings::read(Sources { environment, ..Sources::default() }).unwrap();
    assert_eq!(settings.engine.mailbox_capacity, 64);
    assert!(settings.simulator.allow_mixed);
    assert_eq!(settings.cluster.ttl_ms, 9_000);
}

#[test]
fn no_secret_prints_in_the_settings_debug_or_serialized() {
    let secrets = [
        ("WARUNG_ADMIN__TOKEN", "admin-t0ken-0000111122223333", "admin-t0ken"),
        ("WARUNG_HTTP__OPS_TOKEN", "ops-t0ken-0000111122223333", "ops-t0ken"),
        ("WARUNG_DATABASE__URL", "postgres://warung:db-pa55word@db/warung?sslmode=require", "db-pa55word"),
        ("WARUNG_REDIS__URL", "rediss://default:redis-pa55word@cache:6380", "redis-pa55word"),
        ("WARUNG_CLUSTER__NATS_URL", "nats://node:nats-pa55word@nats:4222", "nats-pa55word"),
        ("WARUNG_WHATSAPP__APP_SECRET", "wa-app-s3cret", "wa-app-s3cret"),
        ("WARUNG_WHATSAPP__VERIFY_TOKEN", "wa-verify-t0ken", "wa-verify-t0ken"),
        ("WARUNG_WHATSAPP__ACCESS_TOKEN", "wa-access-t0ken", "wa-access-t0ken"),
        ("WARUNG_MIDTRANS__SERVER_KEY", "SB-Mid-server-k3y", "Mid-server-k3y"),
    ];
    let environment = secrets.iter().map(|(name, value, _)| (name.to_string(), value.to_string())).collect();
    let settings = Settings::read(Sources { environment, ..Sources::default() }).unwrap();
    let shown = [format!("{settings:?}"), format!("{settings:#?}"), serde_json::to_string(&settings).unwrap()];
    for (name, _, part) in secrets {
        for text in &shown {
            assert!(!text.contains(part), "{name} printed: {text}");
        }
    }
    assert!(shown[0].contains("postgres://warung:***@db/warung"), "the URL is shown without its password");
}
