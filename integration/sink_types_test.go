package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// compareColumn reads one all_types column on each side in a comparable
// text, and says how to compare it.
type compareColumn struct {
	name     string
	mariadb  string // expression on a MariaDB table (source, and a MariaDB target)
	postgres string // expression on the PostgreSQL target
	float    float64
	bits     bool
}

var allTypesCompare = []compareColumn{
	{name: "id"}, {name: "c_bool"}, {name: "c_tinyint"}, {name: "c_tinyint_u"}, {name: "c_smallint"}, {name: "c_smallint_u"},
	{name: "c_mediumint"}, {name: "c_mediumint_u"}, {name: "c_int"}, {name: "c_int_u"}, {name: "c_bigint"}, {name: "c_bigint_u"},
	{name: "c_decimal"}, {name: "c_decimal_wide"}, {name: "c_numeric"},
	{name: "c_float", float: 1e-5}, {name: "c_double", float: 1e-15}, {name: "c_real", float: 1e-15},
	{name: "c_bit1", mariadb: "c_bit1+0", postgres: "c_bit1::int"},
	{name: "c_bit10", mariadb: "BIN(c_bit10)", postgres: "c_bit10::text", bits: true},
	{name: "c_bit64", mariadb: "BIN(c_bit64)", postgres: "c_bit64::text", bits: true},
	{name: "c_year", mariadb: "c_year+0"}, {name: "c_date"}, {name: "c_time"}, {name: "c_time6"},
	{name: "c_datetime"}, {name: "c_datetime3"}, {name: "c_datetime6"},
	{name: "c_timestamp"}, {name: "c_timestamp3"}, {name: "c_timestamp6"},
	{name: "c_char"}, {name: "c_varchar"}, {name: "c_tinytext"}, {name: "c_text"}, {name: "c_mediumtext"}, {name: "c_longtext"}, {name: "c_latin1"},
	{name: "c_binary", mariadb: "HEX(c_binary)", postgres: "encode(c_binary, 'hex')"},
	{name: "c_varbinary", mariadb: "HEX(c_varbinary)", postgres: "encode(c_varbinary, 'hex')"},
	{name: "c_tinyblob", mariadb: "HEX(c_tinyblob)", postgres: "encode(c_tinyblob, 'hex')"},
	{name: "c_blob", mariadb: "HEX(c_blob)", postgres: "encode(c_blob, 'hex')"},
	{name: "c_mediumblob", mariadb: "HEX(c_mediumblob)", postgres: "encode(c_mediumblob, 'hex')"},
	{name: "c_longblob", mariadb: "HEX(c_longblob)", postgres: "encode(c_longblob, 'hex')"},
	{name: "c_json", postgres: "c_json::text"}, {name: "c_enum"}, {name: "c_set"},
	{name: "c_geometry", mariadb: "HEX(ST_AsWKB(c_geometry))", postgres: "encode(c_geometry, 'hex')"},
	{name: "c_point", mariadb: "HEX(ST_AsWKB(c_point))", postgres: "encode(c_point, 'hex')"},
	{name: "c_linestring", mariadb: "HEX(ST_AsWKB(c_linestring))", postgres: "encode(c_linestring, 'hex')"},
	{name: "c_polygon", mariadb: "HEX(ST_AsWKB(c_polygon))", postgres: "encode(c_polygon, 'hex')"},
	{name: "c_virtual"}, {name: "c_stored"}, {name: "c_default_str"}, {name: "c_default_int"}, {name: "c_default_ts"},
}

func compareSelect(table string, postgres bool) string {
	exprs := make([]string, len(allTypesCompare))
	for i, c := range allTypesCompare {
		e := c.name
		if postgres && c.postgres != "" {
			e = c.postgres
		} else if !postgres && c.mariadb != "" {
			e = c.mariadb
		}
		exprs[i] = e
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + table
}

// compareAllTypes reads all_types on both sides and describes how they
// differ after the documented mapping ("" when they agree).
func compareAllTypes(src [][]string, dst [][]string) string {
	names := make([]string, len(allTypesCompare))
	for i, c := range allTypesCompare {
		names[i] = c.name
	}
	norm := func(col int, cell string) string {
		c := allTypesCompare[col]
		switch {
		case cell == "NULL":
			return cell
		case c.bits:
			return trimLeadingZeros(cell)
		}
		return lowerHex(normalizeCell(cell))
	}
	eq := func(col int, a, b string) bool {
		if tol := allTypesCompare[col].float; tol > 0 {
			return floatsEqual(a, b, tol)
		}
		return false
	}
	return diffRows(names, src, dst, norm, eq)
}

// allTypesRow is a row of generated values for id n, in allTypesColumns order.
func allTypesRow(n int) string {
	neg := 1
	if n%2 == 1 {
		neg = -1
	}
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n*37)
	ts := time.Unix(1_000_000_000+int64(n)*86_413, int64(n%1000)*1_000_000+int64(n%997)).UTC()
	hours := n % 838
	if n%3 == 0 {
		hours = -hours
	}
	bytes := fmt.Sprintf("%02x%02x%02x", n%256, (n*7)%256, (n*13)%256)
	enum := []string{"small", "medium", "large"}[n%3]
	set := []string{"", "a", "b", "a,c", "a,b,c"}[n%5]
	v := []string{
		fmt.Sprint(n), fmt.Sprint(n % 2), fmt.Sprint(n%256 - 128), fmt.Sprint(n % 256), fmt.Sprint(n*7%65536 - 32768), fmt.Sprint(n * 13 % 65536),
		fmt.Sprint(n*1009%16777216 - 8388608), fmt.Sprint(n * 1013 % 16777216), fmt.Sprint(n*1000003 - 500000000), fmt.Sprint(4294967295 - n),
		fmt.Sprint(neg * n * 1000000007), fmt.Sprintf("%d", uint64(18446744073709551615)-uint64(n)),
		fmt.Sprintf("%d.%04d", neg*(n%100000), n%10000), fmt.Sprintf("%d.%030d", neg*n*1234567, n), fmt.Sprint(n % 99999),
		fmt.Sprintf("%g", float64(n)*1.25), fmt.Sprintf("%.17g", float64(n)/3), fmt.Sprintf("%.17g", float64(n)*1e10+0.5),
		fmt.Sprint(n % 2), fmt.Sprint(n % 1024), fmt.Sprint(uint64(n) * 0x9E3779B97F4A7C15),
		fmt.Sprint(1901 + n%255), "'" + day.Format("2006-01-02") + "'",
		fmt.Sprintf("'%d:%02d:%02d'", hours, n%60, (n*7)%60), fmt.Sprintf("'%02d:%02d:%02d.%06d'", n%24, n%60, (n*11)%60, n*7919%1000000),
		"'" + day.Format("2006-01-02 15:04:05") + "'", "'" + ts.Format("2006-01-02 15:04:05.000") + "'", "'" + ts.Format("2006-01-02 15:04:05.000000") + "'",
		"'" + ts.Format("2006-01-02 15:04:05") + "'", "'" + ts.Format("2006-01-02 15:04:05.000") + "'", "'" + ts.Format("2006-01-02 15:04:05.000000") + "'",
		fmt.Sprintf("'c%d'", n), fmt.Sprintf("'ünï %d 🎉 \"q\" \\\\ x'", n), fmt.Sprintf("'tiny %d'", n), fmt.Sprintf("'text\\n%d\\t<&>'", n),
		fmt.Sprintf("REPEAT('m%d', 40)", n%10), fmt.Sprintf("'long %d'", n), fmt.Sprintf("'café %d'", n),
		"x'" + bytes + "00'", "x'" + bytes + "'", "x''", "x'" + strings.Repeat(bytes, 3) + "'", "x'00" + bytes + "'", "x'" + bytes + "ff'",
		fmt.Sprintf(`'{"n": %d, "s": "v%d", "a": [1, 2.5, null], "o": {"t": true}}'`, n, n), "'" + enum + "'", "'" + set + "'",
		fmt.Sprintf("ST_GeomFromText('POINT(%d %d)', 4326)", n, -n), fmt.Sprintf("ST_GeomFromText('POINT(%d.5 -%d.25)')", n, n),
		fmt.Sprintf("ST_GeomFromText('LINESTRING(0 0, %d 1, 2 %d)')", n, n), "ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))')",
		"'" + ts.Format("2006-01-02 15:04:05") + "'",
	}
	return "(" + strings.Join(v, ", ") + ")"
}

func insertAllTypes(ids ...int) string {
	rows := make([]string, len(ids))
	for i, id := range ids {
		rows[i] = allTypesRow(id)
	}
	return "INSERT INTO all_types (" + allTypesColumns + ") VALUES " + strings.Join(rows, ", ")
}

// extremeRows are the hand-picked values of the golden test, and a row of NULLs.
var extremeRows = []string{
	`INSERT INTO all_types (` + allTypesColumns + `) VALUES (1, TRUE, -128, 255, -32768, 65535, -8388608, 16777215, -1073741824, 4294967295,
	  -9223372036854775808, 18446744073709551615, 123456.7890, -12345678901234567890.123456789012345678901234567890, 99999,
	  1.5, 3.141592653589793, 1e20, b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111110',
	  2024, '2024-02-29', '-838:59:59', '12:34:56.789012', '2018-06-20 06:37:03', '1969-12-31 23:59:59.123', '2038-01-19 03:14:07.999999',
	  '2023-01-11 00:34:10', '2023-01-11 00:34:10.010', '2023-01-11 00:34:10.123000',
	  'abc', 'héllo wörld 🎉', 'tiny', 'text with "quotes" and \\backslash and <html>&', REPEAT('m', 300), 'long', 'café',
	  x'01020304', x'00ff', x'', x'DEADBEEF', x'CAFE', x'00',
	  '{"b": [1, 2.5, "x"], "a": {"nested": true, "n": null}}',
	  'medium', 'a,c',
	  ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(3.5 -4.25)'), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
	  ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))'), '2020-01-01 00:00:00')`,
	`INSERT INTO all_types (id, c_default_ts) VALUES (2, '2020-01-01 00:00:00')`,
}

// allTypesWriter changes all_types while a test runs: updates, deletes
// and inserts, in small transactions.
func allTypesWriter(ctx context.Context, m *harness.MariaDB, db string, next *int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for ctx.Err() == nil {
		id := 100 + rng.IntN(*next-100)
		var stmts []string
		switch rng.IntN(4) {
		case 0:
			stmts = []string{fmt.Sprintf("DELETE FROM all_types WHERE id = %d", id)}
		case 1:
			*next++
			stmts = []string{insertAllTypes(*next)}
		default:
			stmts = []string{
				fmt.Sprintf("UPDATE all_types SET c_varchar = 'w%d', c_int = c_int + 1, c_json = '[%d]', c_decimal = c_decimal + 1 WHERE id = %d", rng.IntN(1000), id, id),
				fmt.Sprintf("UPDATE all_types SET c_text = NULL, c_bit10 = b'1', c_time6 = '23:59:59.999999' WHERE id = %d", 100+rng.IntN(*next-100)),
			}
		}
		all := append([]string{"USE " + db, "SET time_zone = '+00:00'", "BEGIN"}, stmts...)
		if err := m.Exec(ctx, append(all, "COMMIT")...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// TestSinkAllTypes copies a table of every MariaDB type to PostgreSQL and
// to MariaDB: a snapshot while the table is written to, then the stream;
// each time both sides are read row by row and compared after the
// documented type mapping.
func TestSinkAllTypes(t *testing.T) {
	targets := []struct {
		name  string
		setup func(t *testing.T) (sink string, read func() [][]string)
	}{
		{"postgres", func(t *testing.T) (string, func() [][]string) {
			pg, db := targetPostgres(t)
			return pgSinkYAML(pg, db, ""), func() [][]string {
				return pgMustQuery(t, pg, db, compareSelect("public.all_types", true))
			}
		}},
		{"mariadb", func(t *testing.T) (string, func() [][]string) {
			db := newDatabase(t, shared)
			return mysqlSinkYAML(shared, db, ""), func() [][]string {
				rows, err := shared.Query(testContext(t, time.Minute), compareSelect(db+".all_types", false))
				if err != nil && strings.Contains(err.Error(), "doesn't exist") {
					return nil
				}
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
		}},
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			ids := make([]int, 0, 400)
			for id := 100; id < 500; id++ {
				ids = append(ids, id)
			}
			mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", allTypesDDL, extremeRows[0], extremeRows[1], insertAllTypes(ids...))
			sink, read := target.setup(t)
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, snapshot: "initial", sink: sink,
				pipeline: "    batch:\n      max_events: 1000\n"})
			replaceInConfig(t, e, "      snapshot: initial\n", "      snapshot: initial\n      snapshot_chunk_rows: 300\n")
			readSource := func() [][]string {
				rows, err := shared.Query(testContext(t, time.Minute), compareSelect(src+".all_types", false))
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
			p := e.start()

			// Writes while the snapshot runs.
			ctx, cancel := context.WithCancel(context.Background())
			next := 499
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() { werr = allTypesWriter(ctx, shared, src, &next, 7) })
			waitLog(t, p, "snapshot", time.Minute)
			time.Sleep(2 * time.Second) // let writes overlap the snapshot
			cancel()
			wg.Wait()
			if werr != nil {
				t.Fatalf("writer: %v", werr)
			}
			same := func() (bool, string) {
				d := compareAllTypes(readSource(), read())
				return d == "", d
			}
			eventually(t, p, 30*time.Second, "the target to match after the snapshot", same)

			// Then the stream alone, after a restart, with the extreme
			// values changing and a large insert (a run written by COPY on
			// PostgreSQL: no key of it exists yet).
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			big := make([]int, 300)
			for i := range big {
				big[i] = next + 1 + i // past the writer's rows (c_virtual overflows past id 1570)
			}
			mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", insertAllTypes(big...))
			p = e.start()
			mustExec(t, shared, "USE "+src, "SET time_zone = '+00:00'", "SET sql_mode = ''",
				"UPDATE all_types SET c_time = '838:59:59', c_bigint = 9223372036854775807, c_decimal_wide = 99999999999999999999999999999999999.999999999999999999999999999999 WHERE id = 1",
				"UPDATE all_types SET c_varchar = '', c_blob = x'', c_json = '{}', c_set = '' WHERE id = 2",
				"DELETE FROM all_types WHERE id = 101",
				"BEGIN", insertAllTypes(9001, 9002), "UPDATE all_types SET id = 9003 WHERE id = 9002", "COMMIT")
			eventually(t, p, time.Minute, "the target to match after streaming", same)
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			if rows := readSource(); len(rows) < 300 {
				t.Fatalf("only %d source rows: the comparison covered too little", len(rows))
			}
		})
	}
}
