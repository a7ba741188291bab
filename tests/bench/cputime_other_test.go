//go:build !unix

package bench

import "time"

// processCPU is not measured here (BenchmarkGuardCost then reports wall
// times only).
func processCPU() time.Duration { return 0 }
