package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// slotState is a row of pg_replication_slots.
type slotState struct {
	exists       bool
	plugin       string
	database     string
	active       bool
	walStatus    string // reserved, extended, unreserved, lost ("" before PostgreSQL 13)
	confirmed    uint64
	restart      uint64
	retainedByte int64 // pg_current_wal_lsn() - restart_lsn
}

func readSlot(ctx context.Context, c *pgconn.PgConn, info *serverInfo, slot string) (slotState, error) {
	walStatus := "''"
	if info.VersionNum >= 130000 {
		walStatus = "coalesce(wal_status, '')"
	}
	rows, err := queryStrings(ctx, c, `SELECT coalesce(plugin, ''), coalesce(database, ''), active, `+walStatus+`,
		coalesce(confirmed_flush_lsn::text, ''), coalesce(restart_lsn::text, ''),
		coalesce((pg_current_wal_lsn() - restart_lsn)::bigint, 0)
		FROM pg_replication_slots WHERE slot_name = $1`, slot)
	if err != nil {
		return slotState{}, fmt.Errorf("read replication slot %s: %w", slot, err)
	}
	if len(rows) == 0 {
		return slotState{}, nil
	}
	r := rows[0]
	s := slotState{exists: true, plugin: r[0], database: r[1], active: r[2] == "t", walStatus: r[3]}
	if r[4] != "" {
		s.confirmed, _ = parseLSN(r[4])
	}
	if r[5] != "" {
		s.restart, _ = parseLSN(r[5])
	}
	if r[6] != "" {
		n, err := strconv.ParseInt(r[6], 10, 64)
		if err != nil {
			return s, fmt.Errorf("replication slot %s: retained WAL %q: %w", slot, r[6], err)
		}
		s.retainedByte = n
	}
	return s, nil
}

// SlotLostError says the stored position can no longer be streamed from
// the slot: changes after it are gone.
type SlotLostError struct {
	Slot   string
	Stored uint64
	Reason string
}

func (e *SlotLostError) Error() string {
	return fmt.Sprintf("replication slot %s cannot resume the stored position lsn_commit %s: %s; the changes after it are lost to siphon. "+
		"Fix: set snapshot: when_needed to take a new snapshot automatically, or reset the pipeline (siphon offsets reset) and drop the slot if it is invalid "+
		"(SELECT pg_drop_replication_slot('%s')), accepting the gap or re-copying the tables with a snapshot",
		e.Slot, formatLSN(e.Stored), e.Reason, e.Slot)
}

// validateSlot checks that slot s can resume position stored.
func validateSlot(slot string, s slotState, stored uint64) error {
	lost := func(reason string) error { return &SlotLostError{Slot: slot, Stored: stored, Reason: reason} }
	switch {
	case !s.exists:
		return lost("the slot does not exist (it was dropped)")
	case s.walStatus == "lost":
		return lost("the slot is invalidated (wal_status lost): the server removed WAL it still needed (max_slot_wal_keep_size)")
	case s.confirmed > stored:
		return lost(fmt.Sprintf("the slot's confirmed_flush_lsn %s is after the stored position (the slot was recreated or advanced by someone else)", formatLSN(s.confirmed)))
	case s.restart > stored:
		return lost(fmt.Sprintf("the slot's restart_lsn %s is after the stored position", formatLSN(s.restart)))
	}
	return nil
}

// createSlot creates the logical slot with pgoutput on a replication
// connection and returns its consistent point.
func createSlot(ctx context.Context, repl *pgconn.PgConn, slot string) (uint64, error) {
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
		Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT",
	})
	if err != nil {
		return 0, fmt.Errorf("create replication slot %s: %w", slot, err)
	}
	lsn, err := parseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, fmt.Errorf("create replication slot %s: %w", slot, err)
	}
	return lsn, nil
}

func dropSlot(ctx context.Context, c *pgconn.PgConn, slot string) error {
	if err := exec(ctx, c, "SELECT pg_drop_replication_slot("+quoteLiteral(slot)+")"); err != nil {
		return fmt.Errorf("drop replication slot %s: %w", slot, err)
	}
	return nil
}

// publicationState is what siphon knows of its publication.
type publicationState struct {
	exists    bool
	allTables bool
	tables    map[string]bool // schema.table
}

func readPublication(ctx context.Context, c *pgconn.PgConn, pub string) (publicationState, error) {
	rows, err := queryStrings(ctx, c, `SELECT puballtables FROM pg_publication WHERE pubname = $1`, pub)
	if err != nil {
		return publicationState{}, fmt.Errorf("read publication %s: %w", pub, err)
	}
	if len(rows) == 0 {
		return publicationState{}, nil
	}
	ps := publicationState{exists: true, allTables: rows[0][0] == "t", tables: map[string]bool{}}
	tables, err := queryStrings(ctx, c, `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, pub)
	if err != nil {
		return publicationState{}, fmt.Errorf("read tables of publication %s: %w", pub, err)
	}
	for _, t := range tables {
		ps.tables[t[0]+"."+t[1]] = true
	}
	return ps, nil
}

// selectedTables lists the tables the filter captures, schema.table
// quoted for SQL and plain.
func selectedTables(ctx context.Context, c *pgconn.PgConn, filter TableFilter) (quoted, plain []string, err error) {
	all, err := listTables(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range all {
		if filter == nil || filter.Match(t[1], t[2]) {
			quoted = append(quoted, quoteIdent(t[1])+"."+quoteIdent(t[2]))
			plain = append(plain, t[1]+"."+t[2])
		}
	}
	return quoted, plain, nil
}

// ensurePublication creates the publication for the selected tables (and
// the signal table, schema.table or "", whose inserts must be streamed
// even when it is not captured) when it is missing; an existing one is
// used as it is. It returns the tables the publication does not cover.
func ensurePublication(ctx context.Context, c *pgconn.PgConn, pub string, filter TableFilter, signalTable string, emitTruncates bool) (created bool, missing []string, err error) {
	ps, err := readPublication(ctx, c, pub)
	if err != nil {
		return false, nil, err
	}
	quoted, plain, err := selectedTables(ctx, c, filter)
	if err != nil {
		return false, nil, err
	}
	if signalTable != "" && !slices.Contains(plain, signalTable) {
		if _, all, err := selectedTables(ctx, c, nil); err == nil && slices.Contains(all, signalTable) {
			quoted = append(quoted, quoteQualified(signalTable))
			plain = append(plain, signalTable)
		}
	}
	if !ps.exists {
		stmt := "CREATE PUBLICATION " + quoteIdent(pub)
		if len(quoted) > 0 {
			stmt += " FOR TABLE " + strings.Join(quoted, ", ")
		}
		if !emitTruncates {
			// Debezium skips truncates by default and leaves them out of
			// the publications it creates.
			stmt += " WITH (publish = 'insert, update, delete')"
		}
		if err := exec(ctx, c, stmt); err != nil {
			var pgErr *pgconn.PgError
			fix := ""
			if errors.As(err, &pgErr) && pgErr.Code == "42501" {
				fix = ": siphon's user needs CREATE on the database and ownership of the tables; or have an administrator run " + stmt
			}
			return false, nil, fmt.Errorf("create publication %s: %w%s", pub, err, fix)
		}
		return true, nil, nil
	}
	if ps.allTables {
		return false, nil, nil
	}
	for _, t := range plain {
		if !ps.tables[t] {
			missing = append(missing, t)
		}
	}
	sort.Strings(missing)
	return false, missing, nil
}
