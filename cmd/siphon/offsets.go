package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/spf13/cobra"
)

func newOffsetsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "offsets",
		Short: "Show or reset the stored source positions",
		Args:  noArgs,
	}
	c.AddCommand(newOffsetsShowCommand(), newOffsetsResetCommand())
	return c
}

// storedOffset is one pipeline in `siphon offsets show`. partition and
// offset are Debezium's source partition and offset maps (SPEC §7).
type storedOffset struct {
	Pipeline  string            `json:"pipeline"`
	Partition map[string]string `json:"partition"`
	Offset    json.RawMessage   `json:"offset"`
	Seq       uint64            `json:"seq,omitempty"`
	UpdatedAt *time.Time        `json:"updated_at,omitempty"`
	InConfig  bool              `json:"in_config"`
}

func newOffsetsShowCommand() *cobra.Command {
	var cfgPath string
	c := &cobra.Command{
		Use:   "show",
		Short: "Print the stored positions as JSON",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			var shown []storedOffset
			prefixes := map[string]string{}
			for _, p := range cfg.Pipelines {
				prefixes[p.Name] = p.Source.TopicPrefix
			}
			names := map[string]bool{}
			for n := range prefixes {
				names[n] = true
			}
			store, err := checkpoint.Open(cfg.StateDir, checkpoint.Options{ReadOnly: true})
			switch {
			case errors.Is(err, checkpoint.ErrNoState):
			case err != nil:
				return err
			default:
				defer store.Close()
				stored, err := store.Pipelines()
				if err != nil {
					return err
				}
				for _, n := range stored {
					names[n] = true
				}
			}
			sorted := make([]string, 0, len(names))
			for n := range names {
				sorted = append(sorted, n)
			}
			sort.Strings(sorted)
			for _, n := range sorted {
				prefix, inConfig := prefixes[n]
				if !inConfig {
					prefix = n
				}
				so := storedOffset{Pipeline: n, Partition: map[string]string{"server": prefix}, Offset: json.RawMessage("null"), InConfig: inConfig}
				if store != nil {
					off, ok, err := store.Pipeline(n).LoadOffset()
					if err != nil {
						return fmt.Errorf("pipeline %s: %w", n, err)
					}
					if ok {
						so.Offset = off.Position
						so.Seq = off.Seq
						t := off.UpdatedAt
						so.UpdatedAt = &t
					}
				}
				shown = append(shown, so)
			}
			enc := json.NewEncoder(c.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"state_dir": cfg.StateDir, "pipelines": shown})
		},
	}
	c.Flags().StringVarP(&cfgPath, "config", "c", "", "path to siphon.yaml")
	return c
}

func newOffsetsResetCommand() *cobra.Command {
	var cfgPath, name string
	c := &cobra.Command{
		Use:   "reset",
		Short: "Forget a pipeline's stored position and schema history (it restarts as if new)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			if name == "" {
				return usageError{errors.New("--pipeline is required")}
			}
			store, err := checkpoint.Open(cfg.StateDir, checkpoint.Options{})
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.Pipeline(name).Reset(); err != nil {
				return fmt.Errorf("pipeline %s: %w", name, err)
			}
			fmt.Fprintf(c.OutOrStdout(), "pipeline %s: stored position and schema history removed\n", name)
			return nil
		},
	}
	c.Flags().StringVarP(&cfgPath, "config", "c", "", "path to siphon.yaml")
	c.Flags().StringVar(&name, "pipeline", "", "the pipeline to reset")
	return c
}
