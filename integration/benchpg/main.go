// Command benchpg is siphon's benchmark for the PostgreSQL source. It
// starts a private PostgreSQL, creates two logical slots at the same
// position, writes a backlog of one N-row INSERT transaction and one
// N-row UPDATE transaction into a 10-column table, then measures in the
// same run, on the same WAL range:
//
//   - the reference: pg_recvlogical with pgoutput (protocol 2, streaming
//     on) writing to /dev/null until the backlog's end LSN (--endpos);
//   - siphon: the binary catching up on the backlog into the file sink,
//     its rows/s and its peak RSS (VmHWM);
//   - the reference again, on a third slot: on a shared machine the load
//     changes within a run, so siphon is compared with both and with their
//     mean.
//
// Run it with `go run ./integration/benchpg -rows 1000000`.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in each of the two backlog transactions")
	schemas := flag.Bool("schemas", false, "file sink schemas.enable")
	workMem := flag.String("work-mem", "64MB", "logical_decoding_work_mem of the server")
	flag.Parse()
	if err := run(*rows, *schemas, *workMem); err != nil {
		fmt.Fprintln(os.Stderr, "benchpg:", err)
		os.Exit(1)
	}
}

func run(rows int, schemas bool, workMem string) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "siphon-benchpg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := harness.BuildSiphon(ctx, work)
	if err != nil {
		return err
	}
	pg, err := harness.StartPostgres(ctx, harness.PostgresOptions{Conf: map[string]string{
		"logical_decoding_work_mem": workMem, "shared_buffers": "256MB", "max_wal_size": "8GB", "checkpoint_timeout": "30min",
	}})
	if err != nil {
		return err
	}
	defer func() { _ = pg.Stop() }()
	const db = "bench"
	if err := pg.Exec(ctx, "", "CREATE DATABASE "+db); err != nil {
		return err
	}
	if err := pg.Exec(ctx, db, `CREATE TABLE t10 (
		id bigint NOT NULL PRIMARY KEY, a integer NOT NULL, b bigint, c varchar(64), d numeric(12,2),
		e timestamp(3), f double precision, g text, h smallint, i timestamptz)`,
		"CREATE PUBLICATION bench_pub FOR TABLE t10",
		"SELECT pg_create_logical_replication_slot('siphon_bench', 'pgoutput')",
		"SELECT pg_create_logical_replication_slot('reference', 'pgoutput')",
		"SELECT pg_create_logical_replication_slot('reference_after', 'pgoutput')"); err != nil {
		return err
	}
	began := time.Now()
	if err := pg.Exec(ctx, db,
		fmt.Sprintf(`INSERT INTO t10 SELECT i, i %% 1000, i * 7, 'name-' || i, (i %% 100000) / 100.0,
			'2024-01-01'::timestamp + i * interval '1 second', i / 3.0, repeat('g', 20 + i %% 40), (i %% 100)::smallint,
			'2024-01-01 00:00:00+00'::timestamptz + i * interval '1 ms' FROM generate_series(1, %d) i`, rows),
		"UPDATE t10 SET a = a + 1, c = c || '-u'"); err != nil {
		return err
	}
	end, err := pg.Query(ctx, db, "SELECT pg_current_wal_lsn()")
	if err != nil {
		return err
	}
	endLSN := end[0][0]
	fmt.Printf("backlog: %d-row INSERT and %d-row UPDATE, written in %s, WAL end %s\n", rows, rows, time.Since(began).Round(time.Millisecond), endLSN)

	refRate, err := reference(ctx, pg, db, "reference", endLSN, 2*rows)
	if err != nil {
		return err
	}
	ourRate, peak, err := siphon(ctx, bin, work, pg, db, 2*rows, schemas)
	if err != nil {
		return err
	}
	refAfter, err := reference(ctx, pg, db, "reference_after", endLSN, 2*rows)
	if err != nil {
		return err
	}
	fmt.Printf("ratio siphon/pg_recvlogical: %.2f (before %.2f, after %.2f); siphon peak RSS %.1f MB\n",
		ourRate/((refRate+refAfter)/2), ourRate/refRate, ourRate/refAfter, float64(peak)/1024)
	return nil
}

// reference runs pg_recvlogical over the backlog into /dev/null.
func reference(ctx context.Context, pg *harness.Postgres, db, slot, endLSN string, events int) (float64, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.BinDir(), "pg_recvlogical"),
		"-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", harness.PostgresSuperuser, "-d", db,
		"--slot", slot, "--start", "--endpos", endLSN, "--no-loop", "-f", "/dev/null",
		"-o", "proto_version=2", "-o", "publication_names=bench_pub", "-o", "streaming=on")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+harness.PostgresSuperuserPassword)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("pg_recvlogical: %w\n%s", err, stderr.String())
	}
	d := time.Since(began)
	rate := float64(events) / d.Seconds()
	fmt.Printf("pg_recvlogical (pgoutput v2, streaming on, to /dev/null): %d rows in %s: %.0f rows/s, its own CPU %s\n",
		events, d.Round(time.Millisecond), rate, cpu(cmd.ProcessState).Round(time.Millisecond))
	return rate, nil
}

// siphon runs the binary over the backlog until the file sink holds every
// event.
func siphon(ctx context.Context, bin, work string, pg *harness.Postgres, db string, events int, schemas bool) (float64, int, error) {
	cfg := filepath.Join(work, "siphon.yaml")
	out := filepath.Join(work, "events.jsonl")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: ./state
log: {level: debug}
pipelines:
  - name: bench
    source: {type: postgres, url: "%s", tables: ["public.*"], snapshot: never, slot: siphon_bench, publication: bench_pub}
    sinks: [{type: file, path: events.jsonl, schemas: %t}]
`, pg.SuperuserURL(db), schemas)), 0o600); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	cmd.Dir = work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	peak, lines := 0, 0
	var offset int64
	for lines < events {
		if kb := vmHWM(cmd.Process.Pid); kb > peak {
			peak = kb
		}
		n, next, err := countLines(out, offset)
		if err != nil && !os.IsNotExist(err) {
			return 0, 0, err
		}
		lines, offset = lines+n, next
		if time.Since(began) > 15*time.Minute {
			_ = cmd.Process.Kill()
			return 0, 0, fmt.Errorf("siphon did not catch up within 15 minutes (%d of %d events)\n%s", lines, events, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := time.Since(began)
	if kb := vmHWM(cmd.Process.Pid); kb > peak {
		peak = kb
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("siphon: %w\n%s", err, stderr.String())
	}
	fi, _ := os.Stat(out)
	rate := float64(events) / d.Seconds()
	fmt.Printf("siphon (file sink, schemas=%t): %d rows in %s: %.0f rows/s, %.1f MB of JSON, peak RSS (VmHWM) %.1f MB, CPU %s (%.1f µs/row)\n",
		schemas, events, d.Round(time.Millisecond), rate, float64(fi.Size())/1e6, float64(peak)/1024,
		cpu(cmd.ProcessState).Round(time.Millisecond), float64(cpu(cmd.ProcessState).Microseconds())/float64(events))
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "replayed streamed transaction") {
			fmt.Println(" ", l)
		}
	}
	return rate, peak, nil
}

// cpu is the user and system time of a finished process.
func cpu(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// countLines counts the newlines of path after offset.
func countLines(path string, offset int64) (int, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, offset, err
	}
	buf := make([]byte, 1<<20)
	n := 0
	for {
		m, err := f.Read(buf)
		n += bytes.Count(buf[:m], []byte{'\n'})
		offset += int64(m)
		if err == io.EOF {
			return n, offset, nil
		}
		if err != nil {
			return n, offset, err
		}
	}
}

// vmHWM is the peak resident set size of a process, in KiB.
func vmHWM(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			if f := strings.Fields(l); len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}
