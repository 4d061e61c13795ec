package integration

import (
	"strings"
	"testing"
	"time"
)

// TestPostgresIdleSlotAdvances: while the captured database is idle and
// other databases of the cluster take writes, the slot's
// confirmed_flush_lsn still advances past them — without siphon writing
// anything to the source.
func TestPostgresIdleSlotAdvances(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	other := pgNewDatabase(t, pg)
	pgMustExec(t, pg, db, "CREATE TABLE t (id integer PRIMARY KEY)")
	pgMustExec(t, pg, other, "CREATE TABLE busy (id integer PRIMARY KEY, pad text)")
	e := newPGEnv(t, pg, db, pgEnvOptions{})
	p := e.start()
	waitPGStarted(t, p)
	confirmed := func() string {
		return pgMustQuery(t, pg, "", "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'siphon_test'")[0][0]
	}
	start := confirmed()
	pgMustExec(t, pg, other, "INSERT INTO busy SELECT i, repeat('x', 500) FROM generate_series(1, 20000) i")
	target := pgMustQuery(t, pg, "", "SELECT pg_current_wal_lsn()")[0][0]
	deadline := time.Now().Add(time.Minute)
	for {
		rows := pgMustQuery(t, pg, "", "SELECT confirmed_flush_lsn >= '"+target+"'::pg_lsn, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'siphon_test'")
		if rows[0][0] == "t" {
			t.Logf("confirmed_flush_lsn moved from %s to %s (other database wrote up to %s)", start, rows[0][1], target)
			break
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("confirmed_flush_lsn stayed at %s, below %s, for a minute (started at %s)\n%s", rows[0][1], target, start, p.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(e.records()); n != 0 {
		t.Fatalf("%d records from an idle database", n)
	}
	// The stored position moved too, and a restart resumes there.
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	p = e.start()
	waitPGStarted(t, p)
	pgMustExec(t, pg, db, "INSERT INTO t VALUES (1)")
	e.waitRecords(p, time.Minute, atLeast(1))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestPostgresDroppedSlot: a slot dropped behind siphon's back, or
// recreated after siphon's position, is detected at start with an error
// naming the slot and the fix; with snapshot:
// when_needed siphon takes a new snapshot instead. siphon check reports
// the same and the replica identities.
func TestPostgresDroppedSlot(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	pgMustExec(t, pg, db, "CREATE TABLE t (id integer PRIMARY KEY, v integer)", "INSERT INTO t SELECT i, i FROM generate_series(1, 100) i",
		"CREATE TABLE nokey (a integer)", "CREATE TABLE full_t (id integer PRIMARY KEY)", "ALTER TABLE full_t REPLICA IDENTITY FULL")
	e := newPGEnv(t, pg, db, pgEnvOptions{snapshot: "initial", tables: `["public.t", "public.full_t", "public.nokey"]`})
	p := e.start()
	waitLog(t, p, "snapshot finished", time.Minute)
	pgMustExec(t, pg, db, "INSERT INTO t VALUES (101, 101)")
	e.waitRecords(p, time.Minute, atLeast(101))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	out, _, code := e.siphonCmd("check", "--config", e.config)
	for _, want := range []string{"pass  wal_level", "pass  privilege REPLICATION", "pass  publication siphon_test",
		"warn  replica identity public.t", "pass  replica identity public.full_t", "fail  replica identity public.nokey",
		"pass  stored position"} {
		if !strings.Contains(out, want) {
			t.Errorf("siphon check lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("siphon check exit %d, want 1 (nokey cannot be captured)", code)
	}

	pgMustExec(t, pg, db, "SELECT pg_drop_replication_slot('siphon_test')", "UPDATE t SET v = -v WHERE id <= 10")
	out, _, _ = e.siphonCmd("check", "--config", e.config)
	if !strings.Contains(out, "fail  stored position") || !strings.Contains(out, "does not exist") {
		t.Errorf("siphon check does not report the dropped slot:\n%s", out)
	}
	p = e.start()
	if code := p.wait(t, time.Minute); code == 0 {
		t.Fatalf("siphon resumed from a dropped slot")
	}
	for _, want := range []string{"replication slot siphon_test", "does not exist", "lsn_commit", "when_needed"} {
		if !strings.Contains(p.logs(), want) {
			t.Errorf("the error does not say %q:\n%s", want, p.logs())
		}
	}

	// A slot recreated under the same name starts after the stored
	// position: the changes in between are gone too.
	pgMustExec(t, pg, db, "SELECT pg_create_logical_replication_slot('siphon_test', 'pgoutput')")
	p = e.start()
	if code := p.wait(t, time.Minute); code == 0 {
		t.Fatalf("siphon resumed from a slot recreated after its position")
	}
	if !strings.Contains(p.logs(), "confirmed_flush_lsn") || !strings.Contains(p.logs(), "is after the stored position") {
		t.Errorf("the error does not name the recreated slot's position:\n%s", p.logs())
	}

	replaceInConfig(t, e, "snapshot: initial", "snapshot: when_needed")
	p = e.start()
	waitLog(t, p, "taking a new snapshot", time.Minute)
	waitLog(t, p, "snapshot finished", time.Minute)
	pgMustExec(t, pg, db, "INSERT INTO t VALUES (102, 102)")
	e.waitRecords(p, time.Minute, func(rs []record) bool {
		c := newConsumer()
		c.apply(t, rs)
		return len(c.rows["it.public.t"]) == 102
	})
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	c := newConsumer()
	c.apply(t, e.records())
	if got := c.rows["it.public.t"][`{"id":5}`]; got != `{"id":5,"v":-5}` {
		t.Fatalf("row 5 after the re-snapshot: %s", got)
	}
}
