//go:build !race

package coltype

const raceEnabled = false
