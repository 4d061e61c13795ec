package mysql

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// Position is where the stream resumes: the first event after a committed
// transaction. Serialised, it is Debezium's MySQL offset map (SPEC §7.2)
// with event and row always zero, since siphon checkpoints only at
// transaction boundaries.
type Position struct {
	File     string `json:"file"`
	Pos      uint32 `json:"pos"`
	GTIDs    string `json:"gtids,omitempty"` // GTID set completed before Pos
	ServerID uint32 `json:"server_id,omitempty"`
	TsSec    int64  `json:"ts_sec,omitempty"`
	// Snapshot is the progress of a snapshot in progress; nil once none is.
	Snapshot *snapshot.State `json:"snapshot,omitempty"`
}

// String is a short human form: file:pos (gtids).
func (p Position) String() string {
	s := p.File + ":" + strconv.FormatUint(uint64(p.Pos), 10)
	if p.GTIDs != "" {
		s += " (gtids " + p.GTIDs + ")"
	}
	return s
}

// Encode serialises the position for the checkpoint store.
func (p Position) Encode() pipeline.Position {
	b, _ := json.Marshal(p)
	return b
}

// DecodePosition reads a stored position.
func DecodePosition(b pipeline.Position) (Position, error) {
	var p Position
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("stored mysql position is not valid: %w", err)
	}
	if p.File == "" || p.Pos < 4 {
		return p, fmt.Errorf("stored mysql position %s is incomplete", p)
	}
	return p, nil
}

// fileSeq is the numeric suffix of a binlog file name (mysql-bin.000042 → 42).
func fileSeq(file string) uint64 {
	i := strings.LastIndexByte(file, '.')
	n, err := strconv.ParseUint(file[i+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// historyKey orders schema history entries by binlog position, then table.
func historyKey(file string, pos uint32, table string) []byte {
	k := make([]byte, 16, 16+len(table))
	binary.BigEndian.PutUint64(k, fileSeq(file))
	binary.BigEndian.PutUint64(k[8:], uint64(pos))
	return append(k, table...)
}

// before reports whether binlog coordinate (f1,p1) precedes (f2,p2).
func before(f1 string, p1 uint32, f2 string, p2 uint32) bool {
	s1, s2 := fileSeq(f1), fileSeq(f2)
	if s1 != s2 {
		return s1 < s2
	}
	return p1 < p2
}

// gtidTracker keeps the GTID set completed so far. MariaDB resumes from the
// last GTID of each replication domain; MySQL from the executed set.
type gtidTracker struct {
	flavor  Flavor
	mysql   *gomysql.MysqlGTIDSet
	mariadb map[uint32]gomysql.MariadbGTID
}

func newGTIDTracker(flavor Flavor, set string) (*gtidTracker, error) {
	t := &gtidTracker{flavor: flavor}
	if flavor == FlavorMariaDB {
		t.mariadb = map[uint32]gomysql.MariadbGTID{}
		for _, s := range strings.Split(set, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			g, err := gomysql.ParseMariadbGTID(s)
			if err != nil {
				return nil, fmt.Errorf("gtid %q: %w", s, err)
			}
			t.mariadb[g.DomainID] = *g
		}
		return t, nil
	}
	gs, err := gomysql.ParseMysqlGTIDSet(set)
	if err != nil {
		return nil, fmt.Errorf("gtid set %q: %w", set, err)
	}
	t.mysql = gs.(*gomysql.MysqlGTIDSet)
	return t, nil
}

func (t *gtidTracker) addMariaDB(g gomysql.MariadbGTID) { t.mariadb[g.DomainID] = g }

func (t *gtidTracker) String() string {
	if t.flavor != FlavorMariaDB {
		return t.mysql.String()
	}
	domains := make([]uint32, 0, len(t.mariadb))
	for d := range t.mariadb {
		domains = append(domains, d)
	}
	sort.Slice(domains, func(i, j int) bool { return domains[i] < domains[j] })
	parts := make([]string, len(domains))
	for i, d := range domains {
		g := t.mariadb[d]
		parts[i] = g.String()
	}
	return strings.Join(parts, ",")
}

func (t *gtidTracker) set() (gomysql.GTIDSet, error) {
	if t.flavor == FlavorMariaDB {
		return gomysql.ParseMariadbGTIDSet(t.String())
	}
	return t.mysql.Clone(), nil
}

// currentPosition reads the server's binlog end as a consistent
// (file, pos, gtids) triple: MariaDB reports the GTID position apart from
// SHOW MASTER STATUS, so the coordinates are read before and after it and
// the read is repeated until no write slipped in between.
func currentPosition(c *client.Conn, info *serverInfo) (Position, error) {
	for attempt := 0; attempt < 50; attempt++ {
		p1, gtids, err := masterStatus(c)
		if err != nil {
			return Position{}, err
		}
		if info.Flavor == FlavorMariaDB {
			r, err := c.Execute("SELECT @@gtid_binlog_pos")
			if err != nil {
				return Position{}, fmt.Errorf("read gtid_binlog_pos: %w", err)
			}
			gtids, _ = r.GetString(0, 0)
			p2, _, err := masterStatus(c)
			if err != nil {
				return Position{}, err
			}
			if p1 != p2 {
				continue
			}
		} else if !info.GTIDMode {
			gtids = ""
		}
		p1.GTIDs = gtids
		p1.ServerID = info.ServerID
		return p1, nil
	}
	return Position{}, fmt.Errorf("could not read a stable binlog position: the server is writing too fast")
}

func masterStatus(c *client.Conn) (Position, string, error) {
	r, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		return Position{}, "", fmt.Errorf("SHOW MASTER STATUS: %w", err)
	}
	if r.RowNumber() == 0 {
		return Position{}, "", fmt.Errorf("SHOW MASTER STATUS returned nothing: binary logging (log_bin) is off")
	}
	file, _ := r.GetString(0, 0)
	pos, _ := r.GetUint(0, 1)
	var gtids string
	if r.ColumnNumber() >= 5 {
		gtids, _ = r.GetString(0, 4)
		gtids = strings.ReplaceAll(gtids, "\n", "")
	}
	return Position{File: file, Pos: uint32(pos)}, gtids, nil
}

// binaryLogs lists the binlog files the server still has, oldest first.
func binaryLogs(c *client.Conn) ([]string, error) {
	r, err := c.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	files := make([]string, r.RowNumber())
	for i := range files {
		files[i], _ = r.GetString(i, 0)
	}
	return files, nil
}

// checkAvailable fails when the server no longer has the binlog file the
// position lives in: the events after it are gone, and resuming would skip
// them silently.
func checkAvailable(c *client.Conn, p Position) error {
	files, err := binaryLogs(c)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f == p.File {
			return nil
		}
	}
	oldest := "none"
	if len(files) > 0 {
		oldest = files[0]
	}
	return &PurgedError{Position: p, Oldest: oldest}
}

// PurgedError says the stored position is gone from the server.
type PurgedError struct {
	Position Position
	Oldest   string
}

func (e *PurgedError) Error() string {
	return fmt.Sprintf("stored position %s is no longer on the server (its binlog file was purged; the oldest binlog is %s): "+
		"the changes after it cannot be read. Fix: keep binlogs longer (binlog_expire_logs_seconds / expire_logs_days) and "+
		"start this pipeline afresh by removing its state (siphon offsets reset), accepting the gap, or re-copy the tables with a snapshot",
		e.Position, e.Oldest)
}

func parseMariaGTID(s string) (gomysql.MariadbGTID, error) {
	g, err := gomysql.ParseMariadbGTID(s)
	if err != nil {
		return gomysql.MariadbGTID{}, err
	}
	return *g, nil
}
