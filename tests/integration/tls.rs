//! TLS to the store and to Redis, against servers this test starts with certificates it makes:
//! a Postgres of its own that refuses connections without TLS, and a Redis that speaks only TLS.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use warung::infra::rate_limit::{PurchaseLimiter, Verdict};
use warung::settings::SecretUrl;
use warung_actors::domain::CustomerId;

const POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";

/// How long a server this test starts may take to accept connections.
const SERVER_START_SECS_MAX: u64 = 30;

/// A certificate authority, a server certificate it signed for `localhost` only (so a check of
/// the name fails for 127.0.0.1), and a second authority that signed nothing here.
struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    fn make() -> Certificates {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(dir.path()).output().unwrap();
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        for ca in ["ca", "other-ca"] {
            let subject = format!("/CN=warung test {ca}");
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &subject,
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
            ]);
        }
        std::fs::write(dir.path().join("server.ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
            .unwrap();
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        Certificates { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, server: &str) {
    let deadline = Instant::now() + Duration::from_secs(SERVER_START_SECS_MAX);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{server} did not start on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_root() -> bool {
    let id = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

/// A command run as the `postgres` user when this test runs as root (Postgres refuses root).
fn as_postgres(program: &str) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        Command::new(program)
    }
}

/// A Postgres cluster of this test's own, TLS only, stopped on drop.
struct TlsPostgres {
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl TlsPostgres {
    fn start(certificates: &Certificates) -> TlsPostgres {
        let dir = tempfile::Builder::new().prefix("warung-tls-pg").tempdir().unwrap();
        let data = dir.path().join("data");
        for file in ["server.pem", "server.key"] {
            std::fs::copy(certificates.path(file), dir.path().join(file)).unwrap();
        }
        if is_root() {
            let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(chown.success());
        }
        let mut key_mode = std::fs::metadata(dir.path().join("server.key")).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut key_mode, 0o600);
        std::fs::set_permissions(dir.path().join("server.key"), key_mode).unwrap();

        let initdb = as_postgres(&format!("{POSTGRES_BIN}/initdb"))
            .args(["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-N"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(initdb.status.success(), "initdb: {}", String::from_utf8_lossy(&initdb.stderr));
        // Only TLS connections are let in.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        let port = free_port();
        let options = format!(
            "-p {port} -k {socket} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={cert} \
             -c ssl_key_file={key} -c fsync=off",
            socket = dir.path().display(),
            cert = dir.path().join("server.pem").display(),
            key = dir.path().join("server.key").display(),
        );
        let started = as_postgres(&format!("{POSTGRES_BIN}/pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-l", dir.path().join("log").to_str().unwrap(), "-o", &options])
            .args(["-w", "-t", &SERVER_START_SECS_MAX.to_string(), "start"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        assert!(started.status.success(), "pg_ctl start: {}\n{log}", String::from_utf8_lossy(&started.stderr));
        wait_for_port(port, "Postgres");
        TlsPostgres { data, port, _dir: dir }
    }

    fn url(&self, host: &str, parameters: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{parameters}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&format!("{POSTGRES_BIN}/pg_ctl"))
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

async fn connects(url: &str) -> Result<(), String> {
    let store = warung::store::connect(url, 2).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let report = warung::audit::audit(store.as_ref()).await.map_err(|e| e.to_string())?;
    assert!(report.is_clean(), "{report}");
    Ok(())
}

#[actix_rt::test]
async fn the_store_reaches_postgres_over_tls_and_verify_full_checks_the_certificate_and_the_name() {
    let certificates = Certificates::make();
    let postgres = TlsPostgres::start(&certificates);
    let ca = certificates.path("ca.pem");
    let other_ca = certificates.path("other-ca.pem");

    let refused = connects(&postgres.url("127.0.0.1", "sslmode=disable")).await;
    assert!(refused.as_ref().unwrap_err().contains("no encryption"), "the server takes only TLS: {refused:?}");
    connects(&postgres.url("127.0.0.1", "sslmode=require")).await.expect("require: encrypted, no name check");
    connects(&postgres.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", ca.display())))
        .await
        .expect("verify-full: the certificate chains to the CA and names localhost");

    let wrong_name =
        connects(&postgres.url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={}", ca.display()))).await;
    assert!(wrong_name.unwrap_err().contains("not valid for name"), "the certificate does not name 127.0.0.1");
    let wrong_ca =
        connects(&postgres.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()))).await;
    assert!(wrong_ca.unwrap_err().contains("UnknownIssuer"), "the certificate is not signed by the other CA");
    let no_ca = connects(&postgres.url("localhost", "sslmode=verify-full")).await;
    assert!(no_ca.unwrap_err().contains("UnknownIssuer"), "a self-made CA is not among the system's");
}

/// A Redis that speaks only TLS, stopped on drop.
struct TlsRedis {
    child: Child,
    port: u16,
}

impl TlsRedis {
    fn start(certificates: &Certificates) -> TlsRedis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--tls-cert-file")
            .arg(certificates.path("server.pem"))
            .arg("--tls-key-file")
            .arg(certificates.path("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(certificates.path("ca.pem"))
            .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "Redis");
        TlsRedis { child, port }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three purchases on a limit of two: the third is refused only when the count is kept in Redis.
async fn third_purchase(client: redis::Client) -> (Verdict, u64) {
    let limiter = PurchaseLimiter::new(2, Some(client));
    let customer = CustomerId::parse(&format!("62812{}", rand::random::<u32>())).unwrap();
    for _ in 0..2 {
        limiter.check(&customer).await;
    }
    let verdict = limiter.check(&customer).await;
    (verdict, limiter.counters.failed_open.load(std::sync::atomic::Ordering::Relaxed))
}

#[actix_rt::test]
async fn the_purchase_limit_is_kept_in_redis_over_tls_with_the_configured_authority() {
    let certificates = Certificates::make();
    let redis = TlsRedis::start(&certificates);
    let url = SecretUrl::new(format!("rediss://localhost:{}", redis.port));

    let client = warung::infra::redis::client(&url, Some(&certificates.path("ca.pem"))).unwrap();
    let (verdict, failed_open) = third_purchase(client).await;
    assert!(matches!(verdict, Verdict::Limited { .. }), "{verdict:?}");
    assert_eq!(failed_open, 0, "every check reached Redis over TLS");

    // A server whose certificate the client cannot trust is never talked to: the limit fails
    // open (purchases never depend on Redis) and says so.
    let client = warung::infra::redis::client(&url, Some(&certificates.path("other-ca.pem"))).unwrap();
    let (verdict, failed_open) = third_purchase(client).await;
    assert_eq!(verdict, Verdict::Allowed);
    assert!(failed_open > 0);
    let plain = SecretUrl::new(format!("redis://localhost:{}", redis.port));
    let (_, failed_open) = third_purchase(warung::infra::redis::client(&plain, None).unwrap()).await;
    assert!(failed_open > 0, "a TLS-only Redis does not answer in the clear");
}
