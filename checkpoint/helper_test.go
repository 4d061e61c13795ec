package checkpoint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// helperEnv makes the test binary act as a helper process instead of running
// tests; its value picks the role and helperDirEnv names the state dir.
const (
	helperEnv    = "SIPHON_CHECKPOINT_HELPER"
	helperDirEnv = "SIPHON_CHECKPOINT_HELPER_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "hold":
		os.Exit(helperHold(os.Getenv(helperDirEnv)))
	case "save":
		os.Exit(helperSave(os.Getenv(helperDirEnv)))
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperHold opens the store, says "ready" and keeps it open until stdin
// closes.
func helperHold(dir string) int {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

const crashPipeline = "crash"

// crashPosition is the position the saving helper stores as its n-th save.
// Its size varies so that commits allocate and free different pages.
func crashPosition(n uint64) []byte {
	return fmt.Appendf(nil, `{"file":"mariadb-bin.000001","pos":%d,"pad":%q}`, n, strings.Repeat("x", int(n%5000)))
}

// helperSave continues from the stored offset and saves offsets as fast as
// it can, printing each n after its save returned, until it is killed. Every
// tenth n also gets a schema history entry keyed by n, appended in its own
// transaction before the offset is saved.
func helperSave(dir string) int {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p := s.Pipeline(crashPipeline)
	off, found, err := p.LoadOffset()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := uint64(0)
	if found {
		n = off.Seq
	}
	out := bufio.NewWriter(os.Stdout)
	for {
		n++
		// History goes first, as a source records a DDL before its offset
		// moves past it; an entry already there was written just before
		// the previous run was killed.
		if n%10 == 0 {
			err := p.AppendHistory(binary.BigEndian.AppendUint64(nil, n), crashPosition(n))
			if err != nil && !errors.Is(err, ErrHistoryOrder) {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if err := p.SaveOffset(crashPosition(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, n)
		if err := out.Flush(); err != nil {
			return 1
		}
	}
}

// startHelper runs this test binary as a helper of the given role.
func startHelper(t *testing.T, role, dir string) (cmd *exec.Cmd, stdin io.WriteCloser, stdout *bufio.Scanner, stderr *strings.Builder) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperDirEnv+"="+dir)
	stderr = &strings.Builder{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, stdin, bufio.NewScanner(out), stderr
}
