use super::*;

#[test]
fn defaults_need_no_file_and_no_environment() {
    let settings = Settings::load_from(Path::new("does-not-exist.toml")).unwrap();
    assert_eq!(settings.http.bind, "127.0.0.1:8080");
    assert!(settings.database.url.starts_with("sqlite://"));
    assert!(settings.redis.url.is_none());
}

#[test]
fn a_bad_value_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[http]\nbind = \"not an address\"\n[engine]\nmailbox_capacity = 0\n").unwrap();
    let error = Settings::load_from(&file).unwrap_err().to_string();
    assert!(error.contains("http.bind"), "{error}");
    assert!(error.contains("engine.mailbox_capacity"), "{error}");
}

#[test]
fn logs_are_text_unless_json_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    assert_eq!(Settings::load_from(&file).unwrap().log.format, LogFormat::Text);
    std::fs::write(&file, "[log]\nformat = \"json\"\n").unwrap();
    assert_eq!(Settings::load_from(&file).unwrap().log.format, LogFormat::Json);
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    assert!(Settings::load_from(&file).is_err(), "an unknown format is refused at startup");
}

#[test]
fn whatsapp_credentials_are_all_or_none_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[whatsapp]\napp_secret = \"s3cret-value\"\n").unwrap();
    let error = Settings::load_from(&file).unwrap_err().to_string();
    assert!(error.contains("WARUNG_WHATSAPP__ACCESS_TOKEN"), "{error}");

    std::fs::write(
        &file,
        "[whatsapp]\napp_secret = \"s3cret-value\"\naccess_token = \"t0ken-value\"\nphone_number_id = \"1065\"\n\
         [midtrans]\nserver_key = \"SB-Mid-server-k3y\"\n",
    )
    .unwrap();
    let settings = Settings::load_from(&file).unwrap();
    assert!(settings.whatsapp.is_live());
    assert_eq!(settings.whatsapp.api_base_url, "https://graph.facebook.com");
    let printed = format!("{settings:?}");
    assert!(!printed.contains("s3cret-value") && !printed.contains("t0ken-value"), "{printed}");
    assert!(!Settings::load_from(Path::new("does-not-exist.toml")).unwrap().whatsapp.is_live(), "simulator by default");
}

#[test]
fn a_cluster_needs_postgres_and_the_command_lines_database_counts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[cluster]\nenabled = true\n").unwrap();
    let error = Settings::load_from(&file).unwrap_err().to_string();
    assert!(error.contains("needs a Postgres store"), "{error}");
    let postgres = Some("postgres://postgres@127.0.0.1:5432/warung".to_string());
    let settings = Settings::load_from_with_database(&file, postgres).unwrap();
    assert!(settings.cluster.enabled);
    assert_eq!(settings.cluster.route_deadline(), Duration::from_millis(7_000));

    std::fs::write(&file, "[cluster]\nenabled = true\nheartbeat_ms = 1000\nttl_ms = 2000\n").unwrap();
    let error = Settings::load_from_with_database(&file, Some("postgres://h/db".into())).unwrap_err().to_string();
    assert!(error.contains("at least three heartbeats"), "{error}");
}
