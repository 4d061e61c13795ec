// Package config owns siphon.yaml: reading it, expanding ${VAR} references
// from the environment, validating every key and filling defaults, and the
// table include/exclude filter that sources apply on their hot path.
//
// The file format is a public contract (docs/configuration.md). Each section
// of the file is described by a table of allowed keys (spec.go); a key valid
// only for some source or sink types names those types in its entry, so a
// new type or key is one more table row rather than new control flow.
//
// Every problem in a file is collected and reported at once, sorted by its
// line, as an *Error. Connection URLs carry passwords: no error, String,
// LogValue or JSON form produced here ever contains one.
package config
