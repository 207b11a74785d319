package apikey_test

import (
	"testing"

	"github.com/m9m/auth/domain/apikey"
)

// The API-key request path spends this before its one database lookup:
// the offline shape and checksum check (which turns away random strings
// without any I/O) and the SHA-256 digest the store is indexed by.
//
//	go test -run '^$' -bench . -benchmem ./domain/apikey/

func BenchmarkParseDigest(b *testing.B) {
	key := mk(validBody)
	b.ReportAllocs()
	for b.Loop() {
		tok, err := apikey.Parse(key)
		if err != nil {
			b.Fatal(err)
		}
		if len(tok.Digest()) != 64 {
			b.Fatal("digest is not 64 hex characters")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	key := mk(validBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := apikey.Parse(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRejectChecksum is what a guessed or mistyped key costs:
// refused by its checksum, before Redis or Postgres.
func BenchmarkParseRejectChecksum(b *testing.B) {
	key := mk(validBody)
	bad := key[:len(key)-1] + string(flipChar(key[len(key)-1]))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := apikey.Parse(bad); err == nil {
			b.Fatal("a key with a bad checksum parsed")
		}
	}
}
