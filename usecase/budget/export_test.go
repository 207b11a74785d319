package budget

// Keys returns how many keys hold local state, for tests.
func (l *Leased) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slices)
}

// Waiting returns how many requests for key wait on its lease call in
// flight, for tests.
func (l *Leased) Waiting(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.slices[key]; s != nil {
		return s.waiting
	}
	return 0
}
