// Package ferretdb is a nested module that embeds FerretDB v1.24.2 (its
// ferretdb package, SQLite backend) as a real third-party
// MongoDB-compatible server for siphon's tests, so that the main module
// does not carry FerretDB's dependencies. `make ferretdb` builds
// cmd/ferretdb-embedded; the integration tests find it through
// FERRETDB_BIN (run as part of `make test`).
package ferretdb
