package mysql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
)

// tableDef is a table's definition as information_schema describes it at
// one binlog position. It is what the schema history stores.
type tableDef struct {
	Database   string                     `json:"db"`
	Table      string                     `json:"table"`
	Columns    []coltype.InfoSchemaColumn `json:"columns,omitempty"`
	PrimaryKey []string                   `json:"primary_key,omitempty"`
	Dropped    bool                       `json:"dropped,omitempty"`
}

// historyEntry is one schema history record: a table's definition from a
// binlog position on.
type historyEntry struct {
	File string   `json:"file"`
	Pos  uint32   `json:"pos"`
	Def  tableDef `json:"def"`
}

func (e *historyEntry) key() []byte {
	return historyKey(e.File, e.Pos, e.Def.Database+"\x00"+e.Def.Table)
}

// HistoryStore persists schema history entries in key order.
type HistoryStore interface {
	AppendHistory(key, value []byte) error
	History(fn func(key, value []byte) error) error
}

// schemaHistory is the in-memory index of the stored history.
type schemaHistory struct {
	store   HistoryStore
	entries map[string][]*historyEntry // "db\x00table" → entries in position order
	lastKey []byte
}

func loadHistory(store HistoryStore) (*schemaHistory, error) {
	h := &schemaHistory{store: store, entries: map[string][]*historyEntry{}}
	if store == nil {
		return h, nil
	}
	err := store.History(func(key, value []byte) error {
		var e historyEntry
		if err := json.Unmarshal(value, &e); err != nil {
			return fmt.Errorf("schema history entry %x: %w", key, err)
		}
		id := e.Def.Database + "\x00" + e.Def.Table
		h.entries[id] = append(h.entries[id], &e)
		h.lastKey = append(h.lastKey[:0], key...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load schema history: %w", err)
	}
	return h, nil
}

// at returns the definition of db.table in force at (file, pos): the last
// entry at or before it.
func (h *schemaHistory) at(db, table, file string, pos uint32) *tableDef {
	es := h.entries[db+"\x00"+table]
	for i := len(es) - 1; i >= 0; i-- {
		if !before(file, pos, es[i].File, es[i].Pos) {
			return &es[i].Def
		}
	}
	return nil
}

// exactly returns the entry recorded for db.table at (file, pos), if any:
// a DDL read again after a restart finds what was recorded the first time.
func (h *schemaHistory) exactly(db, table, file string, pos uint32) (*tableDef, bool) {
	for _, e := range h.entries[db+"\x00"+table] {
		if e.File == file && e.Pos == pos {
			return &e.Def, true
		}
	}
	return nil, false
}

// record stores definitions at (file, pos), in table order.
func (h *schemaHistory) record(file string, pos uint32, defs []tableDef) error {
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Database != defs[j].Database {
			return defs[i].Database < defs[j].Database
		}
		return defs[i].Table < defs[j].Table
	})
	for _, d := range defs {
		e := &historyEntry{File: file, Pos: pos, Def: d}
		key := e.key()
		if h.lastKey != nil && string(key) <= string(h.lastKey) {
			// Already recorded by an earlier run (we are re-reading the
			// binlog) or a position from another server: keep the first.
			continue
		}
		if h.store != nil {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := h.store.AppendHistory(key, v); err != nil {
				return fmt.Errorf("record schema of %s.%s at %s:%d: %w", d.Database, d.Table, file, pos, err)
			}
		}
		h.lastKey = key
		id := d.Database + "\x00" + d.Table
		h.entries[id] = append(h.entries[id], e)
	}
	return nil
}

// readTableDefs reads the current definitions of the named tables of one
// database from information_schema. Tables that do not exist come back
// marked Dropped.
func readTableDefs(c *client.Conn, info *serverInfo, db string, tables []string) ([]tableDef, error) {
	if len(tables) == 0 {
		return nil, nil
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = sqlString(t)
	}
	in := strings.Join(quoted, ",")
	defs := map[string]*tableDef{}
	for _, t := range tables {
		defs[t] = &tableDef{Database: db, Table: t, Dropped: true}
	}

	r, err := c.Execute(`SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
		NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, CHARACTER_SET_NAME, EXTRA, GENERATION_EXPRESSION
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ` + sqlString(db) + ` AND TABLE_NAME IN (` + in + `)
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", db, err)
	}
	for i := range r.RowNumber() {
		table := str(r, i, 0)
		d := defs[table]
		if d == nil {
			continue
		}
		d.Dropped = false
		d.Columns = append(d.Columns, coltype.InfoSchemaColumn{
			Name:                 str(r, i, 1),
			DataType:             strings.ToLower(str(r, i, 2)),
			ColumnType:           str(r, i, 3),
			IsNullable:           str(r, i, 4) == "YES",
			Default:              optStr(r, i, 5),
			NumericPrecision:     optInt(r, i, 6),
			NumericScale:         optInt(r, i, 7),
			DatetimePrecision:    optInt(r, i, 8),
			CharMaxLength:        optInt(r, i, 9),
			CharsetName:          optStr(r, i, 10),
			Extra:                str(r, i, 11),
			GenerationExpression: str(r, i, 12),
		})
	}

	r, err = c.Execute(`SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ` + sqlString(db) + ` AND TABLE_NAME IN (` + in + `) AND CONSTRAINT_NAME = 'PRIMARY'
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read primary keys of %s: %w", db, err)
	}
	for i := range r.RowNumber() {
		if d := defs[str(r, i, 0)]; d != nil {
			d.PrimaryKey = append(d.PrimaryKey, str(r, i, 1))
		}
	}

	if info.Flavor == FlavorMariaDB {
		// MariaDB's JSON is LONGTEXT with a json_valid() check constraint.
		r, err = c.Execute(`SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = ` + sqlString(db) + ` AND TABLE_NAME IN (` + in + `)`)
		if err != nil {
			return nil, fmt.Errorf("read check constraints of %s: %w", db, err)
		}
		for i := range r.RowNumber() {
			d := defs[str(r, i, 0)]
			clause := str(r, i, 1)
			if d == nil || !strings.HasPrefix(clause, "json_valid(`") {
				continue
			}
			col := strings.TrimSuffix(strings.TrimPrefix(clause, "json_valid(`"), "`)")
			for j := range d.Columns {
				if d.Columns[j].Name == col && d.Columns[j].DataType == "longtext" {
					d.Columns[j].IsJSON = true
				}
			}
		}
	}

	out := make([]tableDef, 0, len(tables))
	for _, t := range tables {
		out = append(out, *defs[t])
	}
	return out, nil
}

// listTables returns the base tables of the server, per database.
func listTables(c *client.Conn) (map[string][]string, error) {
	r, err := c.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')
		ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := map[string][]string{}
	for i := range r.RowNumber() {
		db := str(r, i, 0)
		out[db] = append(out[db], str(r, i, 1))
	}
	return out, nil
}

type resultset interface {
	GetValue(row, column int) (any, error)
	GetString(row, column int) (string, error)
	GetInt(row, column int) (int64, error)
}

func str(r resultset, row, col int) string {
	s, _ := r.GetString(row, col)
	return s
}

func optStr(r resultset, row, col int) *string {
	v, err := r.GetValue(row, col)
	if err != nil || v == nil {
		return nil
	}
	s, _ := r.GetString(row, col)
	return &s
}

func optInt(r resultset, row, col int) *int64 {
	v, err := r.GetValue(row, col)
	if err != nil || v == nil {
		return nil
	}
	n, err := r.GetInt(row, col)
	if err != nil {
		return nil
	}
	return &n
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}
