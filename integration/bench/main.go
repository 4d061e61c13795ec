// Command bench is siphon's benchmark harness for the MySQL source. It
// starts a private MariaDB, writes a backlog of N rows into a 10-column
// table, then measures in the same run:
//
//   - decode: the binlog files decoded into siphon events (capture/mysql
//     ReadFile, no sink) against go-mysql's own BinlogParser.ParseFile on
//     the same files with the same settings — the reference;
//   - end to end: the siphon binary catching up on the whole backlog into
//     the file sink, its rows/s and its peak RSS.
//
// Run it with `make bench-e2e` or `go run ./integration/bench -rows 1000000`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/integration/harness"
	"github.com/siphoncdc/siphon/pipeline"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the backlog")
	txRows := flag.Int("tx-rows", 10_000, "rows per source transaction")
	rounds := flag.Int("rounds", 3, "decode measurements of each kind (best is reported)")
	schemas := flag.Bool("schemas", true, "file sink schemas.enable for the end-to-end run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of siphon's decode runs to this file")
	only := flag.String("only", "", "run only this part: decode, stream or snapshot")
	flag.IntVar(&snapParallelism, "parallelism", 2, "snapshot_parallelism for the snapshot run")
	flag.IntVar(&snapChunk, "chunk", 8192, "snapshot_chunk_rows for the snapshot run")
	flag.StringVar(&sinkPath, "sink-path", "", "file sink path for the snapshot run; empty: /dev/null (like the reference's output), then a real file")
	flag.StringVar(&compareBin, "compare", "", "another siphon binary (e.g. built before a change) to snapshot alternately with this tree's, in the same run")
	flag.IntVar(&snapRounds, "snapshot-rounds", 2, "snapshot measurements of each reader (best is reported)")
	flag.Parse()
	part = *only
	if *cpuProfile != "" {
		profilePath = *cpuProfile
	}
	if err := run(*rows, *txRows, *rounds, *schemas); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rows, txRows, rounds int, schemas bool) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "siphon-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := harness.BuildSiphon(ctx, work)
	if err != nil {
		return err
	}
	db, err := harness.StartMariaDB(ctx, harness.MariaDBOptions{ExtraArgs: []string{"--innodb-buffer-pool-size=256M"}})
	if err != nil {
		return err
	}
	defer func() { _ = db.Stop() }()

	if err := db.Exec(ctx, "CREATE DATABASE bench", `CREATE TABLE bench.t10 (
		id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, b BIGINT, c VARCHAR(64), d DECIMAL(12,2),
		e DATETIME(3), f DOUBLE, g TEXT, h TINYINT, i TIMESTAMP NULL)`); err != nil {
		return err
	}
	start, err := db.Query(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return err
	}
	gtid, err := db.Query(ctx, "SELECT @@gtid_binlog_pos")
	if err != nil {
		return err
	}
	began := time.Now()
	for lo := 1; lo <= rows; lo += txRows {
		hi := min(lo+txRows-1, rows)
		err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO bench.t10 SELECT seq, seq %% 100000, seq * 7, CONCAT('customer-', seq),
			seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq * 1.5, REPEAT('lorem ipsum ', 8),
			seq %% 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM bench.seq_%d_to_%d`, lo, hi))
		if err != nil {
			return err
		}
	}
	if err := db.Exec(ctx, "FLUSH BINARY LOGS"); err != nil {
		return err
	}
	fmt.Printf("backlog: %d rows in %d-row transactions written in %s\n", rows, txRows, time.Since(began).Round(time.Millisecond))

	files, err := binlogFiles(db, start[0][0])
	if err != nil {
		return err
	}
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	fmt.Printf("binlog: %d file(s), %.1f MB\n\n", len(files), float64(size)/1e6)

	if want("decode") {
		if err := decodeBench(ctx, files, rounds); err != nil {
			return err
		}
	}
	if want("stream") {
		// End to end: the binary catches up on the backlog.
		if err := endToEnd(ctx, bin, work, db, start[0][0], start[0][1], gtid[0][0], rows, schemas); err != nil {
			return err
		}
	}
	if want("snapshot") {
		if sinkPath != "" {
			return snapshotBench(ctx, bin, work, db, rows, schemas)
		}
		// Both outputs: /dev/null compares like with like (the reference
		// discards its output); a real file adds writing and fsyncing it.
		for _, p := range []string{os.DevNull, "events.jsonl"} {
			sinkPath = p
			if err := snapshotBench(ctx, bin, work, db, rows, schemas); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeBench(ctx context.Context, files []string, rounds int) error {
	// Decode: reference and siphon, alternating, best of each.
	var ref, ours []time.Duration
	var refRows, ourRows int
	for r := 0; r < rounds; r++ {
		d, n, err := timeParseFile(files)
		if err != nil {
			return err
		}
		ref, refRows = append(ref, d), n
		d, n, err = timeReadFile(ctx, files)
		if err != nil {
			return err
		}
		ours, ourRows = append(ours, d), n
	}
	best := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[0]
	}
	refRate := float64(refRows) / best(ref).Seconds()
	ourRate := float64(ourRows) / best(ours).Seconds()
	fmt.Printf("decode (best of %d, GOMAXPROCS=%d):\n", rounds, runtime.GOMAXPROCS(0))
	fmt.Printf("  go-mysql ParseFile (reference): %9.0f rows/s  (%d rows in %s)\n", refRate, refRows, best(ref).Round(time.Millisecond))
	fmt.Printf("  siphon ReadFile → events:       %9.0f rows/s  (%d events in %s)\n", ourRate, ourRows, best(ours).Round(time.Millisecond))
	fmt.Printf("  ratio siphon/reference: %.2f\n\n", ourRate/refRate)
	return nil
}

// snapshotBench snapshots the table with siphon (initial_only, file sink)
// and reads it with `mariadb --batch --quick` into /dev/null, alternately;
// with -compare, a second siphon binary takes its turn in each round too.
func snapshotBench(ctx context.Context, bin, work string, db *harness.MariaDB, rows int, schemas bool) error {
	readers := []snapReader{{name: "mariadb --batch --quick > /dev/null (reference)", run: func(int) (snapRun, error) { return refSnapshot(ctx, db) }}}
	siphons := []string{bin}
	if compareBin != "" {
		siphons = append(siphons, compareBin)
	}
	for j, b := range siphons {
		name := "siphon snapshot: initial_only"
		if compareBin != "" {
			name += " (" + []string{"this tree", "-compare " + filepath.Base(compareBin)}[j] + ")"
		}
		readers = append(readers, snapReader{name: name, run: func(i int) (snapRun, error) {
			return siphonSnapshot(ctx, b, work, db, schemas, len(siphons)*i+j)
		}})
	}
	for i := range snapRounds {
		for k := range readers {
			r, err := readers[k].run(i)
			if err != nil {
				return err
			}
			readers[k].add(r)
		}
	}
	fmt.Printf("snapshot of %d rows (best of %d, file sink %s schemas=%t, parallelism %d, whole process incl. start):\n", rows, snapRounds, sinkPath, schemas, snapParallelism)
	ref := readers[0].best
	for _, r := range readers {
		fmt.Printf("  %-62s %9.0f rows/s (%s)", r.name+":", float64(rows)/r.best.d.Seconds(), r.best.d.Round(time.Millisecond))
		if r.best != ref {
			fmt.Printf("; ratio %.2f; peak RSS %.1f MB", ref.d.Seconds()/r.best.d.Seconds(), float64(r.peak)/1024)
		}
		fmt.Printf("\n      CPU per row, server + reader (best run): %.2f µs\n", float64(r.cpu.Microseconds())/float64(rows))
	}
	return nil
}

// snapRun is one timed read of the table: wall time, CPU of the server
// and the reader, the reader's peak RSS in KiB.
type snapRun struct {
	d, cpu time.Duration
	peak   int
}

// snapReader is a way to read the table, with its best figures so far.
type snapReader struct {
	name string
	run  func(round int) (snapRun, error)
	best snapRun // shortest wall time
	cpu  time.Duration
	peak int
}

func (r *snapReader) add(run snapRun) {
	if r.best.d == 0 || run.d < r.best.d {
		r.best = run
	}
	if r.cpu == 0 || run.cpu < r.cpu {
		r.cpu = run.cpu
	}
	r.peak = max(r.peak, run.peak)
}

// refSnapshot reads the table with the mariadb client into /dev/null.
func refSnapshot(ctx context.Context, db *harness.MariaDB) (snapRun, error) {
	cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--batch", "--quick", "-h", db.Host, "-P", strconv.Itoa(db.Port), "-u", "root",
		"-e", "SELECT * FROM bench.t10")
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return snapRun{}, err
	}
	defer devnull.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = devnull, &stderr
	// CPU seconds of the database server and of the reading process: on a
	// busy machine wall time says little, CPU per row still compares.
	began, srv0 := time.Now(), procCPU(db.Pid())
	if err := cmd.Run(); err != nil {
		return snapRun{}, fmt.Errorf("mariadb client: %w: %s", err, stderr.String())
	}
	d := time.Since(began)
	cpu := procCPU(db.Pid()) - srv0 + cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return snapRun{d: d, cpu: cpu}, nil
}

// siphonSnapshot runs bin's initial_only snapshot of the table into the
// file sink, in a state directory of its own (number i).
func siphonSnapshot(ctx context.Context, bin, work string, db *harness.MariaDB, schemas bool, i int) (snapRun, error) {
	dir := filepath.Join(work, fmt.Sprintf("snap%d", i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return snapRun{}, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "siphon.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: ./state
pipelines:
  - name: bench
    source: {type: mysql, url: "%s", server_id: %d, tables: ["bench.*"], snapshot: initial_only, snapshot_parallelism: %d, snapshot_chunk_rows: %d}
    sinks: [{type: file, path: %q, schemas: %t}]
`, db.RootURL(), 7100+i, snapParallelism, snapChunk, sinkPath, schemas)), 0o600); err != nil {
		return snapRun{}, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began, srv0 := time.Now(), procCPU(db.Pid())
	if err := cmd.Start(); err != nil {
		return snapRun{}, err
	}
	peak := 0
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return snapRun{}, fmt.Errorf("siphon: %w\n%s", err, stderr.String())
			}
			d := time.Since(began)
			cpu := procCPU(db.Pid()) - srv0 + cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			if os.Getenv("BENCH_SHOW_STDERR") != "" {
				fmt.Fprint(os.Stderr, stderr.String())
			}
			// Not rusage's maxrss: the child is forked from this process
			// and inherits its resident size until exec.
			return snapRun{d: d, cpu: cpu, peak: peak}, nil
		case <-tick.C:
			if kb := vmHWM(cmd.Process.Pid); kb > peak {
				peak = kb
				if os.Getenv("BENCH_SHOW_STDERR") != "" {
					data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
					for _, l := range strings.Split(string(data), "\n") {
						if strings.HasPrefix(l, "Rss") || strings.HasPrefix(l, "VmHWM") {
							fmt.Fprint(os.Stderr, l, " | ")
						}
					}
					fmt.Fprintln(os.Stderr)
				}
			}
		}
	}
}

// procCPU is the user + system CPU time a running process has used so far
// (/proc/<pid>/stat utime and stime), 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from after its ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

func binlogFiles(db *harness.MariaDB, from string) ([]string, error) {
	logs, err := db.Query(context.Background(), "SHOW BINARY LOGS")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, l := range logs {
		if l[0] >= from {
			files = append(files, filepath.Join(db.Dir, "binlog", l[0]))
		}
	}
	return files, nil
}

func timeParseFile(files []string) (time.Duration, int, error) {
	runtime.GC()
	p := replication.NewBinlogParser()
	p.SetFlavor("mariadb")
	p.SetParseTime(true)
	p.SetUseDecimal(false)
	p.SetRenderJSONAsMySQLText(true)
	n := 0
	began := time.Now()
	for _, f := range files {
		err := p.ParseFile(f, 4, func(e *replication.BinlogEvent) error {
			if re, ok := e.Event.(*replication.RowsEvent); ok {
				n += len(re.Rows)
			}
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	return time.Since(began), n, nil
}

var (
	profilePath, part          string
	snapParallelism, snapChunk int
	sinkPath, compareBin       string
	snapRounds                 int
)

func want(p string) bool { return part == "" || part == p }

func timeReadFile(ctx context.Context, files []string) (time.Duration, int, error) {
	runtime.GC()
	if profilePath != "" {
		f, err := os.Create(profilePath)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, 0, err
		}
		defer pprof.StopCPUProfile()
	}
	n := 0
	emit := func(_ context.Context, b *pipeline.Batch) error {
		n += len(b.Events)
		return nil
	}
	began := time.Now()
	for _, f := range files {
		if err := mysql.ReadFile(ctx, f, mysql.Config{TopicPrefix: "bench", Version: "bench"}, emit); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(began), n, nil
}

func endToEnd(ctx context.Context, bin, work string, db *harness.MariaDB, file, pos, gtids string, rows int, schemas bool) error {
	cfg := filepath.Join(work, "siphon.yaml")
	out := filepath.Join(work, "events.jsonl")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: ./state
pipelines:
  - name: bench
    source: {type: mysql, url: "%s", server_id: 7001, tables: ["bench.*"], snapshot: never}
    sinks: [{type: file, path: events.jsonl, schemas: %t}]
`, db.RootURL(), schemas)), 0o600); err != nil {
		return err
	}
	store, err := checkpoint.Open(filepath.Join(work, "state"), checkpoint.Options{})
	if err != nil {
		return err
	}
	err = store.Pipeline("bench").SaveOffset([]byte(fmt.Sprintf(`{"file":%q,"pos":%s,"gtids":%q,"server_id":1}`, file, pos, gtids)))
	store.Close()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	peak := 0
	want := fmt.Sprintf(`"id":%d,`, rows)
	for {
		if kb := vmHWM(cmd.Process.Pid); kb > peak {
			peak = kb
		}
		if tailContains(out, want) {
			break
		}
		if time.Since(began) > 10*time.Minute {
			_ = cmd.Process.Kill()
			return fmt.Errorf("siphon did not catch up within 10 minutes\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(began)
	if kb := vmHWM(cmd.Process.Pid); kb > peak {
		peak = kb
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("siphon: %w\n%s", err, stderr.String())
	}
	fi, _ := os.Stat(out)
	fmt.Printf("end to end (siphon binary, file sink, schemas=%t, fsync per batch):\n", schemas)
	fmt.Printf("  %d rows caught up in %s: %.0f rows/s, %.1f MB of JSON\n", rows, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds(), float64(fi.Size())/1e6)
	fmt.Printf("  peak RSS (VmHWM): %.1f MB\n", float64(peak)/1024)
	return nil
}

// vmHWM is the peak resident set size of a process, in KiB.
func vmHWM(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

func tailContains(path, s string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false
	}
	n := min(fi.Size(), 1<<16)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, fi.Size()-n); err != nil {
		return false
	}
	return strings.Contains(string(buf), s)
}
