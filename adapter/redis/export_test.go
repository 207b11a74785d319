package redis

// ScriptHashes returns the SHA1 of every registered script, for tests.
func ScriptHashes() []string {
	out := make([]string, len(scripts))
	for i, s := range scripts {
		out[i] = s.Hash()
	}
	return out
}
