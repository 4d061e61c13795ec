// Command benchsink measures siphon's database targets: MariaDB →
// PostgreSQL, against limits measured in the same run on the same
// private servers.
//
//   - snapshot: siphon copying an N-row 10-column table (snapshot:
//     initial_only into the postgres sink) against
//     `mariadb --batch --quick -e 'SELECT …' | psql -c '\copy … FROM stdin'`
//     into the same target DDL;
//   - catch-up: siphon applying an N-row binlog backlog (in -tx-rows row
//     source transactions) against PostgreSQL's own
//     INSERT … SELECT … ON CONFLICT DO UPDATE of the same rows (a
//     server-side bound: no client, no parsing);
//   - lag: single-row source transactions committed for -lag-for, as fast
//     as one connection can or at -lag-rate per second; commit-to-visible
//     latency from a source timestamp column to a target-side
//     clock_timestamp() default. The reference: the rate the source
//     commits at alone (3 s, siphon not running).
//
// Run it with `go run ./integration/benchsink -rows 1000000`; -source,
// -sink and -pipeline add settings to siphon's configuration (e.g.
// -pipeline 'buffer: {max_batches: 4}'), BENCH_SHOW_STDERR=1 prints
// siphon's log, BENCH_LAG_DETAIL=1 the lag run's worst latency per 250 ms,
// BENCH_SIPHON=<binary> measures that binary instead of this tree's;
// -snapshot-rounds N alternates the snapshot and its reference N times and
// prints the median ratio.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/siphoncdc/siphon/integration/harness"
)

const sourceDDL = `(id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, b BIGINT, c VARCHAR(64), d DECIMAL(12,2),
	e DATETIME(3), f DOUBLE, g TEXT, h TINYINT, i TIMESTAMP NULL)`

// targetDDL is what the postgres sink creates for sourceDDL (docs/type-mapping.md).
const targetDDL = `(id bigint PRIMARY KEY, a integer NOT NULL, b bigint, c character varying(64), d numeric(12,2),
	e timestamp(3) without time zone, f double precision, g text, h smallint, i timestamp(0) with time zone)`

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the table and in the backlog")
	txRows := flag.Int("tx-rows", 1000, "rows per source transaction of the backlog")
	only := flag.String("only", "", "run only this part: snapshot, catchup or lag")
	flag.DurationVar(&lagFor, "lag-for", 10*time.Second, "how long the lag part writes")
	flag.IntVar(&snapshotRounds, "snapshot-rounds", 1, "reference and siphon snapshot runs, alternated; more than 1 prints the median ratio")
	flag.IntVar(&lagRate, "lag-rate", 0, "transactions per second the lag part writes (0: as fast as one connection can)")
	flag.StringVar(&sourceExtra, "source", "", "more source settings, as YAML flow-map entries (e.g. 'snapshot_parallelism: 1')")
	flag.StringVar(&sinkExtra, "sink", "", "more sink settings, as YAML flow-map entries (e.g. 'workers: 2')")
	flag.StringVar(&pipelineExtra, "pipeline", "", "more pipeline settings, as YAML flow-map entries (e.g. 'batch: {max_events: 8192}')")
	flag.Parse()
	if err := run(*rows, *txRows, *only); err != nil {
		fmt.Fprintln(os.Stderr, "benchsink:", err)
		os.Exit(1)
	}
}

func fill(ctx context.Context, db *harness.MariaDB, table string, rows, txRows int) error {
	for lo := 1; lo <= rows; lo += txRows {
		hi := min(lo+txRows-1, rows)
		err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO bench.%s SELECT seq, seq %% 100000, seq * 7, CONCAT('customer-', seq),
			seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq * 1.5, REPEAT('lorem ipsum ', 8),
			seq %% 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM bench.seq_%d_to_%d`, table, lo, hi))
		if err != nil {
			return err
		}
	}
	return nil
}

func run(rows, txRows int, only string) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "siphon-benchsink-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := os.Getenv("BENCH_SIPHON") // a siphon binary to measure instead of building this tree's
	if bin == "" {
		var err error
		if bin, err = harness.BuildSiphon(ctx, work); err != nil {
			return err
		}
	}
	my, err := harness.StartMariaDB(ctx, harness.MariaDBOptions{ExtraArgs: []string{"--innodb-buffer-pool-size=256M"}})
	if err != nil {
		return err
	}
	defer func() { _ = my.Stop() }()
	pg, err := harness.StartPostgres(ctx, harness.PostgresOptions{Conf: map[string]string{"shared_buffers": "256MB", "max_wal_size": "4GB"}})
	if err != nil {
		return err
	}
	defer func() { _ = pg.Stop() }()
	if err := my.Exec(ctx, "CREATE DATABASE bench", "CREATE TABLE bench.t10 "+sourceDDL, "CREATE TABLE bench.s10 "+sourceDDL); err != nil {
		return err
	}
	if only == "" || only == "snapshot" {
		began := time.Now()
		if err := fill(ctx, my, "t10", rows, 10000); err != nil {
			return err
		}
		fmt.Printf("table: %d rows written in %s\n", rows, time.Since(began).Round(time.Millisecond))
		if err := snapshot(ctx, bin, work, my, pg, rows); err != nil {
			return err
		}
	}
	if only == "" || only == "catchup" {
		if err := catchUp(ctx, bin, work, my, pg, rows, txRows); err != nil {
			return err
		}
	}
	if only == "" || only == "lag" {
		return lag(ctx, bin, work, my, pg)
	}
	return nil
}

var (
	lagFor         time.Duration
	lagRate        int
	snapshotRounds int
	sourceExtra    string
	sinkExtra      string
	pipelineExtra  string
)

func lag(ctx context.Context, bin, work string, my *harness.MariaDB, pg *harness.Postgres) error {
	if err := my.Exec(ctx, "CREATE TABLE bench.lag (id INT NOT NULL PRIMARY KEY, ts DATETIME(6) NOT NULL)"); err != nil {
		return err
	}
	dst, err := pg.NewDatabase(ctx, "lag")
	if err != nil {
		return err
	}
	if err := pg.Exec(ctx, dst, "CREATE TABLE lag (id integer PRIMARY KEY, ts timestamp(6) without time zone NOT NULL, "+
		"visible timestamptz NOT NULL DEFAULT clock_timestamp())"); err != nil {
		return err
	}
	cfg, err := config(work, "lag", my, pg, dst, "lag", "never")
	if err != nil {
		return err
	}
	// The reference: the source's own commit rate, one connection, with
	// siphon not running.
	c, err := client.Connect(my.Addr(), "root", "", "bench")
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Execute("SET time_zone = '+00:00'"); err != nil {
		return err
	}
	if _, err := c.Execute("CREATE TABLE lag_alone LIKE lag"); err != nil {
		return err
	}
	alone, err := insertLoop(c, "lag_alone", 3*time.Second, 0)
	if err != nil {
		return err
	}
	fmt.Printf("lag: the source alone commits %.0f single-row transactions/s (one connection, siphon not running)\n", float64(alone)/3)

	if err := settle(ctx, pg, dst); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "pipeline drained") {
				fmt.Println("lag: siphon:", l)
			}
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "starting at the binlog end") {
		if time.Now().After(deadline) {
			return fmt.Errorf("siphon did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	n, err := insertLoop(c, "lag", lagFor, lagRate)
	if err != nil {
		return err
	}
	for deadline = time.Now().Add(time.Minute); ; {
		got, err := count(ctx, pg, dst, "lag")
		if err != nil {
			return err
		}
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lag: %d of %d rows visible after a minute", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r, err := pg.Query(ctx, dst, `SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(max(ms)::numeric, 1)
  FROM (SELECT extract(epoch FROM visible - (ts AT TIME ZONE 'UTC')) * 1000 AS ms FROM lag) l`)
	if err != nil {
		return err
	}
	fmt.Printf("lag: %d single-row transactions in %s (%.0f/s); commit-to-visible p50 %s ms, p99 %s ms, max %s ms\n",
		n, lagFor, float64(n)/lagFor.Seconds(), r[0][0], r[0][1], r[0][2])
	if os.Getenv("BENCH_LAG_DETAIL") != "" {
		d, err := pg.Query(ctx, dst, `SELECT to_char(date_trunc('second', ts) + floor(extract(milliseconds FROM ts)::int % 1000 / 250) * interval '250 ms', 'MI:SS.MS'),
  count(*), round(max(extract(epoch FROM visible - (ts AT TIME ZONE 'UTC')) * 1000)::numeric, 1)
  FROM lag GROUP BY 1 ORDER BY 1`)
		if err != nil {
			return err
		}
		for _, row := range d {
			fmt.Println("  ", strings.Join(row, " "))
		}
	}
	return nil
}

// settle makes a measured run start with nothing of an earlier one still
// to write out: PostgreSQL's dirty buffers (CHECKPOINT) and, because the
// harness runs it with fsync off, the kernel's dirty pages (sync) — left
// behind, their writeback would slow whichever run comes second.
func settle(ctx context.Context, pg *harness.Postgres, db string) error {
	if err := pg.Exec(ctx, db, "CHECKPOINT"); err != nil {
		return err
	}
	syscall.Sync()
	return nil
}

// insertLoop commits single-row transactions into table for d, at rate
// per second (0: as fast as the connection can), and returns how many.
func insertLoop(c *client.Conn, table string, d time.Duration, rate int) (int, error) {
	n := 0
	begin := time.Now()
	for end := begin.Add(d); time.Now().Before(end); {
		if rate > 0 {
			// A steady rate: transaction n starts at n/rate.
			if wait := time.Duration(float64(n)/float64(rate)*float64(time.Second)) - time.Since(begin); wait > 0 {
				time.Sleep(wait)
			}
		}
		n++
		if _, err := c.Execute(fmt.Sprintf("INSERT INTO %s VALUES (%d, NOW(6))", table, n)); err != nil {
			return n, err
		}
	}
	return n, nil
}

func config(work, name string, my *harness.MariaDB, pg *harness.Postgres, db, table, snapshot string) (string, error) {
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "siphon.yaml")
	return cfg, os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: ./state
log: {level: info}
pipelines:
  - {name: bench%s,
    source: {type: mysql, url: "%s", server_id: 77, tables: ["bench.%s"], snapshot: %s%s},
    sinks: [{type: postgres, url: "%s"%s}]}
`, extra(pipelineExtra), my.URL("root", ""), table, snapshot, extra(sourceExtra), pg.SuperuserURL(db), extra(sinkExtra))), 0o600)
}

func extra(entries string) string {
	if entries == "" {
		return ""
	}
	return ", " + entries
}

func snapshot(ctx context.Context, bin, work string, my *harness.MariaDB, pg *harness.Postgres, rows int) error {
	// Rounds alternate the reference and siphon, each into a fresh
	// database: on a shared machine one pair of runs can be minutes apart
	// in what the machine gives them; the median ratio is steadier.
	var ratios, refRates, rates []float64
	for round := 1; round <= snapshotRounds; round++ {
		refRate, rate, err := snapshotRound(ctx, bin, work, my, pg, rows, round)
		if err != nil {
			return err
		}
		refRates, rates, ratios = append(refRates, refRate), append(rates, rate), append(ratios, rate/refRate)
	}
	if snapshotRounds > 1 {
		fmt.Printf("snapshot over %d rounds: siphon %.0f rows/s, reference %.0f rows/s, median ratio %.2f (%.2f–%.2f)\n",
			snapshotRounds, median(rates), median(refRates), median(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func snapshotRound(ctx context.Context, bin, work string, my *harness.MariaDB, pg *harness.Postgres, rows, round int) (refRate, rate float64, err error) {
	ref, err := pg.NewDatabase(ctx, "ref")
	if err != nil {
		return 0, 0, err
	}
	if err := pg.Exec(ctx, ref, "CREATE TABLE t10 "+targetDDL); err != nil {
		return 0, 0, err
	}
	pipe := fmt.Sprintf(`mariadb --no-defaults --batch --quick --skip-column-names -h %s -P %d -u root -e 'SELECT * FROM bench.t10' | %s -X -q -d '%s' -c '\copy t10 from stdin'`,
		my.Host, my.Port, filepath.Join(pg.BinDir(), "psql"), pg.SuperuserURL(ref))
	// Each measured run starts with nothing of an earlier one to write out.
	if err := settle(ctx, pg, ref); err != nil {
		return 0, 0, err
	}
	began := time.Now()
	if out, err := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", pipe).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("reference pipe: %w: %s", err, out)
	}
	refRate = float64(rows) / time.Since(began).Seconds()
	fmt.Printf("snapshot reference (mariadb | psql \\copy): %.0f rows/s\n", refRate)

	dst, err := pg.NewDatabase(ctx, "snap")
	if err != nil {
		return 0, 0, err
	}
	cfg, err := config(work, fmt.Sprintf("snap%d", round), my, pg, dst, "t10", "initial_only")
	if err != nil {
		return 0, 0, err
	}
	if err := settle(ctx, pg, dst); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began = time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("siphon: %w\n%s", err, stderr.String())
	}
	d := time.Since(began)
	if os.Getenv("BENCH_SHOW_STDERR") != "" {
		fmt.Fprint(os.Stderr, stderr.String())
	}
	n, err := count(ctx, pg, dst, "t10")
	if err != nil {
		return 0, 0, err
	}
	if n != rows {
		return 0, 0, fmt.Errorf("siphon's snapshot left %d rows in the target, want %d", n, rows)
	}
	rate = float64(rows) / d.Seconds()
	fmt.Printf("snapshot siphon MariaDB → PostgreSQL: %.0f rows/s (%.2f of the reference), %s\n", rate, rate/refRate, d.Round(time.Millisecond))
	// The next round starts from a machine without these databases.
	if err := pg.Exec(ctx, "postgres", "DROP DATABASE "+ref, "DROP DATABASE "+dst); err != nil {
		return 0, 0, err
	}
	return refRate, rate, nil
}

func count(ctx context.Context, pg *harness.Postgres, db, table string) (int, error) {
	r, err := pg.Query(ctx, db, "SELECT count(*) FROM "+table)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(r[0][0])
}

func catchUp(ctx context.Context, bin, work string, my *harness.MariaDB, pg *harness.Postgres, rows, txRows int) error {
	dst, err := pg.NewDatabase(ctx, "stream")
	if err != nil {
		return err
	}
	cfg, err := config(work, "stream", my, pg, dst, "s10", "never")
	if err != nil {
		return err
	}
	// A first run stores the binlog end as the position, then stops.
	start := func() (*exec.Cmd, *strings.Builder, error) {
		cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Start()
		return cmd, &stderr, err
	}
	cmd, stderr, err := start()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "starting at the binlog end") {
		if time.Now().After(deadline) {
			return fmt.Errorf("siphon did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One row, so that a position is checkpointed (and the table created).
	if err := my.Exec(ctx, "INSERT INTO bench.s10 (id, a) VALUES (0, 0)"); err != nil {
		return err
	}
	for n := 0; n < 1; {
		if n, err = count(ctx, pg, dst, "s10"); err != nil && !strings.Contains(err.Error(), "does not exist") {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("siphon did not apply the first row:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("siphon: %w\n%s", err, stderr.String())
	}
	began := time.Now()
	if err := fill(ctx, my, "s10", rows, txRows); err != nil {
		return err
	}
	fmt.Printf("backlog: %d rows in %d-row transactions written in %s\n", rows, txRows, time.Since(began).Round(time.Millisecond))

	cmd, stderr, err = start()
	if err != nil {
		return err
	}
	began = time.Now()
	for {
		// The last key's arrival, not count(*): a count scans the table
		// every poll and takes CPU from the run it measures. Transactions
		// are applied in order, so the last row comes last.
		last, err := pg.Query(ctx, dst, "SELECT coalesce(max(id), -1) FROM s10")
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			return err
		}
		if err == nil && last[0][0] == strconv.Itoa(rows) {
			break
		}
		if cmd.ProcessState != nil || (cmd.Process != nil && cmd.Process.Signal(syscall.Signal(0)) != nil) {
			return fmt.Errorf("siphon exited:\n%s", stderr.String())
		}
		if time.Since(began) > 30*time.Minute {
			return fmt.Errorf("catch-up: row %d not in the target after 30 minutes", rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d := time.Since(began)
	if n, err := count(ctx, pg, dst, "s10"); err != nil {
		return err
	} else if n != rows+1 {
		return fmt.Errorf("catch-up: the last row arrived with %d rows in the target, want %d", n, rows+1)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("siphon: %w\n%s", err, stderr.String())
	}
	if os.Getenv("BENCH_SHOW_STDERR") != "" {
		fmt.Fprint(os.Stderr, stderr.String())
	}
	rate := float64(rows) / d.Seconds()

	// The reference: the target's own upsert of the same rows, fresh and
	// all-conflict.
	upsert := "INSERT INTO s10_ref SELECT * FROM s10 ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, " +
		"d = EXCLUDED.d, e = EXCLUDED.e, f = EXCLUDED.f, g = EXCLUDED.g, h = EXCLUDED.h, i = EXCLUDED.i"
	if err := pg.Exec(ctx, dst, "CREATE TABLE s10_ref (LIKE s10 INCLUDING ALL)"); err != nil {
		return err
	}
	var rates [2]float64
	for i := range rates {
		t0 := time.Now()
		if err := pg.Exec(ctx, dst, upsert); err != nil {
			return err
		}
		rates[i] = float64(rows) / time.Since(t0).Seconds()
	}
	fmt.Printf("catch-up reference (INSERT … SELECT … ON CONFLICT): %.0f rows/s fresh, %.0f rows/s all-conflict\n", rates[0], rates[1])
	fmt.Printf("catch-up siphon MariaDB → PostgreSQL: %.0f rows/s (%.2f of fresh, %.2f of all-conflict), %s\n",
		rate, rate/rates[0], rate/rates[1], d.Round(time.Millisecond))
	// Left behind, its 3M row versions would keep autovacuum busy during
	// the lag part.
	return pg.Exec(ctx, "postgres", "DROP DATABASE "+dst)
}
