package mysql

import (
	"bytes"
	"testing"
)

func TestPositionRoundTrip(t *testing.T) {
	p := Position{File: "mariadb-bin.000012", Pos: 4711, GTIDs: "0-1-55", ServerID: 1, TsSec: 1700000000}
	got, err := DecodePosition(p.Encode())
	if err != nil || got != p {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, p)
	}
	if want := `{"file":"mariadb-bin.000012","pos":4711,"gtids":"0-1-55","server_id":1,"ts_sec":1700000000}`; string(p.Encode()) != want {
		t.Fatalf("encoded %s, want %s", p.Encode(), want)
	}
	for _, bad := range []string{`{}`, `{"file":"x","pos":0}`, `not json`} {
		if _, err := DecodePosition([]byte(bad)); err == nil {
			t.Errorf("DecodePosition(%s) accepted", bad)
		}
	}
}

func TestHistoryKeyOrder(t *testing.T) {
	keys := [][]byte{
		historyKey("bin.000009", 999999, "a"),
		historyKey("bin.000010", 4, "a"),
		historyKey("bin.000010", 120, "a"),
		historyKey("bin.000010", 120, "b"),
		historyKey("bin.1000000", 4, "a"), // the suffix grows past six digits
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Fatalf("key %d does not sort after key %d", i, i-1)
		}
	}
}

func TestGTIDTrackerMariaDBKeepsLastPerDomain(t *testing.T) {
	tr, err := newGTIDTracker(FlavorMariaDB, "0-1-10,1-2-5")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := parseMariaGTID("0-3-11")
	tr.addMariaDB(g)
	if got := tr.String(); got != "0-3-11,1-2-5" {
		t.Fatalf("String() = %q", got)
	}
}

func TestParseURL(t *testing.T) {
	ep, err := ParseURL("mysql://repl:s3cr%40t@db.example:3307?tls=skip-verify")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Host != "db.example" || ep.Port != 3307 || ep.User != "repl" || ep.Password != "s3cr@t" || ep.TLS == nil {
		t.Fatalf("ParseURL = %+v", ep)
	}
	for _, bad := range []string{"postgres://u:p@h", "mysql://:p@h", "mysql://u:p@:3306", "mysql://u:p@h:99999", "mysql://u:hunter2@h?tls=maybe"} {
		_, err := ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
			continue
		}
		if bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}
