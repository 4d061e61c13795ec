package mysql

import (
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"strconv"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/pipeline"
)

// errNotRaw says a rows event cannot be decoded by decodeRowsRaw although
// go-mysql can decode it: the caller decodes it with re.DecodeData(pos,
// data) instead.
var errNotRaw = errors.New("rows event not decodable raw")

// decodeRowsRaw decodes the row images of a ROWS event whose header go-mysql
// decoded (re.DecodeHeader(data) returned pos), mirroring go-mysql's
// RowsEvent.DecodeData/decodeImage: a null bitmap per image, ColumnBitmap1
// for the first image of a row and ColumnBitmap2 for the second (the after
// image of an UPDATE v1/v2), columns absent from the bitmap (partial
// images) reported like go-mysql's SkippedColumns.
//
// Rows come in image order (for updates: before, after, before, after, …),
// each a slice of len(decs) with NULL and absent columns as pipeline.Null,
// all cut from one allocation. skipped is nil when every image has every
// column, else it has one entry per image listing the absent columns.
// Values may alias data.
//
// MariaDB's *_ROWS_COMPRESSED_EVENT_V1 events are decompressed first, as
// go-mysql does. A PARTIAL_UPDATE_ROWS_EVENT (MySQL with
// binlog_row_value_options=PARTIAL_JSON) is decoded when the table has no
// JSON column, which any table with raw decoders satisfies; otherwise, and
// when this go-mysql version hides whether the event is compressed, the
// error wraps errNotRaw.
func decodeRowsRaw(re *replication.RowsEvent, data []byte, pos int, decs []coltype.RawDecodeFunc) (rows []pipeline.Row, skipped [][]int, err error) {
	tm := re.Table
	if tm == nil {
		return nil, nil, fmt.Errorf("mysql: rows event for table id %d without its table map", re.TableID)
	}
	where := "mysql: rows event for " + string(tm.Schema) + "." + string(tm.Table)
	ncols := int(re.ColumnCount)
	if ncols != len(decs) || ncols > len(tm.ColumnType) || ncols > len(tm.ColumnMeta) {
		return nil, nil, fmt.Errorf("%s: %d columns, table map %d, %d decoders", where, ncols, len(tm.ColumnType), len(decs))
	}
	if pos < 0 || pos > len(data) {
		return nil, nil, fmt.Errorf("%s: rows at offset %d of a %d-byte event", where, pos, len(data))
	}
	body := data[pos:]
	compressed, known := rowsEventCompressed(re)
	if !known {
		return nil, nil, fmt.Errorf("%s: cannot tell whether the event is compressed: %w", where, errNotRaw)
	}
	if compressed {
		if body, err = decompressRows(body); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
	}

	r := imageReader{body: body, ncols: ncols, decs: decs, bitmaps: [2][]byte{re.ColumnBitmap1}, perRow: 1}
	if re.ColumnBitmap2 != nil {
		r.bitmaps[1], r.perRow = re.ColumnBitmap2, 2
	}
	for i, bm := range r.bitmaps[:r.perRow] {
		if len(bm) < (ncols+7)/8 {
			return nil, nil, fmt.Errorf("%s: column bitmap of %d bytes for %d columns", where, len(bm), ncols)
		}
		r.present[i] = presentColumns(bm, ncols)
	}
	// Type() knows every rows event but the PARTIAL_UPDATE_ROWS_EVENT.
	if re.Type() == replication.EnumRowsEventTypeUnknown {
		if r.perRow != 2 {
			return nil, nil, fmt.Errorf("%s: a rows event of unknown type", where)
		}
		if tm.JsonColumnCount() > 0 {
			return nil, nil, fmt.Errorf("%s: a partial update of a table with JSON columns: %w", where, errNotRaw)
		}
		r.valueOptions = true
	}
	// Kept apart from r, whose contents the decoders may retain, so that
	// it stays on the stack.
	var stack [64]coltype.RawLayout
	layouts := stack[:0]
	if ncols > len(stack) {
		layouts = make([]coltype.RawLayout, 0, ncols)
	}
	for i := range ncols {
		l, err := coltype.BinlogLayout(tm.ColumnType[i], tm.ColumnMeta[i])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: column %d: %w", where, i+1, err)
		}
		layouts = append(layouts, l)
	}

	// Walk the images once to size the rows exactly, then decode them.
	images := 0
	for p := 0; p < len(body); {
		start := p
		for which := range r.perRow {
			if p, err = r.measure(p, which, layouts); err != nil {
				return nil, nil, fmt.Errorf("%s: row image %d: %w", where, images, err)
			}
			images++
		}
		if p == start {
			// go-mysql would loop forever here.
			return nil, nil, fmt.Errorf("%s: a row image of no bytes", where)
		}
	}
	slab := make([]pipeline.Value, images*ncols)
	rows = make([]pipeline.Row, images)
	p := 0
	for i := range rows {
		row := pipeline.Row(slab[i*ncols : (i+1)*ncols : (i+1)*ncols])
		var skips []int
		if p, err = r.decode(p, i%r.perRow, row, &skips); err != nil {
			return nil, nil, fmt.Errorf("%s: row image %d: %w", where, i, err)
		}
		if skips != nil {
			if skipped == nil {
				skipped = make([][]int, images)
			}
			skipped[i] = skips
		}
		rows[i] = row
	}
	if p != len(body) {
		return nil, nil, fmt.Errorf("%s: decoded %d of %d bytes of row images", where, p, len(body))
	}
	return rows, skipped, nil
}

type imageReader struct {
	body    []byte
	ncols   int
	decs    []coltype.RawDecodeFunc
	bitmaps [2][]byte // columns present in the first and the second image of a row
	present [2]int    // how many
	perRow  int       // images per row: 2 for updates
	// valueOptions: after images start with binlog_row_value_options
	// (PARTIAL_UPDATE_ROWS_EVENT).
	valueOptions bool
}

// start reads the header of the image starting at body[p:], the which-th
// of its row: its null bitmap, and where its values begin.
func (r *imageReader) start(p, which int) (nulls []byte, values int, err error) {
	body := r.body
	if r.valueOptions && which == 1 {
		// binlog_row_value_options; with PARTIAL_JSON set, a bitmap of a
		// bit per JSON column follows, empty for a table without any.
		_, n, ok := lengthEncodedInt(body[p:])
		if !ok {
			return nil, 0, errors.New("truncated binlog_row_value_options")
		}
		p += n
	}
	nullBytes := (r.present[which] + 7) / 8
	if len(body)-p < nullBytes {
		return nil, 0, errors.New("truncated null bitmap")
	}
	return body[p : p+nullBytes], p + nullBytes, nil
}

// measure returns where the image starting at body[p:] ends.
func (r *imageReader) measure(p, which int, layouts []coltype.RawLayout) (int, error) {
	nulls, p, err := r.start(p, which)
	if err != nil {
		return 0, err
	}
	bitmap, full := r.bitmaps[which], r.present[which] == r.ncols
	ni := 0
	for i := range r.ncols {
		if !full && bitmap[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		isNull := nulls[ni>>3]&(1<<(ni&7)) != 0
		ni++
		if isNull {
			continue
		}
		n, ok := layouts[i].Size(r.body[p:])
		if !ok {
			return 0, errors.New("column " + strconv.Itoa(i+1) + ": truncated value")
		}
		p += n
	}
	return p, nil
}

// decode decodes the image starting at body[p:] into row, appends the
// columns it lacks to *skips and returns where it ends.
func (r *imageReader) decode(p, which int, row pipeline.Row, skips *[]int) (int, error) {
	nulls, p, err := r.start(p, which)
	if err != nil {
		return 0, err
	}
	bitmap, full := r.bitmaps[which], r.present[which] == r.ncols
	ni := 0
	for i := range r.ncols {
		if !full && bitmap[i>>3]&(1<<(i&7)) == 0 {
			*skips = append(*skips, i)
			continue
		}
		isNull := nulls[ni>>3]&(1<<(ni&7)) != 0
		ni++
		if isNull {
			continue
		}
		v, n, err := r.decs[i](r.body[p:])
		if err != nil {
			return 0, err
		}
		row[i] = v
		p += n
	}
	return p, nil
}

func presentColumns(bitmap []byte, ncols int) int {
	n := 0
	for i := 0; i < ncols/8; i++ {
		n += bits.OnesCount8(bitmap[i])
	}
	if rest := ncols % 8; rest > 0 {
		n += bits.OnesCount8(bitmap[ncols/8] & (1<<rest - 1))
	}
	return n
}

// lengthEncodedInt reads a MySQL length-encoded integer, bounds-checked.
func lengthEncodedInt(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 0xfc:
		n = 3
	case 0xfd:
		n = 4
	case 0xfe:
		n = 9
	default:
		return uint64(b[0]), 1, true
	}
	if len(b) < n {
		return 0, 0, false
	}
	for i := n - 1; i >= 1; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, n, true
}

// rowsEventCompressedField is the index of RowsEvent's unexported
// compressed flag (set for MariaDB's *_ROWS_COMPRESSED_EVENT_V1), or -1
// when this go-mysql version has none: go-mysql exports no other way to
// tell, and the decode function it calls does not see the event type.
var rowsEventCompressedField = func() int {
	f, ok := reflect.TypeFor[replication.RowsEvent]().FieldByName("compressed")
	if !ok || len(f.Index) != 1 || f.Type.Kind() != reflect.Bool {
		return -1
	}
	return f.Index[0]
}()

func rowsEventCompressed(re *replication.RowsEvent) (compressed, known bool) {
	if rowsEventCompressedField < 0 {
		return false, false
	}
	return reflect.ValueOf(re).Elem().Field(rowsEventCompressedField).Bool(), true
}

// maxRowsData bounds the size a compressed rows event may claim
// (MariaDB's max_allowed_packet cannot exceed 1 GiB).
const maxRowsData = 1 << 30

// decompressRows undoes MariaDB's binlog compression of row data: a header
// byte whose low 3 bits give the width of the big-endian uncompressed
// length that follows, then zlib data.
func decompressRows(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("compressed rows without a header")
	}
	lenBytes := int(b[0] & 0x07)
	if lenBytes < 1 || lenBytes > 4 || len(b) < 1+lenBytes {
		return nil, fmt.Errorf("compressed rows with a %d-byte length", lenBytes)
	}
	if size := gomysql.BFixedLengthInt(b[1 : 1+lenBytes]); size > maxRowsData {
		return nil, fmt.Errorf("compressed rows claiming %d bytes", size)
	}
	out, err := gomysql.DecompressMariadbData(b)
	if err != nil {
		return nil, fmt.Errorf("decompress rows: %w", err)
	}
	return out, nil
}
