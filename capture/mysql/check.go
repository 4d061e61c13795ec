package mysql

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
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
	Endpoint Endpoint
	ServerID uint32
	Filter   TableFilter
	// Stored is the pipeline's stored position, nil when none; StoredNote
	// explains a missing one (e.g. the state is locked by a running siphon).
	Stored     pipeline.Position
	StoredNote string
}

// Check verifies the server prerequisites of a MySQL/MariaDB source.
func Check(ctx context.Context, cfg CheckConfig) []CheckResult {
	var out []CheckResult
	add := func(name string, st CheckStatus, detail, fix string) {
		out = append(out, CheckResult{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	ep, err := resolveTLS(ctx, cfg.Endpoint)
	if err == nil {
		cfg.Endpoint = ep
	}
	conn, err := dial(ctx, cfg.Endpoint)
	if err != nil {
		add("connect", CheckFail, err.Error(), "check the url (host, port, user, password) and that the server accepts connections from this host")
		return out
	}
	defer conn.Close()
	info, err := queryServerInfo(conn)
	if err != nil {
		add("connect", CheckFail, err.Error(), "")
		return out
	}
	add("connect", CheckPass, fmt.Sprintf("%s %s as %s", info.Flavor, info.Version, cfg.Endpoint.User), "")

	wantVar := func(name, want, fix string) {
		v, err := variable(conn, name)
		switch {
		case err != nil:
			add(name, CheckFail, err.Error(), fix)
		case equalFold(v, want) || (name == "log_bin" && v == "1"):
			add(name, CheckPass, name+"="+v, "")
		default:
			add(name, CheckFail, fmt.Sprintf("%s=%s, siphon needs %s", name, v, want), fix)
		}
	}
	wantVar("log_bin", "ON", "enable the binary log: log_bin=<basename> in the server config, then restart it")
	wantVar("binlog_format", "ROW", "set binlog_format=ROW in the server config (SET GLOBAL binlog_format=ROW applies to new sessions only)")
	wantVar("binlog_row_image", "FULL", "set binlog_row_image=FULL in the server config")
	if v, err := variable(conn, "binlog_row_metadata"); err != nil {
		add("binlog_row_metadata", CheckWarn, "not available on this server: column names come from siphon's schema history only", "use MySQL ≥ 8.0.1 or MariaDB ≥ 10.5 with binlog_row_metadata=FULL")
	} else if !equalFold(v, "FULL") {
		add("binlog_row_metadata", CheckWarn, "binlog_row_metadata="+v+": rows are decoded with siphon's schema history; a DDL siphon did not see could stop the pipeline", "set binlog_row_metadata=FULL so every row carries its column names and types")
	} else {
		add("binlog_row_metadata", CheckPass, "binlog_row_metadata=FULL", "")
	}
	if info.Flavor == FlavorMySQL {
		if info.GTIDMode {
			add("gtid_mode", CheckPass, "gtid_mode=ON: positions resume by GTID set", "")
		} else {
			add("gtid_mode", CheckPass, "gtid_mode=OFF: positions resume by binlog file and offset", "")
		}
	}

	out = append(out, checkGrants(conn, info)...)
	out = append(out, checkServerID(conn, info, cfg.ServerID))
	out = append(out, checkTables(conn, cfg.Filter))
	out = append(out, checkStored(conn, cfg))
	return out
}

func checkGrants(conn *client.Conn, info *serverInfo) []CheckResult {
	r, err := conn.Execute("SHOW GRANTS")
	if err != nil {
		return []CheckResult{{Name: "privileges", Status: CheckFail, Detail: "SHOW GRANTS: " + err.Error()}}
	}
	var global, granted string
	for i := range r.RowNumber() {
		g := strings.ToUpper(str(r, i, 0))
		granted += g + "\n"
		if strings.Contains(g, " ON *.* ") {
			global += g + "\n"
		}
	}
	all := strings.Contains(global, "ALL PRIVILEGES")
	has := func(p string) bool { return all || strings.Contains(global, p) }
	clientPriv := "REPLICATION CLIENT"
	if info.Flavor == FlavorMariaDB && (has("BINLOG MONITOR") || !has("REPLICATION CLIENT")) {
		clientPriv = "BINLOG MONITOR"
	}
	var res []CheckResult
	for _, p := range []struct{ priv, why string }{
		{"REPLICATION SLAVE", "to read the binlog"},
		{clientPriv, "to read binlog positions (SHOW MASTER STATUS, SHOW BINARY LOGS)"},
	} {
		if has(p.priv) {
			res = append(res, CheckResult{Name: "privilege " + p.priv, Status: CheckPass, Detail: "granted on *.* (" + p.why + ")"})
		} else {
			res = append(res, CheckResult{Name: "privilege " + p.priv, Status: CheckFail, Detail: "missing: needed " + p.why,
				Fix: "GRANT " + p.priv + " ON *.* TO <siphon user>"})
		}
	}
	if all || strings.Contains(global, "SELECT") {
		res = append(res, CheckResult{Name: "privilege SELECT", Status: CheckPass, Detail: "granted on *.* (to read table definitions)"})
	} else if strings.Contains(granted, "GRANT SELECT") || strings.Contains(granted, ", SELECT") {
		res = append(res, CheckResult{Name: "privilege SELECT", Status: CheckWarn, Detail: "granted on some databases only: make sure it covers every captured table",
			Fix: "GRANT SELECT ON <db>.* TO <siphon user> for each captured database"})
	} else {
		res = append(res, CheckResult{Name: "privilege SELECT", Status: CheckFail, Detail: "missing: needed to read table definitions",
			Fix: "GRANT SELECT ON <db>.* TO <siphon user> for each captured database"})
	}
	return res
}

func checkServerID(conn *client.Conn, info *serverInfo, id uint32) CheckResult {
	name := fmt.Sprintf("server_id %d", id)
	if id == info.ServerID {
		return CheckResult{Name: name, Status: CheckFail, Detail: "is the source server's own server_id", Fix: "pick a server_id no server or replica in the topology uses"}
	}
	r, err := conn.Execute("SHOW SLAVE HOSTS")
	if err != nil {
		fix := "make sure no other replica uses this server_id, or grant REPLICATION SLAVE so siphon can list replicas"
		if info.Flavor == FlavorMariaDB {
			fix = "make sure no other replica uses this server_id, or grant REPLICATION MASTER ADMIN so siphon can list replicas (SHOW SLAVE HOSTS)"
		}
		return CheckResult{Name: name, Status: CheckWarn, Detail: "cannot list the server's replicas: " + err.Error(), Fix: fix}
	}
	for i := range r.RowNumber() {
		sid, _ := r.GetUint(i, 0)
		if sid == uint64(id) {
			host := str(r, i, 1)
			return CheckResult{Name: name, Status: CheckFail, Detail: fmt.Sprintf("a connected replica already uses it (host %q); if that is this siphon running, ignore this", host),
				Fix: "give every replica and every siphon pipeline its own server_id"}
		}
	}
	return CheckResult{Name: name, Status: CheckPass, Detail: "no connected replica uses it"}
}

func checkTables(conn *client.Conn, filter TableFilter) CheckResult {
	all, err := listTables(conn)
	if err != nil {
		return CheckResult{Name: "tables", Status: CheckFail, Detail: err.Error()}
	}
	var picked []string
	for db, ts := range all {
		for _, t := range ts {
			if filter == nil || filter.Match(db, t) {
				picked = append(picked, db+"."+t)
			}
		}
	}
	if len(picked) == 0 {
		return CheckResult{Name: "tables", Status: CheckWarn, Detail: "no existing table matches tables/exclude_tables (tables created later will be captured)", Fix: "check the patterns: db.table with * wildcards"}
	}
	detail := fmt.Sprintf("%d tables match", len(picked))
	if len(picked) <= 10 {
		detail += ": " + strings.Join(picked, ", ")
	}
	return CheckResult{Name: "tables", Status: CheckPass, Detail: detail}
}

func checkStored(conn *client.Conn, cfg CheckConfig) CheckResult {
	if cfg.Stored == nil {
		note := cfg.StoredNote
		if note == "" {
			note = "no stored position: the pipeline starts at the end of the binlog"
		}
		return CheckResult{Name: "stored position", Status: CheckSkip, Detail: note}
	}
	p, err := DecodePosition(cfg.Stored)
	if err != nil {
		return CheckResult{Name: "stored position", Status: CheckFail, Detail: err.Error(), Fix: "siphon offsets reset --pipeline <name>"}
	}
	if err := checkAvailable(conn, p); err != nil {
		return CheckResult{Name: "stored position", Status: CheckFail, Detail: err.Error(), Fix: "siphon offsets reset --pipeline <name> (the changes in the purged binlogs are lost to siphon)"}
	}
	return CheckResult{Name: "stored position", Status: CheckPass, Detail: p.String() + " is still on the server"}
}
