package postgres

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/pipeline"
)

// CheckStatus is the outcome of one prerequisite check.
type CheckStatus string

// Check outcomes.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
	CheckSkip CheckStatus = "skip"
)

// CheckResult is one line of `siphon check`.
type CheckResult struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix,omitempty"`
}

// CheckConfig is what Check needs.
type CheckConfig struct {
	Endpoint    Endpoint
	Slot        string
	Publication string
	Filter      TableFilter
	SignalTable string // schema.table, "" for none: the publication must cover it
	// Stored is the pipeline's stored position, nil when none; StoredNote
	// explains a missing one.
	Stored     pipeline.Position
	StoredNote string
}

// Check verifies the server prerequisites of a PostgreSQL source. It only
// reads: it creates neither the slot nor the publication.
func Check(ctx context.Context, cfg CheckConfig) []CheckResult {
	var out []CheckResult
	add := func(name string, st CheckStatus, detail, fix string) {
		out = append(out, CheckResult{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	c, err := cfg.Endpoint.connect(ctx, false)
	if err != nil {
		add("connect", CheckFail, err.Error(), "check the url (host, port, user, password, database) and pg_hba.conf")
		return out
	}
	defer c.Close(context.Background())
	info, err := queryServerInfo(ctx, c)
	if err != nil {
		add("connect", CheckFail, err.Error(), "")
		return out
	}
	if info.VersionNum < 100000 {
		add("connect", CheckFail, "PostgreSQL "+info.Version+": siphon needs PostgreSQL 10 or later", "upgrade the server")
		return out
	}
	detail := fmt.Sprintf("PostgreSQL %s, database %s as %s", info.Version, info.Database, info.User)
	if info.VersionNum < 140000 {
		add("connect", CheckWarn, detail+": before 14, large transactions are not streamed (pgoutput protocol 1) and logical decoding messages are not sent", "PostgreSQL 14 or later")
	} else {
		add("connect", CheckPass, detail, "")
	}

	settings := map[string]string{}
	rows, err := queryStrings(ctx, c, `SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders')`)
	if err != nil {
		add("settings", CheckFail, err.Error(), "")
		return out
	}
	for _, r := range rows {
		settings[r[0]] = r[1]
	}
	if settings["wal_level"] == "logical" {
		add("wal_level", CheckPass, "wal_level=logical", "")
	} else {
		add("wal_level", CheckFail, "wal_level="+settings["wal_level"]+", siphon needs logical", "set wal_level = logical in postgresql.conf and restart the server")
	}
	out = append(out, checkCapacity(ctx, c, settings, cfg.Slot)...)
	out = append(out, checkPrivileges(ctx, c, info)...)

	_, plain, err := selectedTables(ctx, c, cfg.Filter)
	if err != nil {
		add("tables", CheckFail, err.Error(), "")
		return out
	}
	out = append(out, checkTables(ctx, c, plain)...)
	published := plain
	if cfg.SignalTable != "" && !slices.Contains(plain, cfg.SignalTable) {
		if _, all, err := selectedTables(ctx, c, nil); err == nil && slices.Contains(all, cfg.SignalTable) {
			published = append(slices.Clip(plain), cfg.SignalTable)
		} else {
			add("signal table", CheckWarn, cfg.SignalTable+" does not exist: signals cannot be read", "create it: CREATE TABLE "+quoteQualified(cfg.SignalTable)+" (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))")
		}
	}
	out = append(out, checkPublication(ctx, c, cfg.Publication, published)...)
	out = append(out, checkReplicaIdentity(ctx, c, plain)...)
	out = append(out, checkSlot(ctx, c, info, cfg)...)
	return out
}

func checkCapacity(ctx context.Context, c *pgconn.PgConn, settings map[string]string, slot string) []CheckResult {
	var res []CheckResult
	slots, err1 := queryStrings(ctx, c, `SELECT count(*), count(*) FILTER (WHERE slot_name = $1) FROM pg_replication_slots`, slot)
	senders, err2 := queryStrings(ctx, c, `SELECT count(*) FROM pg_stat_replication`)
	if err1 != nil || err2 != nil {
		return []CheckResult{{Name: "replication capacity", Status: CheckWarn, Detail: "cannot count slots and WAL senders", Fix: "grant pg_monitor to siphon's user"}}
	}
	maxSlots, _ := strconv.Atoi(settings["max_replication_slots"])
	used, _ := strconv.Atoi(slots[0][0])
	ours := slots[0][1] == "1"
	switch {
	case ours:
		res = append(res, CheckResult{Name: "replication slots", Status: CheckPass, Detail: fmt.Sprintf("%d of max_replication_slots=%d in use, %s among them", used, maxSlots, slot)})
	case used < maxSlots:
		res = append(res, CheckResult{Name: "replication slots", Status: CheckPass, Detail: fmt.Sprintf("%d of max_replication_slots=%d in use: room for %s", used, maxSlots, slot)})
	default:
		res = append(res, CheckResult{Name: "replication slots", Status: CheckFail, Detail: fmt.Sprintf("all %d replication slots are in use", maxSlots),
			Fix: "raise max_replication_slots (restart needed) or drop an unused slot"})
	}
	maxSenders, _ := strconv.Atoi(settings["max_wal_senders"])
	active, _ := strconv.Atoi(senders[0][0])
	if active < maxSenders {
		res = append(res, CheckResult{Name: "wal senders", Status: CheckPass, Detail: fmt.Sprintf("%d of max_wal_senders=%d in use", active, maxSenders)})
	} else {
		res = append(res, CheckResult{Name: "wal senders", Status: CheckFail, Detail: fmt.Sprintf("all %d WAL senders are in use", maxSenders),
			Fix: "raise max_wal_senders (restart needed)"})
	}
	return res
}

func checkPrivileges(ctx context.Context, c *pgconn.PgConn, info *serverInfo) []CheckResult {
	var res []CheckResult
	switch {
	case info.Superuser:
		res = append(res, CheckResult{Name: "privilege REPLICATION", Status: CheckPass, Detail: info.User + " is a superuser"})
	case info.Replication:
		res = append(res, CheckResult{Name: "privilege REPLICATION", Status: CheckPass, Detail: info.User + " has REPLICATION (create and stream logical slots)"})
	default:
		res = append(res, CheckResult{Name: "privilege REPLICATION", Status: CheckFail, Detail: info.User + " lacks REPLICATION: it cannot create or stream a replication slot",
			Fix: "ALTER ROLE " + quoteIdent(info.User) + " REPLICATION"})
	}
	ok, err := queryValue(ctx, c, `SELECT has_database_privilege(current_database(), 'CONNECT')`)
	if err != nil || ok != "t" {
		res = append(res, CheckResult{Name: "privilege CONNECT", Status: CheckFail, Detail: "no CONNECT on database " + info.Database,
			Fix: "GRANT CONNECT ON DATABASE " + quoteIdent(info.Database) + " TO " + quoteIdent(info.User)})
	} else {
		res = append(res, CheckResult{Name: "privilege CONNECT", Status: CheckPass, Detail: "on database " + info.Database})
	}
	return res
}

func checkTables(ctx context.Context, c *pgconn.PgConn, tables []string) []CheckResult {
	if len(tables) == 0 {
		return []CheckResult{{Name: "tables", Status: CheckWarn, Detail: "no existing table matches tables/exclude_tables",
			Fix: "check the patterns: schema.table with * wildcards"}}
	}
	detail := fmt.Sprintf("%d tables match", len(tables))
	if len(tables) <= 10 {
		detail += ": " + strings.Join(tables, ", ")
	}
	res := []CheckResult{{Name: "tables", Status: CheckPass, Detail: detail}}
	var denied []string
	for _, t := range tables {
		ok, err := queryValue(ctx, c, `SELECT has_table_privilege($1::regclass, 'SELECT')`, quoteQualified(t))
		if err != nil || ok != "t" {
			denied = append(denied, t)
		}
	}
	if len(denied) > 0 {
		res = append(res, CheckResult{Name: "privilege SELECT", Status: CheckFail, Detail: "no SELECT on " + strings.Join(denied, ", ") + " (snapshots read the tables)",
			Fix: "GRANT SELECT ON <table> TO <siphon user>, or GRANT pg_read_all_data TO <siphon user> (PostgreSQL 14+)"})
	} else {
		res = append(res, CheckResult{Name: "privilege SELECT", Status: CheckPass, Detail: "on every selected table"})
	}
	return res
}

// quoteQualified quotes schema.table for a regclass cast.
func quoteQualified(t string) string {
	s, n, _ := strings.Cut(t, ".")
	return quoteIdent(s) + "." + quoteIdent(n)
}

func checkPublication(ctx context.Context, c *pgconn.PgConn, pub string, tables []string) []CheckResult {
	ps, err := readPublication(ctx, c, pub)
	if err != nil {
		return []CheckResult{{Name: "publication " + pub, Status: CheckFail, Detail: err.Error()}}
	}
	name := "publication " + pub
	if !ps.exists {
		ok, err := queryValue(ctx, c, `SELECT has_database_privilege(current_database(), 'CREATE')`)
		stmt := "CREATE PUBLICATION " + quoteIdent(pub) + " FOR TABLE …"
		if err != nil || ok != "t" {
			return []CheckResult{{Name: name, Status: CheckFail, Detail: "missing, and siphon's user has no CREATE on the database to create it",
				Fix: "have an administrator run " + stmt + " (the selected tables), or GRANT CREATE ON DATABASE to siphon's user (it must also own the tables)"}}
		}
		var notOwned []string
		for _, t := range tables {
			ok, err := queryValue(ctx, c, `SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = $1::regclass`, quoteQualified(t))
			if err != nil || ok != "t" {
				notOwned = append(notOwned, t)
			}
		}
		if len(notOwned) > 0 {
			return []CheckResult{{Name: name, Status: CheckFail, Detail: "missing; siphon would create it but does not own " + strings.Join(notOwned, ", "),
				Fix: "have the tables' owner or a superuser run " + stmt}}
		}
		return []CheckResult{{Name: name, Status: CheckPass, Detail: "missing: siphon creates it for the selected tables at start"}}
	}
	if ps.allTables {
		return []CheckResult{{Name: name, Status: CheckPass, Detail: "exists, FOR ALL TABLES"}}
	}
	var missing []string
	for _, t := range tables {
		if !ps.tables[t] {
			missing = append(missing, t)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return []CheckResult{{Name: name, Status: CheckWarn, Detail: "exists but does not cover " + strings.Join(missing, ", ") + ": their changes are not streamed",
			Fix: "ALTER PUBLICATION " + quoteIdent(pub) + " ADD TABLE " + strings.Join(missing, ", ")}}
	}
	return []CheckResult{{Name: name, Status: CheckPass, Detail: fmt.Sprintf("exists and covers the %d selected tables", len(tables))}}
}

// checkReplicaIdentity tells, per table, what the events will hold.
func checkReplicaIdentity(ctx context.Context, c *pgconn.PgConn, tables []string) []CheckResult {
	var res []CheckResult
	for _, t := range tables {
		rows, err := queryStrings(ctx, c, `SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
			FROM pg_class c WHERE c.oid = $1::regclass`, quoteQualified(t))
		if err != nil || len(rows) == 0 {
			continue
		}
		name := "replica identity " + t
		ident, hasPK := rows[0][0], rows[0][1] == "t"
		alter := "ALTER TABLE " + quoteQualified(t) + " REPLICA IDENTITY FULL"
		switch {
		case ident == "f":
			res = append(res, CheckResult{Name: name, Status: CheckPass, Detail: "FULL: before holds the whole old row; unchanged TOASTed columns carry their real values"})
		case ident == "n":
			res = append(res, CheckResult{Name: name, Status: CheckFail, Detail: "NOTHING: updates and deletes of this table cannot be captured (the server rejects them while it is published)",
				Fix: alter + " (or add a primary key and use DEFAULT)"})
		case ident == "d" && !hasPK:
			res = append(res, CheckResult{Name: name, Status: CheckFail, Detail: "DEFAULT without a primary key: updates and deletes cannot be captured (the server rejects them while it is published)",
				Fix: "add a primary key, or " + alter})
		case ident == "i":
			res = append(res, CheckResult{Name: name, Status: CheckWarn, Detail: "USING INDEX: before holds the index columns only; unchanged TOASTed columns are placeholders (__debezium_unavailable_value)",
				Fix: alter + " for full before images and real TOAST values"})
		default:
			res = append(res, CheckResult{Name: name, Status: CheckWarn, Detail: "DEFAULT: before holds the key only; unchanged TOASTed columns are placeholders (__debezium_unavailable_value)",
				Fix: alter + " for full before images and real TOAST values"})
		}
	}
	return res
}

func checkSlot(ctx context.Context, c *pgconn.PgConn, info *serverInfo, cfg CheckConfig) []CheckResult {
	name := "slot " + cfg.Slot
	s, err := readSlot(ctx, c, info, cfg.Slot)
	if err != nil {
		return []CheckResult{{Name: name, Status: CheckFail, Detail: err.Error()}}
	}
	var res []CheckResult
	if !s.exists {
		res = append(res, CheckResult{Name: name, Status: CheckPass, Detail: "does not exist yet: siphon creates it at start"})
	} else {
		detail := fmt.Sprintf("plugin %s, active %t, wal_status %s, confirmed_flush_lsn %s, retained WAL %s",
			s.plugin, s.active, orDash(s.walStatus), formatLSN(s.confirmed), humanBytes(s.retainedByte))
		switch {
		case s.plugin != "pgoutput":
			res = append(res, CheckResult{Name: name, Status: CheckFail, Detail: detail + ": not a pgoutput slot", Fix: "configure another slot name, or drop this slot"})
		case s.database != info.Database:
			res = append(res, CheckResult{Name: name, Status: CheckFail, Detail: detail + ": belongs to database " + s.database, Fix: "configure another slot name"})
		case s.walStatus == "lost":
			res = append(res, CheckResult{Name: name, Status: CheckFail, Detail: detail + ": invalidated, its WAL is gone",
				Fix: "snapshot: when_needed re-snapshots; or reset the pipeline and SELECT pg_drop_replication_slot('" + cfg.Slot + "')"})
		case s.retainedByte > 1<<30:
			res = append(res, CheckResult{Name: name, Status: CheckWarn, Detail: detail + ": the slot holds back much WAL",
				Fix: "run the pipeline (siphon confirms what it has checkpointed), or drop the slot if the pipeline is gone"})
		default:
			res = append(res, CheckResult{Name: name, Status: CheckPass, Detail: detail})
		}
	}
	if cfg.Stored == nil {
		note := cfg.StoredNote
		if note == "" {
			note = "no stored position: the pipeline starts at the slot's position"
		}
		return append(res, CheckResult{Name: "stored position", Status: CheckSkip, Detail: note})
	}
	p, err := DecodePosition(cfg.Stored)
	if err != nil {
		return append(res, CheckResult{Name: "stored position", Status: CheckFail, Detail: err.Error(), Fix: "siphon offsets reset --pipeline <name>"})
	}
	if err := validateSlot(cfg.Slot, s, p.LSNCommit); err != nil {
		return append(res, CheckResult{Name: "stored position", Status: CheckFail, Detail: err.Error(), Fix: "snapshot: when_needed, or siphon offsets reset --pipeline <name>"})
	}
	return append(res, CheckResult{Name: "stored position", Status: CheckPass, Detail: p.String() + " can be resumed from the slot"})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " B"
}
