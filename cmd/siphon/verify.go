package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/capture/postgres"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/siphoncdc/siphon/sink/sqlapply/verify"
	"github.com/spf13/cobra"
)

type verifyFlags struct {
	config       string
	pipeline     string
	tables       []string
	format       string
	chunkRows    int
	rechecks     int
	recheckDelay time.Duration
	maxKeys      int
}

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	c := &cobra.Command{
		Use:   "verify",
		Short: "Compare every source table with its database target",
		Long: "verify reads each selected source table in primary-key chunks and the target rows of the same keys,\n" +
			"compares them after the documented type mapping, looks the target's keys up in the source, and names\n" +
			"the missing, extra and different keys. A difference is read again a few times before it is reported,\n" +
			"so verify can run while the pipeline runs. Exit 0: identical; 1: differences, or a table could not be\n" +
			"compared (the output says which); 2: bad usage or configuration. See docs/verify.md.",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runVerify(c.Context(), c.OutOrStdout(), f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "configuration file (required)")
	fl.StringVar(&f.pipeline, "pipeline", "", "verify only this pipeline (default: every pipeline with a database sink)")
	fl.StringArrayVar(&f.tables, "table", nil, "verify only this source table, db.table (repeatable)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.IntVar(&f.chunkRows, "chunk-rows", verify.DefaultChunkRows, "source rows compared at a time")
	fl.IntVar(&f.rechecks, "rechecks", verify.DefaultRechecks, "times a difference is read again before it is reported")
	fl.DurationVar(&f.recheckDelay, "recheck-delay", verify.DefaultRecheckDelay, "wait before the first re-check, doubled before each next one")
	fl.IntVar(&f.maxKeys, "max-keys", verify.DefaultMaxCandidates, "differing keys held per table; more are counted, not named")
	return c
}

// verifyReport is the JSON output of `siphon verify`.
type verifyReport struct {
	Identical   bool          `json:"identical"`
	Tables      int           `json:"tables"`
	Rows        int64         `json:"rows"`
	Differences int           `json:"differences"`
	Errors      int           `json:"errors"`
	Results     []tableReport `json:"results"`
}

type tableReport struct {
	Pipeline string `json:"pipeline"`
	Sink     int    `json:"sink"`
	verify.TableResult
}

func runVerify(ctx context.Context, out io.Writer, f verifyFlags) error {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	if f.format != "text" && f.format != "json" {
		return usageError{fmt.Errorf("--format %q is not text or json", f.format)}
	}
	if f.chunkRows < 1 || f.maxKeys < 1 || f.rechecks < 0 || f.recheckDelay < 0 {
		return usageError{errors.New("--chunk-rows and --max-keys must be at least 1, --rechecks and --recheck-delay not negative")}
	}
	var selected []*config.Pipeline
	for i := range cfg.Pipelines {
		pc := &cfg.Pipelines[i]
		if f.pipeline != "" && pc.Name != f.pipeline {
			continue
		}
		if !slices.ContainsFunc(pc.Sinks, isDatabaseSink) {
			if f.pipeline != "" {
				return usageError{fmt.Errorf("pipeline %s has no database sink (postgres or mysql) to verify", pc.Name)}
			}
			continue
		}
		selected = append(selected, pc)
	}
	if f.pipeline != "" && len(selected) == 0 {
		return usageError{fmt.Errorf("--pipeline %s: no such pipeline in %s", f.pipeline, cfg.Path)}
	}
	if len(selected) == 0 {
		return usageError{fmt.Errorf("no pipeline in %s has a database sink (postgres or mysql) to verify", cfg.Path)}
	}
	log := newLogger(cfg.Log)
	report := verifyReport{Identical: true}
	found := map[string]bool{}
	for _, pc := range selected {
		err := verifyPipeline(ctx, pc, f, log, found, func(r tableReport) {
			report.Results = append(report.Results, r)
			report.Tables++
			report.Rows += r.Rows
			report.Differences += r.Differences
			if r.Error != "" {
				report.Errors++
			}
			report.Identical = report.Identical && r.Identical
			if f.format == "text" {
				printTableResult(out, r)
			}
		})
		if err != nil {
			return err
		}
	}
	for _, t := range f.tables {
		if !found[t] {
			return usageError{fmt.Errorf("--table %s: no such captured table in the selected pipelines", t)}
		}
	}
	if f.format == "json" {
		if report.Results == nil {
			report.Results = []tableReport{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "verify: %d tables, %d rows compared, %d differences, %d tables not compared\n",
			report.Tables, report.Rows, report.Differences, report.Errors)
	}
	switch {
	case report.Errors > 0:
		return fmt.Errorf("verify: %d tables could not be compared (and %d differences found)", report.Errors, report.Differences)
	case !report.Identical:
		return fmt.Errorf("verify: %d differences", report.Differences)
	}
	return nil
}

func isDatabaseSink(s config.Sink) bool { return s.Type == "postgres" || s.Type == "mysql" }

// onlyTables narrows a source's table filter to --table.
type onlyTables struct {
	mysql.TableFilter
	names []string
}

func (o onlyTables) Match(db, table string) bool {
	return o.TableFilter.Match(db, table) && (len(o.names) == 0 || slices.Contains(o.names, db+"."+table))
}

// verifySource is a source read for verification.
type verifySource interface {
	verify.Source
	Tables() []*pipeline.Table
	Close()
}

func openVerifySource(ctx context.Context, pc *config.Pipeline, tables []string) (verifySource, error) {
	filter := onlyTables{TableFilter: pc.Source.Filter, names: tables}
	switch pc.Source.Type {
	case "mysql":
		ep, err := mysql.ParseURL(pc.Source.URL)
		if err != nil {
			return nil, err
		}
		return mysql.OpenVerifyReader(ctx, ep, filter)
	case "postgres":
		ep, err := postgres.ParseURL(pc.Source.URL)
		if err != nil {
			return nil, err
		}
		return postgres.OpenVerifyReader(ctx, ep, filter, pc.Source.Publication)
	}
	return nil, fmt.Errorf("verify cannot read a %s source", pc.Source.Type)
}

func verifyPipeline(ctx context.Context, pc *config.Pipeline, f verifyFlags, log *slog.Logger, found map[string]bool, emit func(tableReport)) error {
	src, err := openVerifySource(ctx, pc, f.tables)
	if err != nil {
		return fmt.Errorf("pipeline %s: source: %w", pc.Name, err)
	}
	defer src.Close()
	var tables []*pipeline.Table
	for _, t := range src.Tables() {
		if name := t.ID.String(); name != pc.Source.SignalTable {
			tables = append(tables, t)
			found[name] = true
		}
	}
	slices.SortFunc(tables, func(a, b *pipeline.Table) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	for i, sc := range pc.Sinks {
		if !isDatabaseSink(sc) {
			continue
		}
		target, err := verify.OpenTarget(ctx, sc)
		if err != nil {
			return fmt.Errorf("pipeline %s: sinks[%d]: %w", pc.Name, i, err)
		}
		o := verify.Options{ChunkRows: f.chunkRows, Rechecks: f.rechecks, RecheckDelay: f.recheckDelay, MaxCandidates: f.maxKeys, Tables: sc.Tables,
			Log: log.With("pipeline", pc.Name, "target", target.String())}
		for _, t := range tables {
			r := target.CompareTable(ctx, src, t, o)
			emit(tableReport{Pipeline: pc.Name, Sink: i, TableResult: r})
		}
		target.Close()
	}
	return nil
}

func printTableResult(w io.Writer, r tableReport) {
	chunks := "chunks"
	if r.Chunks == 1 {
		chunks = "chunk"
	}
	head := fmt.Sprintf("%s: %s → %s: %d rows in %d %s", r.Pipeline, r.Source, r.Target, r.Rows, r.Chunks, chunks)
	switch {
	case r.Error != "":
		fmt.Fprintf(w, "%s: NOT COMPARED: %s\n", head, r.Error)
	case r.Identical:
		fmt.Fprintf(w, "%s: identical (%.1fs)\n", head, r.Seconds)
	default:
		fmt.Fprintf(w, "%s: %d differences (%d missing, %d extra, %d different", head, r.Differences, len(r.Missing), len(r.Extra), len(r.Different))
		if r.Unconfirmed > 0 {
			fmt.Fprintf(w, ", %d more not re-checked", r.Unconfirmed)
		}
		fmt.Fprintf(w, ") (%.1fs)\n", r.Seconds)
	}
	if r.Problem != "" {
		fmt.Fprintf(w, "  %s\n", r.Problem)
	}
	const listed = 20
	list := func(kind string, keys []string) {
		for i, k := range keys {
			if i == listed {
				fmt.Fprintf(w, "  %-9s … %d more (--format json lists them all)\n", kind, len(keys)-listed)
				return
			}
			fmt.Fprintf(w, "  %-9s %s\n", kind, k)
		}
	}
	list("missing", r.Missing)
	list("extra", r.Extra)
	for i, d := range r.Different {
		if i == listed {
			fmt.Fprintf(w, "  different … %d more (--format json lists them all)\n", len(r.Different)-listed)
			break
		}
		cols := make([]string, len(d.Columns))
		for j, c := range d.Columns {
			cols[j] = c.Column
			if c.Source != "" || c.Target != "" {
				cols[j] += fmt.Sprintf(" (source %q, target %q)", c.Source, c.Target)
			}
		}
		fmt.Fprintf(w, "  different %s: %s\n", d.Key, strings.Join(cols, ", "))
	}
	for _, n := range r.NotCompared {
		fmt.Fprintf(w, "  not compared: %s\n", n)
	}
}
