package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	// FileName is the state file inside the state dir.
	FileName = "siphon.db"
	// PIDFileName holds the pid of the process that has the state file open
	// for writing.
	PIDFileName = "siphon.pid"

	// Layout is the on-disk layout this build reads and writes.
	Layout = 1

	defaultLockTimeout = 100 * time.Millisecond
)

var (
	bucketMeta          = []byte("meta")
	bucketPipelines     = []byte("pipelines")
	bucketOffset        = []byte("offset")
	bucketSchemaHistory = []byte("schema_history")
	bucketState         = []byte("state")

	keyLayout    = []byte("layout")
	keyPosition  = []byte("position")
	keySeq       = []byte("seq")
	keyUpdatedAt = []byte("updated_at")
)

var (
	// ErrLocked means another process holds the state file.
	ErrLocked = errors.New("state dir is in use by another siphon")
	// ErrNoState means a read-only Open found no state file.
	ErrNoState = errors.New("no siphon state")
	// ErrHistoryOrder means AppendHistory got a key that is not after the
	// last stored key.
	ErrHistoryOrder = errors.New("schema history key is not after the last key")
)

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock; default 100ms.
	LockTimeout time.Duration
	// ReadOnly opens with a shared lock, never writes and never creates the
	// state dir or file (for `siphon offsets show`).
	ReadOnly bool
}

// Store is an open state file. It is safe for concurrent use.
type Store struct {
	dir      string
	path     string
	db       *bbolt.DB
	readOnly bool
	now      func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Open opens (read-write: creating when missing) <stateDir>/siphon.db.
func Open(stateDir string, o Options) (*Store, error) {
	if stateDir == "" {
		return nil, errors.New("checkpoint: empty state dir")
	}
	timeout := o.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	path := filepath.Join(stateDir, FileName)

	if o.ReadOnly {
		info, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) || (err == nil && info.Size() == 0) {
			return nil, fmt.Errorf("checkpoint: state dir %s: %w (%s not found)", stateDir, ErrNoState, FileName)
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint: state dir %s: %w", stateDir, err)
		}
	} else if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: create state dir: %w", err)
	}

	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:        timeout,
		ReadOnly:       o.ReadOnly,
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &lockedError{dir: stateDir, pid: readPIDFile(stateDir)}
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: open %s: %w", path, err)
	}

	s := &Store{dir: stateDir, path: path, db: db, readOnly: o.ReadOnly, now: time.Now}
	if err := s.checkLayout(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if !o.ReadOnly {
		if err := writePIDFile(stateDir); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// lockedError reads like advice to the operator and still matches ErrLocked.
type lockedError struct {
	dir string
	pid int // 0 when unknown
}

func (e *lockedError) Error() string {
	holder := ""
	if e.pid > 0 {
		holder = fmt.Sprintf(" (pid %d)", e.pid)
	}
	return fmt.Sprintf("state dir %s is in use by another siphon%s; stop it first or use another state_dir", e.dir, holder)
}

func (e *lockedError) Unwrap() error { return ErrLocked }

// checkLayout refuses files from a newer siphon and stamps fresh files.
func (s *Store) checkLayout() error {
	var fresh bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		fresh, err = s.readLayout(tx)
		return err
	})
	if err != nil || !fresh || s.readOnly {
		return err
	}
	// We hold the exclusive lock, so nobody stamped the file meanwhile.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(keyLayout, []byte(strconv.Itoa(Layout)))
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %s: write layout: %w", s.path, err)
	}
	return nil
}

// readLayout reports whether the file is fresh (no buckets at all) and
// fails when its layout is not one this build reads.
func (s *Store) readLayout(tx *bbolt.Tx) (fresh bool, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if k, _ := tx.Cursor().First(); k != nil {
			return false, fmt.Errorf("checkpoint: %s is not a siphon state file (bucket %q but no %q bucket)", s.path, k, bucketMeta)
		}
		return true, nil
	}
	raw := meta.Get(keyLayout)
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 1 {
		return false, fmt.Errorf("checkpoint: %s: unreadable layout %q in bucket %q", s.path, raw, bucketMeta)
	}
	if n > Layout {
		return false, fmt.Errorf("checkpoint: %s was written by a newer siphon (layout %d, this build reads %d); upgrade siphon or use another state_dir", s.path, n, Layout)
	}
	if n < Layout {
		return false, fmt.Errorf("checkpoint: %s has layout %d, which this build (layout %d) cannot read", s.path, n, Layout)
	}
	return false, nil
}

// Close releases the file. The pid file goes first, while the lock is still
// ours, so it never deletes the pid file of a process that opened after us.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var pidErr error
		if !s.readOnly {
			pidErr = os.Remove(filepath.Join(s.dir, PIDFileName))
			if errors.Is(pidErr, os.ErrNotExist) {
				pidErr = nil
			}
			if pidErr != nil {
				pidErr = fmt.Errorf("checkpoint: remove pid file: %w", pidErr)
			}
		}
		dbErr := s.db.Close()
		if dbErr != nil {
			dbErr = fmt.Errorf("checkpoint: close %s: %w", s.path, dbErr)
		}
		s.closeErr = errors.Join(pidErr, dbErr)
	})
	return s.closeErr
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// Pipelines lists the pipelines that have state, sorted.
func (s *Store) Pipelines() ([]string, error) {
	var names []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		pipelines := tx.Bucket(bucketPipelines)
		if pipelines == nil {
			return nil
		}
		return pipelines.ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list pipelines: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Pipeline returns a handle on one pipeline's state. It touches nothing:
// the pipeline's buckets appear with its first write.
func (s *Store) Pipeline(name string) *PipelineState {
	return &PipelineState{store: s, name: name}
}

func writePIDFile(dir string) error {
	tmp := filepath.Join(dir, PIDFileName+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("checkpoint: write pid file: %w", err)
	}
	// Rename so a process reading it never sees half a number.
	if err := os.Rename(tmp, filepath.Join(dir, PIDFileName)); err != nil {
		return fmt.Errorf("checkpoint: write pid file: %w", err)
	}
	return nil
}

// readPIDFile returns the pid recorded in dir, or 0 when there is none.
func readPIDFile(dir string) int {
	raw, err := os.ReadFile(filepath.Join(dir, PIDFileName))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
