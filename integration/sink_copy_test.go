package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestSinkCopyBinary copies a table whose every column PostgreSQL takes in
// COPY's binary format (integers, decimals, floats, text, bytes, dates and
// timestamps, NULLs and extremes) — snapshot chunks and a large insert,
// both written by COPY — and checks the target row by row with siphon
// verify, and a few rows against the values MariaDB reads.
func TestSinkCopyBinary(t *testing.T) {
	src := newDatabase(t, shared)
	const ddl = `CREATE TABLE copy_types (id BIGINT NOT NULL PRIMARY KEY, i INT, s SMALLINT, u INT UNSIGNED, v VARCHAR(20),
		t TEXT, d DECIMAL(14,4), dz DECIMAL(30,10), dt DATETIME(6), dd DATE, ts TIMESTAMP(3) NULL, f DOUBLE, r FLOAT, b VARBINARY(8))`
	rows := func(from, to int) string {
		return fmt.Sprintf(`INSERT INTO copy_types SELECT n, IF(n %% 7 = 0, NULL, n * 1000 - 500000), n %% 32767 - 16000, n * 3,
			CONCAT('v', n, IF(n %% 5 = 0, '\t\\x', '')), IF(n %% 11 = 0, NULL, REPEAT('é', n %% 9)),
			(n - 400) * 1.0625, IF(n %% 3 = 0, -0.0000000001 * n, 12345678901234567890.0123456789 / n),
			TIMESTAMP'1969-12-31 23:59:59.999999' + INTERVAL n * 86399 SECOND, DATE'1900-03-01' + INTERVAL n * 97 DAY,
			IF(n %% 13 = 0, NULL, TIMESTAMP'2038-01-18 00:00:00.125' - INTERVAL n * 3607 SECOND),
			n * 1.5e-7 - 3, n / 8, IF(n %% 4 = 0, x'', UNHEX(HEX(n * 7919)))
			FROM (SELECT CAST(seq AS SIGNED) AS n FROM seq_%d_to_%d) q`, from, to)
	}
	mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", ddl, rows(1, 700))
	pg, db := targetPostgres(t)
	e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, snapshot: "initial", sink: pgSinkYAML(pg, db, ""),
		pipeline: "    batch: {max_events: 4096}\n"})
	replaceInConfig(t, e, "      snapshot: initial\n", "      snapshot: initial\n      snapshot_chunk_rows: 300\n")
	p := e.start()
	count := func() int {
		r, err := pg.Query(testContext(t, time.Minute), db, "SELECT count(*) FROM public.copy_types")
		if err != nil {
			return 0
		}
		var n int
		fmt.Sscan(r[0][0], &n)
		return n
	}
	eventually(t, p, time.Minute, "the snapshot in the target", func() (bool, string) { n := count(); return n == 700, fmt.Sprint(n, " rows") })
	// One source transaction of 600 inserts: a run written by COPY.
	mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", "BEGIN", rows(701, 1300), "COMMIT")
	eventually(t, p, time.Minute, "the insert in the target", func() (bool, string) { n := count(); return n == 1300, fmt.Sprint(n, " rows") })

	out, text, code := e.verify()
	if code != 0 || !out.Identical || len(out.Results) != 1 || out.Results[0].Rows != 1300 || len(out.Results[0].NotCompared) != 0 {
		t.Fatalf("verify: exit %d, want 0 with 1300 rows, every column compared\n%s", code, text)
	}
	got := pgMustQuery(t, pg, db, `SELECT id, i, u, v, d, dz, dt, dd, ts, b FROM public.copy_types WHERE id IN (7, 13, 400, 1300) ORDER BY id`)
	// As MariaDB reads them (time_zone +00:00), in PostgreSQL's forms.
	want := [][]string{
		{"7", "NULL", "21", "v7", "-417.5625", "1763668414462081127.1446208113", "1970-01-07 23:59:52.999999", "1902-01-09", "2038-01-17 16:59:11.125+00", "\\xd889"},
		{"13", "-487000", "39", "v13", "-411.1875", "949667607787274453.0778727445", "1970-01-13 23:59:46.999999", "1903-08-14", "NULL", "\\x019223"},
		{"400", "-100000", "1200", "v400\t\\x", "0.0000", "30864197253086419.7250308642", "1971-02-04 23:53:19.999999", "2006-05-24", "2038-01-01 07:13:20.125+00", "\\x"},
		{"1300", "800000", "3900", "v1300\t\\x", "956.2500", "9496676077872744.5307787274", "1973-07-23 23:38:19.999999", "2245-05-31", "NULL", "\\x"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("target rows:\n%s\nwant:\n%s", strings.ReplaceAll(fmt.Sprint(got), "] [", "]\n["), strings.ReplaceAll(fmt.Sprint(want), "] [", "]\n["))
	}

	// A value the target refuses inside a COPY run: the COPY is undone,
	// the run applied again statement by statement, and the pipeline stops
	// naming the row; nothing of its transaction is committed.
	pgMustExec(t, pg, db, "ALTER TABLE public.copy_types ADD CONSTRAINT u_small CHECK (u < 1000000) NOT VALID")
	mustExec(t, shared, "USE "+src, "BEGIN", `INSERT INTO copy_types (id, u) SELECT n, IF(n = 1500, 1000000, n)
		FROM (SELECT CAST(seq AS SIGNED) AS n FROM seq_1301_to_1700) q`, "COMMIT")
	if code := p.wait(t, time.Minute); code == 0 {
		t.Fatalf("siphon exited 0 on a row the target refuses:\n%s", p.logs())
	}
	for _, want := range []string{"table " + src + ".copy_types", "key id=1500"} {
		if !strings.Contains(p.logs(), want) {
			t.Fatalf("the error does not name %q:\n%s", want, p.logs())
		}
	}
	if n := count(); n != 1300 {
		t.Fatalf("%d rows in the target after the stop, want the 1300 before the refused transaction", n)
	}
}

// TestSinkCopyHeldAcrossWrites snapshots a table of many small chunks
// (each large enough for COPY) into PostgreSQL: one COPY goes on across
// chunks and writes (the target transaction held open past their
// positions), so the target sees far fewer COPY statements than chunks —
// counted by a statement trigger. A kill -9 while such a COPY streams
// loses nothing: the restart reads the snapshot again from its last
// durable chunk, and the table, its checkpoint row and verify are right.
func TestSinkCopyHeldAcrossWrites(t *testing.T) {
	const rows, chunk = 100000, 300
	src := newDatabase(t, shared)
	mustExec(t, shared, "USE "+src, "CREATE TABLE held (id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, s VARCHAR(40))",
		fmt.Sprintf("INSERT INTO held SELECT seq, seq * 3, CONCAT('row ', seq) FROM seq_1_to_%d", rows))
	pg, db := targetPostgres(t)
	pgMustExec(t, pg, db, "CREATE TABLE public.held (id bigint PRIMARY KEY, a integer NOT NULL, s character varying(40))",
		"CREATE TABLE public.statements (n integer NOT NULL)", "INSERT INTO public.statements VALUES (0)",
		`CREATE FUNCTION public.count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN UPDATE public.statements SET n = n + 1; RETURN NULL; END $$`,
		"CREATE TRIGGER held_statements AFTER INSERT ON public.held FOR EACH STATEMENT EXECUTE FUNCTION public.count_statement()")
	e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, snapshot: "initial", sink: pgSinkYAML(pg, db, "        copy_merge: 1m\n")})
	replaceInConfig(t, e, "      snapshot: initial\n", fmt.Sprintf("      snapshot: initial\n      snapshot_chunk_rows: %d\n", chunk))

	// First run: killed while a COPY has taken some rows, none committed.
	// A connection of its own polls often: the snapshot takes a second.
	ctx := testContext(t, 2*time.Minute)
	watch, err := pgx.Connect(ctx, pg.SuperuserURL(db))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	p := e.start()
	for deadline := time.Now().Add(time.Minute); ; {
		var n int64
		if err := watch.QueryRow(ctx, "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2*chunk {
			break
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("no COPY under way (%d rows):\n%s", n, p.logs())
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.kill(t)
	if n := pgMustQuery(t, pg, db, "SELECT count(*) FROM public.held")[0][0]; n == fmt.Sprint(rows) {
		t.Fatalf("the whole snapshot was committed before the kill; nothing was held")
	}
	pgMustExec(t, pg, db, "UPDATE public.statements SET n = 0")

	p = e.start()
	eventually(t, p, time.Minute, "the snapshot in the target", func() (bool, string) {
		n := pgMustQuery(t, pg, db, "SELECT count(*) FROM public.held")[0][0]
		return n == fmt.Sprint(rows), n + " rows"
	})
	if code := p.stop(t); code != 0 {
		t.Fatalf("siphon exited %d:\n%s", code, p.logs())
	}
	statements, _ := strconv.Atoi(pgMustQuery(t, pg, db, "SELECT n FROM public.statements")[0][0])
	if chunks := rows / chunk; statements == 0 || statements > chunks/2 {
		t.Fatalf("%d COPY statements for %d chunks of %d rows: COPYs were not held open across chunks", statements, chunks, chunk)
	}
	t.Logf("after the restart: %d COPY statements (%d chunks)", statements, rows/chunk)
	out, text, code := e.verify()
	if code != 0 || !out.Identical || out.Results[0].Rows != rows {
		t.Fatalf("verify: exit %d\n%s", code, text)
	}
	cp := pgMustQuery(t, pg, db, "SELECT count(*), min((position IS NOT NULL)::text) FROM public.siphon_checkpoints WHERE pipeline = 'test'")
	if cp[0][0] != "1" || cp[0][1] != "true" {
		t.Fatalf("checkpoint rows %v, want one with a position", cp)
	}
}

// TestSinkCopyHeldFailsAndReplays snapshots into a target that already
// holds one of the rows, with other values: the COPY held open across
// chunks fails on that key, the whole target transaction is undone and
// applied again — from the events siphon kept (upserts, COPYs no longer
// held) or, when the transaction outgrew what is kept for a replay, by
// restarting the pipeline from its checkpoint — and the target ends
// identical to the source.
func TestSinkCopyHeldFailsAndReplays(t *testing.T) {
	for _, tt := range []struct {
		name               string
		rows, chunk, clash int
		want               string // in siphon's log
	}{
		{"replayed", 12000, 500, 9000, "the open transaction is applied again"},
		// One chunk of 200,000 rows: a transaction beyond what is kept.
		{"restarted", 200000, 200000, 190000, "pipeline restarting from its checkpoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			mustExec(t, shared, "USE "+src, "CREATE TABLE clash (id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, s VARCHAR(40))",
				fmt.Sprintf("INSERT INTO clash SELECT seq, seq * 3, CONCAT('row ', seq) FROM seq_1_to_%d", tt.rows))
			pg, db := targetPostgres(t)
			pgMustExec(t, pg, db, "CREATE TABLE public.clash (id bigint PRIMARY KEY, a integer NOT NULL, s character varying(40))",
				fmt.Sprintf("INSERT INTO public.clash VALUES (%d, -1, 'stale')", tt.clash))
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, snapshot: "initial", sink: pgSinkYAML(pg, db, "        copy_merge: 1m\n")})
			replaceInConfig(t, e, "      snapshot: initial\n", fmt.Sprintf("      snapshot: initial\n      snapshot_chunk_rows: %d\n      snapshot_parallelism: 1\n", tt.chunk))
			p := e.start()
			eventually(t, p, 2*time.Minute, "the snapshot in the target", func() (bool, string) {
				r := pgMustQuery(t, pg, db, fmt.Sprintf("SELECT count(*), coalesce(max(a) FILTER (WHERE id = %d), 0) FROM public.clash", tt.clash))
				return r[0][0] == fmt.Sprint(tt.rows) && r[0][1] == fmt.Sprint(3*tt.clash), fmt.Sprint(r)
			})
			if code := p.stop(t); code != 0 {
				t.Fatalf("siphon exited %d:\n%s", code, p.logs())
			}
			for _, want := range []string{"a COPY held open across writes failed", tt.want} {
				if !strings.Contains(p.logs(), want) {
					t.Fatalf("siphon's log does not say %q:\n%s", want, p.logs())
				}
			}
			out, text, code := e.verify()
			if code != 0 || !out.Identical || out.Results[0].Rows != int64(tt.rows) {
				t.Fatalf("verify: exit %d\n%s", code, text)
			}
		})
	}
}
