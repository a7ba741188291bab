package ginauthtest

import "sync"

// Burst calls fn(0) to fn(n-1), each in a goroutine of its own, releases
// them together and waits for all: the way to send a burst of requests that
// a check-then-act race would let through.
func Burst(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// BurstCodes is Burst for requests: fn(i) sends request i and returns its
// HTTP status, and BurstCodes returns how many answers had each status.
func BurstCodes(n int, fn func(i int) int) map[int]int {
	codes := map[int]int{}
	var mu sync.Mutex
	Burst(n, func(i int) {
		code := fn(i)
		mu.Lock()
		codes[code]++
		mu.Unlock()
	})
	return codes
}
