//! Fresh databases for tests: each test gets its own, on each backend, and
//! it is dropped afterwards. Used by this crate's contract tests and by the
//! server's integration tests.

use std::path::PathBuf;

use sqlx::Connection;

/// Where the tests' PostgreSQL lives; trust auth as on the CI machines.
pub fn postgres_admin_url() -> String {
    std::env::var("DOORSTEP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database made for one test. Dropping it removes the database.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase(String),
}

impl TestDb {
    /// A new empty SQLite file in the temp directory.
    pub fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("doorstep-test-{}.db", uuid::Uuid::new_v4()));
        TestDb {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A new empty PostgreSQL database. An unreachable server fails the test:
    /// a skipped backend would let bugs through.
    pub async fn postgres() -> TestDb {
        let admin = postgres_admin_url();
        let name = format!("doorstep_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL for tests is not reachable at {admin} ({e}). Start it, or point \
                 DOORSTEP_TEST_POSTGRES at one; the suite runs on both backends."
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base)
            .to_owned();
        TestDb {
            url: format!("{base}/{name}"),
            cleanup: Cleanup::PostgresDatabase(name),
        }
    }

    /// A fresh database of the named backend (`sqlite` or `postgres`).
    pub async fn new(backend: &str) -> TestDb {
        match backend {
            "sqlite" => TestDb::sqlite(),
            "postgres" => TestDb::postgres().await,
            other => panic!("unknown test backend {other}"),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase(name) => {
                let name = name.clone();
                let admin = postgres_admin_url();
                // Drop runs inside the test's runtime: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await
                            .ok()
                    })
                })
                .join();
            }
        }
    }
}
