package mysql

import (
	"strings"

	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// placeholder is a column's parameter expression.
func placeholder(c *sqlapply.MappedColumn) string {
	if isGeometry(c) {
		return "ST_GeomFromWKB(CAST(? AS BINARY), ?)"
	}
	return "?"
}

// match is a NULL-safe comparison of a column with its parameter.
func match(c *sqlapply.MappedColumn) string {
	col := quoteIdent(c.Target.Name)
	switch strings.ToLower(c.Target.Cast) {
	case "json":
		return col + " <=> CAST(? AS JSON)"
	case "float":
		return col + " <=> CAST(? AS FLOAT)"
	}
	return col + " <=> " + placeholder(c)
}

// buildStatement writes a run's SQL for rows rows; insert selects the
// INSERT that follows a keyless update which matched no row.
func buildStatement(r sqlapply.Run, rows int, insert bool) string {
	m := r.Mapping
	t := quoteName(m.Target)
	var b strings.Builder
	values := func(n int) {
		row := make([]string, len(m.Columns))
		for i := range m.Columns {
			row[i] = placeholder(&m.Columns[i])
		}
		tuple := "(" + strings.Join(row, ", ") + ")"
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
	}
	insertInto := func() {
		b.WriteString("INSERT INTO " + t + " (")
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(c.Target.Name))
		}
		b.WriteString(") VALUES ")
	}
	if insert {
		insertInto()
		values(1)
		return b.String()
	}
	switch r.Kind {
	case sqlapply.RunUpsert, sqlapply.RunInsert:
		insertInto()
		values(rows)
		if r.Kind == sqlapply.RunUpsert {
			b.WriteString(" ON DUPLICATE KEY UPDATE ")
			set := 0
			for _, c := range m.Columns {
				if c.Key {
					continue
				}
				if set > 0 {
					b.WriteString(", ")
				}
				set++
				col := quoteIdent(c.Target.Name)
				b.WriteString(col + " = VALUES(" + col + ")")
			}
			if set == 0 {
				col := quoteIdent(m.Columns[m.Key[0]].Target.Name)
				b.WriteString(col + " = " + col)
			}
		}
	case sqlapply.RunDelete:
		b.WriteString("DELETE FROM " + t + " WHERE ")
		if len(m.Key) == 1 {
			c := &m.Columns[m.Key[0]]
			b.WriteString(quoteIdent(c.Target.Name) + " IN (")
			for i := range rows {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(placeholder(c))
			}
			b.WriteString(")")
			break
		}
		b.WriteString("(")
		params := make([]string, len(m.Key))
		for i, k := range m.Key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(m.Columns[k].Target.Name))
			params[i] = placeholder(&m.Columns[k])
		}
		b.WriteString(") IN (")
		tuple := "(" + strings.Join(params, ", ") + ")"
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
		b.WriteString(")")
	case sqlapply.RunUpdateRow:
		b.WriteString("UPDATE " + t + " SET ")
		for i := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(m.Columns[i].Target.Name) + " = " + placeholder(&m.Columns[i]))
		}
		b.WriteString(" WHERE ")
		for i := range m.Columns {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(match(&m.Columns[i]))
		}
		b.WriteString(" LIMIT 1")
	case sqlapply.RunDeleteRow:
		b.WriteString("DELETE FROM " + t + " WHERE ")
		for i := range m.Columns {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(match(&m.Columns[i]))
		}
		b.WriteString(" LIMIT 1")
	case sqlapply.RunUpdateSome:
		b.WriteString("UPDATE " + t + " SET ")
		set := 0
		for i := range m.Columns {
			c := &m.Columns[i]
			if c.Key || !r.Present[i] {
				continue
			}
			if set > 0 {
				b.WriteString(", ")
			}
			set++
			b.WriteString(quoteIdent(c.Target.Name) + " = " + placeholder(c))
		}
		if set == 0 {
			col := quoteIdent(m.Columns[m.Key[0]].Target.Name)
			b.WriteString(col + " = " + col)
		}
		b.WriteString(" WHERE ")
		for i, k := range m.Key {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(quoteIdent(m.Columns[k].Target.Name) + " = " + placeholder(&m.Columns[k]))
		}
	case sqlapply.RunTruncate:
		// TRUNCATE would commit the open transaction.
		b.WriteString("DELETE FROM " + t)
	}
	return b.String()
}
