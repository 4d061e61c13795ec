package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/checkpoint"
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
				Pipeline string              `json:"pipeline"`
				Checks   []mysql.CheckResult `json:"checks"`
			}
			var reports []report
			failed := 0
			for _, p := range cfg.Pipelines {
				cc := mysql.CheckConfig{ServerID: p.Source.ServerID, Filter: p.Source.Filter}
				var results []mysql.CheckResult
				ep, err := mysql.ParseURL(p.Source.URL)
				if err != nil {
					results = append(results, mysql.CheckResult{Name: "url", Status: mysql.CheckFail, Detail: err.Error()})
				} else {
					cc.Endpoint = ep
					switch {
					case store != nil:
						if off, ok, err := store.Pipeline(p.Name).LoadOffset(); err != nil {
							cc.StoredNote = "cannot read the stored position: " + err.Error()
						} else if ok {
							cc.Stored = off.Position
						}
					case errors.Is(storeErr, checkpoint.ErrLocked):
						cc.StoredNote = "not checked: siphon is running on this state_dir"
					case errors.Is(storeErr, checkpoint.ErrNoState):
						cc.StoredNote = "no state yet: the pipeline starts at the end of the binlog"
					default:
						cc.StoredNote = "cannot open the state: " + storeErr.Error()
					}
					results = mysql.Check(c.Context(), cc)
				}
				for _, r := range results {
					if r.Status == mysql.CheckFail {
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

func printChecks(w io.Writer, pipeline string, results []mysql.CheckResult) {
	fmt.Fprintf(w, "pipeline %s:\n", pipeline)
	for _, r := range results {
		fmt.Fprintf(w, "  %-4s  %-28s %s\n", r.Status, r.Name, r.Detail)
		if r.Fix != "" && (r.Status == mysql.CheckFail || r.Status == mysql.CheckWarn) {
			fmt.Fprintf(w, "        %-28s fix: %s\n", "", r.Fix)
		}
	}
}
