//! A real PostgreSQL for tests: the server CI started (`TESSERA_TEST_PG_URL`, a superuser's
//! `postgres://USER@HOST:PORT/DB` with trust or password authentication), or one of its own
//! started from the system's binaries (Debian's `postgresql` package: `initdb`, `pg_ctl`,
//! `postgres` in `/usr/lib/postgresql/*/bin`, or `TESSERA_PG_BIN`) in a temporary directory,
//! on a free loopback port, as a non-root user (`postgres` when the tests run as root). Missing
//! binaries fail the test with what to install: a PostgreSQL test never skips.
//!
//! [`TestPostgres::shared`] is one server for a whole test binary, each test in a database of
//! its own ([`TestPostgres::database`]); [`TestPostgres::start`] is a server a test owns, to
//! stop and restart (fault tests). A server this kit started is stopped by its pid: on drop,
//! or, for the shared one, by a watchdog once the test process is gone.

use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tessera_service::store::{PostgresStore, PostgresUrl};

use crate::store::Backend;

/// The environment variable naming a running PostgreSQL to use instead of starting one.
pub const URL_VAR: &str = "TESSERA_TEST_PG_URL";

/// What to install when the binaries are missing.
const INSTALL: &str = "the PostgreSQL tests need PostgreSQL's server binaries (initdb, pg_ctl, \
    postgres): `apt-get install postgresql` (Debian), or set TESSERA_PG_BIN to their directory, \
    or set TESSERA_TEST_PG_URL to a running server's superuser URL";

/// A PostgreSQL server the tests use.
#[derive(Debug)]
pub struct TestPostgres {
    /// `postgres://USER@HOST:PORT` (no database), the part every database's URL shares.
    base: String,
    /// What follows the database in the URL (`?…`), if anything.
    query: String,
    /// The server this kit started, if it did.
    own: Option<OwnServer>,
}

#[derive(Debug)]
struct OwnServer {
    bin: PathBuf,
    /// The temporary directory (`data/`, the log and the socket).
    dir: PathBuf,
    port: u16,
    /// Run the binaries as this user (the tests run as root).
    as_user: Option<String>,
    /// The postmaster's pid while it runs.
    pid: Option<u32>,
    /// Remove `dir` on drop (not for the shared server: its watchdog does).
    remove_dir: bool,
}

/// Databases made so far by this process (their names must differ).
static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TestPostgres {
    /// One server for every test of this process: `TESSERA_TEST_PG_URL`'s, or one started here
    /// and stopped by a watchdog when the process ends.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<TestPostgres> = OnceLock::new();
        SHARED.get_or_init(|| match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => Self::external(&url),
            _ => {
                let mut server = Self::start();
                if let Some(own) = &mut server.own {
                    own.remove_dir = false;
                    own.watch();
                }
                server
            }
        })
    }

    fn external(url: &str) -> Self {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .unwrap_or_else(|| panic!("{URL_VAR} must be a postgres:// URL"));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let query = path
            .find('?')
            .map_or(String::new(), |at| path[at..].to_owned());
        Self {
            base: format!("postgres://{authority}"),
            query,
            own: None,
        }
    }

    /// A server of this test's own, in a new temporary directory; stopped on drop.
    pub fn start() -> Self {
        let bin = binaries();
        let as_user = running_as_root().then(|| "postgres".to_owned());
        let dir = tempfile::Builder::new()
            .prefix("tessera-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if let Some(user) = &as_user {
            let (uid, gid) = user_ids(user);
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let mut own = OwnServer {
            bin,
            dir,
            port: 0,
            as_user,
            pid: None,
            remove_dir: true,
        };
        own.initdb();
        own.start_on_a_free_port();
        Self {
            base: format!("postgres://tessera@127.0.0.1:{}", own.port),
            query: String::new(),
            own: Some(own),
        }
    }

    /// The URL of the database `name`.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}/{name}{}", self.base, self.query)
    }

    /// A new empty database of its own for one test; its URL.
    pub fn database(&self) -> PostgresUrl {
        PostgresUrl::parse(&self.url_of(&self.create_database())).unwrap()
    }

    /// A new empty database of its own for one test; its name.
    pub fn create_database(&self) -> String {
        let name = format!(
            "tessera_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        self.execute(&format!("CREATE DATABASE {name}"));
        name
    }

    /// Runs one SQL command on the `postgres` database, as the superuser.
    pub fn execute(&self, sql: &str) {
        let url = self.url_of("postgres");
        let sql = sql.to_owned();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
                tokio::spawn(connection);
                client.batch_execute(&sql).await.unwrap();
            });
        })
        .join()
        .unwrap();
    }

    /// Stops a server this test started (a fast shutdown: sessions are ended), keeping its
    /// data.
    pub fn stop(&mut self) {
        self.own
            .as_mut()
            .expect("only a server the test started can be stopped")
            .stop();
    }

    /// Freezes a server this test started (SIGSTOP to the postmaster and every backend, by
    /// pid): connections stay open and nothing answers, as behind a dead network link.
    pub fn freeze(&self) {
        self.own
            .as_ref()
            .expect("only a server the test started can be frozen")
            .signal_all("STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn thaw(&self) {
        self.own
            .as_ref()
            .expect("only a server the test started can be thawed")
            .signal_all("CONT");
    }

    /// Starts a stopped server again on the same port, over the same data.
    pub fn restart(&mut self) {
        let own = self
            .own
            .as_mut()
            .expect("only a server the test started can be restarted");
        assert!(own.pid.is_none(), "the server is running");
        assert!(own.try_start(), "PostgreSQL did not restart: {}", own.log());
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some(own) = &mut self.own {
            own.stop();
            if own.remove_dir {
                let _ = std::fs::remove_dir_all(&own.dir);
            }
        }
    }
}

impl OwnServer {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// A command running `program` of the binaries, as the server's user.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match &self.as_user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        command.stdin(Stdio::null());
        command
    }

    fn initdb(&self) {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "tessera", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb ({e}); {INSTALL}"));
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start_on_a_free_port(&mut self) {
        for _ in 0..5 {
            self.port = free_port();
            if self.try_start() {
                return;
            }
        }
        panic!("PostgreSQL did not start: {}", self.log());
    }

    /// `pg_ctl start` on `self.port`, waiting until it accepts connections.
    fn try_start(&mut self) -> bool {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=400 -c fsync=off \
             -c shared_buffers=32MB",
            self.port,
            self.dir.display()
        );
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run pg_ctl ({e}); {INSTALL}"));
        if !status.success() {
            return false;
        }
        let pid = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        self.pid = Some(pid.lines().next().unwrap().trim().parse().unwrap());
        true
    }

    /// Stops the postmaster by its pid (SIGINT: a fast shutdown) and waits until it is gone.
    fn stop(&mut self) {
        let Some(pid) = self.pid.take() else {
            return;
        };
        // A frozen server must run to stop.
        self.pid = Some(pid);
        self.signal_all("CONT");
        self.pid = None;
        signal("INT", pid);
        for _ in 0..300 {
            if !alive(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        signal("KILL", pid);
    }

    /// Sends `name` to the postmaster and its children (found by their parent pid in /proc).
    fn signal_all(&self, name: &str) {
        let Some(pid) = self.pid else { return };
        let children = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|entry| {
                let child: u32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // pid (comm) state ppid …: the command may hold spaces, the ')' ends it.
                let ppid: u32 = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                (ppid == pid).then_some(child)
            });
        for child in children.chain([pid]) {
            signal(name, child);
        }
    }

    /// Stops the server by its pid once this process is gone, and removes its directory.
    fn watch(&self) {
        let Some(pid) = self.pid else { return };
        let script = format!(
            "(while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -INT {pid}; \
             while kill -0 {pid} 2>/dev/null; do sleep 1; done; rm -rf '{dir}') &",
            me = std::process::id(),
            dir = self.dir.display()
        );
        // The shell starts the watchdog in the background and exits: the watchdog outlives
        // this process, adopted by init.
        let started = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(started.success(), "cannot start the PostgreSQL watchdog");
    }
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The directory of `initdb`, `pg_ctl` and `postgres`: `TESSERA_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin`, else the directory on `PATH` that has them.
fn binaries() -> PathBuf {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("TESSERA_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            complete(&dir),
            "TESSERA_PG_BIN={}: {INSTALL}",
            dir.display()
        );
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return dir;
    }
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| complete(dir)))
        .unwrap_or_else(|| panic!("no PostgreSQL binaries found; {INSTALL}"))
}

/// True if this process runs as root (initdb refuses to).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn user_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, user]).output().unwrap();
        assert!(
            out.status.success(),
            "the tests run as root and there is no user {user} to run PostgreSQL as; \
             `apt-get install postgresql` creates it (or set {URL_VAR})"
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (id("-u"), id("-g"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The conformance suite's backend on PostgreSQL: a database of its own on the shared server.
#[derive(Debug)]
pub struct PostgresDatabase {
    url: PostgresUrl,
}

impl PostgresDatabase {
    /// A new empty database on [`TestPostgres::shared`].
    pub fn new() -> Self {
        Self {
            url: TestPostgres::shared().database(),
        }
    }
}

impl Default for PostgresDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for PostgresDatabase {
    type Store = PostgresStore;

    async fn open(&self) -> PostgresStore {
        PostgresStore::open(&self.url).unwrap()
    }
}
