package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/integration/harness"
)

// sqlTarget is a database target of a test: its sink YAML and how to run
// statements and queries on it.
type sqlTarget struct {
	sink  func(extra string) string
	exec  func(stmts ...string)
	query func(q string) [][]string
	table func(name string) string // a table's qualified name
	// poller opens a connection of its own for many quick queries; a
	// query of a table that does not exist yet returns no rows.
	poller func() (query func(q string) [][]string, done func())
}

func postgresTarget(t *testing.T) sqlTarget {
	pg, db := targetPostgres(t)
	return sqlTarget{
		sink:  func(extra string) string { return pgSinkYAML(pg, db, extra) },
		exec:  func(stmts ...string) { pgMustExec(t, pg, db, stmts...) },
		query: func(q string) [][]string { return pgMustQuery(t, pg, db, q) },
		table: func(name string) string { return "public." + name },
		poller: func() (func(string) [][]string, func()) {
			ctx := testContext(t, 5*time.Minute)
			c, err := pgx.Connect(ctx, pg.SuperuserURL(db))
			if err != nil {
				t.Fatal(err)
			}
			return func(q string) [][]string {
				rows, err := c.Query(ctx, q)
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "42P01" {
					return nil // not created yet
				}
				if err != nil {
					t.Fatal(err)
				}
				var out [][]string
				for rows.Next() {
					vals, err := rows.Values()
					if err != nil {
						t.Fatal(err)
					}
					row := make([]string, len(vals))
					for i, v := range vals {
						row[i] = fmt.Sprint(v)
					}
					out = append(out, row)
				}
				if err := rows.Err(); err != nil {
					var pe *pgconn.PgError
					if errors.As(err, &pe) && pe.Code == "42P01" {
						return nil
					}
					t.Fatal(err)
				}
				return out
			}, func() { _ = c.Close(ctx) }
		},
	}
}

func mariadbTarget(t *testing.T) sqlTarget {
	db := newDatabase(t, shared)
	return sqlTarget{
		sink: func(extra string) string { return mysqlSinkYAML(shared, db, extra) },
		exec: func(stmts ...string) { mustExec(t, shared, append([]string{"USE " + db}, stmts...)...) },
		query: func(q string) [][]string {
			rows, err := shared.Query(testContext(t, time.Minute), q)
			if err != nil {
				t.Fatal(err)
			}
			return rows
		},
		table: func(name string) string { return db + "." + name },
		poller: func() (func(string) [][]string, func()) {
			c, err := client.Connect(shared.Addr(), "root", "", db)
			if err != nil {
				t.Fatal(err)
			}
			return func(q string) [][]string {
				r, err := c.Execute(q)
				if err != nil {
					var me *gomysql.MyError
					if errors.As(err, &me) && me.Code == 1146 {
						return nil
					}
					t.Fatal(err)
				}
				defer r.Close()
				var out [][]string
				for i := range r.RowNumber() {
					row := make([]string, r.ColumnNumber())
					for j := range row {
						v, _ := r.GetString(i, j)
						row[j] = v
					}
					out = append(out, row)
				}
				return out
			}, func() { _ = c.Close() }
		},
	}
}

var sqlTargets = []struct {
	name string
	new  func(t *testing.T) sqlTarget
}{
	{"postgres", postgresTarget},
	{"mariadb", mariadbTarget},
}

// TestSinkPoisonRow writes a value the target column cannot hold (the
// target table was created by hand with a narrower column): siphon stops
// with an error that names the table, the key and the source position and
// leaves the rows before it applied; restarted with a dead-letter file it
// sets the event aside there, counts it and goes on.
func TestSinkPoisonRow(t *testing.T) {
	for _, target := range sqlTargets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			mustExec(t, shared, "USE "+src, "CREATE TABLE poison (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)")
			dst := target.new(t)
			dst.exec("CREATE TABLE poison (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL)")
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: dst.sink("")})
			p := e.start()
			waitStarted(t, e, p)
			read := func() string {
				var ids []string
				for _, r := range dst.query("SELECT id, name FROM " + dst.table("poison") + " ORDER BY id") {
					ids = append(ids, r[0]+"="+r[1])
				}
				return strings.Join(ids, " ")
			}
			// A first transaction, applied and checkpointed.
			mustExec(t, shared, "USE "+src, "INSERT INTO poison VALUES (1, 'one'), (2, 'two')")
			eventually(t, p, time.Minute, "the first rows", func() (bool, string) {
				got := read()
				return got == "1=one 2=two", got
			})
			mustExec(t, shared, "USE "+src,
				"BEGIN", "INSERT INTO poison VALUES (3, 'three')", "INSERT INTO poison VALUES (4, 'much too long')", "COMMIT",
				"INSERT INTO poison VALUES (5, 'five')")
			if code := p.wait(t, time.Minute); code == 0 {
				t.Fatalf("siphon exited 0 on a value the target cannot hold:\n%s", p.logs())
			}
			logs := p.logs()
			for _, want := range []string{"table " + src + ".poison", "key id=4", `"file":"`, `"pos":`} {
				if !strings.Contains(logs, want) {
					t.Fatalf("the error does not name %q:\n%s", want, logs)
				}
			}
			// Nothing of the poisoned transaction (nor of the one after it,
			// which may share its target transaction) is committed.
			if got := read(); got != "1=one 2=two" {
				t.Fatalf("target after the stop: %q, want the rows before the poisoned transaction", got)
			}

			dead := filepath.Join(e.dir, "dead.jsonl")
			cfg, err := os.ReadFile(e.config)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.config, append(cfg, []byte("        dead_letter: {path: dead.jsonl}\n")...), 0o600); err != nil {
				t.Fatal(err)
			}
			p = e.start()
			eventually(t, p, time.Minute, "the rows after the poisoned one", func() (bool, string) {
				got := read()
				return got == "1=one 2=two 3=three 5=five", got
			})
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			if !strings.Contains(p.logs(), "event dead-lettered") {
				t.Fatalf("no dead-letter log line:\n%s", p.logs())
			}
			f, err := os.Open(dead)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var lines []map[string]json.RawMessage
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var l map[string]json.RawMessage
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("dead-letter line is not JSON: %v\n%s", err, sc.Text())
				}
				lines = append(lines, l)
			}
			if len(lines) != 1 {
				t.Fatalf("%d dead-letter lines, want 1", len(lines))
			}
			l := lines[0]
			var value struct {
				Payload struct {
					After map[string]any `json:"after"`
					Op    string         `json:"op"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(l["event_value"], &value); err != nil {
				t.Fatalf("event_value: %v", err)
			}
			if value.Payload.Op != "c" || value.Payload.After["name"] != "much too long" {
				t.Fatalf("dead-lettered event: %s", l["event_value"])
			}
			for _, k := range []string{"error", "statement", "source", "table", "key"} {
				if len(l[k]) == 0 || string(l[k]) == `""` || string(l[k]) == "null" {
					t.Fatalf("dead-letter line lacks %s: %v", k, l)
				}
			}
		})
	}
}

// TestSinkTransactionsAtomic moves amounts between accounts in source
// transactions that span several batches while a reader polls the target:
// with consistency: transaction the reader never sees the total change,
// so it never sees part of a source transaction.
func TestSinkTransactionsAtomic(t *testing.T) {
	const accounts, total = 20, 20 * 1000
	for _, target := range sqlTargets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			mustExec(t, shared, "USE "+src, "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL)")
			dst := target.new(t)
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: dst.sink(""),
				pipeline: "    batch:\n      max_events: 3\n      max_wait: 1ms\n"})
			p := e.start()
			waitStarted(t, e, p)
			rows := make([]string, accounts)
			for i := range rows {
				rows[i] = fmt.Sprintf("(%d, %d)", i+1, total/accounts)
			}
			mustExec(t, shared, "USE "+src, "INSERT INTO accounts VALUES "+strings.Join(rows, ", "))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			var werr error
			txs := 0
			wg.Go(func() { txs, werr = transfers(ctx, shared, src, accounts) })
			poll, closePoll := dst.poller()
			defer closePoll()
			polls, seen := 0, 0
			deadline := time.Now().Add(6 * time.Second)
			for time.Now().Before(deadline) {
				if p.exited() {
					t.Fatalf("siphon exited:\n%s", p.logs())
				}
				r := poll("SELECT COUNT(*), COALESCE(SUM(balance), 0) FROM " + dst.table("accounts"))
				polls++
				if len(r) == 0 {
					continue // not created yet
				}
				n, _ := strconv.Atoi(r[0][0])
				sum, _ := strconv.Atoi(r[0][1])
				switch {
				case n == 0 && sum == 0:
				case n == accounts && sum == total:
					seen++
				default:
					t.Fatalf("poll %d saw %d accounts holding %d: part of a source transaction is visible", polls, n, sum)
				}
			}
			cancel()
			wg.Wait()
			if werr != nil {
				t.Fatalf("transfers: %v", werr)
			}
			eventually(t, p, time.Minute, "the target to catch up", func() (bool, string) {
				want, err := shared.Query(testContext(t, time.Minute), "SELECT id, balance FROM "+src+".accounts ORDER BY id")
				if err != nil {
					t.Fatal(err)
				}
				got := dst.query("SELECT id, balance FROM " + dst.table("accounts") + " ORDER BY id")
				return fmt.Sprint(want) == fmt.Sprint(got), fmt.Sprintf("source %v, target %v", want, got)
			})
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			t.Logf("%d polls (%d with the accounts present) during %d source transactions", polls, seen, txs)
			if seen < 20 || txs < 50 {
				t.Fatalf("too little overlap to prove anything: %d polls with data, %d transactions", seen, txs)
			}
		})
	}
}

// transfers commits transactions that each move amounts around 2 to 6
// accounts, keeping the total.
func transfers(ctx context.Context, m *harness.MariaDB, db string, accounts int) (int, error) {
	rng := rand.New(rand.NewPCG(11, 12))
	txs := 0
	for ctx.Err() == nil {
		n := 2 + rng.IntN(5)
		stmts := []string{"USE " + db, "BEGIN"}
		sum := 0
		for i := range n - 1 {
			amount := rng.IntN(50) - 25
			sum += amount
			stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET balance = balance + %d WHERE id = %d", amount, 1+(i*7+rng.IntN(accounts))%accounts))
		}
		stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET balance = balance - %d WHERE id = %d", sum, 1+rng.IntN(accounts)), "COMMIT")
		if err := m.Exec(ctx, stmts...); err != nil {
			if ctx.Err() != nil {
				return txs, nil
			}
			return txs, err
		}
		txs++
	}
	return txs, nil
}
