use super::*;

fn load_file(file: &Path) -> Result<Settings, SettingsError> {
    Settings::load(Sources { file: Some(file.to_path_buf()), ..Sources::default() })
}

#[test]
fn defaults_need_no_file_and_no_environment() {
    let settings = Settings::load(Sources::default()).unwrap();
    assert_eq!(settings.http.bind, "127.0.0.1:8080");
    assert!(settings.database.url.expose().starts_with("sqlite://"));
    assert!(settings.redis.url.is_none());
}

#[test]
fn a_bad_value_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[http]\nbind = \"not an address\"\n[engine]\nmailbox_capacity = 0\n").unwrap();
    let error = load_file(&file).unwrap_err().to_string();
    assert!(error.contains("http.bind"), "{error}");
    assert!(error.contains("engine.mailbox_capacity"), "{error}");
}

#[test]
fn lanes_are_between_one_and_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    for lanes in [0, warung_actors::supervisor::LANES_MAX + 1] {
        std::fs::write(&file, format!("[engine]\nlanes = {lanes}\n")).unwrap();
        let error = load_file(&file).unwrap_err().to_string();
        assert!(error.contains("engine.lanes must be between 1 and 16"), "{lanes}: {error}");
    }
    std::fs::write(&file, "[engine]\nlanes = 2\n").unwrap();
    assert_eq!(load_file(&file).unwrap().engine.lanes, 2);
}

#[test]
fn logs_are_text_unless_json_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "").unwrap();
    assert_eq!(load_file(&file).unwrap().log.format, LogFormat::Text);
    std::fs::write(&file, "[log]\nformat = \"json\"\n").unwrap();
    assert_eq!(load_file(&file).unwrap().log.format, LogFormat::Json);
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    assert!(load_file(&file).is_err(), "an unknown format is refused at startup");
}

#[test]
fn whatsapp_credentials_are_all_or_none_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[whatsapp]\napp_secret = \"s3cret-value\"\n").unwrap();
    let error = load_file(&file).unwrap_err().to_string();
    assert!(error.contains("WARUNG_WHATSAPP__ACCESS_TOKEN"), "{error}");

    std::fs::write(
        &file,
        "[whatsapp]\napp_secret = \"s3cret-value\"\naccess_token = \"t0ken-value\"\nphone_number_id = \"1065\"\n\
         [midtrans]\nserver_key = \"SB-Mid-server-k3y\"\n",
    )
    .unwrap();
    let settings = load_file(&file).unwrap();
    assert!(settings.whatsapp.is_live());
    assert_eq!(settings.whatsapp.api_base_url, "https://graph.facebook.com");
    let printed = format!("{settings:?}");
    assert!(!printed.contains("s3cret-value") && !printed.contains("t0ken-value"), "{printed}");
    assert!(!Settings::load(Sources::default()).unwrap().whatsapp.is_live(), "simulator by default");
}

#[test]
fn a_cluster_needs_postgres_and_the_command_lines_database_counts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[cluster]\nenabled = true\n").unwrap();
    let error = load_file(&file).unwrap_err().to_string();
    assert!(error.contains("needs a Postgres store"), "{error}");
    let postgres = Some("postgres://postgres@127.0.0.1:5432/warung".to_string());
    let settings =
        Settings::load(Sources { file: Some(file.clone()), database_url: postgres, ..Sources::default() }).unwrap();
    assert!(settings.cluster.enabled);
    assert_eq!(settings.cluster.route_deadline(), Duration::from_millis(7_000));

    std::fs::write(&file, "[cluster]\nenabled = true\nheartbeat_ms = 1000\nttl_ms = 2000\n").unwrap();
    let error = Settings::load(Sources {
        file: Some(file.clone()),
        database_url: Some("postgres://h/db".into()),
        ..Sources::default()
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("at least three heartbeats"), "{error}");
}

#[test]
fn a_config_file_that_was_asked_for_must_exist() {
    let error = load_file(Path::new("/nonexistent/warung.toml")).unwrap_err().to_string();
    assert!(error.contains("/nonexistent/warung.toml") && error.contains("does not exist"), "{error}");
}

#[test]
fn the_environment_overrides_the_file_and_the_command_line_overrides_both() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(&file, "[shop]\nname = \"Dari File\"\n[database]\nurl = \"sqlite://file.db\"\n").unwrap();
    assert_eq!(load_file(&file).unwrap().shop.name, "Dari File");
    let environment = HashMap::from([
        ("WARUNG_SHOP__NAME".to_string(), "Dari Env".to_string()),
        ("WARUNG_DATABASE__URL".to_string(), "sqlite://env.db".to_string()),
        // Not settings: the config file's own variable and the lab's, which must not be refused.
        ("WARUNG_CONFIG".to_string(), file.display().to_string()),
        ("WARUNG_BENCH_REDIS_URL".to_string(), "redis://127.0.0.1:6379".to_string()),
    ]);
    let sources = Sources { file: Some(file.clone()), environment, database_url: None };
    let settings = Settings::load(sources.clone()).unwrap();
    assert_eq!(settings.shop.name, "Dari Env");
    assert_eq!(settings.database.url.expose(), "sqlite://env.db");
    let settings = Settings::load(Sources { database_url: Some("sqlite://cli.db".into()), ..sources }).unwrap();
    assert_eq!(settings.database.url.expose(), "sqlite://cli.db");
}

#[test]
fn an_unknown_setting_is_refused_by_name_in_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    std::fs::write(&file, "[http]\nbnd = \"0.0.0.0:8080\"\n").unwrap();
    let error = load_file(&file).unwrap_err().to_string();
    assert!(error.contains("bnd"), "{error}");
    let environment = HashMap::from([("WARUNG_DATABSE__URL".to_string(), "postgres://h/db".to_string())]);
    let error = Settings::load(Sources { environment, ..Sources::default() }).unwrap_err().to_string();
    assert!(error.contains("databse"), "{error}");
}

#[test]
fn redis_must_be_a_redis_url_and_its_ca_file_must_exist() {
    let environment = HashMap::from([
        ("WARUNG_REDIS__URL".to_string(), "http://user:hunter2@cache".to_string()),
        ("WARUNG_REDIS__CA_FILE".to_string(), "/nonexistent/ca.pem".to_string()),
    ]);
    let error = Settings::load(Sources { environment, ..Sources::default() }).unwrap_err().to_string();
    assert!(error.contains("WARUNG_REDIS__URL") && error.contains("WARUNG_REDIS__CA_FILE"), "{error}");
    assert!(!error.contains("hunter2"), "the password is not in the message: {error}");
}
