// Command demo shows siphon end to end on throwaway local databases: it
// starts a private MariaDB, creates a small shop schema, runs siphon
// against it, makes a few inserts, updates and deletes, prints the
// Debezium events that came out, and cleans everything up. `make demo`
// runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	work, err := os.MkdirTemp("", "siphon-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("building siphon")
	bin, err := harness.BuildSiphon(ctx, work)
	if err != nil {
		return err
	}

	step("starting a throwaway MariaDB (ROW binlog, full row metadata, GTIDs)")
	db, err := harness.StartMariaDB(ctx, harness.MariaDBOptions{})
	if err != nil {
		return err
	}
	defer func() {
		step("cleaning up: stopping MariaDB and removing " + work)
		_ = db.Stop()
	}()
	fmt.Printf("  MariaDB listening on %s (data in %s)\n", db.Addr(), db.Dir)

	if err := db.CreateReplicationUser(ctx, "siphon", "demo-secret"); err != nil {
		return err
	}
	if err := db.Exec(ctx,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.customers (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(100) NOT NULL, name VARCHAR(100), created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))",
		"CREATE TABLE shop.orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL, status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new')",
		// Rows that exist before siphon starts: its snapshot copies them.
		"INSERT INTO shop.customers (email, name) VALUES ('grace@example.com', 'Grace'), ('linus@example.com', 'Linus')",
	); err != nil {
		return err
	}

	cfgPath := filepath.Join(work, "siphon.yaml")
	cfg := fmt.Sprintf(`state_dir: ./state
pipelines:
  - name: shop
    source:
      type: mysql
      url: mysql://siphon:${DEMO_PASSWORD}@%s
      server_id: 5401
      tables: ["shop.*"]
      snapshot: initial
    sinks:
      - type: file
        path: events.jsonl
        schemas: false
`, db.Addr())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	step("siphon.yaml")
	fmt.Print(indent(cfg))
	env := append(os.Environ(), "DEMO_PASSWORD=demo-secret")

	step("siphon check --config siphon.yaml")
	out, _ := command(ctx, env, bin, "check", "--config", cfgPath)
	fmt.Print(indent(out))

	step("siphon run --config siphon.yaml (in the background)")
	var logs bytes.Buffer
	runCmd := exec.CommandContext(ctx, bin, "run", "--config", cfgPath)
	runCmd.Env = env
	runCmd.Stderr = &logs
	if err := runCmd.Start(); err != nil {
		return err
	}
	defer func() { _ = runCmd.Process.Kill() }()
	if err := waitFor(ctx, 30*time.Second, func() bool { return strings.Contains(logs.String(), "snapshot finished") }); err != nil {
		return fmt.Errorf("siphon did not finish its snapshot: %w\n%s", err, logs.String())
	}
	fmt.Println("  snapshot of the existing rows done; streaming the binlog")

	step("writing to the shop")
	stmts := []string{
		"INSERT INTO shop.customers (email, name) VALUES ('ada@example.com', 'Ada'), ('alan@example.com', 'Alan')",
		"BEGIN",
		"INSERT INTO shop.orders (customer_id, total) VALUES (3, 19.99)",
		"UPDATE shop.orders SET status = 'paid' WHERE id = 1",
		"COMMIT",
		"UPDATE shop.customers SET name = 'Ada Lovelace' WHERE email = 'ada@example.com'",
		"UPDATE shop.customers SET id = 40 WHERE email = 'alan@example.com'",
		"DELETE FROM shop.orders WHERE id = 1",
	}
	for _, s := range stmts {
		fmt.Println("  " + s)
	}
	if err := db.Exec(ctx, stmts...); err != nil {
		return err
	}

	events := filepath.Join(work, "events.jsonl")
	want := 12 // 2 r (snapshot), 2 c, c+u (one transaction), u, d+tombstone+c (key change), d+tombstone
	if err := waitFor(ctx, 30*time.Second, func() bool { return countLines(events) >= want }); err != nil {
		return fmt.Errorf("events did not arrive: %w\n%s", err, logs.String())
	}
	_ = runCmd.Process.Signal(syscall.SIGTERM)
	if err := runCmd.Wait(); err != nil {
		return fmt.Errorf("siphon run: %w\n%s", err, logs.String())
	}

	step("the Debezium events siphon wrote (events.jsonl, one record per line)")
	if err := printEvents(events); err != nil {
		return err
	}
	fmt.Println("\n  The first line in full:")
	first, _ := firstLine(events)
	fmt.Println(indent(first))

	step("siphon offsets show --config siphon.yaml (after SIGTERM: drained and checkpointed)")
	out, _ = command(ctx, env, bin, "offsets", "show", "--config", cfgPath)
	fmt.Print(indent(out))
	return nil
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimRight(s, "\n")+"\n", "\n") {
		if l != "" {
			b.WriteString("  " + l)
		}
	}
	return b.String()
}

func command(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	sc.Scan()
	return sc.Text(), sc.Err()
}

func printEvents(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct {
			Topic string          `json:"topic"`
			Key   json.RawMessage `json:"key"`
			Value *struct {
				Op     string          `json:"op"`
				Before json.RawMessage `json:"before"`
				After  json.RawMessage `json:"after"`
				Source struct {
					File string `json:"file"`
					Pos  int64  `json:"pos"`
					GTID string `json:"gtid"`
				} `json:"source"`
			} `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return err
		}
		if rec.Value == nil {
			fmt.Printf("  %-22s key=%s  (tombstone)\n", rec.Topic, rec.Key)
			continue
		}
		v := rec.Value
		fmt.Printf("  %-22s op=%s key=%s gtid=%s\n      before=%s\n      after=%s\n", rec.Topic, v.Op, rec.Key, v.Source.GTID, v.Before, v.After)
	}
	return sc.Err()
}
