package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildSiphon compiles ./cmd/siphon into dir/siphon and returns its path.
// Building takes seconds, so call it once per test binary (in TestMain, or
// behind a sync.Once) and share the path.
func BuildSiphon(ctx context.Context, dir string) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	// go test and go run put their own toolchain first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("harness: build siphon: %w", err)
	}
	out := filepath.Join(dir, "siphon")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "./cmd/siphon")
	cmd.Dir = root
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("harness: go build ./cmd/siphon in %s: %w\n%s", root, err, output.String())
	}
	return out, nil
}

// ModuleRoot is the directory holding siphon's go.mod. It walks up from this
// source file, and asks `go env GOMOD` when the source path is not available
// (a binary built with -trimpath).
func ModuleRoot(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if root, ok := findGoMod(filepath.Dir(file)); ok {
			return root, nil
		}
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("harness: find module root: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("harness: find module root: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

func findGoMod(dir string) (string, bool) {
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
