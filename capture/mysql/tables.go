package mysql

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/pipeline"
)

// decodeFunc turns one go-mysql decoded column value into its pipeline value.
type decodeFunc func(v any) (pipeline.Value, error)

// tableState is a captured table as one TABLE_MAP event describes it.
type tableState struct {
	table   *pipeline.Table
	decode  []decodeFunc
	raw     []coltype.RawDecodeFunc // nil when a column has no raw decoder
	source  string                  // "db.table" for errors
	mapSig  []byte                  // column types and metadata of the TABLE_MAP it was built from
	skipped bool                    // not captured: its rows are ignored
	signals bool                    // the signalling table: inserts are signals
	silent  bool                    // read for signals only: its rows are not emitted
}

// tableBuilder turns TABLE_MAP events into table states, merging what the
// binlog says with the schema history.
type tableBuilder struct {
	info        *serverInfo
	topicPrefix string
	log         *slog.Logger
	warned      map[string]bool
}

func mapSignature(tm *replication.TableMapEvent) []byte {
	sig := make([]byte, 0, len(tm.ColumnType)*3+len(tm.NullBitmap))
	sig = append(sig, tm.ColumnType...)
	for _, m := range tm.ColumnMeta {
		sig = append(sig, byte(m>>8), byte(m))
	}
	sig = append(sig, tm.NullBitmap...)
	for _, n := range tm.ColumnName {
		sig = append(sig, n...)
		sig = append(sig, 0)
	}
	return sig
}

// sameMap reports whether a TABLE_MAP describes the table a state was built from.
func (s *tableState) sameMap(tm *replication.TableMapEvent) bool {
	return bytes.Equal(s.mapSig, mapSignature(tm))
}

// build decodes a TABLE_MAP into a table state. def is the history's
// definition of the table at this position (nil when unknown).
func (b *tableBuilder) build(tm *replication.TableMapEvent, def *tableDef, at Position) (*tableState, error) {
	db, name := string(tm.Schema), string(tm.Table)
	where := fmt.Sprintf("table %s.%s at %s", db, name, at)
	n := int(tm.ColumnCount)

	names := tm.ColumnNameString()
	unsignedKnown := len(tm.SignednessBitmap) > 0
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	enumSetCollations := tm.EnumSetCollationMap()
	enums := tm.EnumStrValueMap()
	sets := tm.SetStrValueMap()
	geoms := tm.GeometryTypeMap()

	if def != nil && def.Dropped {
		def = nil
	}
	if def != nil && len(def.Columns) != n {
		if len(names) != n {
			return nil, fmt.Errorf("%s: the binlog row has %d columns but the schema history has %d (%s), and the server does not log column names (binlog_row_metadata=FULL): cannot decode safely",
				where, n, len(def.Columns), columnNames(def))
		}
		b.warnOnce(db+"."+name, "schema history does not match the binlog; using the binlog's own metadata (defaults unknown)",
			"table", db+"."+name, "position", at.String(), "binlog_columns", n, "history_columns", len(def.Columns))
		def = nil
	}
	if len(names) != n && def == nil {
		return nil, fmt.Errorf("%s: the server does not log column names (binlog_row_metadata is not FULL) and siphon has no schema for this table at this position", where)
	}

	cols := make([]pipeline.Column, n)
	decs := make([]decodeFunc, n)
	raws := make([]coltype.RawDecodeFunc, n)
	for i := range n {
		colName := ""
		if len(names) == n {
			colName = names[i]
		} else {
			colName = def.Columns[i].Name
		}
		_, nullable := tm.Nullable(i)
		bc, err := coltype.FromBinlog(colName, tm.ColumnType[i], tm.ColumnMeta[i], unsigned[i], nullable)
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", where, colName, err)
		}
		bc.Flavor = string(b.info.Flavor)
		if id, ok := collations[i]; ok {
			bc.Charset = b.charset(id)
		} else if id, ok := enumSetCollations[i]; ok {
			bc.Charset = b.charset(id)
		}
		if m, ok := enums[i]; ok {
			if bc.Members, err = decodeMembers(bc.Charset, m); err != nil {
				return nil, fmt.Errorf("%s: column %s: %w", where, colName, err)
			}
		} else if m, ok := sets[i]; ok {
			if bc.Members, err = decodeMembers(bc.Charset, m); err != nil {
				return nil, fmt.Errorf("%s: column %s: %w", where, colName, err)
			}
		}
		if g, ok := geoms[i]; ok {
			bc.Geometry = geometryName(g)
		}

		col := bc
		if def != nil {
			ic, err := coltype.FromInformationSchema(def.Columns[i], string(b.info.Flavor))
			if err != nil {
				return nil, fmt.Errorf("%s: column %s: %w", where, colName, err)
			}
			mismatch := coltype.SameStorage(bc, ic)
			if mismatch == nil && len(names) == n && !strings.EqualFold(names[i], ic.Name) {
				mismatch = fmt.Errorf("binlog names it %s, schema history %s", names[i], ic.Name)
			}
			if mismatch != nil {
				if len(names) != n {
					return nil, fmt.Errorf("%s: column %d (%s): the binlog row does not match the schema history: %w; set binlog_row_metadata=FULL so the binlog carries its own column metadata",
						where, i+1, colName, mismatch)
				}
				b.warnOnce(db+"."+name, "schema history does not match the binlog; using the binlog's own metadata (defaults unknown)",
					"table", db+"."+name, "position", at.String(), "column", colName, "reason", mismatch.Error())
				return b.build(tm, nil, at)
			}
			col = merge(bc, ic, len(names) == n, unsignedKnown)
		}
		schema, err := col.Schema()
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", where, col.Name, err)
		}
		dec, err := col.BinlogDecoder()
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", where, col.Name, err)
		}
		cols[i] = pipeline.Column{Name: col.Name, Schema: schema, Native: col.Native()}
		decs[i] = dec
		if raws != nil {
			if rd, err := col.RawDecoder(tm.ColumnType[i], tm.ColumnMeta[i]); err == nil {
				raws[i] = rd
			} else {
				raws = nil // e.g. MySQL JSON: the table takes go-mysql's decoding
			}
		}
	}

	var key []int
	switch {
	case len(tm.PrimaryKey) > 0:
		for _, k := range tm.PrimaryKey {
			key = append(key, int(k))
		}
	case def != nil:
		for _, k := range def.PrimaryKey {
			for i, c := range cols {
				if c.Name == k {
					key = append(key, i)
				}
			}
		}
	}
	id := pipeline.TableID{Database: db, Name: name}
	t := pipeline.NewTable(id, topicName(b.topicPrefix, db, name), cols, key)
	return &tableState{table: t, decode: decs, raw: raws, source: db + "." + name, mapSig: mapSignature(tm)}, nil
}

func (b *tableBuilder) charset(collation uint64) string {
	if cs, ok := b.info.Collations[collation]; ok {
		return cs
	}
	cs, _ := coltype.CharsetOfCollation(collation)
	return cs
}

func (b *tableBuilder) warnOnce(key, msg string, args ...any) {
	if b.warned == nil {
		b.warned = map[string]bool{}
	}
	if b.warned[key] {
		return
	}
	b.warned[key] = true
	b.log.Warn(msg, args...)
}

// merge takes the physical layout from the binlog and everything the binlog
// does not carry from information_schema.
func merge(bin, info coltype.Column, binlogNames, binlogSignedness bool) coltype.Column {
	c := info
	// MariaDB's JSON is a LONGTEXT in the binlog: information_schema knows better.
	if !(info.Type == coltype.TypeJSON && bin.Type == coltype.TypeBlob) {
		c.Type = bin.Type
	}
	c.Precision, c.Scale, c.FSP = bin.Precision, bin.Scale, bin.FSP
	if bin.Type == coltype.TypeBit {
		c.Length = bin.Length
	}
	if binlogNames {
		c.Name = bin.Name
	}
	if binlogSignedness {
		c.Unsigned = bin.Unsigned
	}
	if bin.Charset != "" {
		c.Charset = bin.Charset
	}
	if len(bin.Members) > 0 {
		c.Members = bin.Members
	}
	if bin.Geometry != "" {
		c.Geometry = bin.Geometry
	}
	c.Nullable = bin.Nullable
	return c
}

// decodeMembers converts ENUM/SET member names, which the TABLE_MAP carries
// in the column's character set, to UTF-8.
func decodeMembers(charset string, members []string) ([]string, error) {
	if charset == "" || strings.HasPrefix(charset, "utf8") || charset == "ascii" {
		return members, nil
	}
	out := make([]string, len(members))
	for i, m := range members {
		s, err := coltype.DecodeString(charset, []byte(m))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func geometryName(t uint64) string {
	names := []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection"}
	if t < uint64(len(names)) {
		return names[t]
	}
	return "geometry"
}

func columnNames(def *tableDef) string {
	names := make([]string, len(def.Columns))
	for i, c := range def.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// topicName is <prefix>.<db>.<table> with characters Kafka does not allow
// replaced by '_' (Debezium's TopicNamingStrategy sanitisation).
func topicName(prefix, db, table string) string {
	return sanitizeTopic(prefix + "." + db + "." + table)
}

func sanitizeTopic(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !validTopicByte(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		if r < 0x80 && validTopicByte(byte(r)) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func validTopicByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
