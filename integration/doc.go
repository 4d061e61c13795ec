// Package integration holds siphon's end-to-end tests: they start private
// database servers with the harness package, run the real siphon binary
// as a subprocess against them, and check what comes out — Debezium JSON
// compared with golden files, positions after kill -9 and SIGTERM, and the
// behaviour of every CLI command.
package integration
