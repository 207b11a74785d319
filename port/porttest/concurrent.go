package porttest

import "sync"

// allAtOnce runs call(i) for i in [0, n) in n goroutines released together,
// so the calls really race, and returns each call's result and error by index.
func allAtOnce[T any](n int, call func(i int) (T, error)) ([]T, []error) {
	results := make([]T, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return results, errs
}
