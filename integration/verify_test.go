package integration

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifyOutput is the part of `siphon verify --format json` the tests read.
type verifyOutput struct {
	Identical   bool `json:"identical"`
	Differences int  `json:"differences"`
	Errors      int  `json:"errors"`
	Results     []struct {
		Source    string   `json:"source"`
		Target    string   `json:"target"`
		Rows      int64    `json:"rows"`
		Identical bool     `json:"identical"`
		Missing   []string `json:"missing"`
		Extra     []string `json:"extra"`
		Different []struct {
			Key     string `json:"key"`
			Columns []struct {
				Column string `json:"column"`
				Source string `json:"source"`
				Target string `json:"target"`
			} `json:"columns"`
		} `json:"different"`
		NotCompared []string `json:"not_compared"`
		Resolved    int      `json:"resolved_by_recheck"`
		Error       string   `json:"error"`
	} `json:"results"`
}

func (e *env) verify(args ...string) (verifyOutput, string, int) {
	e.t.Helper()
	stdout, stderr, code := e.siphonCmd(append([]string{"verify", "--config", e.config, "--format", "json"}, args...)...)
	var out verifyOutput
	if code != 2 {
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			e.t.Fatalf("verify output is not JSON (exit %d): %v\n%s\n%s", code, err, stdout, stderr)
		}
	}
	return out, stdout + stderr, code
}

// TestVerify copies a table of every MariaDB type to PostgreSQL and to
// MariaDB, then runs `siphon verify`: identical after the copy, identical
// (no false positive) when run while the source is written to and the
// pipeline catches up, and after changes behind siphon's back in the
// target it names exactly the deleted, added and changed keys.
func TestVerify(t *testing.T) {
	targets := []struct {
		name  string
		setup func(t *testing.T) (sink string, read func() [][]string, exec func(stmts ...string))
	}{
		{"postgres", func(t *testing.T) (string, func() [][]string, func(...string)) {
			pg, db := targetPostgres(t)
			return pgSinkYAML(pg, db, ""), func() [][]string {
					rows, err := pg.Query(testContext(t, time.Minute), db, compareSelect("public.all_types", true))
					if err != nil && strings.Contains(err.Error(), "does not exist") {
						return nil
					}
					if err != nil {
						t.Fatal(err)
					}
					return rows
				}, func(stmts ...string) {
					pgMustExec(t, pg, db, stmts...)
				}
		}},
		{"mariadb", func(t *testing.T) (string, func() [][]string, func(...string)) {
			db := newDatabase(t, shared)
			return mysqlSinkYAML(shared, db, ""), func() [][]string {
					rows, err := shared.Query(testContext(t, time.Minute), compareSelect(db+".all_types", false))
					if err != nil && strings.Contains(err.Error(), "doesn't exist") {
						return nil
					}
					if err != nil {
						t.Fatal(err)
					}
					return rows
				}, func(stmts ...string) {
					mustExec(t, shared, append([]string{"USE " + db}, stmts...)...)
				}
		}},
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			ids := make([]int, 0, 300)
			for id := 100; id < 400; id++ {
				ids = append(ids, id)
			}
			mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", allTypesDDL, extremeRows[0], extremeRows[1], insertAllTypes(ids...),
				"CREATE TABLE composite (a VARCHAR(20) NOT NULL, b DATETIME(3) NOT NULL, v INT, PRIMARY KEY (a, b))",
				"INSERT INTO composite VALUES ('x', '2024-01-01 00:00:00.125', 1), ('Y', '1999-12-31 23:59:59', 2), ('ü', '2000-02-29 12:00:00', NULL)",
				"CREATE TABLE nokey (v INT, s VARCHAR(10))", "INSERT INTO nokey VALUES (1, 'a'), (1, 'a'), (2, NULL)")
			sink, read, execTarget := target.setup(t)
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, snapshot: "initial", sink: sink})
			readSource := func() [][]string {
				rows, err := shared.Query(testContext(t, time.Minute), compareSelect(src+".all_types", false))
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
			p := e.start()
			eventually(t, p, time.Minute, "the target to match the source", func() (bool, string) {
				d := compareAllTypes(readSource(), read())
				return d == "", d
			})

			out, text, code := e.verify("--rechecks", "3", "--recheck-delay", "200ms")
			if code != 0 || !out.Identical || len(out.Results) != 3 {
				t.Fatalf("verify after the copy: exit %d, want 0 with 3 tables\n%s", code, text)
			}
			for _, r := range out.Results {
				if r.Source == src+".all_types" && (r.Rows != 302 || len(r.NotCompared) != 0) {
					t.Fatalf("all_types: %d rows compared, not compared %v; want 302 rows, every column\n%s", r.Rows, r.NotCompared, text)
				}
			}

			// Verify while the source is written to: differences seen
			// while the pipeline lags must be re-checked away.
			ctx, cancel := context.WithCancel(context.Background())
			next := 399
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() { werr = allTypesWriter(ctx, shared, src, &next, 11) })
			time.AfterFunc(2*time.Second, cancel)
			out, text, code = e.verify("--table", src+".all_types", "--chunk-rows", "10", "--rechecks", "4", "--recheck-delay", "1s", "--max-keys", "300")
			cancel()
			wg.Wait()
			if werr != nil {
				t.Fatalf("writer: %v", werr)
			}
			if code != 0 || !out.Identical || len(out.Results) != 1 {
				t.Fatalf("verify under writes: exit %d, want 0 (no false positive once the pipeline catches up)\n%s", code, text)
			}
			t.Logf("verify under writes: %d rows, %d differences resolved by re-checks, pruned during the comparison: %t",
				out.Results[0].Rows, out.Results[0].Resolved, strings.Contains(text, "re-checked differences during the comparison"))
			// The last writes may postdate verify: let siphon apply them
			// before it stops, and check independently that it did.
			eventually(t, p, time.Minute, "the target to match the source after the writes", func() (bool, string) {
				d := compareAllTypes(readSource(), read())
				return d == "", d
			})
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}

			// Behind siphon's back: a row deleted, one added, one changed.
			// (ids 1 and 2 are the extreme rows, which the writer leaves alone)
			execTarget("DELETE FROM all_types WHERE id = 2", "INSERT INTO all_types (id, c_varchar) VALUES (99999, 'extra')",
				"UPDATE all_types SET c_varchar = 'tampered' WHERE id = 1",
				"UPDATE composite SET v = 7 WHERE a = 'Y'", "INSERT INTO composite VALUES ('zz', '2001-01-01 00:00:00', 3)", "DELETE FROM nokey WHERE v = 2")
			out, text, code = e.verify("--rechecks", "1", "--recheck-delay", "10ms")
			if code != 1 || out.Identical || out.Errors != 0 {
				t.Fatalf("verify after tampering: exit %d, want 1 with differences and no errors\n%s", code, text)
			}
			results := map[string]int{}
			for i, r := range out.Results {
				results[strings.TrimPrefix(r.Source, src+".")] = i
			}
			at := out.Results[results["all_types"]]
			if !slices.Equal(at.Missing, []string{"id=2"}) || !slices.Equal(at.Extra, []string{"id=99999"}) ||
				len(at.Different) != 1 || at.Different[0].Key != "id=1" || len(at.Different[0].Columns) != 1 ||
				at.Different[0].Columns[0].Column != "c_varchar" || at.Different[0].Columns[0].Target != "tampered" {
				t.Fatalf("all_types: missing %v, extra %v, different %+v; want id=2, id=99999, id=1 c_varchar\n%s", at.Missing, at.Extra, at.Different, text)
			}
			comp := out.Results[results["composite"]]
			if len(comp.Missing) != 0 || !slices.Equal(comp.Extra, []string{"a=zz, b=2001-01-01 00:00:00"}) || len(comp.Different) != 1 || comp.Different[0].Key != "a=Y, b=1999-12-31 23:59:59" ||
				comp.Different[0].Columns[0].Column != "v" {
				t.Fatalf("composite: missing %v, extra %v, different %+v; want extra a=zz, b=2001-01-01 00:00:00 and a=Y, b=1999-12-31 23:59:59 column v\n%s", comp.Missing, comp.Extra, comp.Different, text)
			}
			if nk := out.Results[results["nokey"]]; nk.Identical {
				t.Fatalf("nokey: identical after a target row was deleted\n%s", text)
			}
			if out.Differences != 6 {
				t.Fatalf("%d differences, want 6\n%s", out.Differences, text)
			}
			stdout, _, code := e.siphonCmd("verify", "--config", e.config, "--table", src+".all_types", "--rechecks", "0")
			if code != 1 || !strings.Contains(stdout, "missing   id=2\n") || !strings.Contains(stdout, "extra     id=99999") ||
				!strings.Contains(stdout, "different id=1: c_varchar") {
				t.Fatalf("text output (exit %d) does not name the keys:\n%s", code, stdout)
			}
		})
	}
}

// TestVerifyUsage checks that bad invocations exit 2 before any comparison.
func TestVerifyUsage(t *testing.T) {
	src := newDatabase(t, shared)
	mustExec(t, shared, "USE "+src, "CREATE TABLE t (id INT PRIMARY KEY)")
	e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: mysqlSinkYAML(shared, src+"_target", "")})
	for _, args := range [][]string{
		{"--format", "xml"},
		{"--pipeline", "nope"},
		{"--table", "nope.nope"},
		{"--chunk-rows", "0"},
	} {
		if _, text, code := e.verify(args...); code != 2 {
			t.Errorf("verify %v: exit %d, want 2\n%s", args, code, text)
		}
	}
	// Not a usage error: a target table that does not exist is a difference.
	out, text, code := e.verify()
	if code != 1 || out.Errors != 0 || out.Differences != 1 || len(out.Results) != 1 || !strings.Contains(text, "the target table does not exist") {
		t.Errorf("verify without a target table: exit %d, want 1 with one difference naming the missing table\n%s", code, text)
	}
	noDB := newEnv(t, envOptions{db: shared, tables: `["` + src + `.*"]`})
	if _, stderr, code := noDB.siphonCmd("verify", "--config", noDB.config); code != 2 || !strings.Contains(stderr, "database sink") {
		t.Errorf("verify of a pipeline with only a file sink: exit %d, want 2\n%s", code, stderr)
	}
}

// TestVerifyFromPostgres copies pg_types from PostgreSQL to MariaDB and to
// PostgreSQL, then checks that `siphon verify` finds the copy identical and
// names a deleted, an added and a changed row in the target.
func TestVerifyFromPostgres(t *testing.T) {
	for _, target := range []string{"mariadb", "postgres"} {
		t.Run(target, func(t *testing.T) {
			pg := newPostgres(t)
			src := pgNewDatabase(t, pg)
			pgMustExec(t, pg, src, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", pgTypesDDL, pgTypesRows(1, 200),
				"INSERT INTO pg_types (id) VALUES (0)",
				"CREATE TABLE tk (a varchar(10), b date, c char(3), v int, PRIMARY KEY (a, b, c))",
				"INSERT INTO tk VALUES ('x', '2024-02-29', 'ab', 1), ('Y', '1969-07-20', 'é', 2), ('', '1970-01-01', '', NULL)")
			var sink, side string
			var read func() [][]string
			var execTarget func(stmts ...string)
			var count func(table string) string
			if target == "mariadb" {
				db := newDatabase(t, shared)
				sink, side = mysqlSinkYAML(shared, db, ""), "pg-for-mariadb"
				read = func() [][]string {
					rows, err := shared.Query(testContext(t, time.Minute), pgTypesSelect(db+".pg_types", "mariadb"))
					if err != nil && !strings.Contains(err.Error(), "doesn't exist") {
						t.Fatal(err)
					}
					return rows
				}
				execTarget = func(stmts ...string) { mustExec(t, shared, append([]string{"USE " + db}, stmts...)...) }
				count = func(table string) string {
					rows, err := shared.Query(testContext(t, time.Minute), "SELECT COUNT(*) FROM "+db+"."+table)
					if err != nil {
						return err.Error()
					}
					return rows[0][0]
				}
			} else {
				db := pgNewDatabase(t, pg)
				pgMustExec(t, pg, db, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
				sink, side = pgSinkYAML(pg, db, ""), "pg"
				read = func() [][]string {
					rows, err := pg.Query(testContext(t, time.Minute), db, pgTypesSelect("public.pg_types", "pg"))
					if err != nil && !strings.Contains(err.Error(), "does not exist") {
						t.Fatal(err)
					}
					return rows
				}
				execTarget = func(stmts ...string) { pgMustExec(t, pg, db, stmts...) }
				count = func(table string) string {
					rows, err := pg.Query(testContext(t, time.Minute), db, "SELECT count(*) FROM public."+table)
					if err != nil {
						return err.Error()
					}
					return rows[0][0]
				}
			}
			e := newPGSinkEnv(t, pg, src, sink)
			p := e.start()
			eventually(t, p, time.Minute, "the target to match the source", func() (bool, string) {
				d := comparePGTypes(pgMustQuery(t, pg, src, pgTypesSelect("public.pg_types", side)), read())
				if n := count("tk"); d == "" && n != "3" {
					d = "tk has " + n + " rows"
				}
				return d == "", d
			})
			out, text, code := e.verify("--rechecks", "2", "--recheck-delay", "200ms")
			if code != 0 || !out.Identical || len(out.Results) != 2 {
				t.Fatalf("verify after the copy: exit %d, want 0 with 2 tables\n%s", code, text)
			}
			for _, r := range out.Results {
				if len(r.NotCompared) != 0 || r.Source == "public.pg_types" && r.Rows != 201 {
					t.Fatalf("%s: %d rows, not compared %v; want 201 rows of pg_types, every column compared\n%s", r.Source, r.Rows, r.NotCompared, text)
				}
			}
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			execTarget("DELETE FROM pg_types WHERE id = 5", "INSERT INTO pg_types (id) VALUES (99999)",
				"UPDATE pg_types SET c_timestamptz = '2020-01-01 00:00:00' WHERE id = 7",
				"UPDATE tk SET v = 5 WHERE a = 'x'", "DELETE FROM tk WHERE a = ''")
			out, text, code = e.verify("--rechecks", "1", "--recheck-delay", "10ms")
			if code != 1 || out.Errors != 0 || len(out.Results) != 2 || out.Differences != 5 {
				t.Fatalf("verify after tampering: exit %d, want 1 with 5 differences and no errors\n%s", code, text)
			}
			r := out.Results[0]
			if tk := out.Results[1]; !slices.Equal(tk.Missing, []string{"a=, b=1970-01-01, c=   "}) || len(tk.Different) != 1 ||
				tk.Different[0].Key != "a=x, b=2024-02-29, c=ab " || tk.Different[0].Columns[0].Column != "v" {
				t.Fatalf("tk: missing %v, different %+v; want a=, b=1970-01-01, c=(3 spaces) missing and a=x… column v\n%s", tk.Missing, tk.Different, text)
			}
			if !slices.Equal(r.Missing, []string{"id=5"}) || !slices.Equal(r.Extra, []string{"id=99999"}) || len(r.Different) != 1 ||
				r.Different[0].Key != "id=7" || len(r.Different[0].Columns) != 1 || r.Different[0].Columns[0].Column != "c_timestamptz" {
				t.Fatalf("missing %v, extra %v, different %+v; want id=5, id=99999, id=7 c_timestamptz\n%s", r.Missing, r.Extra, r.Different, text)
			}
		})
	}
}
