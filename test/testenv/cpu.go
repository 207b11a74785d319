package testenv

import (
	"syscall"
	"testing"
	"time"
)

// CPUMeter reports the process's CPU time (user + system, every thread: the
// GC's background work counts) per iteration of a benchmark as cpu-ns/op,
// which other work on a shared machine disturbs far less than wall time.
type CPUMeter struct {
	b     *testing.B
	start time.Duration
}

// StartCPU starts measuring; call Report when the timed loop is done.
func StartCPU(b *testing.B) CPUMeter { return CPUMeter{b: b, start: processCPU(b)} }

// Report adds cpu-ns/op to the benchmark's results.
func (m CPUMeter) Report() {
	if m.b.N > 0 {
		m.b.ReportMetric(float64(processCPU(m.b)-m.start)/float64(m.b.N), "cpu-ns/op")
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
