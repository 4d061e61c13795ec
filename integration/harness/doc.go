// Package harness starts private database servers and builds the siphon
// binary for integration tests and the demo program.
//
// It owns nothing but test infrastructure: no siphon code depends on it, and
// it never talks to a server it did not start.
//
// # MariaDB instance lifecycle
//
// StartMariaDB creates a temporary directory, initialises a fresh data
// directory in it with mariadb-install-db (root has an empty password and
// password authentication; no test database), picks a free loopback port and
// runs mariadbd in the foreground as a child process. It returns once a root
// connection over TCP answers a query, polling with a deadline; if mariadbd
// exits first, the error carries the tail of its error log. When the port
// was taken between FreePort and mariadbd's bind, it retries with a new port
// (three attempts in all).
//
// Initialising a data directory costs a few seconds, so a test package should
// share one instance (MainWithMariaDB or SharedMariaDB) and give each test its own
// database (NewDatabase). NewMariaDB starts a private instance for a single
// test, for tests that kill or restart the server.
//
// Stop shuts the server down gracefully (SIGTERM, SIGKILL after a grace
// period) and deletes the directory. Kill sends SIGKILL and keeps the
// directory, so Restart can start the server again on the same data and port
// and InnoDB runs its crash recovery. mariadbd is started with a parent-death
// signal, so a test binary that dies does not leave a server behind.
//
// # Directory layout
//
//	<Dir>/data             datadir
//	<Dir>/binlog/          binary logs (mariadb-bin.NNNNNN)
//	<Dir>/tmp/             tmpdir (private: a starting mariadbd deletes
//	                       "#sql*" files in its tmpdir, so a shared /tmp
//	                       breaks a concurrent mariadb-install-db)
//	<Dir>/error.log        the server's error log
//	<Dir>/mariadbd.out     stdout and stderr of mariadbd and mariadb-install-db
//	<Dir>/mysql.sock       Unix socket
//	<Dir>/mariadbd.pid     pid file
//	<Dir>/owner.pid        pid of the process that called StartMariaDB
//
// A test binary that dies without Stop (a -timeout panic, a killed fuzz
// worker) leaves its directory behind; the next StartMariaDB removes such
// directories once their owner and server processes are both gone.
//
// # Server settings and why
//
//   - --no-defaults: no /etc/mysql/my.cnf or ~/.my.cnf leaks into a test.
//   - --tmpdir=<Dir>/tmp: see the layout above.
//   - --bind-address=127.0.0.1, --skip-name-resolve: loopback only, and
//     accounts match by IP without DNS.
//   - --log-bin, --binlog-format=ROW, --binlog-row-image=FULL: what siphon
//     reads; full before and after images of every row.
//   - --binlog-row-metadata=FULL (default) or MINIMAL: FULL logs column names,
//     signedness and charsets in Table_map events; MINIMAL lets tests cover
//     servers configured without it.
//   - --server-id (default 1) and --gtid-strict-mode=ON: a well-formed GTID
//     primary, as siphon expects in production.
//   - --character-set-server=utf8mb4, --collation-server=utf8mb4_general_ci,
//     --default-time-zone=+00:00: deterministic text and temporal values.
//   - --innodb-buffer-pool-size=64M, --innodb-log-file-size=48M,
//     --max-connections=200: small but not starved on a 2-core machine.
//   - --innodb-flush-log-at-trx-commit=2, --sync-binlog=0: no fsync per
//     commit. Durability across an OS crash is not under test; the binlog and
//     redo log still reach the OS on every commit, so Kill (SIGKILL of the
//     server only) loses no committed transaction.
//   - sql_mode is left at the server default (STRICT_TRANS_TABLES,
//     ERROR_FOR_DIVISION_BY_ZERO, NO_AUTO_CREATE_USER,
//     NO_ENGINE_SUBSTITUTION on 10.11).
//
// When running as root, both mariadb-install-db and mariadbd get --user=root.
//
// # Connections
//
// Exec, Query and the readiness check use the go-mysql client with a fresh
// connection per call, charset utf8mb4; the context cancels a call by
// closing its connection.
package harness
