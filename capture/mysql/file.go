package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/pipeline"
)

// newParser returns a binlog parser set up exactly as the source's syncer.
func newParser(flavor Flavor) *replication.BinlogParser {
	p := replication.NewBinlogParser()
	p.SetFlavor(string(flavor))
	p.SetParseTime(true)
	p.SetUseDecimal(false)
	p.SetRenderJSONAsMySQLText(coltype.RenderJSONAsMySQLText)
	p.SetRowsEventDecodeFunc(deferRowsDecoding)
	return p
}

// ReadFile decodes a binlog file into batches exactly as the source decodes
// the stream from a server, without a server: tables are described by the
// binlog's own row metadata only (the file must have been written with
// binlog_row_metadata=FULL), so schemas carry no column defaults. It exists
// for benchmarks and offline inspection; emit receives every batch.
func ReadFile(ctx context.Context, path string, cfg Config, emit pipeline.EmitFunc) error {
	cfg = New(cfg).cfg
	flavor, err := fileFlavor(path)
	if err != nil {
		return fmt.Errorf("mysql: read %s: %w", path, err)
	}
	info := &serverInfo{Flavor: flavor, GTIDMode: flavor == FlavorMariaDB}
	st := &stream{
		src:     &Source{cfg: cfg, log: cfg.Log},
		info:    info,
		history: &schemaHistory{entries: map[string][]*historyEntry{}},
		out:     pipeline.NewBatcher(emit, cfg.Batch.MaxEvents, cfg.Batch.MaxBytes, cfg.Batch.MaxWait),
		tables:  map[uint64]*tableState{},
		builder: &tableBuilder{info: info, topicPrefix: cfg.TopicPrefix, log: cfg.Log},
		srcInfo: sourceInfo(flavor, cfg.Version, cfg.TopicPrefix),
		file:    filepath.Base(path),
	}
	if st.gtids, err = newGTIDTracker(flavor, ""); err != nil {
		return err
	}
	st.resetTx()

	// As from a server, one goroutine parses and another turns parsed
	// events into pipeline events.
	parser := newParser(flavor)
	events := make(chan *replication.BinlogEvent, 256)
	parsed := make(chan error, 1)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(events)
		parsed <- parser.ParseFile(path, 4, func(ev *replication.BinlogEvent) error {
			select {
			case events <- ev:
				return nil
			case <-pctx.Done():
				return pctx.Err()
			}
		})
	}()
	for ev := range events {
		err := st.handle(ev, ev.Header)
		if err == nil && st.out.Full() {
			err = st.flush(ctx, st.inTx)
		}
		if err != nil {
			cancel()
			for range events {
			}
			return fmt.Errorf("mysql: read %s: %w", path, err)
		}
	}
	if err := <-parsed; err != nil {
		return fmt.Errorf("mysql: read %s: %w", path, err)
	}
	return st.flush(ctx, false)
}

// fileFlavor reads the server version from a binlog file's format
// description event.
func fileFlavor(path string) (Flavor, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(4, io.SeekStart); err != nil {
		return "", err
	}
	flavor := FlavorMySQL
	_, err = replication.NewBinlogParser().ParseSingleEvent(f, func(ev *replication.BinlogEvent) error {
		fde, ok := ev.Event.(*replication.FormatDescriptionEvent)
		if !ok {
			return errors.New("not a binlog file: no format description event")
		}
		if strings.Contains(strings.ToLower(fde.ServerVersion), "mariadb") {
			flavor = FlavorMariaDB
		}
		return nil
	})
	return flavor, err
}
