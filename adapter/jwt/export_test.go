package jwt

// CachedTokens is how many tokens s's verified-token cache holds.
func CachedTokens(s *Service) int {
	if s.cache == nil {
		return 0
	}
	return s.cache.len()
}
