package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/siphoncdc/siphon/capture/mongodb"
	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/capture/postgres"
	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/spf13/cobra"
)

func newCheckCommand() *cobra.Command {
	var cfgPath string
	var asJSON bool
	c := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and each source's prerequisites",
		Long: "check loads the configuration (exit 2 when it is invalid), connects to every source and\n" +
			"verifies what siphon needs there, printing pass/warn/fail with the fix for each item.\n" +
			"It exits 1 when any check fails.",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			store, storeErr := checkpoint.Open(cfg.StateDir, checkpoint.Options{ReadOnly: true})
			if store != nil {
				defer store.Close()
			}
			type report struct {
				Pipeline string        `json:"pipeline"`
				Checks   []checkResult `json:"checks"`
			}
			var reports []report
			failed := 0
			for _, p := range cfg.Pipelines {
				var stored []byte
				var note string
				switch {
				case store != nil:
					if off, ok, err := store.Pipeline(p.Name).LoadOffset(); err != nil {
						note = "cannot read the stored position: " + err.Error()
					} else if ok {
						stored = off.Position
					}
				case errors.Is(storeErr, checkpoint.ErrLocked):
					note = "not checked: siphon is running on this state_dir"
				case errors.Is(storeErr, checkpoint.ErrNoState):
					note = "no state yet: the pipeline starts at the end of the binlog"
					if p.Source.Type == "postgres" {
						note = "no state yet: the pipeline starts at the slot's position"
					}
					if p.Source.Type == "mongodb" {
						note = "no state yet: the pipeline starts at the change stream's end"
					}
				default:
					note = "cannot open the state: " + storeErr.Error()
				}
				var results []checkResult
				if p.Source.Type == "mongodb" {
					results = checkMongo(c.Context(), p, stored, note)
				} else if p.Source.Type == "postgres" {
					results = checkPostgres(c.Context(), p, stored, note)
				} else {
					results = checkMySQL(c.Context(), p, stored, note)
				}
				for _, r := range results {
					if r.Status == string(mysql.CheckFail) {
						failed++
					}
				}
				reports = append(reports, report{Pipeline: p.Name, Checks: results})
			}
			out := c.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(reports); err != nil {
					return err
				}
			} else {
				for _, r := range reports {
					printChecks(out, r.Pipeline, r.Checks)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d check(s) failed", failed)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&cfgPath, "config", "c", "", "path to siphon.yaml")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return c
}

// checkResult is one line of `siphon check`, whatever the source type.
type checkResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

func checkMySQL(ctx context.Context, p config.Pipeline, stored []byte, note string) []checkResult {
	cc := mysql.CheckConfig{ServerID: p.Source.ServerID, Filter: p.Source.Filter, Stored: stored, StoredNote: note}
	ep, err := mysql.ParseURL(p.Source.URL)
	if err != nil {
		return []checkResult{{Name: "url", Status: string(mysql.CheckFail), Detail: err.Error()}}
	}
	cc.Endpoint = ep
	var out []checkResult
	for _, r := range mysql.Check(ctx, cc) {
		out = append(out, checkResult{Name: r.Name, Status: string(r.Status), Detail: r.Detail, Fix: r.Fix})
	}
	return out
}

func checkPostgres(ctx context.Context, p config.Pipeline, stored []byte, note string) []checkResult {
	cc := postgres.CheckConfig{Slot: p.Source.Slot, Publication: p.Source.Publication, Filter: p.Source.Filter, SignalTable: p.Source.SignalTable,
		Stored: stored, StoredNote: note}
	ep, err := postgres.ParseURL(p.Source.URL)
	if err != nil {
		return []checkResult{{Name: "url", Status: string(postgres.CheckFail), Detail: err.Error()}}
	}
	cc.Endpoint = ep
	var out []checkResult
	for _, r := range postgres.Check(ctx, cc) {
		out = append(out, checkResult{Name: r.Name, Status: string(r.Status), Detail: r.Detail, Fix: r.Fix})
	}
	return out
}

func checkMongo(ctx context.Context, p config.Pipeline, stored []byte, note string) []checkResult {
	cc := mongodb.CheckConfig{URL: p.Source.URL, Snapshot: p.Source.Snapshot, Stored: stored, StoredNote: note}
	if p.Source.Filter != nil {
		cc.Filter = p.Source.Filter
	}
	var out []checkResult
	for _, r := range mongodb.Check(ctx, cc) {
		out = append(out, checkResult{Name: r.Name, Status: string(r.Status), Detail: r.Detail, Fix: r.Fix})
	}
	return out
}

func printChecks(w io.Writer, pipeline string, results []checkResult) {
	fmt.Fprintf(w, "pipeline %s:\n", pipeline)
	for _, r := range results {
		fmt.Fprintf(w, "  %-4s  %-28s %s\n", r.Status, r.Name, r.Detail)
		if r.Fix != "" && (r.Status == string(mysql.CheckFail) || r.Status == string(mysql.CheckWarn)) {
			fmt.Fprintf(w, "        %-28s fix: %s\n", "", r.Fix)
		}
	}
}
